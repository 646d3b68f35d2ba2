"""Fuzz targets: every decoder of atmemu as a function of one byte string, with its oracle.

A target's ``run(data)`` decodes ``data`` and checks what a correct decoder must guarantee beyond
"no crash" (its oracle): two implementations of the same decoder agree (numba kernel and plain twin,
fast codec and scapy layer), a decoded input encodes back to itself, counters balance. On bad input
it raises the layer's typed decode error, and nothing else: ``typed`` lists the classes it may raise.
Anything else that comes out of ``run`` is a finding: another exception (a crash), an
``AssertionError`` (the oracle failed), a :class:`~tools.fuzz.guard.Hang` or a
:class:`~tools.fuzz.guard.MemoryBlowUp` (from :func:`tools.fuzz.guard.bounded`).

The same targets serve the hypothesis tests of ``tests/fuzz`` (random and structure-aware mutated
inputs) and the atheris harness (``python -m tools.fuzz.atheris_harness``, coverage guided).

    for target in TARGETS.values():
        for seed in target.seeds():
            check(target, seed)          # "ok": every seed is valid
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from itertools import islice
from typing import Callable

import numpy as np

from hw.errors import AtmemuError, DecodeError, FieldError
from tools.fuzz import corpus

MiB = 1 << 20
#: A message from an error may quote the input, but not all of it: longer than this is a finding.
MAX_MESSAGE = 4000


@dataclass(frozen=True)
class Target:
    """One decoder under fuzzing."""

    name: str  # "sscop.pdu": family, then decoder
    family: str  # "SSCOP": the row group of the report
    decoder: str  # what is called, as a reader would look it up
    run: Callable[[bytes], object]  # decode and check the oracle
    typed: tuple[type[BaseException], ...]  # the errors ``run`` may raise on bad input
    seeds: Callable[[], list[bytes]]  # valid inputs (every one must give "ok")
    max_input: int  # longest input the hypothesis tests make (mutations may grow a seed past it)
    memory: Callable[[int], int]  # peak traced octets allowed while decoding n octets of input


def _memory(base: int, per_octet: int) -> Callable[[int], int]:
    return lambda n: base + per_octet * n


def check(target: Target, data: bytes) -> str:
    """Run ``target`` on ``data``: ``"ok"``, or the name of the typed error it raised (after checking
    the error names a field and an offset inside the input). Anything else propagates."""
    try:
        target.run(data)
    except target.typed as exc:
        check_error(exc, data)
        return type(exc).__name__
    return "ok"


def check_error(exc: BaseException, data: bytes) -> None:
    """A typed error is an :class:`AtmemuError` whose message is short; a decode error names a field
    and an offset within the input (Bad input gets a clear, typed error naming what was wrong and
    where: DESIGN.md, principles)."""
    assert isinstance(exc, AtmemuError), f"{type(exc).__name__} is not an AtmemuError"
    message = str(exc)
    assert message and len(message) <= MAX_MESSAGE, f"error message of {len(message)} characters"
    if isinstance(exc, DecodeError):
        assert isinstance(exc.offset, int) and 0 <= exc.offset <= len(data), (
            f"{type(exc).__name__} offset {exc.offset} outside the {len(data)}-octet input: {message}")
        assert exc.field and exc.reason, message
    elif isinstance(exc, FieldError):
        assert exc.field and exc.expected, message


# ============================================================================================ cells
# hw.cell (I.361 header, I.432.1 HEC), hw.hec_receiver, hw.delineation, hw.oam (I.610)


def _cell_header(data: bytes) -> None:
    from hw.cell import CellHeader, HecError, parse_cell, unpack_headers

    if len(data) not in (5, 53):
        CellHeader.unpack(data)  # FieldError: a header is 5 octets, a cell 53
        raise AssertionError(f"a header of {len(data)} octets was accepted")
    for nni in (False, True):
        loose = CellHeader.unpack(data, nni=nni, check_hec=False)
        assert loose.fields_octets() == data[:4], "the header fields do not encode back to the octets"
        column = unpack_headers(np.frombuffer(data, np.uint8).reshape(1, -1), nni=nni)
        assert (int(column.vpi[0]), int(column.vci[0]), int(column.pti[0]), int(column.clp[0]), int(column.gfc[0])) \
            == (loose.vpi, loose.vci, loose.pti, loose.clp, loose.gfc), "batch and single header decoders disagree"
    try:
        header = CellHeader.unpack(data)
    except HecError as exc:
        assert exc.received == data[4] and exc.syndrome != 0
        raise
    assert header.pack() == data[:5]
    if len(data) == 53:
        again, payload = parse_cell(data)
        assert again == header and payload == data[5:]


def _cells(data: bytes) -> np.ndarray:
    n = len(data) // 53
    return np.frombuffer(data[: 53 * n], np.uint8).reshape(n, 53)


def _hec_receiver(data: bytes) -> None:
    from hw.cell import hec_ok
    from hw.hec_receiver import HecReceiver

    cells = _cells(data)
    fast, twin, split = HecReceiver(), HecReceiver(engine="twin"), HecReceiver()
    a, b = fast.receive(cells), twin.receive(cells)
    half = cells.shape[0] // 2
    c1, c2 = split.receive(cells[:half]), split.receive(cells[half:])
    assert np.array_equal(a.keep, b.keep) and np.array_equal(a.cells, b.cells), "kernel and twin disagree"
    assert np.array_equal(a.keep, np.concatenate([c1.keep, c2.keep])), "the mode is not carried across batches"
    assert fast.counters == twin.counters == split.counters and fast.mode == twin.mode == split.mode
    counts = fast.counters
    assert counts.cells_in == cells.shape[0] == counts.delivered + counts.discarded, counts
    assert counts.delivered == a.cells.shape[0]
    assert hec_ok(a.cells).all(), "a delivered header still has a HEC error"
    assert np.array_equal(a.cells[:, 5:], cells[a.keep, 5:]), "the receiver changed a payload"
    flipped = np.unpackbits(a.cells[:, :5] ^ cells[a.keep, :5], axis=1).sum(axis=1)
    assert (flipped <= 1).all(), "a correction flipped more than one header bit"


#: Chunk sizes the delineator is fed with, in turn: the cell boundary falls anywhere in a chunk.
_CHUNKS = (1, 7, 53, 2, 106, 13, 60)
#: The twin walks HUNT bit by bit in Python: it is held to the kernel on this prefix only.
_TWIN_OCTETS = 160


def _delineation(data: bytes) -> None:
    from hw.delineation import CellDelineator

    whole = CellDelineator()
    out = whole.feed(data)
    chunked = CellDelineator()
    parts, pos, k = [], 0, 0
    while pos < len(data):
        size = _CHUNKS[k % len(_CHUNKS)]
        parts.append(chunked.feed(data[pos: pos + size]))
        pos, k = pos + size, k + 1
    joined = np.concatenate(parts) if parts else out[:0]
    assert np.array_equal(out, joined), "delineation depends on how the stream is cut into chunks"
    assert whole.counters == chunked.counters and whole.state == chunked.state
    assert list(whole.transitions) == list(chunked.transitions)
    c = whole.counters
    assert c.bits_in == 8 * len(data) == c.bits_hunted + 424 * (c.cells_presync + c.cells_delivered) + c.bits_pending
    assert 0 <= c.bits_pending < 424 + 8 and c.cells_delivered == out.shape[0]
    head = data[:_TWIN_OCTETS]
    fast, twin = CellDelineator(), CellDelineator(engine="twin")
    assert np.array_equal(fast.feed(head), twin.feed(head)) and fast.counters == twin.counters, \
        "kernel and twin disagree"


def _oam(data: bytes) -> None:
    from hw.oam import parse_oam_cell

    if len(data) != 53:
        parse_oam_cell(data)  # FieldError: an OAM cell is 53 octets
        raise AssertionError(f"an OAM cell of {len(data)} octets was accepted")
    errors = []
    for nni in (False, True):
        try:
            oam = parse_oam_cell(data, nni=nni)
        except DecodeError as exc:  # OamError, HecError
            errors.append(exc)
            continue
        assert parse_oam_cell(oam.pack(), nni=nni) == oam, "a decoded OAM cell does not encode back to itself"
    if errors:
        raise errors[0]


# ============================================================================================= AAL5
# hw.aal5: the CPCS-PDU trailer (I.363.5 9.2.2.2) and per-VC reassembly


def _cpcs(data: bytes) -> None:
    from hw.aal5 import cpcs_pdu, parse_cpcs_pdu

    sdu, uu, cpi = parse_cpcs_pdu(data)
    rebuilt = cpcs_pdu(sdu, uu, cpi)
    assert len(rebuilt) == len(data) and parse_cpcs_pdu(rebuilt) == (sdu, uu, cpi)
    if not any(data[len(sdu): len(data) - 8]):  # a zero pad, as a sender writes it
        assert rebuilt == data, "a decoded CPCS-PDU does not encode back to itself"


#: Two receivers: roomy, and one whose limits (SDU, buffer pool, VC table, timer) fuzzed cells hit.
_REASSEMBLERS = (dict(timeout_slots=None), dict(max_sdu=100, pool_cells=6, max_vcs=2, timeout_slots=20))


def _reassembly(data: bytes) -> None:
    from hw.aal5 import Aal5RxError, Reassembler

    cells = _cells(data)
    slots = np.arange(cells.shape[0], dtype=np.int64) * 3
    for options in _REASSEMBLERS:
        fast, twin = Reassembler(**options), Reassembler(engine="twin", **options)
        half = cells.shape[0] // 2
        for lo, hi in ((0, half), (half, cells.shape[0])):
            a, b = fast.feed(cells[lo:hi], slots[lo:hi]), twin.feed(cells[lo:hi], slots[lo:hi])
            assert [tuple(s) for s in a] == [tuple(s) for s in b], "kernel and twin deliver different SDUs"
            assert np.array_equal(a.error_records, b.error_records), "kernel and twin report different errors"
            for err in a.errors:
                assert isinstance(err, Aal5RxError), type(err)
                assert err.field and err.reason and err.offset >= 0
            for sdu in a:
                assert len(sdu.sdu) <= fast.max_sdu and sdu.cells == (len(sdu.sdu) + 8 + 47) // 48
        end = fast.expire(int(slots[-1]) + 1000 if cells.shape[0] else 1000)
        assert np.array_equal(end.error_records, twin.expire(fast.now).error_records)
        assert fast.counters == twin.counters, "kernel and twin count differently"
        fast.check_conservation()
        assert fast.counters["cells_in"] == cells.shape[0]
        assert fast.counters["cells_pending"] == 0 or options["timeout_slots"] is None


# ============================================================================================ SSCOP
# firmware.sscop: the 15 PDUs of Q.2110 7.2, scapy layers and the fast codec; the SAAL (SD -> Q.2931)

@cache
def _small_limits():
    """Q.2110 7.7 limits small enough for fuzzed PDUs to cross them: k = 8, j = 4, MaxSTAT = 2."""
    from firmware.sscop.layout import SSCOPLimits

    return SSCOPLimits(k=8, j=4, max_stat=2)


def _sscop_outcome(decoder, data: bytes, limits):
    from firmware.sscop import fastcodec
    from firmware.sscop.errors import SSCOPDecodeError
    from firmware.sscop.pdu import payload_octets

    try:
        result = decoder(data, limits=limits)
    except SSCOPDecodeError as exc:
        check_error(exc, data)
        return ("error", type(exc), exc.offset, exc.field, exc.pdu_type), exc
    if isinstance(result, fastcodec.Decoded):
        return ("ok", int(result.type), result.fields, result.payload), None
    return ("ok", int(result.pdu_type), result.fields, payload_octets(result)), None


def _sscop(data: bytes) -> None:
    from firmware.sscop import fastcodec
    from firmware.sscop.layout import DEFAULT_LIMITS
    from firmware.sscop.pdu import SSCOP, decode_sscop

    lenient = SSCOP(data)  # scapy's own dissection: never raises, whatever the input
    first_error = None
    for limits in (DEFAULT_LIMITS, _small_limits()):
        fast, error = _sscop_outcome(fastcodec.decode, data, limits)
        assert fast == _sscop_outcome(decode_sscop, data, limits)[0], "fast codec and scapy layer disagree"
        if fast[0] == "ok":
            assert fastcodec.encode(fast[1], fast[3], limits=limits, **fast[2]) == data, "fast codec round trip"
            assert bytes(lenient) == data, "scapy round trip"
        elif limits is DEFAULT_LIMITS:
            first_error = error
    if first_error is not None:
        raise first_error


def _signalling(data: bytes) -> None:
    from firmware.saal import decode_signalling
    from firmware.sscop import fastcodec
    from firmware.uni import fastcodec as fast_uni
    from firmware.uni.errors import UniDecodeError

    try:
        pdu, message = decode_signalling(data)
    except UniDecodeError as exc:
        pdu = fastcodec.decode(data)  # the SSCOP PDU was fine: the message was not
        try:
            fast_uni.decode(pdu.payload)
        except UniDecodeError as again:
            assert (type(again), again.offset, again.cause) == (type(exc), exc.offset, exc.cause)
        else:
            raise AssertionError("the fast Q.2931 codec accepts what decode_signalling refuses") from exc
        raise
    if message is not None:
        from firmware.sscop.pdu import payload_octets

        payload = payload_octets(pdu)
        assert bytes(message) == payload, "the message does not encode back to the SD's information field"
        assert fast_uni.encode(fast_uni.decode(fastcodec.decode(data).payload)) == payload


# ============================================================================================== UNI
# firmware.uni: Q.2931/Q.2971 messages and IEs, the scapy decoder and the fast codec


def _uni_outcome(decoder, data: bytes):
    from firmware.uni.errors import IEContentError, UniDecodeError

    try:
        return ("ok", decoder(data)), None
    except UniDecodeError as exc:
        check_error(exc, data)
        problems = tuple((p[0], p[3]) for p in exc.problems) if isinstance(exc, IEContentError) else ()
        return ("error", (type(exc).__name__, exc.cause, exc.disposition, exc.offset, problems)), exc


def _uni_message(data: bytes) -> None:
    from firmware.uni import fastcodec as fast
    from firmware.uni.contents import check as contents_check
    from firmware.uni.decode import decode_message

    slow, error = _uni_outcome(decode_message, data)
    quick, _ = _uni_outcome(fast.decode, data)
    assert slow[0] == quick[0], "fast codec and scapy decoder disagree on acceptance"
    if slow[0] == "error":
        assert slow == quick, "fast codec and scapy decoder raise different errors"
        raise error
    message, fast_message = slow[1], quick[1]
    assert bytes(message) == data, "scapy round trip"
    assert fast.encode(fast_message) == data, "fast codec round trip"
    assert contents_check(message) == contents_check(fast_message), "the two messages need different answers"


def _uni_ie(data: bytes) -> None:
    from firmware.uni import fastcodec as fast
    from firmware.uni.errors import IEContentError
    from firmware.uni.ie import decode_ie

    outcomes = []
    for decoder in (decode_ie, fast.decode_ie):
        try:
            outcomes.append(("ok", bytes(decoder(data))))
        except IEContentError as exc:
            check_error(exc, data)
            outcomes.append(("error", type(exc), exc.cause, exc.offset, exc))
    # the codec's contract (firmware.uni.fastcodec): same acceptance, and the same error class,
    # cause and offset (the field names may differ: scapy's layout and the codec's are not one)
    assert outcomes[0][:4] == outcomes[1][:4], "fast codec and scapy element decoders disagree"
    if outcomes[0][0] == "error":
        raise outcomes[0][4]
    assert outcomes[0][1] == data, "an element does not encode back to itself"


# ====================================================================================== link layers
# captures.linktypes: LINKTYPE_SUNATM (123) and LINKTYPE_ERF (197) records


def _record(layer, decoder, data: bytes) -> None:
    from firmware.sscop import fastcodec
    from firmware.sscop.pdu import SSCOP

    lenient = layer(data)  # scapy's dissection: never raises
    strict = decoder(data)
    assert bytes(strict) == bytes(lenient) == data, "a record does not encode back to itself"
    if strict.haslayer(SSCOP):  # the SSCOP PDU inside, as the fast codec reads it
        pdu = strict[SSCOP]
        assert fastcodec.decode(bytes(pdu)).fields == pdu.fields, "fast codec and scapy read the PDU differently"


def _sunatm(data: bytes) -> None:
    from captures.linktypes import SunATM, decode_sunatm

    _record(SunATM, decode_sunatm, data)


def _erf(data: bytes) -> None:
    from captures.linktypes import ERF, decode_erf

    _record(ERF, decode_erf, data)


# ========================================================================================= captures
# captures.reader: classic pcap and pcapng


class _Stream:
    """A pipe-like file: read only, not seekable, size unknown (the reader cannot check a length
    field against the octets left, so only its hard limits stand between a lie and an allocation)."""

    def __init__(self, data: bytes) -> None:
        self._data, self._pos = memoryview(data), 0
        self.name = "<pipe>"

    def read(self, n: int = -1) -> bytes:
        end = len(self._data) if n is None or n < 0 else self._pos + n
        out = bytes(self._data[self._pos: end])
        self._pos += len(out)
        return out

    def seekable(self) -> bool:
        return False


#: packets() is held to the records for the first few packets (each record's lenient dissection is
#: the link-layer targets' business; here it is the reader's packaging: time, length, interface).
_PACKETS = 4


def _read_all(file, how: str) -> tuple[list, BaseException | None]:
    from captures import reader
    from captures.errors import CaptureDecodeError

    out: list = []
    try:
        with reader.open(file) as rd:
            if how == "packets":  # scapy packets: each record dissected (leniently) by its link type's layer
                out.extend((pkt.wirelen, len(pkt.original if pkt.original is not None else bytes(pkt)))
                           for pkt in islice(rd.packets(), _PACKETS))
            elif how == "batches":
                for batch in rd.batches():
                    n = batch.data.shape[0]
                    assert n and all(len(col) == n for col in (batch.offset, batch.interface, batch.time_ns))
                    out.extend((r.offset, r.interface, r.linktype, r.time_ns, r.data, r.orig_len, r.comments)
                               for r in batch.records())
            else:
                out.extend((r.offset, r.interface, r.linktype, r.time_ns, r.data, r.orig_len, r.comments)
                           for r in rd.records())
    except CaptureDecodeError as exc:
        return out, exc
    return out, None


def _capture(data: bytes) -> None:
    import io

    seekable, error = _read_all(io.BytesIO(data), "batches")
    if error is not None:
        check_error(error, data)
    piped, pipe_error = _read_all(_Stream(data), "records")
    if pipe_error is not None:
        check_error(pipe_error, data)
    # Whether the file can seek changes how a bad length is found, never what is read before it.
    assert seekable == piped, "a seekable file and a pipe give different records"
    assert (error is None) == (pipe_error is None), (error, pipe_error)
    packets, packet_error = _read_all(io.BytesIO(data), "packets")
    assert packets == [(r[5], len(r[4])) for r in seekable[:_PACKETS]], "packets() and records differ"
    if len(seekable) < _PACKETS:
        assert type(packet_error) is type(error), (packet_error, error)
    for record in seekable:
        assert 0 <= record[0] < len(data) and len(record[4]) <= len(data)
    if error is not None:
        raise error


# ========================================================================================= scenario
# tools.scenario.load: TOML text -> a checked Scenario


def _scenario(data: bytes) -> None:
    from tools.scenario import ScenarioError, dump, loads

    try:
        scenario = loads(data, source="fuzz.toml")
    except ScenarioError as exc:
        message = str(exc)
        assert message.startswith("fuzz.toml: "), message[:200]
        if isinstance(exc, FieldError):  # the dotted key path comes first (tools/scenario/errors.py)
            assert message.startswith(f"fuzz.toml: {exc.field}"), message[:200]
        raise
    text = dump(scenario)
    assert loads(text) == scenario, "what loads does not dump back to the same scenario"
    assert dump(loads(text)) == text, "dump is not stable"


# ========================================================================================== registry


def _build() -> dict[str, Target]:
    from captures.errors import CaptureDecodeError
    from captures.linktypes.errors import LinkTypeDecodeError
    from firmware.sscop.errors import SSCOPDecodeError
    from firmware.uni.errors import IEContentError, UniDecodeError
    from hw.cell import HecError
    from hw.oam import OamError
    from tools.scenario.errors import ScenarioError

    cells = _memory(2 * MiB, 64)
    # scapy dissection keeps a Packet object per field group: 1 to 2 KiB per octet of a message of a
    # few hundred octets made of empty elements (measured); the limit leaves room for that, not more.
    # (It grows faster on long messages: tests/fuzz/test_fuzz_regressions.py, elements' `original`.)
    scapy = _memory(4 * MiB, 4 * 1024)
    targets = [
        Target("cell.header", "cells", "hw.cell.CellHeader.unpack, parse_cell, unpack_headers", _cell_header,
               (HecError, FieldError), corpus.cell_headers, 60, cells),
        # the HEC receiver, the delineator and the reassembler take any octets: they count, never raise
        Target("cell.hec_receiver", "cells", "hw.hec_receiver.HecReceiver (kernel and twin)", _hec_receiver,
               (), corpus.cell_streams, 53 * 40, cells),
        Target("cell.delineation", "cells", "hw.delineation.CellDelineator (kernel and twin)", _delineation,
               (), corpus.bit_streams, 53 * 16, cells),
        Target("cell.oam", "cells", "hw.oam.parse_oam_cell", _oam, (OamError, HecError, FieldError),
               corpus.oam_cells, 60, cells),
        Target("aal5.cpcs", "AAL5", "hw.aal5.parse_cpcs_pdu", _cpcs, (DecodeError,), corpus.cpcs_pdus,
               48 * 8, cells),
        Target("aal5.reassembly", "AAL5", "hw.aal5.Reassembler.feed (kernel and twin)", _reassembly, (),
               corpus.cell_streams, 53 * 40, _memory(4 * MiB, 256)),
        Target("sscop.pdu", "SSCOP", "firmware.sscop decode_sscop, fastcodec.decode, SSCOP()", _sscop,
               (SSCOPDecodeError,), corpus.sscop_pdus, 300, scapy),
        Target("sscop.saal", "SSCOP", "firmware.saal.decode_signalling (SD -> Q.2931)", _signalling,
               (SSCOPDecodeError, UniDecodeError), corpus.signalling_sds, 300, scapy),
        Target("uni.message", "Q.2931", "firmware.uni decode_message, fastcodec.decode", _uni_message,
               (UniDecodeError,), corpus.uni_messages, 300, scapy),
        Target("uni.ie", "Q.2931", "firmware.uni decode_ie, fastcodec.decode_ie", _uni_ie, (IEContentError,),
               corpus.uni_ies, 80, scapy),
        Target("link.sunatm", "link layers", "captures.linktypes.decode_sunatm, SunATM()", _sunatm,
               (LinkTypeDecodeError, SSCOPDecodeError), corpus.sunatm_records, 300, scapy),
        Target("link.erf", "link layers", "captures.linktypes.decode_erf, ERF()", _erf,
               (LinkTypeDecodeError, SSCOPDecodeError), corpus.erf_records, 300, scapy),
        # the reader reads 1 MiB chunks and may hold two of them while it refills, whatever it is fed;
        # packets() dissects each record with scapy (the SunATM and ERF layers): the scapy allowance
        Target("capture.pcap", "captures", "captures.reader (pcap; file, pipe, packets())", _capture,
               (CaptureDecodeError,), corpus.pcap_files, 2500, scapy),
        Target("capture.pcapng", "captures", "captures.reader (pcapng; file, pipe, packets())", _capture,
               (CaptureDecodeError,), corpus.pcapng_files, 3000, scapy),
        Target("scenario.toml", "scenario", "tools.scenario.loads (TOML -> Scenario)", _scenario,
               (ScenarioError,), corpus.scenario_texts, 3000, _memory(4 * MiB, 512)),
    ]
    return {t.name: t for t in targets}


TARGETS: dict[str, Target] = _build()

__all__ = ["MAX_MESSAGE", "TARGETS", "Target", "check", "check_error"]
