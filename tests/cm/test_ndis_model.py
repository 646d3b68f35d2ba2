"""The NDIS model's building blocks: status values and severity, call-parameter structures, the IRQL
model, handles and out parameters."""

from __future__ import annotations

import pytest

from cm.ndis import irql
from cm.ndis.errors import IrqlError
from cm.ndis.handles import NdisHandle, Out
from cm.ndis.irql import (CPU, DIRQL, DISPATCH_LEVEL, IRQL_REQUIREMENTS, NDIS_SPIN_LOCK, PASSIVE_LEVEL,
                          KeGetCurrentIrql, KeLowerIrql, KeRaiseIrql, NdisAcquireSpinLock, NdisDprAcquireSpinLock,
                          NdisDprReleaseSpinLock, NdisReleaseSpinLock, at_irql)
from cm.ndis import params as P
from cm.ndis.status import (NDIS_H_CAUSE_COMMENTS, NDIS_STATUS, NT_ERROR, NT_INFORMATION, NT_SUCCESS, NT_WARNING,
                            as_status, severity, status_name)
from hw.errors import AtmemuError, FieldError

# reference/condis-mcm.md, "NDIS_STATUS values" (and ndis.h)
REFERENCE_STATUS = {
    "SUCCESS": 0x00000000, "PENDING": 0x00000103, "NOT_ACCEPTED": 0x00010003, "CALL_ACTIVE": 0x00010007,
    "FAILURE": 0xC0000001, "INVALID_PARAMETER": 0xC000000D, "RESOURCES": 0xC000009A, "NOT_SUPPORTED": 0xC00000BB,
    "INVALID_STATE": 0xC0000184, "CLOSING": 0xC0010002, "REQUEST_ABORTED": 0xC001000C,
    "INVALID_LENGTH": 0xC0010014, "INVALID_DATA": 0xC0010015, "INVALID_SAP": 0xC0010020, "SAP_IN_USE": 0xC0010021,
    "INVALID_ADDRESS": 0xC0010022, "VC_NOT_ACTIVATED": 0xC0010023, "DEST_OUT_OF_ORDER": 0xC0010024,
    "VC_NOT_AVAILABLE": 0xC0010025, "CELLRATE_NOT_AVAILABLE": 0xC0010026, "INCOMPATABLE_QOS": 0xC0010027,
    "AAL_PARAMS_UNSUPPORTED": 0xC0010028, "NO_ROUTE_TO_DESTINATION": 0xC0010029,
}


class TestStatus:
    @pytest.mark.parametrize("name,value", sorted(REFERENCE_STATUS.items()))
    def test_reference_values(self, name, value):
        assert NDIS_STATUS[name] == value
        assert status_name(value) == "NDIS_STATUS_" + name

    def test_severity(self):
        assert severity(NDIS_STATUS.SUCCESS) == 0 and NT_SUCCESS(NDIS_STATUS.SUCCESS)
        # the two CO statuses the reference singles out have success severity
        assert NT_SUCCESS(NDIS_STATUS.NOT_ACCEPTED) and NT_SUCCESS(NDIS_STATUS.CALL_ACTIVE)
        # PENDING too: callers compare with PENDING before looking at the severity
        assert NT_SUCCESS(NDIS_STATUS.PENDING)
        for s in (NDIS_STATUS.FAILURE, NDIS_STATUS.RESOURCES, NDIS_STATUS.NO_ROUTE_TO_DESTINATION):
            assert NT_ERROR(s) and not NT_SUCCESS(s) and severity(s) == 3
        assert NT_INFORMATION(0x40000000) and NT_WARNING(0x80000005)

    def test_as_status(self):
        assert as_status(0xC0010024) is NDIS_STATUS.DEST_OUT_OF_ORDER
        assert as_status(0xC00A0001) == 0xC00A0001  # a CM-chosen status outside the enum is kept
        assert status_name(0xC00A0001) == "0xC00A0001"
        for bad in (-1, 1 << 32, "0", True, None, 1.0):
            with pytest.raises(FieldError):
                as_status(bad)

    def test_cause_comments(self):
        assert NDIS_H_CAUSE_COMMENTS[3] is NDIS_STATUS.NO_ROUTE_TO_DESTINATION
        assert NDIS_H_CAUSE_COMMENTS[49] is NDIS_STATUS.INCOMPATABLE_QOS


class TestParams:
    def test_flags(self):
        assert (P.PERMANENT_VC, P.CALL_PARAMETERS_CHANGED, P.QUERY_CALL_PARAMETERS, P.BROADCAST_VC,
                P.MULTIPOINT_VC) == (0x1, 0x2, 0x4, 0x8, 0x10)
        assert (P.TRANSMIT_VC, P.RECEIVE_VC) == (0x4, 0x8)
        assert (P.ATM_SERVICE_CATEGORY_CBR, P.ATM_SERVICE_CATEGORY_VBR, P.ATM_SERVICE_CATEGORY_UBR,
                P.ATM_SERVICE_CATEGORY_ABR) == (1, 2, 4, 8)
        assert (P.ATM_NSAP, P.ATM_E164) == (0, 1)
        assert P.CO_ADDRESS_FAMILY_Q2931 == 1

    def test_ie_types_0_to_14(self):
        names = ["IE_AALParameters", "IE_TrafficDescriptor", "IE_BroadbandBearerCapability", "IE_BHLI", "IE_BLLI",
                 "IE_CalledPartyNumber", "IE_CalledPartySubaddress", "IE_CallingPartyNumber",
                 "IE_CallingPartySubaddress", "IE_Cause", "IE_QOSClass", "IE_TransitNetworkSelection",
                 "IE_BroadbandSendingComplete", "IE_LIJCallId", "IE_Raw"]
        assert [P.Q2931_IE_TYPE[n].value for n in names] == list(range(15))
        # every request type has a payload structure and a Q.2931 identifier entry
        assert set(P.IE_PAYLOAD_TYPES) == set(range(15)) == set(P.Q2931_IE_IDENTIFIERS)
        assert P.Q2931_IE_TYPE.IE_Cause_Response == 9 | P.ATM_IE_RESPONSE_FLAG
        assert P.base_ie_type(P.Q2931_IE_TYPE.IE_Cause_Empty) == P.Q2931_IE_TYPE.IE_Cause

    def test_ie_payload_must_match_type(self):
        ie = P.Q2931_IE(P.Q2931_IE_TYPE.IE_QOSClass, P.ATM_QOS_CLASS_IE(P.QOS_CLASS1, P.QOS_CLASS1))
        assert ie.IEType is P.Q2931_IE_TYPE.IE_QOSClass
        with pytest.raises(FieldError, match="Q2931_IE.IE"):
            P.Q2931_IE(P.Q2931_IE_TYPE.IE_QOSClass, P.ATM_CAUSE_IE())
        with pytest.raises(FieldError, match="IEType"):
            P.Q2931_IE(99, P.ATM_CAUSE_IE())
        with pytest.raises(FieldError, match="IEType"):
            P.Q2931_IE(P.Q2931_IE_TYPE.IE_NextRequest, P.ATM_CAUSE_IE())
        # response types carry their base type's structure
        P.Q2931_IE(P.Q2931_IE_TYPE.IE_Cause_Response, P.ATM_CAUSE_IE(Cause=P.ATM_CAUSE_USER_BUSY))

    def test_field_ranges_are_checked(self):
        with pytest.raises(FieldError, match=r"ATM_QOS_CLASS_IE\.QOSClassForward"):
            P.ATM_QOS_CLASS_IE(QOSClassForward=256)
        with pytest.raises(FieldError, match=r"ATM_VPIVCI\.Vci"):
            P.ATM_VPIVCI(0, -1)
        with pytest.raises(FieldError, match="ServiceCategory"):
            P.ATM_FLOW_PARAMETERS(ServiceCategory=3)
        with pytest.raises(FieldError, match="AALSpecificParameters"):
            P.AAL_PARAMETERS_IE(P.AAL_TYPE_AAL1, P.AAL5_PARAMETERS())
        with pytest.raises(FieldError, match="BearerClass"):
            P.ATM_BROADBAND_BEARER_CAPABILITY_IE(BearerClass=0x10)  # the wire value, not atm.h's
        with pytest.raises(FieldError, match="Cause"):
            P.ATM_CAUSE_IE(Cause=0x80)
        with pytest.raises(FieldError):
            P.ATM_BLLI_IE(SnapId=b"123456")

    def test_absent_optional_fields(self):
        td = P.ATM_TRAFFIC_DESCRIPTOR(PeakCellRateCLP01=353207)
        assert P.present(td.PeakCellRateCLP01) and not P.present(td.PeakCellRateCLP0)
        blli = P.ATM_BLLI_IE(Layer2Protocol=P.BLLI_L2_LLC)
        assert P.present(blli.Layer2Protocol)
        assert not P.present(blli.Layer2Mode) and not P.present(blli.Layer3Protocol)
        assert not P.present(P.AAL5_PARAMETERS().SSCSType)

    def test_atm_address(self):
        a = P.ATM_ADDRESS.e164("12345")
        assert a.AddressType == P.ATM_E164 and a.NumberOfDigits == 5 and len(a.Address) == 20
        assert a.digits == b"12345" and str(a) == "+12345"
        n = P.ATM_ADDRESS.nsap(bytes(range(20)))
        assert n.NumberOfDigits == 20 and n.digits == bytes(range(20))
        with pytest.raises(FieldError):
            P.ATM_ADDRESS.nsap(b"short")
        with pytest.raises(FieldError):
            P.ATM_ADDRESS(P.ATM_E164, None, b"12a")
        with pytest.raises(FieldError):
            P.ATM_ADDRESS(2, None, b"")
        with pytest.raises(FieldError):
            P.ATM_ADDRESS(P.ATM_NSAP, None, bytes(21))

    def test_make_call_parameters(self):
        ies = [P.Q2931_IE(P.Q2931_IE_TYPE.IE_AALParameters, P.AAL_PARAMETERS_IE()),
               P.Q2931_IE(P.Q2931_IE_TYPE.IE_BroadbandBearerCapability, P.ATM_BROADBAND_BEARER_CAPABILITY_IE())]
        cp = P.make_call_parameters(P.ATM_ADDRESS.e164("4711"), info_elements=ies,
                                    media=P.ATM_MEDIA_PARAMETERS(P.ATM_VPIVCI(0, 42)))
        assert cp.Flags & P.MULTIPOINT_VC
        assert cp.q2931.CalledParty.digits == b"4711" and cp.q2931.InfoElementCount == 2
        assert cp.q2931.find(P.Q2931_IE_TYPE.IE_BroadbandBearerCapability).UserPlaneConnectionConfig == P.UP_P2MP
        assert cp.q2931.find(P.Q2931_IE_TYPE.IE_Cause) is None
        assert cp.atm_media.ConnectionId.Vci == 42
        assert not P.make_call_parameters(P.ATM_ADDRESS.e164("1"), multipoint=False).Flags & P.MULTIPOINT_VC
        assert P.CO_CALL_PARAMETERS().q2931 is None and P.CO_CALL_PARAMETERS().atm_media is None

    def test_wire_coding_tables(self):
        assert P.NDIS_BEARER_CLASS_TO_Q2931 == {P.BCOB_A: 0x01, P.BCOB_C: 0x03, P.BCOB_X: 0x10}
        assert P.NDIS_AAL_TYPE_TO_Q2931[P.AAL_TYPE_AAL5] == 0x05
        assert P.Q2931_IE_IDENTIFIERS[P.Q2931_IE_TYPE.IE_CalledPartyNumber] == 0x70


class TestIrql:
    def test_raise_lower(self):
        assert KeGetCurrentIrql() == PASSIVE_LEVEL
        old = KeRaiseIrql(DISPATCH_LEVEL)
        assert old == PASSIVE_LEVEL and KeGetCurrentIrql() == DISPATCH_LEVEL
        with pytest.raises(IrqlError, match="below"):
            KeRaiseIrql(PASSIVE_LEVEL)
        KeLowerIrql(old)
        assert KeGetCurrentIrql() == PASSIVE_LEVEL
        with pytest.raises(IrqlError, match="above"):
            KeLowerIrql(DISPATCH_LEVEL)
        with pytest.raises(IrqlError):
            KeRaiseIrql(16)
        assert issubclass(IrqlError, AtmemuError)

    def test_at_irql_restores_even_on_error(self):
        with pytest.raises(RuntimeError):
            with at_irql(DIRQL):
                assert KeGetCurrentIrql() == DIRQL
                raise RuntimeError("boom")
        assert KeGetCurrentIrql() == PASSIVE_LEVEL

    def test_spin_locks(self):
        lock = NDIS_SPIN_LOCK("test")
        NdisAcquireSpinLock(lock)
        assert KeGetCurrentIrql() == DISPATCH_LEVEL and lock.held
        with pytest.raises(IrqlError, match="already held"):
            NdisAcquireSpinLock(lock)
        NdisReleaseSpinLock(lock)
        assert KeGetCurrentIrql() == PASSIVE_LEVEL
        with pytest.raises(IrqlError, match="not held"):
            NdisReleaseSpinLock(lock)
        with pytest.raises(IrqlError, match="DISPATCH_LEVEL"):
            NdisDprAcquireSpinLock(lock)  # at PASSIVE_LEVEL
        with at_irql(DISPATCH_LEVEL):
            NdisDprAcquireSpinLock(lock)
            NdisDprReleaseSpinLock(lock)
        with at_irql(DIRQL):
            with pytest.raises(IrqlError):
                NdisAcquireSpinLock(lock)

    def test_requirements_table(self):
        for name, req in IRQL_REQUIREMENTS.items():
            if name.startswith(("NdisMCm", "NdisCl", "NdisCo")):
                expected = PASSIVE_LEVEL if name in ("NdisMCmRegisterAddressFamilyEx",
                                                     "NdisClOpenAddressFamilyEx") else DISPATCH_LEVEL
                assert req.max_irql == expected, name
            assert req.source
        for name in ("NdisMCmAddPartyComplete", "NdisMCmDropPartyComplete", "NdisClAddParty", "NdisClDropParty",
                     "NdisMCmDispatchIncomingDropParty", "NdisMCmActivateVc", "NdisClCloseCall"):
            assert IRQL_REQUIREMENTS[name].allows(DISPATCH_LEVEL) and not IRQL_REQUIREMENTS[name].allows(DIRQL)
        assert irql.irql_name(DIRQL) == "DIRQL(5)"


class TestHandles:
    def test_out(self):
        cell = Out()
        assert cell.value is None and not cell.assigned
        cell.value = None
        assert cell.assigned
        assert Out(3).value == 3 and not Out(3).assigned

    def test_identity(self):
        a, b = NdisHandle(None), NdisHandle(None)
        assert a != b and a == a and len({a, b}) == 2 and a.serial != b.serial
        assert CPU.irql == PASSIVE_LEVEL
