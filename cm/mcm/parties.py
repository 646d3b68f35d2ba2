"""Parties: the MCM's per-party state (CallMgrPartyContext), ProtocolCmAddParty, ProtocolCmDropParty, the
per-party traffic policy, and what the MCM does when the network answers for a party or drops one.

Per-party state (seed page ProtocolCmAddParty): allocated by ProtocolCmAddParty (or ProtocolCmMakeCall for
the first party) through NdisAllocateMemoryWithTagPriority, it stores the NdisPartyHandle and is set as
*CallMgrPartyContext before the handler returns; it is freed when the party ends - after the
NdisMCmAddPartyComplete of a failed add, after the NdisMCmDropPartyComplete of a drop (seed page
NdisCmDropPartyComplete: "The CM can release ... when NdisCmDropPartyComplete returns control"), before a
synchronous return of ProtocolCmDropParty (seed page ProtocolCmDropParty: "must also free any per-party
resources ... Failure to do so will result in a memory leak"), or with the call.

The life of a party in the MCM (``McmParty.state``), and the NDIS call each step makes:

===============  =========================================  ===========================  =================
state            event                                      NDIS                         next
===============  =========================================  ===========================  =================
(none)           ProtocolCmAddParty: ADD PARTY sent         returns PENDING              ADDING
ADDING           ADD PARTY ACKNOWLEDGE                      AddPartyComplete(SUCCESS)    ACTIVE
ADDING           ADD PARTY REJECT (cause)                   AddPartyComplete(status)     freed
ADDING           T399 / T397 ran out (cause 102: the        AddPartyComplete(            freed
                 machine dropped it itself, Q.2971)         REQUEST_ABORTED)
ADDING           DROP PARTY from the network                AddPartyComplete(status);    freed
                                                            DROP PARTY ACK sent
ACTIVE           ProtocolCmDropParty: DROP PARTY sent       returns PENDING              DROPPING
DROPPING         DROP PARTY ACKNOWLEDGE (or T398)           DropPartyComplete(SUCCESS)   freed
ACTIVE           DROP PARTY from the network (a leaf left)  DispatchIncomingDropParty,   REMOTE_DROPPED
                                                            or IncomingCloseCall for
                                                            the last party
REMOTE_DROPPED   ProtocolCmDropParty: DROP PARTY ACK sent   returns SUCCESS              freed
any              the call is cleared                        see calls.py                 freed
===============  =========================================  ===========================  =================

Statuses: an add refused by the network completes with cm.ndis.cause_status.completion_status(cause)
(never a success); a departure is indicated with close_status(cause) (SUCCESS for normal clearing).

Per-party traffic parameters (McmConfig.party_traffic_policy, config.py): Q.2971 9.1.1 gives ADD PARTY
no traffic descriptor, so a party cannot have traffic of its own. A party asking for other traffic than
the VC's (ATM_MEDIA_PARAMETERS.Transmit, or an IE_TrafficDescriptor) is reset to the VC's, changes the
VC's for all parties once added (within the signalled contract), or is rejected.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from enum import Enum

from cm.mcm.config import PartyTrafficPolicy
from cm.mcm.vc import McmVc, VcState
from cm.ndis.cause_status import close_status, completion_status
from cm.ndis.handles import NdisPartyHandle, Out
from cm.ndis.params import (ATM_FLOW_PARAMETERS, CALL_PARAMETERS_CHANGED, CO_CALL_PARAMETERS, Q2931_IE_TYPE,
                            present)
from cm.ndis.q2931 import CallParameterError
from cm.ndis.status import (NDIS_STATUS, NDIS_STATUS_FAILURE, NDIS_STATUS_INVALID_DATA, NDIS_STATUS_NOT_SUPPORTED,
                            NDIS_STATUS_PENDING, NDIS_STATUS_RESOURCES, NDIS_STATUS_SUCCESS)

TAG_PARTY = "McPy"  # pool tag of the per-party state


class PartyState(str, Enum):
    ADDING = "adding"
    ACTIVE = "active"
    DROPPING = "dropping"  # ProtocolCmDropParty pended: DROP PARTY out
    REMOTE_DROPPED = "remote-dropped"  # the network dropped it; the client was told, its answer awaited


@dataclass(eq=False)
class McmParty:
    """CallMgrPartyContext: the MCM's per-party state. ``handle``: the NdisPartyHandle (stored as the
    WDK requires); ``epref``: the Q.2971 endpoint reference; ``params``: the party's call parameters;
    ``owes_ack``: the network dropped it and waits for DROP PARTY ACKNOWLEDGE; ``flow``: traffic to
    apply to the VC when it is added (CHANGE_FOR_ALL)."""

    vc: McmVc
    handle: NdisPartyHandle
    params: CO_CALL_PARAMETERS
    epref: int | None = None
    state: PartyState = PartyState.ADDING
    owes_ack: bool = False
    alerted: bool = False
    cause: int | None = None
    flow: ATM_FLOW_PARAMETERS | None = None

    def __repr__(self) -> str:
        return f"<McmParty epref={self.epref} {self.state.value}>"


def requested_flow(params: CO_CALL_PARAMETERS) -> ATM_FLOW_PARAMETERS | None:
    """The transmit traffic a party's parameters ask for: ATM_MEDIA_PARAMETERS.Transmit when it gives a
    peak cell rate, else the forward direction of an IE_TrafficDescriptor, else None (nothing asked)."""
    media = params.atm_media
    if media is not None and media.Transmit.PeakCellRate:
        return media.Transmit
    q = params.q2931
    td = None if q is None else q.find(Q2931_IE_TYPE.IE_TrafficDescriptor)
    if td is None:
        return None
    fwd = td.ForwardTD
    pcr = next((v for v in (fwd.PeakCellRateCLP01, fwd.PeakCellRateCLP0) if present(v)), 0)
    if not pcr:
        return None
    scr = next((v for v in (fwd.SustainableCellRateCLP01, fwd.SustainableCellRateCLP0) if present(v)), 0)
    mbs = next((v for v in (fwd.MaximumBurstSizeCLP01, fwd.MaximumBurstSizeCLP0) if present(v)), 0)
    category = media.Transmit.ServiceCategory if media is not None else ATM_FLOW_PARAMETERS().ServiceCategory
    return ATM_FLOW_PARAMETERS(category, AverageCellRate=scr, PeakCellRate=pcr, BurstLengthCells=mbs)


def _same_traffic(a: ATM_FLOW_PARAMETERS, b: ATM_FLOW_PARAMETERS) -> bool:
    return (a.PeakCellRate, a.AverageCellRate, a.BurstLengthCells, a.ServiceCategory) == \
        (b.PeakCellRate, b.AverageCellRate, b.BurstLengthCells, b.ServiceCategory)


class PartyHandlers:
    """The party handlers and the party events."""

    # ------------------------------------------------------------------------------------------
    # per-party state

    def _new_party(self, vc: McmVc, handle: NdisPartyHandle, params: CO_CALL_PARAMETERS) -> McmParty | None:
        return self.ndis.NdisAllocateMemoryWithTagPriority(self.adapter_handle, McmParty(vc, handle, params),
                                                           TAG_PARTY)

    def _free_party(self, party: McmParty) -> None:
        self.ndis.NdisFreeMemoryWithTagPriority(self.adapter_handle, party, TAG_PARTY)

    # ------------------------------------------------------------------------------------------
    # ProtocolCmAddParty

    def ProtocolCmAddParty(self, CallMgrVcContext: McmVc, CallParameters: CO_CALL_PARAMETERS,
                           NdisPartyHandle: NdisPartyHandle, CallMgrPartyContext: Out) -> int:
        """ADD PARTY; PENDING until the network's answer."""
        vc = CallMgrVcContext
        party = self._new_party(vc, NdisPartyHandle, CallParameters)
        if party is None:
            return NDIS_STATUS_RESOURCES
        CallMgrPartyContext.value = party
        status = NDIS_STATUS_PENDING
        self._enter()
        try:
            policy = self._traffic_policy(vc, party)
            if policy is not None:
                status = policy
            elif vc.state is not VcState.CONNECTED or vc.uni_gone or not self.uni_accepts(vc, "add-party"):
                self.counters["add_party_call_not_active"] += 1
                status = NDIS_STATUS_FAILURE
            else:
                try:
                    epref = self.uni_add_party(vc, CallParameters)
                except CallParameterError as exc:
                    self.counters["add_party_bad_parameters"] += 1
                    status = exc.status
                else:
                    party.epref = epref
                    vc.parties[epref] = party
        finally:
            self._leave()
        if status != NDIS_STATUS_PENDING:
            self._free_party(party)
        return status

    def _traffic_policy(self, vc: McmVc, party: McmParty) -> int | None:
        """The per-party traffic policy (under the lock): a refusal status, or None to go on (with
        ``party.flow`` set when the VC is to be reshaped once the party is added)."""
        wanted = requested_flow(party.params)
        current = vc.shaping
        if wanted is None or current is None or _same_traffic(wanted, current):
            return None
        policy = self.cfg.party_traffic_policy
        self.counters[f"party_traffic.{policy.value}"] += 1
        if policy is PartyTrafficPolicy.REJECT:
            return NDIS_STATUS_NOT_SUPPORTED
        if policy is PartyTrafficPolicy.CHANGE_FOR_ALL:
            contract = vc.contract.Transmit if vc.contract is not None else current
            if wanted.PeakCellRate > (contract.PeakCellRate or self.line_rate):
                return NDIS_STATUS.CELLRATE_NOT_AVAILABLE  # above what the network admitted and polices
            party.flow = wanted
        return None

    def _completion_params(self, vc: McmVc, party: McmParty, params: CO_CALL_PARAMETERS) -> CO_CALL_PARAMETERS:
        """The parameters an add completes with: for RESET, the VC's traffic in place of the party's."""
        if party.flow is not None:
            self._reshape(vc, party.flow)
            return params
        wanted = requested_flow(params)
        if wanted is None or vc.shaping is None or _same_traffic(wanted, vc.shaping):
            return params
        out = copy.deepcopy(params)
        media = out.atm_media
        if media is not None:
            media.Transmit = copy.deepcopy(vc.shaping)
        out.Flags |= CALL_PARAMETERS_CHANGED
        return out

    # ------------------------------------------------------------------------------------------
    # ProtocolCmDropParty

    def ProtocolCmDropParty(self, CallMgrPartyContext: McmParty, CloseData: bytes | None, Size: int) -> int:
        """DROP PARTY (PENDING until acknowledged), or, for a party the network already dropped, DROP
        PARTY ACKNOWLEDGE and SUCCESS at once.

        Close data: a Q.2971 DROP PARTY carries no user data, so the request is answered
        NDIS_STATUS_INVALID_DATA (seed page ProtocolCmDropParty). The handle is the client's no longer
        (NdisClDropParty page: invalid "as soon as it makes this call"; NDIS ends the party on any final
        status), so the party is dropped in the network all the same, without the data, and its state
        freed before returning."""
        party = CallMgrPartyContext
        vc = party.vc
        status = NDIS_STATUS_PENDING
        self._enter()
        try:
            if party.state is PartyState.REMOTE_DROPPED or vc.uni_gone:
                if party.owes_ack and not vc.uni_gone:
                    self.uni_drop_party_ack(vc, party.epref)
                vc.parties.pop(party.epref, None)
                status = NDIS_STATUS_SUCCESS
            elif party.state is PartyState.ACTIVE:
                party.state = PartyState.DROPPING
                if not self.uni_drop_party(vc, party.epref):
                    self.counters["drop_party_while_clearing"] += 1  # the call is clearing: done with it
                if CloseData:
                    vc.parties.pop(party.epref, None)  # its DROP PARTY ACKNOWLEDGE finds no one (counted)
            else:
                self.counters[f"drop_party_in_{party.state.value}"] += 1
                status = NDIS_STATUS_FAILURE
        finally:
            self._leave()
        if CloseData:
            self.counters["drop_party_close_data"] += 1
            if status != NDIS_STATUS_FAILURE:
                self._free_party(party)
            return NDIS_STATUS_INVALID_DATA
        if status == NDIS_STATUS_SUCCESS:
            self._free_party(party)
        return status

    # ------------------------------------------------------------------------------------------
    # party events (under the lock)

    def _ev_party_connected(self, vc: McmVc, epref: int, params: CO_CALL_PARAMETERS) -> None:
        party = vc.parties.get(epref)
        if party is None or party.state is not PartyState.ADDING or party is vc.first:
            self.counters["party_ack_unexpected"] += 1
            return
        party.state = PartyState.ACTIVE
        params = self._completion_params(vc, party, params)
        party.params = params
        self._defer(self.ndis.NdisMCmAddPartyComplete, NDIS_STATUS_SUCCESS, party.handle, party, params)

    def _ev_party_alerting(self, vc: McmVc, epref: int) -> None:
        party = vc.parties.get(epref)
        if party is not None:
            party.alerted = True

    def _ev_party_rejected(self, vc: McmVc, epref: int, cause: int | None) -> None:
        party = vc.parties.get(epref)
        if party is None or party.state is not PartyState.ADDING:
            self.counters["party_reject_unexpected"] += 1
            return
        self._fail_add(vc, party, cause)

    def _ev_party_dropped(self, vc: McmVc, epref: int, cause: int | None, owes_ack: bool) -> None:
        """DROP PARTY from the network (``owes_ack``), or our own party timer ran out (T399/T397: the
        machine sent DROP PARTY itself)."""
        party = vc.parties.get(epref)
        if party is None or party.state is PartyState.DROPPING:
            if owes_ack:
                self.uni_drop_party_ack(vc, epref)
            self.counters["party_drop_unexpected"] += 1
            return
        if party.state is PartyState.ADDING:
            if owes_ack:
                self.uni_drop_party_ack(vc, epref)
            self._fail_add(vc, party, cause)
            return
        if party.state is PartyState.ACTIVE:
            party.owes_ack = owes_ack
            self._remote_departure(vc, party, cause)

    def _ev_party_gone(self, vc: McmVc, epref: int, cause: int | None) -> None:
        """DROP PARTY ACKNOWLEDGE (or T398, or STATUS): the party is back in P0."""
        party = vc.parties.get(epref)
        if party is None:
            self.counters["party_gone_unknown"] += 1  # a party that already ended (its add failed)
            return
        if party.state is PartyState.DROPPING:
            del vc.parties[epref]
            self._defer(self.ndis.NdisMCmDropPartyComplete, NDIS_STATUS_SUCCESS, party.handle)
            self._defer(self._free_party, party)
        elif party.state is PartyState.ADDING:
            self._fail_add(vc, party, cause)
        elif party.state is PartyState.ACTIVE:
            party.owes_ack = False
            self._remote_departure(vc, party, cause)
        else:
            party.owes_ack = False

    def _fail_add(self, vc: McmVc, party: McmParty, cause: int | None) -> None:
        del vc.parties[party.epref]
        status = NDIS_STATUS_FAILURE if cause is None else completion_status(cause)
        self.counters[f"add_party_failed.{cause}"] += 1
        self._defer(self.ndis.NdisMCmAddPartyComplete, status, party.handle, None, party.params)
        self._defer(self._free_party, party)

    def _end_party_with_call(self, party: McmParty, cause: int | None) -> None:
        """The call ended under a party being added or dropped (under the lock; already out of
        ``vc.parties``)."""
        if party.state is PartyState.ADDING:
            status = NDIS_STATUS_FAILURE if cause is None else completion_status(cause)
            self._defer(self.ndis.NdisMCmAddPartyComplete, status, party.handle, None, party.params)
        elif party.state is PartyState.DROPPING:
            self._defer(self.ndis.NdisMCmDropPartyComplete, NDIS_STATUS_SUCCESS, party.handle)
        self._defer(self._free_party, party)

    def _remote_departure(self, vc: McmVc, party: McmParty, cause: int | None) -> None:
        party.state = PartyState.REMOTE_DROPPED
        party.cause = cause
        self._defer(self._deliver_departure, party, close_status(cause))

    def _deliver_departure(self, party: McmParty, status: NDIS_STATUS) -> None:
        """NdisMCmDispatchIncomingDropParty, or NdisMCmDispatchIncomingCloseCall when no other party is
        left on the call (reference: "for the last party use NdisMCmDispatchIncomingCloseCall"). Decided
        under the lock when it is indicated, since the client may have dropped others meanwhile."""
        vc = party.vc
        self._enter()
        try:
            live = vc.parties.get(party.epref) is party and party.state is PartyState.REMOTE_DROPPED
            last = live and not any(p is not party for p in vc.parties.values())
            close = live and last and vc.state is VcState.CONNECTED and not vc.incoming_close
            if close:
                vc.incoming_close = True
        finally:
            self._leave()
        if not live:
            self.counters["departure_overtaken"] += 1
        elif close:
            self.counters["incoming_close"] += 1
            self.ndis.NdisMCmDispatchIncomingCloseCall(status, vc.handle, None, 0)
        elif not last:
            self.counters["incoming_drop"] += 1
            self.ndis.NdisMCmDispatchIncomingDropParty(status, party.handle, None, 0)


__all__ = ["McmParty", "PartyHandlers", "PartyState", "TAG_PARTY", "requested_flow"]
