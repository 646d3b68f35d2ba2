"""Benchmarks of the CoNDIS stack (suite "ndis", issue 6): ``atmemu bench ndis [--json] [--scale S]``.

A round trip is one NdisClAddParty until its ProtocolClAddPartyComplete, or one NdisClDropParty until
its ProtocolClDropPartyComplete, through the whole stack: the client (cm.client), the NDIS dispatcher with
the rule checker attached (report mode; a run with a violation fails the benchmark), the MCM (cm.mcm), the
adapter (descriptor rings, DMA, SAR, shaping, coalesced interrupts), the cable (hw.link), the network
side and a leaf. The client keeps ``WINDOW`` parties in flight, as a real client adding parties in
parallel does: each cycle adds ``WINDOW`` parties, waits for every completion, drops them all, waits
again. Figures are round trips per wall-clock second (the issue's unit), best of ``ROUNDS`` cycles of a
run; the note gives the spread, the rate per CPU-second of this thread (the machine is shared: wall time
also measures the neighbours) and what the network side was. The garbage collector runs as
:func:`tools.bench.network.quiet_collector` sets it during the measured cycles (the setup frozen, a young
collection every 10,000 allocations).

* ``round_trips_scripted`` - the scripted network (cm.testbed.ScriptedNetwork): a network-side SSCOP and
  Q.2931/Q.2971 interface on the far end of the cable answering ADD PARTY with ADD PARTY ACKNOWLEDGE and
  DROP PARTY with DROP PARTY ACKNOWLEDGE at once, as if the leaf sat right behind the switch;
* ``round_trips_switch`` - the switch (cm.testbed.SwitchNetwork): firmware.switch.ControlPlane on a
  16-port hw.fabric fabric, the adapter's signalling over the cable, 15 leaf endpoints (in-memory
  signalling channels, 100-slot delay) answering SETUP / ADD PARTY; each party is a SETUP or ADD PARTY to a
  leaf and back, its drop a RELEASE or DROP PARTY to the leaf and back, the fabric programmed each time.
"""

from __future__ import annotations

import time

from cm.mcm import McmConfig
from cm.ndis.params import ATM_ADDRESS
from cm.testbed import Testbed
from tools.bench import Context, Figure, figures
from tools.bench.network import quiet_collector

TARGET = 1000.0  # round trips per wall-clock second, issue 6
WINDOW = 64  # parties in flight
ROUNDS = 5  # measured cycles per run
#: interrupt moderation for the runs: a DPC per 16 completions, or 200 slots (0.57 ms) after the first
CONFIG = McmConfig(coalesce_frames=16, coalesce_slots=200)


class _Run:
    """A testbed with a call up, and the cycle of adds and drops."""

    def __init__(self, network: str, window: int) -> None:
        options = {"addresses": -(-window // 15) + 1} if network == "switch" else {}
        self.tb = Testbed(network=network, mode="report", config=CONFIG, network_options=options)
        self.tb.up()
        self.network = network
        self.window = window
        first = self.address(0)
        self.call = self.tb.client.make_call(first)
        self.tb.run_while(lambda: self.call.phase.value == "making", limit_seconds=5)
        if self.call.phase.value != "connected":
            raise AssertionError(f"the benchmark's call failed: {self.call.make_completions}")
        self.trips = 0

    def address(self, i: int) -> ATM_ADDRESS:
        if self.network == "switch":
            return self.tb.network.address(1 + i % 15, esi=1 + i // 15)
        return ATM_ADDRESS.e164(f"5{i:05d}")

    def cycle(self) -> None:
        tb, client, call = self.tb, self.tb.client, self.call
        log = client.log  # one entry per completion the client gets
        done = len(log) + self.window
        parties = [client.add_party(call, self.address(1 + i)) for i in range(self.window)]
        tb.run_while(lambda: len(log) < done, limit_seconds=10)
        failed = [p for p in parties if p.add_completions != [0]]
        if failed:
            raise AssertionError(f"{len(failed)} adds failed: {failed[0].add_completions}")
        done = len(log) + self.window
        for p in parties:
            client.drop_party(p)
        tb.run_while(lambda: len(log) < done, limit_seconds=10)
        if any(p.drop_completions != [0] for p in parties):
            raise AssertionError("a drop failed")
        self.trips += 2 * len(parties)

    def finish(self) -> int:
        tb = self.tb
        tb.finish()
        tb.check_conservation()
        return len(tb.checker.report())


def _measure(ctx: Context, network: str, window: int, rounds: int) -> tuple[float, list[float], float, int]:
    run = _Run(network, window)
    run.cycle()  # warm: every path taken once (numba kernels compiled and cached)
    rates, cpu_rates = [], []
    with quiet_collector():  # the setup frozen, young collections less often (see tools.bench.network)
        for _ in range(rounds):
            wall, cpu = time.perf_counter(), time.thread_time()
            run.cycle()
            wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
            rates.append(2 * window / wall)
            cpu_rates.append(2 * window / cpu)
    virtual = run.tb.clock.seconds()
    violations = run.finish()
    ctx.log(f"{network}: {', '.join(f'{r:,.0f}' for r in rates)} round trips/s (wall); "
            f"virtual time {virtual:.2f} s; violations {violations}")
    return max(rates), rates, max(cpu_rates), violations


def _figure(ctx: Context, name: str, network: str, what: str) -> Figure:
    window = max(8, int(WINDOW * min(1.0, ctx.scale)))
    rounds = max(2, int(ROUNDS * min(1.0, ctx.scale)))
    best, rates, cpu_best, violations = _measure(ctx, network, window, rounds)
    if violations:
        raise AssertionError(f"{name}: the rule checker reported {violations} violation(s)")
    spread = f"{min(rates):,.0f}..{max(rates):,.0f}"
    return Figure(name, best, "round trips/s", target=TARGET,
                  note=f"best of {rounds} cycles of {window} adds + {window} drops in flight (wall {spread}/s; "
                       f"{cpu_best:,.0f}/s per CPU-second); rule checker on, 0 violations; network side: {what}")


@figures("ndis")
def round_trips(ctx: Context):
    yield _figure(ctx, "round_trips_scripted", "scripted",
                  "scripted (cm.testbed.ScriptedNetwork: network-side SSCOP + Q.2931/Q.2971 UNI over the cable, "
                  "answering each ADD PARTY / DROP PARTY at once)")
    yield _figure(ctx, "round_trips_switch", "switch",
                  "the switch (firmware.switch.ControlPlane on a 16-port hw.fabric fabric, 15 leaf endpoints)")
