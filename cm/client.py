"""A CoNDIS client protocol driver: the root of point-to-multipoint calls, as the CLI and the tests drive it.

It is written the way a Windows CoNDIS client is: it registers NDIS_PROTOCOL_CO_CHARACTERISTICS and
NDIS_CO_CLIENT_OPTIONAL_HANDLERS, opens the Q.2931 address family from ProtocolCoAfRegisterNotify, keeps
its per-VC and per-party state in contexts it allocates through NDIS (so the rule checker sees its leaks
too), and follows the rules the WDK gives clients:

- when an NdisClXxx call returns anything but NDIS_STATUS_PENDING it calls its own completion handler
  (NdisClDropParty page: "the client should make an internal call to its ProtocolClDropPartyComplete
  function"); every such internal completion is recorded with ``synchronous=True``;
- it keeps count of its parties and closes a multipoint call by dropping every party but one, waiting for
  those drops to complete, then calling NdisClCloseCall with the last (seed page NdisClDropParty;
  NdisClCloseCall page);
- it answers ProtocolClIncomingDropParty with NdisClDropParty, or with NdisClCloseCall when that party is
  the last one (reference/condis-mcm.md, "Client side"), and ProtocolClIncomingCloseCall with the same
  drop-all-but-one-then-close sequence;
- it deletes the VC it created once the call is closed (NdisClCloseCall page).

Every completion it receives (or makes itself) is counted by kind and status (:attr:`CoNdisClient.counts`,
:attr:`CoNdisClient.completed`) and appended to :attr:`CoNdisClient.log`, so a test can check that each
request ended exactly once, with the status the call manager decided.

What it keeps is bounded, so it can run for ever (issue 9's soak): the log holds the ``history`` most
recent completions (a deque), a call keeps its parties still held plus the ``history`` most recent gone
ones (:attr:`ClientCall.ended`), and the client keeps its calls still holding a VC plus the ``history``
most recent ones whose per-VC state is freed (:attr:`CoNdisClient.ended_calls`); the totals are counters.
A gone party or call is a record (its NDIS handles are cleared), not state any request can reach.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from cm.ndis.characteristics import NDIS_CO_CLIENT_OPTIONAL_HANDLERS, NDIS_PROTOCOL_CO_CHARACTERISTICS
from cm.ndis.dispatcher import Ndis, NormalPoolPriority
from cm.ndis.handles import NdisAfHandle, NdisBindingHandle, NdisPartyHandle, NdisVcHandle, Out
from cm.ndis.params import (ATM_ADDRESS, CO_ADDRESS_FAMILY, CO_ADDRESS_FAMILY_Q2931, CO_CALL_PARAMETERS,
                            make_call_parameters)
from cm.ndis.status import NDIS_STATUS_PENDING, NDIS_STATUS_RESOURCES, NDIS_STATUS_SUCCESS, status_name
from hw.errors import AtmemuError

TAG_CALL = "ClVc"  # pool tag of the client's per-VC state
TAG_PARTY = "ClPy"  # pool tag of the client's per-party state
#: Records a client keeps by default: recent completions in its log, gone parties per call, gone calls.
HISTORY = 64


class ClientError(AtmemuError):
    """A request the client cannot make in its current state (no AF open, no such party...)."""


class PartyPhase(str, Enum):
    ADDING = "adding"
    ACTIVE = "active"
    DROPPING = "dropping"  # NdisClDropParty (or NdisClCloseCall with it) called, completion awaited
    GONE = "gone"  # dropped, closed with the call, or the add failed


class CallPhase(str, Enum):
    IDLE = "idle"  # VC created, no call
    MAKING = "making"
    CONNECTED = "connected"
    CLOSING = "closing"  # NdisClCloseCall called
    CLOSED = "closed"
    FAILED = "failed"  # the make-call failed


@dataclass(eq=False)
class ClientParty:
    """The client's per-party state: its ProtocolPartyContext."""

    call: "ClientCall"
    address: ATM_ADDRESS
    name: str
    phase: PartyPhase = PartyPhase.ADDING
    handle: NdisPartyHandle | None = None
    add_completions: list[int] = field(default_factory=list)
    drop_completions: list[int] = field(default_factory=list)
    remote_left: bool = False  # an incoming drop was indicated for it
    closing_handle: NdisPartyHandle | None = None  # the handle given to NdisClCloseCall, kept in case it fails

    def __repr__(self) -> str:
        return f"<ClientParty {self.name} {self.phase.value}>"


@dataclass(eq=False)
class ClientCall:
    """The client's per-VC state: its ProtocolVcContext."""

    name: str
    phase: CallPhase = CallPhase.IDLE
    vc: NdisVcHandle | None = None
    parties: list[ClientParty] = field(default_factory=list)  # not gone yet, in order of creation
    history: int = HISTORY  # how many gone parties ``ended`` keeps
    ended: deque[ClientParty] = field(init=False)  # the most recent gone ones, kept for inspection
    parties_ended: int = 0  # every party that went, kept or not
    closing: bool = False  # the client wants the call closed (asked to, or the network closed it)
    incoming_close: bool = False
    make_completions: list[int] = field(default_factory=list)
    close_completions: list[int] = field(default_factory=list)
    call_parameters: CO_CALL_PARAMETERS | None = None
    vc_deleted: bool = False
    created_by_client: bool = True
    _advancing: bool = False
    _again: bool = False
    _close_status: int | None = None

    def __post_init__(self) -> None:
        self.ended = deque(maxlen=self.history)

    def live(self) -> list[ClientParty]:
        """Parties the client still holds (being added or active)."""
        return [p for p in self.parties if p.phase in (PartyPhase.ADDING, PartyPhase.ACTIVE)]

    def holds_another(self, party: ClientParty) -> bool:
        """Whether the client holds a party of this call other than ``party`` (stops at the first one:
        called on every drop, with many parties in flight)."""
        return any(p is not party and p.phase in (PartyPhase.ADDING, PartyPhase.ACTIVE) for p in self.parties)

    @property
    def all_parties(self) -> list[ClientParty]:
        """The parties of the call: the recent gone ones first (the last ``history``; ``parties_ended``
        counts them all), then the others."""
        return [*self.ended, *self.parties]

    def retire(self, party: ClientParty) -> None:
        """The party is gone: keep it for inspection only."""
        party.phase = PartyPhase.GONE
        party.handle = party.closing_handle = None
        if party in self.parties:
            self.parties.remove(party)
            self.ended.append(party)
            self.parties_ended += 1

    def __repr__(self) -> str:
        return f"<ClientCall {self.name} {self.phase.value}, {len(self.live())} live part(ies)>"


@dataclass(frozen=True)
class Completion:
    """One completion the client saw: the kind of request, its final status, what it was about,
    whether the client called its own handler (the request returned a final status synchronously),
    and the virtual time."""

    kind: str
    status: int
    target: str
    synchronous: bool
    time: int | None = None

    def __str__(self) -> str:
        how = "sync" if self.synchronous else "async"
        return f"{self.kind} {self.target}: {status_name(self.status)} ({how})"


class ClientBinding:
    """The client's per-binding state (its ProtocolBindingContext)."""

    def __init__(self) -> None:
        self.NdisBindingHandle: Out = Out()
        self.af_handle: NdisAfHandle | None = None
        self.af_open = False
        self.af_pending = False


class CoNdisClient:
    """A CoNDIS client bound to one miniport adapter, making point-to-multipoint calls through it.

    ``auto_delete_vc``: delete a VC the client created once its call is closed (or failed).
    ``history``: how many records it keeps - recent completions in :attr:`log`, gone parties per call,
    calls whose per-VC state is freed."""

    def __init__(self, ndis: Ndis, name: str = "atmemu-client", *, auto_delete_vc: bool = True,
                 history: int = HISTORY) -> None:
        if not isinstance(history, int) or history < 0:
            raise ClientError(f"{name}: history must be a number of records >= 0, not {history!r}")
        self.ndis = ndis
        self.name = name
        self.auto_delete_vc = auto_delete_vc
        self.history = history
        #: the ``history`` most recent completions, oldest first
        self.log: deque[Completion] = deque(maxlen=history)
        #: every completion since the start, by (kind, status)
        self.counts: Counter[tuple[str, int]] = Counter()
        #: how many completions since the start (``len(log)`` stops at ``history``)
        self.completed = 0
        self._calls: list[ClientCall] = []  # per-VC state not freed yet, in order of creation
        #: the ``history`` most recent calls whose per-VC state was freed (VC deleted), oldest first
        self.ended_calls: deque[ClientCall] = deque(maxlen=history)
        self.binding: ClientBinding | None = None
        self._serial = 0
        self.protocol_handle = ndis.register_protocol(name)
        ndis.NdisSetOptionalHandlers(self.protocol_handle, NDIS_PROTOCOL_CO_CHARACTERISTICS(
            CoAfRegisterNotifyHandler=self.ProtocolCoAfRegisterNotify))
        ndis.NdisSetOptionalHandlers(self.protocol_handle, NDIS_CO_CLIENT_OPTIONAL_HANDLERS(
            ClCreateVcHandler=self.ProtocolCoCreateVc,
            ClDeleteVcHandler=self.ProtocolCoDeleteVc,
            ClOpenAfCompleteHandlerEx=self.ProtocolClOpenAfCompleteEx,
            ClCloseAfCompleteHandler=self.ProtocolClCloseAfComplete,
            ClMakeCallCompleteHandler=self.ProtocolClMakeCallComplete,
            ClCloseCallCompleteHandler=self.ProtocolClCloseCallComplete,
            ClAddPartyCompleteHandler=self.ProtocolClAddPartyComplete,
            ClDropPartyCompleteHandler=self.ProtocolClDropPartyComplete,
            ClIncomingCloseCallHandler=self.ProtocolClIncomingCloseCall,
            ClIncomingDropPartyHandler=self.ProtocolClIncomingDropParty,
        ))

    # -- bookkeeping ------------------------------------------------------------------------------

    def _record(self, kind: str, status: int, target: str, synchronous: bool) -> None:
        self.log.append(Completion(kind, status, target, synchronous, self.ndis.now()))
        self.counts[(kind, status)] += 1
        self.completed += 1

    @property
    def calls(self) -> list[ClientCall]:
        """The recent calls whose VC is deleted (the last ``history``), then those still holding one."""
        return [*self.ended_calls, *self._calls]

    def _new_call(self, name: str, **kw: Any) -> ClientCall:
        return ClientCall(name, history=self.history, **kw)

    def _call_freed(self, call: ClientCall) -> None:
        """The per-VC state is freed: the call becomes a record."""
        if call in self._calls:
            self._calls.remove(call)
            self.ended_calls.append(call)

    def _next_name(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}{self._serial}"

    def _alloc(self, obj: Any, tag: str) -> Any:
        return self.ndis.NdisAllocateMemoryWithTagPriority(self.protocol_handle, obj, tag, NormalPoolPriority)

    def _free(self, obj: Any, tag: str) -> None:
        if self.ndis.allocation_of(obj) is not None:
            self.ndis.NdisFreeMemoryWithTagPriority(self.protocol_handle, obj, tag)

    def summary(self) -> dict[str, Counter[str]]:
        """Completions per kind since the start, counted by status name."""
        out: dict[str, Counter[str]] = {}
        for (kind, status), n in self.counts.items():
            out.setdefault(kind, Counter())[status_name(status)] += n
        return out

    @property
    def af_handle(self) -> NdisAfHandle | None:
        return None if self.binding is None else self.binding.af_handle

    @property
    def binding_handle(self) -> NdisBindingHandle | None:
        return None if self.binding is None else self.binding.NdisBindingHandle.value

    # -- binding and address family ---------------------------------------------------------------

    def bind(self, miniport_adapter_handle: Any) -> ClientBinding:
        """Bind to a miniport adapter; the Q.2931 AF is opened when NDIS notifies it (now, if the MCM
        already registered it, or later)."""
        if self.binding is not None:
            raise ClientError(f"{self.name}: already bound")
        self.binding = ClientBinding()
        self.ndis.bind(self.protocol_handle, miniport_adapter_handle, self.binding, self.binding.NdisBindingHandle)
        return self.binding

    def ProtocolCoAfRegisterNotify(self, ProtocolBindingContext: ClientBinding,
                                   AddressFamily: CO_ADDRESS_FAMILY) -> None:
        """A call manager registered an AF on the binding: open it if it is Q.2931 (ATM UNI)."""
        binding = ProtocolBindingContext
        if AddressFamily.AddressFamily != CO_ADDRESS_FAMILY_Q2931 or binding.af_handle is not None:
            return
        af = Out()
        binding.af_pending = True
        status = self.ndis.NdisClOpenAddressFamilyEx(binding.NdisBindingHandle.value, AddressFamily, binding, af)
        if status != NDIS_STATUS_PENDING:
            self._open_af_complete(binding, af.value if status == NDIS_STATUS_SUCCESS else None, status, True)
        elif binding.af_pending:  # not completed yet: keep the handle NDIS returned meanwhile
            binding.af_handle = af.value

    def ProtocolClOpenAfCompleteEx(self, ProtocolAfContext: ClientBinding, NdisAfHandle: Any,
                                   Status: int) -> None:
        self._open_af_complete(ProtocolAfContext, NdisAfHandle, Status, False)

    def _open_af_complete(self, binding: ClientBinding, af: Any, status: int, sync: bool) -> None:
        self._record("OpenAf", status, self.name, sync)
        binding.af_pending = False
        binding.af_open = status == NDIS_STATUS_SUCCESS
        if binding.af_open:
            binding.af_handle = af
        else:
            binding.af_handle = None

    def close_af(self) -> int:
        """Close the address family (all calls must be closed and VCs deleted first)."""
        binding = self._bound()
        af = binding.af_handle
        binding.af_open = False
        status = self.ndis.NdisClCloseAddressFamily(af)
        if status != NDIS_STATUS_PENDING:
            self._close_af_complete(status, binding, True)
        return status

    def ProtocolClCloseAfComplete(self, Status: int, ProtocolAfContext: ClientBinding) -> None:
        self._close_af_complete(Status, ProtocolAfContext, False)

    def _close_af_complete(self, status: int, binding: ClientBinding, sync: bool) -> None:
        self._record("CloseAf", status, self.name, sync)
        if status == NDIS_STATUS_SUCCESS:
            binding.af_handle = None
        else:
            binding.af_open = True

    def _bound(self) -> ClientBinding:
        if self.binding is None or not self.binding.af_open:
            raise ClientError(f"{self.name}: the Q.2931 address family is not open")
        return self.binding

    def unload(self) -> None:
        """The client unloads: NDIS (and the rule checker) see what it left behind."""
        self.ndis.unload_driver(self.protocol_handle)

    # -- VCs --------------------------------------------------------------------------------------

    def ProtocolCoCreateVc(self, ProtocolAfContext: ClientBinding, NdisVcHandle: NdisVcHandle,
                           ProtocolVcContext: Out) -> int:
        """The call manager creates a VC (for an incoming call): make per-VC state for it."""
        call = self._new_call(self._next_name("in-vc"), created_by_client=False)
        if self._alloc(call, TAG_CALL) is None:
            return NDIS_STATUS_RESOURCES
        call.vc = NdisVcHandle
        self._calls.append(call)
        ProtocolVcContext.value = call
        return NDIS_STATUS_SUCCESS

    def ProtocolCoDeleteVc(self, ProtocolVcContext: ClientCall) -> int:
        """The call manager deletes a VC it created: release the per-VC state."""
        call = ProtocolVcContext
        call.vc_deleted = True
        self._free(call, TAG_CALL)
        self._call_freed(call)
        return NDIS_STATUS_SUCCESS

    def delete_vc(self, call: ClientCall) -> int:
        """NdisCoDeleteVc for a VC the client created; the per-VC state is freed when it succeeds."""
        status = self.ndis.NdisCoDeleteVc(call.vc)
        if status == NDIS_STATUS_SUCCESS:
            call.vc_deleted = True
            self._free(call, TAG_CALL)
            self._call_freed(call)
        return status

    # -- making a call ----------------------------------------------------------------------------

    def make_call(self, called: ATM_ADDRESS, *, call_parameters: CO_CALL_PARAMETERS | None = None,
                  name: str | None = None) -> ClientCall:
        """Create a VC and make a point-to-multipoint call to ``called`` (its first party). The outcome is
        in ``call.phase`` once the make-call completes (at once when it did not pend)."""
        binding = self._bound()
        call = self._new_call(name or self._next_name("call"))
        if self._alloc(call, TAG_CALL) is None:
            raise ClientError(f"{self.name}: no memory for the call state")
        self._calls.append(call)
        vc = Out()
        status = self.ndis.NdisCoCreateVc(binding.NdisBindingHandle.value, binding.af_handle, call, vc)
        if status != NDIS_STATUS_SUCCESS:
            call.phase = CallPhase.FAILED
            self._record("CreateVc", status, call.name, True)
            self._free(call, TAG_CALL)
            self._call_freed(call)
            return call
        call.vc = vc.value
        params = call_parameters or make_call_parameters(called, multipoint=True)
        call.call_parameters = params
        party = self._new_party(call, called)
        if party is None:
            call.phase = CallPhase.FAILED
            self._record("MakeCall", NDIS_STATUS_RESOURCES, call.name, True)
            return call
        call.phase = CallPhase.MAKING
        handle = Out()
        status = self.ndis.NdisClMakeCall(call.vc, params, party, handle)
        if status != NDIS_STATUS_PENDING:
            party_handle = handle.value if status == NDIS_STATUS_SUCCESS else None
            self._make_call_complete(status, call, party_handle, params, True)
        return call

    def _new_party(self, call: ClientCall, address: ATM_ADDRESS) -> ClientParty | None:
        party = ClientParty(call, address, self._next_name("party"))
        if self._alloc(party, TAG_PARTY) is None:
            return None
        call.parties.append(party)
        return party

    def ProtocolClMakeCallComplete(self, Status: int, ProtocolVcContext: ClientCall,
                                   NdisPartyHandle: NdisPartyHandle | None,
                                   CallParameters: CO_CALL_PARAMETERS) -> None:
        self._make_call_complete(Status, ProtocolVcContext, NdisPartyHandle, CallParameters, False)

    def _make_call_complete(self, status: int, call: ClientCall, party_handle: NdisPartyHandle | None,
                            params: CO_CALL_PARAMETERS, sync: bool) -> None:
        self._record("MakeCall", status, call.name, sync)
        call.make_completions.append(status)
        first = next((p for p in call.parties if p.phase is PartyPhase.ADDING), None)
        if status == NDIS_STATUS_SUCCESS:
            call.phase = CallPhase.CONNECTED
            call.call_parameters = params
            if first is not None:
                first.phase = PartyPhase.ACTIVE
                first.handle = party_handle
                first.add_completions.append(status)
            self._advance_close(call)
            return
        call.phase = CallPhase.FAILED
        if first is not None:
            call.retire(first)
            first.add_completions.append(status)
            self._free(first, TAG_PARTY)
        if self.auto_delete_vc and call.created_by_client and not call.vc_deleted:
            self.delete_vc(call)

    # -- parties ----------------------------------------------------------------------------------

    def add_party(self, call: ClientCall, address: ATM_ADDRESS, *,
                  call_parameters: CO_CALL_PARAMETERS | None = None) -> ClientParty:
        """NdisClAddParty on an established call. The outcome is in ``party.phase`` and
        ``party.add_completions`` once the add completes."""
        if call.phase is not CallPhase.CONNECTED or call.closing:
            raise ClientError(f"{call!r}: parties are added to a connected call that is not closing")
        party = self._new_party(call, address)
        if party is None:
            raise ClientError(f"{self.name}: no memory for the party state")
        params = call_parameters or make_call_parameters(address, multipoint=True)
        handle = Out()
        status = self.ndis.NdisClAddParty(call.vc, party, params, handle)
        if party.handle is None and party.phase is PartyPhase.ADDING:
            party.handle = handle.value
        if status != NDIS_STATUS_PENDING:
            self._add_party_complete(status, party, handle.value, params, True)
        return party

    def ProtocolClAddPartyComplete(self, Status: int, ProtocolPartyContext: ClientParty,
                                   NdisPartyHandle: NdisPartyHandle, CallParameters: CO_CALL_PARAMETERS) -> None:
        self._add_party_complete(Status, ProtocolPartyContext, NdisPartyHandle, CallParameters, False)

    def _add_party_complete(self, status: int, party: ClientParty, handle: NdisPartyHandle | None,
                            params: CO_CALL_PARAMETERS, sync: bool) -> None:
        self._record("AddParty", status, party.name, sync)
        party.add_completions.append(status)
        if party.phase is not PartyPhase.ADDING:
            return  # a completion for a party already ended (recorded, nothing else to do)
        if status == NDIS_STATUS_SUCCESS:
            party.phase = PartyPhase.ACTIVE
            party.handle = handle
        else:
            # "If the input Status is set to anything other than NDIS_STATUS_SUCCESS,
            # ProtocolClAddPartyComplete can release or reuse the client-allocated buffers"
            party.call.retire(party)
            self._free(party, TAG_PARTY)
        self._advance_close(party.call)

    def drop_party(self, party: ClientParty) -> int:
        """Drop one party. The last party of a call is not dropped but closed with the call
        (NdisClCloseCall), as NDIS requires; the status returned is then that of NdisClCloseCall, or
        NDIS_STATUS_PENDING when the close waits for other drops to complete."""
        call = party.call
        if party.phase is not PartyPhase.ACTIVE:
            raise ClientError(f"{party!r}: only an active party can be dropped")
        if call.holds_another(party):
            return self._drop(party)
        call.closing = True
        return self._advance_close(call)

    def _drop(self, party: ClientParty) -> int:
        party.phase = PartyPhase.DROPPING
        handle, party.handle = party.handle, None  # invalid as soon as NdisClDropParty is called
        status = self.ndis.NdisClDropParty(handle)
        if status != NDIS_STATUS_PENDING:
            self._drop_party_complete(status, party, True)
        return status

    def ProtocolClDropPartyComplete(self, Status: int, ProtocolPartyContext: ClientParty) -> None:
        self._drop_party_complete(Status, ProtocolPartyContext, False)

    def _drop_party_complete(self, status: int, party: ClientParty, sync: bool) -> None:
        self._record("DropParty", status, party.name, sync)
        party.drop_completions.append(status)
        party.call.retire(party)
        self._free(party, TAG_PARTY)
        self._advance_close(party.call)

    def ProtocolClIncomingDropParty(self, DropStatus: int, ProtocolPartyContext: ClientParty,
                                    CloseData: bytes | None, Size: int) -> None:
        """A remote party left: drop it, or close the call when it is the last party."""
        party = ProtocolPartyContext
        party.remote_left = True
        self._record("IncomingDropParty", DropStatus, party.name, False)
        if party.phase is not PartyPhase.ACTIVE:
            return
        call = party.call
        if call.holds_another(party):
            self._drop(party)
        else:
            call.closing = True
            self._advance_close(call)

    # -- closing ----------------------------------------------------------------------------------

    def close_call(self, call: ClientCall) -> int:
        """Close a call: drop every party but one, wait for the drops, then NdisClCloseCall with the last.
        Returns NDIS_STATUS_PENDING while that sequence is under way, else the status of NdisClCloseCall."""
        if call.phase is not CallPhase.CONNECTED:
            raise ClientError(f"{call!r}: only a connected call can be closed")
        call.closing = True
        return self._advance_close(call)

    def ProtocolClIncomingCloseCall(self, CloseStatus: int, ProtocolVcContext: ClientCall,
                                    CloseData: bytes | None, Size: int) -> None:
        """The network closed the call: close it from this side too (drop all but one party, then
        NdisClCloseCall)."""
        call = ProtocolVcContext
        call.incoming_close = True
        self._record("IncomingCloseCall", CloseStatus, call.name, False)
        call.closing = True
        self._advance_close(call)

    def _advance_close(self, call: ClientCall) -> int:
        """Move a closing call one step on. Re-entrant: a drop that completes synchronously calls back in
        here; the outer invocation then runs another round."""
        if call._advancing:
            call._again = True
            return NDIS_STATUS_PENDING
        call._advancing = True
        call._close_status = None
        try:
            while True:
                call._again = False
                self._close_step(call)
                if not call._again:
                    break
        finally:
            call._advancing = False
        return NDIS_STATUS_PENDING if call._close_status is None else call._close_status

    def _close_step(self, call: ClientCall) -> None:
        if not call.closing or call.phase is not CallPhase.CONNECTED:
            return
        if any(p.phase is PartyPhase.ADDING for p in call.parties):
            return  # an add under way: wait for its completion
        active = [p for p in call.parties if p.phase is PartyPhase.ACTIVE]
        for party in active[1:]:
            self._drop(party)
        if any(p.phase is PartyPhase.DROPPING for p in call.parties):
            return  # wait for the drops to complete
        last = next((p for p in call.parties if p.phase is PartyPhase.ACTIVE), None)
        call.phase = CallPhase.CLOSING
        handle = None
        if last is not None:
            last.phase = PartyPhase.DROPPING
            handle, last.handle, last.closing_handle = last.handle, None, last.handle
        status = self.ndis.NdisClCloseCall(call.vc, handle, None, 0)
        if status != NDIS_STATUS_PENDING:
            call._close_status = status
            self._close_call_complete(status, call, last, True)

    def ProtocolClCloseCallComplete(self, Status: int, ProtocolVcContext: ClientCall,
                                    ProtocolPartyContext: ClientParty | None) -> None:
        self._close_call_complete(Status, ProtocolVcContext, ProtocolPartyContext, False)

    def _close_call_complete(self, status: int, call: ClientCall, last: ClientParty | None, sync: bool) -> None:
        self._record("CloseCall", status, call.name, sync)
        call.close_completions.append(status)
        if status != NDIS_STATUS_SUCCESS:
            # The close failed: the call and its last party are still up.
            call.phase = CallPhase.CONNECTED
            call.closing = False
            if last is not None and last.phase is PartyPhase.DROPPING:
                last.phase = PartyPhase.ACTIVE
                last.handle, last.closing_handle = last.closing_handle, None
            return
        call.phase = CallPhase.CLOSED
        # "After the client releases an NdisPartyHandle with NdisClCloseCall, it can release ... the
        # resources for the per-party state" (NdisClCloseCall page).
        for p in list(call.parties):
            call.retire(p)
            self._free(p, TAG_PARTY)
        if self.auto_delete_vc and call.created_by_client and not call.vc_deleted:
            self.delete_vc(call)

    # -- inspection -------------------------------------------------------------------------------

    def completions(self, kind: str | None = None) -> list[Completion]:
        """The recent completions (those still in :attr:`log`), of one kind or all."""
        return [c for c in self.log if kind is None or c.kind == kind]


__all__ = ["CallPhase", "ClientBinding", "ClientCall", "ClientError", "ClientParty", "CoNdisClient", "Completion",
           "HISTORY", "PartyPhase"]
