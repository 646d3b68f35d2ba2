"""SSCF-UNI, the service specific coordination function of the signalling AAL at the UNI (ITU-T Q.2130).

SSCF-UNI sits between Q.2931 (layer 3) and SSCOP (Q.2110). It maps the AAL- primitives of layer 3
(Q.2130 7.1) onto the AA- signals of SSCOP (Q.2130 8.1) and back:

    layer 3 -> SSCOP
        AAL-ESTABLISH.request   AA-ESTABLISH.request (BR = Yes); in 4/10 AA-RESYNC.request
        AAL-RELEASE.request     AA-RELEASE.request
        AAL-DATA.request        AA-DATA.request
        AAL-UNITDATA.request    AA-UNITDATA.request
    SSCOP -> layer 3
        AA-ESTABLISH.confirm, AA-RESYNC.confirm                AAL-ESTABLISH.confirm
        AA-ESTABLISH.indication, AA-RESYNC.indication,
        AA-RECOVER.indication                                  AAL-ESTABLISH.indication
        AA-RELEASE.indication / .confirm                       AAL-RELEASE.indication / .confirm
        AA-DATA.indication, AA-UNITDATA.indication             AAL-DATA.indication, AAL-UNITDATA.indication

SSCF-UNI answers on its own what SSCOP asks of its user: AA-ESTABLISH.response to an
AA-ESTABLISH.indication, AA-RESYNC.response to AA-RESYNC.indication, AA-RECOVER.response to
AA-RECOVER.indication - so SSCOP never rests in states 3, 6, 8 or 9 - and tells layer 3 of a
resynchronisation or recovery by the AAL-ESTABLISH.indication (Q.2931 then checks its calls with
STATUS ENQUIRY: messages may have been lost). At the UNI the AAL- primitives carry no SSCOP-UU, and
SSCF sends SSCOP-UU null and BR (buffer release) = Yes: SSCF-UNI never retrieves unacknowledged
messages (AA-RETRIEVE is not used at the UNI; Q.2130 8.2).

States (Q.2130 clause 9) carry the pair of numbers "SSCF state / SSCOP state" of the Recommendation's
state transition table, and the name of the SSCOP state each runs with: 1/1 Idle, 2/2 Outgoing
Connection Pending, 2/5 Outgoing Resynchronization Pending, 3/4 Outgoing Disconnection Pending, 4/10
Data Transfer Ready. The SSCF number is the state layer 3 sees at the boundary (Q.2130 7.2): 1 AAL
connection released, 2 awaiting establish, 3 awaiting release, 4 AAL connection established. (While
SSCOP recovers on its own, in its state 7, SSCF stays in 4/10.)

The machine is data: :data:`TRANSITIONS` maps ``(state, event) -> Rule(next state, actions, clause)``;
:class:`SSCF` performs the rules, with no I/O: :meth:`SSCF.handle` returns the
:class:`~firmware.sscop.events.UserRequest` s to give to SSCOP and the :class:`AalSignal` s to give to
layer 3, in order. An event the table does not allow raises :class:`SSCFProtocolError` and leaves the
state unchanged: a layer 3 request the boundary of Q.2130 7.2 does not allow in that state (AAL-DATA
while not established), or a signal a correct SSCOP cannot give in that state (a composition error).

Where the table follows FreeBSD's ngatm (``saal_sscfu.c``, the reference implementation read for
this) and where not: AAL-ESTABLISH.request while an establishment is under way (2/2, 2/5) and
AAL-RELEASE.request while a release is (3/4) are rows that do nothing but count (ngatm discards them
as bad signals); AA-RESYNC.confirm is accepted in 2/5 only (ngatm accepts it in every state).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

from firmware.sscop.events import RN_UNKNOWN, Indication, Primitive, Source, UserRequest
from firmware.sscop.machine import SSCOPParams
from firmware.sscop.states import State as SSCOPState
from hw.errors import AtmemuError, FieldError

#: SSCOP parameters for signalling at the UNI (Q.2130 clause 11), as FreeBSD ngatm's
#: ``sscfu_getdefparam`` sets them: Timer_CC 1 s, Timer_POLL 750 ms, Timer_KEEP-ALIVE 2 s,
#: Timer_NO-RESPONSE 7 s, Timer_IDLE 15 s, MaxCC 4, MaxPD 25, MaxSTAT 67, k = j = 4096 octets.
UNI_SSCOP_PARAMS = SSCOPParams(timer_cc=1.0, timer_poll=0.75, timer_no_response=7.0, timer_keep_alive=2.0,
                               timer_idle=15.0, max_cc=4, max_pd=25, max_stat=67, max_k=4096, max_j=4096)


class SSCFState(Enum):
    """States of SSCF-UNI (Q.2130 clause 9), valued "SSCF state/SSCOP state" as the Recommendation
    writes them."""

    IDLE = "1/1"
    OUTGOING_CONNECTION_PENDING = "2/2"
    OUTGOING_RESYNC_PENDING = "2/5"
    OUTGOING_DISCONNECTION_PENDING = "3/4"
    DATA_TRANSFER_READY = "4/10"

    @property
    def sscf(self) -> int:
        """The state seen by layer 3 (Q.2130 7.2): 1 released, 2 awaiting establish, 3 awaiting
        release, 4 established."""
        return int(self.value.split("/")[0])

    @property
    def sscop(self) -> SSCOPState:
        """The SSCOP state that goes with it (SSCOP may be in 7 as well while in 4/10)."""
        return SSCOPState(int(self.value.split("/")[1]))

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    SSCFState.IDLE: "Idle",
    SSCFState.OUTGOING_CONNECTION_PENDING: "Outgoing Connection Pending",
    SSCFState.OUTGOING_RESYNC_PENDING: "Outgoing Resynchronization Pending",
    SSCFState.OUTGOING_DISCONNECTION_PENDING: "Outgoing Disconnection Pending",
    SSCFState.DATA_TRANSFER_READY: "Data Transfer Ready",
}


class AalPrimitive(str, Enum):
    """The primitives between SSCF-UNI and layer 3 (Q.2130 7.1). At the UNI, ESTABLISH and RELEASE
    carry no parameter; DATA and UNITDATA carry the message unit (a Q.2931 message)."""

    ESTABLISH_REQUEST = "AAL-ESTABLISH.request"
    ESTABLISH_INDICATION = "AAL-ESTABLISH.indication"
    ESTABLISH_CONFIRM = "AAL-ESTABLISH.confirm"
    RELEASE_REQUEST = "AAL-RELEASE.request"
    RELEASE_INDICATION = "AAL-RELEASE.indication"
    RELEASE_CONFIRM = "AAL-RELEASE.confirm"
    DATA_REQUEST = "AAL-DATA.request"
    DATA_INDICATION = "AAL-DATA.indication"
    UNITDATA_REQUEST = "AAL-UNITDATA.request"
    UNITDATA_INDICATION = "AAL-UNITDATA.indication"


#: What layer 3 may give to SSCF.
LAYER3_REQUESTS = (AalPrimitive.ESTABLISH_REQUEST, AalPrimitive.RELEASE_REQUEST, AalPrimitive.DATA_REQUEST,
                   AalPrimitive.UNITDATA_REQUEST)
#: What SSCOP may give to its user (Q.2110 6.1): the AA- indications and confirms.
SSCOP_SIGNALS = (
    Primitive.AA_ESTABLISH_INDICATION, Primitive.AA_ESTABLISH_CONFIRM, Primitive.AA_RELEASE_INDICATION,
    Primitive.AA_RELEASE_CONFIRM, Primitive.AA_DATA_INDICATION, Primitive.AA_RESYNC_INDICATION,
    Primitive.AA_RESYNC_CONFIRM, Primitive.AA_RECOVER_INDICATION, Primitive.AA_UNITDATA_INDICATION,
    Primitive.AA_RETRIEVE_INDICATION, Primitive.AA_RETRIEVE_COMPLETE_INDICATION,
)
#: Every event of the table.
EVENTS: tuple[AalPrimitive | Primitive, ...] = (*LAYER3_REQUESTS, *SSCOP_SIGNALS)
Event = AalPrimitive | Primitive


class Act(str, Enum):
    """What a rule does, in order."""

    AA_ESTABLISH_REQUEST = "AA-ESTABLISH.request (SSCOP-UU null, BR = Yes)"
    AA_ESTABLISH_RESPONSE = "AA-ESTABLISH.response (SSCOP-UU null, BR = Yes)"
    AA_RELEASE_REQUEST = "AA-RELEASE.request (SSCOP-UU null)"
    AA_DATA_REQUEST = "AA-DATA.request (MU)"
    AA_UNITDATA_REQUEST = "AA-UNITDATA.request (MU)"
    AA_RESYNC_REQUEST = "AA-RESYNC.request (SSCOP-UU null)"
    AA_RESYNC_RESPONSE = "AA-RESYNC.response"
    AA_RECOVER_RESPONSE = "AA-RECOVER.response"
    AAL_ESTABLISH_INDICATION = "AAL-ESTABLISH.indication"
    AAL_ESTABLISH_CONFIRM = "AAL-ESTABLISH.confirm"
    AAL_RELEASE_INDICATION = "AAL-RELEASE.indication"
    AAL_RELEASE_CONFIRM = "AAL-RELEASE.confirm"
    AAL_DATA_INDICATION = "AAL-DATA.indication (MU)"
    AAL_UNITDATA_INDICATION = "AAL-UNITDATA.indication (MU)"
    IGNORE = "no action (counted)"


@dataclass(frozen=True, slots=True)
class Rule:
    """Go to ``next_state`` after performing ``actions``; ``clause`` is the Q.2130 reference."""

    next_state: SSCFState
    actions: tuple[Act, ...]
    clause: str


class AalSignal(NamedTuple):
    """A primitive from SSCF to layer 3 (Q.2130 7.1). ``data``: the message unit of AAL-DATA and
    AAL-UNITDATA.indication; ``source``: for AAL-RELEASE.indication, the Source SSCOP gave (Q.2110
    6.1: the peer user, or SSCOP itself) - not a Q.2130 parameter, kept for the layer's diagnostics."""

    primitive: AalPrimitive
    data: bytes = b""
    source: Source | None = None


class SSCFError(AtmemuError):
    """Base of the errors of SSCF-UNI."""


class SSCFProtocolError(SSCFError):
    """An event the SSCF-UNI table does not allow in the current state; the state is unchanged."""

    def __init__(self, state: SSCFState, event: Event, reason: str) -> None:
        self.state = state
        self.event = event
        self.reason = reason
        super().__init__(f"SSCF-UNI: {getattr(event, 'value', event)} is not allowed in state {state.value} "
                         f"{state.label}: {reason}")


class SSCFValueError(SSCFError, FieldError):
    """A value given to SSCF that is not what the field takes (an unknown primitive name...)."""


S = SSCFState
P = Primitive
L = AalPrimitive
A = Act

_1 = S.IDLE
_22 = S.OUTGOING_CONNECTION_PENDING
_25 = S.OUTGOING_RESYNC_PENDING
_34 = S.OUTGOING_DISCONNECTION_PENDING
_4 = S.DATA_TRANSFER_READY


def _r(next_state: SSCFState, clause: str, *actions: Act) -> Rule:
    return Rule(next_state, actions, clause)


def _unitdata(state: SSCFState) -> dict[tuple[SSCFState, Event], Rule]:
    """Unassured transfer is independent of the connection, in every state (Q.2130 7.1, 8.3; SSCOP
    sends UD in any state, Q.2110 8.2 pp.73-74)."""
    return {
        (state, L.UNITDATA_REQUEST): _r(state, "Q.2130 9, 8.3", A.AA_UNITDATA_REQUEST),
        (state, P.AA_UNITDATA_INDICATION): _r(state, "Q.2130 9, 8.3", A.AAL_UNITDATA_INDICATION),
    }


TRANSITIONS: dict[tuple[SSCFState, Event], Rule] = {
    # ---- 1/1 Idle --------------------------------------------------------------------------------
    **_unitdata(_1),
    (_1, L.ESTABLISH_REQUEST): _r(_22, "Q.2130 9; 8.2 (BR = Yes)", A.AA_ESTABLISH_REQUEST),
    (_1, L.RELEASE_REQUEST): _r(_1, "Q.2130 9 (released already: confirmed at once)", A.AAL_RELEASE_CONFIRM),
    (_1, P.AA_ESTABLISH_INDICATION): _r(
        _4, "Q.2130 9 (SSCF accepts every establishment; 8.2: BR = Yes)", A.AA_ESTABLISH_RESPONSE,
        A.AAL_ESTABLISH_INDICATION),

    # ---- 2/2 Outgoing Connection Pending -----------------------------------------------------------
    **_unitdata(_22),
    (_22, P.AA_ESTABLISH_CONFIRM): _r(_4, "Q.2130 9", A.AAL_ESTABLISH_CONFIRM),
    (_22, P.AA_RELEASE_INDICATION): _r(_1, "Q.2130 9 (BGREJ, or MaxCC BGNs unanswered)", A.AAL_RELEASE_INDICATION),
    (_22, L.RELEASE_REQUEST): _r(_34, "Q.2130 9", A.AA_RELEASE_REQUEST),
    (_22, L.ESTABLISH_REQUEST): _r(_22, "Q.2130 9 (establishment already under way)", A.IGNORE),

    # ---- 2/5 Outgoing Resynchronization Pending -----------------------------------------------------
    **_unitdata(_25),
    (_25, P.AA_RESYNC_CONFIRM): _r(_4, "Q.2130 9", A.AAL_ESTABLISH_CONFIRM),
    (_25, P.AA_RELEASE_INDICATION): _r(_1, "Q.2130 9", A.AAL_RELEASE_INDICATION),
    (_25, L.RELEASE_REQUEST): _r(_34, "Q.2130 9", A.AA_RELEASE_REQUEST),
    (_25, L.ESTABLISH_REQUEST): _r(_25, "Q.2130 9 (re-establishment already under way)", A.IGNORE),

    # ---- 3/4 Outgoing Disconnection Pending ---------------------------------------------------------
    **_unitdata(_34),
    (_34, P.AA_RELEASE_CONFIRM): _r(_1, "Q.2130 9", A.AAL_RELEASE_CONFIRM),
    (_34, L.ESTABLISH_REQUEST): _r(_22, "Q.2130 9; 8.2 (BR = Yes)", A.AA_ESTABLISH_REQUEST),
    (_34, L.RELEASE_REQUEST): _r(_34, "Q.2130 9 (release already under way)", A.IGNORE),

    # ---- 4/10 Data Transfer Ready -------------------------------------------------------------------
    **_unitdata(_4),
    (_4, L.DATA_REQUEST): _r(_4, "Q.2130 9, 7.1", A.AA_DATA_REQUEST),
    (_4, P.AA_DATA_INDICATION): _r(_4, "Q.2130 9, 7.1", A.AAL_DATA_INDICATION),
    (_4, L.ESTABLISH_REQUEST): _r(
        _25, "Q.2130 9 (layer 3 re-establishes an established link: SSCOP resynchronizes)",
        A.AA_RESYNC_REQUEST),
    (_4, L.RELEASE_REQUEST): _r(_34, "Q.2130 9", A.AA_RELEASE_REQUEST),
    (_4, P.AA_RELEASE_INDICATION): _r(_1, "Q.2130 9", A.AAL_RELEASE_INDICATION),
    (_4, P.AA_RESYNC_INDICATION): _r(
        _4, "Q.2130 9 (peer resynchronized: layer 3 told by AAL-ESTABLISH.indication)", A.AA_RESYNC_RESPONSE,
        A.AAL_ESTABLISH_INDICATION),
    (_4, P.AA_RECOVER_INDICATION): _r(
        _4, "Q.2130 9 (SSCOP recovered from a protocol error: layer 3 told by AAL-ESTABLISH.indication)",
        A.AA_RECOVER_RESPONSE, A.AAL_ESTABLISH_INDICATION),
}


def _illegal() -> dict[tuple[SSCFState, Event], str]:
    """Every pair without a rule, with the reason."""
    reasons: dict[tuple[SSCFState, Event], str] = {}
    for state in SSCFState:
        for event in EVENTS:
            if (state, event) in TRANSITIONS:
                continue
            if event in (P.AA_RETRIEVE_INDICATION, P.AA_RETRIEVE_COMPLETE_INDICATION):
                reason = "SSCF-UNI never asks SSCOP for AA-RETRIEVE (Q.2130 8.2: BR = Yes)"
            elif isinstance(event, AalPrimitive):
                reason = (f"the boundary with layer 3 (Q.2130 7.2) allows {event.value} in state "
                          + ", ".join(s.value for s in SSCFState if (s, event) in TRANSITIONS) + " only")
            else:
                reason = (f"SSCOP in state {state.sscop.value} ({state.sscop.label}) does not give "
                          f"{event.value} (Q.2110 8.2): a composition error")
            reasons[state, event] = reason
    return reasons


#: Every (state, event) pair without a rule, and why it is illegal.
ILLEGAL: dict[tuple[SSCFState, Event], str] = _illegal()


def rules() -> Iterator[tuple[SSCFState, Event, Rule]]:
    for (state, event), rule in TRANSITIONS.items():
        yield state, event, rule


def to_dot(*, include_self_loops: bool = False, name: str = "sscf_uni") -> str:
    """The table as a Graphviz DOT digraph (one node per state, edges labelled with the events)."""
    edges: dict[tuple[SSCFState, SSCFState], list[str]] = {}
    for state, event, rule in rules():
        if rule.next_state is state and not include_self_loops:
            continue
        edges.setdefault((state, rule.next_state), []).append(event.value)
    lines = [f'digraph "{name}" {{', '  label="SSCF-UNI (ITU-T Q.2130 clause 9)";', "  rankdir=LR;",
             '  node [shape=box, style=rounded, fontname="Helvetica"];',
             '  edge [fontname="Helvetica", fontsize=9];']
    for state in SSCFState:
        lines.append(f'  "{state.value}" [label="{state.value} {state.label}"];')
    for (source, target), labels in edges.items():
        lines.append(f'  "{source.value}" -> "{target.value}" [label="' + "\\n".join(labels) + '"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


# ---- the machine ---------------------------------------------------------------------------------

_new = object.__new__
_set = object.__setattr__


def _request(primitive: Primitive, data: bytes) -> UserRequest:
    """A UserRequest built without re-running its checks: the primitive comes from this table (always
    a request or response) and ``data`` is bytes (a test compares these with checked ones)."""
    request = _new(UserRequest)
    _set(request, "primitive", primitive)
    _set(request, "data", data)
    _set(request, "clear_buffers", True)  # BR = Yes (Q.2130 8.2)
    _set(request, "rn", RN_UNKNOWN)
    return request


# Outputs without a parameter are immutable: one of each serves every rule that makes it.
_ESTABLISH_REQUEST = _request(P.AA_ESTABLISH_REQUEST, b"")
_ESTABLISH_RESPONSE = _request(P.AA_ESTABLISH_RESPONSE, b"")
_RELEASE_REQUEST = _request(P.AA_RELEASE_REQUEST, b"")
_RESYNC_REQUEST = _request(P.AA_RESYNC_REQUEST, b"")
_RESYNC_RESPONSE = _request(P.AA_RESYNC_RESPONSE, b"")
_RECOVER_RESPONSE = _request(P.AA_RECOVER_RESPONSE, b"")
_AAL_ESTABLISH_INDICATION = AalSignal(L.ESTABLISH_INDICATION)
_AAL_ESTABLISH_CONFIRM = AalSignal(L.ESTABLISH_CONFIRM)
_AAL_RELEASE_CONFIRM = AalSignal(L.RELEASE_CONFIRM)

# Each action as a function of (data, source) -> output, or None for IGNORE.
_OUTPUT: dict[Act, Callable[[bytes, Source | None], UserRequest | AalSignal] | None] = {
    A.AA_ESTABLISH_REQUEST: lambda data, source: _ESTABLISH_REQUEST,
    A.AA_ESTABLISH_RESPONSE: lambda data, source: _ESTABLISH_RESPONSE,
    A.AA_RELEASE_REQUEST: lambda data, source: _RELEASE_REQUEST,
    A.AA_DATA_REQUEST: lambda data, source: _request(P.AA_DATA_REQUEST, data),
    A.AA_UNITDATA_REQUEST: lambda data, source: _request(P.AA_UNITDATA_REQUEST, data),
    A.AA_RESYNC_REQUEST: lambda data, source: _RESYNC_REQUEST,
    A.AA_RESYNC_RESPONSE: lambda data, source: _RESYNC_RESPONSE,
    A.AA_RECOVER_RESPONSE: lambda data, source: _RECOVER_RESPONSE,
    A.AAL_ESTABLISH_INDICATION: lambda data, source: _AAL_ESTABLISH_INDICATION,
    A.AAL_ESTABLISH_CONFIRM: lambda data, source: _AAL_ESTABLISH_CONFIRM,
    A.AAL_RELEASE_INDICATION: lambda data, source: AalSignal(L.RELEASE_INDICATION, b"", source),
    A.AAL_RELEASE_CONFIRM: lambda data, source: _AAL_RELEASE_CONFIRM,
    A.AAL_DATA_INDICATION: lambda data, source: AalSignal(L.DATA_INDICATION, data),
    A.AAL_UNITDATA_INDICATION: lambda data, source: AalSignal(L.UNITDATA_INDICATION, data),
    A.IGNORE: None,
}
assert set(_OUTPUT) == set(Act)

#: The events that carry SSCOP-UU, which SSCF-UNI does not pass to layer 3 (counted when non-empty).
_UU_SIGNALS = frozenset({P.AA_ESTABLISH_INDICATION, P.AA_ESTABLISH_CONFIRM, P.AA_RELEASE_INDICATION,
                         P.AA_RESYNC_INDICATION, P.AA_RESYNC_CONFIRM})

#: (state value, event) -> (next state, output makers, rule, counter name, counter name if ignored): the
#: table, ready to run. Keyed by the state's value: a plain Enum member hashes through a Python-level
#: ``Enum.__hash__``, its value (a str) in C.
_COMPILED = {(state.value, event): (rule.next_state,
                                    tuple(_OUTPUT[act] for act in rule.actions if _OUTPUT[act] is not None),
                                    rule, event.value, f"ignored.{event.value}")
             for (state, event), rule in TRANSITIONS.items()}


class SSCF:
    """One SSCF-UNI entity. Give it layer 3 requests (:meth:`request`) and SSCOP indications
    (:meth:`from_sscop`), or any event to :meth:`handle`; carry out what it returns: each
    :class:`~firmware.sscop.events.UserRequest` to SSCOP, each :class:`AalSignal` to layer 3, in order.

    ``counters``: events by name, ``ignored.<event>`` for the rows that do nothing, and ``uu_ignored``
    for SSCOP-UU received from the peer (not passed up at the UNI)."""

    __slots__ = ("name", "state", "counters", "last_rule")

    def __init__(self, *, name: str = "sscf") -> None:
        self.name = name
        self.state = SSCFState.IDLE
        self.counters: Counter[str] = Counter()
        self.last_rule: Rule | None = None

    def __repr__(self) -> str:
        return f"SSCF({self.name!r}, state={self.state.value} {self.state.label})"

    @property
    def established(self) -> bool:
        """True in 4/10: layer 3 may send messages (AAL-DATA.request)."""
        return self.state is SSCFState.DATA_TRANSFER_READY

    def handle(self, event: Event, data: bytes = b"", source: Source | None = None
               ) -> list[UserRequest | AalSignal]:
        """Process one event; return the outputs. Raises :class:`SSCFProtocolError` (state unchanged)
        for a pair the table does not allow."""
        entry = _COMPILED.get((self.state._value_, event))
        if entry is None:
            raise SSCFProtocolError(self.state, event, ILLEGAL.get((self.state, event), "not an SSCF-UNI event"))
        next_state, makers, rule, name, ignored = entry
        counters = self.counters
        counters[name] += 1
        if not makers:
            counters[ignored] += 1
        elif data and event in _UU_SIGNALS:
            counters["uu_ignored"] += 1
        self.state = next_state
        self.last_rule = rule
        if len(makers) == 1:
            return [makers[0](data, source)]
        return [make(data, source) for make in makers]

    def request(self, primitive: AalPrimitive | str, data: bytes = b"") -> list[UserRequest | AalSignal]:
        """A layer 3 request (Q.2130 7.1)."""
        try:
            primitive = AalPrimitive(primitive)
        except ValueError:
            raise SSCFValueError("primitive", primitive, "an AAL- primitive of Q.2130 7.1") from None
        if primitive not in LAYER3_REQUESTS:
            raise SSCFProtocolError(self.state, primitive, "layer 3 gives requests only (Q.2130 7.1)")
        return self.handle(primitive, bytes(data))

    def from_sscop(self, indication: Indication) -> list[UserRequest | AalSignal]:
        """An AA- indication or confirm of SSCOP (Q.2130 8.1)."""
        if not isinstance(indication, Indication):
            raise SSCFValueError("indication", indication, "an SSCOP Indication (firmware.sscop.events)")
        return self.handle(indication.primitive, indication.data, indication.source)


__all__ = [
    "ILLEGAL", "LAYER3_REQUESTS", "SSCOP_SIGNALS", "TRANSITIONS", "UNI_SSCOP_PARAMS", "Act", "AalPrimitive",
    "AalSignal", "EVENTS", "Rule", "SSCF", "SSCFError", "SSCFProtocolError", "SSCFState", "SSCFValueError", "rules",
    "to_dot",
]
