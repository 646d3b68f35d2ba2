"""AAL5 reassembly (I.363.5 9.1 / 9.2.2.2): round trips, every receive error as counter and typed error,
conservation of cells, and the numba kernel against its plain twin."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from hw.aal5 import (Aal5AbortError, Aal5CrcError, Aal5LengthError, Aal5NoBufferError, Aal5OversizeError,
                     Aal5TimeoutError, Reassembler, cpcs_pdu, pack_sdus, segment, segment_batch)
from hw.aal5.sar import header_octets_py
from hw.errors import DecodeError, FieldError
from hw.ref import aal5 as ref


FUZZ_EXAMPLES = int(os.environ.get("ATMEMU_FUZZ_EXAMPLES", "300"))


def conserved(r: Reassembler) -> dict:
    c = r.counters
    assert c["cells_in"] == c["cells_delivered"] + c["cells_discarded"] + c["cells_pending"], c
    r.check_conservation()
    return c


def sdu_of(n: int, seed: int) -> bytes:
    return np.random.default_rng(seed).integers(0, 256, n, dtype=np.uint8).tobytes()


def cells_of_pdu(pdu: bytes, vpi: int, vci: int) -> np.ndarray:
    """Cells carrying an arbitrary (possibly malformed) PDU, AUU on the last cell."""
    count = len(pdu) // 48
    rows = [header_octets_py(vpi, vci, 1 if k == count - 1 else 0, 0) + pdu[48 * k: 48 * k + 48] for k in range(count)]
    return np.frombuffer(b"".join(rows), np.uint8).reshape(-1, 53).copy()


def pdu_with_length(body: bytes, length: int) -> bytes:
    """A PDU whose Length field says ``length`` and whose CRC is right (so only the Length is wrong)."""
    head = body[:-6] + length.to_bytes(2, "big")
    return head + ref.crc32(head).to_bytes(4, "big")


@settings(max_examples=40)
@given(st.integers(0, 65535), st.integers(0, 2**32), st.integers(0, 255), st.integers(0, 255),
       st.integers(0, 255), st.integers(32, 65535))
@example(0, 0, 0, 0, 0, 32).via("empty SDU")
@example(40, 1, 0, 0, 0, 32).via("one full cell")
@example(41, 2, 0, 0, 0, 32).via("one octet into a second cell")
@example(65535, 3, 255, 255, 255, 65535).via("longest SDU")
def test_round_trip(n, seed, uu, cpi, vpi, vci):
    sdu = sdu_of(n, seed)
    r = Reassembler(abort_on_zero_length=False)  # an empty SDU round-trips too (default: abort, tested below)
    out = r.feed(segment(sdu, vpi, vci, uu=uu, cpi=cpi), 0)
    assert len(out) == 1 and not out.errors
    got = next(iter(out))
    assert (got.sdu, got.uu, got.cpi, got.vpi, got.vci) == (sdu, uu, cpi, vpi, vci)
    c = conserved(r)
    assert c["cells_delivered"] == c["cells_in"] and c["cells_pending"] == 0


def test_longest_and_shortest_sdus():
    r = Reassembler()
    sdus = [sdu_of(65535, 1), b"\x01", sdu_of(40, 2), sdu_of(41, 3)]
    buf, off, ln = pack_sdus(sdus)
    out = r.feed(segment_batch(buf, off, ln, 0, 40), 0)
    assert [s.sdu for s in out] == sdus
    assert out.cells.tolist() == [1366, 1, 1, 2]


def test_empty_sdu_is_the_abort_unless_configured():
    cells = segment(b"", 0, 33)
    r = Reassembler()
    out = r.feed(cells, 0)
    assert len(out) == 0 and isinstance(out.errors[0], Aal5AbortError)
    assert conserved(r)["aborts"] == 1
    r = Reassembler(abort_on_zero_length=False)
    out = r.feed(cells, 0)
    assert [s.sdu for s in out] == [b""]


def test_interleaved_vcs_reassemble_independently():
    sdus = {(0, 32): sdu_of(500, 1), (0, 33): sdu_of(1000, 2), (7, 32): sdu_of(100, 3)}
    streams = {vc: segment(s, *vc) for vc, s in sdus.items()}
    rows = []
    for k in range(max(len(c) for c in streams.values())):  # round robin, as a multiplexer would
        rows += [c[k] for c in streams.values() if k < len(c)]
    r = Reassembler()
    out = r.feed(np.array(rows), np.arange(len(rows)))
    assert {(s.vpi, s.vci): s.sdu for s in out} == sdus
    assert r.n_vcs == 3 and not out.errors


def test_feeding_cell_by_cell_matches_one_batch():
    sdus = [sdu_of(n, n) for n in (10, 300, 48, 0, 2000)]
    buf, off, ln = pack_sdus(sdus)
    cells = segment_batch(buf, off, ln, 1, [40, 41, 40, 41, 40])
    whole = Reassembler(abort_on_zero_length=False)
    a = [s.sdu for s in whole.feed(cells, np.arange(len(cells)))]
    piecewise = Reassembler(abort_on_zero_length=False)
    b = [s.sdu for i in range(len(cells)) for s in piecewise.feed(cells[i:i + 1], i)]
    assert a == b and sorted(a) == sorted(sdus)
    assert whole.counters == piecewise.counters


def test_corrupted_payload_is_a_crc_error_and_the_stream_goes_on():
    good, bad = segment(sdu_of(200, 1), 0, 32), segment(sdu_of(200, 2), 0, 32)
    bad[2, 20] ^= 0x10
    r = Reassembler()
    out = r.feed(np.concatenate([bad, good]), 5)
    assert [s.sdu for s in out] == [sdu_of(200, 1)]
    (err,) = out.errors
    assert isinstance(err, Aal5CrcError) and isinstance(err, DecodeError)
    assert (err.vpi, err.vci, err.field, err.offset, err.cells, err.slot) == (0, 32, "CRC-32", 5 * 48 - 4, 5, 5)
    c = conserved(r)
    assert (c["crc_errors"], c["cells_crc_error"], c["frames_delivered"]) == (1, 5, 1)


def test_lost_last_cell_merges_two_frames_into_one_crc_error():
    a, b, c3 = (segment(sdu_of(150, i), 0, 32) for i in (1, 2, 3))
    stream = np.concatenate([a[:-1], b, c3])  # the AUU cell of frame a is lost
    r = Reassembler()
    out = r.feed(stream, 0)
    assert [s.sdu for s in out] == [sdu_of(150, 3)]
    assert [type(e) for e in out.errors] == [Aal5CrcError]
    assert out.errors[0].cells == len(a) - 1 + len(b)
    assert conserved(r)["cells_crc_error"] == len(a) - 1 + len(b)


def test_truncated_frame_stays_pending_until_the_timer():
    cells = segment(sdu_of(400, 1), 2, 50)
    r = Reassembler(timeout_slots=100)
    out = r.feed(cells[:4], np.arange(4))
    assert len(out) == 0 and not out.errors
    assert conserved(r)["cells_pending"] == 4 == r.cells_pending
    assert not r.expire(103).errors  # last cell at slot 3: 100 slots later is not yet "more than 100"
    out = r.expire(104)
    (err,) = out.errors
    assert isinstance(err, Aal5TimeoutError) and err.cells == 4 and err.slot == 104 and err.offset == 4 * 48
    c = conserved(r)
    assert (c["timeouts"], c["cells_timeout"], c["cells_pending"], r.cells_pending) == (1, 4, 0, 0)


def test_cell_after_the_timeout_starts_a_new_pdu():
    old, new = segment(sdu_of(300, 1), 0, 32), segment(sdu_of(60, 2), 0, 32)
    r = Reassembler(timeout_slots=10)
    r.feed(old[:3], 0)
    out = r.feed(new, np.arange(20, 20 + len(new)))
    assert [s.sdu for s in out] == [sdu_of(60, 2)]
    assert [type(e) for e in out.errors] == [Aal5TimeoutError]
    assert conserved(r)["cells_timeout"] == 3


def test_length_larger_than_the_pdu():
    pdu = pdu_with_length(cpcs_pdu(sdu_of(50, 1)), 200)  # 2 cells cannot hold 200 octets
    r = Reassembler()
    out = r.feed(cells_of_pdu(pdu, 0, 32), 0)
    (err,) = out.errors
    assert isinstance(err, Aal5LengthError) and (err.field, err.offset) == ("Length", 90)
    assert conserved(r)["length_errors"] == 1


def test_length_inconsistent_with_the_cell_count():
    pdu = pdu_with_length(cpcs_pdu(sdu_of(100, 1)), 20)  # 3 cells, but 20 octets need 1: pad 68 > 47
    r = Reassembler()
    (err,) = r.feed(cells_of_pdu(pdu, 0, 32), 0).errors
    assert isinstance(err, Aal5LengthError) and "pad" in err.reason
    assert conserved(r)["cells_length_error"] == 3


def test_oversize_without_end_of_pdu_discards_to_the_auu_cell():
    r = Reassembler(max_sdu=100)  # at most ceil(108 / 48) = 3 cells
    big, after = segment(sdu_of(400, 1), 0, 32), segment(sdu_of(90, 2), 0, 32)
    out = r.feed(np.concatenate([big, after]), 0)
    assert [s.sdu for s in out] == [sdu_of(90, 2)]
    (err,) = out.errors
    assert isinstance(err, Aal5OversizeError) and err.cells == 4 and err.field == "CPCS-PDU"
    c = conserved(r)
    assert (c["oversize_errors"], c["cells_oversize"]) == (1, len(big))


def test_oversize_from_the_length_field():
    r = Reassembler(max_sdu=100)
    out = r.feed(segment(sdu_of(130, 1), 0, 32), 0)  # 3 cells are allowed, but 130 > 100
    (err,) = out.errors
    assert isinstance(err, Aal5OversizeError) and err.field == "Length"


def test_oversize_beyond_65535():
    r = Reassembler()
    cells = np.repeat(segment(bytes(100), 0, 32)[:1], 1367, axis=0)  # 1367 cells, no AUU
    (err,) = r.feed(cells, 0).errors
    assert isinstance(err, Aal5OversizeError) and err.cells == 1367
    assert conserved(r)["cells_pending"] == 0


def test_per_vc_maximum_sdu():
    r = Reassembler()
    r.set_max_sdu(0, 32, 48)
    out = r.feed(np.concatenate([segment(sdu_of(200, 1), 0, 32), segment(sdu_of(200, 2), 0, 33)]), 0)
    assert [(s.vci, s.sdu) for s in out] == [(33, sdu_of(200, 2))]
    assert isinstance(out.errors[0], Aal5OversizeError) and out.errors[0].vci == 32
    with pytest.raises(FieldError) as e:
        r.set_max_sdu(0, 32, 70000)
    assert e.value.field == "max_sdu"


def test_oam_and_rm_cells_do_not_disturb_a_pdu():
    cells = segment(sdu_of(200, 1), 0, 32)
    oam = cells[0].copy()
    oam[3] = (oam[3] & 0xF1) | (5 << 1)  # PTI 101: end-to-end F5 OAM on the same VC
    stream = np.concatenate([cells[:2], oam[None], cells[2:]])
    r = Reassembler()
    assert [s.sdu for s in r.feed(stream, 0)] == [sdu_of(200, 1)]
    assert conserved(r)["cells_not_user_data"] == 1


def test_idle_and_unassigned_cells_belong_to_no_vc():
    idle = np.array([0, 0, 0, 1, 0x52] + [0x6A] * 48, np.uint8)  # I.432.1 idle cell
    unassigned = np.zeros(53, np.uint8)
    cells = segment(sdu_of(100, 1), 0, 32)
    r = Reassembler(engine="twin")
    stream = np.concatenate([idle[None], cells[:1], unassigned[None], cells[1:], idle[None]])
    assert [s.sdu for s in r.feed(stream, 0)] == [sdu_of(100, 1)]
    assert conserved(r)["cells_unassigned"] == 3 and r.n_vcs == 1
    k = Reassembler()
    k.feed(stream, 0)
    assert k.counters == r.counters


def test_connection_table_full_is_counted():
    r = Reassembler(max_vcs=2)
    stream = np.concatenate([segment(b"a", 0, vci) for vci in (32, 33, 34, 32)])
    out = r.feed(stream, 0)
    assert [s.vci for s in out] == [32, 33, 32]
    assert conserved(r)["cells_vc_table_full"] == 1


def test_buffer_pool_exhaustion():
    r = Reassembler(pool_cells=4)
    out = r.feed(np.concatenate([segment(sdu_of(250, 1), 0, 32), segment(b"ok", 0, 32)]), 0)  # 6 cells > 4
    assert [s.sdu for s in out] == [b"ok"]
    assert isinstance(out.errors[0], Aal5NoBufferError)
    assert conserved(r)["cells_no_buffer"] == 6


def test_bad_input_raises_typed_errors():
    r = Reassembler()
    with pytest.raises(FieldError) as e:
        r.feed(np.zeros((3, 52), np.uint8), 0)
    assert e.value.field == "cells"
    with pytest.raises(FieldError) as e:
        r.feed(np.zeros((3, 53), np.uint8), [0, 5, 4])
    assert e.value.field == "slot[2]"
    r.feed(np.zeros((0, 53), np.uint8), 10)
    with pytest.raises(FieldError):
        r.feed(np.zeros((1, 53), np.uint8), 9)  # time does not run backwards
    with pytest.raises(FieldError) as e:
        Reassembler(engine="verilog")
    assert e.value.field == "engine"


# --------------------------------------------------------------------------------------------------
# the kernel against its plain twin


def impaired_stream(rng: np.random.Generator, frames: int):
    """Frames on a few VCs (some with a Length that the CRC does not catch), multiplexed in time, then
    lost cells, bit errors, OAM cells and idle gaps (so timers fire); returns cells and arrival slots."""
    n_vc = int(rng.integers(1, 6))
    vcs = [(int(rng.integers(0, 4)), int(rng.integers(32, 40))) for _ in range(n_vc)]
    per_vc: list[list[np.ndarray]] = [[] for _ in vcs]
    for _ in range(frames):
        v = int(rng.integers(0, n_vc))
        sdu = rng.integers(0, 256, int(rng.choice([0, 1, 40, 41, 100, 500, 1500, 3000])), dtype=np.uint8).tobytes()
        if rng.random() < 0.1:
            pdu = cpcs_pdu(sdu)
            per_vc[v].append(cells_of_pdu(pdu_with_length(pdu, int(rng.choice([len(pdu), len(sdu) // 3]))), *vcs[v]))
        else:
            per_vc[v].append(segment(sdu, *vcs[v], uu=int(rng.integers(0, 256)), cpi=int(rng.integers(0, 256))))
    cells, times = [], []
    for rows in per_vc:
        if rows:
            block = np.concatenate(rows)
            cells.append(block)
            times.append(np.cumsum(rng.choice([1, 2, 3, 80], len(block), p=[0.4, 0.3, 0.28, 0.02])))
    cells, times = np.concatenate(cells), np.concatenate(times)
    order = np.argsort(times, kind="stable")  # each VC keeps its cell order, VCs interleave
    cells, slots = cells[order], times[order]
    keep = rng.random(len(cells)) > 0.01
    cells, slots = cells[keep], slots[keep]
    flips = rng.random(len(cells)) < 0.01
    cells[flips, rng.integers(5, 53, int(flips.sum()))] ^= 0x04
    oam = rng.random(len(cells)) < 0.01
    cells[oam, 3] |= 0x08
    return np.ascontiguousarray(cells), slots


@pytest.mark.parametrize("seed", range(8))
def test_kernel_agrees_with_twin(seed):
    rng = np.random.default_rng(seed)
    cells, slots = impaired_stream(rng, 30)
    opts = dict(timeout_slots=int(rng.choice([50, 500])), max_sdu=int(rng.choice([65535, 1000])),
                max_vcs=int(rng.choice([3, 64])), pool_cells=int(rng.choice([60, 4096])))
    fast, twin = Reassembler(engine="kernel", **opts), Reassembler(engine="twin", **opts)
    cuts = sorted(rng.integers(0, len(cells), 3))
    for lo, hi in zip([0, *cuts], [*cuts, len(cells)]):
        a, b = fast.feed(cells[lo:hi], slots[lo:hi]), twin.feed(cells[lo:hi], slots[lo:hi])
        assert [tuple(s) for s in a] == [tuple(s) for s in b]
        assert np.array_equal(a.error_records, b.error_records)
        assert [str(e) for e in a.errors] == [str(e) for e in b.errors]
    a, b = fast.expire(int(slots[-1]) + 1000), twin.expire(int(slots[-1]) + 1000)
    assert np.array_equal(a.error_records, b.error_records)
    assert fast.counters == twin.counters
    conserved(fast)
    # the random impairments must actually have produced both outcomes for the test to mean anything
    assert fast.counters["frames_delivered"] > 0 and fast.counters["cells_discarded"] > 0


pieces = st.one_of(
    st.tuples(st.just("frame"), st.integers(0, 3), st.integers(0, 200)),
    st.tuples(st.just("junk"), st.integers(0, 3), st.integers(0, 7), st.binary(min_size=48, max_size=48)),
    st.tuples(st.just("gap"), st.integers(1, 100)),
)


@pytest.mark.fuzz
@settings(max_examples=FUZZ_EXAMPLES)
@given(st.lists(pieces, max_size=30), st.sampled_from([None, 0, 20]), st.sampled_from([48, 500, 65535]),
       st.sampled_from([2, 8]), st.booleans())
def test_fuzz_kernel_and_twin_agree_on_any_cells(plan, timeout, max_sdu, pool, cut):
    """Whole frames, stray cells with any PTI and payload, and silences, on a few VCs: the kernel and
    its twin never crash, always agree, and account for every cell."""
    rows, slots, t = [], [], 0
    for piece in plan:
        if piece[0] == "frame":
            for row in segment(bytes(piece[2]), 0, 32 + piece[1]):
                rows.append(row)
                slots.append(t)
                t += 1
        elif piece[0] == "junk":
            rows.append(np.frombuffer(header_octets_py(0, 32 + piece[1], piece[2], 0) + piece[3], np.uint8))
            slots.append(t)
            t += 1
        else:
            t += piece[1]
    cells = np.array(rows, dtype=np.uint8).reshape(-1, 53)
    slots = np.array(slots, dtype=np.int64)
    opts = dict(timeout_slots=timeout, max_sdu=max_sdu, pool_cells=pool, max_vcs=3)
    fast, twin = Reassembler(**opts), Reassembler(engine="twin", **opts)
    half = len(cells) // 2 if cut else len(cells)
    for lo, hi, now in ((0, half, None), (half, len(cells), t)):  # the timer runs at the end of silences too
        a, b = fast.feed(cells[lo:hi], slots[lo:hi], now=now), twin.feed(cells[lo:hi], slots[lo:hi], now=now)
        assert [tuple(s) for s in a] == [tuple(s) for s in b]
        assert np.array_equal(a.error_records, b.error_records)
    assert fast.counters == twin.counters
    assert conserved(fast)["cells_in"] == len(cells)
