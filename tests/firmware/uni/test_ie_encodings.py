"""Information elements against octets worked out by hand from Q.2931 4.5, Q.2971 and UNI 4.0: the
builders must produce them, and both decoders must read back the same values."""

from __future__ import annotations

import pytest

import firmware.uni as uni
from firmware.uni import fastcodec as fast
from firmware.uni.constants import (IPI_SNAP, BearerClass, CallState, CauseLocation, CauseValue, Layer2Protocol,
                                    NumberingPlan, PartyState, Presentation, Screening)
from firmware.uni.ie import UnknownIE, decode_ie

AESA = bytes.fromhex("39840f80113744000000000001000000000002" + "00")

VECTORS = [
    # (builder result, expected octets, a field to read back (name, value))
    (uni.cause(CauseValue.NORMAL_CALL_CLEARING), "08800002" "8090", ("cause_value", 16)),
    (uni.cause(96, CauseLocation.PRIVATE_NETWORK_LOCAL_USER, uni.ie_diagnostics(0x70)), "08800003" "81e070",
     ("diagnostics", b"\x70")),
    (uni.endpoint_reference(5, flag=1), "54800003" "008005", ("ref_flag", 1)),
    (uni.endpoint_reference(0x1234), "54800003" "001234", ("ref_value", 0x1234)),
    (uni.endpoint_state(PartyState.ACTIVE), "55800001" "0a", ("party_state", 10)),
    (uni.call_state(CallState.ACTIVE), "14800001" "0a", ("call_state", 10)),
    (uni.aal5(), "58800007" "058c23e48123e4", ("subfields", ((0x8C, 9188), (0x81, 9188)))),
    (uni.best_effort(), "59800009" "840563b7" "850563b7" "be",
     ("subfields", ((0x84, 353207), (0x85, 353207), (0xBE, None)))),
    (uni.bearer_capability(point_to_multipoint=True), "5e800002" "9081", ("up_config", 1)),
    (uni.bearer_capability(BearerClass.BCOB_X, atc=0x0A, point_to_multipoint=True), "5e800003" "108a81", ("atc", 0x0A)),
    (uni.qos_parameter(), "5c800002" "0000", ("qos_forward", 0)),
    (uni.connection_identifier(0, 32), "5a800005" "88" "0000" "0020", ("vci", 32)),
    (uni.low_layer_information(l2=Layer2Protocol.ISO_8802_2_LLC), "5f800001" "cc", ("l2_protocol", 0x0C)),
    (uni.low_layer_information(ipi=IPI_SNAP, snap=(0x000000, 0x0800)), "5f800009" "6b4080" "80" "000000" "0800",
     ("snap_pid", 0x0800)),
    (uni.called_party_number(AESA), "70800015" "82" + AESA.hex(), ("numbering_plan", NumberingPlan.NSAP)),
    (uni.called_party_number("+12345"), "70800006" "91" "3132333435", ("address", b"12345")),
    (uni.calling_party_number(AESA, presentation=Presentation.RESTRICTED, screening=Screening.NETWORK_PROVIDED),
     "6c800016" "02" "a3" + AESA.hex(), ("presentation", 1)),
    (uni.sending_complete(), "62800001" "a1", ("indication", 0x21)),
    (uni.restart_indicator(), "79800001" "82", ("restart_class", 2)),
    (uni.called_party_subaddress(b"\x47\x00"), "71800003" "80" "4700", ("subaddress", b"\x47\x00")),
    (uni.calling_party_subaddress(b"\x01", subaddress_type=1), "6d800002" "90" "01", ("subaddress_type", 1)),
    (uni.high_layer_information(3, b"\x00\xa0\x3e"), "5d800004" "83" "00a03e", ("hli_type", 3)),
    (uni.transit_network_selection("0288"), "78800005" "a1" "30323838", ("network_id", b"0288")),
    (uni.repeat_indicator(), "63800001" "82", ("repeat_indication", 2)),
    (uni.transit_delay(cumulative=10, maximum=100), "42800006" "01000a" "030064", ("subfields", ((1, 10), (3, 100)))),
    (uni.notification_indicator(b"\x81"), "27800001" "81", ("description", b"\x81")),
    (uni.lij_call_identifier(1), "e8e00005" "80" "00000001", ("lij_id_value", 1)),
    (uni.lij_parameters(), "e9e00001" "80", ("screening", 0)),
    (uni.leaf_sequence_number(7), "eae00004" "00000007", ("sequence_number", 7)),
]


@pytest.mark.parametrize("element, octets, field", VECTORS, ids=[v[0].name for v in VECTORS])
def test_builder_octets_and_both_decoders(element, octets, field):
    raw = bytes.fromhex(octets)
    assert bytes(element) == raw
    name, value = field
    dissected = decode_ie(raw)
    assert type(dissected) is type(element)
    assert dissected.content_fields()[name] == value
    decoded = fast.decode_ie(raw)
    assert getattr(decoded.fields, name) == value
    assert bytes(decoded) == raw == bytes(dissected)


def test_party_number_accessors():
    assert decode_ie(bytes(uni.called_party_number(AESA))).aesa == AESA
    e164 = decode_ie(bytes(uni.called_party_number("4961519999")))
    assert e164.e164 == "4961519999" and e164.aesa is None
    assert decode_ie(bytes(uni.low_layer_information(ipi=0xCC))).ipi == 0xCC


def test_aesa_text_forms():
    dotted = "39.840f.80.113744.0000.0000.0001.0000.0000.0002.00"
    assert uni.aesa(dotted) == AESA == uni.aesa(AESA.hex()) == uni.aesa(AESA)
    with pytest.raises(uni.UniEncodeError):
        uni.aesa("39.840f")


def test_unknown_element_is_kept_whole():
    raw = bytes.fromhex("7f9300050102030405")  # an identifier Q.2931 leaves unassigned here, action 3, flag set
    element = decode_ie(raw)
    assert isinstance(element, UnknownIE)
    assert (element.identifier, element.flag, element.action, element.contents) == (0x7F, 1, 3, bytes(range(1, 6)))
    assert bytes(element) == raw


def test_known_identifier_under_a_foreign_coding_is_unrecognised():
    raw = bytes.fromhex("54c00003008005")  # endpoint reference, coding standard 2 (national)
    assert isinstance(decode_ie(raw), UnknownIE)
    assert fast.decode_ie(raw).fields is None and not fast.decode_ie(raw).recognised
    # the ATM Forum coding of a Cause is understood
    assert decode_ie(bytes.fromhex("08e000028090")).cause_value == 16


def test_aal_parameters_keep_unknown_subfields_in_tail():
    raw = bytes.fromhex("58800009" "058c23e4" "99" "0102" "8123")  # 0x99 is no AAL subfield identifier
    element = decode_ie(raw)
    assert element.subfields == [(0x8C, 9188)] and element.tail == bytes.fromhex("9901028123")
    assert bytes(element) == raw
    assert fast.decode_ie(raw).fields.tail == element.tail


def test_empty_element_decodes_and_counts_as_absent():
    raw = bytes.fromhex("08800000")
    assert decode_ie(raw).length == 0 and fast.decode_ie(raw).fields is None
