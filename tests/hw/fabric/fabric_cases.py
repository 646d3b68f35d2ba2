"""Random fabric cases shared by the equivalence tests (test_twin.py, test_pipeline.py): a small
fabric (2..5 ports, any architecture, a shared memory small enough to overflow, random thresholds,
random generator block), a random traffic program (every kind, multicast, CLP, AAL5 with EPD and PPD),
random STOP ports, and injected cells of every sort (signalling, traffic VCs, unknown VCs, bad HECs).
About a third of the cases load the traffic with ACCOUNT_ONLY leaves (Fabric.load_traffic(account_only=
True)): its copies are then counted but neither captured nor stopping, on ports that capture and stop."""

from __future__ import annotations

import numpy as np

from hw.fabric.config import Arch, FabricConfig
from hw.fabric.fabric import Fabric
from hw.fabric.tables import header_twin
from hw.fabric.traffic import KINDS, Traffic, build


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


def build_case(seed: int, threads: int = 1):
    rng = np.random.default_rng(seed)
    N = int(rng.integers(2, 6))
    arch = Arch(int(rng.integers(0, 4)))
    buffers = int(rng.integers(6, 48))
    cfg = FabricConfig(
        ports=N, arch=arch, iterations=int(rng.integers(1, 4)), buffers=buffers,
        nodes=int(buffers * rng.choice([1, 2])), vcs=4 * N + N * N, leaves=4 * N + N * N * N,
        capture=int(rng.integers(4 * (N + 1), 12 * (N + 1))), block=int(rng.integers(1, 40)), threads=threads,
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
    fab.load_traffic(build(traffic, N), seed=int(rng.integers(0, 2**31)), account_only=bool(rng.random() < 0.35))
    stop_port = int(rng.integers(0, N + 1)) if rng.random() < 0.7 else -1
    for p in range(N + 1):
        lim = int(rng.integers(1, buffers + 1))
        fab.regs.set("PORT.QLIMIT", p, LIMIT=lim)
        fab.regs.set("PORT.CLP_THRESH", p, LIMIT=int(rng.integers(0, lim + 1)))
        fab.regs.set("PORT.EPD_THRESH", p, LIMIT=int(rng.integers(0, lim + 1)))
        fab.regs.set("PORT.CTRL", p, CAPTURE=1, STOP=int(p == stop_port))
    return rng, fab


def same_received(fab: Fabric, twin, P: int) -> None:
    """Every output received the same cells from ``fab`` and ``twin`` (a TwinFabric)."""
    for p in range(P):
        got = fab.port(p).receive()
        want = twin.receive(p)
        assert len(got) == len(want), f"port {p}: {len(got)} cells from the kernel, {len(want)} from the twin"
        for k, (slot, port, inp, vc, leaf, cell) in enumerate(want):
            where = f"port {p} cell {k}"
            assert (got.slots[k], got.in_ports[k], got.vcs[k], got.leaves[k]) == (slot, inp, vc, leaf), where
            assert bytes(got.cells[k]) == cell, where
