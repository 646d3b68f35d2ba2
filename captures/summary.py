"""Frame summaries: every record of an ATM capture as one neutral set of facts.

``summarize(path)`` reads a pcap or pcapng capture and yields one :class:`FrameSummary` per frame:
when it was seen, on which link (the pcapng interface name), in which direction, on which VC, the SSCOP
PDU with its sequence numbers, the Q.2931 / Q.2971 message with its call reference, endpoint
reference, causes and states, the packet comments, and, for a frame that does not decode, the typed
error's message. ``atmemu decode`` prints them, ``--ladder`` draws them, ``atmemu replay`` compares
them.

What is decoded:

- LINKTYPE_SUNATM (123): the pseudo-header gives the direction (bit 7 of octet 0: DTE->DCE, sent by
  the user side), the traffic type, VPI and VCI; the SDU of a signalling record (Wireshark's rule,
  :func:`captures.linktypes.sunatm.carries_sscop`) is an SSCOP PDU (Q.2110 7.2), and an SD carries a
  Q.2931 message (Q.2130; :mod:`firmware.saal`).
- LINKTYPE_ERF (197): type 4 (AAL5) records are checked as a CPCS-PDU (I.363.5 9.2.2.2: size, CRC-32,
  Length) and on VPI 0/VCI 5 decoded as SSCOP / Q.2931 like SunATM; type 3 records are single cells.
  ERF records carry no direction, only the capture port in flags bits 0-1: pass ``erf_port0="user"``
  (or ``"network"``) when port 0 holds what that side sent and port 1 the other side (a capture card on
  a passive tap sees each fibre on its own port); otherwise an interface written by
  :class:`captures.recorder.Recorder` says in its description whose frames port 0 holds, and the
  direction of other ERF records is unknown (None).
- Consecutive ERF type 3 cells of one VC on one interface and port collapse into one summary (a run,
  ``cells`` > 1, with counts of end-of-frame, OAM, RM, CLP=1 and EFCI cells). Long runs of cells are
  read as numpy batches, without a Python object per cell.
- Any other link type is summarised as "linktype N not decoded".

One bad frame never stops the summary: it is reported with ``error`` set to the message of the typed
error that refused it (SSCOP, Q.2931, AAL5 or link-layer), and whatever decoded before the fault (the
direction and VC, the SSCOP PDU, a leniently read message header) is kept. A damaged capture *file* is
another matter: the reader's :class:`captures.errors.CaptureDecodeError` propagates, after the frames
read before it (and a pending run of cells) have been yielded.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, replace
from typing import Any, BinaryIO, Iterator

import numpy as np

import captures  # noqa: F401 - registers the SunATM and ERF scapy layers (scapy_tree)
from captures import reader as capture_reader
from captures.errors import CaptureDecodeError
from captures.linktypes.errors import LinkTypeDecodeError
from captures.linktypes.sunatm import TRAFFIC_TYPES, carries_sscop
from captures.reader import CaptureReader, Record, RecordBatch
from captures.recorder import erf_port0_side
from captures.records import (
    AAL5_MAX_SDU_OCTETS,
    ERF_CELL_OCTETS,
    ERF_CELL_RECORD_OCTETS,
    ERF_FLAG_INTERFACE,
    ERF_FLAG_TRUNCATED,
    ERF_FLAG_VARLEN,
    ERF_HEADER_OCTETS,
    ERF_TYPE_AAL5,
    ERF_TYPE_ATM,
    ERF_TYPE_EXTENSION,
    LINKTYPE_ERF,
    LINKTYPE_SUNATM,
    SUNATM_DTE_TO_DCE,
    SUNATM_HEADER_OCTETS,
)
from firmware.sscop import fastcodec
from firmware.sscop.errors import SSCOPDecodeError
from firmware.sscop.layout import PDUType
from firmware.uni import (CalledPartyNumberIE, CallingPartyNumberIE, CallStateIE, CauseIE, ConnectionIdentifierIE,
                          EndpointReferenceIE, EndpointStateIE, Q2931, UniDecodeError, decode_message)
from firmware.uni import fastcodec as uni_fastcodec
from firmware.uni.constants import (AESA_OCTETS, CAUSE_NAMES, HEADER_OCTETS, MESSAGE_NAMES, PROTOCOL_DISCRIMINATOR,
                                    CallState, IEId, NumberingPlan, NumberType, PartyState)
from hw.aal5 import parse_cpcs_pdu
from hw.errors import AtmemuError, DecodeError, FieldError

#: ``FrameSummary.direction`` values. SunATM's DTE->DCE is what the user side sent.
USER_TO_NETWORK = "user->network"
NETWORK_TO_USER = "network->user"

#: ``FrameSummary.kind`` values.
KIND_SSCOP = "sscop"  # an SSCOP PDU on a signalling channel (and the Q.2931 message of an SD)
KIND_AAL5 = "aal5"  # an ERF AAL5 record of another VC
KIND_CELLS = "cells"  # ERF type 3: one cell, or a run of cells of one VC
KIND_SUNATM = "sunatm"  # a SunATM record that is not signalling (LANE, LLC, ILMI...)
KIND_ERF = "erf"  # an ERF record of a type other than ATM cell and AAL5
KIND_OTHER = "other"  # a link type this module does not decode

SIGNALLING_VPI, SIGNALLING_VCI = 0, 5  # I.361 / Q.2931: the signalling channel of the UNI

_PDU_NAMES = {int(t): t.name for t in PDUType}
#: The sequence fields shown for each PDU (Q.2110 7.2), in the order shown.
_SEQ_FIELDS: dict[PDUType, tuple[str, ...]] = {
    PDUType.BGN: ("n_sq", "n_mr"), PDUType.BGAK: ("n_mr",), PDUType.END: ("s",), PDUType.ENDAK: (),
    PDUType.RS: ("n_sq", "n_mr"), PDUType.RSAK: ("n_mr",), PDUType.BGREJ: (), PDUType.SD: ("n_s",),
    PDUType.ER: ("n_sq", "n_mr"), PDUType.POLL: ("n_ps", "n_s"), PDUType.STAT: ("n_r", "n_mr", "n_ps", "list"),
    PDUType.USTAT: ("n_r", "n_mr", "list"), PDUType.UD: (), PDUType.MD: (), PDUType.ERAK: ("n_mr",),
}
_SEQ_LABELS = {"n_s": "N(S)", "n_r": "N(R)", "n_mr": "N(MR)", "n_ps": "N(PS)", "n_sq": "N(SQ)"}
_PARTY_STATE_NAMES = {int(s): s.name.replace("_", " ").lower() for s in PartyState}
_CALL_STATE_NAMES = {int(s): s.name.replace("_", " ").lower() for s in CallState}


class SummaryError(AtmemuError):
    """Base of the errors of this module (bad arguments; bad frames are never raised)."""


class SummaryFieldError(SummaryError, FieldError):
    """An argument out of range, such as an ``erf_port0`` other than "user" or "network"."""


@dataclass(frozen=True)
class FrameSummary:
    """The facts of one frame of a capture (or of one run of cells), link-type neutral.

    Times are integer nanoseconds since 1970 as the capture holds them (the virtual clock starts at 0).
    ``frame`` is the 1-based number of the record in the capture, as Wireshark numbers frames; a run of
    cells spans ``frame`` .. ``last_frame`` and ``time_ns`` .. ``end_time_ns``. Fields a frame does not
    have are None (or empty)."""

    frame: int
    time_ns: int
    link: str  # the interface name, or "if<N>" when the capture names none
    interface: int
    section: int
    linktype: int
    kind: str
    direction: str | None = None  # USER_TO_NETWORK, NETWORK_TO_USER, or None when the record has none
    vpi: int | None = None
    vci: int | None = None
    erf_port: int | None = None  # ERF flags bits 0-1: the capture port of the record
    sscop: str | None = None  # Q.2110 abbreviation of the PDU type: "SD", "POLL", "STAT"...
    sscop_seq: dict[str, Any] = field(default_factory=dict, hash=False)  # n_s, n_r, n_mr, n_ps, n_sq, s, list
    message: str | None = None  # "ADD PARTY", or "message type 0x99" for an unknown type
    message_type: int | None = None
    call_ref: int | None = None
    call_ref_flag: int | None = None  # Q.2931 4.3: 0 sent by the side that allocated the call reference
    endpoint_ref: int | None = None
    endpoint_ref_flag: int | None = None
    causes: tuple[int, ...] = ()
    endpoint_state: int | None = None  # Q.2971 party state of an Endpoint state IE
    call_state: int | None = None  # Q.2931 call state of a Call state IE
    called: str | None = None
    calling: str | None = None
    connection: tuple[int, int] | None = None  # (VPCI, VCI) of a Connection identifier IE
    info: str | None = None  # what the frame is when it is not a signalling message: "AAL5 SDU 1500 octets"...
    error: str | None = None  # the typed error's message when the frame (or part of it) does not decode
    comments: tuple[str, ...] = ()
    cells: int = 1  # records this summary stands for (more than 1 for a run of cells)
    last_frame: int = 0  # 0: same as frame
    end_time_ns: int | None = None  # None: same as time_ns
    data: bytes = field(default=b"", repr=False, compare=False)  # the (first) record's octets, for scapy_tree

    def __post_init__(self) -> None:
        if not self.last_frame:
            object.__setattr__(self, "last_frame", self.frame)
        if self.end_time_ns is None:
            object.__setattr__(self, "end_time_ns", self.time_ns)

    # ------------------------------------------------------------------ views
    @property
    def undecodable(self) -> bool:
        return self.error is not None

    @property
    def signalling(self) -> bool:
        """Whether the frame is an SSCOP PDU of a signalling channel (decoded or not)."""
        return self.kind == KIND_SSCOP

    def vc_text(self) -> str:
        return "" if self.vpi is None else f"{self.vpi}/{self.vci}"

    def sscop_text(self) -> str:
        """The SSCOP PDU as Q.2110 names it: ``SD N(S)=3``, ``POLL N(PS)=2 N(S)=4``, ``STAT N(R)=5 ...``."""
        if self.sscop is None:
            return ""
        parts = [self.sscop]
        for name, value in self.sscop_seq.items():
            if name == "list":
                parts.append("list=[" + ",".join(str(v) for v in value) + "]")
            elif name == "s":
                parts.append("S=SSCOP" if value else "S=user")
            else:
                parts.append(f"{_SEQ_LABELS.get(name, name)}={value}")
        return " ".join(parts)

    def message_text(self) -> str:
        """The Q.2931 message in one line: ``ADD PARTY cref=0x000001/orig epref=3 called=47.0005...``.

        ``/orig`` marks a call reference flag 0 (sent by the side that allocated the call reference,
        Q.2931 4.3), ``/term`` flag 1 (sent to it); the endpoint reference shows its flag only when it
        differs from the call reference's."""
        if self.message is None:
            return ""
        parts = [self.message]
        if self.call_ref is not None:
            parts.append(f"cref=0x{self.call_ref:06X}/{flag_text(self.call_ref_flag)}")
        if self.endpoint_ref is not None:
            ep = f"epref={self.endpoint_ref}"
            if self.endpoint_ref_flag is not None and self.endpoint_ref_flag != self.call_ref_flag:
                ep += f"/{flag_text(self.endpoint_ref_flag)}"
            parts.append(ep)
        if self.called is not None:
            parts.append(f"called={self.called}")
        if self.connection is not None:
            parts.append(f"conn={self.connection[0]}/{self.connection[1]}")
        if self.call_state is not None:
            parts.append(f"call-state={_CALL_STATE_NAMES.get(self.call_state, self.call_state)}")
        if self.endpoint_state is not None:
            parts.append(f"ep-state={_PARTY_STATE_NAMES.get(self.endpoint_state, self.endpoint_state)}")
        parts += [cause_text(c) for c in self.causes]
        return " ".join(parts)

    def text(self) -> str:
        """What the frame carries, in one line: the message, or the info, then the error if any."""
        main = self.message_text() or self.info or ""
        if self.error is None:
            return main
        return f"{main} [undecodable: {self.error}]" if main else f"undecodable: {self.error}"

    def as_json(self) -> dict[str, Any]:
        """The fields as JSON-ready values (without the record's octets)."""
        out = asdict(self)
        del out["data"]
        out["causes"] = list(self.causes)
        out["comments"] = list(self.comments)
        out["connection"] = None if self.connection is None else list(self.connection)
        return out


def flag_text(flag: int | None) -> str:
    """``orig`` for a call/endpoint reference flag 0, ``term`` for 1 (Q.2931 4.3)."""
    return "?" if flag is None else ("term" if flag else "orig")


def cause_text(value: int) -> str:
    """``cause 21 call rejected`` (Q.2610 names)."""
    name = CAUSE_NAMES.get(value)
    return f"cause {value} {name}" if name else f"cause {value}"


def format_aesa(address: bytes) -> str:
    """An ATM end system address in the usual dotted groups: AFI.IDI.HO-DSP.ESI.SEL (ATM Forum UNI 4.0
    annex A: DCC 0x39 and ICD 0x47 have a 2-octet IDI, E.164 0x45 an 8-octet one); other lengths in hex."""
    b = bytes(address)
    if len(b) != AESA_OCTETS:
        return b.hex()
    idi = 8 if b[0] == 0x45 else 2
    return ".".join((b[:1].hex(), b[1:1 + idi].hex(), b[1 + idi:13].hex(), b[13:19].hex(), b[19:].hex()))


def _party_number(ie) -> str:
    address = bytes(ie.address or b"")
    if ie.numbering_plan == NumberingPlan.NSAP:
        return format_aesa(address)
    if ie.numbering_plan == NumberingPlan.E164 and address.isdigit():
        return ("+" if ie.number_type == NumberType.INTERNATIONAL else "") + address.decode("ascii")
    return address.hex()


# ---------------------------------------------------------------------------------------------- decoding

def _message_fields(msg: Q2931) -> dict[str, Any]:
    """The summary fields of a (possibly leniently dissected) Q.2931 message."""
    mt = msg.message_type
    out: dict[str, Any] = {
        "message": MESSAGE_NAMES.get(mt, f"message type 0x{mt:02X}"),
        "message_type": mt,
        "call_ref": msg.call_ref,
        "call_ref_flag": msg.call_ref_flag,
    }
    causes = []
    for ie in msg.ies:
        # A leniently dissected IE may lack its fields (None): take what is there.
        if isinstance(ie, EndpointReferenceIE) and "endpoint_ref" not in out and ie.ref_value is not None:
            out["endpoint_ref"], out["endpoint_ref_flag"] = ie.ref_value, ie.ref_flag
        elif isinstance(ie, CauseIE) and ie.cause_value is not None:
            causes.append(int(ie.cause_value))
        elif isinstance(ie, EndpointStateIE) and ie.party_state is not None:
            out["endpoint_state"] = int(ie.party_state)
        elif isinstance(ie, CallStateIE) and ie.call_state is not None:
            out["call_state"] = int(ie.call_state)
        elif isinstance(ie, CalledPartyNumberIE) and ie.numbering_plan is not None:
            out["called"] = _party_number(ie)
        elif isinstance(ie, CallingPartyNumberIE) and ie.numbering_plan is not None:
            out["calling"] = _party_number(ie)
        elif isinstance(ie, ConnectionIdentifierIE) and ie.vpci is not None:
            out["connection"] = (int(ie.vpci), int(ie.vci))
    out["causes"] = tuple(causes)
    return out


_ENDPOINT_REFERENCE, _CAUSE = int(IEId.ENDPOINT_REFERENCE), int(IEId.CAUSE)
_ENDPOINT_STATE, _CALL_STATE = int(IEId.ENDPOINT_STATE), int(IEId.CALL_STATE)
_CALLED, _CALLING = int(IEId.CALLED_PARTY_NUMBER), int(IEId.CALLING_PARTY_NUMBER)
_CONNECTION = int(IEId.CONNECTION_IDENTIFIER)


def _fast_message_fields(msg) -> dict[str, Any]:
    """:func:`_message_fields` of a message the fast codec decoded (``firmware.uni.fastcodec``, proven to
    decode as the scapy layers do), by the same rules: the first endpoint reference, every cause, the
    last of the other elements."""
    mt, call_ref, flag, _, ies = msg
    out: dict[str, Any] = {
        "message": MESSAGE_NAMES.get(mt, f"message type 0x{mt:02X}"),
        "message_type": mt,
        "call_ref": call_ref,
        "call_ref_flag": flag,
    }
    causes = []
    for ie in ies:
        identifier, record = ie[0], ie[3]
        if record is None:
            continue
        if identifier == _ENDPOINT_REFERENCE:
            if "endpoint_ref" not in out:
                out["endpoint_ref"], out["endpoint_ref_flag"] = record.ref_value, record.ref_flag
        elif identifier == _CAUSE:
            causes.append(int(record.cause_value))
        elif identifier == _ENDPOINT_STATE:
            out["endpoint_state"] = int(record.party_state)
        elif identifier == _CALL_STATE:
            out["call_state"] = int(record.call_state)
        elif identifier == _CALLED:
            out["called"] = _party_number(record)
        elif identifier == _CALLING:
            out["calling"] = _party_number(record)
        elif identifier == _CONNECTION:
            out["connection"] = (int(record.vpci), int(record.vci))
    out["causes"] = tuple(causes)
    return out


def _lenient_message(payload: bytes) -> Q2931 | None:
    """The message header and IEs read leniently, to show what a refused message was; None when even
    the header is not there."""
    if len(payload) < HEADER_OCTETS or payload[0] != PROTOCOL_DISCRIMINATOR:
        return None
    try:
        return Q2931(payload)
    except Exception:  # noqa: BLE001 - best effort for display only: scapy's lenient dissectors raise anything
        return None


def signalling_fields(octets: bytes, offset: int = 0) -> dict[str, Any]:
    """The summary fields of one SSCOP PDU (``octets``, at ``offset`` in its record) and of the Q.2931 message
    of an SD: the strict decoders of firmware.sscop and firmware.uni (what firmware.saal.decode_signalling
    does, with the SSCOP hot-path codec, proven identical to the scapy layers)."""
    out: dict[str, Any] = {"kind": KIND_SSCOP}
    try:
        pdu = fastcodec.decode(octets, offset=offset)
    except SSCOPDecodeError as exc:
        if exc.pdu_type is not None:
            out["sscop"] = _PDU_NAMES.get(exc.pdu_type)
        out["error"] = str(exc)
        return out
    out["sscop"] = pdu.type.name
    seq = {}
    for name in _SEQ_FIELDS[pdu.type]:
        seq[name] = list(pdu.fields["list_"]) if name == "list" else pdu.fields[name]
    out["sscop_seq"] = seq
    if pdu.type in (PDUType.UD, PDUType.MD):
        out["info"] = f"{len(pdu.payload)} octets of {'management ' if pdu.type == PDUType.MD else ''}data"
    if pdu.type != PDUType.SD:
        return out
    try:  # the fast codec first; a message it refuses goes through scapy, for the error and a lenient read
        out.update(_fast_message_fields(uni_fastcodec.decode(pdu.payload)))
        return out
    except UniDecodeError:
        pass
    message = None
    try:
        message = decode_message(pdu.payload)
    except UniDecodeError as exc:
        out["error"] = str(exc)
        message = getattr(exc, "message", None) or _lenient_message(pdu.payload)
    if message is not None:
        out.update(_message_fields(message))
    return out


def _sunatm(data: bytes, out: dict[str, Any]) -> None:
    """LINKTYPE_SUNATM: pseudo-header (direction, traffic type, VPI, VCI), then the AAL5 SDU. Fills
    ``out`` as it goes, so that what decoded before a fault is kept."""
    what = "SunATM record"
    n = len(data)
    if n < SUNATM_HEADER_OCTETS:
        raise LinkTypeDecodeError(what, n, "pseudo-header",
                                  f"truncated: {n} octets, the pseudo-header has {SUNATM_HEADER_OCTETS}")
    out["direction"] = USER_TO_NETWORK if data[0] & SUNATM_DTE_TO_DCE else NETWORK_TO_USER
    traffic = data[0] & 0x0F
    vpi, vci = data[1], int.from_bytes(data[2:4], "big")
    out["vpi"], out["vci"] = vpi, vci
    sdu = n - SUNATM_HEADER_OCTETS
    if traffic not in TRAFFIC_TYPES:
        raise LinkTypeDecodeError(what, 0, "type", f"traffic type {traffic} is not defined for SunATM "
                                  "(1 LANE, 2 LLC, 3 MARS, 4 IFMP, 5 ILMI, 6 Q.SAAL)")
    if sdu > AAL5_MAX_SDU_OCTETS:
        raise LinkTypeDecodeError(what, SUNATM_HEADER_OCTETS + AAL5_MAX_SDU_OCTETS, "SDU",
                                  f"oversized: {sdu} octets, an AAL5 SDU has at most {AAL5_MAX_SDU_OCTETS} (I.363.5)")
    if carries_sscop(traffic, vpi, vci):
        out.update(signalling_fields(data[SUNATM_HEADER_OCTETS:], SUNATM_HEADER_OCTETS))
    else:
        out["info"] = f"SunATM {TRAFFIC_TYPES[traffic]}, {sdu} octets"


def _cell_header(header4: bytes) -> tuple[int, int, int, int]:
    """(VPI, VCI, PTI, CLP) of the 4 octets of a UNI cell header without its HEC (I.361 2.2)."""
    o0, o1, o2, o3 = header4
    return ((o0 & 0x0F) << 4) | (o1 >> 4), ((o1 & 0x0F) << 12) | (o2 << 4) | (o3 >> 4), (o3 >> 1) & 7, o3 & 1


def _erf(data: bytes, erf_port0: str | None, out: dict[str, Any]) -> None:
    """LINKTYPE_ERF: the record header (the checks of captures.linktypes.erf.decode_erf), then a cell
    (type 3) or a CPCS-PDU (type 4). Fills ``out`` as it goes."""
    what = "ERF record"
    n = len(data)
    if n < ERF_HEADER_OCTETS:
        raise LinkTypeDecodeError(what, n, "header", f"truncated: {n} octets, the record header has 16")
    port = data[9] & ERF_FLAG_INTERFACE
    out["erf_port"] = port
    out["direction"] = _port_direction(port, erf_port0)
    erf_type = data[8] & 0x7F
    out["kind"] = {ERF_TYPE_ATM: KIND_CELLS, ERF_TYPE_AAL5: KIND_AAL5}.get(erf_type, KIND_ERF)
    if erf_type in (ERF_TYPE_ATM, ERF_TYPE_AAL5) and not data[8] & ERF_TYPE_EXTENSION and n >= ERF_HEADER_OCTETS + 4:
        out["vpi"], out["vci"], _, _ = _cell_header(data[ERF_HEADER_OCTETS:ERF_HEADER_OCTETS + 4])
    rlen = int.from_bytes(data[10:12], "big")
    if rlen != n:
        raise LinkTypeDecodeError(what, 10, "rlen", f"says {rlen} octets, the record has {n}")
    if data[9] & ERF_FLAG_TRUNCATED:
        raise LinkTypeDecodeError(what, 9, "flags.trunc", "the capture marked this record truncated")
    pos, more = ERF_HEADER_OCTETS, bool(data[8] & ERF_TYPE_EXTENSION)
    while more:
        if n < pos + 8:
            raise LinkTypeDecodeError(what, pos, "extension header", f"truncated: {n - pos} octets, an extension "
                                      "header has 8")
        more = bool(data[pos] & 0x80)
        pos += 8
    body = n - pos
    if erf_type == ERF_TYPE_ATM:
        # A record without the varlen flag is padded to the card's fixed record length: octets after the
        # cell are padding then (Endace ERF types reference, "vlen" flag).
        padded = not data[9] & ERF_FLAG_VARLEN and body > ERF_CELL_OCTETS
        if body != ERF_CELL_OCTETS and not padded:
            kind = "truncated" if body < ERF_CELL_OCTETS else "oversized"
            raise LinkTypeDecodeError(what, pos, "cell", f"{kind}: {body} octets, an ERF ATM cell has 52")
        vpi, vci, pti, clp = _cell_header(data[pos:pos + 4])
        out["vpi"], out["vci"] = vpi, vci
        out["info"] = _cell_text(pti, clp)
        return
    if erf_type != ERF_TYPE_AAL5:
        out["info"] = f"ERF type {erf_type} not decoded ({body} octets)"
        return
    if body < 4:
        raise LinkTypeDecodeError(what, pos, "cell header", f"truncated: {body} octets, need 4")
    vpi, vci, _, _ = _cell_header(data[pos:pos + 4])
    out["vpi"], out["vci"] = vpi, vci
    cpcs = pos + 4
    try:
        sdu, uu, cpi = parse_cpcs_pdu(data[cpcs:])
    except DecodeError as err:
        raise LinkTypeDecodeError(what, cpcs + err.offset, err.field, err.reason) from err
    if not sdu:
        raise LinkTypeDecodeError(what, n - 6, "Length", "0: the abort function, no SDU (I.363.5 9.2.2.2)")
    if (vpi, vci) == (SIGNALLING_VPI, SIGNALLING_VCI):
        out.update(signalling_fields(sdu, cpcs))
    else:
        out["info"] = f"AAL5 SDU {len(sdu)} octets" + (f" (UU {uu}, CPI {cpi})" if uu or cpi else "")


def _port_direction(port: int, erf_port0: str | None) -> str | None:
    if erf_port0 is None or port > 1:
        return None
    first, second = ((USER_TO_NETWORK, NETWORK_TO_USER) if erf_port0 == "user"
                     else (NETWORK_TO_USER, USER_TO_NETWORK))
    return first if port == 0 else second


_PTI_TEXT = {0: "user data", 1: "user data, end of frame (AUU)", 2: "user data, EFCI",
             3: "user data, EFCI, end of frame (AUU)", 4: "segment F5 OAM", 5: "end-to-end F5 OAM",
             6: "RM", 7: "reserved PTI 7"}


def _cell_text(pti: int, clp: int) -> str:
    return f"cell PTI {pti} ({_PTI_TEXT[pti]}), CLP {clp}"


def _check_port0(erf_port0: str | None) -> None:
    if erf_port0 not in (None, "user", "network"):
        raise SummaryFieldError("erf_port0", erf_port0, 'None, "user" or "network"')


def summarize_record(record: Record, *, frame: int = 1, link: str | None = None,
                     erf_port0: str | None = None) -> FrameSummary:
    """The summary of one capture record (a single cell too: runs are :func:`summarize`'s). Never
    raises for a bad record: its fault is in ``error``."""
    _check_port0(erf_port0)
    linktype = record.linktype
    fields: dict[str, Any] = {}
    try:
        if linktype == LINKTYPE_SUNATM:
            fields["kind"] = KIND_SUNATM
            _sunatm(record.data, fields)
        elif linktype == LINKTYPE_ERF:
            fields["kind"] = KIND_ERF
            _erf(record.data, erf_port0, fields)
        else:
            fields = {"kind": KIND_OTHER, "info": f"linktype {linktype} not decoded ({len(record.data)} octets)"}
    except LinkTypeDecodeError as exc:
        fields["error"] = str(exc)  # a fault of the record itself: what its header gave is kept
    return FrameSummary(
        frame=frame, time_ns=record.time_ns, link=link if link is not None else f"if{record.interface}",
        interface=record.interface, section=record.section, linktype=linktype, comments=tuple(record.comments),
        data=record.data, **fields,
    )


# ---------------------------------------------------------------------------------------------- runs

class _Run:
    """A run of cells of one VC: counts by PTI, CLP=1 cells, the comments met."""

    def __init__(self, key: tuple, first: FrameSummary) -> None:
        self.key = key
        self.first = first
        self.count = 0
        self.last_frame = first.frame
        self.end_ns = first.time_ns
        self.pti = np.zeros(8, dtype=np.int64)
        self.clp = 0
        self.comments: list[str] = []

    def add(self, last_frame: int, end_ns: int, pti: np.ndarray, clp: int, comments=()) -> None:
        self.count += int(pti.sum())
        self.pti += pti
        self.clp += clp
        self.last_frame = last_frame
        self.end_ns = end_ns
        self.comments += comments

    def summary(self) -> FrameSummary:
        if self.count == 1:
            return replace(self.first, comments=tuple(self.comments))
        p = self.pti
        parts = []
        for count, what in ((p[1] + p[3], "end of frame (AUU)"), (p[2] + p[3], "EFCI"), (p[4] + p[5], "F5 OAM"),
                            (p[6], "RM"), (p[7], "reserved PTI 7"), (self.clp, "CLP=1")):
            if count:
                parts.append(f"{count:,} {what}")
        span = self.end_ns - self.first.time_ns
        info = (f"{self.count:,} cells (frames {self.first.frame}-{self.last_frame}) over {_duration(span)}"
                + (": " + ", ".join(parts) if parts else ""))
        return replace(self.first, cells=self.count, last_frame=self.last_frame, end_time_ns=self.end_ns,
                       info=info, comments=tuple(self.comments))


def _duration(ns: int) -> str:
    if ns < 1_000:
        return f"{ns} ns"
    if ns < 1_000_000:
        return f"{ns / 1e3:.3f} us"
    if ns < 1_000_000_000:
        return f"{ns / 1e6:.3f} ms"
    return f"{ns / 1e9:.3f} s"


def _plain_cell(data: bytes) -> tuple[int, int, int, int, int] | None:
    """(port, VPI, VCI, PTI, CLP) of a well-formed ERF type 3 record without extension headers, else None
    (the full decoder then reports what is wrong with it)."""
    if (len(data) != ERF_CELL_RECORD_OCTETS or data[8] != ERF_TYPE_ATM or data[10] != 0
            or data[11] != ERF_CELL_RECORD_OCTETS or data[9] & ERF_FLAG_TRUNCATED):
        return None
    return (data[9] & ERF_FLAG_INTERFACE, *_cell_header(data[16:20]))


class _Summarizer:
    def __init__(self, rd: CaptureReader, collapse_cells: bool, erf_port0: str | None) -> None:
        self.rd = rd
        self.collapse = collapse_cells
        self.erf_port0 = erf_port0
        self.frame = 0
        self.run: _Run | None = None
        self.links: dict[tuple[int, int], str] = {}
        self.port0: dict[tuple[int, int], str | None] = {}

    def erf_port0_of(self, section: int, interface: int) -> str | None:
        """``erf_port0`` as given, else what the interface's description says (an atmemu recording)."""
        if self.erf_port0 is not None:
            return self.erf_port0
        key = (section, interface)
        if key not in self.port0:
            try:
                description = self.rd.interface(section, interface).description
            except KeyError:
                description = None
            self.port0[key] = erf_port0_side(description)
        return self.port0[key]

    def link(self, section: int, interface: int) -> str:
        key = (section, interface)
        name = self.links.get(key)
        if name is None:
            try:
                name = self.rd.interface(section, interface).name
            except KeyError:
                name = None
            if not name:
                sections = {i.section for i in self.rd.interfaces}
                name = f"if{interface}" if sections <= {0} else f"if{section}.{interface}"
            self.links[key] = name
        return name

    def flush(self) -> Iterator[FrameSummary]:
        if self.run is not None:
            run, self.run = self.run, None
            yield run.summary()

    def __iter__(self) -> Iterator[FrameSummary]:
        try:
            for batch in self.rd.batches():
                yield from self.batch(batch)
        except CaptureDecodeError:
            yield from self.flush()
            raise
        yield from self.flush()

    def batch(self, batch: RecordBatch) -> Iterator[FrameSummary]:
        n, width = batch.data.shape
        if not (self.collapse and n > 1 and width == ERF_CELL_RECORD_OCTETS):
            for rec in batch.records():
                yield from self.record(rec)
            return
        d = batch.data
        ok = ((batch.linktype == LINKTYPE_ERF) & (d[:, 8] == ERF_TYPE_ATM) & (d[:, 10] == 0)
              & (d[:, 11] == ERF_CELL_RECORD_OCTETS) & ((d[:, 9] & ERF_FLAG_TRUNCATED) == 0))
        port = d[:, 9] & ERF_FLAG_INTERFACE
        vpi = ((d[:, 16] & 0x0F).astype(np.int64) << 4) | (d[:, 17] >> 4)
        vci = ((d[:, 17] & 0x0F).astype(np.int64) << 12) | (d[:, 18].astype(np.int64) << 4) | (d[:, 19] >> 4)
        iface = batch.interface
        change = ((iface[1:] != iface[:-1]) | (port[1:] != port[:-1]) | (vpi[1:] != vpi[:-1])
                  | (vci[1:] != vci[:-1]) | (ok[1:] != ok[:-1]))
        bounds = [0, *(np.flatnonzero(change) + 1).tolist(), n]
        for s, e in zip(bounds[:-1], bounds[1:]):
            if not ok[s]:
                for i in range(s, e):
                    yield from self.record(_row(batch, i))
                continue
            key = (batch.section, int(iface[s]), int(port[s]), int(vpi[s]), int(vci[s]))
            if self.run is None or self.run.key != key:
                yield from self.flush()
                first = summarize_record(_row(batch, s), frame=self.frame + 1,
                                         link=self.link(batch.section, int(iface[s])),
                                         erf_port0=self.erf_port0_of(batch.section, int(iface[s])))
                self.run = _Run(key, first)
            pti = np.bincount((d[s:e, 19] >> 1) & 7, minlength=8).astype(np.int64)
            clp = int((d[s:e, 19] & 1).sum())
            self.frame += e - s
            self.run.add(self.frame, int(batch.time_ns[e - 1]), pti, clp)

    def record(self, rec: Record) -> Iterator[FrameSummary]:
        self.frame += 1
        link = self.link(rec.section, rec.interface)
        port0 = self.erf_port0_of(rec.section, rec.interface) if rec.linktype == LINKTYPE_ERF else None
        cell = _plain_cell(rec.data) if self.collapse and rec.linktype == LINKTYPE_ERF else None
        if cell is None:
            yield from self.flush()
            yield summarize_record(rec, frame=self.frame, link=link, erf_port0=port0)
            return
        port, vpi, vci, pti, clp = cell
        key = (rec.section, rec.interface, port, vpi, vci)
        if self.run is None or self.run.key != key:
            yield from self.flush()
            self.run = _Run(key, summarize_record(rec, frame=self.frame, link=link, erf_port0=port0))
        counts = np.zeros(8, dtype=np.int64)
        counts[pti] = 1
        self.run.add(self.frame, rec.time_ns, counts, clp, list(rec.comments))


def _row(batch: RecordBatch, i: int) -> Record:
    return Record(int(batch.interface[i]), int(batch.linktype[i]), int(batch.time_ns[i]), batch.data[i].tobytes(),
                  int(batch.orig_len[i]), batch.comments[i] if batch.comments else (), batch.section,
                  int(batch.offset[i]))


def summarize(source: str | os.PathLike | BinaryIO | CaptureReader, *, collapse_cells: bool = True,
              erf_port0: str | None = None) -> Iterator[FrameSummary]:
    """One :class:`FrameSummary` per frame of a capture (a path, a binary file object, or an open
    :class:`~captures.reader.CaptureReader`), in capture order, streaming.

    ``collapse_cells``: consecutive ERF cells of one VC (same interface and port) make one summary.
    ``erf_port0``: "user" or "network", the side whose frames ERF port 0 holds (port 1: the other side);
    None leaves ERF records without a direction.

    Bad frames come out with ``error`` set; a damaged capture file raises the reader's
    :class:`~captures.errors.CaptureDecodeError` once the frames before the damage have been yielded."""
    _check_port0(erf_port0)
    if isinstance(source, CaptureReader):
        yield from _Summarizer(source, collapse_cells, erf_port0)
        return
    with capture_reader.open(source) as rd:
        yield from _Summarizer(rd, collapse_cells, erf_port0)


def scapy_tree(summary: FrameSummary) -> str:
    """The scapy dissection of the summary's (first) record, as ``show2()`` prints it: every layer
    and field, the Q.2931 information elements by name. Falls back to the lenient ``show()`` and then
    to a hex dump when scapy cannot rebuild the frame."""
    from scapy.config import conf
    from scapy.utils import hexdump

    cls = conf.l2types.num2layer.get(summary.linktype, conf.raw_layer)
    # scapy's lenient dissectors and builders can raise anything on a damaged frame: this is display only.
    try:
        pkt = cls(summary.data)
    except Exception:  # noqa: BLE001
        return hexdump(summary.data, dump=True)
    for show in (pkt.show2, pkt.show):
        try:
            return show(dump=True).rstrip("\n")
        except Exception:  # noqa: BLE001
            continue
    return hexdump(summary.data, dump=True)


__all__ = [
    "FrameSummary", "KIND_AAL5", "KIND_CELLS", "KIND_ERF", "KIND_OTHER", "KIND_SSCOP", "KIND_SUNATM",
    "NETWORK_TO_USER", "USER_TO_NETWORK", "SummaryError", "SummaryFieldError", "cause_text", "flag_text",
    "format_aesa", "scapy_tree", "signalling_fields", "summarize", "summarize_record",
]
