"""Handles owned by NDIS, the operations NDIS keeps track of, and the out parameter.

NDIS owns NdisAfHandle, NdisVcHandle and NdisPartyHandle; the call manager owns CallMgrAfContext,
CallMgrVcContext and CallMgrPartyContext; the client owns ProtocolAfContext, ProtocolVcContext and
ProtocolPartyContext (reference/condis-mcm.md, "Actors"). A context is whatever object its driver chose
(its per-VC or per-party state): NDIS stores it and hands it back, never looks inside.

A handle here is an object with identity: NDIS creates it, drivers pass it back, compare it and store it,
and must treat it as opaque, as the WDK says of every NDIS handle ("This handle is opaque to the call
manager and reserved for NDIS library use", ProtocolCmAddParty). The attributes below are NDIS's private
block behind the handle: the dispatcher keeps its state in them and the rule checker reads them; a
driver never touches them. A handle stays a valid Python object after NDIS is done with it (a stale
pointer in C): using it then is a rule violation the checker names, never a crash of the emulator.
"""

from __future__ import annotations

import itertools
from enum import Enum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from cm.ndis.trace import Location

if TYPE_CHECKING:
    from cm.ndis.params import CO_ADDRESS_FAMILY, CO_CALL_PARAMETERS

T = TypeVar("T")


class Out(Generic[T]):
    """An out parameter: C's ``PNDIS_HANDLE`` or ``PNDIS_HANDLE CallMgrPartyContext``.

    The caller passes ``Out()``; the callee stores through it (``CallMgrPartyContext.value = party``,
    C ``*CallMgrPartyContext = party``); the caller reads ``.value`` afterwards. ``assigned`` tells whether
    the callee stored anything (even None)."""

    __slots__ = ("value", "assigned")

    def __init__(self, value: T | None = None) -> None:
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "assigned", False)

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name == "value":
            object.__setattr__(self, "assigned", True)

    def __repr__(self) -> str:
        return f"Out({self.value!r})"


class Role(str, Enum):
    """Who is at the other end of a call: the client protocol, the call manager, or NDIS itself."""

    CLIENT = "client"
    CALL_MANAGER = "call manager"
    NDIS = "NDIS"


class OpKind(str, Enum):
    """The requests NDIS tracks until they complete, and the indications it waits for the client to
    answer."""

    OPEN_AF = "OpenAf"
    CLOSE_AF = "CloseAf"
    MAKE_CALL = "MakeCall"
    CLOSE_CALL = "CloseCall"
    ADD_PARTY = "AddParty"
    DROP_PARTY = "DropParty"
    INCOMING_DROP_PARTY = "IncomingDropParty"  # answered by the client's NdisClDropParty / NdisClCloseCall
    INCOMING_CLOSE_CALL = "IncomingCloseCall"  # answered by the client's NdisClCloseCall


class OpState(str, Enum):
    IN_HANDLER = "in handler"  # NDIS called the handler and it has not returned yet
    PENDING = "pending"  # the handler returned NDIS_STATUS_PENDING; a completion is owed
    COMPLETED = "completed"  # completed (by the completion function, or answered by the client)
    SYNCHRONOUS = "synchronous"  # the handler returned its final status; no completion is owed


class Operation:
    """One request NDIS tracks: who started it (and where), who owes its completion, what happened.

    ``completions`` counts completion calls, so that a second one is told from the first; ``status`` is
    the status of the first completion or the synchronous return."""

    __slots__ = ("serial", "kind", "handle", "owner", "driver", "started_at", "where", "state",
                 "completions", "status", "completed_at", "overdue_reported", "early")

    _serials = itertools.count(1)

    def __init__(self, kind: OpKind, handle: "NdisHandle", owner: Role, driver: "DriverHandle",
                 started_at: int | None, where: Location, state: OpState = OpState.IN_HANDLER) -> None:
        self.serial = next(Operation._serials)
        self.kind = kind
        self.handle = handle
        self.owner = owner  # who must finish it
        self.driver = driver  # the driver that owes the completion
        self.started_at = started_at
        self.where = where
        self.state = state
        self.completions = 0
        self.status: int | None = None
        self.completed_at: int | None = None
        self.overdue_reported = False
        self.early = False  # completed before its handler returned PENDING (legal: another CPU, or a
        # completion from inside the handler)

    @property
    def outstanding(self) -> bool:
        """A completion (or the client's answer) is still owed."""
        return self.state is OpState.PENDING or (self.state is OpState.IN_HANDLER and self.completions == 0)

    def __repr__(self) -> str:
        return f"<{self.kind.value} #{self.serial} on {self.handle!r}: {self.state.value}>"


class NdisHandle:
    """Base of the handles NDIS hands out: identity, a serial number for reports (counted per NDIS
    instance, so that a run reports the same numbers whatever ran before it), and ``ndis``, the
    dispatcher that made it (a handle from another NDIS instance is refused)."""

    __slots__ = ("ndis", "serial", "__weakref__")
    kind = "NDIS_HANDLE"
    _serials = itertools.count(1)

    def __init__(self, ndis: Any) -> None:
        self.ndis = ndis
        self.serial = next(getattr(ndis, "handle_serials", NdisHandle._serials))

    @property
    def valid(self) -> bool:
        """NDIS still honours this handle."""
        return True

    def _state(self) -> str:
        return "valid" if self.valid else "invalid"

    def __repr__(self) -> str:
        return f"<{self.kind} #{self.serial} {self._state()}>"

    # identity semantics: two handles are equal only when they are the same object
    __eq__ = object.__eq__
    __hash__ = object.__hash__


class DriverHandle(NdisHandle):
    """A registered driver: a miniport adapter (the MCM) or a protocol driver (a client)."""

    __slots__ = ("name", "unloaded")

    def __init__(self, ndis: Any, name: str) -> None:
        super().__init__(ndis)
        self.name = name
        self.unloaded = False

    @property
    def valid(self) -> bool:
        return not self.unloaded

    def __repr__(self) -> str:
        return f"<{self.kind} #{self.serial} {self.name!r}{' unloaded' if self.unloaded else ''}>"


class NdisMiniportAdapterHandle(DriverHandle):
    """MiniportAdapterHandle: NDIS's handle for a miniport adapter (here: the MCM's adapter).

    ``MiniportAdapterContext`` is the driver's adapter state (NdisMSetMiniportAttributes), passed to the
    call manager handlers as CallMgrBindingContext; ``cm_handlers`` is the
    NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS it set; ``address_families`` the AFs it registered."""

    __slots__ = ("MiniportAdapterContext", "cm_handlers", "address_families", "bindings")
    kind = "MiniportAdapterHandle"

    def __init__(self, ndis: Any, name: str) -> None:
        super().__init__(ndis, name)
        self.MiniportAdapterContext: Any = None
        self.cm_handlers: Any = None
        self.address_families: list["CO_ADDRESS_FAMILY"] = []
        self.bindings: list[NdisBindingHandle] = []


class NdisProtocolHandle(DriverHandle):
    """NdisProtocolHandle: NDIS's handle for a registered protocol driver (here: a CoNDIS client)."""

    __slots__ = ("client_handlers", "co_characteristics", "bindings")
    kind = "NdisProtocolHandle"

    def __init__(self, ndis: Any, name: str) -> None:
        super().__init__(ndis, name)
        self.client_handlers: Any = None
        self.co_characteristics: Any = None
        self.bindings: list[NdisBindingHandle] = []


class NdisBindingHandle(NdisHandle):
    """NdisBindingHandle: a protocol bound to a miniport adapter (NdisOpenAdapterEx)."""

    __slots__ = ("protocol", "miniport", "ProtocolBindingContext", "closed", "afs")
    kind = "NdisBindingHandle"

    def __init__(self, ndis: Any, protocol: NdisProtocolHandle, miniport: NdisMiniportAdapterHandle,
                 ProtocolBindingContext: Any) -> None:
        super().__init__(ndis)
        self.protocol = protocol
        self.miniport = miniport
        self.ProtocolBindingContext = ProtocolBindingContext
        self.closed = False
        self.afs: list[NdisAfHandle] = []

    @property
    def valid(self) -> bool:
        return not self.closed


class AfState(str, Enum):
    OPENING = "opening"
    OPEN = "open"
    CLOSING = "closing"
    CLOSED = "closed"  # closed, or the open failed


class NdisAfHandle(NdisHandle):
    """NdisAfHandle: a client's open of an address family on one binding (NdisClOpenAddressFamilyEx)."""

    __slots__ = ("binding", "AddressFamily", "ProtocolAfContext", "CallMgrAfContext", "state",
                 "open_op", "close_op", "vcs")
    kind = "NdisAfHandle"

    def __init__(self, ndis: Any, binding: NdisBindingHandle, AddressFamily: "CO_ADDRESS_FAMILY",
                 ProtocolAfContext: Any) -> None:
        super().__init__(ndis)
        self.binding = binding
        self.AddressFamily = AddressFamily
        self.ProtocolAfContext = ProtocolAfContext
        self.CallMgrAfContext: Any = None
        self.state = AfState.OPENING
        self.open_op: Operation | None = None
        self.close_op: Operation | None = None
        self.vcs: set[NdisVcHandle] = set()

    @property
    def miniport(self) -> NdisMiniportAdapterHandle:
        return self.binding.miniport

    @property
    def protocol(self) -> NdisProtocolHandle:
        return self.binding.protocol

    @property
    def valid(self) -> bool:
        return self.state in (AfState.OPENING, AfState.OPEN)

    def _state(self) -> str:
        return self.state.value


class CallState(str, Enum):
    IDLE = "idle"  # no call (never made, or the make-call failed)
    MAKING = "making"  # NdisClMakeCall under way
    CONNECTED = "connected"
    CLOSING = "closing"  # NdisClCloseCall under way
    CLOSED = "closed"  # closed: "marked as closing", cannot carry another call (NdisClCloseCall page)


class NdisVcHandle(NdisHandle):
    """NdisVcHandle: a virtual connection. ``creator`` is who created it (the client with NdisCoCreateVc,
    or the call manager with NdisMCmCreateVc); ``active`` whether the call manager activated it
    (NdisMCmActivateVc); ``parties`` the parties NDIS still links to it (not yet dead)."""

    __slots__ = ("af", "creator", "ProtocolVcContext", "CallMgrVcContext", "deleted", "active",
                 "call_state", "multipoint", "parties", "make_op", "close_op", "incoming_close_op",
                 "CallParameters", "close_party")
    kind = "NdisVcHandle"

    def __init__(self, ndis: Any, af: NdisAfHandle, creator: Role) -> None:
        super().__init__(ndis)
        self.af = af
        self.creator = creator
        self.ProtocolVcContext: Any = None
        self.CallMgrVcContext: Any = None
        self.deleted = False
        self.active = False
        self.call_state = CallState.IDLE
        self.multipoint = False
        self.parties: list[NdisPartyHandle] = []
        self.make_op: Operation | None = None
        self.close_op: Operation | None = None
        self.incoming_close_op: Operation | None = None
        self.CallParameters: "CO_CALL_PARAMETERS | None" = None
        self.close_party: NdisPartyHandle | None = None

    @property
    def valid(self) -> bool:
        return not self.deleted

    def _state(self) -> str:
        if self.deleted:
            return "deleted"
        return f"{self.call_state.value}{', active' if self.active else ''}"

    def live_parties(self, exclude: "NdisPartyHandle | None" = None) -> list["NdisPartyHandle"]:
        """Parties NDIS still links to the VC (adding, active, or being dropped)."""
        return [p for p in self.parties if p is not exclude and p.state is not PartyState.DEAD]

    def has_live_parties(self, exclude: "NdisPartyHandle | None" = None) -> bool:
        """Whether :meth:`live_parties` is not empty (stops at the first one)."""
        return any(p is not exclude and p.state is not PartyState.DEAD for p in self.parties)

    def has_remaining_parties(self, exclude: "NdisPartyHandle | None" = None) -> bool:
        """Whether :meth:`remaining_parties` is not empty (stops at the first one: a party left on the
        call is usually the first one, which stays to the end)."""
        return any(p is not exclude and p.state is not PartyState.DEAD and not p.released for p in self.parties)

    def remaining_parties(self, exclude: "NdisPartyHandle | None" = None) -> list["NdisPartyHandle"]:
        """Parties the client has not released yet (not dead, and neither NdisClDropParty nor
        NdisClCloseCall called with them): the parties "left" on the VC."""
        return [p for p in self.parties
                if p is not exclude and p.state is not PartyState.DEAD and not p.released]


class PartyState(str, Enum):
    ADDING = "adding"  # NdisClAddParty (or the multipoint NdisClMakeCall) under way
    ACTIVE = "active"
    DEAD = "dead"  # add failed, drop completed (any status), or the call closed


class NdisPartyHandle(NdisHandle):
    """NdisPartyHandle: one party of a point-to-multipoint call.

    ``released`` is set when the client gives the handle back (NdisClDropParty, or NdisClCloseCall with
    it): from then on the client must consider it invalid ("as soon as it makes this call", NdisClDropParty
    page), while the call manager still uses it to complete the drop. ``ended_by`` says what killed it."""

    __slots__ = ("vc", "ProtocolPartyContext", "CallMgrPartyContext", "state", "released", "initial",
                 "add_op", "drop_op", "incoming_drop_op", "ended_by", "CallParameters")
    kind = "NdisPartyHandle"

    def __init__(self, ndis: Any, vc: NdisVcHandle, ProtocolPartyContext: Any, initial: bool) -> None:
        super().__init__(ndis)
        self.vc = vc
        self.ProtocolPartyContext = ProtocolPartyContext
        self.CallMgrPartyContext: Any = None
        self.state = PartyState.ADDING
        self.released = False
        self.initial = initial  # the first party, created by NdisClMakeCall
        self.add_op: Operation | None = None
        self.drop_op: Operation | None = None
        self.incoming_drop_op: Operation | None = None
        self.ended_by = ""
        self.CallParameters: "CO_CALL_PARAMETERS | None" = None

    @property
    def valid(self) -> bool:
        return self.state is not PartyState.DEAD

    def _state(self) -> str:
        s = self.state.value
        if self.state is PartyState.DEAD and self.ended_by:
            s += f" ({self.ended_by})"
        elif self.released:
            s += ", released by the client"
        return s
