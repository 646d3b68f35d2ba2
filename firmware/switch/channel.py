"""The signalling channel: how a Q.2931 entity (one side of one UNI) sends and receives messages,
whatever carries them.

:class:`SignallingChannel` is the neutral interface the switch control plane and the endpoints are
written against. Today the carrier is :class:`InMemoryChannel` (a pair of them, delivering through the
virtual clock after a configurable delay); the SAAL stack (Q.2931 over SSCOP over AAL5 over cells on
VPI 0/VCI 5 through the fabric, firmware/saal.py) plugs in behind the same interface:

* ``send(message)`` takes a Q.2931 message object (a :class:`firmware.uni.Q2931` scapy layer, as the
  builders make it); the carrier encodes it (``bytes(message)``) - for the SAAL, the information field of
  an SSCOP SD PDU (SSCF-UNI AA-DATA.request, Q.2130);
* the carrier hands every frame it delivers to :func:`deliver`, which decodes it strictly
  (:func:`firmware.uni.decode_message`) and calls ``on_message(message)``, or ``on_error(octets, error)``
  with the typed :class:`~firmware.uni.UniDecodeError` (cause and disposition of Q.2931 5.6) when the
  octets are not a valid message. The receiver answers those as Q.2931 5.6 says; nothing is dropped
  without a counter.

The in-memory channel encodes and decodes every message, exactly as a real carrier would, so what the
far end sees is what the wire format says, not the sender's Python object.
"""

from __future__ import annotations

from collections import Counter
from typing import Callable, Protocol, runtime_checkable

from firmware.switch.errors import InterfaceError
from firmware.uni import Q2931, UniDecodeError, decode_message
from firmware.uni.constants import MESSAGE_NAMES
from hw.clock import Clock
from hw.errors import FieldError

MessageHandler = Callable[[Q2931], None]
ErrorHandler = Callable[[bytes, UniDecodeError], None]


@runtime_checkable
class SignallingChannel(Protocol):
    """One end of a signalling link. The owner sets ``on_message`` and ``on_error`` (see :meth:`attach`)."""

    on_message: MessageHandler | None
    on_error: ErrorHandler | None

    def send(self, message: Q2931) -> None:
        """Send one Q.2931 message to the far end."""


def message_name(message_type: int) -> str:
    return MESSAGE_NAMES.get(message_type, f"0x{message_type:02X}").replace(" ", "_")


def deliver(channel: SignallingChannel, octets: bytes, counters: Counter[str] | None = None) -> None:
    """Decode ``octets`` and hand the result to ``channel``'s owner (what every carrier does with a
    received frame). ``counters`` (optional) counts ``delivered`` and ``decode_errors``."""
    try:
        message = decode_message(octets)
    except UniDecodeError as exc:
        if counters is not None:
            counters["decode_errors"] += 1
        if channel.on_error is None:
            if counters is not None:
                counters["unhandled_decode_errors"] += 1
            return
        channel.on_error(bytes(octets), exc)
        return
    if counters is not None:
        counters["delivered"] += 1
    if channel.on_message is None:
        if counters is not None:
            counters["unattached"] += 1
        return
    channel.on_message(message)


class InMemoryChannel:
    """One end of an in-memory signalling link over the virtual clock: a message sent at slot t reaches
    the far end at slot t + ``delay`` (in order: events of one slot run in the order they were
    scheduled). Counters: ``sent``, ``delivered``, ``decode_errors`` (and ``unattached`` /
    ``unhandled_decode_errors`` when the far end has no handler), plus ``sent_by_type``."""

    def __init__(self, clock: Clock, delay: int = 0, name: str = "") -> None:
        if not isinstance(delay, int) or isinstance(delay, bool) or delay < 0:
            raise FieldError("delay", delay, "an integer number of cell slots >= 0")
        self.clock = clock
        self.delay = delay
        self.name = name
        self.peer: InMemoryChannel | None = None
        self.on_message: MessageHandler | None = None
        self.on_error: ErrorHandler | None = None
        self.counters: Counter[str] = Counter()
        self.sent_by_type: Counter[str] = Counter()
        self.tap: Callable[[str, int, bytes], None] | None = None   # (direction name, slot, octets)

    def attach(self, on_message: MessageHandler, on_error: ErrorHandler | None = None) -> None:
        self.on_message = on_message
        self.on_error = on_error

    def send(self, message: Q2931 | bytes) -> None:
        if self.peer is None:
            raise InterfaceError(f"channel {self.name or id(self)}: not connected to a peer")
        octets = bytes(message)
        self.counters["sent"] += 1
        self.sent_by_type[message_name(octets[5]) if len(octets) > 5 else "short"] += 1
        if self.tap is not None:
            self.tap(self.name, self.clock.now, octets)
        self.clock.schedule_in(self.delay, deliver, self.peer, octets, self.peer.counters)

    @property
    def in_flight(self) -> int:
        """Messages this end sent that the far end has not received yet."""
        p = self.peer
        if p is None:
            return 0
        return self.counters["sent"] - p.counters["delivered"] - p.counters["decode_errors"]

    def __repr__(self) -> str:
        return f"<InMemoryChannel {self.name} delay={self.delay} sent={self.counters['sent']}>"


def channel_pair(clock: Clock, delay: int = 0,
                 names: tuple[str, str] = ("a", "b")) -> tuple[InMemoryChannel, InMemoryChannel]:
    """Two connected in-memory channel ends with the same one-way ``delay`` in cell slots."""
    a = InMemoryChannel(clock, delay, names[0])
    b = InMemoryChannel(clock, delay, names[1])
    a.peer, b.peer = b, a
    return a, b
