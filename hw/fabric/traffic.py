"""Traffic programs: what the in-kernel sources (generator.py) send, and the VCs they send on.

A :class:`Traffic` describes the offered traffic; :func:`build` turns it into a
:class:`TrafficProgram`: the translation-table entries the switch needs (programmed through the
register file by Fabric.load_traffic, as the control plane would) and the generator's tables.

``load`` is always the offered load per input: cells per input per slot (the p of switch-models.md).
With multicast VCs each cell becomes several copies, so an output's offered load is
``load x mean fanout`` (e.g. load 0.9 with a quarter of the cells on fanout-4 VCs offers 1.575
copies per output per slot: the outputs are overloaded and drop).

VCs of traffic (input i, its k-th VC): incoming VPI 1 / VCI 32 + k on port i; every leaf sends it out
as VPI i / VCI 32 + k, unique on each output. Each input has N VCs: the first round(f N) are
point-to-multipoint with ``fanout`` leaves on outputs (i + mF + r) mod N, r < fanout; VC k of the
others goes to output (i + k) mod N. Every input's pattern is a rotation of input 0's, so the offered
load is the same on every output.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from hw.fabric import generator as g
from hw.fabric.errors import FabricConfigError
from hw.fabric.rng import threshold

KINDS = ("uniform", "hotspot", "bursty", "aal5", "cbr")

#: "simple IMIX" (7:4:1 of 40, 576 and 1500-octet IP packets), as AAL5 SDU sizes
IMIX = ((40, 7 / 12), (576, 4 / 12), (1500, 1 / 12))
TRAFFIC_VPI = 1
TRAFFIC_VCI = 32


def aal5_cells(octets: int) -> int:
    """Cells of an AAL5 CPCS-PDU carrying ``octets`` of SDU: SDU + 8-octet trailer, padded to 48
    (I.363.5)."""
    return -(-(octets + 8) // 48)


@dataclass(frozen=True)
class Traffic:
    kind: str = "uniform"
    load: float = 0.5  # cells per input per slot
    multicast_fraction: float = 0.0  # share of each input's VCs (hence of its cells) that are multicast
    fanout: int = 4  # leaves of each multicast VC
    hot_port: int = 0  # hotspot: the hot output
    hot_fraction: float = 0.5  # hotspot: share of every input's cells that go to the hot output
    burst: float = 16.0  # bursty: mean burst length (cells), geometric
    frame_sizes: tuple[tuple[int, float], ...] | None = None  # (SDU octets, probability); aal5: IMIX
    clp: float = 0.0  # probability that a generated cell has CLP=1
    aal5: bool | None = None  # mark the VCs AAL5 (default: aal5/bursty traffic, frame sizes, EPD or PPD)
    epd: bool = False
    ppd: bool = False
    inputs: tuple[int, ...] | None = None  # inputs that carry traffic (default: every line port)
    cbr_frame: int = 4096  # CBR calendar length (slots)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise FabricConfigError("traffic", self.kind, "one of " + ", ".join(KINDS))
        for name in ("load", "multicast_fraction", "hot_fraction", "clp"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and 0.0 <= v <= 1.0):
                raise FabricConfigError(name, v, "a number in 0..1")
        if self.burst < 1:
            raise FabricConfigError("burst", self.burst, ">= 1 cell")
        if self.fanout < 1:
            raise FabricConfigError("fanout", self.fanout, ">= 1")


@dataclass
class TrafficProgram:
    """Tables for one fabric size: VC entries (from ``first_vc``) with their leaves, and generator."""

    ports: int
    vc_port: np.ndarray
    vc_vpi: np.ndarray
    vc_vci: np.ndarray
    vc_aal5: bool
    vc_epd: bool
    vc_ppd: bool
    vc_mcast: np.ndarray  # bool per VC
    leaf_vc: np.ndarray  # VC (0-based in this program) of each leaf, leaves of one VC contiguous
    leaf_port: np.ndarray
    leaf_vpi: np.ndarray
    leaf_vci: np.ndarray
    gen: dict = field(default_factory=dict)  # generator arrays, VC numbers 0-based in this program

    @property
    def vc_count(self) -> int:
        return int(self.vc_port.shape[0])

    @property
    def leaf_count(self) -> int:
        return int(self.leaf_vc.shape[0])


def _alias(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vose's alias table with 32-bit integer thresholds: (prob, alias) per column."""
    n = len(weights)
    scaled = np.asarray(weights, dtype=float) * n / float(np.sum(weights))
    prob = np.zeros(n, dtype=np.uint64)
    alias = np.arange(n, dtype=np.int64)
    small = [j for j in range(n) if scaled[j] < 1.0]
    large = [j for j in range(n) if scaled[j] >= 1.0]
    while small and large:
        s_, l_ = small.pop(), large.pop()
        prob[s_] = threshold(scaled[s_])
        alias[s_] = l_
        scaled[l_] = scaled[l_] + scaled[s_] - 1.0
        (small if scaled[l_] < 1.0 else large).append(l_)
    for j in large + small:  # what remains is 1 up to rounding
        prob[j] = 1 << 32
        alias[j] = j
    return prob, alias


def _length_table(sizes) -> tuple[np.ndarray, np.ndarray]:
    cells = np.array([aal5_cells(int(o)) for o, _ in sizes], dtype=np.int32)
    p = np.array([float(q) for _, q in sizes])
    if np.any(p < 0) or p.sum() <= 0:
        raise FabricConfigError("frame_sizes", sizes, "(octets, probability) pairs with positive total")
    cdf = np.cumsum(p / p.sum())
    thr = np.array([threshold(min(c, 1.0)) for c in cdf], dtype=np.uint64)
    thr[-1] = 1 << 32
    return thr, cells


def build(t: Traffic, ports: int) -> TrafficProgram:
    N = ports
    inputs = tuple(range(N)) if t.inputs is None else tuple(t.inputs)
    for i in inputs:
        if not 0 <= i < N:
            raise FabricConfigError("inputs", i, f"line ports 0..{N - 1}")
    if t.kind == "hotspot" and not 0 <= t.hot_port < N:
        raise FabricConfigError("hot_port", t.hot_port, f"0..{N - 1}")
    fanout = min(t.fanout, N)
    n_mc = int(round(t.multicast_fraction * N))
    aal5 = t.aal5 if t.aal5 is not None else (
        t.kind in ("aal5", "bursty") or t.frame_sizes is not None or t.epd or t.ppd
    )

    vc_port, vc_vpi, vc_vci, vc_mcast = [], [], [], []
    leaf_vc, leaf_port, leaf_vpi, leaf_vci = [], [], [], []
    vcs_of_input: dict[int, list[int]] = {}
    out_of_vc: list[int] = []
    for i in inputs:
        mine = []
        for k in range(N):
            v = len(vc_port)
            mine.append(v)
            vc_port.append(i)
            vc_vpi.append(TRAFFIC_VPI)
            vc_vci.append(TRAFFIC_VCI + k)
            if k < n_mc:
                outs = [(i + k * fanout + r) % N for r in range(fanout)]
            else:
                outs = [(i + k) % N]
            vc_mcast.append(len(outs) > 1)
            out_of_vc.append(outs[0])
            for o in outs:
                leaf_vc.append(v)
                leaf_port.append(o)
                leaf_vpi.append(i & 0xFF)
                leaf_vci.append(TRAFFIC_VCI + k)
        vcs_of_input[i] = mine

    P = N + 1
    gen_mode = np.zeros(P, np.uint8)
    gen_thr = np.zeros(P, np.uint64)
    gen_end = np.zeros(P, np.uint64)
    gen_len_kind = np.zeros(P, np.uint8)
    gen_clp = np.zeros(P, np.uint64)
    alias_off = np.zeros(P, np.int32)
    alias_n = np.zeros(P, np.int32)
    probs, vcs, alts = [], [], []
    len_off = np.zeros(P, np.int32)
    len_n = np.zeros(P, np.int32)
    len_cdf, len_val = [], []
    cal_off = np.zeros(P, np.int32)
    cal_len = np.zeros(P, np.int32)
    cal = []

    sizes = t.frame_sizes if t.frame_sizes is not None else (IMIX if t.kind == "aal5" else None)
    table = _length_table(sizes) if sizes is not None else None

    for i in inputs:
        mine = vcs_of_input[i]
        if t.kind == "hotspot":
            w = np.array([t.hot_fraction * (out_of_vc[v] == t.hot_port) + (1 - t.hot_fraction) / N for v in mine])
        else:
            w = np.ones(len(mine))
        prob, alias = _alias(w)
        alias_off[i] = len(probs)
        alias_n[i] = len(mine)
        probs.extend(prob.tolist())
        vcs.extend(mine)
        alts.extend(mine[a] for a in alias)
        gen_clp[i] = threshold(t.clp)
        if table is not None:
            len_off[i] = len(len_cdf)
            len_n[i] = len(table[0])
            len_cdf.extend(table[0].tolist())
            len_val.extend(table[1].tolist())
            gen_len_kind[i] = g.LEN_TABLE
        if t.kind in ("uniform", "hotspot", "aal5"):
            gen_mode[i] = g.MODE_BERNOULLI
            gen_thr[i] = threshold(t.load)
        elif t.kind == "bursty":
            gen_mode[i] = g.MODE_ONOFF
            if table is not None:
                mean = float(np.dot(table[1], np.diff(np.concatenate([[0.0], table[0].astype(float)])) / 2**32))
            else:
                mean = t.burst
                gen_end[i] = threshold(1.0 / t.burst)
            # idle slots before a burst ~ geometric with mean B (1-p)/p  =>  q = p / (p + B (1 - p))
            q = 0.0 if t.load == 0 else t.load / (t.load + mean * (1.0 - t.load))
            gen_thr[i] = threshold(q)
        else:  # cbr: each VC gets load/N of the slots of a static calendar
            gen_mode[i] = g.MODE_CBR
            F = t.cbr_frame
            slots = np.full(F, -1, np.int64)
            per_vc = int(math.floor(t.load / len(mine) * F + 1e-9))
            for j, v in enumerate(mine):
                for m in range(per_vc):
                    pos = (j + (m * F) // per_vc) % F
                    while slots[pos] >= 0:
                        pos = (pos + 1) % F
                    slots[pos] = v
            cal_off[i] = len(cal)
            cal_len[i] = F
            cal.extend(slots.tolist())

    gen = dict(
        gen_mode=gen_mode, gen_thr=gen_thr, gen_end_thr=gen_end, gen_len_kind=gen_len_kind, gen_clp_thr=gen_clp,
        alias_off=alias_off, alias_n=alias_n,
        alias_prob=np.array(probs or [0], np.uint64), alias_vc=np.array(vcs or [0], np.int32),
        alias_alt=np.array(alts or [0], np.int32),
        len_off=len_off, len_n=len_n,
        len_cdf=np.array(len_cdf or [1 << 32], np.uint64), len_val=np.array(len_val or [1], np.int32),
        cal_off=cal_off, cal_len=cal_len, cal_vc=np.array(cal or [-1], np.int32),
    )
    return TrafficProgram(
        ports=N,
        vc_port=np.array(vc_port, np.int64), vc_vpi=np.array(vc_vpi, np.int64), vc_vci=np.array(vc_vci, np.int64),
        vc_aal5=aal5, vc_epd=t.epd, vc_ppd=t.ppd, vc_mcast=np.array(vc_mcast, bool),
        leaf_vc=np.array(leaf_vc, np.int64), leaf_port=np.array(leaf_port, np.int64),
        leaf_vpi=np.array(leaf_vpi, np.int64), leaf_vci=np.array(leaf_vci, np.int64),
        gen=gen,
    )


def mean_fanout(p: TrafficProgram) -> float:
    return p.leaf_count / max(p.vc_count, 1)
