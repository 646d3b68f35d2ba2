"""Run a scenario: the network it describes, the root as a CoNDIS client over the MCM on an emulated
adapter, the client's script as NDIS calls, and what came of it.

    from tools.scenario import default_scenario
    from tools.scenario.runner import run
    result = run(default_scenario(), out_dir="atmemu-out/x")   # a RunResult
    result.ok, result.failures, result.summary()               # the verdict, the checks that failed, JSON

What is built (docs/scenario.md, "How a scenario runs"):

* a :class:`firmware.network.Network`: a :class:`~firmware.switch.node.SwitchNode` of ``topology.ports``
  ports at ``topology.line_rate`` with the scenario's address plan, fabric architecture and buffer, the
  UNI timers (both sides) and SSCOP timers (everywhere), seeded with ``seed``;
* a leaf station (:class:`firmware.endpoint.attach.LeafStation`) on each leaf's port, answering for the
  leaf's address with its behaviour (:class:`firmware.endpoint.leaf.LeafBehaviour`);
* the root on ``root.port``: an :class:`hw.adapter.Adapter` plugged into the port (``Network.attach``),
  the NDIS model (:class:`cm.ndis.dispatcher.Ndis`) with the rule checker in report mode, the MCM
  (:class:`cm.mcm.AtmMcm`, user-side T399 from the scenario) and the client
  (:class:`cm.client.CoNdisClient`), bound to the MCM;
* faults on the lines (:func:`apply_faults`), and a :class:`captures.recorder.Recorder` on every port
  when the run writes captures;
* background traffic (``[traffic]``, :mod:`tools.scenario.background`): generated inside the fabric on
  the line ports but the root's, from the first step of the script to its last.

The script: ``make_call`` is NdisClMakeCall (via ``CoNdisClient.make_call``), ``add_party``
NdisClAddParty, ``drop_party`` NdisClDropParty (the client closes the call instead when it is the last
party, as NDIS requires), ``close_call`` NdisClCloseCall (after the client dropped every party but one),
``send_frames`` hands AAL5 frames to the MCM's send handler (MiniportCoSendNetBufferLists on the call's
VC) at the spacing given, then lets the adapter transmit them, ``wait_ms`` runs the clock. A frame is
expected at every leaf whose party the client holds active when the frame is handed over.

A script step the network made impossible (an add on a call that failed) ends the script there: the
run settles and reports it as a failed check. After the script the run settles (every add answered, the call closed), the client closes its address
family and unloads, the MCM halts and unloads (the rule checker then looks for leaks and requests left
pending), and every counter is checked.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from captures.recorder import Recorder
from captures.summary import signalling_fields
from cm.client import CallPhase, ClientCall, ClientParty, CoNdisClient, PartyPhase
from cm.mcm import AdapterResources, AtmMcm, McmConfig
from cm.mcm.config import DATA_RING
from cm.ndis.cause_status import completion_status
from cm.ndis.dispatcher import Ndis, NdisCall, NdisObserver
from cm.ndis.irql import CPU
from cm.ndis.params import (ATM_ADDRESS, ATM_FLOW_PARAMETERS, ATM_MEDIA_PARAMETERS, ATM_SERVICE_CATEGORY_UBR,
                            make_call_parameters)
from cm.ndis.status import NDIS_STATUS, status_name
from cm.rules import RuleChecker
from firmware.endpoint.leaf import LeafBehaviour
from firmware.network import Network
from firmware.sscop.machine import SSCOPParams
from firmware.switch.config import PortConfig, SwitchConfig
from firmware.uni.machines.timers import Timers as UniTimers
from hw.adapter import Adapter, HostMemory
from hw.errors import AtmemuError
from hw.link import Impairments
from tools.scenario import model as m
from tools.scenario.background import Background, BackgroundReport, CallCells, call_cells

#: Host memory of the root's adapter (rings and buffers of the MCM).
HOST_MEMORY = 32 << 20
#: The longest the run waits, after the script, for every add to be answered and the call to close.
SETTLE_LIMIT_S = 120.0
#: After the MCM unloads: time for the switch to clear what it still held (RELEASE, DROP PARTY ACK...).
TAIL_S = 1.0
#: Q.2971 cause 102 (recovery on timer expiry): the root's T399 ran out.
CAUSE_TIMER_EXPIRY = 102

Progress = Callable[[int, int, str], None]  # (steps done, steps in all, what is happening)


class RunError(AtmemuError):
    """The run could not go on: the MCM did not come up, or (caught by the run, reported as a failed
    check) a script step the client cannot make in the state the network left it in (an add on a
    call that failed). `atmemu run` exits 1 on it: the scenario was read, the network said no."""


# ------------------------------------------------------------------------------------------ results
@dataclass
class PartyOutcome:
    """One party of the root's call. ``outcome``: how its add ended ("active", "rejected", "timed-out":
    the root's T399, "failed"); ``alerted``: PARTY ALERTING (or ALERTING) came first; ``ended``: how an
    active party ended ("dropped" by the client, "left" by itself: an incoming drop, "closed" with the
    call, None: still active); ``ndis_status``: the status of the add's completion (the make-call's for
    the first party); ``cause``: the network's cause of a refusal; ``add_completions``: how many
    completions the add got (exactly 1 is right)."""

    leaf: int | None
    endpoint_ref: int | None
    party: str
    outcome: str
    ndis_status: str | None
    alerted: bool = False
    ended: str | None = None
    cause: int | None = None
    add_completions: int = 0
    drop_status: str | None = None


@dataclass
class LeafFrames:
    """AAL5 frames of one leaf: ``expected`` (handed to the MCM while the leaf's party was active),
    ``received`` (good CRC), ``match`` (the same frames, octet for octet, in order), ``errors`` (frames
    the leaf's reassembler discarded, by kind)."""

    expected: int
    received: int
    match: bool
    errors: dict[str, int] = field(default_factory=dict)
    lost: int = 0  # expected frames that did not arrive intact


@dataclass
class RunResult:
    """What a scenario run gives. ``failures``: the checks that failed (empty: ok)."""

    scenario: str
    parties: list[PartyOutcome]
    calls: list[dict[str, Any]]
    cells_switched: int
    cells_switched_per_port: dict[int | str, int]  # line ports, and "control": cells to the switch's CPU
    frames_per_leaf: dict[int, LeafFrames]
    rule_violations: list[str]
    counters_balanced: bool
    counter_problems: list[str]
    captures: list[str]
    failures: list[str]
    virtual_seconds: float
    wall_seconds: float
    notes: list[str] = field(default_factory=list)
    ladder: str | None = None
    call_cells: CallCells | None = None
    background: BackgroundReport | None = None
    trace: "RunTrace | None" = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> dict[str, Any]:
        """The JSON summary (`atmemu run --json`)."""
        return {
            "scenario": self.scenario,
            "ok": self.ok,
            "failures": list(self.failures),
            "captures": list(self.captures),
            "ladder": self.ladder,
            "parties": [asdict(p) for p in self.parties],
            "calls": self.calls,
            "cells_switched": self.cells_switched,
            "cells_switched_per_port": {str(k): v for k, v in self.cells_switched_per_port.items()},
            "frames_per_leaf": {str(k): asdict(v) for k, v in self.frames_per_leaf.items()},
            "call_cells": None if self.call_cells is None else asdict(self.call_cells),
            "background": None if self.background is None else {
                **asdict(self.background), "generated": self.background.generated,
                "balanced": self.background.balanced},
            "rule_violations": list(self.rule_violations),
            "counters_balanced": self.counters_balanced,
            "counter_problems": list(self.counter_problems),
            "virtual_seconds": round(self.virtual_seconds, 6),
            "wall_seconds": round(self.wall_seconds, 3),
            "notes": list(self.notes),
        }


# ------------------------------------------------------------------------------------------ the trace
@dataclass(frozen=True)
class NdisEvent:
    """An NDIS crossing the ladder draws: a client request (``kind`` "request": the function and what
    it returned) or what the client was told (``kind`` "completion": the client's log)."""

    slot: int
    kind: str
    function: str
    target: str
    status: str
    leaf: int | None = None
    endpoint_ref: int | None = None


@dataclass(frozen=True)
class HostMessage:
    """A Q.2931 message between the MCM and the adapter (the host SSCOP's SD PDUs): ``direction`` "tx"
    (the MCM sent it) or "rx"."""

    slot: int
    direction: str
    message: str
    endpoint_ref: int | None
    causes: tuple[int, ...] = ()


@dataclass
class RunTrace:
    """What the ladder of a run is drawn from besides its capture."""

    ndis: list[NdisEvent] = field(default_factory=list)
    host: list[HostMessage] = field(default_factory=list)
    leaf_of_party: dict[str, int] = field(default_factory=dict)
    rate_cps: int = 0


class _PartyWatch(NdisObserver):
    """Watches NDIS for what the client's objects do not keep: the MCM's per-party state of each client
    party (its endpoint reference, the network's cause, whether it alerted: read at the end of the
    run), and the client's requests with what they returned, for the ladder and the capture's comments.
    Never raises (an observer that raises aborts the NDIS call)."""

    REQUESTS = ("NdisClMakeCall", "NdisClAddParty", "NdisClDropParty", "NdisClCloseCall")
    STARTS = ("ProtocolCmAddParty", "ProtocolCmMakeCall")

    def __init__(self, clock: Callable[[], int]) -> None:
        self.clock = clock
        self.mcm_party: dict[int, Any] = {}   # id(ClientParty) -> the MCM's McmParty
        self.requests: list[tuple[int, str, Any, str]] = []  # slot, function, ClientParty/ClientCall, status
        self.current: tuple[str, Any] | None = None  # the client request NDIS is inside of

    def on_call(self, call: NdisCall) -> None:
        if call.function in self.REQUESTS:
            self.current = (call.function, self._target(call))

    @staticmethod
    def _target(call: NdisCall) -> Any:
        if call.function in ("NdisClAddParty", "NdisClMakeCall"):
            return call.args.get("ProtocolPartyContext")
        target = getattr(call.args.get("NdisPartyHandle"), "ProtocolPartyContext", None)
        if call.function == "NdisClCloseCall" and target is None:
            target = getattr(call.args.get("NdisVcHandle"), "ProtocolVcContext", None)
        return target

    def on_handler_return(self, hc: Any) -> None:
        if hc.handler not in self.STARTS:
            return
        try:
            out = hc.args.get("CallMgrPartyContext")
            handle = hc.args.get("NdisPartyHandle")
            mcm_party = getattr(out, "value", None)
            client_party = getattr(handle, "ProtocolPartyContext", None)
            if mcm_party is not None and client_party is not None:
                self.mcm_party[id(client_party)] = mcm_party
        except Exception:  # noqa: BLE001 - bookkeeping only
            pass

    def epref(self, party: Any) -> int | None:
        return getattr(self.mcm_party.get(id(party)), "epref", None)

    def cause(self, party: Any) -> int | None:
        return getattr(self.mcm_party.get(id(party)), "cause", None)

    def alerted(self, party: Any) -> bool:
        return bool(getattr(self.mcm_party.get(id(party)), "alerted", False))

    def on_return(self, call: NdisCall) -> None:
        if call.function not in self.REQUESTS:
            return
        self.current = None
        try:
            self.requests.append((self.clock(), call.function, self._target(call), status_name(call.result)))
        except Exception:  # noqa: BLE001 - bookkeeping only
            pass


# ------------------------------------------------------------------------------------------ building
def uni_timers(t: m.Timers) -> UniTimers:
    """The firmware timers of a scenario: each override on both sides, T399 on the root's user side."""
    d = UniTimers()
    kw = {name: t.uni(name) for name in ("T303", "T308", "T310", "T313", "T322", "T397", "T398")}
    return UniTimers(**kw, T316=d.T316, T399_user=t.uni("T399"), T399_network=d.T399_network)


def sscop_params(t: m.Timers) -> SSCOPParams:
    return SSCOPParams(timer_cc=t.sscop_value("cc"), timer_poll=t.sscop_value("poll"),
                       timer_no_response=t.sscop_value("no_response"), timer_keep_alive=t.sscop_value("keep_alive"),
                       timer_idle=t.sscop_value("idle"))


def switch_config(s: m.Scenario, timers: UniTimers) -> SwitchConfig:
    """The switch's ports and numbering domain from the scenario's address plan (the format's prefixes
    are whole octets, or E.164 digits: firmware.switch.config.AddressPrefix reads their text)."""
    ports = tuple(PortConfig(i, s.topology.line_rate, tuple(str(p) for p in s.addresses.prefixes_of(i)))
                  for i in range(s.topology.ports))
    return SwitchConfig(ports, tuple(str(p) for p in s.addresses.domain), timers)


def leaf_behaviour(leaf: m.Leaf) -> LeafBehaviour:
    if leaf.behaviour == m.ACCEPT:
        return LeafBehaviour.accept()
    if leaf.behaviour == m.ALERT_THEN_ACCEPT:
        return LeafBehaviour.alert((leaf.alert_delay_ms if leaf.alert_delay_ms is not None else 100.0) / 1000)
    if leaf.behaviour == m.REJECT:
        return LeafBehaviour.reject(leaf.cause if leaf.cause is not None else 21)
    if leaf.behaviour == m.SILENT:
        return LeafBehaviour.silent()
    if leaf.behaviour == m.DROP_AFTER:
        return LeafBehaviour.accept(drop_after=(leaf.after_ms or 0.0) / 1000)
    raise RunError(f"leaves: behaviour {leaf.behaviour!r} has no leaf endpoint behaviour")


def ndis_address(address: m.Address) -> ATM_ADDRESS:
    return ATM_ADDRESS.e164(address.digits) if address.plan == m.E164 else ATM_ADDRESS.nsap(address.octets)


def station_address(address: m.Address) -> bytes | str:
    """The address as a leaf station keys it (firmware.endpoint.leaf.address_key forms)."""
    return "+" + address.digits if address.plan == m.E164 else address.octets


def call_parameters(called: ATM_ADDRESS, calling: ATM_ADDRESS | None, step: m.MakeCall):
    """CO_CALL_PARAMETERS of the root's point-to-multipoint call: forward peak cell rate and AAL5 maximum
    SDU in the media parameters (the MCM turns them into the traffic descriptor and AAL parameters
    IEs); nothing backward (Q.2971: a point-to-multipoint VC carries nothing toward the root)."""
    media = ATM_MEDIA_PARAMETERS(
        Transmit=ATM_FLOW_PARAMETERS(ATM_SERVICE_CATEGORY_UBR, PeakCellRate=step.pcr, MaxSduSize=step.aal5_max_sdu),
        Receive=ATM_FLOW_PARAMETERS(ATM_SERVICE_CATEGORY_UBR, MaxSduSize=step.aal5_max_sdu))
    return make_call_parameters(called, calling, multipoint=True, media=media)


def fault_links(net: Network, s: m.Scenario, selector: str) -> list[int]:
    """The line ports a fault's link name selects. A line carries the signalling channel and the data
    VCs together and hw.link impairs a whole lane, so "signalling" and "data" both select every line
    port that has a device (docs/scenario.md, "Faults")."""
    if selector == "root":
        return [s.root.port]
    if selector.startswith("leaf"):
        return [int(selector[4:])]
    return sorted([s.root.port, *s.leaf_ports])


def apply_faults(net: Network, s: m.Scenario) -> list[str]:
    """Put the scenario's faults on the lines: constant ``ber`` and ``cell_loss`` from the start, each
    burst as a loss of every cell for ``cells`` cell slots from ``at_ms``, each down window as loss of
    signal from ``down_ms`` to ``up_ms``. Returns a note per fault, saying how it was mapped."""
    notes = []
    clock = net.clock
    for fault in s.faults:
        ports = fault_links(net, s, fault.link)
        base = Impairments(ber=fault.ber, loss=fault.cell_loss)
        for p in ports:
            link = net.node.links[p]
            if not base.none:
                link.set_impairments(base)
            for burst in fault.bursts:
                start = clock.slots(burst.at_ms / 1000)
                clock.schedule_at(start, link.set_impairments, Impairments(ber=fault.ber, loss=1.0))
                clock.schedule_at(start + burst.cells, link.set_impairments, base)
            for window in fault.down:
                clock.schedule_at(clock.slots(window.down_ms / 1000), link.down)
                if window.up_ms is not None:
                    clock.schedule_at(clock.slots(window.up_ms / 1000), link.up)
        if fault.link in ("signalling", "data"):
            notes.append(f"faults.{fault.link}: applied to every line (ports {', '.join(map(str, ports))}); a line "
                         "carries signalling and data together, so both kinds of cell are impaired")
    return notes


class _Root:
    """The host on the root's port: adapter, NDIS with the checker, MCM, client."""

    def __init__(self, net: Network, s: m.Scenario, timers: UniTimers, sscop: SSCOPParams) -> None:
        CPU.reset()
        self.adapter = Adapter(net.clock, HostMemory(HOST_MEMORY), name="atm0")
        net.attach(s.root.port, self.adapter)
        self.ndis = Ndis(clock=lambda: net.clock.now)
        self.checker = RuleChecker("report").attach(self.ndis)
        self.watch = _PartyWatch(lambda: net.clock.now)
        self.ndis.attach(self.watch)
        self.mcm = AtmMcm(self.ndis, AdapterResources.of(self.adapter), McmConfig(timers=timers, sscop=sscop))
        self.client = CoNdisClient(self.ndis)
        self.client.bind(self.mcm.adapter_handle)


# ------------------------------------------------------------------------------------------ the run
class ScenarioRun:
    """One run of a scenario (see the module documentation). ``capture``: the pcapng path to record
    into (None: no capture). Call :meth:`execute` once."""

    def __init__(self, scenario: m.Scenario, *, capture: str | os.PathLike | None = None,
                 progress: Progress | None = None) -> None:
        self.s = s = scenario
        self.progress = progress
        self.timers = uni_timers(s.timers)
        self.sscop = sscop_params(s.timers)
        self.net = Network(s.topology.ports, line_rate=s.topology.line_rate, architecture=s.topology.architecture,
                           buffer_cells=s.topology.buffer_cells, timers=self.timers, sscop=self.sscop,
                           config=switch_config(s, self.timers), seed=s.seed)
        # before anything is programmed: the background takes the fabric entries from 2N on
        self.background = Background(self.net.node, s) if s.traffic.model != "none" and s.traffic.load > 0 else None
        self.leaf_address: dict[int, m.Address] = {}
        for leaf in s.leaves:
            address = s.leaf_address(leaf.port)
            if address is None:
                raise RunError(f"leaves: the leaf on port {leaf.port} has no address and its port serves no prefix")
            self.leaf_address[leaf.port] = address
            self.net.add_leaf(leaf.port, leaf_behaviour(leaf), address=station_address(address))
        self.root = _Root(self.net, s, self.timers, self.sscop)
        self.notes = apply_faults(self.net, s)
        self.trace = RunTrace(rate_cps=self.net.clock.rate.cells_per_second)
        self._hook_host(self.root.mcm.saal)
        self.recorder: Recorder | None = None
        self.capture = Path(capture) if capture is not None else None
        if self.capture is not None:
            self._record(self.capture)
        self.call: ClientCall | None = None
        self.party_of_leaf: dict[int, ClientParty] = {}
        self.leaf_of: dict[int, int] = {}        # id(ClientParty) -> leaf port
        self.parties: list[ClientParty] = []     # in the order the script made them
        self.expected: dict[int, list[bytes]] = {p: [] for p in s.leaf_ports}
        self._frame_no = 0
        self._leaf_in_request: int | None = None  # the leaf of the make-call or add under way
        self.refused: list[str] = []  # script steps the network's answers made impossible

    # ---- capture
    def _record(self, path: Path) -> None:
        s, net, node = self.s, self.net, self.net.node
        path.parent.mkdir(parents=True, exist_ok=True)
        rec = self.recorder = Recorder(path, net.clock, comment=f"atmemu scenario {s.name}")
        root = self.root_link = rec.link(f"{node.name}:{s.root.port}", "atm0", user="atm0")
        # Both ends of every UNI are tapped: a frame is recorded as its sender sent it (the root's by the
        # MCM's SSCOP, on the adapter's side of the line), once (captures.taps.SignallingTap).
        rec.tap_signalling(root, node.saal[s.root.port])
        rec.tap_signalling(root, self.root.mcm.saal)
        links = {s.root.port: root}
        for port, leaf in sorted(net.leaves.items()):
            link = rec.link(f"{node.name}:{port}", f"leaf{port}", user=f"leaf{port}")
            rec.tap_signalling(link, node.saal[port])
            rec.tap_signalling(link, leaf.saal)
            links[port] = link
        cap = s.capture
        if cap.cells:
            share = max(1, cap.max_cells // len(links))  # the bound is shared equally by the lines
            for port, link in links.items():
                line = node.links[port]
                rec.tap_cells(link, line, lanes=(line.b_to_a.name, line.a_to_b.name),
                              vcs=list(cap.vcs) or None, limit=share)
        if not cap.signalling:
            self.notes.append("capture.signalling = false: signalling is recorded anyway (the capture's "
                              "point); set it true to silence this note")

    def _comment(self, message: str, epref: int | None, slot: int) -> None:
        """A Q.2931 message the MCM sends inside a client's NDIS request (its SSCOP sends it before the
        request returns) gets the request as a comment: ``NdisClAddParty party=3 leaf=4``."""
        current = self.root.watch.current
        if current is None or self.recorder is None or self.recorder.closed:
            return
        function, target = current
        if _CAUSED_BY.get(message) != function:
            return
        if function == "NdisClCloseCall":
            who = f"call={getattr(getattr(target, 'call', target), 'name', '?')}"
        else:
            leaf = self.leaf_of.get(id(target), self._leaf_in_request)
            who = f"party={epref}" + (f" leaf={leaf}" if leaf is not None else "")
        self.recorder.annotate(self.root_link, slot, f"{function} {who}", sent_by="user")

    def _hook_host(self, endpoint: Any) -> None:
        """The MCM's SSCOP: every Q.2931 message it sends or receives, for the ladder, and the comment of
        what it sends (installed before the recorder's tap, which calls it first)."""
        previous = endpoint.tap

        def hook(direction: str, sdu: bytes, slot: int) -> None:
            if previous is not None:
                previous(direction, sdu, slot)
            if len(sdu) >= 4 and sdu[-4] & 0x0F == 0x8:  # an SD PDU (Q.2110 7.2): carries a message
                f = signalling_fields(sdu)
                if f.get("message"):
                    self.trace.host.append(HostMessage(slot, direction, f["message"], f.get("endpoint_ref"),
                                                       tuple(f.get("causes") or ())))
                    if direction == "tx":
                        self._comment(f["message"], f.get("endpoint_ref"), slot)

        endpoint.tap = hook

    # ---- time
    def _run(self, seconds: float) -> None:
        self.net.run(seconds)

    def _run_while(self, condition: Callable[[], bool], limit: float, step: float = 0.001) -> bool:
        clock = self.net.clock
        end = clock.now + clock.slots(limit)
        step_slots = max(1, clock.slots(step))
        while condition():
            if clock.now >= end:
                return False
            self.net.run_until(min(end, clock.now + step_slots))
        return True

    # ---- the script
    def _up(self) -> None:
        client = self.root.client
        if not self._run_while(lambda: client.binding is None or not client.binding.af_open, 5.0):
            raise RunError(f"the MCM did not come up (SSCOP link, address family) within 5 s: {self.root.mcm.counters}")

    def _step(self, step: m.Step) -> None:
        client = self.root.client
        self._leaf_in_request = step.leaf if isinstance(step, (m.MakeCall, m.AddParty)) else None
        if isinstance(step, m.MakeCall):
            called = ndis_address(self.leaf_address[step.leaf])
            root_address = self.s.root_address
            calling = ndis_address(root_address) if root_address is not None else None
            self.call = client.make_call(called, call_parameters=call_parameters(called, calling, step))
            self._params = call_parameters(called, calling, step)
            if self.call.parties or self.call.ended:
                self._own(self.call.all_parties[0], step.leaf)
            self._run_while(lambda: self.call.phase is CallPhase.MAKING, SETTLE_LIMIT_S)
        elif isinstance(step, m.AddParty):
            call = self._need_call(step)
            called = ndis_address(self.leaf_address[step.leaf])
            params = make_call_parameters(called, multipoint=True, media=self._params.atm_media)
            self._own(client.add_party(call, called, call_parameters=params), step.leaf)
        elif isinstance(step, m.DropParty):
            party = self.party_of_leaf.get(step.leaf)
            if party is None or party.phase is not PartyPhase.ACTIVE:
                self.notes.append(f"drop_party leaf {step.leaf}: skipped, its party is "
                                  f"{'never added' if party is None else party.phase.value} (not active)")
                return
            client.drop_party(party)
        elif isinstance(step, m.CloseCall):
            call = self.call
            if call is None or call.phase is not CallPhase.CONNECTED or call.closing:
                self.notes.append("close_call: skipped, the call is "
                                  f"{'not made' if call is None else call.phase.value}")
                return
            # NdisClCloseCall waits for the adds under way (the client drops the others first)
            client.close_call(call)
        elif isinstance(step, m.Wait):
            self._run(step.ms / 1000)
        elif isinstance(step, m.SendFrames):
            self._send_frames(step)

    def _own(self, party: ClientParty, leaf: int) -> None:
        self.party_of_leaf[leaf] = party
        self.leaf_of[id(party)] = leaf
        self.trace.leaf_of_party[party.name] = leaf
        self.parties.append(party)

    def _need_call(self, step: m.Step) -> ClientCall:
        if self.call is None or self.call.phase is not CallPhase.CONNECTED or self.call.closing:
            state = "not made" if self.call is None else self.call.phase.value
            raise _StepRefused(f"{step.KEY} on a call that is {state} (the make_call failed or the call was "
                               "closed): the rest of the script was not run")
        return self.call

    def _frame(self, size: int) -> bytes:
        self._frame_no += 1
        head = f"atmemu frame {self._frame_no} ".encode()
        return (head * (size // len(head) + 1))[:size]

    def _send_now(self, size: int) -> None:
        call = self.call
        if call is None or call.phase is not CallPhase.CONNECTED:
            return
        mcm = self.root.mcm
        vc = next((v for v in mcm.vcs if v.handle is call.vc), None)
        if vc is None:
            return
        frame = self._frame(size)
        if mcm.MiniportCoSendNetBufferLists(vc, [frame]) != [NDIS_STATUS.SUCCESS]:
            self.notes.append(f"frame {self._frame_no}: the MCM refused it (the VC is not active)")
            return
        for party in call.parties:
            if party.phase is PartyPhase.ACTIVE and id(party) in self.leaf_of:
                self.expected.setdefault(self.leaf_of[id(party)], []).append(frame)

    def _send_frames(self, step: m.SendFrames) -> None:
        self._need_call(step)
        clock = self.net.clock
        gap = clock.slots(step.spacing_us / 1e6) if step.spacing_us > 0 else 0
        for k in range(step.count):
            if gap and k:
                self.net.run_until(clock.now + gap)
            self._send_now(step.size)
        # the step ends when the adapter has put the last cell on the line (data ring and SAR empty)
        adapter, ring = self.root.adapter, self.root.mcm.tx[DATA_RING]
        head = adapter.regs.array("TXR.HEAD.INDEX")
        self._run_while(lambda: ring.backlog or int(head[DATA_RING]) != ring.tail or adapter.tx.queued > 0, 60.0,
                        step=0.0001)

    def _settle(self) -> None:
        """Every add answered, every drop completed, the call closed (the client closes it when the script
        did not), the address family closed, the client and the MCM unloaded."""
        client, call = self.root.client, self.call
        busy = (PartyPhase.ADDING, PartyPhase.DROPPING)
        if call is not None:
            self._run_while(lambda: any(p.phase in busy for p in call.parties), SETTLE_LIMIT_S, step=0.01)
            if call.phase is CallPhase.CONNECTED and not call.closing:
                self.notes.append("the script left the call open: closed at the end of the run")
                client.close_call(call)
            self._run_while(lambda: call.phase in (CallPhase.CONNECTED, CallPhase.CLOSING, CallPhase.MAKING),
                            SETTLE_LIMIT_S, step=0.01)
        self._run(0.05)
        binding = client.binding
        if binding is not None and binding.af_open:
            client.close_af()
            self._run_while(lambda: binding.af_open, 5.0, step=0.01)
        client.unload()
        self.root.mcm.unload()
        self._run(TAIL_S)

    def execute(self) -> RunResult:
        started = time.perf_counter()
        steps = self.s.script
        total = len(steps) + 2
        say = self.progress or (lambda done, total, text: None)
        try:
            say(0, total, "bringing the signalling link up")
            self._up()
            if self.background is not None:
                self.background.start()
            try:
                for i, step in enumerate(steps, 1):
                    say(i, total, f"{step.KEY} " + _step_text(step))
                    try:
                        self._step(step)
                    except _StepRefused as refused:
                        self.refused.append(f"script[{i - 1}] {step.KEY}: {refused}")
                        break
            finally:
                if self.background is not None:
                    self.background.stop()  # the queues drain while the run settles
            say(total - 1, total, "settling, closing, unloading")
            self._settle()
            say(total, total, "checking")
        finally:
            if self.recorder is not None:
                self.recorder.close()
        return self._result(time.perf_counter() - started)

    # ---- the verdict
    def _result(self, wall: float) -> RunResult:
        s, net, root = self.s, self.net, self.root
        watch = root.watch
        failures: list[str] = []
        parties = []
        for party in self.parties:
            parties.append(self._outcome(party, watch))
        failures += self.refused
        for p in parties:
            if p.add_completions != 1:
                failures.append(f"leaf {p.leaf} ({p.party}): its add completed {p.add_completions} times, not once")
            unexpected = _unexpected_outcome(s, p)
            if unexpected:
                failures.append(unexpected)
        first = net.node.control_plane.fabric.first_entry
        cells = call_cells(net.node, first)
        frames: dict[int, LeafFrames] = {}
        for port in s.leaf_ports:
            leaf = net.leaves[port]
            # the background never reaches a leaf station (its fabric leaves are ACCOUNT_ONLY): everything a
            # station received is the call's, and a background cell there would fail this check
            got = [sdu for vc in sorted(leaf.sink.received) for _, sdu in leaf.sink.received[vc]]
            want = self.expected.get(port, [])
            errors = dict(Counter(kind for (vc, kind), n in leaf.sink.errors.items() for _ in range(n)))
            wanted = set(want)
            lost = len(want) - sum(1 for f in got if f in wanted)
            frames[port] = LeafFrames(len(want), len(got), got == want, errors, max(0, lost))
            if got != want:
                extra = len([f for f in got if f not in wanted])
                why = ""
                fabric = cells.per_leaf.get(port)
                if fabric is not None and fabric.dropped:
                    why = (f"; the fabric dropped {fabric.dropped} of its cells ("
                           + ", ".join(f"{k} {v}" for k, v in cells.dropped.items()) + " on the call's VC)")
                failures.append(f"leaf {port}: received {len(got)} frames, {len(want)} were sent while it was a "
                                f"party" + (f" ({extra} it should not have had)" if extra else "") + why)
        violations = [str(v) for v in root.checker.report().violations]
        if violations:
            failures.append(f"rule checker: {len(violations)} violation(s)")
        problems = []
        for what, check in (("network", net.check), ("adapter", root.adapter.check_conservation),
                            ("host SSCOP", root.mcm.saal.check_conservation)):
            try:
                check()
            except AtmemuError as exc:
                problems.append(f"{what}: {exc}")
        background = None
        if self.background is not None:
            background = self.background.report()
            if not background.balanced:
                problems.append(f"background: offered {background.offered} != delivered {background.delivered} + "
                                f"dropped {sum(background.dropped.values())} + queued {background.queued}")
        if problems:
            failures.append("counters do not balance: " + "; ".join(problems))
        regs = net.node.fabric.regs
        tx = regs.array("PORT.TX_CELLS.COUNT")
        # every output of the fabric: the line ports, then the control port (signalling to the switch's CPU)
        per_port: dict[int | str, int] = {i: int(tx[i]) for i in range(s.topology.ports)}
        per_port["control"] = int(tx[s.topology.ports:].sum())
        calls = []
        for call in root.client.calls:
            calls.append({"call": call.name, "phase": call.phase.value,
                          "make_status": [status_name(x) for x in call.make_completions],
                          "close_status": [status_name(x) for x in call.close_completions],
                          "parties": len(call.all_parties), "incoming_close": call.incoming_close})
        self._trace_ndis()
        captures = []
        if self.capture is not None:
            captures.append(str(self.capture))
            if s.capture.pcap and self.recorder is not None:  # one classic pcap per interface with packets
                captures += [str(p) for p in self.recorder.export_all_pcap(self.capture.parent)]
        return RunResult(s.name, parties, calls, int(tx.sum()), per_port, frames, violations, not problems, problems,
                         captures, failures, net.clock.seconds(), wall, list(self.notes), call_cells=cells,
                         background=background, trace=self.trace)

    def _trace_ndis(self) -> None:
        watch, trace = self.root.watch, self.trace
        for slot, function, target, status in watch.requests:
            name = getattr(target, "name", "?")
            trace.ndis.append(NdisEvent(slot, "request", function, name, status, self.leaf_of.get(id(target)),
                                        watch.epref(target)))
        by_name = {p.name: p for p in self.parties}
        for c in self.root.client.log:
            party = by_name.get(c.target)
            trace.ndis.append(NdisEvent(c.time or 0, "completion", c.kind, c.target, status_name(c.status),
                                        self.leaf_of.get(id(party)) if party is not None else None,
                                        watch.epref(party) if party is not None else None))
        trace.ndis.sort(key=lambda e: e.slot)

    def _outcome(self, party: ClientParty, watch: _PartyWatch) -> PartyOutcome:
        key = id(party)
        adds = party.add_completions
        status = adds[0] if adds else None
        epref = watch.epref(party)
        cause = watch.cause(party)
        if cause is None and epref is not None:  # the network's answer, as the MCM received it
            cause = next((h.causes[0] for h in self.trace.host if h.direction == "rx" and h.endpoint_ref == epref
                          and h.message in _REFUSALS and h.causes), None)
        if cause is None and status is not None and status != NDIS_STATUS.SUCCESS and self.parties \
                and party is self.parties[0]:
            # the make-call refused: RELEASE (COMPLETE) clears the whole call and carries no endpoint
            # reference (Q.2931 5.4, Q.2971 9.1: the call's first party goes with the call)
            cause = next((h.causes[0] for h in self.trace.host if h.direction == "rx" and h.endpoint_ref is None
                          and h.message in ("RELEASE", "RELEASE COMPLETE") and h.causes), None)
        if status is None:
            outcome = "unanswered"
        elif status == NDIS_STATUS.SUCCESS:
            outcome, cause = "active", None
        elif status == completion_status(CAUSE_TIMER_EXPIRY) and cause is None:
            outcome, cause = "timed-out", CAUSE_TIMER_EXPIRY  # the MCM's T399 (Q.2971): no answer came
        elif cause is not None:
            outcome = "rejected"
        else:
            outcome = "failed"
        ended = None
        if outcome == "active":
            if party.remote_left:
                ended = "left"
            elif party.drop_completions:
                ended = "dropped"
            elif party.phase is PartyPhase.GONE:
                ended = "closed"
        return PartyOutcome(self.leaf_of.get(key), epref, party.name, outcome,
                            status_name(status) if status is not None else None, watch.alerted(party),
                            ended, cause, len(adds),
                            status_name(party.drop_completions[0]) if party.drop_completions else None)


#: The message each client request makes the MCM send (Q.2931 5.1, 5.4; Q.2971): a drop of a party that
#: left by itself is answered with DROP PARTY ACKNOWLEDGE.
_CAUSED_BY = {"SETUP": "NdisClMakeCall", "ADD PARTY": "NdisClAddParty", "DROP PARTY": "NdisClDropParty",
              "DROP PARTY ACKNOWLEDGE": "NdisClDropParty", "RELEASE": "NdisClCloseCall"}

#: Messages that refuse an add or end a party, and carry the cause (Q.2971 8.1.5, 8.1.7; Q.2931 5.4).
_REFUSALS = ("ADD PARTY REJECT", "DROP PARTY", "RELEASE", "RELEASE COMPLETE")


class _StepRefused(RunError):
    """A script step the state of the call (made so by the network) does not allow: the run reports it
    as a failed check and stops the script there."""


#: How a party ends when its leaf behaves as the scenario says (docs/scenario.md, "The verdict"): the
#: outcomes allowed per behaviour. A silent leaf ends by the root's T399 (Q.2971) or, when the
#: network's two T303 expiries toward the leaf come first, by its ADD PARTY REJECT (Q.2931 5.1.1,
#: cause 18 "no user responding"); for the first party, by the MCM's T303/T310 (the make-call fails).
EXPECTED_OUTCOMES = {m.ACCEPT: ("active",), m.ALERT_THEN_ACCEPT: ("active",), m.DROP_AFTER: ("active",),
                     m.REJECT: ("rejected",), m.SILENT: ("timed-out", "rejected", "failed")}
CAUSE_NO_USER_RESPONDING = 18


def _unexpected_outcome(s: m.Scenario, p: PartyOutcome) -> str | None:
    """A failure message when party ``p`` did not end as its leaf's behaviour says, else None."""
    if p.leaf is None or p.leaf not in s.leaf_ports:
        return None
    leaf = s.leaf(p.leaf)
    allowed = EXPECTED_OUTCOMES[leaf.behaviour]
    wrong = p.outcome not in allowed
    if leaf.behaviour == m.REJECT and not wrong:
        wrong = p.cause != (leaf.cause if leaf.cause is not None else 21)
    if leaf.behaviour == m.SILENT and p.outcome == "rejected":
        wrong = p.cause != CAUSE_NO_USER_RESPONDING
    if leaf.behaviour == m.ALERT_THEN_ACCEPT and not wrong:
        wrong = not p.alerted
    if not wrong:
        return None
    got = p.outcome + (f" (cause {p.cause})" if p.cause is not None else "") + (", alerted" if p.alerted else "")
    want = " or ".join(allowed) + (f" with cause {leaf.cause if leaf.cause is not None else 21}"
                                   if leaf.behaviour == m.REJECT else "")
    return f"leaf {p.leaf} ({p.party}): {got}, but the leaf is {leaf.behaviour}: expected {want}"


def _step_text(step: m.Step) -> str:
    if isinstance(step, (m.AddParty, m.DropParty)):
        return f"leaf {step.leaf}"
    if isinstance(step, m.MakeCall):
        return f"leaf {step.leaf}, PCR {step.pcr}"
    if isinstance(step, m.Wait):
        return f"{step.ms:g} ms"
    if isinstance(step, m.SendFrames):
        return f"{step.count} x {step.size} octets"
    return ""


def run(scenario: m.Scenario, *, capture: str | os.PathLike | None = None,
        progress: Progress | None = None) -> RunResult:
    """Run ``scenario``, recording into ``capture`` (a pcapng path) when given."""
    return ScenarioRun(scenario, capture=capture, progress=progress).execute()


def record(scenario_name: str, capture_path: str | os.PathLike) -> None:
    """Record the named scenario into ``capture_path`` (the golden captures' producer,
    captures.golden_captures.regenerate). Only the built-in "default" is known by name."""
    from tools.scenario import default_scenario

    if scenario_name != "default":
        raise RunError(f"record: no built-in scenario named {scenario_name!r} (known: 'default')")
    result = run(default_scenario(), capture=capture_path)
    if not result.ok:
        raise RunError(f"record: the {scenario_name} scenario failed its checks: {'; '.join(result.failures)}")


__all__ = ["HostMessage", "LeafFrames", "NdisEvent", "PartyOutcome", "RunError", "RunResult", "RunTrace",
           "ScenarioRun", "apply_faults", "call_parameters", "record", "run", "switch_config", "uni_timers"]
