"""captures.summary: every record of a capture as a FrameSummary.

Captures are written here with the project's writers (pcapng with SunATM and ERF interfaces, classic
pcap), the frames built with the firmware/uni builders, firmware.saal.sd_octets and the SSCOP codec;
the summaries must give back what was put in: message names, call references and flags, endpoint
references, causes, states, directions, SSCOP sequence numbers, comments. Bad frames come out as
undecodable with the typed error's message, and the frames after them still decode.
"""

from __future__ import annotations

import io
import json
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from captures.errors import CaptureDecodeError
from captures.pcap import PcapWriter
from captures.pcapng import PcapngWriter, link_name
from captures.reader import Record
from captures.records import LINKTYPE_ERF, LINKTYPE_SUNATM, erf_aal5_record, erf_cell_record, sunatm_record
from captures.summary import (KIND_AAL5, KIND_CELLS, KIND_OTHER, KIND_SSCOP, KIND_SUNATM, NETWORK_TO_USER,
                              USER_TO_NETWORK, FrameSummary, SummaryFieldError, format_aesa, scapy_tree, summarize,
                              summarize_record)
from firmware import uni
from firmware.saal import sd_octets
from firmware.sscop import fastcodec
from firmware.sscop.layout import PDUType
from firmware.uni import CallState, PartyState
from hw.aal5 import cpcs_pdu, segment
from hw.cell import CellHeader, make_cell
from hw.errors import AtmemuError

FUZZ_EXAMPLES = int(os.environ.get("ATMEMU_FUZZ_EXAMPLES", "300"))
ICD = "47.0005.80ffe1000000f21a2e56.0020481a2e56.00"
SIGNALLING_HEADER = CellHeader(0, 5).fields_octets()


def sd(message, n_s: int) -> bytes:
    return sd_octets(message, n_s)


def garbage_trailer_sd(message) -> bytes:
    """An SD whose trailer word is garbage: type nibble 0 (no such PDU, Q.2110 7.2)."""
    octets = bytearray(sd(message, 1))
    octets[-4:] = b"\x30\x5a\xa5\x17"
    return bytes(octets)


def write_capture(path) -> None:
    """A small signalling capture: the root's UNI and a leaf's UNI as SunATM, a second leaf's UNI as ERF
    (AAL5 signalling and a run of data cells), and one link of a type this module does not decode."""
    with PcapngWriter(path) as w:
        root = w.add_interface(LINKTYPE_SUNATM, link_name("adapter0", "switch.port0"))
        leaf = w.add_interface(LINKTYPE_SUNATM, link_name("switch.port1", "leaf1"))
        erf = w.add_interface(LINKTYPE_ERF, link_name("switch.port2", "leaf2"))
        eth = w.add_interface(1, "eth0")
        t = 1_000
        w.write_packet(root, t, sunatm_record(True, 0, 5, sd(uni.Setup(1, called=ICD), 0)),
                       comments="NdisClMakeCall -> PENDING")
        w.write_packet(leaf, t + 1_000, sunatm_record(False, 0, 5, sd(uni.Setup(7, called=ICD), 0)))
        w.write_packet(leaf, t + 2_000, sunatm_record(True, 0, 5, sd(uni.Connect(7), 0)))
        w.write_packet(root, t + 3_000, sunatm_record(False, 0, 5, sd(
            uni.Connect(1, connection_id=uni.connection_identifier(0, 32)), 0)))
        w.write_packet(root, t + 4_000, sunatm_record(True, 0, 5, sd(uni.AddParty(1, 3, ICD), 1)),
                       comments=["NdisClAddParty party=3 -> PENDING", "second comment"])
        w.write_packet(root, t + 5_000, sunatm_record(True, 0, 5, fastcodec.encode(PDUType.POLL, n_ps=2, n_s=4)))
        w.write_packet(root, t + 6_000, sunatm_record(False, 0, 5, fastcodec.encode(
            PDUType.STAT, n_ps=2, n_mr=68, n_r=4, list_=[1, 3])))
        w.write_packet(erf, t + 7_000, erf_aal5_record(SIGNALLING_HEADER, cpcs_pdu(sd(uni.Setup(9, called=ICD), 0)),
                                                       t + 7_000))
        w.write_packet(root, t + 8_000, sunatm_record(False, 0, 5, sd(uni.AddPartyReject(1, 3, cause=21), 2)))
        w.write_packet(root, t + 9_000, sunatm_record(False, 0, 5, garbage_trailer_sd(uni.Connect(1))))
        w.write_packet(root, t + 10_000, sunatm_record(False, 0, 5, sd(uni.Status(
            1, state=CallState.ACTIVE, endpoint_ref=3, party_state=PartyState.ACTIVE, flag=1), 3)))
        cells = segment(bytes(1000), 1, 100)  # 21 cells, the last with AUU
        w.write_erf_cells(erf, cells, t + 11_000 + 2830 * np.arange(len(cells)))
        w.write_packet(eth, t + 100_000, bytes(60))
        w.write_packet(root, t + 200_000, sunatm_record(True, 0, 5, sd(uni.DropParty(1, 3, cause=16), 4)))


@pytest.fixture
def capture(tmp_path):
    path = tmp_path / "signalling.pcapng"
    write_capture(path)
    return path


@pytest.fixture
def frames(capture) -> list[FrameSummary]:
    return list(summarize(capture))


def by_message(frames, name):
    return [f for f in frames if f.message == name]


def test_messages_references_causes_and_states(frames):
    assert [f.message for f in frames if f.message] == [
        "SETUP", "SETUP", "CONNECT", "CONNECT", "ADD PARTY", "SETUP", "ADD PARTY REJECT", "STATUS", "DROP PARTY"]
    add = by_message(frames, "ADD PARTY")[0]
    assert (add.call_ref, add.call_ref_flag, add.endpoint_ref, add.endpoint_ref_flag) == (1, 0, 3, 0)
    assert add.called == ICD
    assert add.message_text() == f"ADD PARTY cref=0x000001/orig epref=3 called={ICD}"
    reject = by_message(frames, "ADD PARTY REJECT")[0]
    assert (reject.call_ref, reject.call_ref_flag, reject.endpoint_ref, reject.causes) == (1, 1, 3, (21,))
    assert reject.message_text() == "ADD PARTY REJECT cref=0x000001/term epref=3 cause 21 call rejected"
    drop = by_message(frames, "DROP PARTY")[0]
    assert drop.causes == (16,) and "cause 16 normal call clearing" in drop.text()
    status = by_message(frames, "STATUS")[0]
    assert (status.call_state, status.endpoint_state, status.causes) == (10, 10, (30,))
    assert "call-state=active" in status.message_text() and "ep-state=active" in status.message_text()
    connect = [f for f in by_message(frames, "CONNECT") if f.call_ref == 1][0]
    assert connect.connection == (0, 32) and "conn=0/32" in connect.message_text()
    assert all(f.message_type == {"SETUP": 0x05, "ADD PARTY": 0x80}.get(f.message, f.message_type) for f in frames)


def test_directions_links_and_times(frames):
    setup_root, setup_leaf, setup_erf = by_message(frames, "SETUP")
    assert setup_root.direction == USER_TO_NETWORK and setup_root.link == "adapter0<->switch.port0"
    assert setup_leaf.direction == NETWORK_TO_USER and setup_leaf.link == "switch.port1<->leaf1"
    assert setup_erf.direction is None and setup_erf.erf_port == 0 and setup_erf.link == "switch.port2<->leaf2"
    assert by_message(frames, "ADD PARTY REJECT")[0].direction == NETWORK_TO_USER
    assert [f.frame for f in frames][:3] == [1, 2, 3]
    assert frames[0].time_ns == 1_000 and frames[1].time_ns == 2_000
    assert all(f.vc_text() == "0/5" for f in frames if f.kind == KIND_SSCOP)


def test_erf_port_gives_the_direction_when_asked(capture):
    for port0, expected in (("user", USER_TO_NETWORK), ("network", NETWORK_TO_USER)):
        erf_setup = [f for f in summarize(capture, erf_port0=port0) if f.call_ref == 9][0]
        assert erf_setup.direction == expected
    with pytest.raises(SummaryFieldError):
        list(summarize(capture, erf_port0="dte"))


def test_sscop_pdus_and_their_sequence_numbers(frames):
    sds = [f for f in frames if f.sscop == "SD" and f.error is None]
    assert [f.sscop_seq["n_s"] for f in sds if f.link.startswith("adapter0")] == [0, 0, 1, 2, 3, 4]
    poll = [f for f in frames if f.sscop == "POLL"][0]
    assert poll.sscop_text() == "POLL N(PS)=2 N(S)=4" and poll.message is None and poll.error is None
    stat = [f for f in frames if f.sscop == "STAT"][0]
    assert stat.sscop_seq == {"n_r": 4, "n_mr": 68, "n_ps": 2, "list": [1, 3]}
    assert stat.sscop_text() == "STAT N(R)=4 N(MR)=68 N(PS)=2 list=[1,3]"
    assert sds[0].sscop_text() == "SD N(S)=0"


def test_a_garbage_trailer_is_undecodable_and_the_next_frame_decodes(frames):
    i = next(i for i, f in enumerate(frames) if f.error is not None)
    bad = frames[i]
    assert bad.kind == KIND_SSCOP and bad.sscop is None and bad.message is None
    assert bad.error.startswith("SSCOP PDU: at offset") and "type" in bad.error
    assert bad.direction == NETWORK_TO_USER and (bad.vpi, bad.vci) == (0, 5)  # the header decoded
    assert bad.text().startswith("undecodable: SSCOP PDU")
    assert frames[i + 1].message == "STATUS" and frames[i + 1].error is None
    assert sum(f.undecodable for f in frames) == 1


def test_comments_are_kept(frames):
    assert frames[0].comments == ("NdisClMakeCall -> PENDING",)
    add = by_message(frames, "ADD PARTY")[0]
    assert add.comments == ("NdisClAddParty party=3 -> PENDING", "second comment")
    assert frames[1].comments == ()


def test_cells_collapse_into_one_run_per_vc(frames):
    runs = [f for f in frames if f.kind == KIND_CELLS]
    assert len(runs) == 1
    run = runs[0]
    assert (run.cells, run.vpi, run.vci, run.link) == (21, 1, 100, "switch.port2<->leaf2")
    assert run.last_frame - run.frame == 20
    assert run.end_time_ns - run.time_ns == 20 * 2830
    assert run.info.startswith("21 cells (frames 12-32) over 56.600 us") and "1 end of frame (AUU)" in run.info
    # The frame after the run is numbered after its last cell.
    assert frames[frames.index(run) + 1].frame == run.last_frame + 1


def test_one_line_per_cell_without_collapsing(capture):
    frames = list(summarize(capture, collapse_cells=False))
    cells = [f for f in frames if f.kind == KIND_CELLS]
    assert len(cells) == 21 and all(f.cells == 1 for f in cells)
    assert cells[0].info == "cell PTI 0 (user data), CLP 0"
    assert cells[-1].info == "cell PTI 1 (user data, end of frame (AUU)), CLP 0"


def _cells_of(vcs, per_vc):
    """Blocks of cells, ``per_vc`` of each VC in turn, with mixed PTI and CLP."""
    rows = []
    for vpi, vci in vcs:
        for k in range(per_vc):
            pti = (0, 1, 2, 3, 4, 5, 6, 0)[k % 8]
            rows.append(np.frombuffer(make_cell(CellHeader(vpi, vci, pti=pti, clp=int(k % 3 == 0))), np.uint8))
    return np.stack(rows)


def test_vectorised_and_record_by_record_runs_agree(tmp_path):
    """The reader hands option-less cell records over as numpy batches (the vectorised path); a comment
    on every cell forces them through one by one. Both must give the same runs."""
    cells = _cells_of([(0, 32), (0, 33), (0, 32), (2, 40)], 37)
    times = 10_000 + 2830 * np.arange(len(cells))
    fast, slow = tmp_path / "fast.pcapng", tmp_path / "slow.pcapng"
    with PcapngWriter(fast) as w:
        w.write_erf_cells(w.add_interface(LINKTYPE_ERF, "a<->b"), cells, times)
    with PcapngWriter(slow) as w:
        iface = w.add_interface(LINKTYPE_ERF, "a<->b")
        for cell, t in zip(cells, times.tolist()):
            w.write_packet(iface, t, erf_cell_record(cell.tobytes(), t), comments="c")
    runs_fast, runs_slow = list(summarize(fast)), list(summarize(slow))
    assert [(f.vpi, f.vci, f.cells) for f in runs_fast] == [(0, 32, 37), (0, 33, 37), (0, 32, 37), (2, 40, 37)]
    for a, b in zip(runs_fast, runs_slow, strict=True):
        assert b.comments == ("c",) * 37
        assert a == replace_comments(b, ())
    # PTI 1 and 3: end of frame; 2 and 3: EFCI; 4, 5: OAM; 6: RM; k % 3 == 0: CLP=1.
    assert runs_fast[0].info.endswith("10 end of frame (AUU), 10 EFCI, 9 F5 OAM, 4 RM, 13 CLP=1")


def replace_comments(f: FrameSummary, comments) -> FrameSummary:
    from dataclasses import replace

    return replace(f, comments=comments)


def test_a_damaged_file_yields_the_frames_before_it_then_raises(capture, tmp_path):
    octets = capture.read_bytes()
    cut = tmp_path / "cut.pcapng"
    cut.write_bytes(octets[: len(octets) - 300])  # inside the cells, or after them
    got = []
    with pytest.raises(CaptureDecodeError) as info:
        for f in summarize(cut):
            got.append(f)
    assert "offset" in str(info.value)
    assert [f.message for f in got if f.message][:5] == ["SETUP", "SETUP", "CONNECT", "CONNECT", "ADD PARTY"]
    assert got and got[-1].frame >= 12  # everything up to the damage, the pending run of cells included


def test_classic_pcap_has_no_interface_names(tmp_path):
    path = tmp_path / "old.pcap"
    with PcapWriter(path, LINKTYPE_SUNATM, nanosecond=False) as w:
        w.write_packet(5_000_000_000, sunatm_record(True, 0, 5, sd(uni.AddParty(0x123456, 77, ICD), 9)))
        w.write_packet(5_000_001_000, sunatm_record(False, 0, 5, sd(uni.AddPartyAcknowledge(0x123456, 77), 3)))
    frames = list(summarize(path))
    assert [f.link for f in frames] == ["if0", "if0"]
    assert [f.message for f in frames] == ["ADD PARTY", "ADD PARTY ACKNOWLEDGE"]
    assert frames[0].message_text().startswith("ADD PARTY cref=0x123456/orig epref=77")
    assert frames[1].time_ns - frames[0].time_ns == 1_000


def test_other_link_types_and_non_signalling_records(frames, tmp_path):
    eth = [f for f in frames if f.kind == KIND_OTHER][0]
    assert eth.info == "linktype 1 not decoded (60 octets)" and eth.error is None and eth.link == "eth0"
    llc = summarize_record(Record(0, LINKTYPE_SUNATM, 0, sunatm_record(True, 1, 33, bytes(40), type=2), 44, (), 0, 0))
    assert (llc.kind, llc.info, llc.vc_text()) == (KIND_SUNATM, "SunATM LLC, 40 octets", "1/33")
    data = erf_aal5_record(CellHeader(1, 40).fields_octets(), cpcs_pdu(bytes(100), uu=3), 0)
    aal5 = summarize_record(Record(0, LINKTYPE_ERF, 0, data, len(data), (), 0, 0))
    assert (aal5.kind, aal5.info) == (KIND_AAL5, "AAL5 SDU 100 octets (UU 3, CPI 0)")


def _sunatm(sdu: bytes, dte: bool = False) -> FrameSummary:
    data = sunatm_record(dte, 0, 5, sdu)
    return summarize_record(Record(0, LINKTYPE_SUNATM, 0, data, len(data), (), 0, 0), link="x")


def test_q2931_errors_keep_what_was_readable():
    raw = bytearray(bytes(uni.AddPartyReject(5, 9, cause=17)))
    raw[8] += 1  # the message length no longer matches: cause 104 (Q.2931 5.6.5)
    f = _sunatm(sd(bytes(raw), 6))
    assert f.sscop_text() == "SD N(S)=6"
    assert f.message == "ADD PARTY REJECT" and f.call_ref == 5  # read leniently
    assert "cause 104" in f.error and f.text().startswith("ADD PARTY REJECT cref=0x000005/term")
    unknown = bytearray(bytes(uni.DropParty(5, 9)))
    unknown[5] = 0x99
    f = _sunatm(sd(bytes(unknown), 7))
    assert f.message == "message type 0x99" and "cause 97" in f.error
    f = _sunatm(sd(b"\x08\x03\x00\x00\x01", 1))  # not the Q.2931 protocol discriminator
    assert f.message is None and "protocol discriminator" in f.error


def test_link_layer_faults_are_undecodable_not_raised():
    for data, where in ((b"\x86\x00", "pseudo-header"), (b"\x87\x00\x00\x05" + bytes(8), "field type")):
        f = summarize_record(Record(0, LINKTYPE_SUNATM, 0, data, len(data), (), 0, 0))
        assert f.error.startswith("SunATM record") and where in f.error
    pdu = bytearray(cpcs_pdu(sd(uni.DropParty(1, 2), 1)))
    pdu[3] ^= 0xFF  # the CRC-32 no longer holds
    data = erf_aal5_record(SIGNALLING_HEADER, bytes(pdu), 0)
    f = summarize_record(Record(0, LINKTYPE_ERF, 0, data, len(data), (), 0, 0))
    assert f.kind == KIND_AAL5 and "CRC-32" in f.error and f.vc_text() == "0/5" and f.message is None
    # A card that pads its records (varlen clear) to 72 octets: the cell is read, the padding ignored;
    # with varlen set the same record is oversized.
    record = bytearray(erf_cell_record(make_cell(CellHeader(3, 33, pti=1)), 0) + bytes(4))
    record[9] &= ~0x04
    record[10:12] = (72).to_bytes(2, "big")
    f = summarize_record(Record(0, LINKTYPE_ERF, 0, bytes(record), 72, (), 0, 0))
    assert f.error is None and f.vc_text() == "3/33" and "PTI 1" in f.info
    record[9] |= 0x04
    f = summarize_record(Record(0, LINKTYPE_ERF, 0, bytes(record), 72, (), 0, 0))
    assert "oversized: 56 octets" in f.error
    short = erf_cell_record(make_cell(CellHeader(0, 32)), 0)[:-4]
    f = summarize_record(Record(0, LINKTYPE_ERF, 0, short, len(short), (), 0, 0))
    assert f.kind == KIND_CELLS and "rlen" in f.error


def test_json_and_scapy_tree(frames):
    add = by_message(frames, "ADD PARTY")[0]
    obj = json.loads(json.dumps(add.as_json()))
    assert obj["message"] == "ADD PARTY" and obj["endpoint_ref"] == 3 and obj["causes"] == []
    assert obj["comments"][0].startswith("NdisClAddParty") and "data" not in obj
    tree = scapy_tree(add)
    for name in ("SunATM", "SSCOP SD", "ADD PARTY", "Called party number", "Endpoint reference"):
        assert name in tree
    bad = next(f for f in frames if f.error)
    assert "SunATM" in scapy_tree(bad)  # lenient: the pseudo-header and the raw rest


def test_format_aesa():
    assert format_aesa(bytes.fromhex(ICD.replace(".", ""))) == ICD
    dcc = bytes.fromhex("39840f80113744000000000001000000000002" + "00")
    assert format_aesa(dcc) == "39.840f.80113744000000000001.000000000002.00"
    e164 = bytes.fromhex("45000015551234567f" + "0000" + "0000" + "00a0c9000001" + "00")
    assert format_aesa(e164) == "45.000015551234567f.00000000.00a0c9000001.00"
    assert format_aesa(b"\x01\x02") == "0102"


def test_summaries_stream_from_a_file_object(capture):
    frames = list(summarize(io.BytesIO(capture.read_bytes())))
    assert len(frames) == len(list(summarize(capture)))


@pytest.mark.fuzz
@settings(max_examples=FUZZ_EXAMPLES)
@given(st.binary(max_size=160), st.sampled_from(["sunatm", "sunatm-sd", "erf-sd", "erf"]))
def test_no_record_makes_the_summary_raise(tail, mode):
    """Any octets, as a SunATM record, as the Q.2931 part of an SD (in SunATM or in a valid ERF AAL5
    record), or as an ERF record: a summary, never an exception."""
    if mode == "sunatm":
        data, linktype = tail, LINKTYPE_SUNATM
    elif mode == "sunatm-sd":
        data, linktype = sunatm_record(True, 0, 5, sd(b"\x09\x03" + tail, 1)), LINKTYPE_SUNATM
    elif mode == "erf-sd":
        data, linktype = erf_aal5_record(SIGNALLING_HEADER, cpcs_pdu(sd(b"\x09\x03" + tail, 2)), 0), LINKTYPE_ERF
    else:
        data, linktype = erf_cell_record(make_cell(CellHeader(0, 5)), 0)[:8] + tail, LINKTYPE_ERF
    f = summarize_record(Record(0, linktype, 0, data, len(data), (), 0, 0))
    assert isinstance(f, FrameSummary)
    f.text(), f.sscop_text(), json.dumps(f.as_json())
    if mode != "sunatm":
        assert f.error is not None or f.message is not None or f.info is not None


def test_errors_are_atmemu_errors():
    assert issubclass(SummaryFieldError, AtmemuError)


@pytest.mark.tshark
def test_tshark_reads_the_same_facts(capture, tshark):
    """The independent decoder agrees, frame by frame, on the SSCOP type and N(S), the message type, the
    call reference and its flag, the endpoint reference and the causes."""
    import subprocess

    fields = ["frame.number", "sscop.type", "sscop.s", "q2931.message_type", "q2931.call_ref",
              "q2931.call_ref_flag", "q2931.endpoint_reference.identifier_value", "q2931.cause.value"]
    args = [tshark, "-r", str(capture), "-T", "fields", "-E", "occurrence=a", "-E", "aggregator=,"]
    for name in fields:
        args += ["-e", name]
    run = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    rows = [line.split("\t") for line in run.stdout.splitlines()]
    ours = list(summarize(capture, collapse_cells=False))
    assert len(rows) == len(ours)

    def number(text):
        return int(text, 16) if text.startswith("0x") else int(text)

    compared = 0
    for row, f in zip(rows, ours):
        theirs = dict(zip(fields, row))
        if f.kind != KIND_SSCOP or f.error is not None:
            continue
        assert number(theirs["sscop.type"]) == PDUType[f.sscop].value
        if f.sscop == "SD":
            assert int(theirs["sscop.s"]) == f.sscop_seq["n_s"]
        if f.message is None:
            continue
        assert number(theirs["q2931.message_type"]) == f.message_type
        assert int(theirs["q2931.call_ref"], 16) == f.call_ref
        assert int(theirs["q2931.call_ref_flag"]) == f.call_ref_flag
        if f.endpoint_ref is not None:
            assert int(theirs["q2931.endpoint_reference.identifier_value"]) == f.endpoint_ref
        causes = theirs["q2931.cause.value"]
        assert tuple(number(c) for c in causes.split(",") if c) == f.causes
        compared += 1
    assert compared == 9


def test_fast_and_scapy_message_fields_agree_on_every_message_type():
    """Summaries decode messages with the fast codec; the fields it yields are those of the scapy layers
    (the messages of the tshark test: every type, every element, references, causes and states)."""
    import importlib.util
    import random
    from pathlib import Path

    from captures import summary as summary_module
    from firmware.uni import decode_message
    from firmware.uni import fastcodec as uni_fast

    spec = importlib.util.spec_from_file_location("tshark_cases", Path(__file__).with_name("test_tshark_signalling.py"))
    cases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cases)
    for seed in range(3):
        for message in cases.signalling_messages(random.Random(seed)):
            octets = bytes(message)
            fast = summary_module._fast_message_fields(uni_fast.decode(octets))
            slow = summary_module._message_fields(decode_message(octets))
            assert fast == slow, message.summary()
            assert set(fast) >= {"message", "message_type", "call_ref", "call_ref_flag", "causes"}
