"""Bad input: both message decoders (the strict scapy one and the fast codec) answer it with the error
Q.2931 5.6 / 5.7 prescribes, naming offset and field, with the cause a receiver would send and what it
does with the message."""

from __future__ import annotations

import pytest

import firmware.uni as uni
from firmware.uni import fastcodec as fast
from firmware.uni.constants import IEId
from firmware.uni.decode import decode_message
from firmware.uni.errors import (Disposition, IEContentError, MessageIgnored, MessageLengthError,
                                 UniDecodeError, UnknownMessageType)
from firmware.uni.ie import decode_ie

DECODERS = pytest.mark.parametrize("decode", [decode_message, fast.decode], ids=["scapy", "fast"])
AESA = bytes(range(0x39, 0x39 + 20))
ADD_PARTY = bytes(uni.AddParty(7, 3, AESA, aal=uni.aal5()))  # AAL (optional), called, epref (mandatory)
AAL_AT, CALLED_AT = 9, 9 + 11  # offsets of the AAL parameters and called party number IEs


def header(raw: bytes, **octets) -> bytes:
    out = bytearray(raw)
    for index, value in octets.items():
        out[int(index[1:])] = value
    return bytes(out)


def with_ies(message_type: int, ies: bytes, instruction: int = 0x80) -> bytes:
    return bytes([9, 3, 0, 0, 7, message_type, instruction]) + len(ies).to_bytes(2, "big") + ies


@DECODERS
@pytest.mark.parametrize("raw, offset, field, clause", [
    (b"", 0, "protocol_discriminator", "5.6.2"),
    (b"\x08\x03\x00\x00\x07\x80\x80\x00\x00", 0, "protocol_discriminator", "5.6.1"),
    (b"\x09\x03\x00\x00", 4, "call_ref", "5.6.2"),
    (b"\x09\x03\x00\x00\x07\x80\x80\x00", 8, "length", "5.6.2"),
    (b"\x09\x02\x00\x07\x80\x80\x00\x00\x00", 1, "call_ref_length", "5.6.3.1"),
    (b"\x09\x13\x00\x00\x07\x80\x80\x00\x00", 1, "call_ref_length", "5.6.3.1"),
])
def test_frames_to_ignore(decode, raw, offset, field, clause):
    with pytest.raises(MessageIgnored) as err:
        decode(raw)
    e = err.value
    assert (e.cause, e.disposition, e.offset, e.field) == (None, Disposition.IGNORE, offset, field)
    assert clause in e.clause


@DECODERS
@pytest.mark.parametrize("instruction, disposition", [
    (0x80, Disposition.REPORT),  # no explicit instruction: STATUS with cause 97 (5.6.4)
    (0x90, Disposition.CLEAR), (0x91, Disposition.IGNORE), (0x92, Disposition.REPORT),
    (0x93, Disposition.REPORT),  # reserved action: report (5.7.1)
    (0x81, Disposition.REPORT),  # action without the flag is not followed
])
def test_unknown_message_type(decode, instruction, disposition):
    with pytest.raises(UnknownMessageType) as err:
        decode(header(ADD_PARTY, o5=0x77, o6=instruction))
    assert (err.value.cause, err.value.disposition, err.value.offset, err.value.field) == (
        97, disposition, 5, "message_type")


@DECODERS
@pytest.mark.parametrize("raw", [ADD_PARTY + b"\x00", ADD_PARTY[:-1], header(ADD_PARTY, o8=0)])
def test_message_length_disagrees(decode, raw):
    with pytest.raises(MessageLengthError) as err:
        decode(raw)
    assert (err.value.cause, err.value.disposition, err.value.offset) == (104, Disposition.REPORT, 7)


@DECODERS
def test_element_running_past_the_message_is_reported(decode):
    raw = with_ies(0x84, bytes.fromhex("54800003008003" "0880"))  # a Cause header cut after two octets
    with pytest.raises(IEContentError) as err:
        decode(raw)
    e = err.value
    assert (e.cause, e.disposition, e.offset, e.field, e.identifier) == (100, Disposition.REPORT, len(raw),
                                                                          "length", 0x08)
    raw = with_ies(0x84, bytes.fromhex("54800009008003"))  # length 9, 3 octets follow
    with pytest.raises(IEContentError) as err:
        decode(raw)
    assert (err.value.offset, err.value.field) == (11, "length")


@DECODERS
def test_mandatory_element_with_bad_contents_discards_the_message(decode):
    raw = header(ADD_PARTY, **{f"o{CALLED_AT + 4}": 0x02})  # called party number octet 5 with ext 0
    with pytest.raises(IEContentError) as err:
        decode(raw)
    e = err.value
    assert (e.cause, e.disposition, e.offset, e.identifier, e.mandatory) == (
        100, Disposition.REPORT, CALLED_AT + 4, IEId.CALLED_PARTY_NUMBER, True)
    assert "5.6.7.2" in e.clause


@DECODERS
def test_optional_element_with_bad_contents_leaves_the_rest_usable(decode):
    raw = header(ADD_PARTY, **{f"o{AAL_AT + 5}": 0x8C, f"o{AAL_AT + 3}": 2})  # AAL contents cut to 2 octets
    raw = raw[:AAL_AT + 6] + raw[AAL_AT + 11:]
    raw = raw[:7] + (len(raw) - 9).to_bytes(2, "big") + raw[9:]
    with pytest.raises(IEContentError) as err:
        decode(raw)
    e = err.value
    assert (e.cause, e.disposition, e.identifier, e.mandatory) == (100, Disposition.PROCEED_AND_REPORT,
                                                                    IEId.AAL_PARAMETERS, False)
    assert e.offset == AAL_AT + 6  # where the forward CPCS-SDU size should have been
    # the message is there to proceed with: the faulty element kept, the rest decoded
    assert len(e.message.ies) == 3 and uni.check(e.message) == 100
    assert e.message.ies[2].fields.ref_value == 3 if decode is fast.decode else e.message.ies[2].ref_value == 3


@DECODERS
@pytest.mark.parametrize("action, disposition", [
    (0, Disposition.CLEAR), (1, Disposition.PROCEED), (2, Disposition.PROCEED_AND_REPORT),
    (5, Disposition.IGNORE), (6, Disposition.REPORT), (3, Disposition.PROCEED_AND_REPORT)])
def test_explicit_action_of_an_optional_element(decode, action, disposition):
    bad_aal = bytes([0x58, 0x90 | action, 0, 2, 5, 0x8C])  # flag set, contents end inside a subfield
    raw = with_ies(0x80, bad_aal + bytes(uni.called_party_number(AESA)) + bytes(uni.endpoint_reference(3)))
    with pytest.raises(IEContentError) as err:
        decode(raw)
    assert err.value.disposition == disposition
    assert "5.7.2" in err.value.clause


@DECODERS
def test_the_strongest_disposition_wins(decode):
    bad_optional = bytes.fromhex("5f800001" "20")  # BLLI layer 1 octet with ext 0
    bad_mandatory = bytes.fromhex("54800002" "0080")  # endpoint reference cut short
    raw = with_ies(0x80, bad_optional + bytes(uni.called_party_number(AESA)) + bad_mandatory)
    with pytest.raises(IEContentError) as err:
        decode(raw)
    e = err.value
    assert e.identifier == IEId.ENDPOINT_REFERENCE and e.disposition == Disposition.REPORT
    assert [p[3] for p in e.problems] == [IEId.BROADBAND_LOW_LAYER_INFORMATION, IEId.ENDPOINT_REFERENCE]


@DECODERS
def test_unknown_elements_are_no_decode_error(decode):
    raw = with_ies(0x84, bytes(uni.endpoint_reference(3)) + bytes.fromhex("7f80000201ff"))
    msg = decode(raw)
    assert len(msg.ies) == 2 and uni.check(msg) == 99


@pytest.mark.parametrize("decoder", [decode_ie, fast.decode_ie], ids=["scapy", "fast"])
@pytest.mark.parametrize("raw, offset, field", [
    ("", 0, "identifier"), ("08", 1, "instruction"), ("0880", 2, "length"), ("088000", 3, "length"),
    ("0880000380", 2, "length"),  # says 3 octets, 1 given
    ("08800001" "80", 5, "cause_value"),  # contents end before the cause value
    ("08800002" "0090", 4, "ext5"),  # octet 5 ext 0: Q.2931 defines no octet 5a
    ("54800004" "00800301", 7, "contents"),  # an octet beyond the endpoint reference layout
    ("70800004" "82010203", 5, "address"),  # NSAP plan with 3 octets of address
    ("5d80000a" "83" + "00" * 9, 2, "length"),  # BHLI longer than Q.2931's maximum
    ("5f800003" "4c0102", 6, "l2_extension"),  # BLLI layer 2 extension chain longer than 6a, 6b
    ("5f800007" "6b408080000000", 11, "snap_oui"),  # SNAP announced, its octets cut
    ("58800003" "058c23", 7, "subfields"),  # AAL subfield value cut
])
def test_element_decode_errors(decoder, raw, offset, field):
    with pytest.raises(IEContentError) as err:
        decoder(bytes.fromhex(raw))
    assert (err.value.cause, err.value.offset, err.value.field) == (100, offset, field)
    assert isinstance(err.value, UniDecodeError) and str(err.value)
