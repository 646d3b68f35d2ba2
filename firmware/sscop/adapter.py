"""Between the SSCOP protocol machine and the wire: :class:`~firmware.sscop.events.SSCOPPdu` <-> octets.

The machine (``machine``) speaks neutral PDUs (``events.SSCOPPdu``: type and the Q.2110 7.5 fields
that type carries); the wire format is written once as scapy layers (``pdu``) and once as the
hot-path codec (``fastcodec``), proven byte-identical. This module joins the two ends through the
fast codec and nothing else:

    encode_pdu(pdu, limits) -> bytes       the octets of a neutral PDU (raises SSCOPFieldError)
    decode_pdu(octets, limits) -> SSCOPPdu the neutral PDU of valid octets (raises SSCOPDecodeError)

The machine and the codec share one type enumeration for the 15 codes of Q.2110 7.2
(``layout.PDUType``, which ``events.PduType`` names), so a PDU's type goes to and comes from the wire
unchanged; :data:`TO_WIRE` / :data:`FROM_WIRE` are the identity on it, kept for callers that map.

Rules carried here (Q.2110 7.2, 7.5):

* each PDU type carries only its own fields; a neutral PDU with a non-zero field its type does not
  carry (an N(S) on a BGN, a list on a POLL, data on an ENDAK) cannot be encoded:
  :class:`SSCOPFieldError` names the field. Reserved fields are sent as zero.
* on reception, reserved bits and pad octets are ignored (7.2: a receiver does not check them), so
  they do not appear in the neutral PDU; everything else a Q.2110 receiver checks (length for the
  type, PL, k, j, MaxSTAT, unknown type) is checked by ``layout.frame_pdu`` and raises
  :class:`SSCOPDecodeError` with the offset and field.

The SD PDU, which carries every Q.2931 message, has a fast path both ways; for every other input the
general path is the definition, and a test proves the fast path decodes exactly as the general one
(same PDU or same error) on random octets. Neutral PDUs made by :func:`decode_pdu` skip
``SSCOPPdu``'s own range checks: every field comes out of a mask of its width, so it is in range by
construction (a test compares them with checked ones).
"""

from __future__ import annotations

from firmware.sscop import fastcodec
from firmware.sscop.errors import SSCOPFieldError
from firmware.sscop.events import PduType, SSCOPPdu
from firmware.sscop.layout import DEFAULT_LIMITS, SSCOPLimits
from firmware.sscop.machine import SSCOPParams

#: The machine's PDU types onto the codec's, and back: the identity, as both use ``layout.PDUType``.
TO_WIRE: dict[PduType, PduType] = {t: t for t in PduType}
FROM_WIRE: dict[PduType, PduType] = TO_WIRE

#: The neutral fields each PDU carries on the wire (Q.2110 7.2); the others must be 0 / empty.
CARRIED: dict[PduType, tuple[str, ...]] = {
    PduType.BGN: ("n_mr", "n_sq"),
    PduType.BGAK: ("n_mr",),
    PduType.END: ("s",),
    PduType.ENDAK: (),
    PduType.RS: ("n_mr", "n_sq"),
    PduType.RSAK: ("n_mr",),
    PduType.BGREJ: (),
    PduType.SD: ("n_s",),
    PduType.ER: ("n_mr", "n_sq"),
    PduType.POLL: ("n_s", "n_ps"),
    PduType.STAT: ("n_r", "n_mr", "n_ps", "list_"),
    PduType.USTAT: ("n_r", "n_mr", "list_"),
    PduType.UD: (),
    PduType.MD: (),
    PduType.ERAK: ("n_mr",),
}
_NUMBERS = ("n_s", "n_r", "n_mr", "n_sq", "n_ps", "s")
#: The fields a type does not carry, precomputed for the encoder's check.
_NOT_CARRIED = {t: tuple(name for name in (*_NUMBERS, "list_") if name not in carried)
                for t, carried in CARRIED.items()}
_WITH_DATA = frozenset({PduType.BGN, PduType.BGAK, PduType.END, PduType.RS, PduType.BGREJ,
                        PduType.SD, PduType.UD, PduType.MD})

_SD = PduType.SD
_SD_CODE = int(PduType.SD)
#: Decoded fields come out of masks of their width, so they are in range without SSCOPPdu's checks.
_pdu = SSCOPPdu._trusted


def limits_for(params: SSCOPParams) -> SSCOPLimits:
    """The decoder limits that go with a machine's parameters (k, j, MaxSTAT of Q.2110 7.7)."""
    return SSCOPLimits(k=params.max_k, j=params.max_j, max_stat=params.max_stat)


# ---- encoding ------------------------------------------------------------------------------------


def encode_pdu(pdu: SSCOPPdu, *, limits: SSCOPLimits = DEFAULT_LIMITS) -> bytes:
    """The octets of ``pdu`` (Q.2110 7.2). Raises :class:`SSCOPFieldError` for a field its type does
    not carry, or data longer than k (SD, UD, MD) or j (BGN, BGAK, END, RS, BGREJ)."""
    pdu_type = pdu.type
    if pdu_type is _SD:
        # The hot path: data | pad | [PL | 0 | 8 | N(S)]. SSCOPPdu has range-checked N(S).
        data = pdu.data
        if len(data) > limits.k:
            raise SSCOPFieldError("information", len(data), f"at most k = {limits.k} octets (Q.2110 7.7)")
        if pdu.n_r or pdu.n_mr or pdu.n_sq or pdu.n_ps or pdu.s or pdu.list_:
            _reject_uncarried(pdu)
        return fastcodec.encode_sd(pdu.n_s, data)
    _reject_uncarried(pdu)
    if pdu.data and pdu_type not in _WITH_DATA:
        raise SSCOPFieldError(f"{pdu_type.name}.data", pdu.data, f"nothing: a {pdu_type.name} PDU carries no "
                              "data or SSCOP-UU (Q.2110 7.2)")
    fields = {name: getattr(pdu, name) for name in CARRIED[pdu_type]}
    if "list_" in fields:
        fields["list_"] = list(fields["list_"])
    return fastcodec.encode(pdu_type, pdu.data, limits=limits, **fields)


def _reject_uncarried(pdu: SSCOPPdu) -> None:
    for name in _NOT_CARRIED[pdu.type]:
        value = getattr(pdu, name)
        if value:
            raise SSCOPFieldError(f"{pdu.type.name}.{name}", value,
                                  f"0: a {pdu.type.name} PDU does not carry {name} (Q.2110 7.2)")


# ---- decoding ------------------------------------------------------------------------------------


def decode_general(data: bytes | bytearray | memoryview, *, offset: int = 0,
                   limits: SSCOPLimits = DEFAULT_LIMITS) -> SSCOPPdu:
    """:func:`decode_pdu` without its SD fast path: the definition the fast path is tested against."""
    decoded = fastcodec.decode(data, offset=offset, limits=limits)
    f = decoded.fields
    get = f.get
    return _pdu(decoded.type, get("n_s", 0), get("n_r", 0), get("n_mr", 0), get("n_sq", 0),
                get("n_ps", 0), get("s", 0), tuple(get("list_", ())), decoded.payload)


def decode_pdu(data: bytes | bytearray | memoryview, *, offset: int = 0,
               limits: SSCOPLimits = DEFAULT_LIMITS) -> SSCOPPdu:
    """The neutral PDU of ``data``, checked as a Q.2110 receiver checks it (``layout.frame_pdu``);
    raises :class:`SSCOPDecodeError` (offsets plus ``offset``) for a PDU a receiver discards."""
    if data.__class__ is not bytes:
        data = bytes(data)
    n = len(data)
    if n >= 4 and not n & 3 and data[n - 4] & 0x0F == _SD_CODE:
        last = int.from_bytes(data[n - 4:], "big")
        octets = n - 4 - (last >> 30)
        if 0 <= octets <= limits.k:
            # SD (Q.2110 7.2): data | pad (PL octets) | [PL | rsvd | 8 | N(S)]; no other words.
            return _pdu(_SD, last & 0xFFFFFF, 0, 0, 0, 0, 0, (), data[:octets])
    return decode_general(data, offset=offset, limits=limits)


__all__ = ["CARRIED", "FROM_WIRE", "TO_WIRE", "decode_general", "decode_pdu", "encode_pdu", "limits_for"]
