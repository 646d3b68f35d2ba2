"""Replay drivers: a fresh emulator, one side of a UNI driven by a script's messages through the
driver's own SSCOP, and a recording of the run (:mod:`captures.replay` reads the answers from it).

:func:`run_on_switch_node` — the root's side (``--side root`` or ``user``): a
``firmware.switch.node.SwitchNode`` whose port 0 takes the driver (a user-side SAAL endpoint:
SSCF-UNI over SSCOP, its PDUs as AAL5 cells on VPI 0/VCI 5 of the port's link) and whose other ports
take one leaf station each (``firmware.endpoint.attach.LeafStation``), answering for one called address
of the capture with the behaviour the capture implies (``ReplayScript.leaves``). The address plan is
made from the capture: each leaf port serves its address exactly (an AESA as a 160-bit prefix, an E.164
number as all its digits); an address the capture's network refused as unallocated (cause 1) is put in
the switch's numbering domain and on no port, so the switch answers it the same way; any other address
is outside the domain (cause 3, no route), which holds the unallocated numbers only. Every SAAL endpoint is tapped, so the recording holds the
root's UNI and every leaf's.

:func:`run_on_leaf` — the network's side of a leaf's UNI (``--side network``): the driver is a
network-side SAAL endpoint on one end of a ``hw.link.Link``, the emulated leaf
(``firmware.endpoint.leaf.LeafEndpoint`` on a ``SaalChannel``) on the other, with the behaviours the
capture shows for the addresses offered on that link.

Both follow the script's pace (:func:`captures.replay.pace_plan`): the driver establishes its SSCOP
connection first, then sends each message at its recorded time (``recorded``), or as soon as the
answers before it in the capture have come (``fast``); after the last message it waits for the answers
still expected, then a grace period for answers the capture does not have.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Callable

from captures.recorder import Recorder
from captures.taps import tap_switch_node
from captures.replay import (
    FAST,
    NETWORK,
    DriverRun,
    LeafPlan,
    ReplayError,
    ReplayInputError,
    ReplayScript,
    pace_plan,
    tail_slots,
)
from firmware.endpoint.attach import LeafStation
from firmware.endpoint.leaf import LeafBehaviour, LeafEndpoint
from firmware.signalling_link import CellPort, SignallingLink, connect
from firmware.switch.channel import SaalChannel
from firmware.switch.config import E164, AddressPrefix, PortConfig, SwitchConfig
from firmware.switch.node import SwitchNode
from hw.clock import Clock
from hw.link import Link

LINE_RATE = "OC-3c"
#: Longest wait for the driver's own SSCOP connection to come up before the first message.
ESTABLISH_LIMIT_S = 5.0
#: Causes with which the network refuses a number it does not route (Q.850 / routing.py).
CAUSE_UNALLOCATED = 1


def address_prefix(text: str) -> AddressPrefix | None:
    """The exact prefix of a called address as the capture summary writes it (dotted AESA hex, or
    +digits / digits for E.164); None for a form that cannot be routed (another numbering plan)."""
    body = text.lstrip("+")
    if body.isdigit() and len(body) <= 15:
        return AddressPrefix(E164, digits=body)
    digits = text.replace(".", "")
    if len(digits) == 40 and all(c in "0123456789abcdefABCDEF" for c in digits):
        return AddressPrefix.aesa(bytes.fromhex(digits))
    return None


def plan_text(plan: LeafPlan) -> str:
    """``alert 0.5 s, drop after 1.0 s cause 16``: a leaf plan in a few words."""
    parts = [plan.kind]
    if plan.kind == "reject":
        parts.append(f"cause {plan.cause}")
    if plan.after:
        parts.append(f"after {plan.after:g} s")
    if plan.alert_for:
        parts.append(f"ringing {plan.alert_for:g} s")
    if plan.drop_after is not None:
        parts.append(f"drop after {plan.drop_after:g} s cause {plan.drop_cause}")
    return ", ".join(parts)


def behaviour_of(plan: LeafPlan) -> LeafBehaviour:
    return LeafBehaviour(plan.kind, cause=plan.cause, after=plan.after, alert_for=plan.alert_for,
                         drop_after=plan.drop_after, drop_cause=plan.drop_cause)


class _Driver:
    """The replaying side: a SAAL endpoint sending the script's octets and counting the answers."""

    def __init__(self, clock: Clock, side: str, name: str) -> None:
        self.clock = clock
        self.answers = 0
        self.undecodable = 0
        self.saal = SignallingLink(clock, name=name, side=side, on_message=self._message,
                                   on_decode_error=self._decode_error)

    def _message(self, message: Any) -> None:
        self.answers += 1

    def _decode_error(self, error: Any, octets: bytes) -> None:
        self.answers += 1  # an answer all the same: the comparison shows what it was
        self.undecodable += 1

    @property
    def heard(self) -> int:
        return self.answers


#: While cells are on their way, the driver looks at what it heard this often (slots): the switch
#: works between clock events (the fabric stops for the CPU), so the next event is no bound on when
#: an answer arrives. A fast-pace step goes at most this late.
QUANTUM_SLOTS = 16


class _Runner:
    """Runs an emulator forward in steps that end when something may have changed for the driver."""

    def __init__(self, clock: Clock, run_until: Callable[[int], None], busy: Callable[[], bool]) -> None:
        self.clock = clock
        self.run_until = run_until
        self.busy = busy
        self.steps = 0

    def step(self, deadline: int) -> None:
        """Run to the next clock event, that event included; while cells are in flight, at most
        :data:`QUANTUM_SLOTS` ahead; never past ``deadline``."""
        clock = self.clock
        t = clock.peek()
        target = deadline if t is None or t > deadline else t
        if self.busy():
            target = min(target, clock.now + QUANTUM_SLOTS)
        self.run_until(max(target, clock.now))
        self.steps += 1

    def until(self, done: Callable[[], bool], deadline: int) -> bool:
        """Step until ``done()`` or the deadline; returns ``done()``."""
        while not done() and self.clock.now < deadline:
            self.step(deadline)
        return done()


def _drive(script: ReplayScript, pace: str, clock: Clock, driver: _Driver, runner: _Runner,
           recorder: Recorder, link: str) -> dict[str, int]:
    """Establish the driver's SSCOP, send the steps at their pace, wait for the answers; returns counters."""
    cps = clock.rate.cells_per_second
    counters: Counter = Counter()
    run_until = runner.run_until
    driver.saal.establish()
    runner.until(lambda: driver.saal.established, clock.now + clock.slots(ESTABLISH_LIMIT_S))
    if not driver.saal.established:
        raise ReplayError(f"the driver's SSCOP connection did not come up within {ESTABLISH_LIMIT_S} s")
    start = clock.now
    counters["establish_slots"] = start
    last_sent = start
    for step, (at, answers_before, wait) in zip(script.steps, pace_plan(script, pace, cps)):
        if pace == FAST:
            heard = runner.until(lambda: driver.heard >= answers_before, last_sent + wait)
            counters["answers_waited_out"] += not heard
        else:
            target = max(start + at, clock.now)
            if clock.now < target:
                run_until(target)
        recorder.annotate(link, clock.now, f"replay of frame {step.frame}: {step.view.message}", sent_by=driver.saal.side)
        driver.saal.send_message(step.octets)
        last_sent = clock.now
        counters["sent"] += 1
    tail, grace = tail_slots(script, cps)
    runner.until(lambda: driver.heard >= len(script.expected), clock.now + tail)
    run_until(clock.now + grace)
    counters["answers"] = driver.heard
    counters["answers_undecodable"] = driver.undecodable
    counters["end_slot"] = clock.now
    counters["run_steps"] = runner.steps
    return dict(counters)


def run_on_switch_node(script: ReplayScript, *, pace: str, capture: Path) -> DriverRun:
    """The root's side of ``script`` against a fresh switch node (see the module documentation)."""
    if script.sent_by == NETWORK:
        raise ReplayInputError("the switch node replays the user side of a root's UNI; the network side of a "
                               "leaf's UNI is replayed against an emulated leaf (run_on_leaf)")
    clock = Clock(LINE_RATE)
    leaves: list[tuple[str, AddressPrefix, LeafPlan]] = []
    unrouted: list[str] = []
    for address, plan in script.leaves.items():
        prefix = address_prefix(address)
        if prefix is None:
            unrouted.append(address)
        else:
            leaves.append((address, prefix, plan))
    unallocated = [address_prefix(p.called) for p in script.parties
                   if p.called is not None and p.outcome == "rejected" and p.cause == CAUSE_UNALLOCATED
                   and p.called not in script.leaves and address_prefix(p.called) is not None]
    if len(leaves) + 1 > 256:
        raise ReplayInputError(f"{len(leaves)} leaf addresses: more than a switch of 256 ports holds")
    ports = [PortConfig(0, LINE_RATE)]
    ports += [PortConfig(i + 1, LINE_RATE, (prefix,)) for i, (_, prefix, _) in enumerate(leaves)]
    if len(ports) < 2:
        ports.append(PortConfig(1, LINE_RATE))
    # The numbering domain is the unallocated numbers only: any other number on no port is out of it (3).
    config = SwitchConfig(tuple(ports), domain=tuple(unallocated))
    node = SwitchNode(clock, config)
    driver = _Driver(clock, "user", "root")
    cell_port = CellPort(driver.saal, node.port(0))
    node.attach(0, cell_port)
    stations = [LeafStation(node, i + 1, {address: behaviour_of(plan)}, name=f"leaf{i + 1}")
                for i, (address, _, plan) in enumerate(leaves)]
    notes = [f"port {station.port}: {station.name} for {address}: {plan_text(plan)} (from {plan.evidence})"
             for station, (address, _, plan) in zip(stations, leaves)]
    notes += [f"address {a}: no numbering plan the switch routes; not on any port" for a in unrouted]
    with Recorder(capture, clock, comment=f"atmemu replay of {script.source}, link {script.link}") as rec:
        root_link = tap_switch_node(rec, node)[0]
        runner = _Runner(clock, node.run_until, lambda: node.in_flight() > 0)
        counters = _drive(script, pace, clock, driver, runner, rec, root_link.name)
    counters.update({f"switch.{k}": v for k, v in node.counters.items() if k in ("advances", "stops")})
    return DriverRun(Path(capture), root_link.name, counters, notes)


def run_on_leaf(script: ReplayScript, *, pace: str, capture: Path) -> DriverRun:
    """The network's side of a leaf's UNI against an emulated leaf (see the module documentation)."""
    if script.sent_by != NETWORK:
        raise ReplayInputError("run_on_leaf replays the network side of a leaf's UNI")
    clock = Clock(LINE_RATE)
    line = Link(LINE_RATE, name="replay", a="switch:1", b="leaf1")
    driver = _Driver(clock, "network", "replay-network")
    leaf_saal = SignallingLink(clock, name="leaf1", side="user")
    connect(line, driver.saal, leaf_saal)
    channel = SaalChannel(leaf_saal, name="leaf1")
    behaviours = {address: behaviour_of(plan) for address, plan in script.leaves.items()
                  if address_prefix(address) is not None}
    LeafEndpoint(clock, channel, behaviours, name="leaf1")
    with Recorder(capture, clock, comment=f"atmemu replay of {script.source}, link {script.link}") as rec:
        link = rec.link("switch:1", "leaf1", user="leaf1")
        rec.tap_signalling(link, driver.saal)
        rec.tap_signalling(link, leaf_saal)
        # Every hand-over between the two CellPorts is a clock event: stepping by events misses nothing.
        runner = _Runner(clock, clock.run_until, lambda: False)
        counters = _drive(script, pace, clock, driver, runner, rec, link.name)
    notes = [f"leaf answers for {address}: {plan_text(script.leaves[address])}" for address in behaviours]
    return DriverRun(Path(capture), link.name, counters, notes)


__all__ = ["address_prefix", "behaviour_of", "plan_text", "run_on_leaf", "run_on_switch_node"]
