"""Fuzzing AAL5 (I.363.5): the CPCS-PDU trailer decoder and the per-VC reassembler.

Beyond random octets and mutated seeds (fuzzkit): CPCS-PDUs whose trailer fields are corrupted and
whose CRC-32 is computed again, so that the Length and pad checks (9.2.2.2) are reached and not only
the CRC; and cell streams of whole frames on several VCs with the impairments a link and a switch
cause (cells lost, repeated, swapped, the end-of-frame AUU bit set or cleared, frames interleaved,
OAM and RM cells and unassigned cells in between, a Length corrupted under a valid CRC). The
reassembler's oracle (tools/fuzz/targets.py): kernel and twin agree, every cell is counted once, every
error is typed; here also: every SDU it delivers is one that was sent on that VC (a loss of cells
never yields a frame nobody sent, except by a CRC-32 collision)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fuzzkit import EDGE_INTS, FUZZ, mutated, put_int, run, seeds, targets
from hw.aal5 import Reassembler, crc32, parse_cpcs_pdu, segment
from hw.aal5.sar import header_octets_py
from hw.errors import DecodeError

AAL5_TARGETS = targets("aal5.cpcs", "aal5.reassembly")


@pytest.mark.fuzz
@pytest.mark.parametrize("target", AAL5_TARGETS, ids=lambda t: t.name)
@FUZZ
@given(data=st.data())
def test_random_octets(target, data):
    run(target, data.draw(st.binary(max_size=target.max_input)))


@pytest.mark.fuzz
@pytest.mark.parametrize("target", AAL5_TARGETS, ids=lambda t: t.name)
@FUZZ
@given(data=st.data())
def test_mutated_seeds(target, data):
    run(target, data.draw(mutated(seeds(target))))


def restamp_crc(pdu: bytearray) -> None:
    """The CRC-32 field made right again for the octets before it (I.363.5 9.2.2.2.1)."""
    pdu[-4:] = crc32(bytes(pdu[:-4])).to_bytes(4, "big")


@st.composite
def trailer_corrupted(draw, seeds):
    """A CPCS-PDU with Length, CPCS-UU, CPI or pad rewritten, or whole cell payloads added or
    removed, under a CRC-32 stamped again."""
    pdu = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 3))):
        op = draw(st.sampled_from(("length", "length_edge", "uu_cpi", "pad", "add_cell", "drop_cell")))
        if op == "length":
            length = int.from_bytes(pdu[-6:-4], "big") + draw(st.integers(-50, 50))
            put_int(pdu, len(pdu) - 6, length, 2)
        elif op == "length_edge":
            put_int(pdu, len(pdu) - 6, draw(st.sampled_from(EDGE_INTS)), 2)
        elif op == "uu_cpi":
            pdu[-8 + draw(st.integers(0, 1))] = draw(st.integers(0, 255))
        elif op == "pad" and len(pdu) > 8:
            pdu[draw(st.integers(0, len(pdu) - 9))] ^= draw(st.integers(1, 255))
        elif op == "add_cell":
            pdu[:0] = draw(st.binary(min_size=48, max_size=48))
        elif op == "drop_cell" and len(pdu) > 48:
            del pdu[:48]
    restamp_crc(pdu)
    return bytes(pdu)


@pytest.mark.fuzz
@FUZZ
@given(pdu=trailer_corrupted(seeds("aal5.cpcs")))
def test_trailers_corrupted_under_a_valid_crc(pdu):
    run("aal5.cpcs", pdu)


# ------------------------------------------------------------------------------- impaired frames

VCS = ((0, 32), (0, 33), (1, 32))


@st.composite
def impaired_frames(draw):
    """(cells, sent SDUs by VC): frames on three VCs, interleaved cell by cell or not, then impaired."""
    sent: dict[tuple[int, int], set[bytes]] = {vc: set() for vc in VCS}
    queues = []
    for _ in range(draw(st.integers(1, 5))):
        vc = draw(st.sampled_from(VCS))
        sdu = draw(st.one_of(st.binary(max_size=120), st.integers(0, 300).map(lambda n: bytes(n % 251 for n in
                                                                                             range(n)))))
        rows = [bytearray(r.tobytes()) for r in segment(sdu, *vc)]
        if sdu and draw(st.integers(0, 4)) == 0:  # Length corrupted, the CRC made right again
            pdu = bytearray(b"".join(bytes(r[5:]) for r in rows))
            put_int(pdu, len(pdu) - 6, len(sdu) + draw(st.integers(-48, 48)), 2)
            restamp_crc(pdu)
            for k, r in enumerate(rows):
                r[5:] = pdu[48 * k: 48 * (k + 1)]
            try:  # a Length that still fits makes another valid frame: it was sent, in effect
                sent[vc].add(parse_cpcs_pdu(bytes(pdu))[0])
            except DecodeError:
                pass
        elif sdu:
            sent[vc].add(sdu)
        queues.append(rows)
    cells: list[bytearray] = []
    if draw(st.booleans()):  # interleave the frames cell by cell, each frame's cells in order
        while any(queues):
            q = draw(st.sampled_from([q for q in queues if q]))
            cells.append(q.pop(0))
    else:
        cells = [c for q in queues for c in q]
    for _ in range(draw(st.integers(0, 5))):
        i = draw(st.integers(0, len(cells)))
        op = draw(st.sampled_from(("lose", "repeat", "swap", "auu", "oam", "unassigned", "payload")))
        if op == "lose" and i < len(cells):
            del cells[i]
        elif op == "repeat" and i < len(cells):
            cells.insert(i, bytearray(cells[i]))
        elif op == "swap" and i + 1 < len(cells):
            cells[i], cells[i + 1] = cells[i + 1], cells[i]
        elif op == "auu" and i < len(cells):  # end of frame set where it was not, or cleared
            cells[i][3] ^= 0x02
        elif op in ("oam", "unassigned"):
            vpi, vci = draw(st.sampled_from(VCS)) if op == "oam" else (0, 0)
            pti = draw(st.integers(4, 7)) if op == "oam" else draw(st.integers(0, 3))
            cells.insert(i, bytearray(header_octets_py(vpi, vci, pti, 0) + draw(st.binary(min_size=48, max_size=48))))
        elif op == "payload" and i < len(cells):
            cells[i][draw(st.integers(5, 52))] ^= draw(st.integers(1, 255))
    return b"".join(cells), sent


@pytest.mark.fuzz
@FUZZ
@given(case=impaired_frames())
def test_impaired_frames_deliver_only_what_was_sent(case):
    stream, sent = case
    run("aal5.reassembly", stream)
    cells = np.frombuffer(stream, np.uint8).reshape(-1, 53)
    got = Reassembler().feed(cells, np.arange(cells.shape[0], dtype=np.int64))
    for sdu in got:
        assert sdu.sdu in sent[sdu.vpi, sdu.vci], f"VC {sdu.vpi}/{sdu.vci} delivered an SDU never sent on it"
