"""NDIS call parameters <-> Q.2931 information elements (cm.ndis.q2931).

Field level: each NDIS value lands in the octets Q.2931 gives it (hand-computed bytes, not the converter's
own output read back). Messages: the SETUP / ADD PARTY built pass the receiver's contents check and the fast
codec. Round trips, with hypothesis over random parameters: NDIS -> SETUP -> NDIS gives the same elements
and addresses, the derived media parameters follow the elements, and NDIS -> wire -> NDIS -> wire is byte
for byte. Errors: invalid parameters raise a FieldError naming the atm.h field."""

from __future__ import annotations

import copy
import json
import os
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.utils import wrpcap

from captures.linktypes import SunATM

from cm.ndis import params as P
from cm.ndis import q2931 as Q
from cm.ndis.params import (ATM_ADDRESS, ATM_FLOW_PARAMETERS, ATM_MEDIA_PARAMETERS, ATM_VPIVCI, FLOWSPEC, Q2931_IE,
                            SAP_FIELD_ABSENT, SAP_FIELD_ABSENT_UCHAR, SAP_FIELD_ABSENT_USHORT)
from cm.ndis.status import NDIS_STATUS
from firmware.uni import builders as B
from firmware.uni import check, fastcodec
from firmware.sscop.pdu import SD
from firmware.uni.constants import IEId, MessageType
from firmware.uni.errors import MessageIgnored, UnknownMessageType
from firmware.uni.ie import InformationElement
from hw.errors import FieldError

EXAMPLES = int(os.environ.get("ATMEMU_FUZZ_EXAMPLES", "300"))
T = P.Q2931_IE_TYPE
AESA = bytes.fromhex("39840f80113744000000000001000000000002" + "00")
AESA2 = bytes.fromhex("47000580ffe1000000f21a0000000000000001" + "00")


def ie(kind, payload) -> Q2931_IE:
    return Q2931_IE(kind, payload)


def params(*elements, called=AESA, calling=None, multipoint=True, media=None, transmit=None, receive=None):
    return P.make_call_parameters(ATM_ADDRESS.nsap(called) if isinstance(called, bytes) else called,
                                  calling, info_elements=list(elements), multipoint=multipoint, media=media,
                                  transmit=transmit, receive=receive)


def element(msg, identifier):
    """The octets of the first element ``identifier`` of ``msg`` (as the receiver dissects them)."""
    found = [bytes(e) for e in type(msg)(bytes(msg)).ies if bytes(e)[0] == identifier]
    return found[0] if found else None


def wire_ok(msg) -> bytes:
    """The message's octets, after checking them as a receiver would: contents check, fast codec."""
    data = bytes(msg)
    assert check(type(msg)(data)) is None
    fast = fastcodec.decode(data)
    assert fastcodec.encode(fast) == data
    return data


def cbr_media(tx=10_000, rx=5_000, vpi=0, vci=0, category=P.ATM_SERVICE_CATEGORY_CBR) -> ATM_MEDIA_PARAMETERS:
    return ATM_MEDIA_PARAMETERS(ATM_VPIVCI(vpi, vci), P.AAL_TYPE_AAL5,
                                Transmit=ATM_FLOW_PARAMETERS(category, PeakCellRate=tx),
                                Receive=ATM_FLOW_PARAMETERS(category, PeakCellRate=rx))


# ----------------------------------------------------------------------------------------------------------
# Field level: hand-computed octets


class TestSetupFields:
    def test_pcr_cells_per_second_land_in_pcr_clp01(self):
        msg = Q.setup(params(media=cbr_media(10_000, 5_000), multipoint=False), 7)
        # Q.2931 4.5.6: 0x84 forward PCR CLP0+1, 0x85 backward, 3-octet values in cells/s
        assert element(msg, 0x59) == bytes.fromhex("59800008" "84002710" "85001388")
        # Q.2931 4.5.7: BCOB-X (ext 0), octet 5a CBR | end-to-end timing = 0x05, octet 6 point-to-point
        assert element(msg, 0x5E) == bytes.fromhex("5E800003" "10" "85" "80")
        assert element(msg, 0x5C) == bytes.fromhex("5C800002" "0101")  # UNI 3.1 QoS class 1 for CBR
        assert element(msg, 0x54) is None  # a point-to-point SETUP has no endpoint reference
        wire_ok(msg)

    def test_multipoint_vc_makes_the_bearer_point_to_multipoint(self):
        msg = Q.setup(params(media=cbr_media(10_000, 0), multipoint=True), 7)
        assert element(msg, 0x5E)[-1] == 0x81  # octet 6: user-plane connection configuration 01
        assert element(msg, 0x54) == bytes.fromhex("54800003" "000000")  # endpoint reference 0: the first party
        assert element(msg, 0x59) == bytes.fromhex("59800008" "84002710" "85000000")
        wire_ok(msg)

    def test_vbr_carries_scr_and_mbs(self):
        media = ATM_MEDIA_PARAMETERS(Transmit=ATM_FLOW_PARAMETERS(P.ATM_SERVICE_CATEGORY_VBR, AverageCellRate=400,
                                                                  PeakCellRate=1000, BurstLengthCells=32))
        msg = Q.setup(params(media=media), 9)
        assert element(msg, 0x59) == bytes.fromhex("59800010" "840003E8" "85000000" "90000190" "B0000020")
        assert element(msg, 0x5E) == bytes.fromhex("5E800003" "10" "8A" "81")  # VBR, no end-to-end timing
        assert element(msg, 0x5C) == bytes.fromhex("5C800002" "0303")
        wire_ok(msg)

    def test_nsap_called_and_e164_calling(self):
        msg = Q.setup(params(called=AESA, calling=ATM_ADDRESS.e164("4711")), 1)
        # plan NSAP (0010), type unknown, the 20 octets of the AESA
        assert element(msg, 0x70) == bytes.fromhex("70800015" "82") + AESA
        # plan E.164 (0001), type international (001), IA5 digits
        assert element(msg, 0x6C) == bytes.fromhex("6C800005" "91") + b"4711"
        wire_ok(msg)

    def test_called_ie_overrides_called_address(self):
        p = params(ie(T.IE_CalledPartyNumber, ATM_ADDRESS.nsap(AESA2)))
        elements = Q.to_uni(p)
        assert bytes(elements.called)[5:] == AESA2
        assert any("overridden" in note for note in elements.not_carried)

    def test_calling_presentation_and_screening(self):
        calling = P.ATM_CALLING_PARTY_NUMBER_IE(ATM_ADDRESS.e164("12"), P.CALLING_NUMBER_PRESENTATION_RESTRICTED,
                                                P.CALLING_NUMBER_SCREENING_NW_PROVIDED)
        msg = Q.setup(params(ie(T.IE_CallingPartyNumber, calling)), 1)
        # octet 5 ext 0, octet 5a: ext 1 | presentation 01 | spare | screening 11
        assert element(msg, 0x6C) == bytes.fromhex("6C800004" "11" "A3") + b"12"
        wire_ok(msg)

    def test_best_effort_at_line_rate_when_nothing_is_given(self):
        msg = Q.setup(params(multipoint=False), 1)
        assert element(msg, 0x59) == bytes.fromhex("59800009" "840563B7" "850563B7" "BE")  # 353 207 cells/s
        assert element(msg, 0x5E) == bytes.fromhex("5E800003" "10" "80" "80")
        assert element(msg, 0x5C) == bytes.fromhex("5C800002" "0000")
        p2mp = Q.setup(params(multipoint=True), 1, endpoint_ref=0)
        assert element(p2mp, 0x59) == bytes.fromhex("59800009" "840563B7" "85000000" "BE")  # no traffic to the root
        other = Q.setup(params(multipoint=True), 1, line_rate=1_412_830)  # OC-12c
        assert element(other, 0x59)[4:8] == bytes.fromhex("84158EDE")

    def test_flowspec_bytes_become_cells_rounded_up(self):
        tx = FLOWSPEC(PeakBandwidth=1_000, ServiceType=P.SERVICETYPE_GUARANTEED)
        rx = FLOWSPEC(PeakBandwidth=96, ServiceType=P.SERVICETYPE_GUARANTEED)
        msg = Q.setup(params(multipoint=False, transmit=tx, receive=rx), 1)
        # 1000 octets/s need 21 cells of 48 octets (20 carry only 960); 96 octets/s exactly 2
        assert element(msg, 0x59) == bytes.fromhex("59800008" "84000015" "85000002")
        assert element(msg, 0x5E)[5] == 0x85  # guaranteed service -> CBR (RFC 2381)

    def test_explicit_traffic_descriptor(self):
        td = P.ATM_TRAFFIC_DESCRIPTOR_IE(P.ATM_TRAFFIC_DESCRIPTOR(PeakCellRateCLP0=100, PeakCellRateCLP01=200,
                                                                  Tagging=True),
                                         P.ATM_TRAFFIC_DESCRIPTOR(PeakCellRateCLP01=254, MaximumBurstSizeCLP01=65534),
                                         BestEffort=True)
        msg = Q.setup(params(ie(T.IE_TrafficDescriptor, td)), 1)
        # sorted subfields, then best effort, then traffic management options (forward tagging bit)
        # 254 and 65534 are cell rates, not atm.h's UCHAR/USHORT "absent" codings
        assert element(msg, 0x59) == bytes.fromhex("59800013" "82000064" "840000C8" "850000FE" "B100FFFE" "BE" "BF01")
        wire_ok(msg)

    def test_aal5_from_element_and_from_media(self):
        aal = P.AAL_PARAMETERS_IE(P.AAL_TYPE_AAL5, P.AAL5_PARAMETERS(9180, 9180, P.AAL5_MODE_MESSAGE, 0))
        msg = Q.setup(params(ie(T.IE_AALParameters, aal)), 1)
        assert element(msg, 0x58) == bytes.fromhex("5880000B" "05" "8C23DC" "8123DC" "8301" "8400")
        wire_ok(msg)
        media = ATM_MEDIA_PARAMETERS(Transmit=ATM_FLOW_PARAMETERS(PeakCellRate=1000, MaxSduSize=1516),
                                     Receive=ATM_FLOW_PARAMETERS(MaxSduSize=1516))
        msg = Q.setup(params(media=media), 1)
        assert element(msg, 0x58) == bytes.fromhex("58800007" "05" "8C05EC" "8105EC")  # Q.2931: no mode

    def test_aal1_and_aal34(self):
        aal1 = P.AAL_PARAMETERS_IE(P.AAL_TYPE_AAL1, P.AAL1_PARAMETERS(Subtype=2, CBRRate=1, Multiplier=3))
        media = ATM_MEDIA_PARAMETERS(AALType=P.AAL_TYPE_AAL1,
                                     Transmit=ATM_FLOW_PARAMETERS(P.ATM_SERVICE_CATEGORY_CBR, PeakCellRate=200))
        msg = Q.setup(params(ie(T.IE_AALParameters, aal1), media=media), 1)
        assert element(msg, 0x58) == bytes.fromhex("58800008" "01" "8502" "8601" "870003")
        aal34 = P.AAL_PARAMETERS_IE(P.AAL_TYPE_AAL34, P.AAL34_PARAMETERS(100, 200, 1, 1023, 0))
        msg = Q.setup(params(ie(T.IE_AALParameters, aal34)), 1)
        assert element(msg, 0x58) == bytes.fromhex("5880000E" "03" "8C0064" "8100C8" "82000103FF" "8400")

    def test_blli_codings(self):
        llc = P.ATM_BLLI_IE(Layer2Protocol=P.BLLI_L2_LLC)
        snap = P.ATM_BLLI_IE(Layer3Protocol=P.BLLI_L3_ISO_TR9577, Layer3IPI=P.BLLI_L3_IPI_SNAP,
                             SnapId=bytes.fromhex("0000000800"))
        ip = P.ATM_BLLI_IE(Layer3Protocol=P.BLLI_L3_ISO_TR9577, Layer3IPI=P.BLLI_L3_IPI_IP)
        x25 = P.ATM_BLLI_IE(Layer2Protocol=P.BLLI_L2_X25L, Layer2Mode=Q.BLLI_L2_MODE_NORMAL, Layer2WindowSize=7,
                            Layer3Protocol=P.BLLI_L3_X25, Layer3Mode=Q.BLLI_L3_MODE_EXT, Layer3DefaultPacketSize=7,
                            Layer3PacketWindowSize=2)
        user = P.ATM_BLLI_IE(Layer2Protocol=P.BLLI_L2_USER_SPECIFIED, Layer2UserSpecifiedProtocol=0x55)
        got = [bytes(Q.blli_ie(b)) for b in (llc, snap, ip, x25, user)]
        assert got[0] == bytes.fromhex("5F800001" "CC")  # RFC 1755: LLC encapsulation
        assert got[1] == bytes.fromhex("5F800009" "6B4080" "80" "000000" "0800")  # TR 9577, SNAP IPI, OUI 0, IPv4
        assert got[2] == bytes.fromhex("5F800003" "6B6680")  # TR 9577, IPI 0xCC (IP)
        assert got[3] == bytes.fromhex("5F800007" "462087" "66400782")  # modes, window, packet size
        assert got[4] == bytes.fromhex("5F800002" "50D5")
        msg = Q.setup(params(*(ie(T.IE_BLLI, b) for b in (llc, snap, x25))), 1)
        assert element(msg, 0x63) is not None  # three BLLIs: broadband repeat indicator (Q.2931 4.5.19)
        wire_ok(msg)

    def test_blli_fields_not_carried_are_named(self):
        """atm.h clients zero their BLLI (a mode of 0 with LLC): not sent, but said."""
        llc = P.ATM_BLLI_IE(Layer2Protocol=P.BLLI_L2_LLC, Layer2Mode=0, Layer2WindowSize=0,
                            Layer2UserSpecifiedProtocol=0)
        elements = Q.to_uni(params(ie(T.IE_BLLI, llc)))
        assert bytes(elements.blli[0]) == bytes.fromhex("5F800001CC")
        assert sum("Layer2Mode" in n or "Layer2WindowSize" in n for n in elements.not_carried) == 2

    def test_other_elements(self):
        bhli = P.ATM_BHLI_IE(P.BHLI_VendorSpecificAppId, HighLayerInfo=bytes.fromhex("00A03E00000001"))
        tns = P.ATM_TRANSIT_NETWORK_SELECTION_IE(P.TNS_TYPE_NATIONAL, P.TNS_PLAN_CARRIER_ID_CODE, NetworkId=b"0333")
        sub = ATM_ADDRESS(P.ATM_NSAP, 3, b"\x01\x02\x03")
        msg = Q.setup(params(ie(T.IE_BHLI, bhli), ie(T.IE_CalledPartySubaddress, sub),
                             ie(T.IE_TransitNetworkSelection, tns),
                             ie(T.IE_BroadbandSendingComplete, P.ATM_BROADBAND_SENDING_COMPLETE_IE()),
                             ie(T.IE_LIJCallId, P.ATM_LIJ_CALLID_IE(0x01020304))), 1)
        assert element(msg, 0x5D) == bytes.fromhex("5D800008" "83" "00A03E00000001")
        assert element(msg, 0x71) == bytes.fromhex("71800004" "80" "010203")
        assert element(msg, 0x78) == bytes.fromhex("78800005" "A1") + b"0333"  # national (010), carrier code (0001)
        assert element(msg, 0x62) == bytes.fromhex("62800001" "A1")
        assert element(msg, 0xE8) == bytes.fromhex("E8E00005" "80" "01020304")  # ATM Forum coding
        wire_ok(msg)

    def test_connection_identifier(self):
        msg = Q.setup(params(media=cbr_media(100, 0, vpi=1, vci=100)), 1)
        assert element(msg, 0x5A) == bytes.fromhex("5A800005" "88" "0001" "0064")  # explicit VPCI, exclusive
        wire_ok(msg)
        vc = Q.connection_id_from_ie(B.connection_identifier(3, 4242))
        assert vc == ATM_VPIVCI(3, 4242)

    def test_cause_element(self):
        cause = P.ATM_CAUSE_IE(P.ATM_CAUSE_LOC_PRIVATE_LOCAL, P.ATM_CAUSE_QOS_UNAVAILABLE, Diagnostics=b"\x5c")
        assert bytes(Q.cause_ie(cause)) == bytes.fromhex("08800003" "81" "B1" "5C")
        assert Q.atm_cause_from_ie(Q.cause_ie(cause)) == cause


class TestRaw:
    def test_raw_elements_are_sent_byte_for_byte(self):
        delay = bytes(B.transit_delay(cumulative=10, maximum=200))
        odd = bytes.fromhex("7EE0000301FF02")  # an identifier Q.2931 does not define, network coding
        msg = Q.setup(params(ie(T.IE_Raw, P.ATM_RAW_IE(0x42, delay)), ie(T.IE_Raw, P.ATM_RAW_IE(0x7E, odd))), 3)
        data = bytes(msg)
        assert data.endswith(delay + odd)
        # the unknown element is the client's choice: a receiver answers cause 99 (Q.2931 5.6.8.1)
        assert check(type(msg)(data)) == 99
        assert fastcodec.encode(fastcodec.decode(data)) == data

    def test_raw_replaces_what_would_be_derived(self):
        qos = bytes(B.qos_parameter(2, 2))
        msg = Q.setup(params(ie(T.IE_Raw, P.ATM_RAW_IE(0x5C, qos))), 1)
        assert [bytes(e) for e in msg.ies if bytes(e)[0] == 0x5C] == [qos]
        wire_ok(msg)

    def test_raw_and_typed_of_one_element_collide(self):
        qos = bytes(B.qos_parameter(2, 2))
        p = params(ie(T.IE_QOSClass, P.ATM_QOS_CLASS_IE(1, 1)), ie(T.IE_Raw, P.ATM_RAW_IE(0x5C, qos)))
        with pytest.raises(FieldError) as info:
            Q.to_uni(p)
        assert "IE_QOSClass" in info.value.field

    @pytest.mark.parametrize("raw,name", [
        (P.ATM_RAW_IE(0x27, b"\x80"), "RawIEValue"),  # contents only: not a whole element
        (P.ATM_RAW_IE(0x27, bytes.fromhex("28800001" "80")), "RawIEValue"),  # identifier disagrees with RawIEType
        (P.ATM_RAW_IE(0x27, bytes.fromhex("27800002" "80")), "RawIEValue"),  # length field disagrees
        (P.ATM_RAW_IE(0x127, bytes.fromhex("27800001" "80")), "RawIEType"),
    ])
    def test_malformed_raw(self, raw, name):
        with pytest.raises(FieldError) as info:
            Q.to_uni(params(ie(T.IE_Raw, raw)))
        assert info.value.field.endswith(f"(IE_Raw).{name}")


class TestAddParty:
    def test_add_party_carries_party_elements_only(self):
        aal = P.AAL_PARAMETERS_IE(P.AAL_TYPE_AAL5, P.AAL5_PARAMETERS(1516, 1516, SAP_FIELD_ABSENT_UCHAR))
        td = P.ATM_TRAFFIC_DESCRIPTOR_IE(P.ATM_TRAFFIC_DESCRIPTOR(PeakCellRateCLP01=10))
        p = params(ie(T.IE_AALParameters, aal), ie(T.IE_TrafficDescriptor, td),
                   ie(T.IE_BLLI, P.ATM_BLLI_IE(Layer2Protocol=P.BLLI_L2_LLC)), called=AESA2,
                   calling=ATM_ADDRESS.nsap(AESA), media=cbr_media())
        elements = Q.to_uni(p, message=MessageType.ADD_PARTY)
        msg = elements.add_party(7, 3)
        data = wire_ok(msg)
        assert data[5] == MessageType.ADD_PARTY
        assert {bytes(e)[0] for e in msg.ies} == {0x58, 0x5F, 0x70, 0x6C, 0x54}
        assert element(msg, 0x54) == bytes.fromhex("54800003" "000003")
        # the traffic descriptor is converted for the MCM's per-party policy, not sent (Q.2971 9.1.1)
        assert elements.traffic is not None and any("per-party" in n for n in elements.not_carried)
        assert any("ATM_MEDIA_PARAMETERS" in n for n in elements.not_carried)

    def test_one_blli_in_add_party(self):
        blli = ie(T.IE_BLLI, P.ATM_BLLI_IE(Layer2Protocol=P.BLLI_L2_LLC))
        with pytest.raises(FieldError, match="at most 1 BLLI"):
            Q.add_party(params(blli, blli), 7, 1)


# ----------------------------------------------------------------------------------------------------------
# Errors name the field


class TestErrors:
    def check(self, p, field, message=MessageType.SETUP):
        with pytest.raises(FieldError) as info:
            Q.to_uni(p, message=message)
        assert info.value.field == field, info.value
        assert isinstance(info.value, Q.CallParameterError)
        assert info.value.status == NDIS_STATUS.NOT_SUPPORTED  # WDK: invalid features in the call parameters
        return info.value

    def test_addresses(self):
        self.check(params(called=ATM_ADDRESS(P.ATM_NSAP, 19, AESA[:19])), "Q2931_CALLMGR_PARAMETERS.CalledParty."
                   "NumberOfDigits")
        self.check(params(called=ATM_ADDRESS.e164("1234567890123456")), "Q2931_CALLMGR_PARAMETERS.CalledParty.Address")
        self.check(params(called=ATM_ADDRESS()), "Q2931_CALLMGR_PARAMETERS.CalledParty")
        bad = ATM_ADDRESS.nsap(AESA)
        bad.AddressType = 7  # changed after construction: checked again when converted
        self.check(params(called=bad), "Q2931_CALLMGR_PARAMETERS.CalledParty.AddressType")
        sub = ie(T.IE_CallingPartySubaddress, ATM_ADDRESS.e164("1"))
        self.check(params(sub), "Q2931_CALLMGR_PARAMETERS.InfoElements[0](IE_CallingPartySubaddress).AddressType")

    def test_traffic(self):
        td = P.ATM_TRAFFIC_DESCRIPTOR_IE(P.ATM_TRAFFIC_DESCRIPTOR(PeakCellRateCLP01=1 << 24))
        self.check(params(ie(T.IE_TrafficDescriptor, td)),
                   "Q2931_CALLMGR_PARAMETERS.InfoElements[0](IE_TrafficDescriptor).ForwardTD.PeakCellRateCLP01")
        td = P.ATM_TRAFFIC_DESCRIPTOR_IE(P.ATM_TRAFFIC_DESCRIPTOR(PeakCellRateCLP0=10))
        self.check(params(ie(T.IE_TrafficDescriptor, td)),
                   "Q2931_CALLMGR_PARAMETERS.InfoElements[0](IE_TrafficDescriptor).ForwardTD.PeakCellRateCLP01")
        td = P.ATM_TRAFFIC_DESCRIPTOR_IE(P.ATM_TRAFFIC_DESCRIPTOR(PeakCellRateCLP01=10))
        td.BackwardTD.SustainableCellRateCLP0 = -5  # mutated after construction
        self.check(params(ie(T.IE_TrafficDescriptor, td)),
                   "Q2931_CALLMGR_PARAMETERS.InfoElements[0](IE_TrafficDescriptor).BackwardTD.SustainableCellRateCLP0")
        self.check(params(media=cbr_media(1 << 24)), "ATM_MEDIA_PARAMETERS.Transmit.PeakCellRate")
        td = P.ATM_TRAFFIC_DESCRIPTOR_IE(P.ATM_TRAFFIC_DESCRIPTOR(PeakCellRateCLP01=500))
        # the adapter shapes at the media rate: it must be the rate signalled
        self.check(params(ie(T.IE_TrafficDescriptor, td), media=cbr_media(400)), "ATM_MEDIA_PARAMETERS.Transmit."
                   "PeakCellRate")
        abr = cbr_media(category=P.ATM_SERVICE_CATEGORY_ABR)
        self.check(params(media=abr), "ATM_MEDIA_PARAMETERS.Transmit.ServiceCategory")
        vbr = ATM_MEDIA_PARAMETERS(Transmit=ATM_FLOW_PARAMETERS(P.ATM_SERVICE_CATEGORY_VBR, PeakCellRate=10))
        self.check(params(media=vbr), "ATM_MEDIA_PARAMETERS.Transmit.AverageCellRate")
        mixed = cbr_media()
        mixed.Receive.ServiceCategory = P.ATM_SERVICE_CATEGORY_UBR
        self.check(params(media=mixed), "ATM_MEDIA_PARAMETERS.Receive.ServiceCategory")
        guaranteed = FLOWSPEC(ServiceType=P.SERVICETYPE_GUARANTEED)
        self.check(params(transmit=guaranteed), "CO_CALL_MANAGER_PARAMETERS.Transmit.PeakBandwidth")
        odd = FLOWSPEC(PeakBandwidth=100, ServiceType=P.SERVICETYPE_QUALITATIVE)
        self.check(params(transmit=odd), "CO_CALL_MANAGER_PARAMETERS.Transmit.ServiceType")

    def test_bearer_and_aal(self):
        p2p = P.ATM_BROADBAND_BEARER_CAPABILITY_IE(UserPlaneConnectionConfig=P.UP_P2P)
        self.check(params(ie(T.IE_BroadbandBearerCapability, p2p), multipoint=True),
                   "Q2931_CALLMGR_PARAMETERS.InfoElements[0](IE_BroadbandBearerCapability).UserPlaneConnectionConfig")
        half = P.ATM_BROADBAND_BEARER_CAPABILITY_IE(TrafficType=P.TT_CBR, TimingRequirements=SAP_FIELD_ABSENT_UCHAR)
        self.check(params(ie(T.IE_BroadbandBearerCapability, half)),
                   "Q2931_CALLMGR_PARAMETERS.InfoElements[0](IE_BroadbandBearerCapability).TimingRequirements")
        big = P.AAL_PARAMETERS_IE(P.AAL_TYPE_AAL5, P.AAL5_PARAMETERS(70_000, 1))
        self.check(params(ie(T.IE_AALParameters, big)), "Q2931_CALLMGR_PARAMETERS.InfoElements[0](IE_AALParameters)."
                   "AALSpecificParameters.ForwardMaxCPCSSDUSize")
        aal0 = P.AAL_PARAMETERS_IE(P.AAL_TYPE_AAL5, P.AAL5_PARAMETERS())
        aal0.AALType = P.AAL_TYPE_AAL0
        self.check(params(ie(T.IE_AALParameters, aal0)), "Q2931_CALLMGR_PARAMETERS.InfoElements[0](IE_AALParameters)"
                   ".AALType")
        aal = P.AAL_PARAMETERS_IE(P.AAL_TYPE_AAL5, P.AAL5_PARAMETERS(1000, 1000))
        self.check(params(ie(T.IE_AALParameters, aal), media=_with_aal(cbr_media(), P.AAL_TYPE_AAL34)),
                   "ATM_MEDIA_PARAMETERS.AALType")
        sized = cbr_media()
        sized.Transmit.MaxSduSize = 9180
        self.check(params(ie(T.IE_AALParameters, aal), media=sized), "ATM_MEDIA_PARAMETERS.Transmit.MaxSduSize")
        sized = ATM_MEDIA_PARAMETERS(Transmit=ATM_FLOW_PARAMETERS(PeakCellRate=10, MaxSduSize=70_000))
        self.check(params(media=sized), "ATM_MEDIA_PARAMETERS.Transmit.MaxSduSize")

    def test_blli(self):
        where = "Q2931_CALLMGR_PARAMETERS.InfoElements[0](IE_BLLI)"
        cases = [
            (P.ATM_BLLI_IE(Layer2Protocol=P.BLLI_L2_X25L, Layer2Mode=0x20), "Layer2Mode"),
            (P.ATM_BLLI_IE(Layer2Protocol=P.BLLI_L2_X25L, Layer2WindowSize=3), "Layer2WindowSize"),
            (P.ATM_BLLI_IE(Layer2Protocol=P.BLLI_L2_X25L, Layer2Mode=0x40, Layer2WindowSize=0), "Layer2WindowSize"),
            (P.ATM_BLLI_IE(Layer2Protocol=0x20), "Layer2Protocol"),
            (P.ATM_BLLI_IE(Layer3Protocol=P.BLLI_L3_X25, Layer3Mode=0x40, Layer3DefaultPacketSize=13),
             "Layer3DefaultPacketSize"),
            (P.ATM_BLLI_IE(Layer3Protocol=P.BLLI_L3_X25, Layer3Mode=0x40, Layer3PacketWindowSize=2),
             "Layer3PacketWindowSize"),
            (P.ATM_BLLI_IE(Layer3Protocol=P.BLLI_L3_ISO_TR9577), "Layer3IPI"),
            (P.ATM_BLLI_IE(Layer3Protocol=P.BLLI_L3_ISO_TR9577, Layer3IPI=P.BLLI_L3_IPI_SNAP, SnapId=b"\x00"),
             "SnapId"),
            (P.ATM_BLLI_IE(Layer3Protocol=P.BLLI_L3_USER_SPECIFIED, Layer3UserSpecifiedProtocol=0x80),
             "Layer3UserSpecifiedProtocol"),
        ]
        for blli, name in cases:
            self.check(params(ie(T.IE_BLLI, blli)), f"{where}.{name}")
        four = [ie(T.IE_BLLI, P.ATM_BLLI_IE(Layer2Protocol=P.BLLI_L2_LLC))] * 4
        self.check(params(*four), "Q2931_CALLMGR_PARAMETERS.InfoElements[3](IE_BLLI)")

    def test_structure(self):
        qos = ie(T.IE_QOSClass, P.ATM_QOS_CLASS_IE())
        error = self.check(params(qos, qos), "Q2931_CALLMGR_PARAMETERS.InfoElements[1].IEType")
        assert "InfoElements[0]" in str(error)
        self.check(params(ie(T.IE_Cause, P.ATM_CAUSE_IE())), "Q2931_CALLMGR_PARAMETERS.InfoElements[0](IE_Cause)")
        broken = ie(T.IE_QOSClass, P.ATM_QOS_CLASS_IE())
        broken.IE = P.ATM_CAUSE_IE()  # mutated after construction
        self.check(params(broken), "Q2931_CALLMGR_PARAMETERS.InfoElements[0].IE")
        self.check(_mutated_qos(), "Q2931_CALLMGR_PARAMETERS.InfoElements[0](IE_QOSClass).QOSClassForward")
        with pytest.raises(FieldError):
            Q.to_uni(object())
        with pytest.raises(FieldError):
            Q.to_uni(params(), message=MessageType.CONNECT)
        bare = P.CO_CALL_PARAMETERS(0, None, None)
        self.check(bare, "CO_CALL_PARAMETERS.CallMgrParameters.CallMgrSpecific")

    def test_flowspec_errors_name_flowspec_fields(self):
        vbr = FLOWSPEC(PeakBandwidth=48_000, ServiceType=P.SERVICETYPE_CONTROLLEDLOAD)
        self.check(params(transmit=vbr), "CO_CALL_MANAGER_PARAMETERS.Transmit.TokenRate")
        vbr.TokenRate = 4_800
        self.check(params(transmit=vbr), "CO_CALL_MANAGER_PARAMETERS.Transmit.TokenBucketSize")
        vbr.TokenBucketSize = 4_800
        msg = Q.setup(params(transmit=vbr), 1)
        assert element(msg, 0x59) == bytes.fromhex("59800010" "840003E8" "85000000" "90000064" "B0000064")
        huge = FLOWSPEC(PeakBandwidth=0xFFFFFFF0, ServiceType=P.SERVICETYPE_GUARANTEED)
        self.check(params(transmit=huge), "CO_CALL_MANAGER_PARAMETERS.Transmit.PeakBandwidth")
        silent = FLOWSPEC(ServiceType=P.SERVICETYPE_NOTRAFFIC)
        self.check(params(transmit=silent, receive=silent), "CO_CALL_MANAGER_PARAMETERS.Transmit.ServiceType")
        # a receive-only best effort call: nothing forward, the line rate backward
        msg = Q.setup(params(transmit=silent, multipoint=False), 1)
        assert element(msg, 0x59) == bytes.fromhex("59800009" "84000000" "850563B7" "BE")

    def test_errors_say_the_rule(self):
        error = self.check(params(called=ATM_ADDRESS(P.ATM_NSAP, 19, AESA[:19])),
                           "Q2931_CALLMGR_PARAMETERS.CalledParty.NumberOfDigits")
        assert "Q.2931 4.5.11" in str(error) and error.clause.startswith("Q.2931 4.5.11")

    def test_parameters_are_left_alone(self):
        p = params(ie(T.IE_BLLI, P.ATM_BLLI_IE(Layer2Protocol=P.BLLI_L2_LLC)), media=cbr_media(), multipoint=False)
        before = copy.deepcopy(p)
        Q.setup(p, 1)
        Q.add_party(p, 1, 2)
        assert p == before

    def test_answer_buffers_are_skipped(self):
        """atm.h IE_Cause_Empty / IE_*_Response are buffers for the answer, not requests."""
        p = params(ie(T.IE_Cause_Empty, P.ATM_CAUSE_IE()), ie(T.IE_BLLI_Response, P.ATM_BLLI_IE()))
        assert bytes(Q.setup(p, 1)) == bytes(Q.setup(params(), 1))


def _with_aal(media, aal_type):
    media.AALType = aal_type
    return media


def _mutated_qos():
    qos = P.ATM_QOS_CLASS_IE()
    qos.QOSClassForward = 256
    return params(ie(T.IE_QOSClass, qos))


# ----------------------------------------------------------------------------------------------------------
# Received messages -> NDIS


class TestFromUni:
    def incoming_setup(self, **kw):
        """A SETUP built by the firmware builders, as the network sends it to the called user."""
        base = dict(called=AESA, calling=AESA2, traffic=B.traffic_descriptor(forward_pcr_01=1000, backward_pcr_01=0,
                                                                              best_effort=True),
                    aal=B.aal5(1500, 1500), blli=B.low_layer_information(l2=0x0C),
                    connection_id=B.connection_identifier(0, 77))
        base.update(kw)
        return B.Setup(5, flag=1, **base)

    def test_incoming_setup_is_seen_from_the_called_side(self):
        p = Q.from_uni(self.incoming_setup())
        q, media = p.q2931, p.atm_media
        assert q.CalledParty == ATM_ADDRESS.nsap(AESA) and q.CallingParty == ATM_ADDRESS.nsap(AESA2)
        assert p.Flags & P.MULTIPOINT_VC  # Setup builds a point-to-multipoint bearer by default
        assert media.ConnectionId == ATM_VPIVCI(0, 77)
        # the caller's forward direction is what the called user receives
        assert media.Receive.PeakCellRate == 1000 and media.Transmit.PeakCellRate == 0
        assert media.Receive.MaxSduSize == 1500 and media.AALType == P.AAL_TYPE_AAL5
        assert media.Receive.ServiceCategory == P.ATM_SERVICE_CATEGORY_UBR
        assert p.MediaParameters.Flags == P.RECEIVE_VC
        cm = p.CallMgrParameters
        assert cm.Receive.PeakBandwidth == 48_000 and cm.Receive.ServiceType == P.SERVICETYPE_BESTEFFORT
        assert cm.Transmit.ServiceType == P.SERVICETYPE_NOTRAFFIC
        assert q.find(T.IE_BLLI) == P.ATM_BLLI_IE(Layer2Protocol=P.BLLI_L2_LLC)
        assert q.find(T.IE_AALParameters).AALSpecificParameters.ForwardMaxCPCSSDUSize == 1500
        calling = Q.from_uni(self.incoming_setup(), side=Q.Side.CALLING).atm_media
        assert calling.Transmit.PeakCellRate == 1000 and calling.Receive.PeakCellRate == 0

    def test_fast_codec_and_bytes_give_the_same(self):
        msg = self.incoming_setup()
        data = bytes(msg)
        assert Q.from_uni(fastcodec.decode(data)) == Q.from_uni(data) == Q.from_uni(msg)

    def test_what_atm_h_cannot_hold_stays_raw(self):
        l1 = B.low_layer_information(l1=5, l2=0x0C)  # atm.h's BLLI has no layer 1
        user_aal = B.aal_parameters(0x10, tail=b"\x01\x02\x03\x04")
        odd = InformationElement(bytes.fromhex("7EE0000301FF02"))
        delay = B.transit_delay(cumulative=12)
        msg = self.incoming_setup(blli=l1, aal=user_aal, extra_ies=[odd], e2e_delay=delay)
        p = Q.from_uni(msg)
        raws = [e.IE.RawIEValue for e in p.q2931.InfoElements if e.IEType == T.IE_Raw]
        assert set(raws) == {bytes(l1), bytes(user_aal), bytes(odd), bytes(delay)}
        assert p.q2931.find(T.IE_BLLI) is None and p.q2931.find(T.IE_AALParameters) is None
        # and they go out again exactly as they came
        out = bytes(Q.setup(p, 5))
        for raw in raws:
            assert raw in out

    def test_called_number_atm_h_cannot_hold(self):
        private = B.called_party_number("12345", plan=9)
        with pytest.raises(Q.CallParameterError) as info:
            Q.from_uni(self.incoming_setup(called=private))
        assert info.value.cause == 28 and info.value.identifier == IEId.CALLED_PARTY_NUMBER

    def test_unrepresentable_calling_number_stays_raw(self):
        calling = B.calling_party_number("12345", plan=9)
        p = Q.from_uni(self.incoming_setup(calling=calling))
        assert p.q2931.CallingParty.NumberOfDigits == 0
        assert p.q2931.find(T.IE_Raw).RawIEValue == bytes(calling)

    def test_bad_input(self):
        with pytest.raises(MessageIgnored):
            Q.from_uni(b"\x08\x03\x00\x00\x05\x05\x80\x00\x00")  # not protocol discriminator 0x09
        with pytest.raises(MessageIgnored):
            Q.from_uni(b"\x09\x03")
        with pytest.raises(UnknownMessageType):
            Q.from_uni(bytes.fromhex("090300000577800000"))
        with pytest.raises(FieldError):
            Q.from_uni(object())

    def test_malformed_elements_stay_raw(self):
        """An element whose contents do not fit its layout (here a bearer capability with an octet too many)
        is kept as received, not half-converted."""
        bad = InformationElement(bytes.fromhex("5E800004" "10808000"))
        p = Q.from_uni(self.incoming_setup(bearer=bad))
        assert p.q2931.find(T.IE_BroadbandBearerCapability) is None
        assert p.q2931.find(T.IE_Raw).RawIEValue == bytes(bad)

    def test_cause_of_a_release(self):
        p = Q.from_uni(B.Release(5, cause=(27, 1, b"\x01")))
        assert p.q2931.find(T.IE_Cause) == P.ATM_CAUSE_IE(1, 27, 1, b"\x01")


class TestAnswers:
    def request(self, *elements, media=None):
        bllis = [ie(T.IE_BLLI, P.ATM_BLLI_IE(Layer2Protocol=P.BLLI_L2_LLC)),
                 ie(T.IE_BLLI, P.ATM_BLLI_IE(Layer3Protocol=P.BLLI_L3_ISO_TR9577, Layer3IPI=P.BLLI_L3_IPI_IP))]
        aal = ie(T.IE_AALParameters, P.AAL_PARAMETERS_IE(P.AAL_TYPE_AAL5, P.AAL5_PARAMETERS(9180, 9180)))
        return params(aal, *bllis, *elements, media=media or cbr_media(1000, 1000), multipoint=False)

    def test_connect_with_nothing_new_changes_nothing(self):
        req = self.request()
        out = Q.from_uni(B.Connect(5), requested=req)
        assert out == req and not out.Flags & P.CALL_PARAMETERS_CHANGED
        assert out is not req and out.q2931 is not req.q2931  # the request itself is left alone

    def test_assigned_connection_identifier_is_not_a_change(self):
        req = self.request()
        out = Q.from_uni(B.Connect(5, connection_id=B.connection_identifier(0, 99)), requested=req)
        assert out.atm_media.ConnectionId == ATM_VPIVCI(0, 99)
        assert not out.Flags & P.CALL_PARAMETERS_CHANGED
        req = self.request(media=cbr_media(1000, 1000, vci=42))  # the client asked for VCI 42
        out = Q.from_uni(B.Connect(5, connection_id=B.connection_identifier(0, 99)), requested=req)
        assert out.Flags & P.CALL_PARAMETERS_CHANGED and out.atm_media.ConnectionId.Vci == 99

    def test_the_chosen_blli_and_a_smaller_aal_are_changes(self):
        req = self.request()
        connect = B.Connect(5, blli=B.low_layer_information(l2=0x0C), aal=B.aal5(1500, 1400, mode=1))
        out = Q.from_uni(connect, requested=req)
        assert out.Flags & P.CALL_PARAMETERS_CHANGED
        assert [e.IE for e in out.q2931.InfoElements if e.IEType == T.IE_BLLI] == \
            [P.ATM_BLLI_IE(Layer2Protocol=P.BLLI_L2_LLC)]
        media = out.atm_media
        assert (media.Transmit.MaxSduSize, media.Receive.MaxSduSize) == (1500, 1400)
        assert media.Transmit.PeakCellRate == 1000  # untouched: CONNECT carries no traffic descriptor

    def test_add_party_acknowledge(self):
        req = params(ie(T.IE_AALParameters, P.AAL_PARAMETERS_IE(P.AAL_TYPE_AAL5, P.AAL5_PARAMETERS(9180, 9180))))
        same = Q.from_uni(B.AddPartyAcknowledge(5, 3, aal=B.aal5(9180, 9180, mode=1)), requested=req)
        assert not same.Flags & P.CALL_PARAMETERS_CHANGED
        other = Q.from_uni(B.AddPartyAcknowledge(5, 3, aal=B.aal5(4000, 9180, mode=1)), requested=req)
        assert other.Flags & P.CALL_PARAMETERS_CHANGED

    def test_request_without_media_gets_the_assigned_vc(self):
        req = params(multipoint=False)
        req.MediaParameters = None  # Windows' ATMARP client sends none
        out = Q.from_uni(B.Connect(5, connection_id=B.connection_identifier(0, 64)), requested=req)
        assert out.atm_media.ConnectionId == ATM_VPIVCI(0, 64)


# ----------------------------------------------------------------------------------------------------------
# Round trips over random parameters

u8 = st.integers(0, 0xFF)
u24 = st.integers(0, (1 << 24) - 1)
absent_or = lambda values, absent: st.one_of(st.just(absent), values)  # noqa: E731
addresses = st.one_of(st.binary(min_size=20, max_size=20).map(ATM_ADDRESS.nsap),
                      st.text("0123456789", min_size=1, max_size=15).map(ATM_ADDRESS.e164))


@st.composite
def traffic(draw):
    def one(forward: bool):
        rates = {name: draw(absent_or(u24, SAP_FIELD_ABSENT)) for name, *_ in Q.TRAFFIC_FIELDS}
        if forward:
            rates["PeakCellRateCLP01"] = draw(u24)
        return P.ATM_TRAFFIC_DESCRIPTOR(**rates, Tagging=draw(st.booleans()))
    return P.ATM_TRAFFIC_DESCRIPTOR_IE(one(True), one(False), draw(st.booleans()))


@st.composite
def bearers(draw, multipoint: bool):
    octet5a = draw(st.one_of(st.just((SAP_FIELD_ABSENT_UCHAR, SAP_FIELD_ABSENT_UCHAR)),
                             st.tuples(st.sampled_from([P.TT_NOIND, P.TT_CBR, P.TT_VBR]),
                                       st.sampled_from([P.TR_NOIND, P.TR_END_TO_END, P.TR_NO_END_TO_END]))))
    return P.ATM_BROADBAND_BEARER_CAPABILITY_IE(draw(st.sampled_from([P.BCOB_A, P.BCOB_C, P.BCOB_X])), *octet5a,
                                                draw(st.sampled_from([P.CLIP_NOT, P.CLIP_SUS])),
                                                P.UP_P2MP if multipoint else P.UP_P2P)


u8_present = st.integers(0, 0xFF).filter(lambda v: v != SAP_FIELD_ABSENT_UCHAR)
aals = st.one_of(
    st.builds(lambda f, b, mode, sscs: P.AAL_PARAMETERS_IE(P.AAL_TYPE_AAL5, P.AAL5_PARAMETERS(f, b, mode, sscs)),
              st.integers(0, 0xFFFF), st.integers(0, 0xFFFF),
              st.sampled_from([P.AAL5_MODE_MESSAGE, P.AAL5_MODE_STREAMING, SAP_FIELD_ABSENT_UCHAR]),
              st.sampled_from([SAP_FIELD_ABSENT_UCHAR, 0, 1, 2, 4])),
    st.builds(lambda f, b, mid, sscs: P.AAL_PARAMETERS_IE(P.AAL_TYPE_AAL34, P.AAL34_PARAMETERS(f, b, *mid, sscs)),
              st.integers(0, 0xFFFF), st.integers(0, 0xFFFF),
              st.one_of(st.just((SAP_FIELD_ABSENT_USHORT, SAP_FIELD_ABSENT_USHORT)),
                        st.tuples(st.integers(0, 0xFFFD), st.integers(0, 0xFFFD))),
              absent_or(u8_present, SAP_FIELD_ABSENT_UCHAR)),
    st.builds(lambda sub, rate, mult, a, b, sdt, c: P.AAL_PARAMETERS_IE(P.AAL_TYPE_AAL1, P.AAL1_PARAMETERS(
        sub, rate, mult, a, b, sdt, c)), u8, u8, st.integers(0, 0xFFFF), absent_or(u8_present, SAP_FIELD_ABSENT_UCHAR),
              absent_or(u8_present, SAP_FIELD_ABSENT_UCHAR), st.integers(0, 0xFFFF),
              absent_or(u8_present, SAP_FIELD_ABSENT_UCHAR)),
)

absent8 = SAP_FIELD_ABSENT_UCHAR


@st.composite
def bllis(draw):
    kw = {}
    layer2 = draw(st.sampled_from(["none", "mode", "user", "plain"]))
    if layer2 == "mode":
        kw["Layer2Protocol"] = draw(st.sampled_from(sorted(Q.L2_PROTOCOLS_WITH_MODE)))
        mode = draw(st.sampled_from([absent8, 0x40, 0x80]))
        kw["Layer2Mode"] = mode
        kw["Layer2WindowSize"] = absent8 if mode == absent8 else draw(absent_or(st.integers(1, 127), absent8))
    elif layer2 == "user":
        kw["Layer2Protocol"] = P.BLLI_L2_USER_SPECIFIED
        kw["Layer2UserSpecifiedProtocol"] = draw(absent_or(st.integers(0, 127), SAP_FIELD_ABSENT))
    elif layer2 == "plain":
        kw["Layer2Protocol"] = draw(st.sampled_from([P.BLLI_L2_ISO_1745, P.BLLI_L2_Q921, P.BLLI_L2_ELAPB,
                                                     P.BLLI_L2_LLC, P.BLLI_L2_X75]))
    layer3 = draw(st.sampled_from(["none", "mode", "tr9577", "user", "plain"] if layer2 != "none"
                                  else ["mode", "tr9577", "user", "plain"]))
    if layer3 == "mode":
        kw["Layer3Protocol"] = draw(st.sampled_from(sorted(Q.L3_PROTOCOLS_WITH_MODE)))
        mode = draw(st.sampled_from([absent8, 0x40, 0x80]))
        size = absent8 if mode == absent8 else draw(absent_or(st.integers(4, 12), absent8))
        window = absent8 if size == absent8 else draw(absent_or(st.integers(1, 127), absent8))
        kw.update(Layer3Mode=mode, Layer3DefaultPacketSize=size, Layer3PacketWindowSize=window)
    elif layer3 == "tr9577":
        kw["Layer3Protocol"] = P.BLLI_L3_ISO_TR9577
        kw["Layer3IPI"] = ipi = draw(st.sampled_from([P.BLLI_L3_IPI_SNAP, P.BLLI_L3_IPI_IP]) | u8)
        if ipi == P.BLLI_L3_IPI_SNAP:
            kw["SnapId"] = draw(st.binary(min_size=5, max_size=5))
    elif layer3 == "user":
        kw["Layer3Protocol"] = P.BLLI_L3_USER_SPECIFIED
        kw["Layer3UserSpecifiedProtocol"] = draw(absent_or(st.integers(0, 127), SAP_FIELD_ABSENT))
    elif layer3 == "plain":
        kw["Layer3Protocol"] = draw(st.sampled_from([P.BLLI_L3_SIO_8473, P.BLLI_L3_T70]))
    return P.ATM_BLLI_IE(**kw)


subaddresses = st.binary(min_size=1, max_size=20).map(lambda b: ATM_ADDRESS(P.ATM_NSAP, len(b), b))
raws = st.sampled_from([bytes(B.transit_delay(cumulative=7, maximum=300)),
                        bytes(B.notification_indicator(b"\x80\x01"))]).map(lambda b: P.ATM_RAW_IE(b[0], b))


@st.composite
def call_parameters(draw, message=MessageType.SETUP):
    """Random parameters in the form from_uni gives (every element explicit, in Q2931_IE_TYPE order, the
    carried fields only), without media or flow specs: those are derived."""
    setup = message == MessageType.SETUP
    multipoint = draw(st.booleans()) if setup else False
    calling = draw(st.none() | addresses)
    chosen: list[Q2931_IE] = []

    def maybe(kind, strategy):
        if draw(st.booleans()):
            chosen.append(ie(kind, draw(strategy)))

    maybe(T.IE_AALParameters, aals)
    if setup:
        chosen.append(ie(T.IE_TrafficDescriptor, draw(traffic())))
        chosen.append(ie(T.IE_BroadbandBearerCapability, draw(bearers(multipoint))))
    maybe(T.IE_BHLI, st.builds(lambda t, info: P.ATM_BHLI_IE(t, len(info), info), st.integers(0, 3),
                               st.binary(max_size=8)))
    for blli in draw(st.lists(bllis(), max_size=3 if setup else 1)):
        chosen.append(ie(T.IE_BLLI, blli))
    maybe(T.IE_CalledPartySubaddress, subaddresses)
    if calling is not None and draw(st.booleans()):
        chosen.append(ie(T.IE_CallingPartyNumber, P.ATM_CALLING_PARTY_NUMBER_IE(
            calling, draw(st.integers(0, 3)), draw(st.integers(0, 3)))))
    maybe(T.IE_CallingPartySubaddress, subaddresses)
    if setup:
        chosen.append(ie(T.IE_QOSClass, P.ATM_QOS_CLASS_IE(draw(u8), draw(u8))))
    maybe(T.IE_TransitNetworkSelection, st.builds(
        lambda kind, plan, nid: P.ATM_TRANSIT_NETWORK_SELECTION_IE(kind, plan, len(nid), nid),
        st.sampled_from([0x00, 0x40, 0x60]), st.integers(0, 15), st.binary(min_size=1, max_size=4)))
    maybe(T.IE_BroadbandSendingComplete, st.just(P.ATM_BROADBAND_SENDING_COMPLETE_IE()))
    if setup:
        maybe(T.IE_LIJCallId, st.builds(P.ATM_LIJ_CALLID_IE, st.integers(0, 2**32 - 1)))
    for raw in draw(st.lists(raws, max_size=2, unique_by=lambda r: r.RawIEType)):
        chosen.append(ie(T.IE_Raw, raw))
    return params(*chosen, called=draw(addresses), calling=calling, multipoint=multipoint)


def _flow(td: P.ATM_TRAFFIC_DESCRIPTOR) -> int:
    for value in (td.PeakCellRateCLP01, td.PeakCellRateCLP0):
        if value != SAP_FIELD_ABSENT:
            return value
    return 0


@pytest.mark.fuzz
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=call_parameters(), call_ref=st.integers(0, (1 << 23) - 1))
def test_setup_round_trip(p, call_ref):
    msg = Q.setup(p, call_ref)
    data = wire_ok(msg)  # contents check passes, fast codec agrees
    back = Q.from_uni(data, side=Q.Side.CALLING)
    # the elements and addresses come back exactly
    assert back.q2931 == p.q2931
    assert back.Flags == p.Flags & P.MULTIPOINT_VC
    # the media parameters follow the elements
    td = p.q2931.find(T.IE_TrafficDescriptor)
    media = back.atm_media
    assert media.Transmit.PeakCellRate == td.ForwardTD.PeakCellRateCLP01
    assert media.Receive.PeakCellRate == _flow(td.BackwardTD)
    aal = p.q2931.find(T.IE_AALParameters)
    if aal is not None:
        assert media.AALType == aal.AALType
        if aal.AALType != P.AAL_TYPE_AAL1:
            assert media.Transmit.MaxSduSize == aal.AALSpecificParameters.ForwardMaxCPCSSDUSize
    # and what from_uni gives is a fixed point, byte for byte on the wire
    assert Q.from_uni(Q.setup(back, call_ref), side=Q.Side.CALLING) == back
    assert bytes(Q.setup(back, call_ref)) == data
    # the called side sees the same call from the other end
    called = Q.from_uni(data)
    assert called.atm_media.Receive == media.Transmit and called.atm_media.Transmit == media.Receive


@pytest.mark.fuzz
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(p=call_parameters(MessageType.ADD_PARTY), call_ref=st.integers(0, (1 << 23) - 1),
       endpoint=st.integers(0, (1 << 15) - 1))
def test_add_party_round_trip(p, call_ref, endpoint):
    msg = Q.add_party(p, call_ref, endpoint)
    data = wire_ok(msg)
    back = Q.from_uni(data, side=Q.Side.CALLING)
    assert back.q2931 == p.q2931
    assert bytes(Q.add_party(back, call_ref, endpoint)) == data


@pytest.mark.fuzz
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(direction=st.sampled_from(["ForwardTD", "BackwardTD"]), name=st.sampled_from([f[0] for f in Q.TRAFFIC_FIELDS]),
       value=st.one_of(st.integers(1 << 24, (1 << 32) - 1).filter(lambda v: v != SAP_FIELD_ABSENT),
                       st.integers(max_value=-1), st.just("10"), st.just(None)))
def test_invalid_rates_name_their_field(direction, name, value):
    """Any rate the 3-octet subfield cannot carry, set after construction (atm.h structures are plain C
    memory: a driver can write anything), raises naming exactly that field."""
    td = P.ATM_TRAFFIC_DESCRIPTOR_IE(P.ATM_TRAFFIC_DESCRIPTOR(PeakCellRateCLP01=1000))
    setattr(getattr(td, direction), name, value)
    with pytest.raises(FieldError) as info:
        Q.to_uni(params(ie(T.IE_AALParameters, P.AAL_PARAMETERS_IE()), ie(T.IE_TrafficDescriptor, td)))
    assert info.value.field == f"Q2931_CALLMGR_PARAMETERS.InfoElements[1](IE_TrafficDescriptor).{direction}.{name}"


@pytest.mark.fuzz
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tx=u24, rx=u24, category=st.sampled_from([P.ATM_SERVICE_CATEGORY_CBR, P.ATM_SERVICE_CATEGORY_UBR]),
       multipoint=st.booleans(), vci=st.integers(0, 0xFFFF), sdu=st.integers(0, 0xFFFF))
def test_media_parameters_round_trip(tx, rx, category, multipoint, vci, sdu):
    """Parameters given as media flows only (cells/s): they come back as the derived media parameters."""
    media = cbr_media(tx, rx, vci=vci, category=category)
    media.Transmit.MaxSduSize = media.Receive.MaxSduSize = sdu
    p = params(media=media, multipoint=multipoint)
    if not tx and not rx:  # zeroed flows are flows not given: best effort at the line rate
        assert element(Q.setup(p, 1), 0x59)[4:8] == bytes.fromhex("840563B7")
        return
    data = wire_ok(Q.setup(p, 1))
    got = Q.from_uni(data, side=Q.Side.CALLING).atm_media
    assert (got.Transmit.PeakCellRate, got.Receive.PeakCellRate) == (tx, rx)
    assert got.Transmit.ServiceCategory == got.Receive.ServiceCategory == category
    assert got.ConnectionId == media.ConnectionId
    assert (got.Transmit.MaxSduSize, got.Receive.MaxSduSize) == ((sdu, sdu) if sdu else (0, 0))


# ----------------------------------------------------------------------------------------------------------
# The independent decoder

#: tshark 4.0 reads the AAL parameters and traffic descriptor loops one octet past the element
#: (reference: "Known tshark 4.0 quirks"): these two expert items and nothing else.
TSHARK_QUIRKS = {"Unknown AAL parameter", "Unknown ATM traffic descriptor element"}


@pytest.mark.tshark
def test_tshark_reads_the_setup(tshark, tmp_path):
    media = ATM_MEDIA_PARAMETERS(Transmit=ATM_FLOW_PARAMETERS(P.ATM_SERVICE_CATEGORY_CBR, PeakCellRate=10_000,
                                                              MaxSduSize=9180),
                                 Receive=ATM_FLOW_PARAMETERS(P.ATM_SERVICE_CATEGORY_CBR, MaxSduSize=9180))
    p = params(ie(T.IE_BLLI, P.ATM_BLLI_IE(Layer2Protocol=P.BLLI_L2_LLC)), called=AESA,
               calling=ATM_ADDRESS.e164("4711"), media=media, multipoint=True)
    path = tmp_path / "setup.pcap"
    wrpcap(str(path), [SunATM(dir=1) / SD(n_s=0) / Q.setup(p, 7)])
    fields = ["q2931.message_type", "q2931.atm_identifier", "q2931.atm_identifier_value",
              "q2931.user_plane_connection_configuration", "q2931.atm_transfer_capability", "q2931.number.plan",
              "q2931.number.type", "q2931.number.string", "q2931.bband_low_layer_info.user_info_l2_proto",
              "q2931.aal_type", "q2931.aal1.forward_max_cpcs_sdu_size", "q2931.qos_class_forward",
              "q2931.endpoint_reference.identifier_value", "_ws.malformed", "_ws.expert.message"]
    args = [tshark, "-r", str(path), "-T", "json"]
    for name in fields:
        args += ["-e", name]
    run = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    frame = json.loads(run.stdout)[0]["_source"]["layers"]
    ints = {k: [int(v, 0) for v in vs] for k, vs in frame.items()
            if k.startswith("q2931.") and k != "q2931.number.string"}
    assert ints["q2931.message_type"] == [MessageType.SETUP]
    assert ints["q2931.atm_identifier"][:2] == [0x84, 0x85]  # (the third is the quirk reading past the element)
    assert ints["q2931.atm_identifier_value"] == [10_000, 0]
    assert ints["q2931.user_plane_connection_configuration"] == [1]
    assert ints["q2931.atm_transfer_capability"] == [0x05]
    assert ints["q2931.number.plan"] == [2, 1] and ints["q2931.number.type"] == [0, 1]
    assert frame["q2931.number.string"] == ["4711"]
    assert ints["q2931.bband_low_layer_info.user_info_l2_proto"] == [P.BLLI_L2_LLC]
    assert ints["q2931.aal_type"] == [5] and ints["q2931.aal1.forward_max_cpcs_sdu_size"] == [9180]
    assert ints["q2931.qos_class_forward"] == [1]
    assert ints["q2931.endpoint_reference.identifier_value"] == [0]
    assert "_ws.malformed" not in frame
    assert set(frame.get("_ws.expert.message", [])) <= TSHARK_QUIRKS
