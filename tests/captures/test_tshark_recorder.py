"""tshark, the independent decoder, reads what the recorder writes: one pcapng with SunATM signalling of every
Q.2931/Q.2971 message type (with comments), ERF cells and ERF AAL5 PDUs (signalling and data, rebuilt from
tapped cells), and the classic pcap export of it.

- No frame is malformed; no expert item but the documented tshark 4.0 quirks of each message (predicted
  element by element, from tests/captures/test_tshark_signalling.py) and the comments themselves, which
  tshark 4.0 also lists as expert items of severity "comment".
- The comments come back as ``frame.comment`` on the frames they were attached to.
- Every ERF AAL5 record's CRC-32 is "correct" for tshark; SSCOP/Q.2931 on VPI 0/VCI 5 decodes from them.
- Directions: tshark's ``atm.channel`` 0 (DTE->DCE) for what the user side sent.
"""

from __future__ import annotations

import importlib.util
import random
import subprocess
from pathlib import Path

import numpy as np
import pytest

from captures.recorder import Recorder
from captures.synth import SignallingWriter
from captures.taps import CellTap
from firmware.sscop import fastcodec
from hw.aal5 import segment
from hw.clock import Clock

pytestmark = pytest.mark.tshark

_spec = importlib.util.spec_from_file_location("tshark_signalling_cases",
                                               Path(__file__).with_name("test_tshark_signalling.py"))
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)

#: RFC 2684 LLC/SNAP (routed, OUI 00-00-00) with the IEEE local experimental EtherType 0x88B5: user data as
#: it travels on a VC. tshark guesses the encapsulation of ERF AAL5 records; this header is what it finds.
SNAP_EXPERIMENTAL = bytes.fromhex("aaaa03000000" "88b5")


def user_sends(message) -> bool:
    """Who sends each message in the capture: a call reference flag of 0 means the side that allocated
    the call reference sent it; the calls here are the user's (and RESTART ACKNOWLEDGE answers the
    network's RESTART, flag 1 for the global call reference)."""
    return message.call_ref_flag == 0


def record(path: Path) -> dict:
    """The recording; returns what was written, to check tshark's reading against."""
    rng = random.Random(7)
    messages = cases.signalling_messages(rng)
    clock = Clock("OC-3c")
    comments = {}
    data_sdus = [SNAP_EXPERIMENTAL + rng.randbytes(rng.randrange(20, 400)) for _ in range(4)]
    with Recorder(path, clock) as rec:
        uni = rec.link("adapter0", "switch:0")
        w = SignallingWriter(rec)
        w.establish(uni, 0)
        for i, message in enumerate(messages):
            sender = "user" if user_sends(message) else "network"
            note = [f"NdisCall#{i} {message.summary()}"] if i % 3 == 0 else []
            w.message(uni, sender, message, 10 + 10 * i, comments=note)
            if note:
                comments[3 + i] = note  # frame numbers: BGN 1, BGAK 2, then the messages
        w.poll(uni, "user", 1000)
        # The leaf's UNI carries data: every cell of one VC, and whole AAL5 PDUs of it and of 0/5.
        leaf = rec.link("switch:3", "leaf3", user="leaf3")
        CellTap(rec, leaf, vcs=[(1, 32)], lanes=("switch:3->leaf3", "leaf3->switch:3"))(
            "switch:3->leaf3", np.concatenate([segment(s, 1, 32) for s in data_sdus]),
            2000 + np.arange(sum(len(segment(s, 1, 32)) for s in data_sdus)))
        pdus = CellTap(rec, leaf, vcs=[(1, 32), (0, 5)], cells=False, aal5=True,
                       lanes=("switch:3->leaf3", "leaf3->switch:3"))
        sds = [fastcodec.encode_sd(n, bytes(m)) for n, m in enumerate(messages[:6])]
        cells = np.concatenate([segment(s, 0, 5) for s in sds] + [segment(s, 1, 32) for s in data_sdus])
        pdus("leaf3->switch:3", cells, 5000 + np.arange(len(cells)))
    return {"messages": messages, "comments": comments, "aal5": len(sds) + len(data_sdus),
            "signalling_aal5": messages[:6]}


def expected_items(frame: dict, message=None) -> list[str]:
    items = list(frame.get("frame.comment", []))
    if message is not None:
        items += cases.expected_experts(message)
    return items


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    path = tmp_path_factory.mktemp("tshark-recorder") / "run.pcapng"
    return path, record(path)


QUERY = ["frame.interface_name", "frame.comment", "atm.channel", "erf.types.type", "atm.vpi", "atm.vci",
         "sscop.type", "q2931.message_type", "q2931.call_ref", "q2931.endpoint_reference.identifier_value",
         "q2931.cause.value", *cases.PROBLEM_FIELDS]


def test_the_recording_decodes_cleanly_with_comments_and_directions(tshark, recording):
    path, written = recording
    frames = cases.tshark_fields(tshark, path, QUERY)
    messages = written["messages"]
    quirks = cases.tshark_version(tshark)[:2] == cases.QUIRKS_VERSION
    uni = [f for f in frames if f["frame.interface_name"] == ["adapter0<->switch:0"]]
    assert len(uni) == 2 + len(messages) + 2  # BGN, BGAK, the messages, POLL and STAT
    for frame, message in zip(uni[2:], messages):
        where = f"frame {frame['frame.number'][0]} ({message.summary()})"
        assert frame["q2931.message_type"] == [f"0x{message.message_type:02x}"], where
        assert frame["atm.channel"] == ["0" if user_sends(message) else "1"], where
        experts = frame.get("_ws.expert.message", [])
        if quirks:
            assert experts == expected_items(frame, message), where
        else:
            assert set(experts) <= set(expected_items(frame, message)), where
    for frame in frames:
        assert "_ws.malformed" not in frame, frame
    written_comments = {n: c for n, c in written["comments"].items()}
    seen_comments = {int(f["frame.number"][0]): f["frame.comment"] for f in frames if "frame.comment" in f}
    assert seen_comments == written_comments
    # The leaf link's ERF records: cells of 1/32, then AAL5 PDUs of 0/5 (SSCOP/Q.2931) and 1/32.
    leaf = [f for f in frames if f["frame.interface_name"] == ["switch:3<->leaf3"]]
    types = [f["erf.types.type"][0] for f in leaf]
    assert types.count("4") == written["aal5"] and set(types) == {"3", "4"}
    for frame in leaf:
        assert frame.get("_ws.expert.message", []) == expected_items(
            frame, next((m for m in written["signalling_aal5"]
                         if frame.get("q2931.message_type") == [f"0x{m.message_type:02x}"]), None)), frame
    decoded = [f["q2931.message_type"][0] for f in leaf if "q2931.message_type" in f]
    assert decoded == [f"0x{m.message_type:02x}" for m in written["signalling_aal5"]]


def test_every_aal5_record_has_a_correct_crc(tshark, recording):
    path, written = recording
    run = subprocess.run([tshark, "-r", str(path), "-Y", "erf.types.type == 4", "-w", str(path.with_suffix(".aal5.pcapng"))],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert cases.aal5_crc_verdicts(tshark, path.with_suffix(".aal5.pcapng")) == ["correct"] * written["aal5"]


def test_the_classic_pcap_export_reads_the_same(tshark, recording, tmp_path):
    path, written = recording
    rec_paths = []
    # The recorder is closed: export from the file through the same path Recorder.export_all_pcap takes.
    from captures.pcap import pcapng_to_pcap

    for iface, name in ((0, "signalling"), (2, "data")):
        out = tmp_path / f"{name}.pcap"
        pcapng_to_pcap(path, out, interface=iface, section=0)
        rec_paths.append(out)
    frames = cases.tshark_fields(tshark, rec_paths[0], ["q2931.message_type", "atm.channel", *cases.PROBLEM_FIELDS])
    messages = written["messages"]
    assert [f["q2931.message_type"] for f in frames[2:2 + len(messages)]] == [
        [f"0x{m.message_type:02x}"] for m in messages]
    assert all("_ws.malformed" not in f for f in frames)
    head = subprocess.run([tshark, "-r", str(rec_paths[1]), "-T", "fields", "-e", "erf.types.type"],
                          capture_output=True, text=True, timeout=120)
    assert head.returncode == 0 and set(head.stdout.split()) == {"3", "4"}
