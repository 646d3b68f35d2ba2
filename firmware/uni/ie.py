"""The Q.2931 information element: header, dispatcher, unknown elements and the strict IE decoder.

Every IE starts with the same four octets (Q.2931 4.5.1)::

    identifier (1) | ext 1 | coding standard (2) | IE instruction flag | pass along | action (3) | length (2)

then ``length`` octets of contents. :class:`InformationElement` is the scapy class for that header and the
dispatcher: ``InformationElement(raw)`` returns an instance of the class registered for the identifier
(see :func:`register`), or :class:`UnknownIE`, which keeps identifier, instruction octet and contents
exactly as received and re-encodes them byte for byte (Q.2931 5.6.8.1 wants unrecognised IEs passed over,
not lost). An IE registered for one coding standard but received with another is unrecognised as well.

``length`` is computed on build when None, or when it still holds the dissected value and the contents
were changed since; set it to anything else to craft a wrong one.

Dissection is confined to the element's own ``length`` octets and is lenient, as scapy's is: a malformed
element still dissects (its fields as far as they go, its bytes kept for re-encoding), and what was wrong is
recorded in ``ie.problems`` as ``(offset, field, reason)`` with the offset counted from the identifier
octet. :func:`decode_ie` is the strict decoder: it raises :class:`IEContentError` for the first problem.

Bit 4 of the instruction octet is spare in Q.2931 and the "pass along request" of UNI 4.0; it is kept.
"""

from __future__ import annotations

from typing import ClassVar

from scapy.fields import BitEnumField, BitField, ByteEnumField, ShortField, StrField
from scapy.packet import Packet

from firmware.uni.constants import IE_MAX_CONTENTS, IE_NAMES, CodingStandard, IEAction
from firmware.uni.errors import IEContentError, UniEncodeError

#: Octets of the IE header: identifier, instruction octet, 2-octet length.
IE_HEADER_OCTETS = 4
_HEADER_FIELD_COUNT = 7

CODING_NAMES = {int(c): c.name for c in CodingStandard}
ACTION_NAMES = {int(a): a.name.lower() for a in IEAction}


def ie_header(identifier: int, coding: int = CodingStandard.ITU_T) -> list:
    """The seven header fields of an IE, with ``identifier`` and ``coding`` as defaults."""
    return [
        ByteEnumField("identifier", identifier, IE_NAMES),
        BitField("ext", 1, 1),
        BitEnumField("coding_standard", coding, 2, CODING_NAMES),
        BitField("flag", 0, 1),  # IE instruction field flag: 1 = follow the action indicator (5.7.2)
        BitField("pass_along", 0, 1),
        BitEnumField("action", 0, 3, ACTION_NAMES),
        ShortField("length", None),  # computed on build when None
    ]


class KeepsDissectionState:
    """Mixin for packets that note facts at dissection (the dissected length, the problems found): scapy
    builds from copies (``copy``, ``clone_with``), which would drop such attributes."""

    _DISSECTION_STATE = ("dissected_length", "problems", "framed")

    def _carry(self, clone):
        for name in self._DISSECTION_STATE:
            if name in self.__dict__:
                clone.__dict__[name] = self.__dict__[name]
        return clone

    def copy(self):
        return self._carry(super().copy())

    def clone_with(self, payload=None, **kargs):
        return self._carry(super().clone_with(payload=payload, **kargs))


#: Registered IE classes by identifier.
IE_CLASSES: dict[int, type["InformationElement"]] = {}


class InformationElement(KeepsDissectionState, Packet):
    """A Q.2931 information element; instantiating it on bytes dispatches to the registered class."""

    name = "Q.2931 information element"
    fields_desc = ie_header(0)

    #: Coding standards under which the class understands the element (others: unrecognised).
    codings: ClassVar[tuple[int, ...]] = (CodingStandard.ITU_T,)
    #: Largest contents Q.2931 allows for this element, None when only its layout bounds it.
    max_contents: ClassVar[int | None] = None

    @classmethod
    def dispatch_hook(cls, _pkt=None, *args, **kargs):
        if cls is not InformationElement or _pkt is None:
            return cls
        data = bytes(_pkt) if not isinstance(_pkt, bytes) else _pkt
        if len(data) < 2:
            return UnknownIE
        klass = IE_CLASSES.get(data[0])
        if klass is not None and (data[1] >> 5) & 3 in klass.codings:
            return klass
        return UnknownIE

    # -- dissection ----------------------------------------------------------------------------------

    def do_dissect(self, s):
        self.problems = []
        self.framed = True  # False when the element's header or length runs past the input
        self.raw_packet_cache_fields = {}
        if len(s) >= IE_HEADER_OCTETS:
            end = IE_HEADER_OCTETS + (s[2] << 8 | s[3])
            frame, rest = s[:end], s[end:]
        else:
            frame, rest = s, b""
        self._dissect_frame(bytes(frame))
        self.raw_packet_cache = bytes(frame)
        self.explicit = 1
        return rest

    def _dissect_frame(self, frame: bytes) -> None:
        s = frame
        for f in self.fields_desc[:_HEADER_FIELD_COUNT]:
            try:
                s, value = f.getfield(self, s)
            except Exception:
                field = "length" if f.name == "length" else "instruction"
                self.problems.append((len(frame), field, "element ends inside its 4-octet header"))
                self.framed = False
                return
            self.fields[f.name] = value
        self.dissected_length = self.length
        body = frame[IE_HEADER_OCTETS:]
        if len(body) < self.length:
            self.problems.append((2, "length", f"length {self.length} runs past the end "
                                               f"({len(body)} octets follow the header)"))
            self.framed = False
            return
        if not body:
            return  # an empty element counts as absent (see contents.py), its fields stay at defaults
        if self.max_contents is not None and len(body) > self.max_contents:
            self.problems.append((2, "length", f"{len(body)} octets of contents exceed the maximum "
                                               f"{self.max_contents} of Q.2931"))
        self._dissect_contents(body)
        self.problems.extend(self.validate_contents())

    def _dissect_contents(self, body: bytes) -> None:
        """Dissect the content fields over exactly ``body``; record truncation and excess octets."""
        s = body
        fields = self.fields_desc[_HEADER_FIELD_COUNT:]
        for i, f in enumerate(fields):
            try:
                s, value = f.getfield(self, s)
            except Exception:
                self.problems.append((IE_HEADER_OCTETS + len(body), _meaningful(fields, i),
                                      "contents end before this field"))
                return
            if f.isconditional and value is None:
                continue
            if (f.islist or f.holds_packets or f.ismutable) and value is not None:
                self.raw_packet_cache_fields[f.name] = self._raw_packet_cache_field_value(f, value, copy=True)
            self.fields[f.name] = value
        if isinstance(s, tuple):  # a bit group left open: cannot happen with octet-aligned layouts
            s = s[0]
        if s:
            self.problems.append((IE_HEADER_OCTETS + len(body) - len(s), "contents",
                                  f"{len(s)} octets beyond the {self.name} layout"))

    #: ``(field, octet offset from the identifier)`` of extension bits the standard fixes to 1 (the last
    #: octet of a group with no further octet defined): a 0 there announces an octet Q.2931 does not have.
    fixed_ext_bits: ClassVar[tuple[tuple[str, int], ...]] = ()

    def validate_contents(self) -> list[tuple[int, str, str]]:
        """Problems of the dissected field values; only fields actually dissected are looked at (a
        truncated element is checked as far as it goes). Offsets count from the identifier octet.
        Subclasses extend it; the base checks :attr:`fixed_ext_bits`."""
        problems = []
        for name, offset in self.fixed_ext_bits:
            value = self.fields.get(name)
            if value is not None and value != 1:
                problems.append((offset, name, "extension bit must be 1: no further octet is defined"))
        return problems

    def extract_padding(self, s):
        return b"", s

    # -- build ----------------------------------------------------------------------------------------

    def post_build(self, pkt, pay):
        # computed when None, and when still the dissected value while the contents changed; a length
        # set to something else is kept (to craft a malformed element)
        if self.length is None or self.length == getattr(self, "dissected_length", None):
            n = len(pkt) - IE_HEADER_OCTETS
            if n > 0xFFFF:
                raise UniEncodeError(f"{self.name}.length", n, "at most 65535 octets of contents")
            pkt = pkt[:2] + n.to_bytes(2, "big") + pkt[IE_HEADER_OCTETS:]
        return pkt + pay

    # -- views ----------------------------------------------------------------------------------------

    @property
    def instruction(self) -> int:
        """The instruction octet (octet 2) as one integer."""
        return ((self.ext & 1) << 7 | (self.coding_standard & 3) << 5 | (self.flag & 1) << 4
                | (self.pass_along & 1) << 3 | (self.action & 7))

    def content_fields(self) -> dict:
        """The element's content fields as plain Python values (lists as tuples), leaving out the header
        and the extension bits, which are fixed or derived. Same names as the fast codec's records."""
        out = {}
        for f in self.fields_desc[_HEADER_FIELD_COUNT:]:
            if f.name.startswith("ext"):
                continue
            if f.isconditional and not f._evalcond(self):
                out[f.name] = None  # an optional octet that is absent
                continue
            value = self.getfieldval(f.name)
            if f.islist:
                value = tuple(tuple(v) if isinstance(v, (list, tuple)) else v for v in (value or ()))
            out[f.name] = value
        return out

    def mysummary(self):
        return f"{self.name} ({len(self.problems)} problems)" if getattr(self, "problems", None) else self.name


def _meaningful(fields: list, i: int) -> str:
    """Name of field ``i``, or of the next field in its octet when it is an ext or spare bit."""
    for f in fields[i:]:
        if not (f.name.startswith("ext") or f.name.startswith("spare")):
            return f.name
    return fields[i].name


class UnknownIE(InformationElement):
    """An element this implementation does not recognise, kept exactly as received (Q.2931 5.6.8.1)."""

    name = "Unknown information element"
    fields_desc = ie_header(0) + [StrField("contents", b"")]


def register(cls: type[InformationElement]) -> type[InformationElement]:
    """Class decorator: make ``cls`` the dispatcher's choice for its identifier."""
    identifier = cls.fields_desc[0].default
    if identifier in IE_CLASSES:
        raise ValueError(f"IE 0x{identifier:02X} registered twice")
    IE_CLASSES[identifier] = cls
    if cls.max_contents is None and identifier in IE_MAX_CONTENTS:
        cls.max_contents = IE_MAX_CONTENTS[identifier]
    return cls


def is_recognised(ie: InformationElement) -> bool:
    """True for an element of a registered class (not kept raw as unknown)."""
    return not isinstance(ie, UnknownIE) and type(ie) is not InformationElement


def decode_ie(data: bytes) -> InformationElement:
    """Strictly decode one information element occupying all of ``data``.

    Raises :class:`IEContentError` (cause 100) naming the offset and field of the first problem:
    truncated header, a length that disagrees with the octets given, contents that do not fit the
    element's layout, a fixed bit with the wrong value. Unknown elements decode to :class:`UnknownIE`."""
    data = bytes(data)
    identifier = data[0] if data else -1
    what = f"Q.2931 {IE_NAMES.get(identifier, 'information element')}"
    if len(data) < IE_HEADER_OCTETS:
        field = "identifier" if not data else ("instruction" if len(data) == 1 else "length")
        raise IEContentError(what, len(data), field, f"{len(data)} octets cannot hold the 4-octet header",
                             identifier, clause="Q.2931 4.5.1")
    length = data[2] << 8 | data[3]
    if length != len(data) - IE_HEADER_OCTETS:
        raise IEContentError(what, 2, "length", f"length {length}, but {len(data) - IE_HEADER_OCTETS} "
                             "octets of contents given", identifier, clause="Q.2931 4.5.1")
    ie = InformationElement(data)
    if ie.problems:
        offset, field, reason = min(ie.problems, key=lambda p: p[0])
        raise IEContentError(what, offset, field, reason, identifier)
    return ie
