"""The fabric's state: a struct of preallocated numpy arrays (no Python object per cell).

Everything the kernels touch is here, allocated once from a FabricConfig; the kernels never allocate.
Sizes depend on the configuration only, never on the run length.

Shared cell memory (the "buffer" of a shared-memory switch chip), one entry per buffered cell:

    buf_vc     int32   VC (translation-table entry) of the cell
    buf_seq    uint32  ingress sequence number of the cell on its VC (what the leaf checker checks)
    buf_arr    int64   arrival slot (for the queueing delay)
    buf_ref    uint16  reference count: copies still queued (multicast replicates the pointer)
    buf_flags  uint8   PTI, CLP, first-of-frame, has-payload
    buf_in     uint16  input port (occupancy accounting of input-queued fabrics)
    free_stack int32   the free list (a stack of buffer numbers)
    cell_mem   uint8[52]  header (4 octets, no HEC) + payload, only when ``payload`` is on; cells
                          generated inside the kernel never use it: a leaf needs only the VC, the
                          sequence number and the arrival slot, which the descriptor holds.

Pointer RAM, one node per queued copy (a multicast cell has one node per leaf, one buffer):

    node_buf, node_leaf, node_next   int32  (queues are singly linked lists of nodes)
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
    VC_COLUMNS,
)
from hw.fabric.stats import HIST_BINS

# scalar slots of ``sc`` (int64)
SC_NOW = 0  # next slot to run
SC_FREE = 1  # free buffers (= depth of free_stack)
SC_NODE_FREE = 2  # head of the free node list
SC_NODE_AVAIL = 3  # free nodes
SC_CAP_N = 4  # cells in the capture buffer
SC_BLK_T0 = 5  # first slot of the generated block
SC_BLK_LEN = 6  # slots in the block (0 = none generated)
SC_INJ_POS = 7  # next injected cell to take
SC_STOP = 8  # stop reason of the last run (see engine.py)
SC_ARCH = 9
SC_ITER = 10
SC_PORTS = 11  # N (line ports); control port is N
SC_GEN_ON = 12  # 1 when a traffic program is loaded
SC_COUNT = 16

CELL_MEM_OCTETS = 52  # 4 header octets (without HEC) + 48 payload

FIELDS = (
    # configuration (tables), written through the register file
    "port_flags", "port_qlimit", "port_clp_th", "port_epd_th",
    "vc_flags", "vc_port", "vc_vpi", "vc_vci", "vc_head",
    "leaf_flags", "leaf_port", "leaf_vpi", "leaf_vci", "leaf_next",
    "cam_key", "cam_vc",
    # shared memory and pointer RAM
    "buf_vc", "buf_seq", "buf_arr", "buf_ref", "buf_flags", "buf_in", "free_stack", "cell_mem",
    "node_buf", "node_leaf", "node_next",
    "q_head", "q_tail", "q_len", "occ",
    # per-VC and per-leaf dynamic state
    "vc_seq", "vc_mid", "leaf_state", "leaf_expect", "leaf_pdu_cells",
    # counters and statistics
    "port_cnt", "vc_cnt", "leaf_cnt", "port_dsq", "hist",
    # capture buffer (cells handed to software)
    "cap_slot", "cap_port", "cap_in", "cap_vc", "cap_leaf", "cap_cell",
    # schedulers
    "ptr_grant", "ptr_accept", "ptr_mc", "req_cnt", "req_list", "grant", "match_in", "match_out", "mc_win",
    # traffic generator: configuration
    "gen_mode", "gen_thr", "gen_end_thr", "gen_len_kind", "gen_clp_thr",
    "alias_off", "alias_n", "alias_prob", "alias_vc", "alias_alt",
    "len_off", "len_n", "len_cdf", "len_val",
    "cal_off", "cal_len", "cal_vc",
    # traffic generator: dynamic
    "rng", "gen_vc", "gen_left", "vc_left", "blk_vc", "blk_fl",
    "sc",
)

FabricState = namedtuple("FabricState", FIELDS)

# leaf_state bits
LS_DISCARD_MASK = 3  # 0 normal, 1 EPD discarding, 2 PPD discarding
LS_EPD = 1
LS_PPD = 2
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
        vc_head=np.full(V, NIL, np.int32),
        leaf_flags=np.zeros(L, np.uint8),
        leaf_port=np.zeros(L, np.int16),
        leaf_vpi=np.zeros(L, np.int16),
        leaf_vci=np.zeros(L, np.int32),
        leaf_next=np.full(L, NIL, np.int32),
        cam_key=np.full(cam, -1, np.int64),
        cam_vc=np.full(cam, -1, np.int32),
        buf_vc=np.zeros(M, np.int32),
        buf_seq=np.zeros(M, np.uint32),
        buf_arr=np.zeros(M, np.int64),
        buf_ref=np.zeros(M, np.uint16),
        buf_flags=np.zeros(M, np.uint8),
        buf_in=np.zeros(M, np.uint16),
        free_stack=np.zeros(M, np.int32),
        cell_mem=np.zeros((M if cfg.payload else 0, CELL_MEM_OCTETS), np.uint8),
        node_buf=np.zeros(Q, np.int32),
        node_leaf=np.zeros(Q, np.int32),
        node_next=np.zeros(Q, np.int32),
        q_head=np.zeros(nq, np.int32),
        q_tail=np.zeros(nq, np.int32),
        q_len=np.zeros(nq, np.int32),
        occ=np.zeros(P, np.int32),
        vc_seq=np.zeros(V, np.uint32),
        vc_mid=np.zeros(V, np.uint8),
        leaf_state=np.zeros(L, np.uint8),
        leaf_expect=np.zeros(L, np.uint32),
        leaf_pdu_cells=np.zeros(L, np.uint32),  # user cells in the leaf's reassembly buffer
        port_cnt=np.zeros((P, PORT_COLUMNS), np.int64),
        vc_cnt=np.zeros((V, VC_COLUMNS), np.int64),
        leaf_cnt=np.zeros((L, LEAF_COLUMNS), np.int64),
        port_dsq=np.zeros(P, np.float64),
        hist=np.zeros(HIST_BINS, np.int64),
        cap_slot=np.zeros(K, np.int64),
        cap_port=np.zeros(K, np.int16),
        cap_in=np.zeros(K, np.int16),
        cap_vc=np.zeros(K, np.int32),
        cap_leaf=np.zeros(K, np.int32),
        cap_cell=np.zeros((K, 53), np.uint8),
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
        alias_off=np.zeros(P, np.int32),
        alias_n=np.zeros(P, np.int32),
        alias_prob=np.zeros(1, np.uint64),
        alias_vc=np.zeros(1, np.int32),
        alias_alt=np.zeros(1, np.int32),
        len_off=np.zeros(P, np.int32),
        len_n=np.zeros(P, np.int32),
        len_cdf=np.zeros(1, np.uint64),
        len_val=np.ones(1, np.int32),
        cal_off=np.zeros(P, np.int32),
        cal_len=np.zeros(P, np.int32),
        cal_vc=np.full(1, -1, np.int32),
        rng=np.ones(P + 1, np.uint64),  # one stream per input port, then the scheduler's
        gen_vc=np.zeros(P, np.int32),
        gen_left=np.zeros(P, np.int32),
        vc_left=np.zeros(V, np.int32),
        blk_vc=np.full((P, B), -1, np.int32),
        blk_fl=np.zeros((P, B), np.uint8),
        sc=np.zeros(SC_COUNT, np.int64),
    )
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
    s.free_stack[:] = np.arange(M - 1, -1, -1, dtype=np.int32)  # pop order 0, 1, 2...
    s.buf_ref[:] = 0
    s.node_next[:] = np.arange(1, Q + 1, dtype=np.int32)
    s.node_next[Q - 1] = -1
    s.q_head[:] = -1
    s.q_tail[:] = -1
    s.q_len[:] = 0
    s.occ[:] = 0
    s.sc[SC_FREE] = M
    s.sc[SC_NODE_FREE] = 0
    s.sc[SC_NODE_AVAIL] = Q
    s.sc[SC_CAP_N] = 0
    s.sc[SC_BLK_LEN] = 0
    s.sc[SC_INJ_POS] = 0
    s.ptr_grant[:] = 0
    s.ptr_accept[:] = 0
    s.ptr_mc[:] = 0


#: arrays sized by the shared memory (M) and the pointer RAM (Q): what a buffered cell costs
PER_BUFFER = ("buf_vc", "buf_seq", "buf_arr", "buf_ref", "buf_flags", "buf_in", "free_stack")
PER_NODE = ("node_buf", "node_leaf", "node_next")


def octets_per_buffered_cell(s: FabricState) -> dict[str, float]:
    """Octets of state per cell of shared memory: the descriptor and free list, the pointer nodes
    (nodes / buffers of them), and the stored cell when payloads are kept."""
    M = s.buf_vc.shape[0]
    desc = sum(getattr(s, f).nbytes for f in PER_BUFFER) / M
    nodes = sum(getattr(s, f).nbytes for f in PER_NODE) / M
    cell = s.cell_mem.nbytes / M
    return {"descriptor": desc, "pointer_nodes": nodes, "cell": cell, "total": desc + nodes + cell}


def state_bytes(s: FabricState) -> int:
    return sum(a.nbytes for a in s)
