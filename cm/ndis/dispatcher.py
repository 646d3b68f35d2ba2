"""The NDIS library in the middle: the CoNDIS calls a client and a miniport call manager (MCM) make, and
the handlers NDIS calls on the other side in answer.

Sources: reference/condis-mcm.md (all sections), the seed pages (ProtocolCmAddParty,
NdisMCmAddPartyComplete, ProtocolCmDropParty, NdisCmDropPartyComplete, NdisClDropParty), and the WDK pages
of each function cited beside it.

How to read this module
-----------------------
- Every NDIS function is a method of :class:`Ndis` named as in ndis.h, taking the WDK parameters in the
  WDK order under the WDK names. Out parameters are :class:`~cm.ndis.handles.Out` cells. A driver is
  written as in C: it registers its handler table with :meth:`Ndis.NdisSetOptionalHandlers` and calls
  ``ndis.NdisMCmAddPartyComplete(...)``.
- Each function first checks its handles. A handle of the wrong kind or from another NDIS instance would
  bug-check Windows: it raises :class:`~cm.ndis.errors.NdisHandleError`. A handle that is of the right kind
  but no longer valid (a dropped party, a deleted VC) is what the rule checker is for: the call is
  reported to the observers, and NDIS then refuses it (see "Refusals" below) instead of corrupting state.
- Then NDIS does what the WDK says it does: creates the party handle, marks the handle closing, calls the
  other side's handler, records the outcome.
- Client side, the synchronous-return convention is modelled exactly: when a client call (NdisClMakeCall,
  NdisClAddParty, NdisClDropParty, NdisClCloseCall, NdisClOpenAddressFamilyEx, NdisClCloseAddressFamily)
  returns anything but NDIS_STATUS_PENDING, NDIS does *not* call the client's completion handler: the
  client must call its own (NdisClDropParty page: "the client should make an internal call to its
  ProtocolClDropPartyComplete function"). When the call manager returned PENDING, NDIS calls the client's
  completion handler when the call manager completes, and only then.
- A call manager may complete a request from inside its handler, before returning PENDING (on a real
  multiprocessor the completion can also race the return from another CPU): NDIS accepts it; the client's
  completion handler then runs before the client's NdisClXxx call returns PENDING.

Observers
---------
Everything that crosses NDIS is reported to the attached :class:`NdisObserver` objects, before NDIS acts
(``on_call``, ``on_handler_call``) and after (``on_return``, ``on_handler_return``), plus the life of the
operations NDIS tracks (``on_operation``) and driver unloads (``on_unload``). The rule checker
(cm/rules) is such an observer; so can be a tracer or the capture writer. An observer that raises (the
checker in strict mode) aborts the NDIS call at that point.

Refusals
--------
Where NDIS cannot act on a call (a completion nothing pended, a party handle already dead, a VC already
in a call...), the model refuses it: completion functions do nothing more, request functions return
NDIS_STATUS_FAILURE (NDIS_STATUS_NOT_ACCEPTED for a delete of an active VC and a deactivate of an inactive
one, as the reference says). Every refusal increments a named counter in :attr:`Ndis.counters`, so that
nothing is dropped silently. Two cases are deliberately not refused by NDIS: NdisClCloseCall with parties
left goes to the call manager, which must fail it (NdisClCloseCall page), and a completion for a party
the call was closed under is still delivered to the client (its request is still owed an answer).
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from cm.ndis.characteristics import (NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS, NDIS_CO_CLIENT_OPTIONAL_HANDLERS,
                                     NDIS_PROTOCOL_CO_CHARACTERISTICS)
from cm.ndis.errors import NdisHandleError, NdisRegistrationError
from cm.ndis.handles import (AfState, CallState, DriverHandle, NdisAfHandle, NdisBindingHandle, NdisHandle,
                             NdisMiniportAdapterHandle, NdisPartyHandle, NdisProtocolHandle, NdisVcHandle,
                             Operation, OpKind, OpState, Out, PartyState, Role)
from cm.ndis.irql import CPU, Processor
from cm.ndis.params import CO_ADDRESS_FAMILY, CO_CALL_PARAMETERS
from cm.ndis.status import (NDIS_STATUS_FAILURE, NDIS_STATUS_NOT_ACCEPTED, NDIS_STATUS_PENDING, NDIS_STATUS_SUCCESS,
                            as_status, status_name)
from cm.ndis.trace import Location, caller_location, handler_location
from hw.errors import FieldError

# wdm.h EX_POOL_PRIORITY
LowPoolPriority = 0
NormalPoolPriority = 16
HighPoolPriority = 32


# ------------------------------------------------------------------------------------------------------
# What observers see


@dataclass(slots=True)
class NdisCall:
    """A driver's call into NDIS. ``caller`` is the role of the driver calling, ``driver`` its handle,
    ``handle`` the handle the call is about, ``args`` the WDK-named arguments, ``irql`` the IRQL at the
    call, ``time`` the virtual time (None without a clock), ``where`` the driver's file and line."""

    function: str
    caller: Role
    driver: DriverHandle | None
    handle: NdisHandle | None
    args: dict[str, Any]
    irql: int
    time: int | None
    where: Location
    result: Any = None


@dataclass(slots=True)
class HandlerCall:
    """NDIS calling a driver's handler. ``handler`` is the WDK function role (ProtocolCmAddParty...),
    ``callee`` the role of the driver called, ``function`` the callable, ``trigger`` the NDIS call that led
    here, ``op`` the operation the handler starts (None for indications without one). After the return,
    ``status`` holds the value returned and ``irql_after`` the IRQL the handler returned at."""

    handler: str
    callee: Role
    driver: DriverHandle
    function: Callable[..., Any]
    handle: NdisHandle | None
    args: dict[str, Any]
    irql: int
    time: int | None
    trigger: NdisCall | None
    op: Operation | None = None
    out: Out | None = None
    status: Any = None
    irql_after: int | None = None
    returned: bool = False

    @property
    def where(self) -> Location:
        """Where the handler is defined."""
        return handler_location(self.function)


@dataclass(slots=True)
class Allocation:
    """Memory a driver allocated through NDIS (NdisAllocateMemoryWithTagPriority), until freed. ``party``
    is set when the memory becomes a party's CallMgrPartyContext (per-party state)."""

    memory: Any
    tag: int
    owner: DriverHandle
    where: Location
    time: int | None
    party: NdisPartyHandle | None = None

    @property
    def tag_text(self) -> str:
        return tag_text(self.tag)


class NdisObserver:
    """Hooks NDIS calls on every crossing. Subclass and override what you need; all default to nothing."""

    def on_call(self, call: NdisCall) -> None:
        """A driver called an NDIS function; NDIS has not acted yet (handles hold their prior state)."""

    def on_return(self, call: NdisCall) -> None:
        """The NDIS function is returning ``call.result``."""

    def on_handler_call(self, call: HandlerCall) -> None:
        """NDIS is about to call a driver's handler."""

    def on_handler_return(self, call: HandlerCall) -> None:
        """The handler returned ``call.status`` at ``call.irql_after``; NDIS has not acted on it yet."""

    def on_operation(self, op: Operation, event: str) -> None:
        """``event`` is "start" (NDIS began tracking ``op``) or "settled" (nothing is owed any more)."""

    def on_unload(self, driver: DriverHandle, ndis: "Ndis") -> None:
        """``driver`` is about to unload."""


#: pool tag text -> its ULONG, for the few tags drivers use (every allocation and free converts one)
_TAG_VALUES: dict[str, int] = {}


def tag_value(tag: int | str | bytes) -> int:
    """A pool tag as the ULONG C stores: 'Prty' written in C as the multi-character constant 'ytrP'
    (reversed, so that a memory dump shows "Prty"). Accepts the 4-character text or the int."""
    if tag.__class__ is str:
        value = _TAG_VALUES.get(tag)
        if value is None:
            value = _tag_value(tag)
            if len(_TAG_VALUES) < 256:
                _TAG_VALUES[tag] = value
        return value
    return _tag_value(tag)


def _tag_value(tag: int | str | bytes) -> int:
    if isinstance(tag, int) and not isinstance(tag, bool):
        if not 0 <= tag <= 0xFFFFFFFF:
            raise FieldError("Tag", tag, "a 32-bit pool tag")
        return tag
    if isinstance(tag, str):
        tag = tag.encode("latin-1")
    if not isinstance(tag, (bytes, bytearray)) or not 1 <= len(tag) <= 4:
        raise FieldError("Tag", tag, "a pool tag of 1 to 4 characters, or its ULONG value")
    return int.from_bytes(bytes(tag).ljust(4, b" "), "little")


def tag_text(tag: int) -> str:
    """The 4 characters a memory dump shows for a pool tag."""
    raw = int(tag).to_bytes(4, "little")
    return "".join(chr(c) if 0x20 <= c < 0x7F else "." for c in raw)


def _check_buffer(function: str, buffer: Any, size: int) -> None:
    """Buffer/Size pairs: Size is the length of Buffer, zero when Buffer is NULL (WDK wording)."""
    if buffer is None:
        if size != 0:
            raise FieldError(f"{function}.Size", size, "0 when Buffer is NULL")
        return
    if not isinstance(buffer, (bytes, bytearray, memoryview)):
        raise FieldError(f"{function}.Buffer", buffer, "bytes or None")
    if size != len(buffer):
        raise FieldError(f"{function}.Size", size, f"the length of Buffer ({len(buffer)})")


# ------------------------------------------------------------------------------------------------------
# The NDIS library


class Ndis:
    """One NDIS library instance: the drivers registered with it, the handles it made, the operations it
    tracks, the memory drivers allocated through it.

    ``clock`` is a callable returning the virtual time (for instance ``lambda: clock.now`` with
    hw.clock.Clock, or a test's counter); it stamps calls and operations. The IRQL NDIS checks is that of
    the one emulated processor, :data:`cm.ndis.irql.CPU`, which the Ke* and spin lock functions change."""

    def __init__(self, *, clock: Callable[[], int] | None = None) -> None:
        self.clock = clock
        self.handle_serials = itertools.count(1)  # the numbers reports give this instance's handles
        self.cpu: Processor = CPU
        self.observers: list[NdisObserver] = []
        self.counters: Counter[str] = Counter()
        self.miniports: list[NdisMiniportAdapterHandle] = []
        self.protocols: list[NdisProtocolHandle] = []
        #: Operations a completion (or a client's answer) is still owed for, oldest first.
        self.outstanding: dict[int, Operation] = {}
        #: Live allocations, by id() of the memory object.
        self.allocations: dict[int, Allocation] = {}
        self._fail_allocations = 0

    # -- observers --------------------------------------------------------------------------------

    def attach(self, observer: NdisObserver) -> NdisObserver:
        """Report every crossing to ``observer`` from now on. Returns it."""
        if observer not in self.observers:
            self.observers.append(observer)
        return observer

    def detach(self, observer: NdisObserver) -> None:
        self.observers.remove(observer)

    def now(self) -> int | None:
        return None if self.clock is None else self.clock()

    # -- plumbing ---------------------------------------------------------------------------------

    def _enter(self, function: str, caller: Role, driver: DriverHandle | None, handle: NdisHandle | None,
               **args: Any) -> NdisCall:
        call = NdisCall(function, caller, driver, handle, args, self.cpu.irql, self.now(), caller_location())
        for obs in self.observers:
            obs.on_call(call)
        return call

    def _leave(self, call: NdisCall, result: Any = None) -> Any:
        call.result = result
        for obs in self.observers:
            obs.on_return(call)
        return result

    def _refuse(self, call: NdisCall, counter: str, status: Any = NDIS_STATUS_FAILURE) -> Any:
        self.counters[f"{call.function}: {counter}"] += 1
        return self._leave(call, status)

    def _handler(self, name: str, callee: Role, driver: DriverHandle, function: Callable[..., Any],
                 handle: NdisHandle | None, trigger: NdisCall | None, *, op: Operation | None = None,
                 out: Out | None = None, **args: Any) -> Any:
        """Call a driver's handler with ``args`` (positional, in the WDK order) and report around it."""
        if driver.unloaded:
            # The driver's code is gone: a real system would jump into freed memory.
            raise NdisRegistrationError(f"{name}: {driver!r} is unloaded; NDIS cannot call its handlers")
        hc = HandlerCall(name, callee, driver, function, handle, args, self.cpu.irql, self.now(), trigger, op, out)
        for obs in self.observers:
            obs.on_handler_call(hc)
        status = function(*args.values())
        hc.status = status
        hc.irql_after = self.cpu.irql
        hc.returned = True
        for obs in self.observers:
            obs.on_handler_return(hc)
        return status

    def _own(self, function: str, parameter: str, value: Any, kind: type, *, optional: bool = False) -> Any:
        """Check that ``value`` is a handle of ``kind`` made by this NDIS (None allowed when optional)."""
        if value is None and optional:
            return None
        if not isinstance(value, kind):
            raise NdisHandleError(function, parameter, value, f"an {getattr(kind, 'kind', kind.__name__)}")
        if value.ndis is not self:
            raise NdisHandleError(function, parameter, value, f"an {kind.kind} of this NDIS instance")
        return value

    @staticmethod
    def _params(function: str, value: Any) -> CO_CALL_PARAMETERS:
        if not isinstance(value, CO_CALL_PARAMETERS):
            raise FieldError(f"{function}.CallParameters", value, "a CO_CALL_PARAMETERS")
        return value

    def _start(self, kind: OpKind, handle: NdisHandle, owner: Role, driver: DriverHandle, call: NdisCall,
               state: OpState = OpState.IN_HANDLER) -> Operation:
        op = Operation(kind, handle, owner, driver, self.now(), call.where, state)
        self.outstanding[op.serial] = op
        for obs in self.observers:
            obs.on_operation(op, "start")
        return op

    def _settle(self, op: Operation) -> None:
        if self.outstanding.pop(op.serial, None) is not None:
            for obs in self.observers:
                obs.on_operation(op, "settled")

    def _returned(self, op: Operation, status: Any) -> bool:
        """The handler that started ``op`` returned ``status``. True when NDIS must now apply a
        synchronous outcome (the handler returned a final status and nothing completed it early)."""
        if status == NDIS_STATUS_PENDING:
            if op.completions:
                op.state = OpState.COMPLETED
            else:
                op.state = OpState.PENDING
            return False
        early = op.completions > 0
        op.state = OpState.SYNCHRONOUS
        if not early:
            op.status = status
            op.completed_at = self.now()
        self._settle(op)
        return not early

    def _accept(self, op: Operation | None, status: Any) -> bool:
        """A completion arrived for ``op``. True when NDIS acts on it: the first completion, with a final
        status, of an operation that owes one. The rule checker has already seen the call."""
        if op is None or status == NDIS_STATUS_PENDING:
            return False
        if op.state is OpState.PENDING and op.completions == 0:
            op.state = OpState.COMPLETED
        elif op.state is OpState.IN_HANDLER and op.completions == 0:
            op.early = True
        else:
            op.completions += 1
            return False
        op.completions = 1
        op.status = status
        op.completed_at = self.now()
        self._settle(op)
        return True

    def _answer(self, op: Operation | None) -> None:
        """The client answered an indication (incoming drop or close)."""
        if op is not None and op.outstanding:
            op.state = OpState.COMPLETED
            op.completions += 1
            op.completed_at = self.now()
            self._settle(op)

    # -- registration (emulation plumbing and NDIS configuration calls) ---------------------------

    def register_miniport(self, name: str) -> NdisMiniportAdapterHandle:
        """NDIS created a miniport adapter and calls the driver's MiniportInitializeEx with this
        MiniportAdapterHandle (emulation plumbing: NdisMRegisterMiniportDriver plus the PnP start)."""
        handle = NdisMiniportAdapterHandle(self, name)
        self.miniports.append(handle)
        return handle

    def NdisMSetMiniportAttributes(self, MiniportAdapterHandle: NdisMiniportAdapterHandle,
                                   MiniportAdapterContext: Any) -> int:
        """Records the driver's adapter context (the only attribute this model uses): NDIS passes it to
        the call manager handlers as CallMgrBindingContext."""
        mp = self._own("NdisMSetMiniportAttributes", "MiniportAdapterHandle", MiniportAdapterHandle,
                       NdisMiniportAdapterHandle)
        mp.MiniportAdapterContext = MiniportAdapterContext
        return NDIS_STATUS_SUCCESS

    def register_protocol(self, name: str) -> NdisProtocolHandle:
        """NdisRegisterProtocolDriver: the NdisProtocolHandle of a new protocol driver (a client)."""
        handle = NdisProtocolHandle(self, name)
        self.protocols.append(handle)
        return handle

    def NdisSetOptionalHandlers(self, NdisHandle: DriverHandle, OptionalHandlers: Any) -> int:
        """Set a driver's CoNDIS handler table (PASSIVE_LEVEL; NdisSetOptionalHandlers page)."""
        driver = self._own("NdisSetOptionalHandlers", "NdisHandle", NdisHandle, DriverHandle)
        role = Role.CALL_MANAGER if isinstance(driver, NdisMiniportAdapterHandle) else Role.CLIENT
        call = self._enter("NdisSetOptionalHandlers", role, driver, driver, NdisHandle=NdisHandle,
                           OptionalHandlers=OptionalHandlers)
        if isinstance(driver, NdisMiniportAdapterHandle) and isinstance(OptionalHandlers,
                                                                        NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS):
            driver.cm_handlers = OptionalHandlers
        elif isinstance(driver, NdisProtocolHandle) and isinstance(OptionalHandlers, NDIS_CO_CLIENT_OPTIONAL_HANDLERS):
            missing = OptionalHandlers.missing()
            if missing:
                raise NdisRegistrationError(f"NdisSetOptionalHandlers: {driver.name}: client handlers missing: "
                                            + ", ".join(missing))
            driver.client_handlers = OptionalHandlers
        elif isinstance(driver, NdisProtocolHandle) and isinstance(OptionalHandlers, NDIS_PROTOCOL_CO_CHARACTERISTICS):
            driver.co_characteristics = OptionalHandlers
        else:
            raise NdisRegistrationError(f"NdisSetOptionalHandlers: {type(OptionalHandlers).__name__} does not apply "
                                        f"to {driver!r}")
        return self._leave(call, NDIS_STATUS_SUCCESS)

    def NdisMCmRegisterAddressFamilyEx(self, MiniportAdapterHandle: NdisMiniportAdapterHandle,
                                       AddressFamily: CO_ADDRESS_FAMILY) -> int:
        """Register the MCM's address family (PASSIVE_LEVEL, from MiniportInitializeEx). NDIS then calls
        ProtocolCoAfRegisterNotify of every client bound to the adapter (NdisMCmRegisterAddressFamilyEx
        page). FAILURE when the caller set no call manager handlers or registers the same AF twice."""
        mp = self._own("NdisMCmRegisterAddressFamilyEx", "MiniportAdapterHandle", MiniportAdapterHandle,
                       NdisMiniportAdapterHandle)
        if not isinstance(AddressFamily, CO_ADDRESS_FAMILY):
            raise FieldError("NdisMCmRegisterAddressFamilyEx.AddressFamily", AddressFamily, "a CO_ADDRESS_FAMILY")
        call = self._enter("NdisMCmRegisterAddressFamilyEx", Role.CALL_MANAGER, mp, mp,
                           MiniportAdapterHandle=MiniportAdapterHandle, AddressFamily=AddressFamily)
        if mp.cm_handlers is None:
            return self._refuse(call, "no NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS set")
        missing = mp.cm_handlers.missing()
        if missing:
            raise NdisRegistrationError(f"NdisMCmRegisterAddressFamilyEx: {mp.name}: call manager handlers missing: "
                                        + ", ".join(missing))
        if any(af.AddressFamily == AddressFamily.AddressFamily for af in mp.address_families):
            return self._refuse(call, "address family already registered")
        mp.address_families.append(AddressFamily)
        for binding in list(mp.bindings):
            self._notify_af(binding, AddressFamily, call)
        return self._leave(call, NDIS_STATUS_SUCCESS)

    def _notify_af(self, binding: NdisBindingHandle, af: CO_ADDRESS_FAMILY, trigger: NdisCall | None) -> None:
        co = binding.protocol.co_characteristics
        if co is not None and co.CoAfRegisterNotifyHandler is not None:
            self._handler("ProtocolCoAfRegisterNotify", Role.CLIENT, binding.protocol, co.CoAfRegisterNotifyHandler,
                          binding, trigger, ProtocolBindingContext=binding.ProtocolBindingContext, AddressFamily=af)

    def bind(self, NdisProtocolHandle: NdisProtocolHandle, MiniportAdapterHandle: NdisMiniportAdapterHandle,
             ProtocolBindingContext: Any = None, NdisBindingHandle: Out | None = None) -> NdisBindingHandle:
        """Bind a protocol to a miniport adapter (emulation plumbing for ProtocolBindAdapterEx calling
        NdisOpenAdapterEx), then tell it about the AFs already registered on the adapter. As with
        NdisOpenAdapterEx, the binding handle is stored through ``NdisBindingHandle`` (when given) before
        any ProtocolCoAfRegisterNotify runs; it is also returned."""
        proto = self._own("bind", "NdisProtocolHandle", NdisProtocolHandle, NdisProtocolHandle_)
        mp = self._own("bind", "MiniportAdapterHandle", MiniportAdapterHandle, NdisMiniportAdapterHandle)
        if proto.client_handlers is None:
            raise NdisRegistrationError(f"bind: {proto.name} set no NDIS_CO_CLIENT_OPTIONAL_HANDLERS")
        binding = NdisBindingHandle_(self, proto, mp, ProtocolBindingContext)
        proto.bindings.append(binding)
        mp.bindings.append(binding)
        if NdisBindingHandle is not None:
            NdisBindingHandle.value = binding
        for af in list(mp.address_families):
            self._notify_af(binding, af, None)
        return binding

    def unload_driver(self, driver: DriverHandle) -> None:
        """The driver is unloading (MiniportHaltEx / ProtocolUnbindAdapterEx done, then the unload
        routine): observers check what it left behind (memory, operations still owed), then NDIS forgets
        it."""
        driver = self._own("unload_driver", "driver", driver, DriverHandle)
        for obs in self.observers:
            obs.on_unload(driver, self)
        driver.unloaded = True
        for binding in driver.bindings:
            binding.closed = True

    # -- memory -----------------------------------------------------------------------------------

    def inject_allocation_failures(self, count: int) -> None:
        """Make the next ``count`` allocations fail (return None), to exercise RESOURCES paths."""
        self._fail_allocations = int(count)

    def NdisAllocateMemoryWithTagPriority(self, NdisHandle: DriverHandle, Memory: Any,
                                          Tag: int | str, Priority: int = NormalPoolPriority) -> Any:
        """Allocate (here: declare) driver memory with a pool tag, as NdisAllocateMemoryWithTagPriority does.

        C returns a pointer to Length bytes; a Python driver creates its state object and passes it as
        ``Memory``; NDIS tracks it until NdisFreeMemoryWithTagPriority and returns it, or None when the
        allocation fails (see :meth:`inject_allocation_failures`)."""
        driver = self._own("NdisAllocateMemoryWithTagPriority", "NdisHandle", NdisHandle, DriverHandle)
        tag = tag_value(Tag)
        role = Role.CALL_MANAGER if isinstance(driver, NdisMiniportAdapterHandle) else Role.CLIENT
        call = self._enter("NdisAllocateMemoryWithTagPriority", role, driver, None, NdisHandle=NdisHandle,
                           Memory=Memory, Tag=tag, Priority=Priority)
        if Memory is None:
            raise FieldError("NdisAllocateMemoryWithTagPriority.Memory", Memory, "the driver's state object")
        if id(Memory) in self.allocations:
            raise FieldError("NdisAllocateMemoryWithTagPriority.Memory", Memory, "an object not already allocated")
        if self._fail_allocations > 0:
            self._fail_allocations -= 1
            return self._refuse(call, "injected allocation failure", None)
        self.allocations[id(Memory)] = Allocation(Memory, tag, driver, call.where, call.time)
        return self._leave(call, Memory)

    def NdisFreeMemoryWithTagPriority(self, NdisHandle: DriverHandle, VirtualAddress: Any,
                                      Tag: int | str) -> None:
        """Free memory allocated with NdisAllocateMemoryWithTagPriority. Freeing what is not allocated (or
        already freed), or with another tag or owner, is reported and ignored (rule BadFree)."""
        driver = self._own("NdisFreeMemoryWithTagPriority", "NdisHandle", NdisHandle, DriverHandle)
        tag = tag_value(Tag)
        role = Role.CALL_MANAGER if isinstance(driver, NdisMiniportAdapterHandle) else Role.CLIENT
        call = self._enter("NdisFreeMemoryWithTagPriority", role, driver, None, NdisHandle=NdisHandle,
                           VirtualAddress=VirtualAddress, Tag=tag)
        alloc = self.allocations.get(id(VirtualAddress))
        if alloc is None or alloc.memory is not VirtualAddress or alloc.tag != tag or alloc.owner is not driver:
            self._refuse(call, "memory not allocated, already freed, or freed with another tag or handle", None)
            return None
        del self.allocations[id(VirtualAddress)]
        self._leave(call, None)
        return None

    def allocation_of(self, memory: Any) -> Allocation | None:
        alloc = self.allocations.get(id(memory))
        return alloc if alloc is not None and alloc.memory is memory else None

    def _link_party_state(self, party: NdisPartyHandle, context: Any) -> None:
        if context is not None:
            alloc = self.allocation_of(context)
            if alloc is not None:
                alloc.party = party

    # -- address family ---------------------------------------------------------------------------

    def NdisClOpenAddressFamilyEx(self, NdisBindingHandle: NdisBindingHandle, AddressFamily: CO_ADDRESS_FAMILY,
                                  ClientAfContext: Any, NdisAfHandle: Out) -> int:
        """Open the AF a call manager registered (PASSIVE_LEVEL). NDIS forwards to ProtocolCmOpenAf; when
        the result is not PENDING the client calls its own ProtocolClOpenAfCompleteEx
        (NdisClOpenAddressFamilyEx page). FAILURE when the AF is not registered on the adapter."""
        binding = self._own("NdisClOpenAddressFamilyEx", "NdisBindingHandle", NdisBindingHandle, NdisBindingHandle_)
        if not isinstance(NdisAfHandle, Out):
            raise FieldError("NdisClOpenAddressFamilyEx.NdisAfHandle", NdisAfHandle, "an Out() cell")
        call = self._enter("NdisClOpenAddressFamilyEx", Role.CLIENT, binding.protocol, binding,
                           NdisBindingHandle=NdisBindingHandle, AddressFamily=AddressFamily,
                           ClientAfContext=ClientAfContext, NdisAfHandle=NdisAfHandle)
        mp = binding.miniport
        if binding.closed or not any(f.AddressFamily == AddressFamily.AddressFamily for f in mp.address_families):
            NdisAfHandle.value = None
            return self._refuse(call, "address family not registered on the binding")
        af = NdisAfHandle_(self, binding, AddressFamily, ClientAfContext)
        binding.afs.append(af)
        NdisAfHandle.value = af
        op = self._start(OpKind.OPEN_AF, af, Role.CALL_MANAGER, mp, call)
        af.open_op = op
        out: Out = Out()
        status = as_status(self._handler("ProtocolCmOpenAf", Role.CALL_MANAGER, mp, mp.cm_handlers.CmOpenAfHandler, af,
                                         call, op=op, out=out, CallMgrBindingContext=mp.MiniportAdapterContext,
                                         AddressFamily=AddressFamily, NdisAfHandle=af, CallMgrAfContext=out),
                           "ProtocolCmOpenAf return")
        if self._returned(op, status):
            self._open_af_outcome(af, status, out.value, call, notify=False)
        return self._leave(call, status)

    def _open_af_outcome(self, af: NdisAfHandle, status: int, context: Any, trigger: NdisCall, notify: bool) -> None:
        if status == NDIS_STATUS_SUCCESS:
            af.CallMgrAfContext = context
            af.state = AfState.OPEN
        else:
            af.state = AfState.CLOSED
        if notify:
            ch = af.protocol.client_handlers
            self._handler("ProtocolClOpenAfCompleteEx", Role.CLIENT, af.protocol, ch.ClOpenAfCompleteHandlerEx, af,
                          trigger, ProtocolAfContext=af.ProtocolAfContext,
                          NdisAfHandle=af if status == NDIS_STATUS_SUCCESS else None, Status=status)

    def NdisMCmOpenAddressFamilyComplete(self, Status: int, NdisAfHandle: NdisAfHandle,
                                         CallMgrAfContext: Any) -> None:
        """Complete a ProtocolCmOpenAf that returned PENDING; NDIS calls ProtocolClOpenAfCompleteEx."""
        af = self._own("NdisMCmOpenAddressFamilyComplete", "NdisAfHandle", NdisAfHandle, NdisAfHandle_)
        status = as_status(Status)
        call = self._enter("NdisMCmOpenAddressFamilyComplete", Role.CALL_MANAGER, af.miniport, af, Status=status,
                           NdisAfHandle=NdisAfHandle, CallMgrAfContext=CallMgrAfContext)
        if not self._accept(af.open_op, status):
            self._refuse(call, "no open-AF request pending", None)
            return None
        self._open_af_outcome(af, status, CallMgrAfContext, call, notify=True)
        self._leave(call, None)
        return None

    def NdisClCloseAddressFamily(self, NdisAfHandle: NdisAfHandle) -> int:
        """Close an open AF (<= DISPATCH_LEVEL). The handle is invalid for the client as soon as it calls
        (NdisClCloseAddressFamily page). NDIS forwards to ProtocolCmCloseAf."""
        af = self._own("NdisClCloseAddressFamily", "NdisAfHandle", NdisAfHandle, NdisAfHandle_)
        call = self._enter("NdisClCloseAddressFamily", Role.CLIENT, af.protocol, af, NdisAfHandle=NdisAfHandle)
        if af.state is not AfState.OPEN:
            return self._refuse(call, f"address family {af.state.value}")
        af.state = AfState.CLOSING
        mp = af.miniport
        op = self._start(OpKind.CLOSE_AF, af, Role.CALL_MANAGER, mp, call)
        af.close_op = op
        status = as_status(self._handler("ProtocolCmCloseAf", Role.CALL_MANAGER, mp, mp.cm_handlers.CmCloseAfHandler,
                                         af, call, op=op, CallMgrAfContext=af.CallMgrAfContext),
                           "ProtocolCmCloseAf return")
        if self._returned(op, status):
            self._close_af_outcome(af, status, call, notify=False)
        return self._leave(call, status)

    def _close_af_outcome(self, af: NdisAfHandle, status: int, trigger: NdisCall, notify: bool) -> None:
        af.state = AfState.CLOSED if status == NDIS_STATUS_SUCCESS else AfState.OPEN
        if notify:
            ch = af.protocol.client_handlers
            self._handler("ProtocolClCloseAfComplete", Role.CLIENT, af.protocol, ch.ClCloseAfCompleteHandler, af,
                          trigger, Status=status, ProtocolAfContext=af.ProtocolAfContext)

    def NdisMCmCloseAddressFamilyComplete(self, Status: int, NdisAfHandle: NdisAfHandle) -> None:
        """Complete a ProtocolCmCloseAf that returned PENDING; NDIS calls ProtocolClCloseAfComplete."""
        af = self._own("NdisMCmCloseAddressFamilyComplete", "NdisAfHandle", NdisAfHandle, NdisAfHandle_)
        status = as_status(Status)
        call = self._enter("NdisMCmCloseAddressFamilyComplete", Role.CALL_MANAGER, af.miniport, af, Status=status,
                           NdisAfHandle=NdisAfHandle)
        if not self._accept(af.close_op, status):
            self._refuse(call, "no close-AF request pending", None)
            return None
        self._close_af_outcome(af, status, call, notify=True)
        self._leave(call, None)
        return None

    # -- virtual connections ----------------------------------------------------------------------

    def NdisCoCreateVc(self, NdisBindingHandle: NdisBindingHandle, NdisAfHandle: NdisAfHandle,
                       ProtocolVcContext: Any, NdisVcHandle: Out) -> int:
        """A client creates a VC for an outgoing call; NDIS calls the call manager's ProtocolCoCreateVc,
        which never returns PENDING (reference, "Call manager handlers")."""
        binding = self._own("NdisCoCreateVc", "NdisBindingHandle", NdisBindingHandle, NdisBindingHandle_)
        af = self._own("NdisCoCreateVc", "NdisAfHandle", NdisAfHandle, NdisAfHandle_)
        if not isinstance(NdisVcHandle, Out):
            raise FieldError("NdisCoCreateVc.NdisVcHandle", NdisVcHandle, "an Out() cell")
        call = self._enter("NdisCoCreateVc", Role.CLIENT, binding.protocol, af, NdisBindingHandle=NdisBindingHandle,
                           NdisAfHandle=NdisAfHandle, ProtocolVcContext=ProtocolVcContext, NdisVcHandle=NdisVcHandle)
        NdisVcHandle.value = None
        if af.binding is not binding or af.state is not AfState.OPEN:
            return self._refuse(call, "address family not open on this binding")
        vc = NdisVcHandle_(self, af, Role.CLIENT)
        vc.ProtocolVcContext = ProtocolVcContext
        mp = af.miniport
        out: Out = Out()
        status = as_status(self._handler("ProtocolCoCreateVc", Role.CALL_MANAGER, mp, mp.cm_handlers.CmCreateVcHandler,
                                         vc, call, out=out, ProtocolAfContext=af.CallMgrAfContext, NdisVcHandle=vc,
                                         ProtocolVcContext=out), "ProtocolCoCreateVc return")
        if status == NDIS_STATUS_SUCCESS:
            vc.CallMgrVcContext = out.value
            af.vcs.add(vc)
            NdisVcHandle.value = vc
            return self._leave(call, status)
        vc.deleted = True
        if status == NDIS_STATUS_PENDING:  # ProtocolCoCreateVc never pends: NDIS fails the create
            return self._refuse(call, "ProtocolCoCreateVc returned PENDING")
        return self._leave(call, status)

    def NdisCoDeleteVc(self, NdisVcHandle: NdisVcHandle) -> int:
        """A client deletes a VC it created; NDIS calls the call manager's ProtocolCoDeleteVc.
        NOT_ACCEPTED while the VC is active or carries a call (reference, "Call manager handlers")."""
        vc = self._own("NdisCoDeleteVc", "NdisVcHandle", NdisVcHandle, NdisVcHandle_)
        call = self._enter("NdisCoDeleteVc", Role.CLIENT, vc.af.protocol, vc, NdisVcHandle=NdisVcHandle)
        if vc.deleted or vc.creator is not Role.CLIENT:
            return self._refuse(call, "VC deleted or not created by the client")
        if vc.active or vc.call_state in (CallState.MAKING, CallState.CONNECTED, CallState.CLOSING):
            return self._refuse(call, "VC active or carrying a call", NDIS_STATUS_NOT_ACCEPTED)
        mp = vc.af.miniport
        status = as_status(self._handler("ProtocolCoDeleteVc", Role.CALL_MANAGER, mp, mp.cm_handlers.CmDeleteVcHandler,
                                         vc, call, ProtocolVcContext=vc.CallMgrVcContext), "ProtocolCoDeleteVc return")
        if status == NDIS_STATUS_SUCCESS:
            self._vc_gone(vc)
            return self._leave(call, status)
        if status == NDIS_STATUS_PENDING:
            return self._refuse(call, "ProtocolCoDeleteVc returned PENDING")
        return self._leave(call, status)

    def _vc_gone(self, vc: NdisVcHandle) -> None:
        vc.deleted = True
        vc.af.vcs.discard(vc)

    def NdisMCmCreateVc(self, MiniportAdapterHandle: NdisMiniportAdapterHandle, NdisAfHandle: NdisAfHandle,
                        MiniportVcContext: Any, NdisVcHandle: Out) -> int:
        """The MCM creates a VC (for an incoming call); NDIS calls the client's ProtocolCoCreateVc."""
        mp = self._own("NdisMCmCreateVc", "MiniportAdapterHandle", MiniportAdapterHandle, NdisMiniportAdapterHandle)
        af = self._own("NdisMCmCreateVc", "NdisAfHandle", NdisAfHandle, NdisAfHandle_)
        if not isinstance(NdisVcHandle, Out):
            raise FieldError("NdisMCmCreateVc.NdisVcHandle", NdisVcHandle, "an Out() cell")
        call = self._enter("NdisMCmCreateVc", Role.CALL_MANAGER, mp, af, MiniportAdapterHandle=MiniportAdapterHandle,
                           NdisAfHandle=NdisAfHandle, MiniportVcContext=MiniportVcContext, NdisVcHandle=NdisVcHandle)
        NdisVcHandle.value = None
        if af.miniport is not mp or af.state is not AfState.OPEN:
            return self._refuse(call, "address family not open on this adapter")
        vc = NdisVcHandle_(self, af, Role.CALL_MANAGER)
        vc.CallMgrVcContext = MiniportVcContext
        proto = af.protocol
        out: Out = Out()
        status = as_status(self._handler("ProtocolCoCreateVc", Role.CLIENT, proto,
                                         proto.client_handlers.ClCreateVcHandler, vc, call, out=out,
                                         ProtocolAfContext=af.ProtocolAfContext, NdisVcHandle=vc,
                                         ProtocolVcContext=out), "ProtocolCoCreateVc return")
        if status == NDIS_STATUS_SUCCESS:
            vc.ProtocolVcContext = out.value
            af.vcs.add(vc)
            NdisVcHandle.value = vc
            return self._leave(call, status)
        vc.deleted = True
        if status == NDIS_STATUS_PENDING:
            return self._refuse(call, "ProtocolCoCreateVc returned PENDING")
        return self._leave(call, status)

    def NdisMCmDeleteVc(self, NdisVcHandle: NdisVcHandle) -> int:
        """The MCM deletes a VC it created (after NdisMCmCloseCallComplete); NDIS calls the client's
        ProtocolCoDeleteVc. NOT_ACCEPTED while the VC is active (reference, "Completions and
        indications the MCM issues")."""
        vc = self._own("NdisMCmDeleteVc", "NdisVcHandle", NdisVcHandle, NdisVcHandle_)
        call = self._enter("NdisMCmDeleteVc", Role.CALL_MANAGER, vc.af.miniport, vc, NdisVcHandle=NdisVcHandle)
        if vc.deleted or vc.creator is not Role.CALL_MANAGER:
            return self._refuse(call, "VC deleted or not created by the call manager")
        if vc.active or vc.call_state in (CallState.MAKING, CallState.CONNECTED, CallState.CLOSING):
            return self._refuse(call, "VC active or carrying a call", NDIS_STATUS_NOT_ACCEPTED)
        proto = vc.af.protocol
        status = as_status(self._handler("ProtocolCoDeleteVc", Role.CLIENT, proto,
                                         proto.client_handlers.ClDeleteVcHandler, vc, call,
                                         ProtocolVcContext=vc.ProtocolVcContext), "ProtocolCoDeleteVc return")
        if status == NDIS_STATUS_SUCCESS:
            self._vc_gone(vc)
            return self._leave(call, status)
        if status == NDIS_STATUS_PENDING:
            return self._refuse(call, "ProtocolCoDeleteVc returned PENDING")
        return self._leave(call, status)

    def NdisMCmActivateVc(self, NdisVcHandle: NdisVcHandle, CallParameters: CO_CALL_PARAMETERS) -> int:
        """The MCM activates the VC with the call parameters it settled (before completing a make-call with
        SUCCESS; reference, "ProtocolCmMakeCall")."""
        vc = self._own("NdisMCmActivateVc", "NdisVcHandle", NdisVcHandle, NdisVcHandle_)
        self._params("NdisMCmActivateVc", CallParameters)
        call = self._enter("NdisMCmActivateVc", Role.CALL_MANAGER, vc.af.miniport, vc, NdisVcHandle=NdisVcHandle,
                           CallParameters=CallParameters)
        if vc.deleted:
            return self._refuse(call, "VC deleted")
        vc.active = True
        vc.CallParameters = CallParameters
        return self._leave(call, NDIS_STATUS_SUCCESS)

    def NdisMCmDeactivateVc(self, NdisVcHandle: NdisVcHandle) -> int:
        """The MCM deactivates the VC (closing a call). NOT_ACCEPTED when it is not active."""
        vc = self._own("NdisMCmDeactivateVc", "NdisVcHandle", NdisVcHandle, NdisVcHandle_)
        call = self._enter("NdisMCmDeactivateVc", Role.CALL_MANAGER, vc.af.miniport, vc, NdisVcHandle=NdisVcHandle)
        if vc.deleted or not vc.active:
            return self._refuse(call, "VC not active", NDIS_STATUS_NOT_ACCEPTED)
        vc.active = False
        return self._leave(call, NDIS_STATUS_SUCCESS)

    # -- making and closing calls -----------------------------------------------------------------

    def NdisClMakeCall(self, NdisVcHandle: NdisVcHandle, CallParameters: CO_CALL_PARAMETERS,
                       ProtocolPartyContext: Any = None, NdisPartyHandle: Out | None = None) -> int:
        """Make an outgoing call on a VC the client created. A non-NULL ProtocolPartyContext makes it a
        multipoint call: NDIS creates the first party's handle and returns it through NdisPartyHandle
        (reference, "Client side"). NDIS forwards to ProtocolCmMakeCall. FAILURE when the VC already
        carries (or carried: "marked as closing") a call."""
        vc = self._own("NdisClMakeCall", "NdisVcHandle", NdisVcHandle, NdisVcHandle_)
        self._params("NdisClMakeCall", CallParameters)
        if NdisPartyHandle is not None and not isinstance(NdisPartyHandle, Out):
            raise FieldError("NdisClMakeCall.NdisPartyHandle", NdisPartyHandle, "an Out() cell or None")
        call = self._enter("NdisClMakeCall", Role.CLIENT, vc.af.protocol, vc, NdisVcHandle=NdisVcHandle,
                           CallParameters=CallParameters, ProtocolPartyContext=ProtocolPartyContext,
                           NdisPartyHandle=NdisPartyHandle)
        if vc.deleted or vc.creator is not Role.CLIENT or vc.call_state is not CallState.IDLE:
            if NdisPartyHandle is not None:
                NdisPartyHandle.value = None
            return self._refuse(call, "VC deleted, not the client's, or not idle")
        party = None
        if ProtocolPartyContext is not None:
            party = NdisPartyHandle_(self, vc, ProtocolPartyContext, initial=True)
            party.CallParameters = CallParameters
            vc.parties.append(party)
            vc.multipoint = True
        if NdisPartyHandle is not None:
            NdisPartyHandle.value = party
        vc.call_state = CallState.MAKING
        vc.CallParameters = CallParameters
        mp = vc.af.miniport
        op = self._start(OpKind.MAKE_CALL, vc, Role.CALL_MANAGER, mp, call)
        vc.make_op = op
        out: Out | None = Out() if party is not None else None
        status = as_status(self._handler("ProtocolCmMakeCall", Role.CALL_MANAGER, mp, mp.cm_handlers.CmMakeCallHandler,
                                         vc, call, op=op, out=out, CallMgrVcContext=vc.CallMgrVcContext,
                                         CallParameters=CallParameters, NdisPartyHandle=party,
                                         CallMgrPartyContext=out), "ProtocolCmMakeCall return")
        if self._returned(op, status):
            self._make_call_outcome(vc, status, None if out is None else out.value, call, notify=False)
        return self._leave(call, status)

    def _initial_party(self, vc: NdisVcHandle) -> NdisPartyHandle | None:
        for p in vc.parties:
            if p.initial and p.state is PartyState.ADDING:
                return p
        return None

    def _make_call_outcome(self, vc: NdisVcHandle, status: int, party_context: Any, trigger: NdisCall,
                           notify: bool) -> None:
        party = self._initial_party(vc)
        if status == NDIS_STATUS_SUCCESS:
            vc.call_state = CallState.CONNECTED
            if party is not None:
                party.state = PartyState.ACTIVE
                party.CallMgrPartyContext = party_context
                self._link_party_state(party, party_context)
        else:
            vc.call_state = CallState.IDLE
            vc.multipoint = False
            if party is not None:
                self._kill_party(party, f"make-call failed, {status_name(status)}")
        if notify:
            ch = vc.af.protocol.client_handlers
            self._handler("ProtocolClMakeCallComplete", Role.CLIENT, vc.af.protocol, ch.ClMakeCallCompleteHandler, vc,
                          trigger, Status=status, ProtocolVcContext=vc.ProtocolVcContext,
                          NdisPartyHandle=party if status == NDIS_STATUS_SUCCESS else None,
                          CallParameters=vc.CallParameters)

    def NdisMCmMakeCallComplete(self, Status: int, NdisVcHandle: NdisVcHandle,
                                NdisPartyHandle: NdisPartyHandle | None, CallMgrPartyContext: Any,
                                CallParameters: CO_CALL_PARAMETERS) -> None:
        """Complete a ProtocolCmMakeCall that returned PENDING; SUCCESS only after NdisMCmActivateVc
        (reference). NDIS calls ProtocolClMakeCallComplete; the party handle it passes is valid only on
        SUCCESS."""
        vc = self._own("NdisMCmMakeCallComplete", "NdisVcHandle", NdisVcHandle, NdisVcHandle_)
        party = self._own("NdisMCmMakeCallComplete", "NdisPartyHandle", NdisPartyHandle, NdisPartyHandle_,
                          optional=True)
        status = as_status(Status)
        call = self._enter("NdisMCmMakeCallComplete", Role.CALL_MANAGER, vc.af.miniport, vc, Status=status,
                           NdisVcHandle=NdisVcHandle, NdisPartyHandle=party, CallMgrPartyContext=CallMgrPartyContext,
                           CallParameters=CallParameters)
        if party is not None and party.vc is not vc:
            raise NdisHandleError("NdisMCmMakeCallComplete", "NdisPartyHandle", party, f"a party of {vc!r}")
        if not self._accept(vc.make_op, status):
            self._refuse(call, "no make-call request pending", None)
            return None
        if CallParameters is not None:
            vc.CallParameters = self._params("NdisMCmMakeCallComplete", CallParameters)
        self._make_call_outcome(vc, status, CallMgrPartyContext, call, notify=True)
        self._leave(call, None)
        return None

    def NdisClCloseCall(self, NdisVcHandle: NdisVcHandle, NdisPartyHandle: NdisPartyHandle | None = None,
                        Buffer: bytes | None = None, Size: int = 0) -> int:
        """Tear down the call on a VC; on a multipoint VC with the last remaining party. NDIS marks the VC
        closing and calls ProtocolCmCloseCall (NdisClCloseCall page). With more than one party left the
        call manager must fail it ("The call manager will fail any client's request to close a multipoint
        call if the given VC still has more than one party connected"), and the checker flags the client.
        FAILURE when the VC carries no established call or the party handle is no longer the client's."""
        vc = self._own("NdisClCloseCall", "NdisVcHandle", NdisVcHandle, NdisVcHandle_)
        party = self._own("NdisClCloseCall", "NdisPartyHandle", NdisPartyHandle, NdisPartyHandle_, optional=True)
        _check_buffer("NdisClCloseCall", Buffer, Size)
        call = self._enter("NdisClCloseCall", Role.CLIENT, vc.af.protocol, party or vc, NdisVcHandle=NdisVcHandle,
                           NdisPartyHandle=NdisPartyHandle, Buffer=Buffer, Size=Size)
        if party is not None and party.vc is not vc:
            raise NdisHandleError("NdisClCloseCall", "NdisPartyHandle", party, f"a party of {vc!r}")
        if vc.deleted or vc.call_state is not CallState.CONNECTED:
            return self._refuse(call, "no established call on the VC")
        if party is not None and (party.state is not PartyState.ACTIVE or party.released):
            return self._refuse(call, "party handle no longer valid for the client")
        vc.call_state = CallState.CLOSING
        vc.close_party = party
        if party is not None:
            party.released = True
        # Closing the call answers every indication still waiting for the client on it.
        self._answer(vc.incoming_close_op)
        for p in vc.live_parties():
            self._answer(p.incoming_drop_op)
        mp = vc.af.miniport
        op = self._start(OpKind.CLOSE_CALL, vc, Role.CALL_MANAGER, mp, call)
        vc.close_op = op
        status = as_status(self._handler("ProtocolCmCloseCall", Role.CALL_MANAGER, mp,
                                         mp.cm_handlers.CmCloseCallHandler,
                                         vc, call, op=op, CallMgrVcContext=vc.CallMgrVcContext,
                                         CallMgrPartyContext=None if party is None else party.CallMgrPartyContext,
                                         CloseData=Buffer, Size=Size), "ProtocolCmCloseCall return")
        if self._returned(op, status):
            self._close_call_outcome(vc, status, call, notify=False)
        return self._leave(call, status)

    def _close_call_outcome(self, vc: NdisVcHandle, status: int, trigger: NdisCall, notify: bool) -> None:
        party = vc.close_party
        if status == NDIS_STATUS_SUCCESS:
            # The NdisVcHandle stays valid, "marked as closing", until the VC is deleted (NdisClCloseCall).
            vc.call_state = CallState.CLOSED
            for p in vc.live_parties():
                self._kill_party(p, "call closed")
        else:
            vc.call_state = CallState.CONNECTED  # the close failed: the call and the party remain
            if party is not None and party.state is PartyState.ACTIVE:
                party.released = False
        vc.close_party = None
        if notify:
            ch = vc.af.protocol.client_handlers
            self._handler("ProtocolClCloseCallComplete", Role.CLIENT, vc.af.protocol, ch.ClCloseCallCompleteHandler, vc,
                          trigger, Status=status, ProtocolVcContext=vc.ProtocolVcContext,
                          ProtocolPartyContext=None if party is None else party.ProtocolPartyContext)

    def NdisMCmCloseCallComplete(self, Status: int, NdisVcHandle: NdisVcHandle,
                                 NdisPartyHandle: NdisPartyHandle | None = None) -> None:
        """Complete a ProtocolCmCloseCall that returned PENDING (after NdisMCmDeactivateVc); NDIS calls
        ProtocolClCloseCallComplete."""
        vc = self._own("NdisMCmCloseCallComplete", "NdisVcHandle", NdisVcHandle, NdisVcHandle_)
        party = self._own("NdisMCmCloseCallComplete", "NdisPartyHandle", NdisPartyHandle, NdisPartyHandle_,
                          optional=True)
        status = as_status(Status)
        call = self._enter("NdisMCmCloseCallComplete", Role.CALL_MANAGER, vc.af.miniport, vc, Status=status,
                           NdisVcHandle=NdisVcHandle, NdisPartyHandle=party)
        if party is not None and party.vc is not vc:
            raise NdisHandleError("NdisMCmCloseCallComplete", "NdisPartyHandle", party, f"a party of {vc!r}")
        if not self._accept(vc.close_op, status):
            self._refuse(call, "no close-call request pending", None)
            return None
        self._close_call_outcome(vc, status, call, notify=True)
        self._leave(call, None)
        return None

    def NdisMCmDispatchIncomingCloseCall(self, CloseStatus: int, NdisVcHandle: NdisVcHandle,
                                         Buffer: bytes | None = None, Size: int = 0) -> None:
        """The remote end (or the last remaining party) closed the call: NDIS calls
        ProtocolClIncomingCloseCall; the client answers with NdisClCloseCall (after dropping all parties
        but one on a multipoint VC)."""
        vc = self._own("NdisMCmDispatchIncomingCloseCall", "NdisVcHandle", NdisVcHandle, NdisVcHandle_)
        status = as_status(CloseStatus, "CloseStatus")
        _check_buffer("NdisMCmDispatchIncomingCloseCall", Buffer, Size)
        call = self._enter("NdisMCmDispatchIncomingCloseCall", Role.CALL_MANAGER, vc.af.miniport, vc,
                           CloseStatus=status, NdisVcHandle=NdisVcHandle, Buffer=Buffer, Size=Size)
        if vc.deleted or vc.call_state is not CallState.CONNECTED:
            self._refuse(call, "no established call on the VC", None)
            return None
        if vc.incoming_close_op is not None and vc.incoming_close_op.outstanding:
            self._refuse(call, "incoming close already indicated", None)
            return None
        proto = vc.af.protocol
        op = self._start(OpKind.INCOMING_CLOSE_CALL, vc, Role.CLIENT, proto, call, OpState.PENDING)
        vc.incoming_close_op = op
        self._handler("ProtocolClIncomingCloseCall", Role.CLIENT, proto,
                      proto.client_handlers.ClIncomingCloseCallHandler,
                      vc, call, op=op, CloseStatus=status, ProtocolVcContext=vc.ProtocolVcContext, CloseData=Buffer,
                      Size=Size)
        self._leave(call, None)
        return None

    # -- parties ----------------------------------------------------------------------------------

    def _kill_party(self, party: NdisPartyHandle, why: str) -> None:
        party.state = PartyState.DEAD
        party.ended_by = why
        try:
            party.vc.parties.remove(party)
        except ValueError:
            pass

    def NdisClAddParty(self, NdisVcHandle: NdisVcHandle, ProtocolPartyContext: Any,
                       CallParameters: CO_CALL_PARAMETERS, NdisPartyHandle: Out) -> int:
        """Add a party to an established multipoint call. NDIS creates the party handle, returns it through
        NdisPartyHandle and calls ProtocolCmAddParty; the handle is valid only once the add succeeds.
        FAILURE when the VC carries no established multipoint call (ProtocolClAddPartyComplete page:
        "The client passed an invalid NdisVcHandle")."""
        vc = self._own("NdisClAddParty", "NdisVcHandle", NdisVcHandle, NdisVcHandle_)
        self._params("NdisClAddParty", CallParameters)
        if not isinstance(NdisPartyHandle, Out):
            raise FieldError("NdisClAddParty.NdisPartyHandle", NdisPartyHandle, "an Out() cell")
        call = self._enter("NdisClAddParty", Role.CLIENT, vc.af.protocol, vc, NdisVcHandle=NdisVcHandle,
                           ProtocolPartyContext=ProtocolPartyContext, CallParameters=CallParameters,
                           NdisPartyHandle=NdisPartyHandle)
        if vc.deleted or vc.call_state is not CallState.CONNECTED or not vc.multipoint:
            NdisPartyHandle.value = None
            return self._refuse(call, "no established multipoint call on the VC")
        party = NdisPartyHandle_(self, vc, ProtocolPartyContext, initial=False)
        party.CallParameters = CallParameters
        vc.parties.append(party)
        NdisPartyHandle.value = party
        mp = vc.af.miniport
        op = self._start(OpKind.ADD_PARTY, party, Role.CALL_MANAGER, mp, call)
        party.add_op = op
        out: Out = Out()
        status = as_status(self._handler("ProtocolCmAddParty", Role.CALL_MANAGER, mp, mp.cm_handlers.CmAddPartyHandler,
                                         party, call, op=op, out=out, CallMgrVcContext=vc.CallMgrVcContext,
                                         CallParameters=CallParameters, NdisPartyHandle=party,
                                         CallMgrPartyContext=out), "ProtocolCmAddParty return")
        if self._returned(op, status):
            self._add_party_outcome(party, status, out.value, call, notify=False)
        return self._leave(call, status)

    def _add_party_outcome(self, party: NdisPartyHandle, status: int, context: Any, trigger: NdisCall,
                           notify: bool) -> None:
        if party.state is PartyState.ADDING:
            if status == NDIS_STATUS_SUCCESS:
                party.state = PartyState.ACTIVE
                party.CallMgrPartyContext = context
                self._link_party_state(party, context)
            else:
                self._kill_party(party, f"add failed, {status_name(status)}")
        if notify:
            proto = party.vc.af.protocol
            self._handler("ProtocolClAddPartyComplete", Role.CLIENT, proto,
                          proto.client_handlers.ClAddPartyCompleteHandler,
                          party, trigger, Status=status, ProtocolPartyContext=party.ProtocolPartyContext,
                          NdisPartyHandle=party, CallParameters=party.CallParameters)

    def NdisMCmAddPartyComplete(self, Status: int, NdisPartyHandle: NdisPartyHandle,
                                CallMgrPartyContext: Any, CallParameters: CO_CALL_PARAMETERS) -> None:
        """Complete a ProtocolCmAddParty that returned PENDING: required exactly once iff it pended; with
        SUCCESS an explicit CallMgrPartyContext (seed page NdisMCmAddPartyComplete). NDIS calls
        ProtocolClAddPartyComplete."""
        party = self._own("NdisMCmAddPartyComplete", "NdisPartyHandle", NdisPartyHandle, NdisPartyHandle_)
        status = as_status(Status)
        call = self._enter("NdisMCmAddPartyComplete", Role.CALL_MANAGER, party.vc.af.miniport, party, Status=status,
                           NdisPartyHandle=NdisPartyHandle, CallMgrPartyContext=CallMgrPartyContext,
                           CallParameters=CallParameters)
        if not self._accept(party.add_op, status):
            self._refuse(call, "no add-party request pending", None)
            return None
        if CallParameters is not None:
            party.CallParameters = self._params("NdisMCmAddPartyComplete", CallParameters)
        self._add_party_outcome(party, status, CallMgrPartyContext, call, notify=True)
        self._leave(call, None)
        return None

    def NdisClDropParty(self, NdisPartyHandle: NdisPartyHandle, Buffer: bytes | None = None,
                        Size: int = 0) -> int:
        """Drop a party from a multipoint call: the client must consider the handle invalid as soon as it
        calls (seed page NdisClDropParty). NDIS forwards to ProtocolCmDropParty; when that does not pend,
        the client calls its own ProtocolClDropPartyComplete. This answers a pending incoming drop. FAILURE
        when the handle is no longer the client's, the party is still being added, or it is the last party
        (the last party is closed with NdisClCloseCall)."""
        party = self._own("NdisClDropParty", "NdisPartyHandle", NdisPartyHandle, NdisPartyHandle_)
        vc = party.vc
        _check_buffer("NdisClDropParty", Buffer, Size)
        call = self._enter("NdisClDropParty", Role.CLIENT, vc.af.protocol, party, NdisPartyHandle=NdisPartyHandle,
                           Buffer=Buffer, Size=Size)
        if party.state is PartyState.DEAD or party.released:
            return self._refuse(call, "party handle no longer valid for the client")
        if party.state is PartyState.ADDING:
            return self._refuse(call, "party still being added")
        if not vc.has_remaining_parties(exclude=party):
            return self._refuse(call, "last party of the call (use NdisClCloseCall)")
        party.released = True
        self._answer(party.incoming_drop_op)
        mp = vc.af.miniport
        op = self._start(OpKind.DROP_PARTY, party, Role.CALL_MANAGER, mp, call)
        party.drop_op = op
        status = as_status(self._handler("ProtocolCmDropParty", Role.CALL_MANAGER, mp,
                                         mp.cm_handlers.CmDropPartyHandler,
                                         party, call, op=op, CallMgrPartyContext=party.CallMgrPartyContext,
                                         CloseData=Buffer, Size=Size), "ProtocolCmDropParty return")
        if self._returned(op, status):
            self._drop_party_outcome(party, status, call, notify=False)
        return self._leave(call, status)

    def _drop_party_outcome(self, party: NdisPartyHandle, status: int, trigger: NdisCall, notify: bool) -> None:
        # A completed drop ends the party whatever its status (reference: any use after the drop
        # "completed or failed" is an error).
        if party.state is not PartyState.DEAD:
            self._kill_party(party, f"dropped, {status_name(status)}")
        if notify:
            proto = party.vc.af.protocol
            self._handler("ProtocolClDropPartyComplete", Role.CLIENT, proto,
                          proto.client_handlers.ClDropPartyCompleteHandler, party, trigger, Status=status,
                          ProtocolPartyContext=party.ProtocolPartyContext)

    def NdisMCmDropPartyComplete(self, Status: int, NdisPartyHandle: NdisPartyHandle) -> None:
        """Complete a ProtocolCmDropParty that returned PENDING: required iff it pended; the party handle
        is invalid from then on (seed page NdisCmDropPartyComplete). NDIS calls
        ProtocolClDropPartyComplete."""
        party = self._own("NdisMCmDropPartyComplete", "NdisPartyHandle", NdisPartyHandle, NdisPartyHandle_)
        status = as_status(Status)
        call = self._enter("NdisMCmDropPartyComplete", Role.CALL_MANAGER, party.vc.af.miniport, party, Status=status,
                           NdisPartyHandle=NdisPartyHandle)
        if not self._accept(party.drop_op, status):
            self._refuse(call, "no drop-party request pending", None)
            return None
        self._drop_party_outcome(party, status, call, notify=True)
        self._leave(call, None)
        return None

    def NdisMCmDispatchIncomingDropParty(self, DropStatus: int, NdisPartyHandle: NdisPartyHandle,
                                         Buffer: bytes | None = None, Size: int = 0) -> None:
        """A remote party left and other parties remain: NDIS calls ProtocolClIncomingDropParty; the client
        answers with NdisClDropParty. For the last party the MCM uses NdisMCmDispatchIncomingCloseCall
        instead (reference). Refused (counted) for a party not active or already given back by the
        client (its own drop is under way)."""
        party = self._own("NdisMCmDispatchIncomingDropParty", "NdisPartyHandle", NdisPartyHandle, NdisPartyHandle_)
        vc = party.vc
        status = as_status(DropStatus, "DropStatus")
        _check_buffer("NdisMCmDispatchIncomingDropParty", Buffer, Size)
        call = self._enter("NdisMCmDispatchIncomingDropParty", Role.CALL_MANAGER, vc.af.miniport, party,
                           DropStatus=status, NdisPartyHandle=NdisPartyHandle, Buffer=Buffer, Size=Size)
        if party.state is not PartyState.ACTIVE:
            self._refuse(call, f"party {party.state.value}", None)
            return None
        if party.released:
            self._refuse(call, "the client is already dropping the party", None)
            return None
        if party.incoming_drop_op is not None and party.incoming_drop_op.outstanding:
            self._refuse(call, "incoming drop already indicated", None)
            return None
        proto = vc.af.protocol
        op = self._start(OpKind.INCOMING_DROP_PARTY, party, Role.CLIENT, proto, call, OpState.PENDING)
        party.incoming_drop_op = op
        self._handler("ProtocolClIncomingDropParty", Role.CLIENT, proto,
                      proto.client_handlers.ClIncomingDropPartyHandler,
                      party, call, op=op, DropStatus=status, ProtocolPartyContext=party.ProtocolPartyContext,
                      CloseData=Buffer, Size=Size)
        self._leave(call, None)
        return None

    # -- inspection -------------------------------------------------------------------------------

    def outstanding_for(self, driver: DriverHandle) -> Iterable[Operation]:
        """Operations ``driver`` still owes a completion (or an answer) for."""
        return [op for op in self.outstanding.values() if op.driver is driver]


# Module-level aliases so that methods whose parameters shadow the class names (NdisAfHandle...) can still
# name the classes.
NdisAfHandle_ = NdisAfHandle
NdisVcHandle_ = NdisVcHandle
NdisPartyHandle_ = NdisPartyHandle
NdisBindingHandle_ = NdisBindingHandle
NdisProtocolHandle_ = NdisProtocolHandle

__all__ = ["Allocation", "HandlerCall", "HighPoolPriority", "LowPoolPriority", "Ndis", "NdisCall", "NdisObserver",
           "NormalPoolPriority", "tag_text", "tag_value"]
