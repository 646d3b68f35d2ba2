"""The typed model of a scenario: what `atmemu run SCENARIO.toml` runs.

Frozen dataclasses, sequences as tuples, so two scenarios compare equal when they say the same thing
(``loads(dump(s)) == s``). :mod:`tools.scenario.load` builds them from TOML and checks every value and
every cross-reference; a Scenario built by hand is checked the same way by ``tools.scenario.check``.

Naming: a leaf is named by the port it sits on (``leaf = 3`` in the script, ``leaf3`` in faults), at most
one leaf per port, never on the root's port. Times in the script and in faults are milliseconds of
virtual time from the start of the run (``_ms``, ``_us``); timers are seconds.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Union

from hw.rates import LineRate
from hw.rates import rate as line_rate
from tools.scenario.errors import OutOfRangeError, WrongTypeError

# ---- the choices of the format ----------------------------------------------------------------------

#: Line rates (hw.rates): canonical names; aliases such as "oc3" or "STM-1" are accepted on load.
LINE_RATES = ("OC-3c", "OC-12c", "OC-48c", "OC-192c")
#: Queueing architecture of the fabric's data path (hw.fabric.config.Arch labels, switch-models.md).
ARCHITECTURES = ("oq", "iq-fifo", "voq-islip", "voq-pim")
#: Background traffic models (hw.fabric.traffic.KINDS), or none.
TRAFFIC_MODELS = ("none", "uniform", "hotspot", "bursty", "aal5", "cbr")
#: What a leaf does when the switch offers it the call (a SETUP on its port).
ACCEPT = "accept"  # CONNECT at once
ALERT_THEN_ACCEPT = "alert-then-accept"  # ALERTING, then CONNECT after alert_delay_ms
REJECT = "reject"  # RELEASE COMPLETE with `cause`: the root gets ADD PARTY REJECT (or the call fails)
SILENT = "silent"  # never answers: the root's T399 (T303/T310 for the first party) expires
DROP_AFTER = "drop-after"  # accepts, then sends RELEASE by itself after_ms after accepting
BEHAVIOURS = (ACCEPT, ALERT_THEN_ACCEPT, REJECT, SILENT, DROP_AFTER)
#: Link selectors of faults besides "leafN" (N the port of a leaf): every signalling channel (VPI 0 /
#: VCI 5 of every link), every data VC of every link, the root's link.
LINK_KINDS = ("signalling", "data", "root")
#: UNI timers that a scenario may override (Q.2931 5.x / Q.2971 Annex; seconds). T399 is the root's
#: (user side) ADD PARTY timer.
UNI_TIMERS = ("T303", "T308", "T310", "T313", "T322", "T397", "T398", "T399")
#: Their defaults (firmware.uni.machines.timers.Timers; T399 = T399_user).
UNI_TIMER_DEFAULTS = {"T303": 4.0, "T308": 30.0, "T310": 10.0, "T313": 4.0, "T322": 4.0,
                      "T397": 180.0, "T398": 4.0, "T399": 34.0}
#: SSCOP timers (Q.2110 7.6; seconds) and their defaults (firmware.sscop.machine.SSCOPParams).
SSCOP_TIMERS = ("cc", "poll", "no_response", "keep_alive", "idle")
SSCOP_TIMER_DEFAULTS = {"cc": 1.0, "poll": 0.75, "no_response": 7.0, "keep_alive": 2.0, "idle": 15.0}

#: Limits.
MIN_PORTS, MAX_PORTS = 2, 256  # hw.fabric.config.MAX_PORTS
MAX_BUFFER_CELLS = (1 << 24) - 1  # hw.fabric.config.FabricConfig.buffers
AESA_OCTETS = 20  # an ATM end system address (Q.2931 4.5.11, NSAP format)
E164_DIGITS = 15  # ITU-T E.164
MAX_PCR = (1 << 24) - 1  # cell rates in the ATM traffic descriptor are 24 bits (Q.2931 4.5.6)
MAX_SDU = 65535  # AAL5 maximum CPCS-SDU size, 16 bits (Q.2931 4.5.5, I.363.5)
DEFAULT_SDU = 9188  # the classical IP over ATM MTU (RFC 2225), the NDIS default
MAX_VPI, MAX_VCI = 255, 65535  # UNI cell header (I.361)
DEFAULT_DOMAIN = "39.840f.80.113744.0000.0000"  # firmware.switch.config.DEFAULT_DOMAIN
#: The NSAP (DCC/ICD format) fields an AESA is printed in: AFI, IDI, DFI, AA, RSVD, RD, AREA, ESI, SEL.
AESA_GROUPS = (1, 2, 1, 3, 2, 2, 2, 6, 1)


# ---- addresses ---------------------------------------------------------------------------------------

AESA = "aesa"
E164 = "e164"


@dataclass(frozen=True)
class Address:
    """An ATM end system address or prefix (``plan`` "aesa": ``octets``, 1..20) or an E.164 number
    or prefix (``plan`` "e164": ``digits``, 1..15). Written ``39.840f.80.113744`` (hex, dots anywhere,
    whole octets) or ``+4930123`` (E.164)."""

    plan: str
    octets: bytes = b""
    digits: str = ""

    @classmethod
    def parse(cls, text: object, path: str, *, full: bool = False) -> Address:
        """Read ``text``; ``full``: a whole address (an AESA of exactly 20 octets) rather than a prefix.
        Errors name ``path``."""
        if isinstance(text, Address):
            return text
        what = ("an address: 20 octets of AESA in hex (dots allowed) or '+' and 1..15 E.164 digits" if full
                else "an address prefix: 1..20 octets of AESA in hex (dots allowed) or '+' and 1..15 E.164 digits")
        if not isinstance(text, str):
            raise WrongTypeError(path, text, what)
        t = text.strip()
        if t.startswith("+"):
            digits = t[1:]
            if not (digits.isascii() and digits.isdigit()) or not 1 <= len(digits) <= E164_DIGITS:
                raise OutOfRangeError(path, text, f"'+' and 1..{E164_DIGITS} decimal digits (E.164)")
            return cls(E164, digits=digits)
        hexd = t.replace(".", "")
        if not hexd or any(c not in string.hexdigits for c in hexd):
            raise OutOfRangeError(path, text, what)
        if len(hexd) % 2:
            raise OutOfRangeError(path, text, f"whole octets, an even number of hex digits (got {len(hexd)})")
        octets = bytes.fromhex(hexd)
        if full and len(octets) != AESA_OCTETS:
            raise OutOfRangeError(path, text, f"a whole AESA of {AESA_OCTETS} octets (got {len(octets)}); "
                                              "or leave it out to number it from the port's prefix")
        if len(octets) > AESA_OCTETS:
            raise OutOfRangeError(path, text, f"at most {AESA_OCTETS} octets (got {len(octets)})")
        return cls(AESA, octets=octets)

    @property
    def length(self) -> int:
        """Octets (AESA) or digits (E.164): what the longest-prefix match compares."""
        return len(self.octets) if self.plan == AESA else len(self.digits)

    def is_prefix_of(self, other: Address) -> bool:
        if self.plan != other.plan:
            return False
        if self.plan == AESA:
            return other.octets.startswith(self.octets)
        return other.digits.startswith(self.digits)

    def __str__(self) -> str:
        if self.plan == E164:
            return "+" + self.digits
        groups, rest = [], self.octets
        for size in AESA_GROUPS:
            if not rest:
                break
            groups.append(rest[:size].hex())
            rest = rest[size:]
        return ".".join(groups)


@dataclass(frozen=True)
class PortAddresses:
    """The prefixes one port serves: a called number under one of them is routed to ``port``."""

    port: int
    prefixes: tuple[Address, ...]


@dataclass(frozen=True)
class AddressPlan:
    """The switch's address plan. ``domain``: the prefixes it is authoritative for (a number inside
    them that no port serves is unallocated, cause 1; outside, no route, cause 3); ``ports``: what each
    port serves (a port not listed serves nothing). The longest matching prefix wins."""

    domain: tuple[Address, ...] = ()
    ports: tuple[PortAddresses, ...] = ()

    def prefixes_of(self, port: int) -> tuple[Address, ...]:
        return tuple(p for entry in self.ports if entry.port == port for p in entry.prefixes)

    def port_of(self, address: Address) -> int | None:
        """The port a called ``address`` is routed to (longest prefix), or None."""
        best: tuple[int, int] | None = None
        for entry in self.ports:
            for prefix in entry.prefixes:
                if prefix.is_prefix_of(address) and (best is None or prefix.length > best[0]):
                    best = (prefix.length, entry.port)
        return None if best is None else best[1]

    def host_address(self, port: int, esi: int = 1, sel: int = 0) -> Address | None:
        """The address of an end system on ``port`` when the scenario gives none: the port's first
        prefix, then (AESA) zeros, the 6-octet end system identifier ``esi`` and the selector, as ILMI
        address registration builds one (prefix + ESI + SEL); an E.164 prefix is the number itself."""
        prefixes = self.prefixes_of(port)
        if not prefixes:
            return None
        first = prefixes[0]
        if first.plan == E164:
            return first
        room = AESA_OCTETS - len(first.octets)
        tail = (esi.to_bytes(6, "big") + bytes([sel]))[-room:] if room else b""
        return Address(AESA, octets=first.octets + tail.rjust(room, b"\0"))


def uniform_plan(ports: int, domain: Address) -> AddressPlan:
    """Port i serves ``domain`` followed by i as two octets (firmware.switch.config.SwitchConfig.uniform:
    13-octet ILMI network prefixes under the usual 11-octet domain)."""
    return AddressPlan((domain,), tuple(
        PortAddresses(i, (Address(AESA, octets=domain.octets + i.to_bytes(2, "big")),)) for i in range(ports)))


# ---- sections ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Topology:
    """The switch: ``ports`` line ports (0..ports-1) all at ``line_rate``; ``architecture`` queues its
    data path; ``buffer_cells`` of shared cell memory."""

    ports: int = 16
    line_rate: str = "OC-3c"
    architecture: str = "oq"
    buffer_cells: int = 4096

    @property
    def rate(self) -> LineRate:
        return line_rate(self.line_rate)


@dataclass(frozen=True)
class Root:
    """The root: the client and the MCM on an emulated adapter, on ``port``. ``address``: its own
    (calling) address; None numbers it from the port's prefix (AddressPlan.host_address)."""

    port: int = 0
    address: Address | None = None


@dataclass(frozen=True)
class Leaf:
    """A leaf endpoint on ``port`` and what it does when called. Each parameter is set exactly when its
    behaviour uses it: ``alert_delay_ms`` (alert-then-accept: from ALERTING to CONNECT), ``cause``
    (reject: Q.850/Q.2610 cause 1..127 of its RELEASE COMPLETE), ``after_ms`` (drop-after: from its
    CONNECT to its RELEASE). ``address``: the number the root calls; None numbers it from the port."""

    port: int
    behaviour: str = ACCEPT
    alert_delay_ms: float | None = None
    cause: int | None = None
    after_ms: float | None = None
    address: Address | None = None


# ---- the script ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MakeCall:
    """NdisClMakeCall: a point-to-multipoint call whose first party is ``leaf``, with a peak cell rate
    of ``pcr`` cells/s (forward; the backward direction of a point-to-multipoint VC carries nothing)
    and an AAL5 maximum CPCS-SDU size of ``aal5_max_sdu`` octets."""

    KEY = "make_call"
    leaf: int
    pcr: int
    aal5_max_sdu: int = DEFAULT_SDU


@dataclass(frozen=True)
class AddParty:
    """NdisClAddParty: add ``leaf`` to the open call (ADD PARTY)."""

    KEY = "add_party"
    leaf: int


@dataclass(frozen=True)
class DropParty:
    """NdisClDropParty: drop ``leaf`` from the open call (DROP PARTY)."""

    KEY = "drop_party"
    leaf: int


@dataclass(frozen=True)
class Wait:
    """Let ``ms`` milliseconds of virtual time pass."""

    KEY = "wait_ms"
    ms: float


@dataclass(frozen=True)
class SendFrames:
    """Send ``count`` AAL5 frames of ``size`` octets on the call's VC, one every ``spacing_us``
    microseconds (0: back to back, as fast as the peak cell rate allows). The step ends when the
    last frame has been handed to the adapter."""

    KEY = "send_frames"
    count: int
    size: int
    spacing_us: float = 0


@dataclass(frozen=True)
class CloseCall:
    """NdisClCloseCall: release the call with every party left."""

    KEY = "close_call"


Step = Union[MakeCall, AddParty, DropParty, Wait, SendFrames, CloseCall]
STEP_TYPES: tuple[type, ...] = (MakeCall, AddParty, DropParty, Wait, SendFrames, CloseCall)
STEP_KEYS = tuple(t.KEY for t in STEP_TYPES)


# ---- traffic, faults, timers, capture ----------------------------------------------------------------


@dataclass(frozen=True)
class Traffic:
    """Background data through the fabric (hw.fabric.traffic): ``model`` ("none": no background
    traffic) and ``load``, cells per input port per cell slot, 0..1."""

    model: str = "none"
    load: float = 0.0


@dataclass(frozen=True)
class LossBurst:
    """``cells`` consecutive cells lost on the link from ``at_ms`` on."""

    at_ms: float
    cells: int


@dataclass(frozen=True)
class DownWindow:
    """The link goes down at ``down_ms`` and comes back up at ``up_ms`` (None: stays down)."""

    down_ms: float
    up_ms: float | None = None


@dataclass(frozen=True)
class LinkFault:
    """Impairments of ``link``: "signalling" (every signalling channel), "data" (every data VC),
    "root", or "leafN" (the link of the leaf on port N); both directions. ``ber``: bit error ratio;
    ``cell_loss``: probability that a cell is lost; ``bursts``: losses at given times; ``down``:
    windows when the link is down."""

    link: str
    ber: float = 0.0
    cell_loss: float = 0.0
    bursts: tuple[LossBurst, ...] = ()
    down: tuple[DownWindow, ...] = ()


@dataclass(frozen=True)
class SscopTimers:
    """SSCOP timer overrides (Q.2110 7.6), seconds; None keeps the default (SSCOP_TIMER_DEFAULTS)."""

    cc: float | None = None
    poll: float | None = None
    no_response: float | None = None
    keep_alive: float | None = None
    idle: float | None = None


@dataclass(frozen=True)
class Timers:
    """UNI timer overrides, seconds; None keeps the default (UNI_TIMER_DEFAULTS). They apply to both
    sides of every interface, except T399: the root's (user side) ADD PARTY timer."""

    T303: float | None = None
    T308: float | None = None
    T310: float | None = None
    T313: float | None = None
    T322: float | None = None
    T397: float | None = None
    T398: float | None = None
    T399: float | None = None
    sscop: SscopTimers = field(default_factory=SscopTimers)

    def uni(self, name: str) -> float:
        """The value of UNI timer ``name`` in effect (the override or the default)."""
        value = getattr(self, name)
        return UNI_TIMER_DEFAULTS[name] if value is None else value

    def sscop_value(self, name: str) -> float:
        value = getattr(self.sscop, name)
        return SSCOP_TIMER_DEFAULTS[name] if value is None else value


@dataclass(frozen=True)
class Capture:
    """What the run records: ``signalling`` frames, data ``cells`` (only the VCs of ``vcs``, given as
    (VPI, VCI); empty: every VC), at most ``max_cells`` cells; ``pcap``: also export classic pcap
    beside the pcapng."""

    signalling: bool = True
    cells: bool = False
    vcs: tuple[tuple[int, int], ...] = ()
    max_cells: int = 1_000_000
    pcap: bool = False


# ---- the scenario ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str = ""
    topology: Topology = field(default_factory=Topology)
    addresses: AddressPlan = field(default_factory=AddressPlan)
    root: Root = field(default_factory=Root)
    leaves: tuple[Leaf, ...] = ()
    script: tuple[Step, ...] = ()
    traffic: Traffic = field(default_factory=Traffic)
    faults: tuple[LinkFault, ...] = ()
    timers: Timers = field(default_factory=Timers)
    capture: Capture = field(default_factory=Capture)
    seed: int = 1  # of every random choice of the run (bit errors, cell loss, background traffic)

    @property
    def leaf_ports(self) -> tuple[int, ...]:
        return tuple(leaf.port for leaf in self.leaves)

    def leaf(self, port: int) -> Leaf:
        """The leaf on ``port`` (KeyError if there is none)."""
        for leaf in self.leaves:
            if leaf.port == port:
                return leaf
        raise KeyError(port)

    @property
    def root_address(self) -> Address | None:
        """The root's own address: given, or numbered from its port's first prefix."""
        return self.root.address or self.addresses.host_address(self.root.port)

    def leaf_address(self, port: int) -> Address | None:
        """The address the root calls to reach the leaf on ``port``."""
        return self.leaf(port).address or self.addresses.host_address(port)

    @property
    def link_names(self) -> tuple[str, ...]:
        """The names ``faults`` may use for links."""
        return LINK_KINDS + tuple(f"leaf{p}" for p in sorted(self.leaf_ports))
