"""The signalling channel: how a Q.2931 entity (one side of one UNI) sends and receives messages,
whatever carries them.

:class:`SignallingChannel` is the neutral interface the switch control plane and the endpoints are
written against:

* ``send(message)`` takes a Q.2931 message (a fast-codec ``FastMessage``, a scapy ``Q2931`` layer, or its
  octets); the carrier encodes it - for the SAAL, the information field of an SSCOP SD PDU (SSCF-UNI
  AA-DATA.request, Q.2130);
* every frame the carrier delivers is strictly decoded with the channel's ``codec`` ("fast": a
  ``FastMessage``, "scapy": a ``Q2931``) and handed to ``on_message(message)``, or to
  ``on_error(octets, error)`` with the typed :class:`~firmware.uni.UniDecodeError` (cause and disposition
  of Q.2931 5.6) when the octets are not a valid message. The receiver answers those as Q.2931 5.6 says;
  nothing is dropped without a counter;
* a carrier that can fail (the SAAL) also reports its state with ``on_link_state(up, cause)``.

Carriers:

* :class:`SaalChannel` - the real one: Q.2931 over SSCF-UNI over SSCOP over AAL5 cells on VPI 0/VCI 5
  (:class:`firmware.signalling_link.SignallingLink`). It establishes the link (AAL-ESTABLISH.request,
  Q.2130 7.1) when asked to and whenever a message must go while the link is down, holding the messages
  until the link is up (Q.2931 5.1.1: the SETUP waits for the AAL connection); messages that cannot go
  because the establishment failed are counted as refused; loss and recovery of the link are reported to
  the UNI layer;
* :class:`InMemoryChannel` - a pair of them delivering through the virtual clock after a configurable
  delay: a unit-level stand-in that still encodes and decodes every message, so that what the far end
  sees is what the wire format says, not the sender's Python object.
"""

from __future__ import annotations

from collections import Counter, deque
from typing import Any, Callable, Protocol, runtime_checkable

from firmware.switch.errors import InterfaceError
from firmware.uni.codecs import MessageCodec, codec as _codec
from firmware.uni.constants import MESSAGE_NAMES
from firmware.uni.errors import UniDecodeError
from hw.clock import Clock
from hw.errors import FieldError

MessageHandler = Callable[[Any], None]
ErrorHandler = Callable[[bytes, UniDecodeError], None]
LinkStateHandler = Callable[[bool, Any], None]


@runtime_checkable
class SignallingChannel(Protocol):
    """One end of a signalling link. The owner sets ``on_message`` and ``on_error`` (see ``attach``)."""

    on_message: MessageHandler | None
    on_error: ErrorHandler | None

    def send(self, message: Any) -> None:
        """Send one Q.2931 message to the far end."""


_NAMES = {t: name.replace(" ", "_") for t, name in MESSAGE_NAMES.items()}


def message_name(message_type: int) -> str:
    name = _NAMES.get(message_type)
    return name if name is not None else f"0x{message_type:02X}"


def deliver(channel: Any, octets: bytes, counters: Counter[str] | None = None) -> None:
    """Decode ``octets`` with the channel's codec and hand the result to its owner (what every carrier
    does with a received frame). ``counters`` (optional) counts ``delivered`` and ``decode_errors``."""
    try:
        message = channel.message_codec.decode(octets)
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


def _octets(message: Any, codec: MessageCodec) -> bytes:
    if message.__class__ is bytes:
        return message
    if isinstance(message, (bytearray, memoryview)):
        return bytes(message)
    from firmware.uni.fastcodec import FastMessage, encode

    if message.__class__ is FastMessage:
        return encode(message)
    return bytes(message)


class InMemoryChannel:
    """One end of an in-memory signalling link over the virtual clock: a message sent at slot t reaches
    the far end at slot t + ``delay`` (in order: events of one slot run in the order they were
    scheduled). ``codec``: how the far end decodes ("fast" or "scapy"). Counters: ``sent``,
    ``delivered``, ``decode_errors`` (and ``unattached`` / ``unhandled_decode_errors`` when the far end
    has no handler), plus ``sent_by_type``."""

    def __init__(self, clock: Clock, delay: int = 0, name: str = "", *, codec: str = "fast") -> None:
        if not isinstance(delay, int) or isinstance(delay, bool) or delay < 0:
            raise FieldError("delay", delay, "an integer number of cell slots >= 0")
        self.clock = clock
        self.delay = delay
        self.name = name
        self.message_codec = _codec(codec)
        self.codec = self.message_codec.name
        self.peer: InMemoryChannel | None = None
        self.on_message: MessageHandler | None = None
        self.on_error: ErrorHandler | None = None
        self.counters: Counter[str] = Counter()
        self.sent_by_type: Counter[str] = Counter()
        self.tap: Callable[[str, int, bytes], None] | None = None   # (direction name, slot, octets)

    def attach(self, on_message: MessageHandler, on_error: ErrorHandler | None = None) -> None:
        self.on_message = on_message
        self.on_error = on_error

    def send(self, message: Any) -> None:
        if self.peer is None:
            raise InterfaceError(f"channel {self.name or id(self)}: not connected to a peer")
        octets = _octets(message, self.message_codec)
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


def channel_pair(clock: Clock, delay: int = 0, names: tuple[str, str] = ("a", "b"), *,
                 codec: str = "fast") -> tuple[InMemoryChannel, InMemoryChannel]:
    """Two connected in-memory channel ends with the same one-way ``delay`` in cell slots."""
    a = InMemoryChannel(clock, delay, names[0], codec=codec)
    b = InMemoryChannel(clock, delay, names[1], codec=codec)
    a.peer, b.peer = b, a
    return a, b


class SaalChannel:
    """A :class:`SignallingChannel` over a SAAL endpoint (:class:`firmware.signalling_link.SignallingLink`:
    SSCF-UNI over SSCOP; its lower port carries the PDUs as AAL5 cells).

    Messages go as AAL-DATA.request while the link is established. While it is not, a message is held
    and the link is established (AAL-ESTABLISH.request; once at a time); the held messages go, in order,
    when the establishment is confirmed, and are counted as ``refused`` (and dropped) if it fails. With
    ``establish=True`` the channel keeps the link up: it asks for the establishment at once and, ``retry``
    seconds after the link is lost or an establishment fails, again (``retry=None``: never).

    The link's state changes go to ``on_link_state(up, cause)`` (a
    :class:`firmware.signalling_link.LinkCause`), which the UNI interface takes. Received messages are
    decoded by the link with its codec (``codec`` here is the link's). Counters: ``sent``, ``held``,
    ``refused``, ``delivered``, ``decode_errors``, ``link_up``, ``link_down``,
    ``establish_requests``."""

    def __init__(self, link: Any, *, establish: bool = False, retry: float | None = 1.0, name: str = "") -> None:
        from firmware.signalling_link import SignallingLink

        if not isinstance(link, SignallingLink):
            raise FieldError("link", link, "a firmware.signalling_link.SignallingLink")
        if retry is not None and (isinstance(retry, bool) or not isinstance(retry, (int, float)) or retry <= 0):
            raise FieldError("retry", retry, "None or a delay in seconds > 0")
        self.link = link
        self.clock = link.clock
        self.name = name or link.name
        self.message_codec = _codec(link.codec)
        self.codec = self.message_codec.name
        self.retry = retry
        self.on_message: MessageHandler | None = None
        self.on_error: ErrorHandler | None = None
        self.on_link_state: LinkStateHandler | None = None
        self.counters: Counter[str] = Counter()
        self._held: deque[Any] = deque()
        self._establishing = False
        self._retry_event = None
        self.keep_up = bool(establish)
        link.on_message = self._message
        link.on_decode_error = self._decode_error
        link.on_link_state = self._link_state
        if establish:
            self.establish()

    def __repr__(self) -> str:
        return f"<SaalChannel {self.name} {'up' if self.up else 'down'} sent={self.counters['sent']}>"

    @property
    def up(self) -> bool:
        return self.link.established

    def attach(self, on_message: MessageHandler, on_error: ErrorHandler | None = None) -> None:
        self.on_message = on_message
        self.on_error = on_error

    def establish(self) -> None:
        """AAL-ESTABLISH.request, unless the link is up or an establishment is under way."""
        if self.link.established or self._establishing:
            return
        self._establishing = True
        self.counters["establish_requests"] += 1
        self.link.establish()

    def send(self, message: Any) -> None:
        if self.link.established and not self._held:
            self.link.send_message(message)
            self.counters["sent"] += 1
            return
        self._held.append(message)
        self.counters["held"] += 1
        self.establish()

    @property
    def in_flight(self) -> int:
        """Messages held for the link (not yet given to SSCOP)."""
        return len(self._held)

    # ---- the link's callbacks
    def _message(self, message: Any) -> None:
        self.counters["delivered"] += 1
        if self.on_message is None:
            self.counters["unattached"] += 1
            return
        self.on_message(message)

    def _decode_error(self, error: UniDecodeError, octets: bytes) -> None:
        self.counters["decode_errors"] += 1
        if self.on_error is None:
            self.counters["unhandled_decode_errors"] += 1
            return
        self.on_error(bytes(octets), error)

    def _link_state(self, up: bool, cause: Any) -> None:
        self._establishing = False
        if up:
            self.counters["link_up"] += 1
            if self._retry_event is not None:
                self._retry_event.cancel()
                self._retry_event = None
            while self._held and self.link.established:
                self.link.send_message(self._held.popleft())
                self.counters["sent"] += 1
        else:
            self.counters["link_down"] += 1
            if self._held:
                self.counters["refused"] += len(self._held)   # the link could not be established
                self._held.clear()
            if self.keep_up and self.retry is not None and self._retry_event is None:
                self._retry_event = self.clock.schedule_in(max(1, self.clock.slots(self.retry)), self._retry)
        if self.on_link_state is not None:
            self.on_link_state(up, cause)

    def _retry(self) -> None:
        self._retry_event = None
        self.establish()


__all__ = ["InMemoryChannel", "SaalChannel", "SignallingChannel", "channel_pair", "deliver", "message_name"]
