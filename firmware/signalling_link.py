"""The signalling AAL (SAAL) endpoint of a UNI: Q.2931 messages in, SSCOP PDUs out, on VPI 0/VCI 5.

One :class:`SignallingLink` per signalling endpoint (a switch port's control plane, a leaf, the
adapter's MCM) stacks SSCF-UNI (Q.2130, ``firmware.sscf``) on SSCOP (Q.2110,
``firmware.sscop.machine``) and runs SSCOP's timers on the virtual clock. It has two explicit ports:

upper port (layer 3, Q.2931)
    :meth:`~SignallingLink.establish`, :meth:`~SignallingLink.release` (AAL-ESTABLISH/RELEASE.request),
    :meth:`~SignallingLink.send_message` (AAL-DATA.request with a message object: a fast-codec
    ``FastMessage`` is encoded by ``firmware.uni.fastcodec``, a scapy ``Q2931`` layer by scapy;
    octets go as they are), and the callbacks ``on_message(msg)`` (AAL-DATA.indication, strictly
    decoded), ``on_decode_error(error, octets)`` (a message that failed the strict decode: counted by
    its Q.2931 cause, never dropped silently), ``on_link_state(up, cause)`` (AAL-ESTABLISH/RELEASE
    indications and confirms, with a :class:`LinkCause`).
lower port (the AAL5 SDU: one SSCOP PDU)
    the ``frame_out(sdu_octets)`` callback, set by whoever carries the frames (the adapter's SAR, a
    fabric port, or :class:`CellPort` over a ``hw.link`` port), and :meth:`~SignallingLink.frame_in`
    ``(sdu_octets, slot)``.

Every SSCOP PDU sent or received is shown to the optional ``tap(direction, sdu_octets, slot)``:
captures record SunATM frames from it (``side`` says whether this endpoint is the user or the
network side, for the SunATM direction bit).

How it runs. Everything the endpoint does happens inside a call into it (a request, a frame, a timer
expiry on the clock) and in two phases. First the protocol work, with no outside code: SSCOP's
outputs are carried out in order (Q.2110 6.1: PDUs, indications, timers), SSCF's answers to SSCOP
(AA-ESTABLISH.response...) are queued behind them, as SDL signals are. Then the outside effects, in
the order they arose: frames to ``frame_out``, the tap, the layer 3 callbacks. So a callback can call
back into the endpoint (answer a message, wire two endpoints directly) without ever seeing it half
way through an input.

Timers (Q.2110 7.6): StartTimer(timer, seconds) restarts a clock event ``seconds`` from now (whole
slots, rounded up: a timer never fires early); StopTimer cancels it. The clock needs a line rate.

Counters (``counters``; conservation in :meth:`~SignallingLink.check_conservation`):
``messages_out`` (accepted by send_message), ``messages_refused`` (not established), ``messages_in``
(delivered), ``decode_failures`` and ``decode_failures.cause_<n>`` / ``.ignored``,
``frames_out``/``frames_in`` (SSCOP PDUs), ``frames_invalid`` and ``frames_invalid.<field>`` (octets
that are no SSCOP PDU, Q.2110 7.2: discarded), ``frames_unconnected`` (sent while no ``frame_out`` is
set), ``sd_out`` (SD PDUs sent, retransmissions included), ``sd_in``, ``retransmissions``,
``maa.<code>`` (MAA-ERROR, Q.2110 Annex A), ``link_up.<cause>``, ``link_down.<cause>``,
``link_releases`` (the link went down after being up), ``unitdata_out``/``unitdata_in``,
``md_in`` (management data, Q.2110 MD), ``sdus_discarded_tx``/``sdus_discarded_rx`` (SSCOP buffers
released on a release, resynchronization or recovery: messages that may be lost, which layer 3 hears
of by the link state change), ``messages_discarded_recovery`` (given while SSCOP recovers, in its
state 7, where BR = Yes discards them, Q.2110 8.2 p.49).
"""

from __future__ import annotations

import weakref
from collections import Counter, deque
from collections.abc import Callable
from enum import Enum
from typing import Any

import numpy as np
from scapy.packet import Packet

from firmware.sscf import UNI_SSCOP_PARAMS, AalPrimitive, AalSignal, SSCF, SSCFProtocolError, SSCFState
from firmware.sscop.adapter import decode_pdu, encode_pdu, limits_for
from firmware.sscop.errors import SSCOPDecodeError
from firmware.sscop.events import (
    Indication,
    MaaError,
    PduType,
    Primitive,
    SendPdu,
    Source,
    SSCOPPdu,
    StartTimer,
    StopTimer,
    Timer,
    TimerExpiry,
    UserRequest,
)
from firmware.sscop.machine import SSCOPMachine, SSCOPParams
from firmware.sscop.states import State as SSCOPState
from firmware.uni.decode import decode_message
from firmware.uni.errors import UniDecodeError
from hw.aal5 import MAX_SDU, Reassembler, segment
from hw.cell import is_physical_layer
from hw.clock import Clock, EventHandle
from hw.errors import AtmemuError, FieldError
from hw.hec_receiver import HecReceiver
from hw.link import Link, Port

try:  # the hot-path Q.2931 codec (firmware.uni.fastcodec); without it, scapy does the work
    from firmware.uni import fastcodec as _uni_fast
except ImportError:  # pragma: no cover - the fast codec is part of the tree
    _uni_fast = None

#: The signalling channel of the UNI (I.361 2.2.3, Q.2931 2.1): VPI 0, VCI 5.
SIGNALLING_VPI, SIGNALLING_VCI = 0, 5


class Direction(str, Enum):
    """Which way a PDU went, as the tap sees it."""

    TX = "tx"
    RX = "rx"


class LinkCause(str, Enum):
    """Why the link state changed, as ``on_link_state(up, cause)`` reports it."""

    ESTABLISHED = "established (AA-ESTABLISH.confirm)"
    ESTABLISHED_BY_PEER = "established by the peer (BGN, AA-ESTABLISH.indication)"
    RESYNCHRONIZED = "resynchronized (AA-RESYNC.confirm): messages in flight may be lost"
    RESYNCHRONIZED_BY_PEER = "resynchronized by the peer (RS, AA-RESYNC.indication): messages may be lost"
    RECOVERED = "SSCOP recovered from an error (ER/ERAK, AA-RECOVER.indication): messages may be lost"
    RELEASED = "released (AA-RELEASE.confirm)"
    RELEASED_BY_PEER = "released by the peer (END with S = 0)"
    RELEASED_BY_PEER_SSCOP = "released by the peer's SSCOP (END with S = 1)"
    REJECTED_BY_PEER = "establishment rejected by the peer (BGREJ)"
    PEER_RESTARTED = "the peer began a new connection (BGN): messages may be lost"
    NO_RESPONSE = "no STAT from the peer within Timer_NO-RESPONSE (MAA-ERROR P)"
    NO_ANSWER = "MaxCC BGN/END/RS/ER unanswered (MAA-ERROR O)"
    PROTOCOL_ERROR = "SSCOP released on a protocol error (MAA-ERROR A..M)"

    @property
    def up(self) -> bool:
        return self in _UP_CAUSES


_UP_CAUSES = frozenset({LinkCause.ESTABLISHED, LinkCause.ESTABLISHED_BY_PEER, LinkCause.RESYNCHRONIZED,
                        LinkCause.RESYNCHRONIZED_BY_PEER, LinkCause.RECOVERED})
#: The cause of AAL-ESTABLISH.indication/confirm, by the SSCOP signal SSCF answered (Q.2130 9).
_UP_BY_SIGNAL = {
    Primitive.AA_ESTABLISH_CONFIRM: LinkCause.ESTABLISHED,
    Primitive.AA_ESTABLISH_INDICATION: LinkCause.ESTABLISHED_BY_PEER,
    Primitive.AA_RESYNC_CONFIRM: LinkCause.RESYNCHRONIZED,
    Primitive.AA_RESYNC_INDICATION: LinkCause.RESYNCHRONIZED_BY_PEER,
    Primitive.AA_RECOVER_INDICATION: LinkCause.RECOVERED,
}


class SignallingLinkError(AtmemuError):
    """Base of the errors of the SAAL endpoint."""


class SignallingValueError(SignallingLinkError, FieldError):
    """A value given to the endpoint that it cannot take (a message that encodes to more than k
    octets, an object that is no message, an unknown codec...)."""


Tap = Callable[[Direction, bytes, int], Any]

_SD = PduType.SD
_BGREJ = PduType.BGREJ
_BGN = PduType.BGN
_DATA_REQUEST = AalPrimitive.DATA_REQUEST
_UNITDATA_REQUEST = AalPrimitive.UNITDATA_REQUEST
_DATA_INDICATION = AalPrimitive.DATA_INDICATION
_RECOVERY = SSCOPState.OUTGOING_RECOVERY_PENDING
_EXPIRIES = {timer: TimerExpiry(timer) for timer in Timer}
_MAA_UNITDATA_INDICATION = Primitive.MAA_UNITDATA_INDICATION


class SignallingLink:
    """One SAAL endpoint (SSCF-UNI over SSCOP) on the virtual clock. See the module documentation.

    ``clock``: the virtual clock (with a line rate, to turn timer seconds into slots). ``side``:
    "user" or "network" (the Q.2931 side, for captures). ``params``: SSCOP parameters (default
    :data:`~firmware.sscf.UNI_SSCOP_PARAMS`, Q.2130 clause 11). ``codec``: "fast" (default: the
    fast codec decodes into ``FastMessage``) or "scapy" (``decode_message`` into scapy layers)."""

    def __init__(self, clock: Clock, *, name: str = "saal", side: str = "user",
                 params: SSCOPParams | None = None, codec: str = "fast",
                 on_message: Callable[[Any], Any] | None = None,
                 on_link_state: Callable[[bool, LinkCause], Any] | None = None,
                 on_decode_error: Callable[[UniDecodeError, bytes], Any] | None = None,
                 on_unitdata: Callable[[bytes], Any] | None = None,
                 on_maa_error: Callable[[MaaError], Any] | None = None,
                 frame_out: Callable[[bytes], Any] | None = None,
                 tap: Tap | None = None) -> None:
        if not isinstance(clock, Clock):
            raise SignallingValueError("clock", clock, "a hw.clock.Clock")
        if clock.rate is None:
            raise SignallingValueError("clock", clock, "a Clock with a line rate (SSCOP timers are in seconds)")
        if side not in ("user", "network"):
            raise SignallingValueError("side", side, "'user' or 'network'")
        if codec not in ("fast", "scapy"):
            raise SignallingValueError("codec", codec, "'fast' or 'scapy'")
        if codec == "fast" and _uni_fast is None:  # pragma: no cover
            codec = "scapy"
        self.clock = clock
        self.name = name
        self.side = side
        self.codec = codec
        self.params = params if params is not None else UNI_SSCOP_PARAMS
        self.limits = limits_for(self.params)
        self.sscop = SSCOPMachine(self.params, name=f"{name}.sscop")
        self.sscf = SSCF(name=f"{name}.sscf")
        # ports and callbacks
        self.on_message = on_message
        self.on_link_state = on_link_state
        self.on_decode_error = on_decode_error
        self.on_unitdata = on_unitdata
        self.on_maa_error = on_maa_error
        self.frame_out = frame_out
        self.tap = tap
        self._decode = _uni_fast.decode if codec == "fast" else decode_message
        # observations
        self._c: Counter[str] = Counter()
        self.up = False
        self.last_link_change: tuple[bool, LinkCause, int] | None = None
        self.last_maa_error: MaaError | None = None
        self.last_decode_error: UniDecodeError | None = None
        self.last_frame_error: SSCOPDecodeError | None = None
        # timers on the clock
        self._timers: dict[Timer, EventHandle] = {}
        self._timer_slots: dict[float, int] = {}
        # the two phases: protocol work, then outside effects
        self._work: deque[Any] = deque()
        self._effects: deque[tuple[Callable[..., Any], tuple]] = deque()
        self._busy = False
        self._dispatching = False
        self._step_input: Any = None
        self._step_maa: str | None = None

    def __repr__(self) -> str:
        return (f"<SignallingLink {self.name} ({self.side}) SSCF {self.sscf.state.value} "
                f"SSCOP {int(self.sscop.state)} {'up' if self.up else 'down'}>")

    # ---- observations -----------------------------------------------------------------------------

    @property
    def state(self) -> SSCFState:
        return self.sscf.state

    @property
    def established(self) -> bool:
        """True when messages may be sent (SSCF 4/10)."""
        return self.sscf.state is SSCFState.DATA_TRANSFER_READY

    @property
    def counters(self) -> Counter[str]:
        """A snapshot of the endpoint's counters, with those it reads from SSCOP."""
        c = Counter(self._c)
        sscop = self.sscop.counters
        c["retransmissions"] = sscop["tx.retransmitted"]
        c["sdus_discarded_tx"] = sscop["tx.sdu_discarded"]
        c["sdus_discarded_rx"] = sscop["rx.sdu_discarded"]
        return +c

    def check_conservation(self) -> None:
        """Raise :class:`SignallingLinkError` if a frame or a message is unaccounted for: every frame
        received was a PDU SSCOP took or an invalid one; every PDU SSCOP sent became a frame; every
        AAL-DATA.indication became a message or a decode failure."""
        c = self._c
        sscop = self.sscop.counters
        rx_pdus = sum(v for k, v in sscop.items() if k.startswith("rx.") and k.split(".")[1] in PduType.__members__)
        rx_pdus += sum(v for k, v in sscop.items() if k.startswith("rx.discarded."))
        tx_pdus = sum(v for k, v in sscop.items() if k.startswith("tx.") and k.split(".")[1] in PduType.__members__)
        problems = []
        if c["frames_in"] != rx_pdus + c["frames_invalid"]:
            problems.append(f"frames_in {c['frames_in']} != PDUs taken by SSCOP {rx_pdus} + invalid "
                            f"{c['frames_invalid']}")
        if c["frames_out"] != tx_pdus:
            problems.append(f"frames_out {c['frames_out']} != PDUs sent by SSCOP {tx_pdus}")
        if c["sd_in"] != sscop["rx.SD"] + sscop["rx.discarded.SD"]:
            problems.append(f"sd_in {c['sd_in']} != SDs taken by SSCOP {sscop['rx.SD']} + discarded "
                            f"{sscop['rx.discarded.SD']}")
        if c["sd_out"] != sscop["tx.SD"]:
            problems.append(f"sd_out {c['sd_out']} != SDs sent by SSCOP {sscop['tx.SD']}")
        indications = self.sscf.counters[Primitive.AA_DATA_INDICATION.value]
        if indications != c["messages_in"] + c["decode_failures"]:
            problems.append(f"AAL-DATA.indication {indications} != messages_in {c['messages_in']} + "
                            f"decode_failures {c['decode_failures']}")
        if self.sscf.counters[_DATA_REQUEST.value] != c["messages_out"]:
            problems.append(f"AAL-DATA.request {self.sscf.counters[_DATA_REQUEST.value]} != messages_out "
                            f"{c['messages_out']}")
        if problems:
            raise SignallingLinkError(f"{self.name}: " + "; ".join(problems))

    # ---- upper port (layer 3) -----------------------------------------------------------------------

    def establish(self) -> None:
        """AAL-ESTABLISH.request (Q.2130 7.1): begin (or, when established, resynchronize) the link."""
        self._layer3_request(AalPrimitive.ESTABLISH_REQUEST, b"")

    def release(self) -> None:
        """AAL-RELEASE.request (Q.2130 7.1)."""
        self._layer3_request(AalPrimitive.RELEASE_REQUEST, b"")

    def send_message(self, message: Any) -> None:
        """AAL-DATA.request with one Q.2931 message (a ``FastMessage``, a scapy ``Q2931`` layer, or
        its octets). Raises :class:`~firmware.sscf.SSCFProtocolError` when the link is not
        established (counted in ``messages_refused``), :class:`SignallingValueError` for a message
        longer than k."""
        octets = self._encode(message)
        try:
            outputs = self.sscf.handle(_DATA_REQUEST, octets)
        except SSCFProtocolError:
            self._c["messages_refused"] += 1
            raise
        c = self._c
        c["messages_out"] += 1
        if self.sscop.state is _RECOVERY:
            c["messages_discarded_recovery"] += 1
        if len(outputs) == 1 and outputs[0].__class__ is UserRequest:
            self._work.append(outputs[0])  # _run's work for SSCF's one AA-DATA.request
            self._drain()
        else:
            self._run(outputs)

    def send_unitdata(self, message: Any) -> None:
        """AAL-UNITDATA.request: the message goes in an SSCOP UD PDU, unassured, in any state."""
        octets = self._encode(message)
        self._c["unitdata_out"] += 1
        self._run(self.sscf.handle(_UNITDATA_REQUEST, octets))

    def _encode(self, message: Any) -> bytes:
        if _uni_fast is not None and message.__class__ is _uni_fast.FastMessage:
            octets = _uni_fast.encode(message)
        elif isinstance(message, (bytes, bytearray, memoryview)):
            octets = bytes(message)
        elif isinstance(message, Packet):
            octets = bytes(message)  # a scapy layer (firmware.uni.message.Q2931)
        else:
            raise SignallingValueError("message", type(message).__name__,
                                       "a FastMessage, a scapy Q2931 message or its octets")
        if len(octets) > self.limits.k:
            raise SignallingValueError("message", f"{len(octets)} octets",
                                       f"at most k = {self.limits.k} octets (Q.2110 7.7)")
        return octets

    def _layer3_request(self, primitive: AalPrimitive, data: bytes) -> None:
        self._run(self.sscf.handle(primitive, data))

    # ---- lower port ---------------------------------------------------------------------------------

    def frame_in(self, sdu: bytes | bytearray | memoryview, slot: int | None = None) -> None:
        """One AAL5 SDU received on the signalling VC: an SSCOP PDU. ``slot``: when it arrived
        (default: now), for the tap. Octets that are no valid SSCOP PDU are discarded (Q.2110 7.2),
        counted in ``frames_invalid`` and kept in ``last_frame_error``."""
        if sdu.__class__ is not bytes:
            sdu = bytes(sdu)
        c = self._c
        c["frames_in"] += 1
        if self.tap is not None:
            self._effects.append((self.tap, (Direction.RX, sdu, self.clock.now if slot is None else slot)))
        try:
            pdu = decode_pdu(sdu, limits=self.limits)
        except SSCOPDecodeError as error:
            c["frames_invalid"] += 1
            c[f"frames_invalid.{error.field}"] += 1
            self.last_frame_error = error
            self._dispatch()
            return
        if pdu.type is _SD:
            c["sd_in"] += 1
        self._work.append(pdu)
        self._drain()

    def _emit(self, octets: bytes, slot: int) -> None:
        if self.tap is not None:
            self.tap(Direction.TX, octets, slot)
        if self.frame_out is None:
            self._c["frames_unconnected"] += 1
        else:
            self.frame_out(octets)

    # ---- the two phases -------------------------------------------------------------------------------

    def _run(self, outputs: list[UserRequest | AalSignal]) -> None:
        """Carry out SSCF outputs made outside the processing phase, then drain."""
        for output in outputs:
            if output.__class__ is UserRequest:
                self._work.append(output)
            else:
                self._layer3(output, None)
        self._drain()

    def _drain(self) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            work, step = self._work, self._step
            while work:
                step(work.popleft())
        finally:
            self._busy = False
        if self._effects and not self._dispatching:
            self._dispatch()

    def _dispatch(self) -> None:
        if self._dispatching:
            return
        self._dispatching = True
        try:
            effects = self._effects
            while effects:
                call, args = effects.popleft()
                call(*args)
        finally:
            self._dispatching = False

    def _step(self, item: SSCOPPdu | UserRequest | TimerExpiry) -> None:
        """Give one input to SSCOP and carry out its outputs in order (Q.2110 6.1)."""
        self._step_input = item
        self._step_maa = None
        for out in self.sscop.handle(item):
            kind = out.__class__
            if kind is SendPdu:
                pdu = out.pdu
                octets = encode_pdu(pdu, limits=self.limits)
                c = self._c
                c["frames_out"] += 1
                if pdu.type is _SD:
                    c["sd_out"] += 1
                self._effects.append((self._emit, (octets, self.clock.now)))
            elif kind is Indication:
                self._indication(out)
            elif kind is StartTimer:
                self._start_timer(out.timer, out.seconds)
            elif kind is StopTimer:
                handle = self._timers.pop(out.timer, None)
                if handle is not None:
                    handle.cancel()
            else:  # MaaError (Q.2110 Annex A): to layer management
                self._c[f"maa.{out.code}"] += 1
                self._step_maa = out.code
                self.last_maa_error = out
                if self.on_maa_error is not None:
                    self._effects.append((self.on_maa_error, (out,)))

    def _indication(self, indication: Indication) -> None:
        primitive = indication.primitive
        if primitive is _MAA_UNITDATA_INDICATION:
            self._c["md_in"] += 1  # management data: for layer management, not SSCF (Q.2110 6.1)
            return
        # SSCF.from_sscop without its type check: the indication comes from this endpoint's SSCOP
        for output in self.sscf.handle(primitive, indication.data, indication.source):
            if output.__class__ is UserRequest:
                self._work.append(output)  # SSCF's answer, after SSCOP's current outputs
            else:
                self._layer3(output, indication)

    def _layer3(self, signal: AalSignal, cause_of: Indication | None) -> None:
        primitive = signal.primitive
        if primitive is _DATA_INDICATION:
            octets = signal.data
            try:
                message = self._decode(octets)
            except UniDecodeError as error:
                self._c["decode_failures"] += 1
                cause = error.cause
                self._c["decode_failures.ignored" if cause is None else f"decode_failures.cause_{cause}"] += 1
                self.last_decode_error = error
                if self.on_decode_error is not None:
                    self._effects.append((self.on_decode_error, (error, octets)))
                return
            self._c["messages_in"] += 1
            if self.on_message is None:
                self._c["messages_unclaimed"] += 1
            else:
                self._effects.append((self.on_message, (message,)))
        elif primitive is AalPrimitive.UNITDATA_INDICATION:
            self._c["unitdata_in"] += 1
            if self.on_unitdata is None:
                self._c["unitdata_unclaimed"] += 1
            else:
                self._effects.append((self.on_unitdata, (signal.data,)))
        elif primitive in (AalPrimitive.ESTABLISH_INDICATION, AalPrimitive.ESTABLISH_CONFIRM):
            self._link_state(True, _UP_BY_SIGNAL[cause_of.primitive])
        elif primitive is AalPrimitive.RELEASE_CONFIRM:
            self._link_state(False, LinkCause.RELEASED)
        else:  # RELEASE_INDICATION
            self._link_state(False, self._release_cause(signal))

    def _release_cause(self, signal: AalSignal) -> LinkCause:
        """Why SSCOP gave AA-RELEASE.indication: its Source, the PDU that caused it, and the
        MAA-ERROR it reported in the same step (Q.2110 8.2)."""
        trigger = self._step_input
        if signal.source is Source.SSCOP:
            code = self._step_maa
            if code == "P":
                return LinkCause.NO_RESPONSE
            if code == "O":
                return LinkCause.NO_ANSWER
            if code is not None:
                return LinkCause.PROTOCOL_ERROR
            return LinkCause.RELEASED_BY_PEER_SSCOP  # END with S = 1
        if trigger.__class__ is SSCOPPdu:
            if trigger.type is _BGREJ:
                return LinkCause.REJECTED_BY_PEER
            if trigger.type is _BGN:
                return LinkCause.PEER_RESTARTED
        return LinkCause.RELEASED_BY_PEER

    def _link_state(self, up: bool, cause: LinkCause) -> None:
        if up:
            self._c[f"link_up.{cause.name}"] += 1
        else:
            self._c[f"link_down.{cause.name}"] += 1
            if self.up:
                self._c["link_releases"] += 1
        self.up = up
        self.last_link_change = (up, cause, self.clock.now)
        if self.on_link_state is not None:
            self._effects.append((self.on_link_state, (up, cause)))

    # ---- timers (Q.2110 7.6) on the clock --------------------------------------------------------------

    def _start_timer(self, timer: Timer, seconds: float) -> None:
        handle = self._timers.get(timer)
        if handle is not None:
            handle.cancel()
        slots = self._timer_slots.get(seconds)
        if slots is None:
            slots = self._timer_slots[seconds] = max(1, self.clock.slots(seconds))
        self._timers[timer] = self.clock.schedule_in(slots, self._expire, timer)

    def _expire(self, timer: Timer) -> None:
        del self._timers[timer]
        self._c[f"expired.{timer.value}"] += 1
        self._work.append(_EXPIRIES[timer])
        self._drain()

    @property
    def timers(self) -> dict[Timer, int]:
        """The running timers and the slot each expires at."""
        return {timer: handle.time for timer, handle in self._timers.items() if handle.active}


# ---- carrying the frames as cells on a hw.link port ---------------------------------------------------

#: The CellPort attached to each hw.link Port, so that two CellPorts on the ends of one link find each
#: other (their cell-available signals are wired on attachment). Both sides are weak: a CellPort holds
#: its Port, so a strong value would keep every Port key (and the whole network around it) alive.
_ATTACHED: weakref.WeakKeyDictionary[Port, "weakref.ref[CellPort]"] = weakref.WeakKeyDictionary()


def _attached(port: Port) -> "CellPort | None":
    ref = _ATTACHED.get(port)
    return None if ref is None else ref()

_NO_SLOTS = np.zeros(0, np.int64)


def _end_of_frame(cells: np.ndarray) -> np.ndarray:
    """Cells that end an AAL5 CPCS-PDU: user data with AUU = 1 (PTI 0x1 or 0x3, I.361 2.2.4)."""
    return (cells[:, 3] & 0x0A) == 0x02


class CellPort:
    """Carries one endpoint's SSCOP PDUs as AAL5 cells on VPI/VCI (default 0/5) over a ``hw.link``
    port, at the endpoint's clock: the lower port made of hardware.

    Transmit: each frame is one AAL5 CPCS-PDU (I.363.5), segmented by the SAR kernel of ``hw.aal5``
    into cells with HEC, queued on the port from the current slot (behind cells already queued). Other
    cells (a root's data on its VCs) go the same way with :meth:`send_cells`, in order with the frames.

    Cell-available signals (the protocol ``hw.adapter`` uses): after queuing cells the port calls its
    ``far_wake(cells, tx_slots)`` output, when set; its :meth:`wake_rx` input takes the cells the far end
    queued toward it, with their transmit slots, and schedules a receive run on the clock at the slot
    after each cell that ends a frame arrives and after the last one - so every frame reaches the
    endpoint at the slot after its last cell. Two CellPorts on the ends of one link are wired to each
    other when the second is made (and by :func:`connect`).

    Receive: the cells that arrived go through the I.432.1 HEC receiver (single-bit correction,
    detection mode), physical-layer cells (idle) are set aside; with an ``other`` sink, cells of other
    VCs go to ``other(cells, slots)`` (a leaf's data sink); the rest go to the AAL5 reassembler, which
    checks CRC-32 and length and hands complete SDUs of the signalling VC to ``endpoint.frame_in`` with
    the slot of their last cell. With ``reassembly_timeout_slots``, a partial PDU left without cells for
    longer is discarded by the reassembly timer, run on the clock. Everything discarded is counted
    (here, in the HEC receiver, in the reassembler and its typed error records); frames completed on
    another VC (without an ``other`` sink, or a header miscorrected by the HEC receiver) are counted in
    ``frames_wrong_vc``."""

    def __init__(self, endpoint: SignallingLink, port: Port, *, vpi: int = SIGNALLING_VPI,
                 vci: int = SIGNALLING_VCI, reassembly_timeout_slots: int | None = None,
                 max_sdu: int = MAX_SDU, other: Callable[[np.ndarray, np.ndarray], Any] | None = None) -> None:
        if not isinstance(endpoint, SignallingLink):
            raise SignallingValueError("endpoint", endpoint, "a SignallingLink")
        if not isinstance(port, Port):
            raise SignallingValueError("port", port, "a hw.link Port")
        if not 0 <= vpi <= 0xFF or not 0 <= vci <= 0xFFFF:
            raise SignallingValueError("vpi/vci", (vpi, vci), "a UNI VPI 0..255 and VCI 0..65535")
        if other is not None and not callable(other):
            raise SignallingValueError("other", other, "a callable other(cells, slots)")
        self.endpoint = endpoint
        self.port = port
        self.clock = endpoint.clock
        self.vpi, self.vci = vpi, vci
        self._key = vpi << 16 | vci
        self.other = other
        self.hec = HecReceiver()
        self.reassembler = Reassembler(timeout_slots=reassembly_timeout_slots, max_sdu=max_sdu)
        self.counters: Counter[str] = Counter()
        self.last_aal5_error = None
        self.far_wake: Callable[[np.ndarray, np.ndarray], Any] | None = None
        self._poll_slots: set[int] = set()
        endpoint.frame_out = self.send_frame
        peer = _attached(port.peer)
        _ATTACHED[port] = weakref.ref(self)
        if peer is not None:
            self.far_wake, peer.far_wake = peer.wake_rx, self.wake_rx

    def __repr__(self) -> str:
        return f"<CellPort {self.endpoint.name} on {self.port!r} VPI/VCI {self.vpi}/{self.vci}>"

    def detach(self) -> None:
        if _attached(self.port) is self:
            del _ATTACHED[self.port]
        if self.endpoint.frame_out == self.send_frame:
            self.endpoint.frame_out = None
        self.far_wake = None

    # ---- transmit
    def send_frame(self, sdu: bytes) -> None:
        n = len(sdu)
        if n > MAX_SDU:
            raise SignallingValueError("sdu", f"{n} octets", f"an AAL5 SDU of at most {MAX_SDU} octets")
        cells = segment(sdu, self.vpi, self.vci)  # AAL5 SAR (I.363.5 9.1): one kernel call per frame
        self.counters["frames_out"] += 1
        self._send(cells)

    def send_cells(self, cells: np.ndarray) -> int:
        """Queue other cells (a data VC's) on the line from now, in order with the frames; returns the
        cells queued (the rest were dropped by a full transmit FIFO, counted by the link)."""
        return self._send(cells)

    def _send(self, cells: np.ndarray) -> int:
        lane = self.port.tx
        taken = self.port.send(cells, self.clock.now)  # the lane copies the cells into its FIFO
        self.counters["cells_out"] += taken
        if taken and self.far_wake is not None:
            end = lane.busy_until
            self.far_wake(cells[:taken], np.arange(end - taken, end, dtype=np.int64))
        return taken

    # ---- receive
    def wake_rx(self, cells: np.ndarray | None = None, slots=None) -> None:
        """Cell-available input: the far end queued ``cells`` toward this port, to go out at transmit
        ``slots``. Without them, a receive run is planned at the next slot only."""
        if cells is None or slots is None:
            self._wake(self.clock.now + 1)
            return
        delay = self.port.rx.delay_slots + 1
        n = len(slots)
        if not n:
            return
        if n <= 16:   # a few cells (signalling): look at them one by one
            octet3 = cells[:, 3].tolist()
            when = slots.tolist() if slots.__class__ is np.ndarray else [int(x) for x in slots]
            for i in range(n - 1):
                if octet3[i] & 0x0A == 0x02:
                    self._wake(when[i] + delay)
            self._wake(when[-1] + delay)
            return
        arrivals = np.asarray(slots, np.int64) + delay
        last = int(arrivals[-1])
        for slot in sorted(set(arrivals[_end_of_frame(cells)].tolist())):
            if slot != last:
                self._wake(slot)
        self._wake(last)

    def _wake(self, slot: int) -> None:
        if slot not in self._poll_slots:
            self._poll_slots.add(slot)
            now = self.clock.now
            self.clock.schedule_at(slot if slot > now else now, self._poll, slot)

    def _poll(self, slot: int) -> None:
        self._poll_slots.discard(slot)
        self.poll()

    def poll(self) -> int:
        """Take every cell that has arrived before the current slot and deliver the frames they
        complete; returns the number of frames given to the endpoint."""
        now = self.clock.now
        rx = self.port.rx
        if rx.now < now:
            rx.advance(now)
        delivery = rx.take(now - 1)
        n = len(delivery)
        if not n:
            if self.reassembler.timeout_slots is not None and now > self.reassembler.now:
                self._count_errors(self.reassembler.expire(now))  # the reassembly timer runs on
            return 0
        c = self.counters
        c["cells_in"] += n
        cells, slots = delivery.cells, delivery.slots
        keep = self.hec.receive_mask(cells)  # I.432.1 4.3.1: corrects single-bit errors in place
        if not (keep[0] if n == 1 else keep.all()):
            c["cells_hec_discarded"] += int(n - keep.sum())
            cells, slots = cells[keep], slots[keep]
        if rx.emit_idle:
            physical = is_physical_layer(cells)  # idle cells, I.432.1 4.4: not for the ATM layer
            if physical.any():
                c["cells_physical_layer"] += int(physical.sum())
                cells, slots = cells[~physical], slots[~physical]
        m = cells.shape[0]
        if self.other is not None and m and not self._all_mine(cells, m):
            words = cells[:, :4].copy().view(">u4").reshape(-1)
            mine = ((words >> 4) & 0xFFFFFF) == self._key
            theirs = ~mine
            c["cells_other"] += int(theirs.sum())
            self.other(cells[theirs], slots[theirs])
            cells, slots = cells[mine], slots[mine]
        result = self.reassembler.feed(cells, slots, now)
        if result.errors:
            self._count_errors(result)
        timeout = self.reassembler.timeout_slots
        if timeout is not None and self.reassembler.cells_pending:
            self._wake(now + timeout + 1)  # run the reassembly timer even if no cell comes
        if not len(result):
            return 0
        delivered = 0
        frame_in = self.endpoint.frame_in
        vpi, vci = self.vpi, self.vci
        for frame in result:
            if frame.vpi == vpi and frame.vci == vci:
                c["frames_in"] += 1
                delivered += 1
                frame_in(frame.sdu, frame.slot)
            else:
                c["frames_wrong_vc"] += 1
        return delivered

    def _all_mine(self, cells: np.ndarray, m: int) -> bool:
        """Every cell is on this port's VPI/VCI (header bits 27..4, GFC aside). A signalling batch is a
        cell or a few: on Python ints, which a handful of numpy temporaries would cost more than."""
        if m > 8:
            words = cells[:, :4].copy().view(">u4").reshape(-1)
            return bool((((words >> 4) & 0xFFFFFF) == self._key).all())
        head = cells[:, :4].tobytes()
        key = self._key
        for i in range(0, 4 * m, 4):
            if (int.from_bytes(head[i:i + 4], "big") >> 4) & 0xFFFFFF != key:
                return False
        return True

    def _count_errors(self, result) -> None:
        for error in result.errors:  # typed AAL5 receive errors (hw.aal5.errors), one per PDU discarded
            self.counters[f"aal5_{error.kind}_errors"] += 1
        if result.errors:
            self.last_aal5_error = result.errors[-1]

    def check_conservation(self) -> None:
        """Raise if a cell is unaccounted for: cells in = HEC discards + physical-layer cells + cells
        given to the ``other`` sink + cells the reassembler took (which holds its own conservation)."""
        c = self.counters
        r = self.reassembler.counters
        taken = c["cells_in"] - c["cells_hec_discarded"] - c["cells_physical_layer"] - c["cells_other"]
        if taken != r["cells_in"]:
            raise SignallingLinkError(f"{self!r}: {taken} cells passed the HEC receiver, the reassembler "
                                      f"took {r['cells_in']}")
        hec = self.hec.counters
        if hec.cells_in != c["cells_in"] or hec.discarded != c["cells_hec_discarded"]:
            raise SignallingLinkError(f"{self!r}: HEC receiver counters {hec} disagree with {dict(c)}")
        self.reassembler.check_conservation()
        if r["frames_delivered"] != c["frames_in"] + c["frames_wrong_vc"]:
            raise SignallingLinkError(f"{self!r}: reassembler delivered {r['frames_delivered']} frames, "
                                      f"{c['frames_in']} + {c['frames_wrong_vc']} accounted for")


def connect(link: Link, a: SignallingLink, b: SignallingLink, **options: Any) -> tuple[CellPort, CellPort]:
    """Attach ``a`` to ``link.a`` and ``b`` to ``link.b`` (both on the same clock), their cell-available
    signals wired to each other; the options go to both :class:`CellPort` s."""
    if a.clock is not b.clock:
        raise SignallingValueError("clock", (a.clock, b.clock), "the same Clock for both endpoints")
    pa, pb = CellPort(a, link.a, **options), CellPort(b, link.b, **options)
    pa.far_wake, pb.far_wake = pb.wake_rx, pa.wake_rx
    return pa, pb


__all__ = ["CellPort", "Direction", "LinkCause", "SIGNALLING_VCI", "SIGNALLING_VPI",
           "SignallingLink", "SignallingLinkError", "SignallingValueError", "Tap", "connect"]
