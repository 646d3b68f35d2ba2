"""One scapy class per message: every Q.2931 message of the reference list and every Q.2971
point-to-multipoint message, plus the UNI 4.0 leaf initiated join messages. They differ only in the default
message type; what each may carry is in :mod:`firmware.uni.contents`, how to build one in
:mod:`firmware.uni.builders`.
"""

from __future__ import annotations

from firmware.uni.constants import MessageType as T
from firmware.uni.message import Q2931, message_fields, register_message


# -- Q.2931 3.1: messages for call and connection control --------------------------------------------------

@register_message
class AlertingMessage(Q2931):
    name = "Q.2931 ALERTING"
    fields_desc = message_fields(T.ALERTING)


@register_message
class CallProceedingMessage(Q2931):
    name = "Q.2931 CALL PROCEEDING"
    fields_desc = message_fields(T.CALL_PROCEEDING)


@register_message
class ConnectMessage(Q2931):
    name = "Q.2931 CONNECT"
    fields_desc = message_fields(T.CONNECT)


@register_message
class ConnectAcknowledgeMessage(Q2931):
    name = "Q.2931 CONNECT ACKNOWLEDGE"
    fields_desc = message_fields(T.CONNECT_ACKNOWLEDGE)


@register_message
class ReleaseMessage(Q2931):
    name = "Q.2931 RELEASE"
    fields_desc = message_fields(T.RELEASE)


@register_message
class ReleaseCompleteMessage(Q2931):
    name = "Q.2931 RELEASE COMPLETE"
    fields_desc = message_fields(T.RELEASE_COMPLETE)


@register_message
class SetupMessage(Q2931):
    name = "Q.2931 SETUP"
    fields_desc = message_fields(T.SETUP)


@register_message
class StatusMessage(Q2931):
    name = "Q.2931 STATUS"
    fields_desc = message_fields(T.STATUS)


@register_message
class StatusEnquiryMessage(Q2931):
    name = "Q.2931 STATUS ENQUIRY"
    fields_desc = message_fields(T.STATUS_ENQUIRY)


@register_message
class NotifyMessage(Q2931):
    name = "Q.2931 NOTIFY"
    fields_desc = message_fields(T.NOTIFY)


# -- Q.2931 3.2: messages used with the global call reference ----------------------------------------------

@register_message
class RestartMessage(Q2931):
    name = "Q.2931 RESTART"
    fields_desc = message_fields(T.RESTART)


@register_message
class RestartAcknowledgeMessage(Q2931):
    name = "Q.2931 RESTART ACKNOWLEDGE"
    fields_desc = message_fields(T.RESTART_ACKNOWLEDGE)


# -- Q.2971 9: point-to-multipoint messages ----------------------------------------------------------------

@register_message
class AddPartyMessage(Q2931):
    name = "Q.2971 ADD PARTY"
    fields_desc = message_fields(T.ADD_PARTY)


@register_message
class AddPartyAcknowledgeMessage(Q2931):
    name = "Q.2971 ADD PARTY ACKNOWLEDGE"
    fields_desc = message_fields(T.ADD_PARTY_ACKNOWLEDGE)


@register_message
class AddPartyRejectMessage(Q2931):
    name = "Q.2971 ADD PARTY REJECT"
    fields_desc = message_fields(T.ADD_PARTY_REJECT)


@register_message
class PartyAlertingMessage(Q2931):
    name = "Q.2971 PARTY ALERTING"
    fields_desc = message_fields(T.PARTY_ALERTING)


@register_message
class DropPartyMessage(Q2931):
    name = "Q.2971 DROP PARTY"
    fields_desc = message_fields(T.DROP_PARTY)


@register_message
class DropPartyAcknowledgeMessage(Q2931):
    name = "Q.2971 DROP PARTY ACKNOWLEDGE"
    fields_desc = message_fields(T.DROP_PARTY_ACKNOWLEDGE)


# -- UNI 4.0 clause 6: leaf initiated join -----------------------------------------------------------------

@register_message
class LeafSetupFailureMessage(Q2931):
    name = "LEAF SETUP FAILURE"
    fields_desc = message_fields(T.LEAF_SETUP_FAILURE)


@register_message
class LeafSetupRequestMessage(Q2931):
    name = "LEAF SETUP REQUEST"
    fields_desc = message_fields(T.LEAF_SETUP_REQUEST)


__all__ = [
    "AddPartyAcknowledgeMessage", "AddPartyMessage", "AddPartyRejectMessage", "AlertingMessage",
    "CallProceedingMessage", "ConnectAcknowledgeMessage", "ConnectMessage", "DropPartyAcknowledgeMessage",
    "DropPartyMessage", "LeafSetupFailureMessage", "LeafSetupRequestMessage", "NotifyMessage",
    "PartyAlertingMessage", "ReleaseCompleteMessage", "ReleaseMessage", "RestartAcknowledgeMessage",
    "RestartMessage", "SetupMessage", "StatusEnquiryMessage", "StatusMessage",
]
