"""Closing a VC of the AAL5 reassembler: a partial CPCS-PDU is discarded and counted (closes,
cells_closed) and reported as a typed Aal5ClosedError; the VC then starts afresh; the kernel and its twin
agree, and the cell conservation still holds."""

from __future__ import annotations

import numpy as np
import pytest

from hw.aal5 import Aal5ClosedError, Reassembler, segment
from hw.errors import FieldError


@pytest.mark.parametrize("engine", ["kernel", "twin"])
def test_closing_a_vc_discards_its_partial_pdu_and_counts_it(engine: str) -> None:
    r = Reassembler(engine=engine)
    whole = segment(bytes(range(200)), 1, 40)            # 5 cells
    other = segment(b"other vc" * 10, 1, 41)
    out = r.feed(np.concatenate([whole[:3], other]), np.arange(3 + len(other), dtype=np.int64))
    assert len(out) == 1 and out.vci.tolist() == [41]    # VCI 41 complete, VCI 40 holds 3 cells
    assert r.counters["cells_pending"] == 3
    error = r.close(1, 40, slot=20)
    assert isinstance(error, Aal5ClosedError) and error.kind == "closed"
    assert (error.vpi, error.vci, error.cells, error.slot) == (1, 40, 3, 20)
    c = r.counters
    assert (c["closes"], c["cells_closed"], c["cells_pending"]) == (1, 3, 0)
    assert c["cells_discarded"] == 3
    r.check_conservation()
    assert r.close(1, 40) is None and r.close(2, 99) is None   # nothing held, or never seen
    # the rest of the old PDU arrives late: it is a new PDU now, and its own check fails
    late = r.feed(whole[3:], np.array([30, 31], np.int64))
    assert len(late) == 0 and [e.kind for e in late.errors] == ["crc"]      # CRC first (I.363.5)
    again = r.feed(whole, np.arange(40, 45, dtype=np.int64))
    assert [s.sdu for s in again] == [bytes(range(200))]     # the VC works again
    r.check_conservation()
    with pytest.raises(FieldError):
        r.close(256, 1)


def test_kernel_and_twin_agree_on_closes() -> None:
    rng = np.random.default_rng(5)
    k, t = Reassembler(engine="kernel", max_sdu=3000), Reassembler(engine="twin", max_sdu=3000)
    slot = 0
    for round_ in range(40):
        vci = 32 + int(rng.integers(0, 4))
        cells = segment(rng.integers(0, 256, int(rng.integers(1, 400)), dtype=np.uint8).tobytes(), 0, vci)
        cut = int(rng.integers(1, len(cells) + 1))
        slots = np.arange(slot, slot + cut, dtype=np.int64)
        slot += cut
        a, b = k.feed(cells[:cut], slots), t.feed(cells[:cut], slots)
        assert [s for s in a] == [s for s in b]
        if round_ % 3 == 0:
            victim = 32 + int(rng.integers(0, 4))
            ea, eb = k.close(0, victim, slot), t.close(0, victim, slot)
            assert (None if ea is None else str(ea)) == (None if eb is None else str(eb))
        assert k.counters == t.counters
    k.check_conservation()
    assert k.counters["closes"] > 0
