"""Routing of a called party number to a port: longest-prefix match over the address plan.

An AESA (numbering plan ISO NSAP, Q.2931 4.5.11) is matched on bits against every AESA prefix of every
port; an E.164 number on digits against the E.164 prefixes. The longest matching prefix names the port
(as a PNNI or IISP switch does with its reachable-address table). When none matches, the cause says
why (Q.850 normal-class causes, used by Q.2931 as the network's answer to the calling user):

* the number is inside the switch's own numbering domain but no port is assigned to it: cause 1,
  "unallocated (unassigned) number";
* it is outside every prefix the switch knows: cause 3, "no route to destination";
* it is in a numbering plan the switch does not route, or an E.164 "number" with non-digits: cause 28,
  "invalid number format (address incomplete)".

Lookup cost: one dictionary probe per distinct prefix length (at most 161 for AESAs), longest first.
"""

from __future__ import annotations

from collections import Counter

from firmware.switch.config import AESA, AESA_BITS, AESA_OCTETS, E164_DIGITS, AddressPrefix, SwitchConfig
from firmware.switch.errors import RoutingError
from firmware.uni.constants import NumberingPlan
from firmware.uni.fastcodec import FastIE

CAUSE_UNALLOCATED_NUMBER = 1
CAUSE_NO_ROUTE_TO_DESTINATION = 3
CAUSE_INVALID_NUMBER_FORMAT = 28
UNASSIGNED = "inside the switch's numbering domain, assigned to no port"


def format_aesa(address: bytes) -> str:
    """The usual dotted text of a 20-octet AESA (DCC/ICD layout: 2.4.2.6.4.4.4.12.2 hex digits)."""
    h = address.hex()
    return f"{h[:2]}.{h[2:6]}.{h[6:8]}.{h[8:14]}.{h[14:18]}.{h[18:22]}.{h[22:26]}.{h[26:38]}.{h[38:40]}"


class Router:
    """Longest-prefix match of called party numbers over the ports of a :class:`SwitchConfig`."""

    def __init__(self, config: SwitchConfig) -> None:
        self.config = config
        self._aesa: dict[int, dict[int, int]] = {}
        self._e164: dict[int, dict[str, int]] = {}
        for port in config.ports:
            for pre in port.prefixes:
                if pre.plan == AESA:
                    self._aesa.setdefault(pre.bits, {})[pre.value >> (AESA_BITS - pre.bits)] = port.index
                else:
                    self._e164.setdefault(len(pre.digits), {})[pre.digits] = port.index
        self._aesa_lengths = sorted(self._aesa, reverse=True)
        self._e164_lengths = sorted(self._e164, reverse=True)
        self.domain: tuple[AddressPrefix, ...] = config.domain
        self.routed: Counter[int] = Counter()      # port -> numbers routed there
        self.refused: Counter[int] = Counter()     # cause -> numbers refused

    # ---- lookups
    def lookup_aesa(self, address: bytes) -> int:
        """The port serving a 20-octet AESA, or :class:`RoutingError` (cause 1 or 3)."""
        if not isinstance(address, (bytes, bytearray)) or len(address) != AESA_OCTETS:
            return self._refuse(CAUSE_INVALID_NUMBER_FORMAT, repr(address), f"an AESA is {AESA_OCTETS} octets")
        value = int.from_bytes(address, "big")
        for bits in self._aesa_lengths:
            port = self._aesa[bits].get(value >> (AESA_BITS - bits))
            if port is not None:
                self.routed[port] += 1
                return port
        text = format_aesa(bytes(address))
        if any(p.matches_aesa(value) for p in self.domain):
            return self._refuse(CAUSE_UNALLOCATED_NUMBER, text, UNASSIGNED)
        return self._refuse(CAUSE_NO_ROUTE_TO_DESTINATION, text, "outside every prefix of the address plan")

    def lookup_e164(self, digits: str) -> int:
        """The port serving an E.164 number (digits, an optional leading "+"), or :class:`RoutingError`."""
        d = digits[1:] if isinstance(digits, str) and digits.startswith("+") else digits
        if not isinstance(d, str) or not d.isdigit() or not d.isascii() or len(d) > E164_DIGITS:
            return self._refuse(CAUSE_INVALID_NUMBER_FORMAT, repr(digits), f"1..{E164_DIGITS} decimal digits (E.164)")
        for length in self._e164_lengths:
            if length <= len(d):
                port = self._e164[length].get(d[:length])
                if port is not None:
                    self.routed[port] += 1
                    return port
        if any(p.matches_e164(d) for p in self.domain):
            return self._refuse(CAUSE_UNALLOCATED_NUMBER, "+" + d, UNASSIGNED)
        return self._refuse(CAUSE_NO_ROUTE_TO_DESTINATION, "+" + d, "outside every prefix of the address plan")

    def route(self, number) -> int:
        """The port for a called party number: a Called party number element (fast-codec or scapy, or
        anything with ``numbering_plan`` and ``address``), a 20-octet AESA, or E.164 digits as text."""
        if isinstance(number, (bytes, bytearray)):
            return self.lookup_aesa(bytes(number))
        if isinstance(number, str):
            return self.lookup_e164(number)
        if number is None:
            return self._refuse(CAUSE_INVALID_NUMBER_FORMAT, "(none)", "no called party number")
        fields = number[3] if number.__class__ is FastIE else number   # a fast element's record, or scapy's
        plan = getattr(fields, "numbering_plan", None)
        address = bytes(getattr(fields, "address", b"") or b"")
        if plan == NumberingPlan.NSAP:
            return self.lookup_aesa(address)
        if plan == NumberingPlan.E164:
            return self.lookup_e164(address.decode("latin-1"))
        return self._refuse(CAUSE_INVALID_NUMBER_FORMAT, address.hex() or "(empty)",
                            f"numbering plan {plan} is not routed (ISO NSAP and E.164 are)")

    def _refuse(self, cause: int, number: str, reason: str) -> int:
        self.refused[cause] += 1
        raise RoutingError(cause, number, reason)


__all__ = ["CAUSE_INVALID_NUMBER_FORMAT", "CAUSE_NO_ROUTE_TO_DESTINATION", "CAUSE_UNALLOCATED_NUMBER", "Router",
           "format_aesa"]
