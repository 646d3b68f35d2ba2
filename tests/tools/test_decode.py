"""atmemu decode, through tools.cli.main as a user runs it: lines, -V trees, JSON, the ladder picture,
and one-line errors with exit code 2 for bad inputs."""

from __future__ import annotations

import json
import re
import struct

import numpy as np
import pytest
from matplotlib.image import imread

from captures.errors import CaptureDecodeError
from captures.pcap import PcapWriter
from captures.pcapng import PcapngWriter, link_name
from captures.records import LINKTYPE_ERF, LINKTYPE_SUNATM, erf_aal5_record, sunatm_record
from firmware import uni
from firmware.saal import sd_octets
from firmware.sscop import fastcodec
from firmware.sscop.layout import PDUType
from hw.aal5 import cpcs_pdu, segment
from hw.cell import CellHeader
from tools import cli, ladder
from tools.commands import decode

ICD = "47.0005.80ffe1000000f21a2e56.0020481a2e56.00"


def write_capture(path) -> None:
    """Root UNI and a leaf UNI as SunATM, a second leaf as ERF (AAL5 signalling, then a run of cells); a
    POLL/STAT exchange, comments, and one SD whose SSCOP trailer is garbage."""
    garbage = bytearray(sd_octets(uni.Connect(1), 5))
    garbage[-4:] = b"\x30\x5a\xa5\x17"  # PDU type 0: no such PDU (Q.2110 7.2)
    with PcapngWriter(path) as w:
        root = w.add_interface(LINKTYPE_SUNATM, link_name("adapter0", "switch.port0"))
        leaf = w.add_interface(LINKTYPE_SUNATM, link_name("switch.port1", "leaf1"))
        erf = w.add_interface(LINKTYPE_ERF, link_name("switch.port2", "leaf2"))
        w.write_packet(root, 1_000, sunatm_record(True, 0, 5, sd_octets(uni.Setup(1, called=ICD), 0)),
                       comments="NdisClMakeCall -> PENDING")
        w.write_packet(leaf, 2_000, sunatm_record(False, 0, 5, sd_octets(uni.Setup(7, called=ICD), 0)))
        w.write_packet(leaf, 3_000, sunatm_record(True, 0, 5, sd_octets(uni.Connect(7), 0)))
        w.write_packet(root, 4_000, sunatm_record(False, 0, 5, sd_octets(uni.Connect(1), 0)))
        w.write_packet(root, 5_000, sunatm_record(True, 0, 5, sd_octets(uni.AddParty(1, 3, ICD), 1)),
                       comments="NdisClAddParty party=3 -> PENDING")
        w.write_packet(root, 6_000, sunatm_record(True, 0, 5, fastcodec.encode(PDUType.POLL, n_ps=2, n_s=4)))
        w.write_packet(root, 7_000, sunatm_record(False, 0, 5, fastcodec.encode(PDUType.STAT, n_ps=2, n_mr=66,
                                                                                 n_r=2)))
        header = CellHeader(0, 5).fields_octets()
        w.write_packet(erf, 8_000, erf_aal5_record(header, cpcs_pdu(sd_octets(uni.Setup(9, called=ICD), 0)), 8_000))
        w.write_packet(erf, 9_000, erf_aal5_record(header, cpcs_pdu(sd_octets(uni.Connect(9), 0)), 9_000))
        w.write_packet(root, 10_000, sunatm_record(False, 0, 5, sd_octets(uni.AddPartyReject(1, 3, cause=21), 1)))
        w.write_packet(root, 11_000, sunatm_record(False, 0, 5, bytes(garbage)))
        cells = segment(bytes(2000), 0, 32)  # 42 cells
        w.write_erf_cells(erf, cells, 20_000 + 2830 * np.arange(len(cells)))
        w.write_packet(root, 1_500_000_000, sunatm_record(True, 0, 5, sd_octets(uni.DropParty(1, 3, cause=16), 2)),
                       comments="NdisClDropParty party=3 -> PENDING")


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    path = tmp_path_factory.mktemp("decode") / "signalling.pcapng"
    write_capture(path)
    return path


def run(capsys, *argv):
    code = cli.main(list(map(str, argv)))
    out, err = capsys.readouterr()
    return code, out, err


def test_one_line_per_frame(capture, capsys):
    code, out, err = run(capsys, "decode", capture)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert len(lines) == 13  # 12 frames + 1 run of 42 cells
    setup = lines[0].split()
    assert setup[:6] == ["1", "0.000000000", "adapter0<->switch.port0", "\u2192", "0/5", "SD"]
    assert lines[0].endswith(f"SETUP cref=0x000001/orig epref=0 called={ICD}  # NdisClMakeCall -> PENDING")
    assert "\u2190  0/5" in lines[1] and "SETUP cref=0x000007/orig" in lines[1]  # to the leaf: network side sent it
    assert "\u2192  0/5" in lines[2] and "CONNECT cref=0x000007/term" in lines[2]
    assert re.search(r"SD N\(S\)=1 +ADD PARTY cref=0x000001/orig epref=3 called=47\.0005", lines[4])
    assert lines[4].endswith("# NdisClAddParty party=3 -> PENDING")
    assert "POLL N(PS)=2 N(S)=4" in lines[5] and "STAT N(R)=2 N(MR)=66 N(PS)=2" in lines[6]
    assert "\u00b7  0/5" in lines[7] and "SETUP cref=0x000009/orig" in lines[7]  # ERF: no direction
    assert "ADD PARTY REJECT cref=0x000001/term epref=3 cause 21 call rejected" in lines[9]
    assert "undecodable: SSCOP PDU: at offset" in lines[10] and "\u2190" in lines[10]
    assert "42 cells (frames 12-53)" in lines[11] and "0/32" in lines[11]
    assert lines[12].split()[:2] == ["54", "1.499999000"]
    assert "DROP PARTY cref=0x000001/orig epref=3 cause 16 normal call clearing" in lines[12]


def test_absolute_times_and_single_cells(capture, capsys):
    _, out, _ = run(capsys, "decode", capture, "--absolute", "--cells")
    lines = out.splitlines()
    assert lines[0].split()[1] == "0.000001000" and lines[-1].split()[1] == "1.500000000"
    cells = [line for line in lines if "cell PTI" in line]
    assert len(cells) == 42 and "end of frame (AUU)" in cells[-1]


def test_erf_port0_gives_erf_frames_a_direction(capture, capsys):
    _, out, _ = run(capsys, "decode", capture, "--erf-port0", "network")
    assert "\u2190  0/5" in out.splitlines()[7]  # port 0 holds what the network side sent


def test_verbose_prints_the_scapy_tree_with_the_ie_names(capture, capsys):
    code, out, _ = run(capsys, "decode", capture, "-V")
    assert code == 0
    for name in ("###[ SunATM ]###", "###[ SSCOP SD (sequenced data) ]###", "###[ ERF ]###", "AAL5 CPCS-PDU",
                 "Called party number", "Endpoint reference", "Cause", "cause_value= call rejected",
                 "ref_value = 3", "###[ ERF ATM cell ]###"):
        assert name in out, name
    block = out.split("\n\n")[9]  # the ADD PARTY REJECT and its tree
    assert "ADD PARTY REJECT" in block and "Cause" in block and "Called party number" not in block


def test_json_is_one_object_per_frame(capture, capsys):
    code, out, _ = run(capsys, "decode", capture, "--json")
    objects = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(objects) == 13
    add = objects[4]
    assert (add["message"], add["call_ref"], add["call_ref_flag"], add["endpoint_ref"]) == ("ADD PARTY", 1, 0, 3)
    assert add["direction"] == "user->network" and add["comments"] == ["NdisClAddParty party=3 -> PENDING"]
    assert objects[9]["causes"] == [21] and objects[10]["error"].startswith("SSCOP PDU")
    assert objects[11]["kind"] == "cells" and objects[11]["cells"] == 42
    assert objects[5]["sscop"] == "POLL" and objects[5]["sscop_seq"] == {"n_ps": 2, "n_s": 4}
    _, out, _ = run(capsys, "decode", capture, "--json", "-V")
    assert "Endpoint reference" in json.loads(out.splitlines()[4])["tree"]


def png_size(path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_ladder_png(capture, capsys, tmp_path):
    out_png = tmp_path / "ladder.png"
    code, out, err = run(capsys, "decode", capture, "--ladder", out_png)
    assert code == 0 and len(out.splitlines()) == 13
    width, height = png_size(out_png)
    # The size the layout of the capture's chart promises.
    from captures.summary import summarize

    participants, events = ladder.chart_from_frames(list(summarize(capture)))
    assert [p.key for p in participants] == ["adapter0", "switch", "leaf1", "leaf2"]
    assert len(events) == 10  # 9 messages and the undecodable frame; POLL and STAT are left out
    assert (width, height) == ladder.layout(participants, events).pixels
    assert f"({width}x{height} px, 10 events, 4 lifelines)" in err
    image = imread(out_png)
    assert image.shape[:2] == (height, width) and image[..., :3].std() > 0.05
    # With every SSCOP PDU the chart has two rows more.
    run(capsys, "decode", capture, "--ladder", tmp_path / "all.png", "--ladder-sscop", "all")
    assert png_size(tmp_path / "all.png")[1] - height == round(2 * ladder.ROW_HEIGHT * ladder.DPI)


def test_ladder_of_a_capture_without_signalling(tmp_path, capsys):
    path = tmp_path / "cells.pcapng"
    with PcapngWriter(path) as w:
        w.write_erf_cells(w.add_interface(LINKTYPE_ERF, "a<->b"), segment(bytes(100), 0, 40), np.arange(3))
    code, _, err = run(capsys, "decode", path, "--ladder", tmp_path / "empty.png")
    assert code == 0 and "0 events, 2 lifelines" in err and png_size(tmp_path / "empty.png")[0] > 300


def test_classic_pcap(tmp_path, capsys):
    path = tmp_path / "old.pcap"
    with PcapWriter(path, LINKTYPE_SUNATM, byteorder=">", nanosecond=False) as w:
        w.write_packet(3_000_000_000, sunatm_record(True, 0, 5, sd_octets(uni.AddParty(0x00BEEF, 12, ICD), 7)))
        w.write_packet(3_004_000_000, sunatm_record(False, 0, 5, sd_octets(uni.DropParty(0x00BEEF, 12, cause=31,
                                                                                       flag=1), 9)))
    code, out, _ = run(capsys, "decode", path)
    lines = out.splitlines()
    assert code == 0 and len(lines) == 2
    assert lines[0].split()[2:5] == ["if0", "\u2192", "0/5"] and "ADD PARTY cref=0x00BEEF/orig epref=12" in lines[0]
    assert lines[1].split()[1] == "0.004000000"
    assert "DROP PARTY cref=0x00BEEF/term epref=12 cause 31 normal unspecified" in lines[1]


def test_other_link_types_are_listed_not_decoded(tmp_path, capsys):
    path = tmp_path / "eth.pcap"
    with PcapWriter(path, 1) as w:
        w.write_packet(0, bytes(60))
    code, out, _ = run(capsys, "decode", path)
    assert code == 0 and "linktype 1 not decoded (60 octets)" in out


def test_table_on_a_terminal(capture, capsys, monkeypatch):
    monkeypatch.setattr(decode, "_stdout_is_terminal", lambda: True)
    monkeypatch.setenv("COLUMNS", "220")
    code, out, _ = run(capsys, "decode", capture)
    assert code == 0
    assert re.search(r"No\. +Time +Link", out) and "Comment" in out
    assert "ADD PARTY REJECT cref=0x000001/term epref=3 cause 21 call rejected" in out
    assert "undecodable: SSCOP PDU" in out and "1 undecodable" in out
    _, plain, _ = run(capsys, "decode", capture, "--plain")
    assert "No." not in plain and len(plain.splitlines()) == 13


# --------------------------------------------------------------------------------------------- bad input

def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("atmemu decode: error: ")
    return lines[0]


def test_missing_file(tmp_path, capsys):
    code, out, err = run(capsys, "decode", tmp_path / "nothing.pcapng")
    assert code == 2 and out == "" and "no such file" in one_line_error(err)


def test_not_a_capture(tmp_path, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not a capture\n")
    code, _, err = run(capsys, "decode", text)
    assert code == 2 and "magic" in one_line_error(err)
    code, _, err = run(capsys, "decode", tmp_path)
    assert code == 2 and "is a directory" in one_line_error(err)


def test_a_damaged_capture_prints_the_frames_before_the_damage(capture, tmp_path, capsys):
    octets = capture.read_bytes()
    # Cut inside the EPB of the ADD PARTY REJECT (frame 10): frames 1-9 are whole.
    reject = sunatm_record(False, 0, 5, sd_octets(uni.AddPartyReject(1, 3, cause=21), 1))
    cut = octets.index(reject) + 5
    damaged = tmp_path / "damaged.pcapng"
    damaged.write_bytes(octets[:cut])
    code, out, err = run(capsys, "decode", damaged)
    assert code == 2
    assert len(out.splitlines()) == 9 and "SETUP cref=0x000009" in out.splitlines()[7]
    line = one_line_error(err)
    assert "at offset" in line and "damaged.pcapng" in line
    # The picture is still drawn from what was read.
    code, _, err = run(capsys, "decode", damaged, "--ladder", tmp_path / "partial.png")
    assert code == 2 and png_size(tmp_path / "partial.png")[1] > 300
    # --debug shows the traceback instead: the typed error itself.
    with pytest.raises(CaptureDecodeError):
        cli.main(["--debug", "decode", str(damaged)])


def test_bad_ladder_arguments(capture, tmp_path, capsys):
    for argv, words in (((capture, "--ladder", tmp_path / "x.jpg"), ".png, .svg or .pdf"),
                        ((capture, "--ladder", tmp_path / "no" / "x.png"), "existing directory"),
                        ((capture, "--ladder", tmp_path / "x.png", "--ladder-max", "0"), "at least 1")):
        code, out, err = run(capsys, "decode", *argv)
        assert code == 2 and out == "" and words in one_line_error(err)


def test_help_has_examples(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["decode", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "examples:" in out and "--ladder" in out and "-V" in out
