"""The fabric's state: a struct of preallocated numpy arrays (no Python object per cell).

Everything the kernels touch is here, allocated once from a FabricConfig; the kernels never allocate.
Sizes depend on the configuration only, never on the run length.

Shared cell memory (the "buffer" of a shared-memory switch chip), one entry per buffered cell:

    buf_desc   int64[2]  the descriptor a delivery reads, as one 16-octet record (memory.py):
                         arrival slot; sequence number on its VC (what the leaf checker checks),
                         VC (translation-table entry) and flags (PTI, CLP, first-of-frame, payload)
    buf_ref    uint16  reference count: copies still queued (multicast replicates the pointer)
    buf_in     uint16  input port (occupancy accounting of input-queued fabrics)
    free_stack uint32  the free list (a stack of buffer numbers)
    cell_mem   uint8[52]  header (4 octets, no HEC) + payload, only when ``payload`` is on; cells
                          generated inside the kernel never use it: a leaf needs only the VC, the
                          sequence number and the arrival slot, which the descriptor holds.

Pointer RAM, one node per queued copy (a multicast cell has one node per leaf, one buffer):

    node       int32[3]  buffer, leaf, next node (-1: none): one 12-octet record, so a delivery
                         touches one cache line (rarely two) of it (queues are singly linked lists)
    node_stack uint32  the free nodes (a stack of node numbers)

Records are stored flat (record r, word k at ``r * WIDTH + k``) so the kernels index them with a
constant stride. The same holds for the counters: ``port_cf``, ``port_txf``, ``vc_cf``, ``leaf_cf``
are flat views of ``port_cnt``, ``port_tx``, ``vc_cnt``, ``leaf_cnt`` (what the register file binds,
by column). The counters the ingress writes and those the delivery accounting writes are in separate
arrays (counters.py), as are a leaf's discard state (``leaf_discard``) and its checker's state
(``leaf_rx``, ``leaf_expect``, ``leaf_pdu_cells``), and the sources' random streams (``rng``) and the
scheduler's (``sched_rng``): in a two-thread run (pipeline.py) the two sides run at once and must not
share a cache line.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from hw.fabric.config import FabricConfig
from hw.fabric.counters import (
    LEAF_COLUMNS,
    NIL,
    PORT_CAPTURE,
    PORT_COLUMNS,
    PORT_STOP,
    TX_COLUMNS,
    VC_COLUMNS,
)
from hw.fabric.memory import DESC_WIDTH, NODE_WIDTH
from hw.fabric.stats import HIST_BINS

# scalar slots of ``sc`` (int64)
SC_NOW = 0  # next slot to run
SC_FREE = 1  # free buffers (= depth of free_stack)
SC_NODE_FREE = 2  # free nodes (= depth of node_stack)
# 3: unused
SC_CAP_N = 4  # cells in the capture buffer
SC_BLK_T0 = 5  # first slot of the generated block
SC_BLK_LEN = 6  # slots in the block (0 = none generated)
SC_INJ_POS = 7  # next injected cell to take
SC_STOP = 8  # stop reason of the last run (see engine.py)
SC_ARCH = 9
SC_ITER = 10
SC_PORTS = 11  # N (line ports); control port is N
SC_GEN_ON = 12  # 1 when a traffic program is loaded
SC_LOG_N = 13  # records in the delivery log (two-thread runs, pipeline.py)
SC_COUNT = 16

# delivery log record (egress.log_delivery): delay, descriptor word, output << 32 | leaf
LOG_WIDTH = 3
LOG_DELAY = 0
LOG_WORD = 1
LOG_WHERE = 2

CELL_MEM_OCTETS = 52  # 4 header octets (without HEC) + 48 payload

FIELDS = (
    # configuration (tables), written through the register file
    "port_flags", "port_qlimit", "port_clp_th", "port_epd_th",
    "vc_flags", "vc_port", "vc_vpi", "vc_vci", "vc_head",
    "leaf_flags", "leaf_port", "leaf_vpi", "leaf_vci", "leaf_next",
    "cam_key", "cam_vc",
    # shared memory and pointer RAM
    "buf_desc", "buf_ref", "buf_in", "free_stack", "cell_mem",
    "node", "node_stack",
    "q_head", "q_tail", "occ",
    # per-VC and per-leaf dynamic state
    "vc_seq", "vc_mid", "leaf_discard", "leaf_rx", "leaf_expect", "leaf_pdu_cells",
    # counters and statistics
    "port_cnt", "port_tx", "vc_cnt", "vc_out", "leaf_cnt", "leaf_drop", "port_cf", "port_txf", "vc_cf", "leaf_cf",
    "port_dsq", "hist",
    # capture buffer (cells handed to software)
    "cap_slot", "cap_port", "cap_in", "cap_vc", "cap_leaf", "cap_cell",
    # schedulers (serve_list: the busy outputs of a slot, arch_oq.py)
    "serve_list", "ptr_grant", "ptr_accept", "ptr_mc", "req_cnt", "req_list", "grant", "match_in", "match_out",
    "mc_win",
    # traffic generator: configuration
    "gen_mode", "gen_thr", "gen_end_thr", "gen_len_kind", "gen_clp_thr",
    "alias_off", "alias_n", "alias_prob", "alias_vc", "alias_alt",
    "len_off", "len_n", "len_cdf", "len_val",
    "cal_off", "cal_len", "cal_vc",
    # traffic generator: dynamic
    "rng", "sched_rng", "gen_vc", "gen_left", "vc_left", "gen_ports", "blk_arr", "blk_end",
    # delivery log (empty: deliveries are accounted at once; see pipeline.py)
    "dlog",
    "sc",
)

FabricState = namedtuple("FabricState", FIELDS)

# leaf_discard: the frame discard state of a leaf's copies at ingress (admission.py)
LS_DISCARD_MASK = 3  # 0 normal, 1 EPD discarding, 2 PPD discarding
LS_EPD = 1
LS_PPD = 2
# leaf_rx bits: what the emulated endpoint behind the leaf remembers (egress.check_leaf). Ingress and
# egress state live in separate arrays: they may be updated by two threads at once (pipeline.py).
LS_SYNC = 4  # the checker has seen a cell
LS_FRAME_OK = 8  # the PDU being reassembled is so far exactly one frame
LS_IN_PDU = 16  # the leaf's reassembly buffer holds cells (an AUU=1 cell empties it)


def allocate(cfg: FabricConfig) -> FabricState:
    P = cfg.port_count
    M, Q, V, L, K, B = cfg.buffers, cfg.nodes, cfg.vcs, cfg.leaves, cfg.capture, cfg.block
    nq = cfg.queue_count
    cam = 1
    while cam < 2 * V:
        cam *= 2
    a = dict(
        port_flags=np.zeros(P, np.uint8),
        port_qlimit=np.full(P, M, np.int32),
        port_clp_th=np.full(P, M, np.int32),
        port_epd_th=np.full(P, M, np.int32),
        vc_flags=np.zeros(V, np.uint8),
        vc_port=np.zeros(V, np.int16),
        vc_vpi=np.zeros(V, np.int16),
        vc_vci=np.zeros(V, np.int32),
        vc_head=np.full(V, NIL, np.uint32),
        leaf_flags=np.zeros(L, np.uint8),
        leaf_port=np.zeros(L, np.uint16),
        leaf_vpi=np.zeros(L, np.int16),
        leaf_vci=np.zeros(L, np.int32),
        leaf_next=np.full(L, NIL, np.uint32),
        cam_key=np.full(cam, -1, np.int64),
        cam_vc=np.full(cam, -1, np.int32),
        buf_desc=np.zeros(M * DESC_WIDTH, np.int64),
        buf_ref=np.zeros(M, np.uint16),
        buf_in=np.zeros(M, np.uint16),
        free_stack=np.zeros(M, np.uint32),
        cell_mem=np.zeros((M if cfg.payload else 0, CELL_MEM_OCTETS), np.uint8),
        node=np.zeros(Q * NODE_WIDTH, np.int32),
        node_stack=np.zeros(Q, np.uint32),
        q_head=np.zeros(nq, np.int32),
        q_tail=np.zeros(nq, np.int32),
        occ=np.zeros(P, np.int32),
        vc_seq=np.zeros(V, np.uint32),
        vc_mid=np.zeros(V, np.uint8),
        leaf_discard=np.zeros(L, np.uint8),
        leaf_rx=np.zeros(L, np.uint8),
        leaf_expect=np.zeros(L, np.uint32),
        leaf_pdu_cells=np.zeros(L, np.uint32),  # user cells in the leaf's reassembly buffer
        port_cnt=np.zeros((P, PORT_COLUMNS), np.int64),
        port_tx=np.zeros((P, TX_COLUMNS), np.int64),
        vc_cnt=np.zeros((V, VC_COLUMNS), np.int64),
        vc_out=np.zeros(V, np.int64),
        leaf_cnt=np.zeros((L, LEAF_COLUMNS), np.int64),
        leaf_drop=np.zeros(L, np.int64),
        port_dsq=np.zeros(P, np.float64),
        hist=np.zeros(HIST_BINS, np.int64),
        cap_slot=np.zeros(K, np.int64),
        cap_port=np.zeros(K, np.int16),
        cap_in=np.zeros(K, np.int16),
        cap_vc=np.zeros(K, np.int32),
        cap_leaf=np.zeros(K, np.int32),
        cap_cell=np.zeros((K, 53), np.uint8),
        serve_list=np.zeros(P, np.uint16),
        ptr_grant=np.zeros(P, np.int32),
        ptr_accept=np.zeros(P, np.int32),
        ptr_mc=np.zeros(P, np.int32),
        req_cnt=np.zeros(P, np.int32),
        req_list=np.zeros((P, P), np.int32),
        grant=np.zeros(P, np.int32),
        match_in=np.zeros(P, np.int32),
        match_out=np.zeros(P, np.int32),
        mc_win=np.zeros(P, np.int32),
        gen_mode=np.zeros(P, np.uint8),
        gen_thr=np.zeros(P, np.uint64),
        gen_end_thr=np.zeros(P, np.uint64),
        gen_len_kind=np.zeros(P, np.uint8),
        gen_clp_thr=np.zeros(P, np.uint64),
        alias_off=np.zeros(P, np.uint32),
        alias_n=np.zeros(P, np.uint32),
        alias_prob=np.zeros(1, np.uint64),
        alias_vc=np.zeros(1, np.uint32),
        alias_alt=np.zeros(1, np.uint32),
        len_off=np.zeros(P, np.uint32),
        len_n=np.zeros(P, np.uint32),
        len_cdf=np.zeros(1, np.uint64),
        len_val=np.ones(1, np.int32),
        cal_off=np.zeros(P, np.uint32),
        cal_len=np.zeros(P, np.uint32),
        cal_vc=np.full(1, -1, np.int32),
        rng=np.ones(P, np.uint64),  # one stream per input port (the sources)
        sched_rng=np.ones(1, np.uint64),  # the scheduler's stream (PIM, FIFO contention)
        gen_vc=np.zeros(P, np.int32),
        gen_left=np.zeros(P, np.int32),
        vc_left=np.zeros(V, np.int32),
        gen_ports=np.zeros(P, np.uint16),
        blk_arr=np.zeros(P * B, np.int32),  # generated arrivals of a block (generator.py)
        blk_end=np.zeros(B, np.int32),
        dlog=np.zeros(0, np.int64),
        sc=np.zeros(SC_COUNT, np.int64),
    )
    a.update(port_cf=a["port_cnt"].reshape(-1), port_txf=a["port_tx"].reshape(-1), vc_cf=a["vc_cnt"].reshape(-1),
             leaf_cf=a["leaf_cnt"].reshape(-1))
    s = FabricState(**a)
    s.sc[SC_ARCH] = int(cfg.arch)
    s.sc[SC_ITER] = cfg.iterations
    s.sc[SC_PORTS] = cfg.ports
    reset_dynamic(s, cfg)
    s.port_flags[cfg.control] = PORT_CAPTURE | PORT_STOP
    return s


def reset_dynamic(s: FabricState, cfg: FabricConfig) -> None:
    """Empty memory and queues (the state after a hardware reset, tables aside)."""
    M, Q = cfg.buffers, cfg.nodes
    s.free_stack[:] = np.arange(M - 1, -1, -1, dtype=np.uint32)  # pop order 0, 1, 2...
    s.buf_ref[:] = 0
    s.node_stack[:] = np.arange(Q - 1, -1, -1, dtype=np.uint32)  # pop order 0, 1, 2...
    s.q_head[:] = -1
    s.q_tail[:] = -1
    s.occ[:] = 0
    s.sc[SC_FREE] = M
    s.sc[SC_NODE_FREE] = Q
    s.sc[SC_CAP_N] = 0
    s.sc[SC_BLK_LEN] = 0
    s.sc[SC_INJ_POS] = 0
    s.ptr_grant[:] = 0
    s.ptr_accept[:] = 0
    s.ptr_mc[:] = 0


#: arrays sized by the shared memory (M) and the pointer RAM (Q): what a buffered cell costs
PER_BUFFER = ("buf_desc", "buf_ref", "buf_in", "free_stack")
PER_NODE = ("node", "node_stack")
#: fields that are views of other fields (not counted twice)
VIEWS = ("port_cf", "port_txf", "vc_cf", "leaf_cf")
#: the counters and statistics (Fabric.reset_statistics zeroes them)
COUNTERS = ("port_cnt", "port_tx", "vc_cnt", "vc_out", "leaf_cnt", "leaf_drop", "port_dsq", "hist")


def octets_per_buffered_cell(s: FabricState) -> dict[str, float]:
    """Octets of state per cell of shared memory: the descriptor and free list, the pointer nodes
    (nodes / buffers of them), and the stored cell when payloads are kept."""
    M = s.buf_ref.shape[0]
    desc = sum(getattr(s, f).nbytes for f in PER_BUFFER) / M
    nodes = sum(getattr(s, f).nbytes for f in PER_NODE) / M
    cell = s.cell_mem.nbytes / M
    return {"descriptor": desc, "pointer_nodes": nodes, "cell": cell, "total": desc + nodes + cell}


def state_bytes(s: FabricState) -> int:
    return sum(getattr(s, f).nbytes for f in FIELDS if f not in VIEWS)
