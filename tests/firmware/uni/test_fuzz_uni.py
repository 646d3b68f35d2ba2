"""Fuzzing the decoders: random and mutated frames get only typed errors from either decoder, never
another exception, and the fast codec accepts and rejects exactly what the scapy definition does, with
the same error class, cause, disposition and offset (and the same fields when both accept).

Budget: ``ATMEMU_FUZZ_EXAMPLES`` examples per test (300 in the suite, ``make fuzz`` runs 20000)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firmware.uni import fastcodec as fast
from firmware.uni.constants import MessageType
from firmware.uni.decode import decode_message
from firmware.uni.errors import IEContentError, UniDecodeError
from firmware.uni.fastie import KINDS
from firmware.uni.ie import decode_ie

from uni_strategies import message_spec, same_fields, scapy_message, uint

FUZZ_EXAMPLES = int(os.environ.get("ATMEMU_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=FUZZ_EXAMPLES, suppress_health_check=[HealthCheck.too_slow])
TYPES = sorted(int(t) for t in MessageType)


def outcome(decoder, raw: bytes):
    try:
        return "ok", decoder(raw)
    except UniDecodeError as exc:
        problems = exc.problems if isinstance(exc, IEContentError) else ()
        return "error", (type(exc).__name__, exc.cause, exc.disposition, exc.offset, tuple(
            (p[0], p[3]) for p in problems))


def assert_agree(raw: bytes) -> None:
    kind_s, got_s = outcome(decode_message, raw)
    kind_f, got_f = outcome(fast.decode, raw)
    assert kind_s == kind_f, (raw.hex(), got_s, got_f)
    if kind_s == "ok":
        same_fields(got_s, got_f)
    else:
        assert got_s == got_f, raw.hex()


@st.composite
def mutated_frame(draw):
    raw = bytearray(bytes(scapy_message(draw(message_spec(max_ies=4)))))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "set", "truncate", "insert", "delete", "ie_length", "msg_length"]))
        where = draw(st.integers(0, max(len(raw) - 1, 0)))
        value = draw(uint(8))
        if op == "flip" and raw:
            raw[where] ^= 1 << draw(st.integers(0, 7))
        elif op == "set" and raw:
            raw[where] = value
        elif op == "truncate":
            del raw[where:]
        elif op == "insert":
            raw[where:where] = draw(st.binary(min_size=1, max_size=6))
        elif op == "delete" and raw:
            del raw[where:where + draw(st.integers(1, 4))]
        elif op == "ie_length" and len(raw) > 12:
            raw[11] = value  # low octet of the first IE's length
        elif op == "msg_length" and len(raw) > 8:
            raw[8] = value
    return bytes(raw)


@st.composite
def plausible_frame(draw):
    """A sound header (discriminator, call reference, known type, right length) over random IE octets, so
    the fuzzing reaches the element decoders."""
    body = draw(st.one_of(
        st.binary(max_size=40),
        st.lists(st.tuples(st.sampled_from(sorted(KINDS)), uint(8), st.binary(max_size=12)), max_size=4).map(
            lambda ies: b"".join(bytes([i, c & 0x9F | (0x60 if KINDS[i].codings == {3} else 0), 0, len(b)]) + b
                                 for i, c, b in ies))))
    header = bytes([0x09, 0x03]) + draw(st.binary(min_size=3, max_size=3)) + bytes([draw(st.sampled_from(TYPES))])
    return header + bytes([draw(uint(8))]) + len(body).to_bytes(2, "big") + body


@pytest.mark.fuzz
@FUZZ
@given(st.binary(max_size=64))
def test_random_bytes(raw):
    assert_agree(raw)


@pytest.mark.fuzz
@FUZZ
@given(mutated_frame())
def test_mutated_valid_frames(raw):
    assert_agree(raw)


@pytest.mark.fuzz
@FUZZ
@given(plausible_frame())
def test_sound_headers_over_random_elements(raw):
    assert_agree(raw)


@pytest.mark.fuzz
@FUZZ
@given(st.one_of(st.binary(max_size=40),
                 st.tuples(st.sampled_from(sorted(KINDS)), uint(8), st.binary(max_size=30)).map(
                     lambda t: bytes([t[0], t[1] & 0x9F | (0x60 if KINDS[t[0]].codings == {3} else 0)])
                     + len(t[2]).to_bytes(2, "big") + t[2])))
def test_element_decoders_agree(raw):
    results = []
    for decoder in (decode_ie, fast.decode_ie):
        try:
            element = decoder(raw)
            results.append(("ok", bytes(element)))
        except IEContentError as exc:
            results.append(("error", exc.cause, exc.offset))
    assert results[0] == results[1], raw.hex()
    if results[0][0] == "ok":
        assert results[0][1] == raw
