"""The engine kernel and its plain-Python twin agree cell by cell on random configurations.

Each case draws a small fabric (2..5 ports, any architecture, a shared memory small enough to
overflow, random thresholds), a random traffic program (every kind, multicast, CLP, AAL5 with EPD
and PPD), injected cells (signalling, traffic VCs, unknown VCs, bad HECs, control-port sends with
and without routing tag) and random STOP ports, then advances both in the same random steps. Every
output captures every cell, so the comparison covers each delivered cell's slot, port, VC, leaf and
53 octets, plus every counter, the delay histogram and the final contents of every queue.
"""

from __future__ import annotations

import numpy as np
import pytest

from hw.fabric.config import Arch, FabricConfig
from hw.fabric.counters import NIL
from hw.fabric.fabric import Fabric, queue_contents
from hw.fabric.tables import header_twin
from hw.fabric.traffic import KINDS, Traffic, build
from hw.fabric.twin import TwinFabric


def random_cells(rng: np.random.Generator, n: int, N: int) -> np.ndarray:
    cells = rng.integers(0, 256, size=(n, 53), dtype=np.uint8)
    for row in cells:
        kind = rng.integers(0, 5)
        if kind == 0:  # signalling
            vpi, vci = 0, 5
        elif kind == 1:  # a traffic VC (VPI 1, VCI 32 + k)
            vpi, vci = 1, 32 + int(rng.integers(0, N))
        elif kind == 2:  # unknown
            vpi, vci = 7, 1000 + int(rng.integers(0, 50))
        else:
            vpi, vci = 1, 32 + int(rng.integers(0, N))
        pti = int(rng.choice([0, 1, 0, 1, 4, 2]))
        head = header_twin(int(rng.integers(0, 16)), vpi, vci, pti, int(rng.integers(0, 2)))
        row[:5] = np.frombuffer(head, np.uint8)
        if kind == 4:  # corrupt the header: HEC mismatch
            row[4] ^= 0x5A
    return cells


def build_case(seed: int):
    rng = np.random.default_rng(seed)
    N = int(rng.integers(2, 6))
    arch = Arch(int(rng.integers(0, 4)))
    buffers = int(rng.integers(6, 48))
    cfg = FabricConfig(
        ports=N, arch=arch, iterations=int(rng.integers(1, 4)), buffers=buffers,
        nodes=int(buffers * rng.choice([1, 2])), vcs=4 * N + N * N, leaves=4 * N + N * N * N,
        capture=int(rng.integers(4 * (N + 1), 12 * (N + 1))), block=int(rng.integers(1, 40)),
    )
    fab = Fabric(cfg, seed=int(rng.integers(0, 2**31)))
    kind = KINDS[int(rng.integers(0, len(KINDS)))]
    traffic = Traffic(
        kind, load=float(rng.uniform(0.2, 1.0)), multicast_fraction=float(rng.choice([0.0, 0.3, 0.6])),
        fanout=int(rng.integers(1, N + 1)), hot_port=int(rng.integers(0, N)), burst=float(rng.uniform(1, 6)),
        clp=float(rng.choice([0.0, 0.3])), aal5=bool(rng.integers(0, 2)) or kind in ("aal5", "bursty"),
        epd=bool(rng.integers(0, 2)), ppd=bool(rng.integers(0, 2)),
        frame_sizes=((40, 0.5), (200, 0.3), (400, 0.2)) if rng.integers(0, 2) else None, cbr_frame=97,
    )
    fab.load_traffic(build(traffic, N), seed=int(rng.integers(0, 2**31)))
    stop_port = int(rng.integers(0, N + 1)) if rng.random() < 0.7 else -1
    for p in range(N + 1):
        lim = int(rng.integers(1, buffers + 1))
        fab.regs.set("PORT.QLIMIT", p, LIMIT=lim)
        fab.regs.set("PORT.CLP_THRESH", p, LIMIT=int(rng.integers(0, lim + 1)))
        fab.regs.set("PORT.EPD_THRESH", p, LIMIT=int(rng.integers(0, lim + 1)))
        fab.regs.set("PORT.CTRL", p, CAPTURE=1, STOP=int(p == stop_port))
    return rng, fab


def same_received(fab: Fabric, twin: TwinFabric, P: int) -> None:
    for p in range(P):
        got = fab.port(p).receive()
        want = twin.receive(p)
        assert len(got) == len(want), f"port {p}: {len(got)} cells from the kernel, {len(want)} from the twin"
        for k, (slot, port, inp, vc, leaf, cell) in enumerate(want):
            where = f"port {p} cell {k}"
            assert (got.slots[k], got.in_ports[k], got.vcs[k], got.leaves[k]) == (slot, inp, vc, leaf), where
            assert bytes(got.cells[k]) == cell, where


@pytest.mark.parametrize("seed", range(40))
def test_kernel_and_twin_agree(seed):
    rng, fab = build_case(seed)
    twin = TwinFabric(fab)
    N = fab.config.ports
    P = N + 1
    for step in range(int(rng.integers(3, 7))):
        for _ in range(int(rng.integers(0, 3))):
            port = int(rng.integers(0, P))
            cells = random_cells(rng, int(rng.integers(1, 5)), N)
            at = fab.now + int(rng.integers(0, 20))
            if port == N and rng.random() < 0.5:
                dest = int(rng.integers(0, N))
                fab.control.send(cells, port=dest, at=at)
                twin.inject(port, cells, at=at, tag=N + dest)
            else:
                fab.inject(port, cells, at=at)
                twin.inject(port, cells, at=at)
        if rng.random() < 0.5:  # the control plane drops or restores a party (both read the same tables)
            leaf = int(rng.integers(2 * N, 2 * N + fab.traffic.leaf_count))
            fab.regs.set("LEAF.CTRL", leaf, VALID=int(rng.random() < 0.3))
        until = fab.now + int(rng.integers(1, 150))
        while fab.now < until:
            got = fab.advance(until)
            want = twin.advance(until)
            assert (got.slot, got.stopped) == want, f"step {step}: kernel stopped at {got}, twin at {want}"
            same_received(fab, twin, P)
    s = fab.state
    np.testing.assert_array_equal(s.port_cnt, twin.port_cnt)
    np.testing.assert_array_equal(s.vc_cnt, twin.vc_cnt)
    np.testing.assert_array_equal(s.leaf_cnt, twin.leaf_cnt)
    np.testing.assert_array_equal(s.hist, twin.hist)
    np.testing.assert_array_equal(s.port_dsq, twin.port_dsq)
    assert queue_contents(fab) == twin.queue_contents()
    assert int(s.sc[1]) == twin.free_buffers
    # the run did exercise the fabric: cells were delivered and (small memory) some were dropped
    assert s.port_cnt[:, 2].sum() > 0


def test_twin_catches_a_wrong_kernel():
    """The comparison can fail: a fabric whose table the twin does not see diverges at once."""
    rng, fab = build_case(3)
    twin = TwinFabric(fab)
    fab.run(50)
    twin.advance(50)
    while twin.now < 50:
        twin.advance(50)
    np.testing.assert_array_equal(fab.state.port_cnt, twin.port_cnt)
    twin.s = twin.s._replace(vc_head=np.full_like(fab.state.vc_head, NIL))  # the twin sees no leaves
    fab.run(100)
    while twin.now < 100:
        twin.advance(100)
    assert not np.array_equal(fab.state.port_cnt, twin.port_cnt)
