"""What goes into and comes out of the SSCOP protocol machine (ITU-T Q.2110), independent of the wire.

Inputs (``SSCOPMachine.handle``):

* :class:`SSCOPPdu` - a received PDU, already decoded (the codec lives in ``pdu``/``fastcodec``; this
  module does not depend on it, and shares with it only the type codes and moduli of ``layout``).
  Field names follow Q.2110 7.5: N(S), N(R), N(MR), N(SQ), N(PS), the S bit of END, the list of
  STAT/USTAT, and ``data`` (the SSCOP-UU of BGN/BGAK/BGREJ/END/RS, the information field of SD/UD/MD),
  without pad.
* :class:`UserRequest` - an AA-signal request/response from the SSCOP user (the SSCF) or the
  MAA-UNITDATA.request from layer management (Q.2110 6.1).
* :class:`TimerExpiry` - one of the five timers of Q.2110 7.6 ran out.

Outputs (a list per input, in the order the SDL performs them):

* :class:`SendPdu` - give this PDU to the lower layer (CPCS-UNITDATA.invoke, 6.3);
* :class:`Indication` - an AA-/MAA- indication or confirm to the user (6.1);
* :class:`MaaError` - MAA-ERROR.indication with a code letter of Q.2110 Annex A;
* :class:`StartTimer` / :class:`StopTimer` - the caller maps them onto its clock. StartTimer means
  "(re)start": cancel any pending expiry of that timer and schedule one ``seconds`` from now.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from firmware.sscop.layout import INFO_TYPES, SEQ_MODULUS, SQ_MODULUS, UU_TYPES, PDUType
from firmware.sscop.protocol_errors import SSCOPValueError

#: The 15 SSCOP PDUs and their type codes (Q.2110 7.1, 7.2), and the sets of those carrying SSCOP-UU
#: (bounded by the parameter j) and an information field (bounded by k), 7.2 and 7.7. One definition,
#: in ``layout``, shared with the codec; ``PduType`` is the machine-side name of ``layout.PDUType``.
PduType = PDUType
UU_PDUS = UU_TYPES
INFO_PDUS = INFO_TYPES


class Timer(str, Enum):
    """The SSCOP timers of Q.2110 7.6."""

    CC = "Timer_CC"                    # BGN, END, RS, ER retransmission
    POLL = "Timer_POLL"                # POLL interval while data is outstanding (active phase)
    NO_RESPONSE = "Timer_NO-RESPONSE"  # longest time without a STAT before the link is declared dead
    KEEP_ALIVE = "Timer_KEEP-ALIVE"    # POLL interval when nothing is outstanding (transient phase)
    IDLE = "Timer_IDLE"                # length of the idle phase (no POLLs)


class Primitive(str, Enum):
    """AA-signals between SSCOP and its user and MAA-signals to layer management (Q.2110 6.1)."""

    AA_ESTABLISH_REQUEST = "AA-ESTABLISH.request"
    AA_ESTABLISH_INDICATION = "AA-ESTABLISH.indication"
    AA_ESTABLISH_RESPONSE = "AA-ESTABLISH.response"
    AA_ESTABLISH_CONFIRM = "AA-ESTABLISH.confirm"
    AA_RELEASE_REQUEST = "AA-RELEASE.request"
    AA_RELEASE_INDICATION = "AA-RELEASE.indication"
    AA_RELEASE_CONFIRM = "AA-RELEASE.confirm"
    AA_DATA_REQUEST = "AA-DATA.request"
    AA_DATA_INDICATION = "AA-DATA.indication"
    AA_RESYNC_REQUEST = "AA-RESYNC.request"
    AA_RESYNC_INDICATION = "AA-RESYNC.indication"
    AA_RESYNC_RESPONSE = "AA-RESYNC.response"
    AA_RESYNC_CONFIRM = "AA-RESYNC.confirm"
    AA_RECOVER_INDICATION = "AA-RECOVER.indication"
    AA_RECOVER_RESPONSE = "AA-RECOVER.response"
    AA_UNITDATA_REQUEST = "AA-UNITDATA.request"
    AA_UNITDATA_INDICATION = "AA-UNITDATA.indication"
    AA_RETRIEVE_REQUEST = "AA-RETRIEVE.request"
    AA_RETRIEVE_INDICATION = "AA-RETRIEVE.indication"
    AA_RETRIEVE_COMPLETE_INDICATION = "AA-RETRIEVE_COMPLETE.indication"
    MAA_UNITDATA_REQUEST = "MAA-UNITDATA.request"
    MAA_UNITDATA_INDICATION = "MAA-UNITDATA.indication"


#: The primitives a user (or layer management) may give to the machine.
REQUEST_PRIMITIVES = frozenset({
    Primitive.AA_ESTABLISH_REQUEST, Primitive.AA_ESTABLISH_RESPONSE, Primitive.AA_RELEASE_REQUEST,
    Primitive.AA_DATA_REQUEST, Primitive.AA_RESYNC_REQUEST, Primitive.AA_RESYNC_RESPONSE,
    Primitive.AA_RECOVER_RESPONSE, Primitive.AA_UNITDATA_REQUEST, Primitive.AA_RETRIEVE_REQUEST,
    Primitive.MAA_UNITDATA_REQUEST,
})


class Source(str, Enum):
    """Originator of a release, the Source parameter of AA-RELEASE.indication (6.1): the peer SSCOP
    user, or SSCOP itself (END with S=1, or a local protocol failure)."""

    USER = "user"
    SSCOP = "SSCOP"


#: MAA-ERROR.indication codes (Q.2110 Annex A). A to M: a PDU that is not expected in the current
#: state; O to X: the other conditions. There is no code N.
MAA_ERROR_CODES: dict[str, str] = {
    "A": "SD PDU unexpected",
    "B": "BGN PDU unexpected",
    "C": "BGAK PDU unexpected",
    "D": "BGREJ PDU unexpected",
    "E": "END PDU unexpected",
    "F": "ENDAK PDU unexpected",
    "G": "POLL PDU unexpected",
    "H": "STAT PDU unexpected",
    "I": "USTAT PDU unexpected",
    "J": "RS PDU unexpected",
    "K": "RSAK PDU unexpected",
    "L": "ER PDU unexpected",
    "M": "ERAK PDU unexpected",
    "O": "VT(CC) >= MaxCC: unsuccessful retransmission of BGN, END, RS or ER",
    "P": "Timer_NO-RESPONSE expiry",
    "Q": "SD or POLL PDU, N(S) error",
    "R": "STAT PDU, N(PS) error",
    "S": "STAT PDU, N(R) or list elements error",
    "T": "USTAT PDU, N(R) or list elements error",
    "U": "PDU length violation",
    "V": "SD PDUs must be retransmitted (count = number of SD PDUs)",
    "W": "lack of credit",
    "X": "credit obtained",
}

#: AA-RETRIEVE.request retrieval number (RN, 6.1): "unknown" retrieves only the SDUs never
#: transmitted; "total" also every SD PDU still in the transmission buffer; an integer n retrieves
#: the SD PDUs with N(S) > n still in the transmission buffer, then the never-transmitted ones.
RN_UNKNOWN = "unknown"
RN_TOTAL = "total"


_new = object.__new__
_set = object.__setattr__


def _check_seq(field: str, value: object, modulus: int = SEQ_MODULUS) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < modulus:
        raise SSCOPValueError(field, value, f"an integer in 0..{modulus - 1}")


def _check_bytes(field: str, value: object) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise SSCOPValueError(field, value, "bytes")


@dataclass(frozen=True, slots=True)
class SSCOPPdu:
    """One SSCOP PDU as the protocol sees it (Q.2110 7.2, 7.5), with no wire encoding.

    Only the fields of its type are meaningful: BGN/RS (N(MR), N(SQ), UU), ER (N(MR), N(SQ)),
    BGAK/RSAK/ERAK (N(MR)), END (S, UU), BGREJ (UU), SD (N(S), data), POLL (N(S), N(PS)),
    STAT (N(R), N(MR), N(PS), list), USTAT (N(R), N(MR), list of two), UD/MD (data). The others are 0.
    """

    type: PduType
    n_s: int = 0
    n_r: int = 0
    n_mr: int = 0
    n_sq: int = 0
    n_ps: int = 0
    s: int = 0
    list_: tuple[int, ...] = ()
    data: bytes = b""

    def __post_init__(self) -> None:
        try:
            pdu_type = PduType(self.type)
        except ValueError:
            raise SSCOPValueError("type", self.type, "an SSCOP PDU type 1..15 (Q.2110 7.2)") from None
        object.__setattr__(self, "type", pdu_type)
        for name in ("n_s", "n_r", "n_mr", "n_ps"):
            _check_seq(name, getattr(self, name))
        _check_seq("n_sq", self.n_sq, SQ_MODULUS)
        if self.s not in (0, 1) or isinstance(self.s, bool):
            raise SSCOPValueError("s", self.s, "0 or 1")
        try:
            elements = tuple(self.list_)
        except TypeError:
            raise SSCOPValueError("list_", self.list_, "a sequence of 24-bit sequence numbers") from None
        for index, element in enumerate(elements):
            _check_seq(f"list_[{index}]", element)
        object.__setattr__(self, "list_", elements)
        object.__setattr__(self, "data", _check_bytes("data", self.data))

    @classmethod
    def _trusted(cls, type: PduType, n_s: int = 0, n_r: int = 0, n_mr: int = 0, n_sq: int = 0,
                 n_ps: int = 0, s: int = 0, list_: tuple[int, ...] = (), data: bytes = b"") -> SSCOPPdu:
        """An SSCOPPdu without the checks of ``__post_init__``, for this package's own producers whose
        fields are in range by construction: the machine (state variables kept modulo their width,
        data from checked requests) and the adapter's decoder (fields read through masks of their
        width). ``type`` must be a :class:`PduType`, ``list_`` a tuple, ``data`` bytes. Anything from
        outside goes through the checked constructor."""
        pdu = _new(cls)
        _set_type(pdu, type)  # each slot's own setter: what object.__setattr__ would reach, without its lookup
        _set_n_s(pdu, n_s)
        _set_n_r(pdu, n_r)
        _set_n_mr(pdu, n_mr)
        _set_n_sq(pdu, n_sq)
        _set_n_ps(pdu, n_ps)
        _set_s(pdu, s)
        _set_list(pdu, list_)
        _set_data(pdu, data)
        return pdu

    def __repr__(self) -> str:
        parts = [self.type.name]
        for name in ("n_s", "n_r", "n_mr", "n_sq", "n_ps", "s"):
            value = getattr(self, name)
            if value:
                parts.append(f"{name}={value}")
        if self.list_:
            parts.append(f"list={list(self.list_)}")
        if self.data:
            parts.append(f"data={self.data[:16]!r}{'...' if len(self.data) > 16 else ''}")
        return f"SSCOPPdu({', '.join(parts)})"


@dataclass(frozen=True, slots=True)
class UserRequest:
    """An AA-/MAA- request or response to SSCOP (Q.2110 6.1).

    ``data`` is the MU of AA-DATA/AA-UNITDATA/MAA-UNITDATA.request or the SSCOP-UU of
    AA-ESTABLISH.request/response, AA-RELEASE.request and AA-RESYNC.request. ``clear_buffers`` is the
    BR (buffer release) parameter of AA-ESTABLISH.request/response. ``rn`` is the retrieval number of
    AA-RETRIEVE.request (an N(S), :data:`RN_UNKNOWN` or :data:`RN_TOTAL`)."""

    primitive: Primitive
    data: bytes = b""
    clear_buffers: bool = True
    rn: int | str = RN_UNKNOWN

    def __post_init__(self) -> None:
        try:
            primitive = Primitive(self.primitive)
        except ValueError:
            raise SSCOPValueError("primitive", self.primitive, "an AA-/MAA- primitive") from None
        if primitive not in REQUEST_PRIMITIVES:
            raise SSCOPValueError("primitive", primitive.value, "a request or response primitive")
        object.__setattr__(self, "primitive", primitive)
        object.__setattr__(self, "data", _check_bytes("data", self.data))
        if not isinstance(self.clear_buffers, bool):
            raise SSCOPValueError("clear_buffers", self.clear_buffers, "True or False (BR)")
        if self.rn not in (RN_UNKNOWN, RN_TOTAL):
            _check_seq("rn", self.rn)


@dataclass(frozen=True, slots=True)
class TimerExpiry:
    """A timer of Q.2110 7.6 ran out."""

    timer: Timer

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "timer", Timer(self.timer))
        except ValueError:
            raise SSCOPValueError("timer", self.timer, "an SSCOP timer (Q.2110 7.6)") from None


#: the setters of SSCOPPdu's slots (SSCOPPdu._trusted fills a PDU through them)
(_set_type, _set_n_s, _set_n_r, _set_n_mr, _set_n_sq, _set_n_ps, _set_s, _set_list, _set_data) = (
    SSCOPPdu.__dict__[name].__set__ for name in ("type", "n_s", "n_r", "n_mr", "n_sq", "n_ps", "s", "list_", "data"))


@dataclass(frozen=True, slots=True)
class SendPdu:
    """Give ``pdu`` to the lower layer (CPCS-UNITDATA.invoke, Q.2110 6.3)."""

    pdu: SSCOPPdu


@dataclass(frozen=True, slots=True)
class Indication:
    """An indication or confirm to the SSCOP user or to layer management (Q.2110 6.1).

    ``data``: MU or SSCOP-UU; ``sn``: the N(S) of the SD delivered by AA-DATA.indication;
    ``source``: the Source of AA-RELEASE.indication."""

    primitive: Primitive
    data: bytes = b""
    sn: int | None = None
    source: Source | None = None


@dataclass(frozen=True, slots=True)
class MaaError:
    """MAA-ERROR.indication (Q.2110 6.1, Annex A). ``count`` is meaningful for code V only."""

    code: str
    count: int = 0

    def __post_init__(self) -> None:
        if self.code not in MAA_ERROR_CODES:
            raise SSCOPValueError("code", self.code, "an MAA-ERROR code of Q.2110 Annex A (A..X, no N)")

    @property
    def meaning(self) -> str:
        return MAA_ERROR_CODES[self.code]


@dataclass(frozen=True, slots=True)
class StartTimer:
    """(Re)start ``timer``: cancel any pending expiry, expire ``seconds`` from now."""

    timer: Timer
    seconds: float


@dataclass(frozen=True, slots=True)
class StopTimer:
    """Stop ``timer``: its pending expiry must not be delivered."""

    timer: Timer


#: Anything the machine accepts, and anything it returns.
Input = SSCOPPdu | UserRequest | TimerExpiry
Output = SendPdu | Indication | MaaError | StartTimer | StopTimer
