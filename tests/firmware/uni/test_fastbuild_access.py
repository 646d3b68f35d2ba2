"""The fast builders (firmware.uni.fastbuild) make the very octets the scapy builders make, for the same
arguments; the accessors (firmware.uni.access) read the same values from a message whatever its codec,
and their fast receiver check (``acceptable``) says exactly what firmware.uni.contents.findings says."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from uni_strategies import message_spec, uint

from firmware.uni import access
from firmware.uni import builders as B
from firmware.uni import fastbuild as F
from firmware.uni.codecs import FAST, SCAPY, codec
from firmware.uni.contents import findings
from firmware.uni.decode import decode_message
from firmware.uni.errors import UniDecodeError, UniEncodeError
from firmware.uni.fastcodec import FastMessage, decode, encode

EXAMPLES = int(os.environ.get("ATMEMU_FUZZ_EXAMPLES", "300"))

aesa = st.binary(min_size=20, max_size=20)
address = st.one_of(aesa, aesa.map(lambda a: a.hex()), st.integers(1, 10 ** 15 - 1).map(lambda n: "+" + str(n)))
cause_value = st.integers(1, 127)
cause = st.one_of(cause_value, st.tuples(cause_value, uint(4)))
epref = uint(15)


def _ies(kind: str):
    """Optional elements a builder takes, as the same element of both codecs (made from one spec)."""
    specs = {
        "aal": st.tuples(st.integers(0, 65535), st.integers(0, 65535)).map(lambda t: ("aal5", t, {})),
        "traffic": st.tuples(st.integers(1, (1 << 24) - 1)).map(
            lambda t: ("traffic_descriptor", (), {"forward_pcr_01": t[0], "backward_pcr_01": 0})),
        "connection_id": st.tuples(uint(16), uint(16)).map(lambda t: ("connection_identifier", t, {})),
        "qos": st.tuples(uint(8), uint(8)).map(lambda t: ("qos_parameter", t, {})),
        "bearer": st.booleans().map(lambda p: ("bearer_capability", (), {"point_to_multipoint": p})),
    }
    return st.one_of(st.none(), specs[kind])


def _make(builders, spec):
    return None if spec is None else getattr(builders, spec[0])(*spec[1], **spec[2])


@settings(max_examples=EXAMPLES)
@given(st.data())
def test_fast_builders_make_the_octets_of_the_scapy_builders(data) -> None:
    cref, flag = data.draw(uint(23)), data.draw(uint(1))
    name = data.draw(st.sampled_from(["Setup", "AddParty", "AddPartyAcknowledge", "AddPartyReject", "PartyAlerting",
                                      "DropParty", "DropPartyAcknowledge", "Release", "ReleaseComplete", "Status",
                                      "StatusEnquiry", "CallProceeding", "Alerting", "Connect",
                                      "ConnectAcknowledge", "Notify"]))
    args: tuple = (cref,)
    kw: dict = {"flag": flag}
    ies: dict = {}
    if name == "Setup":
        kw["called"] = data.draw(address)
        kw["endpoint_ref"] = data.draw(st.one_of(st.none(), epref))
        for k in ("aal", "traffic", "connection_id", "qos", "bearer"):
            ies[k] = data.draw(_ies(k))
        if data.draw(st.booleans()):
            kw["calling"] = data.draw(address)
    elif name == "AddParty":
        args += (data.draw(epref), data.draw(address))
        ies["aal"] = data.draw(_ies("aal"))
    elif name in ("AddPartyAcknowledge", "PartyAlerting", "DropPartyAcknowledge", "DropParty"):
        args += (data.draw(epref),)
        if name == "DropParty" or (name == "DropPartyAcknowledge" and data.draw(st.booleans())):
            args += (data.draw(cause),)
    elif name == "AddPartyReject":
        args += (data.draw(epref),)
        kw["cause"] = data.draw(cause)
    elif name in ("Release", "ReleaseComplete"):
        args += (data.draw(st.one_of(cause, st.lists(cause, min_size=1, max_size=2))),)
    elif name == "Status":
        args += (data.draw(uint(6)), data.draw(cause))
        kw["endpoint_ref"] = data.draw(st.one_of(st.none(), epref))
        kw["party_state"] = data.draw(st.one_of(st.none(), uint(6)))
    elif name in ("CallProceeding", "Alerting", "Connect"):
        kw["endpoint_ref"] = data.draw(st.one_of(st.none(), epref))
        ies["connection_id"] = data.draw(_ies("connection_id"))
    if data.draw(st.booleans()):
        kw["action"] = data.draw(uint(2))
    fast_kw = {**kw, **{k: _make(F, v) for k, v in ies.items() if v is not None}}
    scapy_kw = {**kw, **{k: _make(B, v) for k, v in ies.items() if v is not None}}
    fast = getattr(F, name)(*args, **fast_kw)
    assert fast.__class__ is FastMessage
    assert encode(fast) == bytes(getattr(B, name)(*args, **scapy_kw))
    # a scapy element given to the fast builder is taken as it is
    if ies.get("traffic") is not None:
        assert encode(getattr(F, name)(*args, **scapy_kw)) == encode(fast)


def test_fast_builders_check_values_as_the_scapy_builders_do() -> None:
    for bad in (lambda m: m.AddParty(1 << 23, 1, bytes(20)), lambda m: m.DropParty(1, 1 << 15, 16),
                lambda m: m.Release(1, 128), lambda m: m.Setup(1, called=b"\x39\x84"),
                lambda m: m.Release(1, [16, 16, 16]), lambda m: m.connection_identifier(1 << 16, 32)):
        for module in (B, F):
            with pytest.raises(UniEncodeError):
                bad(module)
    with pytest.raises(UniEncodeError):
        F.Setup(1, called=F.cause(16))                # an element where the called party number goes


@settings(max_examples=EXAMPLES)
@given(message_spec())
def test_accessors_read_the_same_values_from_either_codec(spec) -> None:
    from uni_strategies import fast_message, scapy_message

    octets = bytes(scapy_message(spec))
    assert encode(fast_message(spec)) == octets
    try:
        slow = decode_message(octets)
    except UniDecodeError as error:
        with pytest.raises(type(error)):
            decode(octets)
        return
    quick = decode(octets)
    for fn in (access.message_type, access.call_reference, access.endpoint_reference, access.cause,
               access.connection, access.called_address, access.multipoint, access.event_parameters):
        assert fn(quick) == fn(slow), fn.__name__
    # the receiver check: the fast answer is findings' answer, for decoded and built messages
    assert access.acceptable(quick) == access.acceptable(slow) == (not findings(slow)) == (not findings(quick))
    built = fast_message(spec)
    assert access.acceptable(built) == (not findings(built))
    # digest: the three readings of a received message in one walk, for either codec, built or decoded
    for message in (quick, slow, built):
        assert access.digest(message) == (*access.event_parameters(message), access.connection(message),
                                          access.acceptable(message))


def test_codecs_by_name() -> None:
    assert codec("fast") is FAST and codec("scapy") is SCAPY and codec(FAST) is FAST
    with pytest.raises(UniEncodeError):
        codec("ber")
    msg = F.DropPartyAcknowledge(7, 3, 16)
    assert SCAPY.decode(FAST.encode(msg)).message_type == 0x84
    cause_ie = SCAPY.ie(F.cause(16, 1))
    assert bytes(cause_ie) == bytes(B.cause(16, 1)) and SCAPY.copy(cause_ie) is not cause_ie
    assert bytes(FAST.ie(B.cause(16, 1))) == bytes(F.cause(16, 1)) and FAST.copy(F.cause(16)) == F.cause(16)
