"""hw/fabric/fabric.py's per-advance Python path: the kernel called through its compiled entry point
(KernelCall) does what the numba dispatcher does, and the injection merge and the capture drain give
software the same cells, in the same order, at the same slots, however the run is cut into advances."""

from __future__ import annotations

import random

import numpy as np
import pytest

from hw.fabric import program
from hw.fabric.config import Arch, FabricConfig
from hw.fabric.fabric import Fabric
from hw.fabric.state import COUNTERS
from hw.fabric.tables import header_twin

PORTS = 5


def cells_on(vpi: int, vci: int, n: int, tag: int) -> np.ndarray:
    """n cells on VPI/VCI, payload = (tag, k) so every cell is told apart at the far end."""
    out = np.zeros((n, 53), np.uint8)
    for k in range(n):
        out[k, :5] = np.frombuffer(header_twin(0, vpi, vci, int(k == n - 1), 0), np.uint8)
        out[k, 5:9] = np.frombuffer(tag.to_bytes(4, "big"), np.uint8)
        out[k, 9:13] = np.frombuffer(k.to_bytes(4, "big"), np.uint8)
    return out


def build(arch: Arch, stop_ports=(1, 3), capture_only=(2,)) -> Fabric:
    fab = Fabric(FabricConfig(ports=PORTS, arch=arch, buffers=512, vcs=64, leaves=64, capture=256))
    # a multicast VC from port 0 to ports 1..4, a unicast from port 4 to port 2
    program.connect(fab.regs, 20, port=0, vpi=1, vci=40, leaves=[(20, 1, 1, 41), (21, 2, 1, 42), (22, 3, 1, 43),
                                                                  (23, 4, 1, 44)])
    program.connect(fab.regs, 21, port=4, vpi=1, vci=50, leaves=[(24, 2, 1, 51)])
    for p in stop_ports:
        fab.port(p).wants_every_cell = True
    for p in capture_only:  # captured, but the kernel does not stop for them: several slots per advance
        fab.regs.set("PORT.CTRL", p, CAPTURE=1, STOP=0)
    return fab


def sends(seed: int, count: int = 60) -> list[tuple[int, str, int, np.ndarray]]:
    """(slot offset, how, port, cells): signalling from line ports, the CPU's cells out of a port, data."""
    rng = random.Random(seed)
    out = []
    t = 0
    for tag in range(count):
        t += rng.choice([0, 0, 1, 2, 5, 17])
        how = rng.choice(["line", "line", "cpu", "data", "data"])
        n = rng.randint(1, 4)
        if how == "line":
            out.append((t, how, rng.randrange(PORTS), cells_on(0, 5, n, tag)))
        elif how == "cpu":
            out.append((t, how, rng.randrange(PORTS), cells_on(0, 5, n, tag)))
        else:
            port, vci = rng.choice([(0, 40), (4, 50)])
            out.append((t, how, port, cells_on(1, vci, n, tag)))
    return out


def drive(fab: Fabric, plan, step_rng: random.Random) -> list:
    """Inject the plan as time reaches each send, advancing by random steps; the log of what software saw."""
    log = []
    plan = list(plan)
    end = plan[-1][0] + 200
    while fab.now < end:
        while plan and plan[0][0] <= fab.now:
            _, how, port, cells = plan.pop(0)
            if how == "cpu":
                fab.control.send(cells, port=port, at=fab.now)
            else:
                fab.port(port).send(cells, at=fab.now + step_rng.choice([0, 0, 3]))
        target = min(end, plan[0][0] if plan else end, fab.now + step_rng.choice([1, 2, 7, 50]))
        target = max(target, fab.now + 1)
        adv = fab.advance(target)
        log.append(("advance", adv.slot, adv.stopped, adv.ports))
        for p in adv.ports:
            r = fab.port(p).receive()
            log.append((p, r.slots.tolist(), r.in_ports.tolist(), r.vcs.tolist(), r.leaves.tolist(),
                        [bytes(c) for c in r.cells]))
    return log


def counters(fab: Fabric) -> dict:
    return {name: getattr(fab.state, name).tolist() for name in COUNTERS}


@pytest.mark.parametrize("arch", [Arch.OQ, Arch.VOQ_ISLIP])
@pytest.mark.parametrize("seed", [1, 2])
def test_entry_point_call_does_what_the_dispatcher_does(arch, seed):
    fast, slow = build(arch), build(arch)
    slow._call = lambda s, until, inj: slow._kernel(s, until, *inj)  # every call through numba's dispatcher
    plan = sends(seed)
    got_fast = drive(fast, plan, random.Random(seed))
    got_slow = drive(slow, plan, random.Random(seed))
    assert fast._call._entry is not None, "the fast call fell back to the dispatcher"
    assert got_fast == got_slow
    assert counters(fast) == counters(slow)
    assert fast.now == slow.now and fast.queued_copies() == slow.queued_copies()


def test_entry_point_is_resolved_again_for_a_new_state():
    fab = build(Arch.OQ)
    fab.advance(fab.now + 3)
    first = fab._call._entry
    assert first is not None
    fab.state = fab.state._replace()  # a rebound state (load_traffic may make one)
    fab.port(0).send(cells_on(1, 40, 2, 0))
    fab.advance(fab.now + 10)
    assert fab._call._state is fab.state and fab._call._entry is not None
    assert fab.state.port_tx[1:5].sum() > 0  # the copies went out on the new state


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_bulk_and_slot_by_slot_advances_give_software_the_same_cells(seed):
    """However the run is cut (one slot per advance, or long advances over interleaved outputs and
    several injection runs), each output receives the same cells in the same order at the same slots."""
    plan = sends(seed, 80)
    runs = []
    for steps in ([1], [1, 2, 7, 50, 300]):
        fab = build(Arch.OQ)
        rng = random.Random(seed)
        pending = list(plan)
        end = plan[-1][0] + 200
        while fab.now < end:
            while pending and pending[0][0] <= fab.now:
                _, how, port, cells = pending.pop(0)
                if how == "cpu":
                    fab.control.send(cells, port=port, at=fab.now)
                else:
                    fab.port(port).send(cells, at=fab.now)
            target = min(end, pending[0][0] if pending else end, fab.now + rng.choice(steps))
            fab.advance(max(target, fab.now + 1))
        got = {}
        for p in range(PORTS + 1):
            r = fab.port(p).receive()
            got[p] = (r.slots.tolist(), r.in_ports.tolist(), r.vcs.tolist(), r.leaves.tolist(),
                      [bytes(c) for c in r.cells])
        assert all(s == sorted(s) for s, *_ in got.values())
        runs.append((got, counters(fab)))
    assert runs[0] == runs[1]
    assert sum(len(v[0]) for v in runs[0][0].values()) > 100  # cells really reached software


def test_injection_runs_on_several_lines_enter_in_slot_then_port_order():
    """Chunks injected on several lines, overlapping in time and given out of order, enter the fabric
    one per line and slot, each at its own slot."""
    fab = build(Arch.OQ, stop_ports=(), capture_only=())
    fab.port(4).send(cells_on(0, 5, 3, 4), at=12)
    fab.port(1).send(cells_on(0, 5, 4, 1), at=10)
    fab.port(3).send(cells_on(0, 5, 2, 3), at=11)
    fab.port(1).send(cells_on(0, 5, 1, 9), at=10)     # behind port 1's first run: slot 14
    while fab.now < 40:
        fab.advance(40)
    r = fab.control.receive()
    # the control port's queue (FIFO, one cell out per slot) keeps them in the order they came in
    seen = [(int(p), int.from_bytes(bytes(c[5:9]), "big"), int.from_bytes(bytes(c[9:13]), "big"))
            for p, c in zip(r.in_ports, r.cells)]
    assert seen == [(1, 1, 0), (1, 1, 1), (3, 3, 0), (1, 1, 2), (3, 3, 1), (4, 4, 0), (1, 1, 3), (4, 4, 1),
                    (1, 9, 0), (4, 4, 2)]
    assert r.slots.tolist() == list(range(10, 20))
