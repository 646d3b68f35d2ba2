"""Seed corpora: valid inputs of every decoder, built with the project's own encoders.

Mutation fuzzing starts from inputs the decoder accepts, so that a single mutation lands one step
past a check instead of at the first one (a random byte string rarely gets past a protocol
discriminator or a magic number). Every seed here is valid: ``tools.fuzz.targets`` checks that its
decoder accepts each one before fuzzing starts (a seed that stops decoding is a bug in the seed or
in the decoder, reported as such).

Each function returns a list of ``bytes`` and is deterministic; the lists are small (a few dozen
inputs) and built once per process (``functools.cache``).
"""

from __future__ import annotations

import io
from functools import cache

import numpy as np

# --------------------------------------------------------------------------------------------- cells


@cache
def cell_headers() -> list[bytes]:
    """5-octet headers and 53-octet cells (I.361): UNI and NNI layouts, the pre-assigned VCIs, every
    PTI, CLP set and not, idle and unassigned cells."""
    from hw.cell import IDLE_CELL, CellHeader, make_cell

    out = []
    for vpi, vci, pti, clp, gfc in ((0, 5, 0, 0, 0), (0, 16, 1, 0, 0), (1, 32, 2, 1, 0xF), (255, 0xFFFF, 7, 1, 3),
                                    (0, 0, 0, 0, 0), (7, 3, 4, 0, 0), (12, 4, 5, 0, 1), (0x12, 0x1234, 6, 0, 0)):
        header = CellHeader(vpi, vci, pti, clp, gfc)
        out.append(header.pack())
        out.append(make_cell(header, bytes(range(48))))
    for vpi in (0, 0x800, 0xFFF):
        out.append(CellHeader(vpi, 0x8001, 3, 1, nni=True).pack())
    out.append(IDLE_CELL)
    return out


def _cell_rows(n_frames: int = 3) -> np.ndarray:
    from hw.aal5 import segment

    rows = [segment(bytes(range(i * 37 % 251, 256)) * (i + 1), 0, 32 + i) for i in range(n_frames)]
    rows.append(segment(b"\x09\x03" + bytes(40), 0, 5))  # a signalling-sized frame on VPI 0/VCI 5
    return np.concatenate(rows)


@cache
def cell_streams() -> list[bytes]:
    """Whole cells back to back (what the HEC receiver and the reassembler take): AAL5 frames on a
    few VCs, idle cells between them, OAM cells on the same VCs."""
    from hw.cell import idle_cells
    from hw.oam import ais_cell, loopback_cell

    frames = _cell_rows()
    mixed = np.concatenate([frames[:4], idle_cells(2), frames[4:],
                            np.frombuffer(loopback_cell(0, 33, correlation_tag=7), np.uint8).reshape(1, 53),
                            np.frombuffer(ais_cell(0, 32), np.uint8).reshape(1, 53)])
    return [frames.tobytes(), mixed.tobytes(), _cell_rows(1).tobytes()]


@cache
def bit_streams() -> list[bytes]:
    """Octet streams for cell delineation: cells back to back, aligned or shifted by some bits (the
    delineator finds cell boundaries at any bit), behind leading garbage."""
    stream = np.concatenate([_cell_rows(1)] * 2)  # 2 x 8 cells: enough to reach SYNC (DELTA = 6)
    raw = stream.tobytes()
    out = [raw]
    for shift in (1, 3, 7):
        bits = np.unpackbits(np.frombuffer(raw, np.uint8))
        out.append(np.packbits(np.concatenate([np.ones(shift, np.uint8), bits])).tobytes())
    out.append(bytes(range(17)) + raw)
    return out


@cache
def oam_cells() -> list[bytes]:
    """I.610 OAM cells: loopback, AIS and RDI, F4 and F5, segment and end-to-end, and the other OAM
    types with well-formed codes."""
    from hw.oam import (
        OAM_TYPE_ACTIVATION_DEACTIVATION,
        OAM_TYPE_PERFORMANCE_MANAGEMENT,
        OAM_TYPE_SYSTEM_MANAGEMENT,
        Flow,
        OamCell,
        Scope,
        ais_cell,
        loopback_cell,
        rdi_cell,
    )

    out = [loopback_cell(0, 40, correlation_tag=0xDEADBEEF),
           loopback_cell(3, flow=Flow.F4, scope=Scope.SEGMENT, loopback_indication=False, location_id=bytes(16)),
           ais_cell(9, 100, defect_type=1, defect_location=bytes(range(16))),
           rdi_cell(1, flow=Flow.F4),
           rdi_cell(2, 77, scope=Scope.SEGMENT, clp=1, gfc=2)]
    for oam_type, function_type in ((OAM_TYPE_PERFORMANCE_MANAGEMENT, 2), (OAM_TYPE_ACTIVATION_DEACTIVATION, 1),
                                    (OAM_TYPE_SYSTEM_MANAGEMENT, 9)):
        out.append(OamCell(5, 50, Flow.F5, Scope.END_TO_END, oam_type, function_type, bytes(range(45))).pack())
    return out


# ---------------------------------------------------------------------------------------------- AAL5


@cache
def cpcs_pdus() -> list[bytes]:
    """CPCS-PDUs (I.363.5 9.2.2.2): SDUs of the lengths where the pad changes (0, 39, 40, 41 octets
    fill one, one or two cell payloads), with CPCS-UU and CPI set."""
    from hw.aal5 import cpcs_pdu

    return [cpcs_pdu(bytes(range(n % 256)) * (n // 256 + 1) if n else b"x", uu=n % 256, cpi=0)
            for n in (1, 39, 40, 41, 88, 200)] + [cpcs_pdu(b"\x09\x03\x00\x00\x01\x80\x80\x00\x00", 0x5A, 0)]


# ---------------------------------------------------------------------------------------------- UNI

AESA = "47.0005.80ffe1000000f21a0001.0020481a0001.00"
E164 = "+4961519999"


@cache
def uni_messages() -> list[bytes]:
    """One Q.2931/Q.2971 message of every type (builders of ``firmware.uni``), most with their
    optional IEs, so the IE decoders of every element type are reached."""
    import firmware.uni as uni

    aesa = uni.aesa(AESA)
    msgs = [
        uni.Setup(9, called=aesa, calling=E164, aal=uni.aal5(), sending_complete=True,
                  blli=[uni.low_layer_information(l2=0x0C), uni.low_layer_information(ipi=0x80, snap=(0, 0x800))],
                  called_sub=uni.called_party_subaddress(bytes(20)), e2e_delay=uni.transit_delay(cumulative=5),
                  bhli=uni.high_layer_information(1, b"ab"), transit_network=uni.transit_network_selection("1234")),
        uni.Setup(0x7FFFFF, called=E164, endpoint_ref=None, flag=1,
                  traffic=uni.traffic_descriptor(forward_pcr_01=1000, backward_pcr_01=10),
                  qos=uni.qos_parameter(1, 1)),
        uni.CallProceeding(9, connection_id=uni.connection_identifier(0, 40), endpoint_ref=0),
        uni.Alerting(9, connection_id=uni.connection_identifier(1, 41)),
        uni.Connect(9, aal=uni.aal5(), endpoint_ref=0, blli=uni.low_layer_information(l3=0x0B)),
        uni.ConnectAcknowledge(9),
        uni.Release(9, [16, (31, 2)]),
        uni.ReleaseComplete(9, 16),
        uni.Status(9, endpoint_ref=3, party_state=10),
        uni.StatusEnquiry(9, endpoint_ref=3),
        uni.Notify(9, b"\x81", endpoint_ref=3),
        uni.Restart(connection_id=uni.connection_identifier(0, 40)),
        uni.RestartAcknowledge(),
        uni.AddParty(9, 3, aesa, aal=uni.aal5(), blli=uni.low_layer_information(l2=0x0C), leaf_sequence=2),
        uni.AddPartyAcknowledge(9, 3, aal=uni.aal5()),
        uni.AddPartyReject(9, 3, cause=17),
        uni.PartyAlerting(9, 3),
        uni.DropParty(9, 3, cause=16),
        uni.DropPartyAcknowledge(9, 3),
        uni.LeafSetupFailure(9, cause=3, leaf_sequence=5, called=aesa),
        uni.LeafSetupRequest(9, calling=aesa, called=E164, lij_call_id=77, leaf_sequence=5),
    ]
    return [bytes(m) for m in msgs]


def ie_spans(message: bytes) -> list[tuple[int, int]]:
    """(start, end) of each information element of a well-framed message (Q.2931 4.5.1: a 4-octet
    header whose last two octets give the length of the contents)."""
    spans, pos = [], 9
    while pos + 4 <= len(message):
        end = pos + 4 + int.from_bytes(message[pos + 2:pos + 4], "big")
        if end > len(message):
            break
        spans.append((pos, end))
        pos = end
    return spans


@cache
def uni_ies() -> list[bytes]:
    """Every information element of :func:`uni_messages`, alone."""
    seen: dict[bytes, None] = {}
    for message in uni_messages():
        for start, end in ie_spans(message):
            seen.setdefault(message[start:end])
    return list(seen)


# --------------------------------------------------------------------------------------------- SSCOP


@cache
def sscop_pdus() -> list[bytes]:
    """One PDU of each of the 15 Q.2110 7.2 types, with data/UU parts of every pad length, STAT lists
    of 0..5 elements, and SDs carrying Q.2931 messages."""
    from firmware.sscop import fastcodec
    from firmware.sscop.layout import PDUType as T

    messages = uni_messages()
    out = [
        fastcodec.encode(T.BGN, b"uu", n_sq=3, n_mr=100),
        fastcodec.encode(T.BGAK, b"", n_mr=0xFFFFFF),
        fastcodec.encode(T.END, b"abc", s=1),
        fastcodec.encode(T.ENDAK),
        fastcodec.encode(T.RS, b"a", n_sq=9, n_mr=7),
        fastcodec.encode(T.RSAK, n_mr=8),
        fastcodec.encode(T.BGREJ, b"nope"),
        fastcodec.encode(T.ER, n_sq=1, n_mr=2),
        fastcodec.encode(T.ERAK, n_mr=3),
        fastcodec.encode(T.POLL, n_ps=5, n_s=17),
        fastcodec.encode(T.STAT, n_ps=5, n_mr=40, n_r=12),
        fastcodec.encode(T.STAT, list_=[1, 3, 5, 9, 11], n_ps=6, n_mr=41, n_r=1),
        fastcodec.encode(T.USTAT, list_=[4, 6], n_mr=30, n_r=4),
        fastcodec.encode(T.UD, b"unnumbered"),
        fastcodec.encode(T.MD, b"mgmt"),
    ]
    out += [fastcodec.encode_sd(i, m) for i, m in enumerate(messages[:8])]
    out.append(fastcodec.encode_sd(0xFFFFFF, b""))
    return out


@cache
def signalling_sds() -> list[bytes]:
    """SD PDUs of the signalling channel, one per Q.2931 message type (for ``decode_signalling``)."""
    from firmware.sscop import fastcodec

    return [fastcodec.encode_sd(i, m) for i, m in enumerate(uni_messages())]


# ------------------------------------------------------------------------------------- link layers


@cache
def sunatm_records() -> list[bytes]:
    """LINKTYPE_SUNATM records: signalling PDUs of both directions, and LLC, ILMI and LANE records."""
    from captures.records import SUNATM_TYPE_ILMI, SUNATM_TYPE_LANE, SUNATM_TYPE_LLC, sunatm_record

    out = [sunatm_record(i % 2 == 0, 0, 5, pdu) for i, pdu in enumerate(sscop_pdus())]
    out.append(sunatm_record(True, 0, 5, sscop_pdus()[3], type=3))  # MARS on 0/5: SSCOP by Wireshark's rule
    out.append(sunatm_record(True, 1, 100, bytes.fromhex("aaaa030000000800") + bytes(20), type=SUNATM_TYPE_LLC))
    out.append(sunatm_record(False, 0, 16, bytes(30), type=SUNATM_TYPE_ILMI))
    out.append(sunatm_record(False, 2, 200, b"lane", type=SUNATM_TYPE_LANE))
    return out


@cache
def erf_records() -> list[bytes]:
    """LINKTYPE_ERF records: AAL5 (type 4) records of signalling PDUs and of data, and cell (type 3)
    records, one with an extension header."""
    from captures.records import erf_aal5_record, erf_cell_record
    from hw.aal5 import cpcs_pdu
    from hw.cell import CellHeader, make_cell

    signalling = CellHeader(0, 5).pack()[:4]
    out = [erf_aal5_record(signalling, cpcs_pdu(pdu), 10**9 * i) for i, pdu in enumerate(sscop_pdus()[::2])]
    out.append(erf_aal5_record(CellHeader(1, 40).pack()[:4], cpcs_pdu(bytes(100)), 5))
    out.append(erf_cell_record(make_cell(CellHeader(0, 5, 1), bytes(range(48))), 7, interface=2))
    out.append(erf_cell_record(make_cell(CellHeader(3, 4, 0)), 8))
    extended = bytearray(erf_cell_record(make_cell(CellHeader(1, 33)), 9))
    extended[8] |= 0x80  # an extension header follows the record header
    extended[16:16] = bytes(8)
    extended[10:12] = len(extended).to_bytes(2, "big")
    out.append(bytes(extended))
    return out


# ------------------------------------------------------------------------------------------- captures


@cache
def pcap_files() -> list[bytes]:
    """Classic pcap files (draft-ietf-opsawg-pcap): both byte orders, micro- and nanosecond magics,
    SunATM and ERF link types, records of one length (the reader's vectorised path) and of many."""
    from captures.pcap import PcapWriter
    from captures.records import LINKTYPE_ERF, LINKTYPE_SUNATM

    out = []
    for order, nano, linktype, records in (("<", True, LINKTYPE_SUNATM, sunatm_records()[:6]),
                                           (">", False, LINKTYPE_ERF, erf_records()),
                                           ("<", False, LINKTYPE_ERF, [erf_records()[-2]] * 5)):
        buf = io.BytesIO()
        with PcapWriter(buf, linktype, nanosecond=nano, byteorder=order, snaplen=4096) as w:
            for i, rec in enumerate(records):
                w.write_packet(1_000_000_000 * i + 1234, rec)
        out.append(buf.getvalue())
    return out


def _block(order: str, block_type: int, body: bytes) -> bytes:
    import struct

    body += bytes(-len(body) % 4)
    total = struct.pack(order + "I", 12 + len(body))
    return struct.pack(order + "I", block_type) + total + body + total


@cache
def pcapng_files() -> list[bytes]:
    """pcapng files (draft-ietf-opsawg-pcapng): several interfaces with name, description and
    if_tsresol options, EPBs with comments, runs of same-length EPBs (the vectorised path), a
    big-endian second section, and blocks the reader skips (SPB, NRB, ISB, a custom block)."""
    import struct

    from captures.pcapng import BLOCK_ISB, BLOCK_NRB, BLOCK_PB, BLOCK_SPB, PcapngWriter
    from captures.records import LINKTYPE_ERF, LINKTYPE_SUNATM

    first = io.BytesIO()
    with PcapngWriter(first, comment="fuzz seed") as w:
        sig = w.add_interface(LINKTYPE_SUNATM, "root-switch", description="signalling")
        cells = w.add_interface(LINKTYPE_ERF, "cells", snaplen=128)
        for i, rec in enumerate(sunatm_records()[:5]):
            w.write_packet(sig, 10 * i, rec, comments=("NdisClAddParty",) if i == 2 else ())
        w.write_packets(cells, np.arange(4) * 100, np.frombuffer(erf_records()[-2] * 4, np.uint8).reshape(4, -1))
        w.write_packet(cells, 999, erf_records()[0][:64], orig_len=200)
    plain = first.getvalue()
    second = io.BytesIO()
    with PcapngWriter(second, byteorder=">") as w:
        w.add_interface(LINKTYPE_ERF, "be")
        w.write_packet(0, 5, erf_records()[1], comments=["a", "b"])
    be = second.getvalue()
    skipped = (_block("<", BLOCK_SPB, struct.pack("<I", 4) + b"abcd")
               + _block("<", BLOCK_NRB, bytes(4))
               + _block("<", BLOCK_ISB, struct.pack("<IHH", 0, 0, 0) + bytes(8))
               + _block("<", 0x40000BAD, b"custom")
               + _block("<", BLOCK_PB, struct.pack("<HH4I", 0, 0, 0, 7, 3, 3) + b"xyz"))
    return [plain, plain + skipped + be, be + be]


# ------------------------------------------------------------------------------------------ scenario


@cache
def scenario_texts() -> list[bytes]:
    """Scenario files (TOML): the built-in default (every section, comments), small ones that lean on
    defaults, with faults on links, and what ``dump`` writes for one of them."""
    from tools.scenario import default_text, dump, loads

    small = b"""
name = "small"
seed = 7
leaves = [{ port = 1 }, { port = 2, behaviour = "reject", cause = 17 }, { port = 3, behaviour = "silent" }]
script = [{ make_call = { leaf = 1, pcr = 1000 } }, { add_party = { leaf = 2 } }, { add_party = { leaf = 3 } },
          { wait_ms = 10.5 }, { send_frames = { count = 3, size = 100 } }, { close_call = {} }]
[topology]
ports = 4
line_rate = "OC-12c"
architecture = "voq-islip"
[faults.signalling]
ber = 1e-6
cell_loss = 1e-5
bursts = [{ at_ms = 100, cells = 3 }]
down = [{ down_ms = 200, up_ms = 300 }]
[faults.leaf2]
down = [{ down_ms = 50 }]
[capture]
vcs = ["0/5", "1/32"]
"""
    tiny = b"""
[topology]
ports = 2
[addresses]
domain = ["+49"]
ports = [{ port = 0, prefixes = ["+491"] }, { port = 1, prefixes = ["+492", "39.840f"] }]
[[leaves]]
port = 1
behaviour = "drop-after"
after_ms = 5
[timers]
T303 = 1.5
[timers.sscop]
poll = 0.1
"""
    return [default_text().encode(), small, dump(loads(small)).encode(), tiny]
