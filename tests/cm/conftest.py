"""Test doubles for the NDIS model: a scripted miniport call manager (correct, in two flavours: one that
pends every request and completes later from a queue the test drives, one that completes synchronously),
a virtual clock, and a world builder wiring NDIS, the rule checker, the MCM and the client.

pytest runs with --import-mode=importlib, so test modules cannot import this file: they get the classes
through the ``d`` fixture (a namespace) and subclass them locally for the broken variants.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any, Callable

import pytest

from cm.client import CoNdisClient
from cm.ndis.characteristics import NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS
from cm.ndis.dispatcher import Ndis
from cm.ndis.handles import Out
from cm.ndis.irql import CPU, DISPATCH_LEVEL, at_irql
from cm.ndis.params import ATM_ADDRESS, CO_ADDRESS_FAMILY, CO_CALL_PARAMETERS
from cm.ndis.status import (NDIS_STATUS_FAILURE, NDIS_STATUS_PENDING, NDIS_STATUS_RESOURCES, NDIS_STATUS_SUCCESS)
from cm.rules import RuleChecker

TAG_VC = "McVc"
TAG_PARTY = "McPy"


class FakeClock:
    """Virtual time for tests: call it for the time, advance() it."""

    def __init__(self) -> None:
        self.t = 0

    def __call__(self) -> int:
        return self.t

    def advance(self, n: int) -> None:
        self.t += n


@dataclass(eq=False)
class McmVc:
    """The MCM's per-VC state (CallMgrVcContext)."""

    handle: Any
    parties: list["McmParty"] = field(default_factory=list)
    params: CO_CALL_PARAMETERS | None = None


@dataclass(eq=False)
class McmParty:
    """The MCM's per-party state (CallMgrPartyContext): holds the NdisPartyHandle (seed page
    ProtocolCmAddParty: "the call manager must store the handle specified by NdisPartyHandle")."""

    vc: McmVc
    handle: Any
    address: str
    state: str = "adding"  # adding, active, dropping


class ScriptedMcm:
    """A correct miniport call manager without an adapter: it decides each request's status from
    ``decide`` (called number -> NDIS status; SUCCESS by default) and either pends every request and
    completes it when the test calls :meth:`complete_next` (``pend=True``), or completes synchronously.
    Completions run at DISPATCH_LEVEL, as from a DPC. Per-VC and per-party state live in memory
    allocated through NDIS and are freed when the VC is deleted, the party dropped, its add failed, or
    the call closed."""

    def __init__(self, ndis: Ndis, *, pend: bool = True, name: str = "test-mcm",
                 decide: Callable[[str], int] | None = None) -> None:
        self.ndis = ndis
        self.pend = pend
        self.decide = decide or (lambda number: NDIS_STATUS_SUCCESS)
        self.queue: deque[Callable[[], None]] = deque()
        self.vcs: list[McmVc] = []
        self.af_handle: Any = None
        self.adapter = ndis.register_miniport(name)
        self.MiniportInitializeEx()

    # -- initialisation ---------------------------------------------------------------------------

    def handlers(self) -> NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS:
        return NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS(
            CmCreateVcHandler=self.ProtocolCoCreateVc, CmDeleteVcHandler=self.ProtocolCoDeleteVc,
            CmOpenAfHandler=self.ProtocolCmOpenAf, CmCloseAfHandler=self.ProtocolCmCloseAf,
            CmMakeCallHandler=self.ProtocolCmMakeCall, CmCloseCallHandler=self.ProtocolCmCloseCall,
            CmAddPartyHandler=self.ProtocolCmAddParty, CmDropPartyHandler=self.ProtocolCmDropParty)

    def MiniportInitializeEx(self) -> None:
        self.ndis.NdisMSetMiniportAttributes(self.adapter, self)
        self.ndis.NdisSetOptionalHandlers(self.adapter, self.handlers())
        assert self.ndis.NdisMCmRegisterAddressFamilyEx(self.adapter, CO_ADDRESS_FAMILY()) == NDIS_STATUS_SUCCESS

    def unload(self) -> None:
        self.ndis.unload_driver(self.adapter)

    # -- the completion queue the test drives -----------------------------------------------------

    def complete_next(self) -> bool:
        if not self.queue:
            return False
        job = self.queue.popleft()
        with at_irql(DISPATCH_LEVEL):
            job()
        return True

    def complete_random(self, rng: random.Random) -> bool:
        if not self.queue:
            return False
        i = rng.randrange(len(self.queue))
        self.queue.rotate(-i)
        job = self.queue.popleft()
        self.queue.rotate(i)
        with at_irql(DISPATCH_LEVEL):
            job()
        return True

    def complete_all(self) -> int:
        n = 0
        while self.complete_next():
            n += 1
        return n

    # -- helpers ----------------------------------------------------------------------------------

    def alloc(self, obj: Any, tag: str) -> Any:
        return self.ndis.NdisAllocateMemoryWithTagPriority(self.adapter, obj, tag)

    def free(self, obj: Any, tag: str) -> None:
        self.ndis.NdisFreeMemoryWithTagPriority(self.adapter, obj, tag)

    @staticmethod
    def number(params: CO_CALL_PARAMETERS) -> str:
        q = params.q2931
        return "" if q is None else q.CalledParty.digits.decode("ascii", "replace")

    def new_party(self, vc: McmVc, handle: Any, params: CO_CALL_PARAMETERS) -> McmParty | None:
        party = self.alloc(McmParty(vc, handle, self.number(params)), TAG_PARTY)
        if party is not None:
            vc.parties.append(party)
        return party

    def free_party(self, party: McmParty) -> None:
        if party in party.vc.parties:
            party.vc.parties.remove(party)
            self.free(party, TAG_PARTY)

    def run(self, job: Callable[[], None]) -> int:
        """Queue ``job`` as a later completion (pend mode): the handler returns PENDING."""
        self.queue.append(job)
        return NDIS_STATUS_PENDING

    # -- address family and VCs -------------------------------------------------------------------

    def ProtocolCmOpenAf(self, CallMgrBindingContext, AddressFamily, NdisAfHandle, CallMgrAfContext):
        self.af_handle = NdisAfHandle
        CallMgrAfContext.value = self
        return NDIS_STATUS_SUCCESS

    def ProtocolCmCloseAf(self, CallMgrAfContext):
        return NDIS_STATUS_SUCCESS

    def ProtocolCoCreateVc(self, ProtocolAfContext, NdisVcHandle, ProtocolVcContext):
        vc = self.alloc(McmVc(NdisVcHandle), TAG_VC)
        if vc is None:
            return NDIS_STATUS_RESOURCES
        self.vcs.append(vc)
        ProtocolVcContext.value = vc
        return NDIS_STATUS_SUCCESS

    def ProtocolCoDeleteVc(self, ProtocolVcContext):
        vc = ProtocolVcContext
        self.vcs.remove(vc)
        self.free(vc, TAG_VC)
        return NDIS_STATUS_SUCCESS

    # -- calls ------------------------------------------------------------------------------------

    def ProtocolCmMakeCall(self, CallMgrVcContext, CallParameters, NdisPartyHandle, CallMgrPartyContext):
        vc: McmVc = CallMgrVcContext
        vc.params = CallParameters
        party = None
        if NdisPartyHandle is not None:
            party = self.new_party(vc, NdisPartyHandle, CallParameters)
            if party is None:
                return NDIS_STATUS_RESOURCES
            CallMgrPartyContext.value = party
        status = self.decide(self.number(CallParameters))

        def finish(status=status) -> None:
            if status == NDIS_STATUS_SUCCESS:
                self.ndis.NdisMCmActivateVc(vc.handle, CallParameters)
                if party is not None:
                    party.state = "active"
                self.ndis.NdisMCmMakeCallComplete(status, vc.handle, NdisPartyHandle, party, CallParameters)
            else:
                if party is not None:
                    self.free_party(party)
                self.ndis.NdisMCmMakeCallComplete(status, vc.handle, None, None, CallParameters)

        if self.pend:
            return self.run(finish)
        if status == NDIS_STATUS_SUCCESS:
            self.ndis.NdisMCmActivateVc(vc.handle, CallParameters)
            if party is not None:
                party.state = "active"
        elif party is not None:
            self.free_party(party)
        return status

    def ProtocolCmAddParty(self, CallMgrVcContext, CallParameters, NdisPartyHandle, CallMgrPartyContext):
        vc: McmVc = CallMgrVcContext
        party = self.new_party(vc, NdisPartyHandle, CallParameters)
        if party is None:
            return NDIS_STATUS_RESOURCES
        CallMgrPartyContext.value = party
        status = self.decide(party.address)

        def finish(status=status) -> None:
            if status == NDIS_STATUS_SUCCESS:
                party.state = "active"
                self.ndis.NdisMCmAddPartyComplete(status, party.handle, party, CallParameters)
            else:
                handle = party.handle
                self.free_party(party)
                self.ndis.NdisMCmAddPartyComplete(status, handle, None, CallParameters)

        if self.pend:
            return self.run(finish)
        if status == NDIS_STATUS_SUCCESS:
            party.state = "active"
        else:
            self.free_party(party)
        return status

    def ProtocolCmDropParty(self, CallMgrPartyContext, CloseData, Size):
        party: McmParty = CallMgrPartyContext
        party.state = "dropping"

        def finish() -> None:
            self.ndis.NdisMCmDropPartyComplete(NDIS_STATUS_SUCCESS, party.handle)
            self.free_party(party)  # "can release ... when NdisCmDropPartyComplete returns control"

        if self.pend:
            return self.run(finish)
        self.free_party(party)
        return NDIS_STATUS_SUCCESS

    def ProtocolCmCloseCall(self, CallMgrVcContext, CallMgrPartyContext, CloseData, Size):
        vc: McmVc = CallMgrVcContext
        last: McmParty | None = CallMgrPartyContext
        others = [p for p in vc.parties if p is not last and p.state != "dropping"]
        if others:
            # "The call manager will fail any client's request to close a multipoint call if the given VC
            # still has more than one party connected" (NdisClCloseCall page)
            return NDIS_STATUS_FAILURE

        def finish() -> None:
            self.ndis.NdisMCmDeactivateVc(vc.handle)
            handle = None if last is None else last.handle
            if last is not None:
                self.free_party(last)
            self.ndis.NdisMCmCloseCallComplete(NDIS_STATUS_SUCCESS, vc.handle, handle)

        if self.pend:
            return self.run(finish)
        self.ndis.NdisMCmDeactivateVc(vc.handle)
        if last is not None:
            self.free_party(last)
        return NDIS_STATUS_SUCCESS

    # -- the network side: a remote leaf leaves ---------------------------------------------------

    def remote_leaves(self, party: McmParty, cause_status: int = NDIS_STATUS_SUCCESS) -> None:
        """A leaf released its connection: incoming drop, or incoming close for the last party."""
        vc = party.vc
        with at_irql(DISPATCH_LEVEL):
            if [p for p in vc.parties if p is not party]:
                self.ndis.NdisMCmDispatchIncomingDropParty(cause_status, party.handle, None, 0)
            else:
                self.ndis.NdisMCmDispatchIncomingCloseCall(cause_status, vc.handle, None, 0)

    def active_parties(self) -> list[McmParty]:
        return [p for vc in self.vcs for p in vc.parties if p.state == "active"]


@dataclass
class World:
    ndis: Ndis
    checker: RuleChecker
    mcm: ScriptedMcm
    client: CoNdisClient
    clock: FakeClock

    def finish(self) -> None:
        """Complete what is queued, close every call, close the AF, unload both drivers."""
        self.mcm.complete_all()
        for call in list(self.client.calls):
            if call.phase.value == "connected":
                self.client.close_call(call)
            self.mcm.complete_all()
        if self.client.binding is not None and self.client.binding.af_open:
            self.client.close_af()
        self.mcm.complete_all()
        self.client.unload()
        self.mcm.unload()


def make_world(mode: str = "report", *, mcm_cls: type = ScriptedMcm, client_cls: type = CoNdisClient,
               deadline: int | None = None, **mcm_kw: Any) -> World:
    CPU.reset()
    clock = FakeClock()
    ndis = Ndis(clock=clock)
    checker = RuleChecker(mode, deadline=deadline).attach(ndis)
    mcm = mcm_cls(ndis, **mcm_kw)
    client = client_cls(ndis)
    client.bind(mcm.adapter)
    return World(ndis, checker, mcm, client, clock)


def e164(number: str) -> ATM_ADDRESS:
    return ATM_ADDRESS.e164(number)


@pytest.fixture(autouse=True)
def _passive_level():
    """Every test starts at PASSIVE_LEVEL, whatever a broken driver of a previous test left."""
    CPU.reset()
    yield
    CPU.reset()


@pytest.fixture(scope="session")
def d() -> SimpleNamespace:
    """The test doubles, for modules that cannot import this conftest."""
    return SimpleNamespace(ScriptedMcm=ScriptedMcm, McmVc=McmVc, McmParty=McmParty, FakeClock=FakeClock,
                           World=World, make_world=make_world, e164=e164, Out=Out, TAG_PARTY=TAG_PARTY,
                           TAG_VC=TAG_VC)
