"""check() and findings(): the cause a receiver answers a message with, per Q.2931 5.6 and the message
contents tables; the same answer for scapy and fast-codec messages."""

from __future__ import annotations

import firmware.uni as uni
from firmware.uni import fastcodec as fast
from firmware.uni.constants import IEId, MessageType
from firmware.uni.contents import CONTENTS, check, findings, is_mandatory
from firmware.uni.errors import Disposition
from firmware.uni.ie import UnknownIE
from firmware.uni.message import Q2931

AESA = bytes(range(1, 21))


def both(msg):
    """The message as built and as each decoder sees its bytes."""
    raw = bytes(msg)
    return [msg, uni.decode_message(raw), fast.decode(raw)]


def test_every_message_has_a_contents_table_and_a_clause():
    assert set(CONTENTS) == {int(t) for t in MessageType}
    assert is_mandatory(MessageType.ADD_PARTY, IEId.ENDPOINT_REFERENCE)
    assert is_mandatory(MessageType.ADD_PARTY, IEId.CALLED_PARTY_NUMBER)
    assert not is_mandatory(MessageType.DROP_PARTY_ACKNOWLEDGE, IEId.CAUSE)
    assert is_mandatory(MessageType.DROP_PARTY, IEId.CAUSE)
    assert {r.identifier for r in CONTENTS[MessageType.SETUP] if r.mandatory} == {
        IEId.ATM_TRAFFIC_DESCRIPTOR, IEId.BROADBAND_BEARER_CAPABILITY, IEId.CALLED_PARTY_NUMBER, IEId.QOS_PARAMETER}


def test_a_correct_message_needs_no_answer():
    for msg in both(uni.AddParty(1, 2, AESA, aal=uni.aal5(), blli=uni.low_layer_information(l2=0x0C))):
        assert check(msg) is None and findings(msg) == []


def test_mandatory_element_missing_is_96_naming_it():
    msg = uni.AddPartyMessage(call_ref=1, ies=[uni.called_party_number(AESA)])
    for m in both(msg):
        found = findings(m)
        assert check(m) == 96
        assert (found[0].identifier, found[0].mandatory, found[0].disposition) == (
            IEId.ENDPOINT_REFERENCE, True, Disposition.REPORT)


def test_empty_mandatory_element_counts_as_missing():
    msg = uni.DropPartyMessage(call_ref=1, ies=[uni.cause(16), UnknownIE(identifier=0x54)])  # 54 80 00 00
    raw = bytes(msg)
    for m in (uni.decode_message(raw), fast.decode(raw)):
        assert check(m) == 96


def test_unrecognised_and_unexpected_elements_are_99():
    unknown = UnknownIE(identifier=0x7F, contents=b"\x01")
    for m in both(uni.DropPartyAcknowledge(1, 2, extra_ies=[unknown])):
        assert check(m) == 99 and findings(m)[0].clause == "Q.2931 5.6.8.1"
    # a called party number is a known element, but DROP PARTY ACKNOWLEDGE does not carry one (5.6.8.3)
    for m in both(uni.DropPartyAcknowledge(1, 2, extra_ies=[uni.called_party_number(AESA)])):
        assert check(m) == 99 and findings(m)[0].clause == "Q.2931 5.6.8.3"
        assert findings(m)[0].disposition == Disposition.PROCEED_AND_REPORT


def test_explicit_instruction_of_an_unrecognised_element_sets_the_disposition():
    unknown = UnknownIE(identifier=0x7F, flag=1, action=5, contents=b"")
    for m in both(uni.DropPartyAcknowledge(1, 2, extra_ies=[unknown])):
        assert findings(m)[0].disposition == Disposition.IGNORE


def test_invalid_contents_of_a_built_element_are_100():
    bad = uni.called_party_number(AESA)
    bad.address = b"\x01\x02"  # NSAP plan with a 2-octet address
    msg = uni.AddParty(1, 2, bad)
    assert check(msg) == 100
    assert findings(msg)[0].mandatory and findings(msg)[0].identifier == IEId.CALLED_PARTY_NUMBER


def test_unknown_message_type_is_97_and_wrong_length_104():
    msg = Q2931(message_type=0x77, ies=[uni.endpoint_reference(1)])
    assert check(msg) == 97
    msg = uni.DropPartyAcknowledge(1, 2)
    msg.length = 3
    assert check(msg) == 104


def test_message_level_findings_come_before_element_findings():
    msg = uni.AddPartyMessage(call_ref=1, ies=[UnknownIE(identifier=0x7F), uni.called_party_number(AESA)])
    assert [f.cause for f in findings(msg)] == [96, 99]
