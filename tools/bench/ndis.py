"""Benchmarks of the CoNDIS stack (suite "ndis", issue 6): ``atmemu bench ndis [--json] [--scale S]``.

A round trip is one NdisClAddParty until its ProtocolClAddPartyComplete, or one NdisClDropParty until
its ProtocolClDropPartyComplete, through the whole stack: the client (cm.client), the NDIS dispatcher with
the rule checker attached (report mode; a run with a violation fails the benchmark), the MCM (cm.mcm), the
adapter (descriptor rings, DMA, SAR, shaping, coalesced interrupts), its line (hw.link), the network side
and a leaf. The client keeps ``WINDOW`` parties in flight, as a real client adding parties in parallel
does: each cycle adds ``WINDOW`` parties, waits until NDIS has called ProtocolClAddPartyComplete for each
(counted by an NDIS observer), drops them all, waits again. Figures are round trips per wall-clock second
(the issue's unit), best of ``ROUNDS`` cycles of a run; the note gives the spread, the best rate per
CPU-second of this thread (the machine is shared: wall time also measures the neighbours), the machine's
load and what the network side was. The garbage collector runs as
:func:`tools.bench.network.quiet_collector` sets it during the measured cycles (the setup frozen, a young
collection every 10,000 allocations).

* ``round_trips_scripted`` - the scripted network (cm.testbed.ScriptedNetwork): a network-side SSCOP and
  Q.2931/Q.2971 interface on the far end of the cable answering ADD PARTY with ADD PARTY ACKNOWLEDGE and
  DROP PARTY with DROP PARTY ACKNOWLEDGE at once, as if the leaf sat right behind the switch;
* ``round_trips_switch`` - the whole stack (cm.testbed.SwitchNetwork, what cm.mcm.rig.McmRig runs): the
  host on port 0 of a 16-port firmware.network.Network whose SwitchNode carries every UNI - the MCM's and
  each of the 15 leaves' - as SSCOP over AAL5 cells on its own line, through the hw.fabric fabric's control
  port to the control plane; each party is an ADD PARTY from the MCM, a SETUP to a leaf and its CONNECT /
  CONNECT ACKNOWLEDGE, the fabric's leaf table written, ADD PARTY ACKNOWLEDGE back; its drop a DROP PARTY,
  a RELEASE to the leaf and its RELEASE COMPLETE, DROP PARTY ACKNOWLEDGE back.
"""

from __future__ import annotations

import os
import time

from cm.mcm import McmConfig
from cm.ndis.dispatcher import HandlerCall, NdisObserver
from cm.ndis.params import ATM_ADDRESS
from cm.testbed import Testbed
from tools.bench import Context, Figure, figures
from tools.bench.network import quiet_collector

TARGET = 1000.0  # round trips per wall-clock second, issue 6
WINDOW = 64  # parties in flight
ROUNDS = 5  # measured cycles per run
#: interrupt moderation for the runs: a DPC per 16 completions, or 200 slots (0.57 ms) after the first
CONFIG = McmConfig(coalesce_frames=16, coalesce_slots=200)


class _Completions(NdisObserver):
    """Counts the completions the figure is about as NDIS hands them to the client: each
    ProtocolClAddPartyComplete and ProtocolClDropPartyComplete handler call (the client's own records
    are bounded, and not the benchmark's business)."""

    HANDLERS = frozenset({"ProtocolClAddPartyComplete", "ProtocolClDropPartyComplete"})

    def __init__(self) -> None:
        self.count = 0

    def on_handler_call(self, call: HandlerCall) -> None:
        if call.handler in self.HANDLERS:
            self.count += 1


class _Run:
    """A testbed with a call up, and the cycle of adds and drops."""

    def __init__(self, network: str, window: int) -> None:
        options = {"ports": 16, "addresses": -(-window // 15) + 1} if network == "switch" else {}
        self.tb = Testbed(network=network, mode="report", config=CONFIG, network_options=options)
        self.tb.up()
        self.network = network
        self.window = window
        first = self.address(0)
        self.call = self.tb.client.make_call(first)
        self.tb.run_while(lambda: self.call.phase.value == "making", limit_seconds=5)
        if self.call.phase.value != "connected":
            raise AssertionError(f"the benchmark's call failed: {self.call.make_completions}")
        self.completions = _Completions()
        self.tb.ndis.attach(self.completions)
        self.trips = 0

    def address(self, i: int) -> ATM_ADDRESS:
        if self.network == "switch":
            return self.tb.network.address(1 + i % 15, esi=1 + i // 15)
        return ATM_ADDRESS.e164(f"5{i:05d}")

    def cycle(self) -> None:
        tb, client, call, seen = self.tb, self.tb.client, self.call, self.completions
        done = seen.count + self.window
        parties = [client.add_party(call, self.address(1 + i)) for i in range(self.window)]
        if not tb.run_while(lambda: seen.count < done, limit_seconds=10):
            raise AssertionError(f"{done - seen.count} adds not completed after 10 s")
        failed = [p for p in parties if p.add_completions != [0]]
        if failed:
            raise AssertionError(f"{len(failed)} adds failed: {failed[0].add_completions}")
        done = seen.count + self.window
        for p in parties:
            client.drop_party(p)
        if not tb.run_while(lambda: seen.count < done, limit_seconds=10):
            raise AssertionError(f"{done - seen.count} drops not completed after 10 s")
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
    one, five, _ = os.getloadavg()
    return Figure(name, best, "round trips/s", target=TARGET,
                  note=f"best of {rounds} cycles of {window} adds + {window} drops in flight (wall {spread}/s; "
                       f"{cpu_best:,.0f}/s per CPU-second; machine load {one:.1f}/{five:.1f} on {os.cpu_count()} "
                       f"CPUs); rule checker on, 0 violations; network side: {what}")


@figures("ndis")
def round_trips(ctx: Context):
    yield _figure(ctx, "round_trips_scripted", "scripted",
                  "scripted (cm.testbed.ScriptedNetwork: network-side SSCOP + Q.2931/Q.2971 UNI over the cable, "
                  "answering each ADD PARTY / DROP PARTY at once)")
    yield _figure(ctx, "round_trips_switch", "switch",
                  "the whole stack (cm.testbed.SwitchNetwork: a 16-port firmware.network.Network, the host on "
                  "port 0, 15 leaf stations, every UNI SSCOP over AAL5 on its own line through the fabric's "
                  "control port)")
