"""The handler tables drivers give NDIS with NdisSetOptionalHandlers (ndis.h, NDIS 6):

- a miniport call manager sets NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS from MiniportInitializeEx, then
  registers its address family with NdisMCmRegisterAddressFamilyEx (reference/condis-mcm.md, "Call manager
  handlers (registered in NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS)");
- a CoNDIS client sets NDIS_PROTOCOL_CO_CHARACTERISTICS (CoAfRegisterNotifyHandler...) and
  NDIS_CO_CLIENT_OPTIONAL_HANDLERS.

Field names are the WDK's. Each field holds a callable with the prototype of its handler type, arguments
in the WDK order and named as the WDK names them (NDIS calls them positionally); out parameters are
:class:`~cm.ndis.handles.Out` cells. Handlers this model does not drive yet (SAPs and incoming calls, QoS
changes, OID requests) may be given and are kept, but never called.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Callable, Optional

Handler = Optional[Callable[..., object]]


@dataclass
class NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS:
    """ndis.h NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS (call manager side).

    Prototypes (all return NDIS_STATUS):
    CmCreateVcHandler(ProtocolAfContext, NdisVcHandle, ProtocolVcContext: Out) - never PENDING
    CmDeleteVcHandler(ProtocolVcContext) - never PENDING
    CmOpenAfHandler(CallMgrBindingContext, AddressFamily, NdisAfHandle, CallMgrAfContext: Out)
    CmCloseAfHandler(CallMgrAfContext)
    CmMakeCallHandler(CallMgrVcContext, CallParameters, NdisPartyHandle, CallMgrPartyContext: Out | None)
    CmCloseCallHandler(CallMgrVcContext, CallMgrPartyContext, CloseData, Size)
    CmAddPartyHandler(CallMgrVcContext, CallParameters, NdisPartyHandle, CallMgrPartyContext: Out)
    CmDropPartyHandler(CallMgrPartyContext, CloseData, Size)
    """

    CmCreateVcHandler: Handler = None
    CmDeleteVcHandler: Handler = None
    CmOpenAfHandler: Handler = None
    CmCloseAfHandler: Handler = None
    CmRegisterSapHandler: Handler = None
    CmDeregisterSapHandler: Handler = None
    CmMakeCallHandler: Handler = None
    CmCloseCallHandler: Handler = None
    CmIncomingCallCompleteHandler: Handler = None
    CmAddPartyHandler: Handler = None
    CmDropPartyHandler: Handler = None
    CmActivateVcCompleteHandler: Handler = None
    CmDeactivateVcCompleteHandler: Handler = None
    CmModifyCallQoSHandler: Handler = None
    CmOidRequestHandler: Handler = None
    CmOidRequestCompleteHandler: Handler = None
    CmNotifyCloseAfCompleteHandler: Handler = None

    #: The handlers a call manager of a point-to-multipoint capable medium must supply to this model
    #: (ProtocolCmAddParty "is a required function", seed page; ProtocolCmDropParty "is required").
    REQUIRED = ("CmCreateVcHandler", "CmDeleteVcHandler", "CmOpenAfHandler", "CmCloseAfHandler",
                "CmMakeCallHandler", "CmCloseCallHandler", "CmAddPartyHandler", "CmDropPartyHandler")

    def missing(self) -> list[str]:
        return [name for name in self.REQUIRED if getattr(self, name) is None]


@dataclass
class NDIS_CO_CLIENT_OPTIONAL_HANDLERS:
    """ndis.h NDIS_CO_CLIENT_OPTIONAL_HANDLERS (client side).

    Prototypes:
    ClCreateVcHandler(ProtocolAfContext, NdisVcHandle, ProtocolVcContext: Out) -> NDIS_STATUS, never PENDING
    ClDeleteVcHandler(ProtocolVcContext) -> NDIS_STATUS, never PENDING
    ClOpenAfCompleteHandlerEx(ProtocolAfContext, NdisAfHandle, Status)
    ClCloseAfCompleteHandler(Status, ProtocolAfContext)
    ClMakeCallCompleteHandler(Status, ProtocolVcContext, NdisPartyHandle, CallParameters)
    ClCloseCallCompleteHandler(Status, ProtocolVcContext, ProtocolPartyContext)
    ClAddPartyCompleteHandler(Status, ProtocolPartyContext, NdisPartyHandle, CallParameters)
    ClDropPartyCompleteHandler(Status, ProtocolPartyContext)
    ClIncomingCloseCallHandler(CloseStatus, ProtocolVcContext, CloseData, Size)
    ClIncomingDropPartyHandler(DropStatus, ProtocolPartyContext, CloseData, Size)
    """

    ClCreateVcHandler: Handler = None
    ClDeleteVcHandler: Handler = None
    ClOidRequestHandler: Handler = None
    ClOidRequestCompleteHandler: Handler = None
    ClOpenAfCompleteHandlerEx: Handler = None
    ClCloseAfCompleteHandler: Handler = None
    ClRegisterSapCompleteHandler: Handler = None
    ClDeregisterSapCompleteHandler: Handler = None
    ClMakeCallCompleteHandler: Handler = None
    ClModifyCallQoSCompleteHandler: Handler = None
    ClCloseCallCompleteHandler: Handler = None
    ClAddPartyCompleteHandler: Handler = None
    ClDropPartyCompleteHandler: Handler = None
    ClIncomingCallHandler: Handler = None
    ClIncomingCallQoSChangeHandler: Handler = None
    ClIncomingCloseCallHandler: Handler = None
    ClIncomingDropPartyHandler: Handler = None
    ClCallConnectedHandler: Handler = None
    ClNotifyCloseAfHandler: Handler = None

    #: Handlers a multipoint client must supply to this model (ProtocolClAddPartyComplete is "required for
    #: connection-oriented NDIS clients that set up multipoint connections").
    REQUIRED = ("ClCreateVcHandler", "ClDeleteVcHandler", "ClOpenAfCompleteHandlerEx", "ClCloseAfCompleteHandler",
                "ClMakeCallCompleteHandler", "ClCloseCallCompleteHandler", "ClAddPartyCompleteHandler",
                "ClDropPartyCompleteHandler", "ClIncomingCloseCallHandler", "ClIncomingDropPartyHandler")

    def missing(self) -> list[str]:
        return [name for name in self.REQUIRED if getattr(self, name) is None]


@dataclass
class NDIS_PROTOCOL_CO_CHARACTERISTICS:
    """ndis.h NDIS_PROTOCOL_CO_CHARACTERISTICS: CoAfRegisterNotifyHandler(ProtocolBindingContext,
    AddressFamily) is how NDIS tells a client a call manager registered an AF on a binding."""

    Flags: int = 0
    CoStatusHandlerEx: Handler = None
    CoAfRegisterNotifyHandler: Handler = None
    CoReceiveNetBufferListsHandler: Handler = None
    CoSendNetBufferListsCompleteHandler: Handler = None


def handler_names(table: object) -> list[str]:
    """The handler fields of a table that are set."""
    return [f.name for f in fields(table) if f.name.endswith(("Handler", "HandlerEx")) and getattr(table, f.name)]
