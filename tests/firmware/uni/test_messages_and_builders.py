"""Messages: the header as Q.2931 4 lays it out, the dispatcher, and builders for every message type that
produce acceptable messages with the documented defaults."""

from __future__ import annotations

import pytest

import firmware.uni as uni
from firmware.uni import fastcodec as fast
from firmware.uni.builders import MESSAGE_BUILDERS
from firmware.uni.constants import CauseValue, IEId, MessageAction, MessageType, PartyState
from firmware.uni.contents import CONTENTS, check
from firmware.uni.errors import UniEncodeError
from firmware.uni.message import MESSAGE_CLASSES, Q2931

AESA = uni.aesa("47.0005.80ffe1000000f21a0001.0020481a0001.00")
E164 = "+4961519999"

#: One call of every builder, with the arguments a user would give.
EXAMPLES = {
    MessageType.ALERTING: lambda: uni.Alerting(9, connection_id=uni.connection_identifier(0, 40)),
    MessageType.CALL_PROCEEDING: lambda: uni.CallProceeding(9, connection_id=uni.connection_identifier(0, 40)),
    MessageType.SETUP: lambda: uni.Setup(9, called=AESA, calling=E164, aal=uni.aal5(),
                                         blli=[uni.low_layer_information(l2=0x0C),
                                               uni.low_layer_information(ipi=0x80, snap=(0, 0x800))],
                                         sending_complete=True),
    MessageType.CONNECT: lambda: uni.Connect(9, aal=uni.aal5(), endpoint_ref=0),
    MessageType.CONNECT_ACKNOWLEDGE: lambda: uni.ConnectAcknowledge(9),
    MessageType.RELEASE: lambda: uni.Release(9, [16, (31, 2)]),
    MessageType.RELEASE_COMPLETE: lambda: uni.ReleaseComplete(9, CauseValue.NORMAL_CALL_CLEARING),
    MessageType.STATUS: lambda: uni.Status(9, endpoint_ref=3, party_state=PartyState.ACTIVE),
    MessageType.STATUS_ENQUIRY: lambda: uni.StatusEnquiry(9, endpoint_ref=3),
    MessageType.NOTIFY: lambda: uni.Notify(9, b"\x81", endpoint_ref=3),
    MessageType.RESTART: lambda: uni.Restart(0, connection_id=uni.connection_identifier(0, 40)),
    MessageType.RESTART_ACKNOWLEDGE: lambda: uni.RestartAcknowledge(),
    MessageType.ADD_PARTY: lambda: uni.AddParty(9, 3, AESA, aal=uni.aal5(), blli=uni.low_layer_information(l2=0x0C)),
    MessageType.ADD_PARTY_ACKNOWLEDGE: lambda: uni.AddPartyAcknowledge(9, 3, aal=uni.aal5()),
    MessageType.ADD_PARTY_REJECT: lambda: uni.AddPartyReject(9, 3, cause=CauseValue.USER_BUSY),
    MessageType.PARTY_ALERTING: lambda: uni.PartyAlerting(9, 3),
    MessageType.DROP_PARTY: lambda: uni.DropParty(9, 3, cause=16),
    MessageType.DROP_PARTY_ACKNOWLEDGE: lambda: uni.DropPartyAcknowledge(9, 3),
    MessageType.LEAF_SETUP_FAILURE: lambda: uni.LeafSetupFailure(9, cause=3, leaf_sequence=5, called=AESA),
    MessageType.LEAF_SETUP_REQUEST: lambda: uni.LeafSetupRequest(9, calling=AESA, called=E164, lij_call_id=77,
                                                                 leaf_sequence=5),
}


def test_there_is_a_builder_and_a_class_for_every_message_type():
    assert set(MESSAGE_BUILDERS) == set(MESSAGE_CLASSES) == set(EXAMPLES) == {int(t) for t in MessageType}


@pytest.mark.parametrize("message_type", sorted(EXAMPLES), ids=[MessageType(t).name for t in sorted(EXAMPLES)])
def test_builders_make_acceptable_messages(message_type):
    msg = EXAMPLES[message_type]()
    raw = bytes(msg)
    decoded = uni.decode_message(raw)
    assert type(decoded) is MESSAGE_CLASSES[message_type] and decoded.message_type == message_type
    assert check(msg) is None and check(decoded) is None and check(fast.decode(raw)) is None
    # IEs come in the order of the standard's contents table
    order = [r.identifier for r in CONTENTS[message_type]]
    identifiers = [ie.identifier for ie in decoded.ies]
    assert identifiers == sorted(identifiers, key=order.index)


def test_header_octets():
    raw = bytes(uni.DropPartyAcknowledge(0x123456, 3, flag=1))
    assert raw[:9] == bytes.fromhex("09 03 92 34 56 84 80 00 07")  # flag bit 0x80 over the 23-bit value
    assert raw[9:] == bytes.fromhex("54 80 00 03 00 80 03")  # endpoint flag follows the call reference flag
    msg = uni.decode_message(raw)
    assert (msg.call_ref, msg.call_ref_flag, msg.length, msg.instruction) == (0x123456, 1, 7, 0x80)


def test_message_compatibility_instruction():
    msg = uni.DropParty(1, 2, action=MessageAction.DISCARD_AND_REPORT_STATUS)
    assert bytes(msg)[6] == 0x92 and uni.decode_message(bytes(msg)).instruction == 0x92


def test_default_flags_follow_the_usual_sender():
    assert uni.AddParty(1, 2, AESA).call_ref_flag == 0
    ack = uni.AddPartyAcknowledge(1, 2)
    assert ack.call_ref_flag == 1 and ack.ie(IEId.ENDPOINT_REFERENCE).ref_flag == 1
    assert uni.AddParty(1, 2, AESA, endpoint_flag=1).ie(IEId.ENDPOINT_REFERENCE).ref_flag == 1
    assert uni.Restart().call_ref == 0 and uni.RestartAcknowledge().call_ref_flag == 1


def test_setup_is_point_to_multipoint_by_default():
    msg = uni.Setup(1, called=AESA)
    assert msg.ie(uni.BroadbandBearerCapabilityIE).up_config == 1
    assert msg.ie(IEId.ENDPOINT_REFERENCE).ref_value == 0
    p2p = uni.Setup(1, called=AESA, endpoint_ref=None)
    assert p2p.ie(uni.BroadbandBearerCapabilityIE).up_config == 0 and p2p.ie(IEId.ENDPOINT_REFERENCE) is None


def test_dispatcher_picks_the_class_and_keeps_unknown_types():
    raw = bytes(uni.PartyAlerting(4, 1))
    assert type(Q2931(raw)) is uni.PartyAlertingMessage
    unknown = raw[:5] + b"\x77" + raw[6:]
    assert type(Q2931(unknown)) is Q2931 and bytes(Q2931(unknown)) == unknown


def test_builders_refuse_values_the_fields_cannot_carry():
    with pytest.raises(UniEncodeError):
        uni.AddParty(1 << 23, 1, AESA)
    with pytest.raises(UniEncodeError):
        uni.endpoint_reference(1 << 15)
    with pytest.raises(UniEncodeError):
        uni.cause(128)
    with pytest.raises(UniEncodeError):
        uni.called_party_number(b"\x01\x02")
    with pytest.raises(UniEncodeError):
        uni.Release(1, [16, 16, 16])
    with pytest.raises(UniEncodeError):
        uni.traffic_descriptor(forward_pcr=5)
    with pytest.raises(UniEncodeError):
        uni.low_layer_information(l2=0x0C, l2_extension=b"\x01")  # last extension octet must have ext 1


def test_fast_codec_refuses_values_the_fields_cannot_carry():
    with pytest.raises(UniEncodeError):
        fast.encode(fast.message(0x84, 1, [fast.endpoint_reference(1 << 15)]))
    with pytest.raises(UniEncodeError):
        fast.encode(fast.message(0x84, -1, []))
    with pytest.raises(UniEncodeError):
        fast.encode(fast.message(0x83, 1, [fast.cause(16, location=16)]))


def test_fast_helpers_match_the_builders():
    assert fast.encode(fast.message(0x83, 9, [fast.cause(16), fast.endpoint_reference(3)])) == bytes(
        uni.DropParty(9, 3, cause=16))
    assert fast.encode(fast.message(0x80, 9, [fast.called_party_number(AESA), fast.endpoint_reference(3)])) == bytes(
        uni.AddParty(9, 3, AESA))
    assert fast.encode(fast.message(0x7D, 9, [
        fast.make_ie(0x14, fast.fastie.CallState(10)), fast.cause(30), fast.endpoint_reference(3),
        fast.endpoint_state(10)])) == bytes(uni.Status(9, endpoint_ref=3, party_state=10))


def test_lengths_follow_changes_to_a_decoded_message():
    msg = uni.decode_message(bytes(uni.DropPartyAcknowledge(7, 3)))
    msg.ies[0].ref_value = 9
    msg.ies.append(uni.cause(CauseValue.NORMAL_CALL_CLEARING))
    again = uni.decode_message(bytes(msg))  # would raise if a length were stale
    assert again.ie(IEId.ENDPOINT_REFERENCE).ref_value == 9 and again.ie(IEId.CAUSE).cause_value == 16
    bearer = uni.decode_ie(bytes(uni.bearer_capability()))
    bearer.atc = 10  # adds octet 5a: the ext bit and the length follow
    assert uni.decode_ie(bytes(bearer)).atc == 10


def test_a_length_set_by_hand_is_kept():
    msg = uni.DropPartyAcknowledge(7, 3)
    msg.length = 3
    with pytest.raises(uni.MessageLengthError):
        uni.decode_message(bytes(msg))


@pytest.mark.parametrize("message_type", sorted(EXAMPLES), ids=[MessageType(t).name for t in sorted(EXAMPLES)])
def test_every_message_shows_and_summarises(message_type):
    decoded = uni.decode_message(bytes(EXAMPLES[message_type]()))
    text = decoded.show(dump=True)
    assert decoded.name in text and MessageType(message_type).name.replace("_", " ") in decoded.summary()


def test_instruct_sets_the_explicit_action_of_an_element():
    element = uni.instruct(uni.notification_indicator(b"\x81"), uni.IEAction.DISCARD_IE_AND_PROCEED)
    assert bytes(element)[1] == 0x91
    with pytest.raises(UniEncodeError):
        uni.transit_network_selection("Ünï")
