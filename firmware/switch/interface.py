"""One side of one UNI: the call machines of :mod:`firmware.uni.machines` put to work on a signalling
channel and the virtual clock. The switch runs one network-side interface per port; an endpoint runs
one user-side interface.

What the machines leave to their caller, and this module does:

* **Call references** (Q.2931 4.3): the interface's call table is keyed by (call reference value, who
  allocated it). A message received with the flag 0 comes from the side that allocated the value (the
  peer's call), with the flag 1 it is about one of ours; every message sent carries the flag the other
  way round. Values for the calls this side originates are allocated per interface, round robin from
  1 (0 is the global call reference, 0x7FFFFF the dummy one). Endpoint references follow the same flag
  rule (Q.2971: the side that allocated the call reference allocates the endpoint references).
* **Messages**: a message is a :class:`~firmware.uni.fastcodec.FastMessage` (the fast codec, the
  default: a tuple of type, call reference, flag, instruction and elements) or, with ``codec="scapy"``, a
  scapy :class:`~firmware.uni.message.Q2931`; both are the same octets on the wire. Callers read them
  with the accessors here (:func:`cause_of`, :func:`connection_of`, :func:`endpoint_reference_of`,
  :func:`called_number_of`, :func:`message_event`) or :mod:`firmware.uni.access`, never through either
  representation. A received message becomes the machine's event (its type, the endpoint reference,
  cause, call state, endpoint state, and for SETUP whether the bearer is point-to-multipoint); a
  ``Send`` action becomes a message built with the codec's builders (:mod:`firmware.uni.fastbuild`, or
  :mod:`firmware.uni.builders` for scapy: same functions, same octets), with the contents the
  interface's owner supplies for it (called party number, traffic descriptor, connection identifier...)
  and the cause's location (Q.850's location field: where the cause was generated; a relayed cause keeps its own).
  A ``Send`` marked retransmit sends the very message sent the first time (SETUP on T303, RELEASE on T308).
* **The signalling link**: a channel that reports its state (the SAAL) has it counted, passed to the
  owner (``on_link_state``) and fed to the calls as Q.2931 5.6.9 / 5.6.10 say (:meth:`UniInterface.link_state`:
  calls not Active cleared internally with cause 27, Active ones kept under T309, re-establishment asked).
* **Timers**: ``StartTimer`` / ``StopTimer`` become cancellable events on the :class:`hw.clock.Clock`
  (seconds converted to cell slots at the clock's line rate, rounded up); an expiry is fed back to the
  machine with the timer's endpoint reference.
* **Receiver checks** (Q.2931 5.6): frames the channel could not decode arrive with their typed error
  and get the answer their disposition calls for (ignored, STATUS with the cause, RELEASE COMPLETE for a
  SETUP or a RELEASE, or clearing); a decoded message missing a mandatory IE or carrying an unrecognised
  one is checked with :func:`firmware.uni.findings` (after the fast check, ``acceptable`` of
  :func:`firmware.uni.access.digest`, finds something) and answered the same way. Everything not
  processed is counted under a named reason.

The owner (a control plane, an endpoint) gets every indication the machines give, with the message that
caused it, through :meth:`InterfaceListener.on_indication`, after the step's messages are sent and its
timers set; and :meth:`InterfaceListener.on_closed` when a call is back in Null and gone from the table.
"""

from __future__ import annotations

import inspect
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Protocol

from firmware.switch.channel import SignallingChannel, message_name
from firmware.switch.errors import InterfaceError
from firmware.uni import access
from firmware.uni import fastbuild as _fastbuild
from firmware.uni.codecs import MessageCodec, codec as _codec
from firmware.uni.constants import (
    DUMMY_CALL_REF,
    GLOBAL_CALL_REF,
    CallState,
    CauseLocation,
    IEId,
    MessageType,
)
from firmware.uni.contents import findings
from firmware.uni.fastcodec import FastMessage
from firmware.uni.errors import (Disposition, IEContentError, MessageIgnored, MessageLengthError, UniDecodeError,
                                 UnknownMessageType)
from firmware.uni.machines import Call, CallStep, CountCause, Discard, Indicate, Send, Side, StartTimer, StopTimer
from firmware.uni.machines import events as ev
from firmware.uni.machines.call import MAX_CREF
from firmware.uni.machines.errors import UNIError
from firmware.uni.machines.timers import DEFAULT_TIMERS, Timers
from hw.clock import Clock, EventHandle

#: What a message is here: a FastMessage (codec "fast", the default) or a scapy Q2931 (codec "scapy").
Message = Any

#: Machine event of each message type (LEAF SETUP REQUEST/FAILURE are not implemented: UNKNOWN).
MESSAGE_EVENTS: dict[int, str] = {int(t): ev.canonical(t.name) for t in MessageType}
#: Q.2931 5.6.7.1: a RELEASE without its (mandatory) Cause is taken as cause 31, normal unspecified.
CAUSE_NORMAL_UNSPECIFIED = 31
_SETUP_TYPE = int(MessageType.SETUP)
_NO_IES: dict[str, Any] = {}
_PARTY_PRIMITIVES = frozenset(ev.PARTY_PRIMITIVES)


def message_event(message: Message) -> tuple[str, int | None, dict[str, Any]]:
    """(event, endpoint reference, parameters) the machines take for a decoded message."""
    message_type, epref, params = access.event_parameters(message)
    name = MESSAGE_EVENTS.get(message_type, ev.UNKNOWN)
    if message_type == _SETUP_TYPE:
        params["multipoint"] = access.multipoint(message)
    return name, epref, params


def cause_of(message: Message | None) -> tuple[int | None, int | None]:
    """(cause value, location) of a message's first Cause IE, (None, None) without one."""
    return access.cause(message)


def connection_of(message: Message | None) -> tuple[int, int] | None:
    """(VPCI, VCI) of a message's Connection identifier IE."""
    return access.connection(message)


def endpoint_reference_of(message: Message | None) -> int | None:
    """The endpoint reference value of a message (Q.2971), None without one."""
    return access.endpoint_reference(message)


def called_number_of(message: Message | None) -> Any:
    """The Called party number element of a message (of its codec: pass it on as it is), or None."""
    return access.called_number(message)


class UniCall:
    """One call in an interface's call table: the composed machine (:class:`firmware.uni.machines.Call`)
    plus what the interface keeps for it. ``owner`` is free for the interface's owner to use."""

    def __init__(self, iface: UniInterface, cref: int, ours: bool, machine: Call) -> None:
        self.iface = iface
        self.cref = cref
        self.ours = ours
        self.machine = machine
        self.owner: Any = None
        self.closed = False
        self.timers: dict[tuple[str, int | None], EventHandle] = {}
        self.sent: dict[tuple[str, int | None], Message] = {}
        self.received: dict[str, Message] = {}
        self.connection: tuple[int, int] | None = None   # (VPCI, VCI) from a Connection identifier IE

    @property
    def key(self) -> tuple[int, bool]:
        return (self.cref, self.ours)

    @property
    def flag(self) -> int:
        """Call reference flag of the messages this side sends for the call (Q.2931 4.3)."""
        return 0 if self.ours else 1

    @property
    def state(self) -> str:
        return self.machine.state

    def party_state(self, epref: int) -> str:
        return self.machine.party_state(epref)

    def __repr__(self) -> str:
        who = "ours" if self.ours else "peer's"
        return (f"<UniCall {self.iface.name} cref={self.cref} ({who}) {self.machine.state} "
                f"{self.machine.party_states()}>")


class InterfaceListener(Protocol):
    """What an interface's owner implements. ``message`` is the received message that caused the
    indication (None for a timer or a local primitive): a ``FastMessage`` with the fast codec (the
    default), a scapy ``Q2931`` with codec "scapy"; read it with :func:`cause_of`, :func:`connection_of`,
    :func:`endpoint_reference_of`, :func:`called_number_of` or :mod:`firmware.uni.access`. An owner may
    also define ``on_link_state(iface, up, cause)`` to hear of the signalling link's loss and return
    (channels that can fail report it: :class:`~firmware.switch.channel.SaalChannel`)."""

    def on_indication(self, iface: UniInterface, call: UniCall, indication: Indicate,
                      message: Message | None) -> None: ...

    def on_closed(self, iface: UniInterface, call: UniCall) -> None: ...


@dataclass
class InterfaceCounters:
    """Everything one interface did, by name. ``answered``: unexpected messages that got the standard
    answer, by the cause of the answer (0 when the answer was to discard); ``causes``: the causes the
    machines counted (CountCause); ``discards``: events and frames not processed, by reason."""

    messages_in: Counter[str] = field(default_factory=Counter)
    messages_out: Counter[str] = field(default_factory=Counter)
    requests: Counter[str] = field(default_factory=Counter)
    indications: Counter[str] = field(default_factory=Counter)
    answered: Counter[int] = field(default_factory=Counter)
    causes: Counter[int] = field(default_factory=Counter)
    discards: Counter[str] = field(default_factory=Counter)
    decode_errors: Counter[int] = field(default_factory=Counter)
    timers_started: Counter[str] = field(default_factory=Counter)
    timers_expired: Counter[str] = field(default_factory=Counter)
    link_changes: Counter[str] = field(default_factory=Counter)
    calls_opened: int = 0
    calls_closed: int = 0


def _scapy_value(codec: MessageCodec, value: Any) -> Any:
    """A content value for the scapy builders: fast elements converted, plain values as they are."""
    from firmware.uni.fastcodec import FastIE

    if value.__class__ is FastIE:
        return codec.ie(value)
    if isinstance(value, list):
        return [_scapy_value(codec, v) for v in value]
    return value


def _kwargs(fn) -> frozenset[str]:
    return frozenset(p.name for p in inspect.signature(fn).parameters.values() if p.kind is p.KEYWORD_ONLY)


# Contents a builder takes from the owner (beyond what the interface fills itself).
_SETUP_KW = _kwargs(_fastbuild.Setup) - {"flag", "endpoint_flag", "endpoint_ref"}
_ADD_PARTY_KW = _kwargs(_fastbuild.AddParty) - {"flag", "endpoint_flag"} | {"called"}
_CONTENT_KW = {
    ev.SETUP: _SETUP_KW,
    ev.ADD_PARTY: _ADD_PARTY_KW,
    ev.CALL_PROCEEDING: frozenset({"connection_id", "notify"}),
    ev.ALERTING: frozenset({"connection_id", "notify"}),
    ev.CONNECT: frozenset({"aal", "blli", "connection_id", "e2e_delay", "notify"}),
    ev.ADD_PARTY_ACK: frozenset({"aal", "blli", "e2e_delay", "notify"}),
    ev.PARTY_ALERTING: frozenset({"notify"}),
    ev.RELEASE: frozenset({"notify"}),
    ev.DROP_PARTY: frozenset({"notify"}),
}


class UniInterface:
    """The signalling entity of one side of one UNI. ``side``: "user" or "network". ``codec``: the
    messages it builds, "fast" or "scapy" (default: the channel's codec, else "fast"); what it receives
    is what the channel decodes."""

    def __init__(self, clock: Clock, channel: SignallingChannel, side: Side | str, *, timers: Timers = DEFAULT_TIMERS,
                 name: str = "", listener: InterfaceListener | None = None, cause_location: int | None = None,
                 codec: str | MessageCodec | None = None) -> None:
        self.clock = clock
        self.channel = channel
        self.codec: MessageCodec = _codec(codec if codec is not None else getattr(channel, "codec", "fast"))
        self._fast = self.codec.name == "fast"
        #: the message builders of the codec (firmware.uni.fastbuild or firmware.uni.builders)
        self.B = self.codec.builders
        self.side = Side(side)
        self.timers = timers
        self.name = name or f"{self.side.value}-uni"
        self.listener = listener
        if cause_location is None:
            # Q.850 location: causes a user generates say "user"; the switch is the private network
            # serving its local users.
            cause_location = CauseLocation.USER if self.side is Side.USER else CauseLocation.PRIVATE_NETWORK_LOCAL_USER
        self.cause_location = int(cause_location)
        self.calls: dict[tuple[int, bool], UniCall] = {}
        self.counters = InterfaceCounters()
        self._next_cref = 1
        self.link_up: bool | None = None   # the signalling link's state, when the channel reports it
        self._timer_slots: dict[float, int] = {}
        channel.on_message = self._take   # receive() without its own call: one layer less per message
        channel.on_error = self.receive_error
        if hasattr(channel, "on_link_state"):
            channel.on_link_state = self.link_state

    # ---- the signalling link
    def link_state(self, up: bool, cause: Any = None) -> None:
        """The signalling AAL was established or released (AAL-ESTABLISH / AAL-RELEASE indication or
        confirm): counted, told to the listener (``on_link_state``) if it listens, then fed to every call
        as the call tables say (Q.2931 5.6.9 signalling AAL reset, 5.6.10 signalling AAL failure; rows in
        ``firmware.uni.machines.callcommon.aal_rows``): on a failure a call not Active is cleared
        internally with cause 27 (its owner hears release.confirm), an Active call keeps running under
        T309 with its parties not Active cleared internally, and the interface asks for the link's
        re-establishment (AAL-ESTABLISH.request, 5.6.10) while a call waits for it; when the link is back
        T309 stops and a STATUS ENQUIRY checks each Active call (5.6.11); T309's expiry clears the call
        internally with cause 27. Counted in ``link_changes``: ``up``, ``down``, ``calls cleared``,
        ``calls waiting (T309)``, ``calls enquired``, ``re-establishment requests``."""
        self.link_up = up
        counted = self.counters.link_changes
        counted["up" if up else "down"] += 1
        hook = getattr(self.listener, "on_link_state", None)
        if hook is not None:
            hook(self, up, cause)
        event = ev.AAL_ESTABLISH_CONFIRM if up else ev.AAL_RELEASE_INDICATION
        waiting = False
        for ucall in list(self.calls.values()):
            machine = ucall.machine
            if ucall.closed or not machine.machine.accepts(event):
                continue
            t309 = "T309" in machine.machine.running
            step = machine.handle(event)
            self._carry_out(ucall, step, None, None, None)
            if ucall.closed:
                counted["calls cleared"] += 1
            elif not up and "T309" in machine.machine.running:
                if not t309:
                    counted["calls waiting (T309)"] += 1
                waiting = True
            elif up and t309:
                counted["calls enquired"] += 1
        establish = getattr(self.channel, "establish", None)
        if waiting and establish is not None:
            counted["re-establishment requests"] += 1
            establish()                                   # Q.2931 5.6.10: AAL-ESTABLISH.request

    # ---- calls this side originates
    def originate(self, *, multipoint: bool = True) -> UniCall:
        """A new call with a call reference allocated here; drive it with :meth:`request`
        (``setup.request`` first)."""
        cref = self._allocate_cref()
        ucall = UniCall(self, cref, True, Call(cref, self.side, multipoint=multipoint, timers=self.timers))
        self.calls[ucall.key] = ucall
        self.counters.calls_opened += 1
        return ucall

    def _allocate_cref(self) -> int:
        start = self._next_cref
        while True:
            cref = self._next_cref
            self._next_cref = cref + 1 if cref + 1 < min(MAX_CREF, DUMMY_CALL_REF) else 1
            if (cref, True) not in self.calls:
                return cref
            if self._next_cref == start:
                raise InterfaceError(f"{self.name}: every call reference value is in use")

    # ---- local primitives
    def request(self, ucall: UniCall, event: str, *, epref: int | None = None, content: dict[str, Any] | None = None,
                location: int | None = None, **params: Any) -> CallStep:
        """Apply a local primitive (``setup.request``, ``add-party.request``, ``release.response``...) to a
        call and carry out what it asks. ``content``: builder keywords for the messages this step sends
        (``called``, ``traffic``, ``connection_id``...); ``location``: the Cause IE's location when it is
        not this side's own (a relayed cause). A primitive the call's state does not allow raises
        :class:`~firmware.uni.machines.UNIProtocolError` with nothing changed."""
        if ucall.closed:
            raise InterfaceError(f"{self.name}: request {event!r} on call {ucall.cref}, which is closed")
        if event in (ev.SETUP_REQUEST, ev.ADD_PARTY_REQUEST) and "called" not in (content or {}):
            # checked before the machine moves: its SETUP / ADD PARTY could not be built
            raise InterfaceError(f"{self.name}: {event} on call {ucall.cref} needs content 'called'")
        step = ucall.machine.handle(event, epref=epref, **params)
        self.counters.requests[event] += 1
        self._carry_out(ucall, step, None, content, location)
        return step

    def accepts(self, ucall: UniCall, event: str, epref: int | None = None) -> bool:
        """Would ``request(ucall, event, epref=...)`` be allowed now (call state and party state)?"""
        if ucall.closed:
            return False
        m = ucall.machine
        if event in _PARTY_PRIMITIVES and event != ev.ADD_PARTY_REQUEST:
            p = m.parties.get(epref) if epref is not None else None
            return m.machine.accepts(event) and p is not None and p.accepts(event)
        return m.machine.accepts(event)

    # ---- the channel's side
    def receive(self, message: Message) -> None:
        """A decoded message from the peer."""
        self._take(message, None)

    def receive_error(self, octets: bytes, error: UniDecodeError) -> None:
        """A frame the channel could not decode: answered as its disposition says (Q.2931 5.6, 5.7)."""
        self.counters.decode_errors[error.cause if error.cause is not None else 0] += 1
        if isinstance(error, MessageIgnored) or error.disposition is Disposition.IGNORE:
            self.counters.discards[f"undecodable frame ignored ({error.clause})"] += 1
            return
        if isinstance(error, IEContentError) and error.message is not None:
            diag = bytes([error.identifier]) if 0 <= error.identifier <= 0xFF else b""
            self._take(error.message, (int(error.cause), error.disposition, diag))
            return
        cref = int.from_bytes(octets[2:5], "big") & 0x7FFFFF
        ours = bool(octets[2] & 0x80)
        ucall = self.calls.get((cref, ours))
        if isinstance(error, UnknownMessageType):
            self.counters.messages_in[ev.UNKNOWN] += 1
            if cref == GLOBAL_CALL_REF:
                self.counters.discards["unknown message type on the global call reference"] += 1
            elif error.disposition is Disposition.CLEAR and ucall is not None:
                self._clear(ucall, int(error.cause))           # Q.2931 5.7.1: "clear call"
            else:
                # Q.2931 5.6.4: STATUS with cause 97 (the machine answers RELEASE COMPLETE 81 in Null)
                target = ucall or UniCall(self, cref, ours, Call(cref, self.side, timers=self.timers))
                self._feed(target, ev.UNKNOWN, None, {}, None, None)
        elif isinstance(error, MessageLengthError):
            self.counters.messages_in[message_name(octets[5])] += 1
            self._report(ucall, cref, ours, int(error.cause))  # Q.2931 5.6.5: STATUS 104
        else:
            self.counters.discards[f"undecodable frame ({type(error).__name__}, cause {error.cause})"] += 1

    def _take(self, message: Message, problem: tuple[int, Disposition | None, bytes] | None = None) -> None:
        # access.digest: message_event's parameters, the Connection identifier and the fast check of
        # _contents_problem, from one walk over the message's elements
        message_type, epref, params, conn, acceptable = access.digest(message)
        name = MESSAGE_EVENTS.get(message_type, ev.UNKNOWN)
        if message_type == _SETUP_TYPE:
            params["multipoint"] = access.multipoint(message)
        self.counters.messages_in[name] += 1
        cref, flag = (message[1], message[2]) if message.__class__ is FastMessage else access.call_reference(message)
        ours = flag == 1
        if cref == GLOBAL_CALL_REF:
            # Q.2931 5.5: RESTART / RESTART ACKNOWLEDGE and STATUS on the global call reference belong
            # to the restart procedure, which this interface does not run.
            self.counters.discards[f"global call reference: {name}"] += 1
            return
        ucall = self.calls.get((cref, ours))
        if ucall is None and name != ev.SETUP:
            # Q.2931 5.6.3.2 comes before the IE checks of 5.6.7 / 5.6.8: a message for a call reference
            # not in use gets the Null state's answer (RELEASE COMPLETE 81, ...) whatever it carries.
            problem = None
        elif problem is None and not acceptable:
            problem = self._contents_problem(message, name, params)
        report_after: tuple[int, bytes] | None = None
        if problem is not None:
            cause, disposition, diag = problem
            d = disposition or Disposition.REPORT
            if d is Disposition.PROCEED:                     # Q.2931 5.7.2: discard the IE, proceed
                self.counters.discards[f"IE dropped from {name} (cause {cause})"] += 1
            elif d is Disposition.PROCEED_AND_REPORT:        # Q.2931 5.6.8: proceed, then STATUS
                report_after = (cause, diag)
            elif d is Disposition.IGNORE:                    # Q.2931 5.7.2: discard the message
                self.counters.discards[f"{name} ignored as its IE's action indicator says (cause {cause})"] += 1
                return
            elif d is Disposition.CLEAR and ucall is not None:
                self._clear(ucall, cause)                    # Q.2931 5.7.2: "clear call"
                return
            elif name == ev.SETUP and ucall is None:
                # Q.2931 5.6.7.1 / 5.6.7.2: SETUP with a mandatory IE missing or bad -> RELEASE COMPLETE
                answer = self.B.ReleaseComplete(cref, self.B.cause(cause, self.cause_location, diag),
                                                flag=0 if ours else 1)
                self._send_raw(answer, ev.RELEASE_COMPLETE)
                self.counters.answered[cause] += 1
                return
            elif name == ev.RELEASE and ucall is not None:
                # Q.2931 5.6.7.2: a RELEASE with a bad Cause still clears: taken as cause 31
                params["cause"] = CAUSE_NORMAL_UNSPECIFIED
                self.counters.discards[f"RELEASE with a bad mandatory IE taken as cause 31 (cause {cause})"] += 1
            elif name == ev.RELEASE_COMPLETE and ucall is not None:
                self.counters.discards[f"RELEASE COMPLETE processed despite cause {cause}"] += 1  # 5.6.7.2
            else:
                self._report(ucall, cref, ours, cause, diag)  # Q.2931 5.6.7.1 / 5.6.7.2: STATUS
                return
        if ucall is None:
            if name == ev.SETUP and ours:
                # Q.2931 5.6.3.2: a SETUP whose call reference flag says we allocated it is ignored.
                self.counters.discards["SETUP with call reference flag 1"] += 1
                return
            ucall = UniCall(self, cref, ours, Call(cref, self.side, timers=self.timers))
            if name == ev.SETUP:
                self.calls[ucall.key] = ucall
                self.counters.calls_opened += 1
        self._feed(ucall, name, epref, params, message, conn)
        if report_after is not None:
            self._report(ucall, cref, ours, *report_after)

    def _contents_problem(self, message: Message, name: str,
                          params: dict[str, Any]) -> tuple[int, Disposition, bytes] | None:
        """The problem of a decoded message's contents that decides its handling (mandatory IE missing:
        96; unrecognised or unexpected IE: 99), or None. (Asked only when access.acceptable is False.)"""
        found = findings(message)
        if not found:
            return None
        worst = max(found, key=lambda f: f.disposition)    # max keeps the first of equals (5.7.2 order)
        if name == ev.RELEASE and worst.cause == 96 and worst.identifier == IEId.CAUSE:
            # Q.2931 5.6.7.1: a RELEASE without Cause is processed as if it carried cause 31. (The
            # standard also has the answering RELEASE COMPLETE carry cause 96; here it carries what the
            # owner answers with.)
            params["cause"] = CAUSE_NORMAL_UNSPECIFIED
            self.counters.discards["RELEASE without Cause taken as cause 31"] += 1
            return None
        diag = b"" if worst.identifier is None else bytes([worst.identifier & 0xFF])
        return worst.cause, worst.disposition, diag

    def _report(self, ucall: UniCall | None, cref: int, ours: bool, cause: int, diag: bytes = b"") -> None:
        """STATUS with ``cause`` and the call state (Null for a call reference not in use)."""
        state = ucall.machine.machine.code if ucall is not None and not ucall.closed else CallState.NULL
        status = self.B.Status(cref, state, self.B.cause(cause, self.cause_location, diag), flag=0 if ours else 1)
        self._send_raw(status, ev.STATUS)
        self.counters.answered[cause] += 1

    def _clear(self, ucall: UniCall, cause: int) -> None:
        if ucall.machine.machine.accepts(ev.RELEASE_REQUEST):
            self.counters.answered[cause] += 1
            self.request(ucall, ev.RELEASE_REQUEST, cause=cause)
        else:
            self.counters.discards[f"clearing asked (cause {cause}) while the call is already clearing"] += 1

    # ---- running the machines
    def _feed(self, ucall: UniCall, name: str, epref: int | None, params: dict[str, Any],
              message: Message | None, conn: tuple[int, int] | None) -> None:
        """Run the machines on a received message (``conn``: its Connection identifier, or None)."""
        if message is not None:
            ucall.received[name] = message
            if conn is not None:
                ucall.connection = conn
        try:
            # decoded values: each within its field's width, which is the machines' range (not checked again)
            step = ucall.machine.handle_params(name, epref, params, checked=message is not None)
        except UNIError as exc:
            self.counters.discards[f"{name} refused by the machine ({type(exc).__name__})"] += 1
            return
        self._carry_out(ucall, step, message, None, None)

    def _carry_out(self, ucall: UniCall, step: CallStep, message: Message | None, content: dict[str, Any] | None,
                   location: int | None) -> None:
        indications: list[Indicate] = []
        answer = None
        for a in step.actions:
            cls = a.__class__
            if cls is Send:
                self._send(ucall, a, content, location)
            elif cls is StartTimer:
                self._start(ucall, a)
            elif cls is StopTimer:
                handle = ucall.timers.pop((a.timer, a.instance), None)
                if handle is not None:
                    handle.cancel()
            elif cls is Indicate:
                indications.append(a)
            elif cls is CountCause:
                if isinstance(a.cause, int):
                    self.counters.causes[a.cause] += 1
                    answer = a.cause if answer is None else answer
            elif cls is Discard:
                self.counters.discards[a.reason] += 1
        if step.answered:
            self.counters.answered[answer if answer is not None else 0] += 1
        machine = ucall.machine
        registered = self._close(ucall) if machine.machine._state == machine.call_table.initial \
            and not ucall.closed else False
        if indications:
            counted = self.counters.indications
            listener = self.listener
            for ind in indications:
                counted[ind.primitive] += 1
                if listener is not None:
                    listener.on_indication(self, ucall, ind, message)
        if registered and self.listener is not None:
            self.listener.on_closed(self, ucall)

    def _close(self, ucall: UniCall) -> bool:
        """Mark the call closed, cancel its timers; True when it was in the call table (now removed)."""
        ucall.closed = True
        for handle in ucall.timers.values():
            handle.cancel()
        ucall.timers.clear()
        if self.calls.get(ucall.key) is ucall:
            del self.calls[ucall.key]
            self.counters.calls_closed += 1
            return True
        return False

    # ---- timers
    def _start(self, ucall: UniCall, a: StartTimer) -> None:
        key = (a.timer, a.instance)
        old = ucall.timers.pop(key, None)
        if old is not None:
            old.cancel()
        slots = self._timer_slots.get(a.seconds)
        if slots is None:
            slots = self._timer_slots[a.seconds] = self.clock.slots(a.seconds)
        ucall.timers[key] = self.clock.schedule_in(slots, self._expire, ucall, a.timer, a.instance)
        self.counters.timers_started[a.timer] += 1

    def _expire(self, ucall: UniCall, timer: str, instance: int | None) -> None:
        ucall.timers.pop((timer, instance), None)
        if ucall.closed:
            self.counters.discards[f"{timer} expired after its call closed"] += 1
            return
        self.counters.timers_expired[timer] += 1
        try:
            step = ucall.machine.handle(timer, epref=instance)
        except UNIError as exc:
            self.counters.discards[f"{timer} expiry refused: {exc}"] += 1
            return
        self._carry_out(ucall, step, None, None, None)

    # ---- sending
    def _send(self, ucall: UniCall, send: Send, content: dict[str, Any] | None, location: int | None) -> None:
        key = (send.message, send.instance)
        if send.retransmit and key in ucall.sent:
            message = ucall.sent[key]
        else:
            message = self._build(ucall, send, content, self.cause_location if location is None else location)
            if send.instance is None:
                # kept for a retransmission (SETUP on T303, RELEASE on T308, STATUS ENQUIRY on T322: call
                # messages only); a party's messages are never sent again, and keeping them would hold one
                # message per endpoint reference for the life of the call
                ucall.sent[key] = message
        self.channel.send(message)  # _send_raw's two lines, without its call
        self.counters.messages_out[send.message] += 1

    def _send_raw(self, message: Message, name: str) -> None:
        self.channel.send(message)
        self.counters.messages_out[name] += 1

    def _build(self, ucall: UniCall, send: Send, content: dict[str, Any] | None, location: int) -> Message:
        B = self.B
        name = send.message
        ies = dict(send.ies) if send.ies else _NO_IES
        cref, flag = ucall.cref, 0 if ucall.ours else 1
        epref = ies.get("endpoint_reference", send.instance)
        cause = None if send.cause is None else B.cause(int(send.cause), location)
        if not content:
            kw = {}
        elif self._fast:
            allowed = _CONTENT_KW.get(name, ())
            kw = {k: v for k, v in content.items() if k in allowed}   # fastbuild takes scapy elements too
        else:
            allowed = _CONTENT_KW.get(name, ())
            kw = {k: _scapy_value(self.codec, v) for k, v in content.items() if k in allowed}
        try:
            if name == ev.SETUP:
                if "called" not in kw:
                    raise InterfaceError(f"{self.name}: SETUP for call {cref} needs content 'called'")
                return B.Setup(cref, endpoint_ref=epref, flag=flag, **kw)
            if name == ev.CALL_PROCEEDING:
                return B.CallProceeding(cref, endpoint_ref=epref, flag=flag, **kw)
            if name == ev.ALERTING:
                return B.Alerting(cref, endpoint_ref=epref, flag=flag, **kw)
            if name == ev.CONNECT:
                return B.Connect(cref, endpoint_ref=epref, flag=flag, **kw)
            if name == ev.CONNECT_ACK:
                return B.ConnectAcknowledge(cref, flag=flag)
            if name == ev.RELEASE:
                return B.Release(cref, cause if cause is not None else B.cause(16, location), flag=flag, **kw)
            if name == ev.RELEASE_COMPLETE:
                return B.ReleaseComplete(cref, cause, flag=flag)
            if name == ev.STATUS:
                return B.Status(cref, ies.get("call_state", ucall.machine.machine.code), cause, endpoint_ref=ies.get(
                    "endpoint_reference"), party_state=ies.get("endpoint_state"), flag=flag)
            if name == ev.STATUS_ENQUIRY:
                # a party's own enquiry (Q.2971) names its endpoint reference by the machine's instance
                return B.StatusEnquiry(cref, endpoint_ref=ies.get("endpoint_reference", send.instance), flag=flag)
            if name == ev.ADD_PARTY:
                called = kw.pop("called", None)
                if called is None:
                    raise InterfaceError(f"{self.name}: ADD PARTY for call {cref} needs content 'called'")
                return B.AddParty(cref, epref, called, flag=flag, **kw)
            if name == ev.ADD_PARTY_ACK:
                return B.AddPartyAcknowledge(cref, epref, flag=flag, **kw)
            if name == ev.ADD_PARTY_REJECT:
                cause = cause if cause is not None else B.cause(ev.CAUSE_CALL_REJECTED, location)
                return B.AddPartyReject(cref, epref, cause=cause, flag=flag)
            if name == ev.PARTY_ALERTING:
                return B.PartyAlerting(cref, epref, flag=flag, **kw)
            if name == ev.DROP_PARTY:
                return B.DropParty(cref, epref, cause if cause is not None else B.cause(16, location), flag=flag, **kw)
            if name == ev.DROP_PARTY_ACK:
                return B.DropPartyAcknowledge(cref, epref, cause, flag=flag)
        except TypeError as exc:
            raise InterfaceError(f"{self.name}: cannot build {name} for call {cref}: {exc}") from exc
        raise InterfaceError(f"{self.name}: no builder for message {name}")

    # ---- queries
    def live_calls(self) -> list[UniCall]:
        return list(self.calls.values())

    def __repr__(self) -> str:
        return f"<UniInterface {self.name} {self.side.value} calls={len(self.calls)}>"


__all__ = ["InterfaceCounters", "InterfaceListener", "MESSAGE_EVENTS", "Message", "UniCall", "UniInterface",
           "called_number_of", "cause_of", "connection_of", "endpoint_reference_of", "message_event", "message_name"]
