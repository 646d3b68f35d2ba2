"""The SAAL binding: an SSCOP SD PDU's information field is a Q.2931 message, and only SD's is."""

from __future__ import annotations

import pytest
from scapy.packet import Raw

from firmware.saal import decode_signalling, sd_octets
from firmware.sscop import fastcodec
from firmware.sscop.errors import SSCOPDecodeError
from firmware.sscop.layout import PDUType
from firmware.sscop.pdu import SD, SSCOP, UD, payload_octets
from firmware.uni.errors import MessageLengthError, UniDecodeError
from firmware.uni.ies.party import EndpointReferenceIE
from firmware.uni.message import Q2931
from firmware.uni.messages import AddPartyMessage, DropPartyAcknowledgeMessage

# ADD PARTY, call reference 0x00002A sent by the originator, with an endpoint reference IE (value 7):
# octets written from the Q.2931 4.1-4.5 / Q.2971 layout, not from the layers under test.
ADD_PARTY = bytes.fromhex("09 03 00 00 2a 80 80 00 07" "54 80 00 03 00 00 07".replace(" ", ""))


def test_sd_data_dissects_as_the_message_of_its_type():
    pdu = SSCOP(fastcodec.encode_sd(5, ADD_PARTY))
    assert isinstance(pdu, SD) and pdu.n_s == 5
    message = pdu[Q2931]
    assert isinstance(message, AddPartyMessage)
    assert message.call_ref == 0x2A and message.ie(EndpointReferenceIE).ref_value == 7


def test_building_sd_over_a_message():
    message = AddPartyMessage(call_ref=0x2A, ies=[EndpointReferenceIE(ref_value=7)])
    assert bytes(SD(n_s=5) / message) == fastcodec.encode_sd(5, ADD_PARTY) == sd_octets(message, 5)


@pytest.mark.parametrize("code", [PDUType.BGN, PDUType.UD, PDUType.MD, PDUType.END])
def test_only_sd_carries_q2931(code):
    pdu = SSCOP(fastcodec.encode(code, ADD_PARTY))
    assert not pdu.haslayer(Q2931) and isinstance(pdu.payload, Raw)


def test_decode_signalling_is_strict_on_both_layers():
    pdu, message = decode_signalling(sd_octets(ADD_PARTY, 9))
    assert pdu.n_s == 9 and isinstance(message, AddPartyMessage)
    pdu, message = decode_signalling(fastcodec.encode(PDUType.POLL, n_ps=1, n_s=2))
    assert message is None and pdu.n_ps == 1
    with pytest.raises(SSCOPDecodeError) as err:
        decode_signalling(ADD_PARTY + b"\x00")  # a bare message: no SSCOP trailer, not 32-bit aligned
    assert err.value.field == "length"
    short = ADD_PARTY[:-1]  # message length says 7 octets of IEs, 6 follow
    with pytest.raises(MessageLengthError) as err:
        decode_signalling(sd_octets(short, 1))
    assert isinstance(err.value, UniDecodeError) and err.value.cause == 104


def test_drop_party_acknowledge_round_trip():
    message = DropPartyAcknowledgeMessage(call_ref=0x12345, call_ref_flag=1, ies=[EndpointReferenceIE(ref_value=3)])
    pdu = SSCOP(bytes(SD(n_s=77) / message))
    assert isinstance(pdu[Q2931], DropPartyAcknowledgeMessage)
    assert (pdu[Q2931].call_ref, pdu[Q2931].call_ref_flag) == (0x12345, 1)
    assert bytes(pdu) == bytes(SD(n_s=77) / message)


def test_ud_over_signalling_is_not_decoded_as_a_message():
    assert isinstance(SSCOP(bytes(UD() / Raw(ADD_PARTY))).payload, Raw)


def test_octets_after_the_message_stay_before_the_trailer():
    """An SD whose data holds more than the message (the Q.2931 length says where it ends): the stray
    octets are scapy padding of the message layer, and rebuilding puts them back before the pad and
    trailer, not after."""
    octets = fastcodec.encode_sd(3, ADD_PARTY + b"\xde\xad")
    pdu = SSCOP(octets)
    assert isinstance(pdu[Q2931], AddPartyMessage)
    assert payload_octets(pdu) == ADD_PARTY + b"\xde\xad"
    assert bytes(pdu) == octets
