"""The two message codecs of the signalling stack, behind one small interface.

``codec("fast")`` (the default everywhere): :class:`~firmware.uni.fastcodec.FastMessage` objects, built by
:mod:`firmware.uni.fastbuild`, encoded and strictly decoded by :mod:`firmware.uni.fastcodec`.
``codec("scapy")``: the scapy layers (:mod:`firmware.uni.builders`, :func:`firmware.uni.decode_message`),
the definition the fast codec is proven against, selectable so that a whole run can be made on it (and
measured next to the fast one).

A :class:`MessageCodec` gives: ``name``; ``builders`` (the module with ``Setup``, ``AddParty``, ``cause``,
``connection_identifier``... with the same signatures in both); ``decode(octets)`` (strict, raises
:class:`~firmware.uni.errors.UniDecodeError`); ``encode(message)``; ``ie(value)`` (an element of this codec
from an element of either, or None); ``copy(element)`` (an element to put in another message: the fast
ones are immutable tuples, scapy's are copied). Reading messages: :mod:`firmware.uni.access`.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable

from firmware.uni import builders, fastbuild, fastcodec
from firmware.uni.decode import decode_message
from firmware.uni.errors import UniEncodeError
from firmware.uni.fastcodec import FastIE


def _scapy_ie(value: Any):
    if value is None:
        return None
    if value.__class__ is FastIE:
        from firmware.uni.ie import decode_ie

        return decode_ie(bytes(value))
    from firmware.uni.ie import InformationElement

    if isinstance(value, InformationElement):
        return value
    raise UniEncodeError("information element", value, "a FastIE or a scapy information element")


def _scapy_copy(element: Any):
    return None if element is None else element.copy()


def _same(element: Any):
    return element


@dataclass(frozen=True)
class MessageCodec:
    name: str
    builders: ModuleType
    decode: Callable[[bytes], Any]
    encode: Callable[[Any], bytes]
    ie: Callable[[Any], Any]
    copy: Callable[[Any], Any]

    def __repr__(self) -> str:
        return f"<MessageCodec {self.name}>"


FAST = MessageCodec("fast", fastbuild, fastcodec.decode, fastcodec.encode, fastbuild.ie, _same)
SCAPY = MessageCodec("scapy", builders, decode_message, bytes, _scapy_ie, _scapy_copy)
CODECS = {"fast": FAST, "scapy": SCAPY}


def codec(name: "str | MessageCodec") -> MessageCodec:
    """The codec called ``name`` ("fast" or "scapy"), or ``name`` itself when it is one."""
    if isinstance(name, MessageCodec):
        return name
    try:
        return CODECS[name]
    except (KeyError, TypeError):
        raise UniEncodeError("codec", name, "'fast' or 'scapy'") from None


__all__ = ["CODECS", "FAST", "MessageCodec", "SCAPY", "codec"]
