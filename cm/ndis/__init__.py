"""The NDIS CoNDIS model: statuses (:mod:`.status`), handles and out parameters (:mod:`.handles`), call
parameters (:mod:`.params`), the IRQL model (:mod:`.irql`), handler tables (:mod:`.characteristics`) and
the dispatcher between a client and a miniport call manager (:mod:`.dispatcher`)."""

from cm.ndis.characteristics import (NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS, NDIS_CO_CLIENT_OPTIONAL_HANDLERS,
                                     NDIS_PROTOCOL_CO_CHARACTERISTICS)
from cm.ndis.dispatcher import (Allocation, HandlerCall, Ndis, NdisCall, NdisObserver, NormalPoolPriority)
from cm.ndis.errors import IrqlError, NdisError, NdisHandleError, NdisRegistrationError
from cm.ndis.handles import (NdisAfHandle, NdisBindingHandle, NdisHandle, NdisMiniportAdapterHandle, NdisPartyHandle,
                             NdisProtocolHandle, NdisVcHandle, Out, Role)
from cm.ndis.status import NDIS_STATUS, as_status, status_name

__all__ = ["Allocation", "HandlerCall", "IrqlError", "NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS",
           "NDIS_CO_CLIENT_OPTIONAL_HANDLERS", "NDIS_PROTOCOL_CO_CHARACTERISTICS", "NDIS_STATUS", "Ndis",
           "NdisAfHandle", "NdisBindingHandle", "NdisCall", "NdisError", "NdisHandle", "NdisHandleError",
           "NdisMiniportAdapterHandle", "NdisObserver", "NdisPartyHandle", "NdisProtocolHandle",
           "NdisRegistrationError", "NdisVcHandle", "NormalPoolPriority", "Out", "Role", "as_status", "status_name"]
