"""The rule checker: an observer of the NDIS dispatcher that flags every violation of the rules in
:mod:`cm.rules.registry`, with the rule, the NDIS call or handler, the handle, and where in the driver it
happened (the first stack frame outside cm/ndis and cm/rules; for what is found when a handler returns,
the handler's definition; for leaks, where the memory was allocated).

Two modes:
- ``strict``: :class:`RuleViolation` is raised at the violation, out of the NDIS call the driver made
  (or out of the NDIS call that invoked the offending handler), so a test or a debugger stops there;
- ``report``: violations are collected in :attr:`RuleChecker.violations` and NDIS carries on (refusing
  what it cannot act on); :meth:`RuleChecker.report` gives a :class:`Report` whose
  :meth:`~Report.render` prints a table.

Usage::

    ndis = Ndis(clock=lambda: clock.now)          # hw.clock.Clock
    checker = RuleChecker("report", deadline=10_000).attach(ndis)
    ...                                  # load the MCM and the client, run a scenario
    ndis.unload_driver(client.protocol_handle); ndis.unload_driver(mcm.adapter_handle)
    print(checker.report().render())
"""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass
from enum import Enum
from typing import Callable, Iterable

from cm.ndis.dispatcher import HandlerCall, Ndis, NdisCall, NdisObserver, tag_text
from cm.ndis.handles import (AfState, CallState, DriverHandle, NdisAfHandle, NdisHandle, NdisPartyHandle,
                             NdisVcHandle, Operation, OpKind, OpState, PartyState, Role)
from cm.ndis.irql import IRQL_REQUIREMENTS, irql_name
from cm.ndis.status import NDIS_STATUS_PENDING, NDIS_STATUS_SUCCESS, status_name
from cm.ndis.trace import Location, handler_location
from cm.rules.registry import RULES, Rule, rule
from hw.errors import AtmemuError


class Mode(str, Enum):
    STRICT = "strict"
    REPORT = "report"


@dataclass(frozen=True)
class Violation:
    """One violation: the rule, the NDIS function or handler involved, the handle (as printed), where in
    the driver, what happened, the virtual time, and the driver's name."""

    rule: Rule
    function: str
    handle: str
    where: Location
    message: str
    time: int | None = None
    driver: str = ""

    def __str__(self) -> str:
        t = "" if self.time is None else f" at t={self.time}"
        return f"[{self.rule.name}] {self.function} on {self.handle} ({self.where}){t}: {self.message}"


class RuleViolation(AtmemuError):
    """Raised in strict mode at a violation; ``violation`` says which."""

    def __init__(self, violation: Violation) -> None:
        self.violation = violation
        super().__init__(str(violation))


#: The function that completes (or the call that answers) each kind of operation.
COMPLETION_OF: dict[OpKind, str] = {
    OpKind.OPEN_AF: "NdisMCmOpenAddressFamilyComplete",
    OpKind.CLOSE_AF: "NdisMCmCloseAddressFamilyComplete",
    OpKind.MAKE_CALL: "NdisMCmMakeCallComplete",
    OpKind.CLOSE_CALL: "NdisMCmCloseCallComplete",
    OpKind.ADD_PARTY: "NdisMCmAddPartyComplete",
    OpKind.DROP_PARTY: "NdisMCmDropPartyComplete",
    OpKind.INCOMING_DROP_PARTY: "NdisClDropParty (or NdisClCloseCall)",
    OpKind.INCOMING_CLOSE_CALL: "NdisClCloseCall",
}

_STARTED_BY: dict[OpKind, str] = {
    OpKind.OPEN_AF: "NdisClOpenAddressFamilyEx", OpKind.CLOSE_AF: "NdisClCloseAddressFamily",
    OpKind.MAKE_CALL: "NdisClMakeCall", OpKind.CLOSE_CALL: "NdisClCloseCall", OpKind.ADD_PARTY: "NdisClAddParty",
    OpKind.DROP_PARTY: "NdisClDropParty", OpKind.INCOMING_DROP_PARTY: "NdisMCmDispatchIncomingDropParty",
    OpKind.INCOMING_CLOSE_CALL: "NdisMCmDispatchIncomingCloseCall",
}


def _driver_name(driver: DriverHandle | None) -> str:
    return "" if driver is None else driver.name


class RuleChecker(NdisObserver):
    """Checks the rules on every crossing of an :class:`~cm.ndis.dispatcher.Ndis` it is attached to.

    ``mode``: "strict" (raise :class:`RuleViolation`) or "report" (collect). ``clock``: a callable giving
    virtual time (defaults to the NDIS instance's clock). ``deadline``: with a clock, an operation
    outstanding for longer than this many time units is flagged PendingForever (checked on every crossing
    and by :meth:`check_deadlines`). ``rules``: names of the rules to enforce (default all)."""

    def __init__(self, mode: Mode | str = Mode.STRICT, *, clock: Callable[[], int] | None = None,
                 deadline: int | None = None, rules: Iterable[str] | None = None) -> None:
        self.mode = Mode(mode)
        self.clock = clock
        if deadline is not None and (isinstance(deadline, bool) or not isinstance(deadline, int) or deadline < 0):
            raise ValueError(f"deadline={deadline!r}: expected a non-negative int (virtual time units)")
        self.deadline = deadline
        self.enabled = frozenset(RULES) if rules is None else frozenset(rule(n).name for n in rules)
        self.violations: list[Violation] = []
        self.ndis: Ndis | None = None
        self._outstanding: dict[int, tuple[Operation, int | None]] = {}
        self._overdue: set[int] = set()
        self._op_handler: dict[int, Callable] = {}
        self._on_call: dict[str, Callable[[NdisCall], None]] = {
            "NdisMCmOpenAddressFamilyComplete": self._open_af_complete,
            "NdisMCmCloseAddressFamilyComplete": self._close_af_complete,
            "NdisMCmMakeCallComplete": self._make_call_complete,
            "NdisMCmCloseCallComplete": self._close_call_complete,
            "NdisMCmAddPartyComplete": self._add_party_complete,
            "NdisMCmDropPartyComplete": self._drop_party_complete,
            "NdisMCmDispatchIncomingDropParty": self._incoming_drop,
            "NdisMCmDispatchIncomingCloseCall": self._vc_use,
            "NdisMCmActivateVc": self._vc_use,
            "NdisMCmDeactivateVc": self._vc_use,
            "NdisMCmDeleteVc": self._delete_vc,
            "NdisMCmCreateVc": self._af_use,
            "NdisClMakeCall": self._vc_use,
            "NdisClAddParty": self._vc_use,
            "NdisClDropParty": self._cl_drop_party,
            "NdisClCloseCall": self._cl_close_call,
            "NdisCoCreateVc": self._af_use,
            "NdisCoDeleteVc": self._delete_vc,
            "NdisClCloseAddressFamily": self._af_use,
            "NdisFreeMemoryWithTagPriority": self._free,
        }

    # -- wiring -----------------------------------------------------------------------------------

    def attach(self, ndis: Ndis) -> "RuleChecker":
        """Observe ``ndis`` (and use its clock when none was given). Returns self."""
        ndis.attach(self)
        self.ndis = ndis
        if self.clock is None:
            self.clock = ndis.clock
        return self

    def now(self) -> int | None:
        return None if self.clock is None else self.clock()

    def flag(self, name: str, function: str, handle: object, where: Location, message: str,
             driver: DriverHandle | None = None) -> None:
        """Record a violation of rule ``name`` (raise it in strict mode)."""
        if name not in self.enabled:
            return
        v = Violation(rule(name), function, handle if isinstance(handle, str) else repr(handle), where, message,
                      self.now(), _driver_name(driver))
        if self.mode is Mode.STRICT:
            raise RuleViolation(v)
        self.violations.append(v)

    def report(self) -> "Report":
        return Report(list(self.violations))

    # -- observer hooks ---------------------------------------------------------------------------

    def on_call(self, call: NdisCall) -> None:
        req = IRQL_REQUIREMENTS.get(call.function)
        if req is not None and not req.allows(call.irql):
            self.flag("IrqlTooHigh", call.function, call.handle or call.driver, call.where,
                      f"called at {irql_name(call.irql)}; allowed at most {irql_name(req.max_irql)} ({req.source})",
                      call.driver)
        check = self._on_call.get(call.function)
        if check is not None:
            check(call)
        self._tick()

    def on_handler_call(self, hc: HandlerCall) -> None:
        if hc.op is not None:
            self._op_handler[hc.op.serial] = hc.function

    def on_handler_return(self, hc: HandlerCall) -> None:
        status = hc.status
        if hc.irql_after != hc.irql:
            self.flag("IrqlNotRestored", hc.handler, hc.handle, hc.where,
                      f"called at {irql_name(hc.irql)}, returned at {irql_name(hc.irql_after)} "
                      f"(a spin lock left held, or KeRaiseIrql without KeLowerIrql)", hc.driver)
        if hc.handler in ("ProtocolCoCreateVc", "ProtocolCoDeleteVc") and status == NDIS_STATUS_PENDING:
            self.flag("VcHandlerPending", hc.handler, hc.handle, hc.where,
                      f"the {hc.callee.value}'s {hc.handler} returned NDIS_STATUS_PENDING; it must return its final "
                      f"status (NDIS fails the request)", hc.driver)
        op = hc.op
        if op is not None and op.owner is Role.CALL_MANAGER and status != NDIS_STATUS_PENDING and op.completions:
            self.flag("CompleteNeverPended", hc.handler, hc.handle, hc.where,
                      f"{COMPLETION_OF[op.kind]} was called from inside {hc.handler}, which then returned "
                      f"{status_name(status) if isinstance(status, int) else status!r} instead of NDIS_STATUS_PENDING",
                      hc.driver)
        if status == NDIS_STATUS_SUCCESS and (op is None or not op.completions):
            if hc.handler == "ProtocolCmAddParty" and (hc.out is None or hc.out.value is None):
                self.flag("AddPartySuccessWithoutContext", hc.handler, hc.handle, hc.where,
                          "returned NDIS_STATUS_SUCCESS without setting *CallMgrPartyContext", hc.driver)
            elif hc.handler == "ProtocolCmMakeCall":
                vc = hc.handle
                if isinstance(vc, NdisVcHandle) and not vc.active:
                    self.flag("MakeCallSuccessBeforeActivate", hc.handler, vc, hc.where,
                              "returned NDIS_STATUS_SUCCESS without calling NdisMCmActivateVc first", hc.driver)
                if hc.out is not None and hc.out.value is None:
                    self.flag("AddPartySuccessWithoutContext", hc.handler, hc.handle, hc.where,
                              "multipoint make-call returned NDIS_STATUS_SUCCESS without setting "
                              "*CallMgrPartyContext for the first party", hc.driver)
        self._tick()

    def on_operation(self, op: Operation, event: str) -> None:
        if event == "start":
            self._outstanding[op.serial] = (op, self.now())
        else:
            self._outstanding.pop(op.serial, None)
            self._op_handler.pop(op.serial, None)
            self._overdue.discard(op.serial)

    def on_unload(self, driver: DriverHandle, ndis: Ndis) -> None:
        # Operations first: a request never completed is usually why its state was never freed.
        for op, _t0 in list(self._outstanding.values()):
            if op.driver is driver and op.serial not in self._overdue:
                self._pending_forever(op, "at unload")
        for alloc in [a for a in ndis.allocations.values() if a.owner is driver]:
            party = alloc.party
            if party is not None:
                state = party.ended_by or party.state.value
                self.flag("PartyStateNotFreed", "unload", party, alloc.where,
                          f"per-party state (tag '{alloc.tag_text}', {type(alloc.memory).__name__}) allocated here is "
                          f"still allocated at unload; the party is {state}", driver)
            else:
                self.flag("MemoryLeak", "unload", driver, alloc.where,
                          f"memory (tag '{alloc.tag_text}', {type(alloc.memory).__name__}) allocated here was never "
                          f"freed", driver)

    # -- deadline ---------------------------------------------------------------------------------

    def _tick(self) -> None:
        if self.deadline is not None and self.clock is not None and self._outstanding:
            self.check_deadlines()

    def check_deadlines(self, now: int | None = None) -> list[Violation]:
        """Flag every operation outstanding for longer than the deadline (once each). Returns the new
        violations (report mode)."""
        if self.deadline is None:
            return []
        now = self.now() if now is None else now
        if now is None:
            return []
        before = len(self.violations)
        for serial, (op, t0) in list(self._outstanding.items()):
            if t0 is None:
                continue
            if now - t0 <= self.deadline:
                break  # started in order: the rest are younger
            if serial in self._overdue:
                continue
            self._overdue.add(serial)
            self._pending_forever(op, f"outstanding for {now - t0} time units (deadline {self.deadline})")
        return self.violations[before:]

    def _pending_forever(self, op: Operation, when: str) -> None:
        fn = self._op_handler.get(op.serial)
        where = handler_location(fn) if fn is not None else op.where
        if op.owner is Role.CALL_MANAGER:
            msg = (f"the {op.kind.value} started by {_STARTED_BY[op.kind]} at {op.where} was pended and never "
                   f"completed with {COMPLETION_OF[op.kind]} ({when})")
        else:
            msg = (f"the {_STARTED_BY[op.kind]} indicated at {op.where} was never answered with "
                   f"{COMPLETION_OF[op.kind]} ({when})")
        self.flag("PendingForever", COMPLETION_OF[op.kind], op.handle, where, msg, op.driver)

    # -- checks on calls --------------------------------------------------------------------------

    def _completion(self, call: NdisCall, op: Operation | None, handle: NdisHandle,
                    party: NdisPartyHandle | None = None) -> bool:
        """The checks shared by every completion function. True when the completion is legitimate."""
        status = call.args["Status"]
        if status == NDIS_STATUS_PENDING:
            self.flag("CompleteWithPending", call.function, handle, call.where,
                      "called with NDIS_STATUS_PENDING; a completion carries the final status", call.driver)
            return False
        if op is not None and (op.state is OpState.COMPLETED or (op.state is OpState.IN_HANDLER and op.completions)):
            self.flag("CompleteTwice", call.function, handle, call.where,
                      f"the {op.kind.value} started at {op.where} was already completed with {status_name(op.status)}",
                      call.driver)
            return False
        if op is not None and op.outstanding:
            return True
        if (op is None or op.state is not OpState.SYNCHRONOUS) and party is not None and party.state is PartyState.DEAD:
            self.flag("PartyHandleAfterDrop", call.function, party, call.where,
                      f"the party ended ({party.ended_by}); its handle is no longer valid", call.driver)
            return False
        if op is None:
            what = "no such request was ever made on this handle"
        else:
            what = (f"the handler returned {status_name(op.status)} for the {op.kind.value} started at {op.where}; "
                    f"nothing is owed")
        self.flag("CompleteNeverPended", call.function, handle, call.where, what, call.driver)
        return False

    def _stale_vc(self, call: NdisCall, vc: NdisVcHandle) -> bool:
        if vc.deleted:
            self.flag("StaleHandle", call.function, vc, call.where, "the VC was deleted", call.driver)
            return True
        return False

    def _stale_af(self, call: NdisCall, af: NdisAfHandle) -> bool:
        closed = af.state is AfState.CLOSED or (call.caller is Role.CLIENT and af.state is AfState.CLOSING)
        if closed:
            self.flag("StaleHandle", call.function, af, call.where,
                      f"the address family is {af.state.value}", call.driver)
        return closed

    def _open_af_complete(self, call: NdisCall) -> None:
        af = call.handle
        if isinstance(af, NdisAfHandle):
            self._completion(call, af.open_op, af)

    def _close_af_complete(self, call: NdisCall) -> None:
        af = call.handle
        if isinstance(af, NdisAfHandle):
            self._completion(call, af.close_op, af)

    def _make_call_complete(self, call: NdisCall) -> None:
        vc = call.handle
        if not isinstance(vc, NdisVcHandle) or self._stale_vc(call, vc):
            return
        if not self._completion(call, vc.make_op, vc):
            return
        if call.args["Status"] == NDIS_STATUS_SUCCESS:
            if not vc.active:
                self.flag("MakeCallSuccessBeforeActivate", call.function, vc, call.where,
                          "completed with NDIS_STATUS_SUCCESS before NdisMCmActivateVc", call.driver)
            first = next((p for p in vc.parties if p.initial and p.state is PartyState.ADDING), None)
            if first is not None and call.args["CallMgrPartyContext"] is None:
                self.flag("AddPartySuccessWithoutContext", call.function, first, call.where,
                          "multipoint make-call completed with NDIS_STATUS_SUCCESS and CallMgrPartyContext NULL",
                          call.driver)

    def _close_call_complete(self, call: NdisCall) -> None:
        vc = call.handle
        if isinstance(vc, NdisVcHandle) and not self._stale_vc(call, vc):
            self._completion(call, vc.close_op, vc)

    def _add_party_complete(self, call: NdisCall) -> None:
        party = call.handle
        if not isinstance(party, NdisPartyHandle):
            return
        if self._completion(call, party.add_op, party, party) and call.args["Status"] == NDIS_STATUS_SUCCESS \
                and call.args["CallMgrPartyContext"] is None:
            self.flag("AddPartySuccessWithoutContext", call.function, party, call.where,
                      "completed with NDIS_STATUS_SUCCESS and CallMgrPartyContext NULL", call.driver)

    def _drop_party_complete(self, call: NdisCall) -> None:
        party = call.handle
        if isinstance(party, NdisPartyHandle):
            self._completion(call, party.drop_op, party, party)

    def _incoming_drop(self, call: NdisCall) -> None:
        party = call.handle
        if not isinstance(party, NdisPartyHandle):
            return
        if party.state is PartyState.DEAD:
            self.flag("PartyHandleAfterDrop", call.function, party, call.where,
                      f"the party ended ({party.ended_by}); its handle is no longer valid", call.driver)
        elif party.state is PartyState.ACTIVE and not party.released and not party.vc.has_live_parties(exclude=party):
            self.flag("IncomingDropForLastParty", call.function, party, call.where,
                      "no other party remains on the call: indicate NdisMCmDispatchIncomingCloseCall", call.driver)

    def _vc_use(self, call: NdisCall) -> None:
        vc = call.handle
        if isinstance(vc, NdisVcHandle):
            self._stale_vc(call, vc)

    def _af_use(self, call: NdisCall) -> None:
        af = call.handle
        if isinstance(af, NdisAfHandle):
            self._stale_af(call, af)

    def _delete_vc(self, call: NdisCall) -> None:
        vc = call.handle
        if not isinstance(vc, NdisVcHandle) or self._stale_vc(call, vc):
            return
        if vc.active or vc.call_state in (CallState.MAKING, CallState.CONNECTED, CallState.CLOSING):
            what = "active" if vc.active else f"carrying a call ({vc.call_state.value})"
            self.flag("DeleteVcWhileActive", call.function, vc, call.where,
                      f"the VC is {what}: close the call (and NdisMCmDeactivateVc) first", call.driver)

    def _client_party(self, call: NdisCall, party: NdisPartyHandle) -> bool:
        """PartyHandleAfterDrop for a client use. True when the handle was still the client's."""
        if party.state is PartyState.DEAD:
            self.flag("PartyHandleAfterDrop", call.function, party, call.where,
                      f"the party ended ({party.ended_by}); its handle is no longer valid", call.driver)
            return False
        if party.released:
            self.flag("PartyHandleAfterDrop", call.function, party, call.where,
                      "the client already gave this handle back (NdisClDropParty / NdisClCloseCall)", call.driver)
            return False
        return True

    def _cl_drop_party(self, call: NdisCall) -> None:
        party = call.handle
        if not isinstance(party, NdisPartyHandle) or not self._client_party(call, party):
            return
        if party.state is PartyState.ACTIVE and not party.vc.has_remaining_parties(exclude=party):
            self.flag("DropLastParty", call.function, party, call.where,
                      "this is the last party of the call: close it with NdisClCloseCall", call.driver)

    def _cl_close_call(self, call: NdisCall) -> None:
        vc = call.args["NdisVcHandle"]
        if not isinstance(vc, NdisVcHandle) or self._stale_vc(call, vc):
            return
        party = call.args["NdisPartyHandle"]
        if isinstance(party, NdisPartyHandle) and not self._client_party(call, party):
            return
        if vc.multipoint and vc.call_state is CallState.CONNECTED:
            left = vc.remaining_parties(exclude=party)
            if left:
                self.flag("CloseCallWithPartiesLeft", call.function, vc, call.where,
                          f"{len(left)} other part{'y' if len(left) == 1 else 'ies'} still on the call "
                          f"({', '.join(repr(p) for p in left[:3])}{'...' if len(left) > 3 else ''}); drop them first",
                          call.driver)

    def _free(self, call: NdisCall) -> None:
        ndis = self.ndis
        if ndis is None:
            return
        memory = call.args["VirtualAddress"]
        alloc = ndis.allocation_of(memory)
        if alloc is None:
            self.flag("BadFree", call.function, call.driver, call.where,
                      f"{type(memory).__name__} object is not allocated (never allocated, or already freed)",
                      call.driver)
        elif alloc.tag != call.args["Tag"]:
            self.flag("BadFree", call.function, call.driver, call.where,
                      f"freed with tag '{tag_text(call.args['Tag'])}', allocated with '{alloc.tag_text}' at {alloc.where}",
                      call.driver)
        elif alloc.owner is not call.driver:
            self.flag("BadFree", call.function, call.driver, call.where,
                      f"freed with the handle of {call.driver!r}, allocated by {alloc.owner!r}", call.driver)


class Report:
    """The violations a report-mode checker collected."""

    def __init__(self, violations: list[Violation]) -> None:
        self.violations = violations

    def __len__(self) -> int:
        return len(self.violations)

    def __iter__(self):
        return iter(self.violations)

    @property
    def ok(self) -> bool:
        return not self.violations

    def names(self) -> list[str]:
        """The rule names, in order of detection."""
        return [v.rule.name for v in self.violations]

    def by_rule(self) -> Counter[str]:
        return Counter(self.names())

    def render(self, *, width: int = 160) -> str:
        """The violations as a rich table, then one line per broken rule with its source; plain text."""
        from rich.console import Console
        from rich.table import Table

        buf = io.StringIO()
        console = Console(file=buf, width=width, force_terminal=False, color_system=None, record=False)
        if not self.violations:
            console.print("Rule checker: no violations.")
            return buf.getvalue()
        table = Table(title=f"Rule checker: {len(self.violations)} violation(s)", show_lines=False)
        for col in ("#", "Rule", "Call", "Handle", "Where", "Driver", "What"):
            table.add_column(col, overflow="fold")
        for i, v in enumerate(self.violations, 1):
            table.add_row(str(i), v.rule.name, v.function, v.handle, str(v.where), v.driver, v.message)
        console.print(table)
        for name, count in self.by_rule().items():
            r = RULES[name]
            console.print(f"{name} x{count}: {r.title}. Source: {r.source}")
        return buf.getvalue()

    def print(self, console=None) -> None:
        """Print :meth:`render` to ``console`` (a rich Console) or stdout."""
        text = self.render()
        if console is None:
            print(text, end="")
        else:
            console.print(text, end="", markup=False, highlight=False)
