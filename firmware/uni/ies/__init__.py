"""The typed Q.2931 / Q.2971 information elements, one module per family; importing this package
registers every class with the dispatcher in :mod:`firmware.uni.ie`."""

from firmware.uni.ies.address import (CalledPartyNumberIE, CalledPartySubaddressIE, CallingPartyNumberIE,
                                      CallingPartySubaddressIE, TransitNetworkSelectionIE)
from firmware.uni.ies.bearer import (BroadbandBearerCapabilityIE, BroadbandHighLayerInformationIE,
                                     BroadbandRepeatIndicatorIE, BroadbandSendingCompleteIE)
from firmware.uni.ies.blli import BroadbandLowLayerInformationIE
from firmware.uni.ies.connection import ConnectionIdentifierIE, RestartIndicatorIE
from firmware.uni.ies.lij import LeafSequenceNumberIE, LIJCallIdentifierIE, LIJParametersIE
from firmware.uni.ies.party import EndpointReferenceIE, EndpointStateIE
from firmware.uni.ies.status import CallStateIE, CauseIE, NotificationIndicatorIE
from firmware.uni.ies.traffic import (AALParametersIE, ATMTrafficDescriptorIE, EndToEndTransitDelayIE,
                                      QoSParameterIE)

__all__ = [
    "AALParametersIE", "ATMTrafficDescriptorIE", "BroadbandBearerCapabilityIE",
    "BroadbandHighLayerInformationIE", "BroadbandLowLayerInformationIE", "BroadbandRepeatIndicatorIE",
    "BroadbandSendingCompleteIE", "CalledPartyNumberIE", "CalledPartySubaddressIE", "CallingPartyNumberIE",
    "CallingPartySubaddressIE", "CallStateIE", "CauseIE", "ConnectionIdentifierIE", "EndpointReferenceIE",
    "EndpointStateIE", "EndToEndTransitDelayIE", "LeafSequenceNumberIE", "LIJCallIdentifierIE",
    "LIJParametersIE", "NotificationIndicatorIE", "QoSParameterIE", "RestartIndicatorIE",
    "TransitNetworkSelectionIE",
]
