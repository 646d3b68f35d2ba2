"""The switch's configuration: its ports, the line rate of each, the address plan (which called party
numbers each port serves) and the VPI/VCI ranges the control plane allocates from on each port.

Addresses (Q.2931 4.5.11, called party number):

* ATM end system addresses (AESA, numbering plan "ISO NSAP", 20 octets: AFI 0x39 DCC, 0x47 ICD, 0x45
  E.164) are routed on bit prefixes. The ATM Forum's ILMI address registration gives each UNI a 13-octet
  (104-bit) network prefix, to which the end system adds its 6-octet ESI and 1-octet selector; a port's
  prefix here may be any length from 0 to 160 bits, and the longest one that matches wins.
* E.164 numbers (numbering plan E.164, IA5 digits) are routed on digit prefixes the same way.

The switch's *numbering domain* is the set of prefixes it is authoritative for: a called number inside
it that no port serves is "unallocated" (cause 1), a number outside it is one the switch has "no route"
to (cause 3); see :mod:`firmware.switch.routing`.

VPI/VCI ranges: on a UNI the VPI has 8 bits (I.361 2.2.3); VCI 0..31 are reserved on every VP (I.361
2.2.3: 0..15 by ITU-T, 16..31 by the ATM Forum: signalling 5, ILMI 16...), so user connections get
VCIs from 32. Without a VP multiplexer the VPCI of the Connection identifier IE is the VPI itself
(Q.2931 4.5.16), which is how the control plane uses it.

``SwitchConfig.uniform(16)`` builds the usual test plan: port i serves the 104-bit prefix
``39.840f.80.113744.0000.0000.<i as 4 hex digits>`` under the 88-bit domain ``39.840f.80.113744.0000.0000``.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field

from firmware.switch.errors import SwitchConfigError
from firmware.uni.machines.timers import DEFAULT_TIMERS, Timers
from hw.rates import LineRate
from hw.rates import rate as line_rate

AESA_BITS = 160
AESA_OCTETS = 20
#: Longest E.164 number (ITU-T E.164: 15 digits).
E164_DIGITS = 15
#: UNI cell header limits (I.361): 8-bit VPI, 16-bit VCI; VCI 0..31 reserved.
UNI_MAX_VPI = 0xFF
MAX_VCI = 0xFFFF
FIRST_USER_VCI = 32
#: ILMI network prefix length (ATM Forum ILMI address registration): 13 octets.
NETWORK_PREFIX_BITS = 104
DEFAULT_DOMAIN = "39.840f.80.113744.0000.0000"

AESA = "aesa"
E164 = "e164"


@dataclass(frozen=True)
class AddressPrefix:
    """A routing prefix: ``bits`` leading bits of an AESA (``value`` holds them as the high bits of a
    160-bit integer, the rest zero), or the leading digits of an E.164 number (``digits``)."""

    plan: str
    bits: int = 0
    value: int = 0
    digits: str = ""

    def __post_init__(self) -> None:
        if self.plan == AESA:
            if not 0 <= self.bits <= AESA_BITS:
                raise SwitchConfigError("prefix bits", self.bits, f"0..{AESA_BITS}")
            if self.value >> AESA_BITS or self.value & ((1 << (AESA_BITS - self.bits)) - 1):
                raise SwitchConfigError("prefix value", hex(self.value), f"only the top {self.bits} bits set")
        elif self.plan == E164:
            if not (self.digits.isdigit() or self.digits == "") or len(self.digits) > E164_DIGITS:
                raise SwitchConfigError("e164 prefix", self.digits, f"0..{E164_DIGITS} decimal digits")
        else:
            raise SwitchConfigError("prefix plan", self.plan, f"{AESA!r} or {E164!r}")

    @classmethod
    def parse(cls, text: str | bytes | AddressPrefix) -> AddressPrefix:
        """``"39.840f.80.113744.0000.0000.0001"`` (hex digits, separators . : space; 4 bits a digit),
        ``"39840f/20"`` (explicit bit length), ``"+1555010"`` or ``"e164:1555010"`` (E.164 digits), or
        the octets of an AESA prefix."""
        if isinstance(text, AddressPrefix):
            return text
        if isinstance(text, (bytes, bytearray)):
            if len(text) > AESA_OCTETS:
                raise SwitchConfigError("prefix", bytes(text), f"at most {AESA_OCTETS} octets")
            return cls.aesa(bytes(text), 8 * len(text))
        if not isinstance(text, str):
            raise SwitchConfigError("prefix", text, "a string or bytes")
        t = text.strip()
        if t.startswith("+") or t.lower().startswith("e164:"):
            return cls(E164, digits=t[1:] if t.startswith("+") else t[5:])
        body, _, length = t.partition("/")
        hexd = body.translate({ord(c): None for c in ".: "})
        if any(c not in string.hexdigits for c in hexd) or len(hexd) > 2 * AESA_OCTETS:
            raise SwitchConfigError("prefix", text, "hex digits of an AESA prefix (up to 40), or +digits for E.164")
        bits = 4 * len(hexd)
        if length:
            if not length.isdigit() or int(length) > bits:
                raise SwitchConfigError("prefix length", length, f"a bit count 0..{bits} (the digits given)")
            bits = int(length)
        value = int(hexd, 16) << (AESA_BITS - 4 * len(hexd)) if hexd else 0
        value &= ~((1 << (AESA_BITS - bits)) - 1) & ((1 << AESA_BITS) - 1)
        return cls(AESA, bits=bits, value=value)

    @classmethod
    def aesa(cls, octets: bytes, bits: int | None = None) -> AddressPrefix:
        bits = 8 * len(octets) if bits is None else bits
        value = int.from_bytes(octets.ljust(AESA_OCTETS, b"\0"), "big") if octets else 0
        value &= ~((1 << (AESA_BITS - bits)) - 1) & ((1 << AESA_BITS) - 1)
        return cls(AESA, bits=bits, value=value)

    def matches_aesa(self, address: int) -> bool:
        return self.plan == AESA and (address >> (AESA_BITS - self.bits)) == (self.value >> (AESA_BITS - self.bits))

    def matches_e164(self, digits: str) -> bool:
        return self.plan == E164 and digits.startswith(self.digits)

    @property
    def length(self) -> int:
        """Bits (AESA) or digits (E.164): what "longest prefix" compares."""
        return self.bits if self.plan == AESA else len(self.digits)

    def __str__(self) -> str:
        if self.plan == E164:
            return "+" + self.digits
        nibbles = (self.bits + 3) // 4
        hexd = f"{self.value:040x}"[:nibbles] if nibbles else ""
        return (hexd or "-") + ("" if self.bits % 4 == 0 else f"/{self.bits}")


@dataclass(frozen=True)
class PortConfig:
    """One line port of the switch. ``utilisation`` is the fraction of the line's cell rate that
    connection admission control may commit (1.0: all of it)."""

    index: int
    rate: LineRate = field(default_factory=lambda: line_rate("OC-3c"))
    prefixes: tuple[AddressPrefix, ...] = ()
    vpi_range: tuple[int, int] = (0, 0)
    vci_range: tuple[int, int] = (FIRST_USER_VCI, 1023)
    utilisation: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "rate", line_rate(self.rate))
        object.__setattr__(self, "prefixes", tuple(AddressPrefix.parse(p) for p in self.prefixes))
        if not isinstance(self.index, int) or self.index < 0:
            raise SwitchConfigError("port index", self.index, "an integer >= 0")
        lo, hi = self.vpi_range
        if not (isinstance(lo, int) and isinstance(hi, int) and 0 <= lo <= hi <= UNI_MAX_VPI):
            raise SwitchConfigError(f"port {self.index} vpi_range", self.vpi_range,
                                    f"lo <= hi within 0..{UNI_MAX_VPI} (I.361 UNI)")
        lo, hi = self.vci_range
        if not (isinstance(lo, int) and isinstance(hi, int) and FIRST_USER_VCI <= lo <= hi <= MAX_VCI):
            raise SwitchConfigError(f"port {self.index} vci_range", self.vci_range,
                                    f"lo <= hi within {FIRST_USER_VCI}..{MAX_VCI} (VCI 0..31 reserved, I.361 2.2.3)")
        if not (isinstance(self.utilisation, (int, float)) and 0 < self.utilisation <= 1):
            raise SwitchConfigError(f"port {self.index} utilisation", self.utilisation, "a fraction in (0, 1]")

    @property
    def capacity(self) -> int:
        """Cells per second CAC may commit in each direction of this port."""
        return int(self.rate.cells_per_second * self.utilisation)

    @property
    def vc_count(self) -> int:
        return (self.vpi_range[1] - self.vpi_range[0] + 1) * (self.vci_range[1] - self.vci_range[0] + 1)


@dataclass(frozen=True)
class SwitchConfig:
    """Ports (index i at position i), the numbering domain, and the network-side timers (Q.2931 /
    Q.2971 durations). ``reserve_best_effort``: also commit the peak cell rate of best-effort (UBR)
    connections; by default UBR is admitted without a reservation (no rate is guaranteed to it), but
    its peak cell rate must still fit the line."""

    ports: tuple[PortConfig, ...]
    domain: tuple[AddressPrefix, ...] = ()
    timers: Timers = DEFAULT_TIMERS
    reserve_best_effort: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "ports", tuple(self.ports))
        object.__setattr__(self, "domain", tuple(AddressPrefix.parse(p) for p in self.domain))
        if not self.ports:
            raise SwitchConfigError("ports", self.ports, "at least one port")
        for i, p in enumerate(self.ports):
            if not isinstance(p, PortConfig) or p.index != i:
                raise SwitchConfigError(f"ports[{i}]", getattr(p, "index", p), f"a PortConfig with index {i}")
        seen: dict[tuple, int] = {}
        for p in self.ports:
            for pre in p.prefixes:
                key = (pre.plan, pre.bits, pre.value, pre.digits)
                if key in seen and seen[key] != p.index:
                    raise SwitchConfigError(f"port {p.index} prefix", str(pre),
                                            f"a prefix not already on port {seen[key]}")
                seen[key] = p.index
        if not isinstance(self.timers, Timers):
            raise SwitchConfigError("timers", self.timers, "a firmware.uni.machines.Timers")

    @property
    def port_count(self) -> int:
        return len(self.ports)

    def port(self, index: int) -> PortConfig:
        if not isinstance(index, int) or not 0 <= index < len(self.ports):
            raise SwitchConfigError("port", index, f"0..{len(self.ports) - 1}")
        return self.ports[index]

    @classmethod
    def uniform(cls, ports: int = 16, *, rate: str | LineRate = "OC-3c", domain: str = DEFAULT_DOMAIN,
                e164: str | None = None, vpi_range: tuple[int, int] = (0, 0),
                vci_range: tuple[int, int] = (FIRST_USER_VCI, 1023), timers: Timers = DEFAULT_TIMERS,
                utilisation: float = 1.0, reserve_best_effort: bool = False) -> SwitchConfig:
        """``ports`` alike ports: port i serves ``domain`` + i as 16 bits (a 104-bit network prefix
        under the usual 88-bit domain), and with ``e164`` the E.164 numbers starting ``e164`` + i as
        two digits; the domain is the AESA prefix plus the E.164 base."""
        if not isinstance(ports, int) or ports < 1:
            raise SwitchConfigError("ports", ports, "an integer >= 1")
        base = AddressPrefix.parse(domain)
        if base.plan != AESA or base.bits % 8 or base.bits + 16 > AESA_BITS:
            raise SwitchConfigError("domain", domain, "an AESA prefix of whole octets, at most 144 bits")
        out = []
        for i in range(ports):
            own = AddressPrefix(AESA, bits=base.bits + 16, value=base.value | (i << (AESA_BITS - base.bits - 16)))
            prefixes: tuple[AddressPrefix, ...] = (own,)
            if e164 is not None:
                prefixes += (AddressPrefix(E164, digits=f"{e164}{i:02d}"),)
            out.append(PortConfig(i, rate, prefixes, vpi_range, vci_range, utilisation))
        dom: tuple[AddressPrefix, ...] = (base,) + (() if e164 is None else (AddressPrefix(E164, digits=e164),))
        return cls(tuple(out), dom, timers, reserve_best_effort)

    def aesa_of(self, port: int, esi: int = 1, sel: int = 0) -> bytes:
        """A full 20-octet AESA on ``port``: its first AESA prefix (whole octets) followed by a 6-octet
        end system identifier and a selector (the ILMI layout: prefix + ESI + SEL)."""
        for pre in self.port(port).prefixes:
            if pre.plan == AESA and pre.bits % 8 == 0:
                head = pre.value.to_bytes(AESA_OCTETS, "big")[: pre.bits // 8]
                room = AESA_OCTETS - len(head)
                tail = (esi.to_bytes(6, "big") + bytes([sel]))[-room:] if room else b""
                return head + tail.rjust(room, b"\0")
        raise SwitchConfigError("port", port, "a port with an AESA prefix of whole octets")
