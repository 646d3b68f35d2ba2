"""Party add + drop cycles per wall-clock second through the whole emulated network (suite
"signalling", issue 5: at least 2,000/s with capture off, next to the scapy-only path).

The network: a 16-port switch (:class:`firmware.network.Network`: fabric, one OC-3c link per port, the
control plane behind the control port, every UNI on SSCF-UNI over SSCOP over AAL5 cells on VPI 0/VCI 5),
a root on port 0, a leaf on each of ports 1..15. The root sets up a point-to-multipoint call to port 1;
then it keeps one party in flight on each of ports 2..15 at once: when a party's ADD PARTY ACKNOWLEDGE
arrives it drops it, when its DROP PARTY ACKNOWLEDGE arrives it adds the next one on that port.

One cycle, every message a Q.2931/Q.2971 message in its own SSCOP SD PDU, cut into AAL5 cells, carried
by the links and switched by the fabric (SSCOP's POLL/STAT, and the fabric's register writes that link
and unlink the leaf, come on top):

    root -> switch   ADD PARTY                    switch -> leaf   SETUP (a new branch on the leaf's UNI)
    leaf -> switch   CONNECT                      switch -> leaf   CONNECT ACKNOWLEDGE
    switch -> root   ADD PARTY ACKNOWLEDGE        root -> switch   DROP PARTY
    switch -> leaf   RELEASE                      leaf -> switch   RELEASE COMPLETE
    switch -> root   DROP PARTY ACKNOWLEDGE

The figure is cycles completed (DROP PARTY ACKNOWLEDGE received by the root) over the wall-clock time of
the run that completed them, best of a few runs; the same network on codec="scapy" (every message built,
encoded and decoded by the scapy layers) is measured in the same run, with fewer cycles. Warm-up (link
establishment, the first party, numba compilation) is outside the timed part; during the timed part the
garbage collector runs as :func:`quiet_collector` sets it (setup frozen, a young collection every 10,000
allocations), as a long emulation run would.
"""

from __future__ import annotations

import gc
import time
from contextlib import contextmanager

from firmware.endpoint import LeafBehaviour
from firmware.network import Network
from firmware.signalling_link import SignallingLink, connect
from firmware.uni import fastbuild
from hw.clock import Clock
from hw.link import Link
from tools.bench import Context, Figure, figures

TARGET = 2000.0  # cycles/s, issue 5
ROUNDS = 3
PORTS = 16
FIRST_LEAF = 1
CYCLE_PORTS = tuple(range(2, PORTS))  # one party in flight on each at a time
NOTE = ("one cycle = ADD PARTY root->switch, SETUP switch->leaf, CONNECT leaf->switch, CONNECT ACKNOWLEDGE "
        "switch->leaf, ADD PARTY ACKNOWLEDGE switch->root, DROP PARTY root->switch, RELEASE switch->leaf, "
        "RELEASE COMPLETE leaf->switch, DROP PARTY ACKNOWLEDGE switch->root: 9 messages, each an SSCOP SD in "
        "AAL5 cells over OC-3c links through the fabric and the control plane (plus SSCOP POLL/STAT), "
        f"{len(CYCLE_PORTS)} cycles in flight at once on a 16-port switch; capture off")


#: The collector's generation-0 threshold during a timed run (CPython's default is 700).
GC_THRESHOLD = (10_000, 10, 10)


@contextmanager
def quiet_collector():
    """The garbage collector as a long-running emulation would set it, for the timed part of a run: the
    objects made by the setup (the network, numba's and scapy's modules: hundreds of thousands) are
    collected once and frozen out of later collections (``gc.freeze``), and a collection of the young
    objects runs every 10,000 allocations instead of 700. The firmware makes many short-lived objects
    (PDUs, actions, steps: most freed at once by reference counting); with CPython's defaults the
    collector walked the frozen setup again and again (about a tenth of the run). Nothing is skipped:
    reference cycles are still collected, only less often. Settings are restored afterwards."""
    old = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


class CycleDriver:
    """Keeps one party in flight per cycle port; counts completed cycles."""

    def __init__(self, net: Network, cycles: int) -> None:
        self.net = net
        self.target = cycles
        self.started = 0
        self.done = 0
        self.port_of: dict[int, int] = {}
        self.failures: list[tuple[int | None, str, int | None]] = []
        self.script = net.script()
        self.call = None

    def setup(self) -> None:
        net = self.net
        net.run(0.02)                                  # every SAAL link established
        self.call = self.script.make_call(FIRST_LEAF)
        net.run(0.01)
        if self.call.state != "U10":
            raise AssertionError(f"the first party did not connect: {self.call!r}")
        self.net.roots[0].endpoint.on_event = self.on_event

    def start(self) -> None:
        for port in CYCLE_PORTS:
            self._add(port)

    def _add(self, port: int) -> None:
        if self.started >= self.target:
            return
        self.started += 1
        epref = self.call.add_party(self.net.address(port))
        self.port_of[epref] = port

    def on_event(self, call, epref, primitive, cause) -> None:
        if primitive == "add-party-ack.indication":
            call.drop_party(epref)
        elif primitive == "drop-party-ack.indication":
            self.done += 1
            self._add(self.port_of.pop(epref))
        elif primitive in ("add-party-reject.indication", "drop-party.indication", "release.indication"):
            self.failures.append((epref, primitive, cause))

    def run(self, step: float = 0.01, limit: float = 600.0) -> None:
        net, end = self.net, self.net.clock.now + self.net.clock.slots(limit)
        while self.done < self.target and not self.failures:
            if net.clock.now >= end:
                raise AssertionError(f"{self.done} of {self.target} cycles in {limit} s of virtual time")
            net.run(step)
        if self.failures:
            raise AssertionError(f"cycles failed: {self.failures[:3]}")


def measure(codec: str, cycles: int) -> tuple[float, dict]:
    """Cycles per wall-clock second of one run on a fresh network, and what the run did."""
    net = Network(PORTS, codec=codec)
    net.add_root(0, pcr=1000)
    for port in range(1, PORTS):
        net.add_leaf(port, LeafBehaviour.accept())
    driver = CycleDriver(net, cycles)
    driver.setup()
    with quiet_collector():
        t0, cpu0, slot0, adv0 = time.perf_counter(), time.process_time(), net.clock.now, net.node.advances
        driver.start()
        driver.run()
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    net.check()
    info = {"virtual_seconds": net.clock.seconds(net.clock.now - slot0), "cycles": driver.done,
            "fabric_advances_per_cycle": (net.node.advances - adv0) / driver.done,
            "cycles_per_cpu_second": driver.done / cpu}
    return driver.done / elapsed, info


@figures("signalling")
def party_cycles(ctx: Context):
    fast_n = max(int(3000 * ctx.scale), 60)
    scapy_n = max(int(200 * ctx.scale), 28)
    measure("fast", 30)                                # numba kernels compiled, caches warm
    fast = scapy = 0.0
    info: dict = {}
    scapy_info: dict = {}
    for _ in range(ROUNDS):
        rate, info_f = measure("fast", fast_n)
        if rate > fast:
            fast, info = rate, info_f
        rate, info_s = measure("scapy", scapy_n)
        if rate > scapy:
            scapy, scapy_info = rate, info_s
    ctx.log(f"party add+drop cycles: fast {fast:,.0f}/s, scapy {scapy:,.0f}/s ({info})")
    yield Figure("party_add_drop_cycles", fast, "cycles/s", ratio_to_twin=fast / scapy, target=TARGET,
                 note=NOTE + f"; ratio_to_twin: over the scapy-only path ({scapy:,.0f}/s); that run: "
                      f"{info['cycles_per_cpu_second']:,.0f} cycles per CPU second of the process, "
                      f"{info['fabric_advances_per_cycle']:.1f} fabric advances per cycle, "
                      f"{info['virtual_seconds'] * 1e3:.1f} ms of virtual time for {info['cycles']} cycles")
    yield Figure("party_add_drop_cycles_scapy", scapy, "cycles/s",
                 note="the same cycles with codec='scapy' (every message built, encoded and decoded by the scapy "
                      f"layers), same run; {scapy_info['cycles_per_cpu_second']:,.0f} cycles per CPU second")


def saal_round_trips(codec: str, round_trips: int) -> float:
    """Q.2931 round trips per wall-clock second between two SAAL endpoints over one OC-3c link, one at a
    time: ADD PARTY one way, ADD PARTY ACKNOWLEDGE back, each an SSCOP SD in AAL5 cells (the part of a
    cycle's cost that is the signalling AAL and the line, without the fabric and the UNI machines)."""
    clock = Clock("OC-3c")
    link = Link("OC-3c", clock=clock)
    a = SignallingLink(clock, name="a", side="user", codec=codec)
    b = SignallingLink(clock, name="b", side="network", codec=codec)
    connect(link, a, b)
    a.establish()
    clock.run_for(clock.slots(0.01))
    called = bytes.fromhex("39840f80113744000000000001000000000100")
    adds = [fastbuild.AddParty(0x123, e, called + b"\x00") for e in range(1, 101)]
    ack = fastbuild.AddPartyAcknowledge(0x123, 1)
    if codec == "scapy":
        from firmware.uni import builders
        adds = [builders.AddParty(0x123, e, called + b"\x00") for e in range(1, 101)]
        ack = builders.AddPartyAcknowledge(0x123, 1)
    done = [0]

    def on_ack(_message) -> None:
        done[0] += 1
        if done[0] < round_trips:
            a.send_message(adds[done[0] % 100])

    a.on_message = on_ack
    b.on_message = lambda _m: b.send_message(ack)
    gc.collect()
    t0 = time.perf_counter()
    a.send_message(adds[0])
    step = clock.slots(0.001)
    while done[0] < round_trips:
        clock.run_for(step)
    elapsed = time.perf_counter() - t0
    a.check_conservation()
    b.check_conservation()
    return round_trips / elapsed


@figures("signalling")
def saal(ctx: Context):
    n = max(int(3000 * ctx.scale), 100)
    fast = max(saal_round_trips("fast", n) for _ in range(ROUNDS))
    scapy = max(saal_round_trips("scapy", max(n // 10, 50)) for _ in range(ROUNDS))
    ctx.log(f"SAAL round trips: fast {fast:,.0f}/s, scapy {scapy:,.0f}/s")
    yield Figure("saal_round_trips", fast, "round trips/s", ratio_to_twin=fast / scapy,
                 note="ADD PARTY one way, ADD PARTY ACKNOWLEDGE back, one at a time, between two SAAL endpoints "
                      "(SSCF-UNI, SSCOP, AAL5 cells) over one OC-3c link: no fabric, no UNI machines; "
                      f"ratio over codec='scapy' ({scapy:,.0f}/s)")
