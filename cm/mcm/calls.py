"""Calls: the address family handlers, ProtocolCmMakeCall and ProtocolCmCloseCall, and what the MCM
does when the network answers or clears a call.

ProtocolCmMakeCall (a point-to-multipoint call: the first party's state is allocated here and holds its
NdisPartyHandle) sends SETUP and returns NDIS_STATUS_PENDING. CONNECT completes it: the adapter's VC
entry is programmed with the VPI/VCI of the network's connection identifier (CALL PROCEEDING, Q.2931
5.1.2), then NdisMCmActivateVc, then NdisMCmMakeCallComplete(SUCCESS) - in that order (reference:
"The VC must be activated before completing with SUCCESS"). A call the network refuses (RELEASE
COMPLETE, or T303 / T310 running out) completes with the status of its cause
(cm.ndis.cause_status.completion_status) and the first party's state is freed.

ProtocolCmCloseCall: with parties other than the one given still on the call it fails (NdisClCloseCall
page: "The call manager will fail any client's request to close a multipoint call if the given VC still
has more than one party connected"); close data are refused with NDIS_STATUS_INVALID_DATA (a Q.2931
RELEASE carries no user data); otherwise RELEASE goes out and the request pends until the call is back
in Null (RELEASE COMPLETE, or T308 twice): the VC entry is disabled, NdisMCmDeactivateVc, the last
party's state freed, NdisMCmCloseCallComplete. When the network already cleared the call there is
nothing to signal: the close completes at once.

The network clears a call (RELEASE, or the last-party rule of Q.2971 clearing it under us): the VC entry
stops sending, parties being added complete with the cause's status, drops under way complete, and
NdisMCmDispatchIncomingCloseCall is indicated with the cause's close status
(cm.ndis.cause_status.close_status); the client answers with NdisClCloseCall.
"""

from __future__ import annotations

from typing import Any

from cm.mcm.parties import McmParty, PartyState
from cm.mcm.vc import McmVc, VcState
from cm.ndis.cause_status import close_status, completion_status
from cm.ndis.handles import NdisAfHandle, NdisPartyHandle, Out
from cm.ndis.params import (ATM_VPIVCI, CO_ADDRESS_FAMILY, CO_ADDRESS_FAMILY_Q2931, CO_CALL_PARAMETERS,
                            MULTIPOINT_VC)
from cm.ndis.q2931 import CallParameterError
from cm.ndis.status import (NDIS_STATUS, NDIS_STATUS_FAILURE, NDIS_STATUS_INVALID_DATA, NDIS_STATUS_NOT_SUPPORTED,
                            NDIS_STATUS_PENDING, NDIS_STATUS_RESOURCES, NDIS_STATUS_SUCCESS)

#: Q.850 cause 47, resources unavailable: the call is cleared when the adapter's VC table is full.
CAUSE_RESOURCES_UNAVAILABLE = 47


class CallHandlers:
    """The call handlers and the call events. State it owns: ``open_afs``."""

    open_afs = 0  # address families clients have open

    # ------------------------------------------------------------------------------------------
    # address family

    def ProtocolCmOpenAf(self, CallMgrBindingContext: Any, AddressFamily: CO_ADDRESS_FAMILY,
                         NdisAfHandle: NdisAfHandle, CallMgrAfContext: Out) -> int:
        """A client opens the Q.2931 address family: the adapter context is the AF context."""
        if AddressFamily.AddressFamily != CO_ADDRESS_FAMILY_Q2931:
            return NDIS_STATUS_NOT_SUPPORTED
        self._enter()
        try:
            self.open_afs += 1
        finally:
            self._leave()
        CallMgrAfContext.value = self
        return NDIS_STATUS_SUCCESS

    def ProtocolCmCloseAf(self, CallMgrAfContext: Any) -> int:
        self._enter()
        try:
            self.open_afs -= 1
        finally:
            self._leave()
        return NDIS_STATUS_SUCCESS

    # ------------------------------------------------------------------------------------------
    # ProtocolCmMakeCall

    def ProtocolCmMakeCall(self, CallMgrVcContext: McmVc, CallParameters: CO_CALL_PARAMETERS,
                           NdisPartyHandle: NdisPartyHandle | None, CallMgrPartyContext: Out | None) -> int:
        """SETUP for a point-to-multipoint call; PENDING until CONNECT or the refusal. A point-to-point
        call (no party handle, no MULTIPOINT_VC) is NDIS_STATUS_NOT_SUPPORTED: this call manager roots
        point-to-multipoint calls."""
        vc = CallMgrVcContext
        if NdisPartyHandle is None or not CallParameters.Flags & MULTIPOINT_VC:
            self.counters["make_call_not_multipoint"] += 1
            return NDIS_STATUS_NOT_SUPPORTED
        party = self._new_party(vc, NdisPartyHandle, CallParameters)
        if party is None:
            return NDIS_STATUS_RESOURCES
        status = NDIS_STATUS_PENDING
        self._enter()
        try:
            if self.halted or not self.saal_up:
                status = NDIS_STATUS_FAILURE
                self.counters["make_call_no_signalling"] += 1
            else:
                vc.params, vc.cause, vc.uni_gone, vc.incoming_close = CallParameters, None, False, False
                vc.state = VcState.MAKING
                try:
                    self.uni_setup(vc)
                except CallParameterError as exc:
                    self.counters["make_call_bad_parameters"] += 1
                    vc.state, vc.params = VcState.IDLE, None
                    status = exc.status
                else:
                    party.epref = 0
                    party.state = PartyState.ADDING
                    vc.first = party
                    vc.parties[0] = party
        finally:
            self._leave()
        if status != NDIS_STATUS_PENDING:
            self._free_party(party)
            return status
        CallMgrPartyContext.value = party
        return NDIS_STATUS_PENDING

    def _ev_call_connected(self, vc: McmVc, params: CO_CALL_PARAMETERS) -> None:
        """CONNECT (setup.confirm): program the VC entry, activate, complete the make-call."""
        if vc.state is not VcState.MAKING or vc.first is None:
            self.counters["connect_unexpected"] += 1
            return
        media = params.atm_media
        if media is not None and vc.vpi is not None:
            media.ConnectionId = ATM_VPIVCI(vc.vpi, vc.vci)  # the network's VPI/VCI (Q.2931 5.1.2)
        vc.params = params
        if vc.vpi is None or not self._program_call_vc(vc):
            # no connection identifier, or no free VC table entry: clear the call, fail the make-call
            vc.failure = NDIS_STATUS_RESOURCES
            self.uni_release(vc, CAUSE_RESOURCES_UNAVAILABLE)
            return
        vc.state = VcState.CONNECTED
        first = vc.first
        first.state = PartyState.ACTIVE
        self._defer(self.ndis.NdisMCmActivateVc, vc.handle, params)
        self._defer(self.ndis.NdisMCmMakeCallComplete, NDIS_STATUS_SUCCESS, vc.handle, first.handle, first, params)

    # ------------------------------------------------------------------------------------------
    # ProtocolCmCloseCall

    def ProtocolCmCloseCall(self, CallMgrVcContext: McmVc, CallMgrPartyContext: McmParty | None,
                            CloseData: bytes | None, Size: int) -> int:
        """RELEASE the call with its last party; PENDING until the call is back in Null."""
        vc, last = CallMgrVcContext, CallMgrPartyContext
        if CloseData:
            return NDIS_STATUS_INVALID_DATA
        status = NDIS_STATUS_PENDING
        self._enter()
        try:
            others = [p for p in vc.parties.values()
                      if p is not last and p.state in (PartyState.ADDING, PartyState.ACTIVE, PartyState.REMOTE_DROPPED)]
            if others or vc.state is not VcState.CONNECTED:
                self.counters["close_call_refused"] += 1
                status = NDIS_STATUS_FAILURE
            else:
                vc.state = VcState.CLOSING
                vc.close_party = last
                if not vc.uni_gone:
                    if not self.uni_release(vc):
                        self.counters["close_call_while_clearing"] += 1  # cleared already: wait for Null
                elif self.cfg.deferred_close:
                    self._finish_close(vc, synchronous=False)
                else:
                    self._finish_close(vc, synchronous=True)
                    status = NDIS_STATUS_SUCCESS
        finally:
            self._leave()
        if status == NDIS_STATUS_SUCCESS:
            # nothing left to signal: deactivate and free before returning the final status
            self.ndis.NdisMCmDeactivateVc(vc.handle)
            if last is not None:
                self._free_party(last)
        return status

    def _finish_close(self, vc: McmVc, *, synchronous: bool) -> None:
        """The call is over (under the lock): entry disabled, drops under way completed; for a pended
        close the deactivation, completion and free are queued."""
        self._release_call_vc(vc)
        vc.state = VcState.CLOSED
        last = vc.close_party
        vc.close_party = None
        for party in list(vc.parties.values()):
            del vc.parties[party.epref]
            if party is last:
                continue
            self._end_party_with_call(party, vc.cause)
        vc.first = None
        if synchronous:
            return
        self._defer(self.ndis.NdisMCmDeactivateVc, vc.handle)
        self._defer(self.ndis.NdisMCmCloseCallComplete, NDIS_STATUS_SUCCESS, vc.handle,
                    None if last is None else last.handle)
        if last is not None:
            self._defer(self._free_party, last)

    # ------------------------------------------------------------------------------------------
    # the network clears the call

    def _ev_call_clearing(self, vc: McmVc, cause: int | None) -> None:
        """RELEASE received (answered already) or sent by the machine, or RELEASE COMPLETE: the call is
        going. The entry stops sending at once; NDIS hears of it when the call is back in Null."""
        if vc.cause is None:
            vc.cause = cause
        if vc.state is VcState.CONNECTED:
            self._release_call_vc(vc)

    def _ev_call_gone(self, vc: McmVc) -> None:
        """The call is back in Null and its call reference free (under the lock)."""
        vc.uni_gone = True
        state = vc.state
        if state is VcState.MAKING:
            self._release_call_vc(vc)
            status = vc.failure or (NDIS_STATUS_FAILURE if vc.cause is None else completion_status(vc.cause))
            vc.failure = None
            first = vc.first
            vc.parties.clear()
            vc.first = None
            vc.state = VcState.IDLE
            self._defer(self.ndis.NdisMCmMakeCallComplete, status, vc.handle, None, None, vc.params)
            if first is not None:
                self._defer(self._free_party, first)
        elif state is VcState.CONNECTED:
            self._release_call_vc(vc)
            for party in list(vc.parties.values()):
                if party.state in (PartyState.ADDING, PartyState.DROPPING):
                    del vc.parties[party.epref]
                    self._end_party_with_call(party, vc.cause)
                elif party.state is PartyState.ACTIVE:
                    party.state = PartyState.REMOTE_DROPPED  # the client hears of it with the call
                party.owes_ack = False
            self._defer(self._deliver_incoming_close, vc, close_status(vc.cause))
        elif state is VcState.CLOSING:
            self._finish_close(vc, synchronous=False)
        else:
            self.counters[f"call_gone_in_{state.value}"] += 1

    def _deliver_incoming_close(self, vc: McmVc, status: NDIS_STATUS) -> None:
        """NdisMCmDispatchIncomingCloseCall, unless the client closed the call meanwhile (decided
        under the lock, indicated outside it)."""
        self._enter()
        try:
            go = vc.state is VcState.CONNECTED and not vc.incoming_close
            vc.incoming_close = vc.incoming_close or go
        finally:
            self._leave()
        if go:
            self.counters["incoming_close"] += 1
            self.ndis.NdisMCmDispatchIncomingCloseCall(status, vc.handle, None, 0)


__all__ = ["CAUSE_RESOURCES_UNAVAILABLE", "CallHandlers"]
