"""The Q.2931 / Q.2971 user side of the MCM: a :class:`firmware.switch.interface.UniInterface`
(side "user") over the host SSCOP.

This is the one module of the driver that knows how Q.2931 messages and the UNI interface look. The
rest of the MCM speaks NDIS: it asks for a SETUP, an ADD PARTY, a DROP PARTY... with
CO_CALL_PARAMETERS (converted by :mod:`cm.ndis.q2931`), and hears back neutral events (``_ev_*``
methods of calls.py and parties.py) carrying endpoint references, causes and CO_CALL_PARAMETERS. When
the UNI machinery changes its message objects (the fast codec's messages, read through
firmware.uni.access; scapy layers before), this module is what changes: :data:`CODEC`, :func:`_carries_parameters` and the builder keywords of
:func:`_setup_content` / :func:`_add_party_content`.

Requests (called under the adapter lock): :meth:`Q2931UserSide.uni_setup`, ``uni_add_party``,
``uni_drop_party``, ``uni_drop_party_ack``, ``uni_release``, with ``uni_accepts`` to ask first.

Indications (the interface's listener) -> events:

==============================  ==========================================================================
setup.confirm (CONNECT)         ``_ev_call_connected(vc, params)``: params merged with the CONNECT
proceeding.indication           the connection identifier (VPI/VCI) noted on the VC
release.indication / confirm    the cause noted; RELEASE answered at once with RELEASE COMPLETE (Q.2931
                                5.4.4: "On receipt of RELEASE the user shall ... send RELEASE COMPLETE");
                                ``_ev_call_clearing(vc, cause)``
call back in Null (on_closed)   ``_ev_call_gone(vc)``
add-party-ack.indication        ``_ev_party_connected(vc, epref, params)``
party-alerting.indication       ``_ev_party_alerting(vc, epref)``
add-party-reject.indication     ``_ev_party_rejected(vc, epref, cause)``
drop-party.indication           ``_ev_party_dropped(vc, epref, cause, owes_ack)``: ``owes_ack`` when the
                                network dropped it (party state P12: DROP PARTY ACKNOWLEDGE is owed);
                                else our own party timer (T399, T397) ran out and the machine sent
                                DROP PARTY itself, cause 102 (Q.2971)
drop-party-ack.indication       ``_ev_party_gone(vc, epref, cause)``: the party is back in P0
setup.indication                an incoming call: refused (no SAP is registered), RELEASE COMPLETE with
                                the cause for NDIS_STATUS_INVALID_SAP
==============================  ==========================================================================

The channel is :class:`firmware.switch.channel.SaalChannel` over the host SSCOP (saal.py).
"""

from __future__ import annotations

from typing import Any

from cm.mcm.vc import McmVc
from cm.ndis.cause_status import cause_for_status
from cm.ndis.params import CO_CALL_PARAMETERS
from cm.ndis.q2931 import CallParameterError, Side, from_uni, party_number_fields, to_uni
from cm.ndis.status import NDIS_STATUS
from firmware.switch.channel import SaalChannel
from firmware.switch.interface import UniCall, UniInterface, cause_of
from firmware.uni import access
from firmware.uni.constants import IEId, MessageType
from firmware.uni.machines import Indicate
from firmware.uni.machines import events as ev

#: The message objects the host SSCOP decodes into and the UNI interface builds: the fast codec's
#: (firmware.uni.fastcodec.FastMessage), read through firmware.uni.access.
CODEC = "fast"
#: Seconds between attempts to re-establish a lost signalling link (SaalChannel keeps it up).
RELINK_SECONDS = 1.0

#: Q.850 cause 16, normal call clearing: what the MCM clears and drops with.
CAUSE_NORMAL = ev.CAUSE_NORMAL_CLEARING
#: The party state in which the network dropped a party and waits for DROP PARTY ACKNOWLEDGE (Q.2971).
_DROP_RECEIVED = "P12"
#: The call state after the network's RELEASE, in which the user owes RELEASE COMPLETE (Q.2931 U12).
_RELEASE_RECEIVED = "U12"
#: Elements of an answer (CONNECT, ADD PARTY ACKNOWLEDGE) that carry call parameters (Q.2931 3.1.3,
#: Q.2971 9.1.2): without them the request's parameters stand.
_PARAMETER_IES = tuple(int(i) for i in (IEId.AAL_PARAMETERS, IEId.BROADBAND_LOW_LAYER_INFORMATION,
                                        IEId.CONNECTION_IDENTIFIER, IEId.END_TO_END_TRANSIT_DELAY))


def _setup_content(params: CO_CALL_PARAMETERS, line_rate: int) -> tuple[dict[str, Any], Any]:
    """(builder keywords of the SETUP, the converter's elements) for NdisClMakeCall's parameters."""
    el = to_uni(params, line_rate=line_rate)
    if el.called is None:
        raise CallParameterError("Q2931_CALLMGR_PARAMETERS.InfoElements(IE_Raw)", "called party number",
                                 "the called party number as IE_CalledPartyNumber or CalledParty",
                                 status=NDIS_STATUS.NOT_SUPPORTED)
    content: dict[str, Any] = {"called": el.called, "traffic": el.traffic, "bearer": el.bearer, "qos": el.qos}
    for key in ("calling", "called_sub", "calling_sub", "aal", "bhli", "transit_network", "connection_id"):
        value = getattr(el, key)
        if value is not None:
            content[key] = value
    if el.blli:
        content["blli"] = el.blli if len(el.blli) > 1 else el.blli[0]
    if el.sending_complete is not None:
        content["sending_complete"] = True
    extra = ([el.lij_call_id] if el.lij_call_id is not None else []) + list(el.raw)
    if extra:
        content["extra_ies"] = extra
    return content, el


def _add_party_content(params: CO_CALL_PARAMETERS) -> dict[str, Any]:
    """Builder keywords of the ADD PARTY for NdisClAddParty's parameters (Q.2971 9.1.1)."""
    el = to_uni(params, message=MessageType.ADD_PARTY)
    if el.called is None:
        raise CallParameterError("Q2931_CALLMGR_PARAMETERS.InfoElements(IE_Raw)", "called party number",
                                 "the called party number as IE_CalledPartyNumber or CalledParty",
                                 status=NDIS_STATUS.NOT_SUPPORTED)
    content: dict[str, Any] = {"called": el.called}
    for key in ("calling", "called_sub", "calling_sub", "aal", "bhli", "transit_network"):
        value = getattr(el, key)
        if value is not None:
            content[key] = value
    if el.blli:
        content["blli"] = el.blli[0]
    if el.sending_complete is not None:
        content["sending_complete"] = True
    if el.raw:
        content["extra_ies"] = list(el.raw)
    return content


def _carries_parameters(message: Any) -> bool:
    """True when an answer carries call parameters; an ADD PARTY ACKNOWLEDGE with its endpoint
    reference only (the usual case) leaves the request's as they are."""
    return any(access.element(message, identifier) is not None for identifier in _PARAMETER_IES)


def answer_params(requested: CO_CALL_PARAMETERS, message: Any) -> CO_CALL_PARAMETERS:
    """The parameters a completion returns: the request's, with what the answer (CONNECT, ADD PARTY
    ACKNOWLEDGE) carries merged in (cm.ndis.q2931.from_uni; CALL_PARAMETERS_CHANGED when it changed
    something)."""
    if message is None or not _carries_parameters(message):
        return requested
    return from_uni(message, requested=requested)


class Q2931UserSide:
    """The user side of the UNI, as the MCM drives it. State it owns: ``uni`` (the UniInterface),
    ``uni_channel``."""

    def _init_signalling(self) -> None:
        """The channel over the host SSCOP (it establishes the link, and re-establishes it when lost:
        Q.2931 5.6.10 leaves the SAAL to be brought back) and the user-side interface on it. Called
        under the adapter lock: the establishment sends BGN."""
        self.uni_channel = SaalChannel(self.saal, establish=True, retry=RELINK_SECONDS, name=f"{self.name}.sig")
        self.uni = UniInterface(self.timer_clock, self.uni_channel, "user", timers=self.cfg.timers,
                                name=f"{self.name}.uni", listener=self)

    def _stop_signalling(self) -> None:
        """At halt: no more re-establishment."""
        self.uni_channel.keep_up = False

    # ------------------------------------------------------------------------------------------
    # requests (under the adapter lock)

    def uni_setup(self, vc: McmVc) -> None:
        """SETUP of a point-to-multipoint call for ``vc.params``, its first party endpoint reference 0
        (Q.2971). Sets ``vc.contract`` to the traffic the SETUP signals, in ATM_MEDIA_PARAMETERS terms.
        Raises :class:`cm.ndis.q2931.CallParameterError` for parameters that cannot be signalled."""
        content, elements = _setup_content(vc.params, self.line_rate)
        vc.contract = from_uni(elements.setup(1), side=Side.CALLING).atm_media
        ucall = self.uni.originate(multipoint=True)
        ucall.owner = vc
        vc.ucall = ucall
        self.uni.request(ucall, ev.SETUP_REQUEST, epref=0, content=content)

    def uni_add_party(self, vc: McmVc, params: CO_CALL_PARAMETERS) -> int:
        """ADD PARTY for ``params``; returns the endpoint reference the machine allocated. Raises
        :class:`cm.ndis.q2931.CallParameterError` for parameters that cannot be signalled.

        The usual request - a called address and nothing else for the message (ADD PARTY carries no
        traffic parameters, Q.2971 9.1.1) - has its Called party number made by the interface's own
        builder; anything more goes through the converter (tests hold both to the same octets)."""
        q = params.q2931
        if q is not None and not q.InfoElements and not q.CallingParty.NumberOfDigits and q.CalledParty.NumberOfDigits:
            address, plan, number_type = party_number_fields(q.CalledParty, "Q2931_CALLMGR_PARAMETERS.CalledParty")
            content = {"called": self.uni.B.called_party_number(address, number_type=number_type, plan=plan)}
        else:
            content = _add_party_content(params)
        step = self.uni.request(vc.ucall, ev.ADD_PARTY_REQUEST, content=content)
        return int(step.epref)

    def uni_accepts(self, vc: McmVc, request: str, epref: int | None = None) -> bool:
        """Would the call (and party) take ``request`` ("add-party", "drop-party", "drop-party-ack",
        "release") now?"""
        ucall = vc.ucall
        return ucall is not None and self.uni.accepts(ucall, f"{request}.request", epref)

    def uni_drop_party(self, vc: McmVc, epref: int, cause: int = CAUSE_NORMAL) -> bool:
        """DROP PARTY (the machine sends RELEASE instead for the last party, Q.2971). False when the
        party's state does not allow it."""
        if not self.uni_accepts(vc, "drop-party", epref):
            return False
        self.uni.request(vc.ucall, ev.DROP_PARTY_REQUEST, epref=epref, cause=cause)
        return True

    def uni_drop_party_ack(self, vc: McmVc, epref: int) -> bool:
        """DROP PARTY ACKNOWLEDGE for a party the network dropped."""
        if not self.uni_accepts(vc, "drop-party-ack", epref):
            return False
        self.uni.request(vc.ucall, ev.DROP_PARTY_ACK_REQUEST, epref=epref)
        return True

    def uni_release(self, vc: McmVc, cause: int = CAUSE_NORMAL) -> bool:
        """RELEASE of the whole call."""
        if not self.uni_accepts(vc, "release"):
            return False
        self.uni.request(vc.ucall, ev.RELEASE_REQUEST, cause=cause)
        return True

    def uni_owes_drop_ack(self, vc: McmVc, epref: int) -> bool:
        """True when the network dropped the party and waits for our DROP PARTY ACKNOWLEDGE."""
        ucall = vc.ucall
        return ucall is not None and not ucall.closed and ucall.party_state(epref) == _DROP_RECEIVED

    # ------------------------------------------------------------------------------------------
    # the interface's listener (called under the adapter lock)

    def on_indication(self, iface: UniInterface, ucall: UniCall, ind: Indicate, message: Any) -> None:
        vc = ucall.owner
        p = ind.primitive
        self.counters[f"uni.{p}"] += 1
        if not isinstance(vc, McmVc):
            if p == "setup.indication" and iface.accepts(ucall, ev.RELEASE_RESPONSE):
                # no SAP registered: the incoming call is refused (Q.2931 5.2.5)
                iface.request(ucall, ev.RELEASE_RESPONSE, cause=cause_for_status(NDIS_STATUS.INVALID_SAP))
            return
        epref = ind.instance
        cause = ind.cause if ind.cause is not None or message is None else cause_of(message)[0]
        if p == "setup.confirm":
            if ucall.connection is not None:
                vc.vpi, vc.vci = ucall.connection
            self._ev_call_connected(vc, answer_params(vc.params, message))
        elif p == "proceeding.indication":
            if ucall.connection is not None:
                vc.vpi, vc.vci = ucall.connection
        elif p in ("release.indication", "release.confirm"):
            self._ev_call_clearing(vc, cause)
            if not ucall.closed and ucall.state == _RELEASE_RECEIVED:
                iface.request(ucall, ev.RELEASE_RESPONSE)  # Q.2931 5.4.4 (the call is then in Null)
        elif p == "add-party-ack.indication":
            party = vc.parties.get(epref)
            requested = party.params if party is not None else vc.params
            self._ev_party_connected(vc, epref, answer_params(requested, message))
        elif p == "party-alerting.indication":
            self._ev_party_alerting(vc, epref)
        elif p == "add-party-reject.indication":
            self._ev_party_rejected(vc, epref, cause)
        elif p == "drop-party.indication":
            self._ev_party_dropped(vc, epref, cause, ucall.party_state(epref) == _DROP_RECEIVED)
        elif p == "drop-party-ack.indication":
            self._ev_party_gone(vc, epref, cause)

    def on_link_state(self, iface: UniInterface, up: bool, cause: Any) -> None:
        """AAL-ESTABLISH / AAL-RELEASE (through the channel and the interface)."""
        self._saal_link_state(up, cause)

    def on_closed(self, iface: UniInterface, ucall: UniCall) -> None:
        vc = ucall.owner
        if isinstance(vc, McmVc):
            vc.ucall = None
            self._ev_call_gone(vc)


__all__ = ["CODEC", "Q2931UserSide", "answer_params"]
