"""The switch fabric's register map, declared once.

The switch control plane programs the translation and leaf tables and reads every counter through
this map (hw.regs.RegisterFile bound to the fabric's arrays, see fabric.py). ``atmemu regs fabric``
prints it as Markdown.
"""

from __future__ import annotations

from hw.fabric.config import Arch, FabricConfig
from hw.fabric.counters import (
    LEAF_DELAY_MAX,
    LEAF_DELAY_MIN,
    LEAF_DELAY_SUM,
    LEAF_FRAMES_BAD,
    LEAF_FRAMES_OK,
    LEAF_GOOD_CELLS,
    LEAF_LOST,
    LEAF_MISORDERED,
    LEAF_OUT,
    N_DROP,
    NIL,
    PORT_GEN_BLOCKED,
    PORT_RX_CELLS,
    PORT_RX_COPIES,
    PORT_TX_UNCAPTURED,
    TX_CELLS,
    TX_DELAY_MAX,
    TX_DELAY_SUM,
    VC_IN_CELLS,
    VC_OFFERED,
    Drop,
)
from hw.regs import Access, Field, Register, RegisterMap, Window, counter

DEVICE = "fabric"

FABRIC_ID = 0xA7F5  # "ATM fabric switch"
FABRIC_VERSION = 2  # 2: LEAF.CTRL.ACCOUNT_ONLY and PORT.TX_UNCAPTURED (v1 offsets unchanged)

PORT_BASE = 0x0000_1000
PORT_STRIDE = 0x100
VC_BASE = 0x0100_0000
VC_STRIDE = 0x80
LEAF_BASE = 0x0200_0000
LEAF_STRIDE = 0x80
HIST_BASE = 0x0300_0000

RO, RW, W1C = Access.RO, Access.RW, Access.W1C

# Array (a field of the state, state.py) and column (None: a 1-D array) of each 64-bit counter
# register, in register order (the binding in fabric.py). DROP_* counters: port_cnt and vc_cnt columns
# PORT_DROP_IN / PORT_DROP_OUT / VC_DROP + cause.
PORT_COUNTERS = {
    "RX_CELLS": ("port_cnt", PORT_RX_CELLS, "cells that arrived on this input"),
    "RX_COPIES": ("port_cnt", PORT_RX_COPIES, "copies those cells offered (fanout; 1 when unroutable)"),
    "TX_CELLS": ("port_tx", TX_CELLS, "copies delivered on this output"),
    "GEN_BLOCKED": ("port_cnt", PORT_GEN_BLOCKED, "generated cells not sent: an injected cell held the input line"),
    "DELAY_SUM": ("port_tx", TX_DELAY_SUM, "sum of the queueing delays (slots) of the copies delivered here"),
    "DELAY_MAX": ("port_tx", TX_DELAY_MAX, "largest queueing delay (slots) of a copy delivered here"),
    "TX_UNCAPTURED": ("port_cnt", PORT_TX_UNCAPTURED,
                      "copies delivered here (in TX_CELLS) through an ACCOUNT_ONLY leaf while CAPTURE or STOP was "
                      "set: not handed to software, no stop"),
}
#: Counters added after map version 1: placed after the DROP_* counters, so that no v1 offset moves.
PORT_COUNTERS_V2 = ("TX_UNCAPTURED",)
VC_COUNTERS = {
    "IN_CELLS": ("vc_cnt", VC_IN_CELLS, "cells received on this VC"),
    "OFFERED": ("vc_cnt", VC_OFFERED, "copies offered (cells x leaves at arrival)"),
    "OUT": ("vc_out", None, "copies delivered"),
}
LEAF_COUNTERS = {
    "OUT": ("leaf_cnt", LEAF_OUT, "copies delivered to this leaf"),
    "LOST": ("leaf_cnt", LEAF_LOST, "sequence gaps seen by the leaf checker (cells lost before this leaf)"),
    "MISORDERED": ("leaf_cnt", LEAF_MISORDERED, "cells older than one already delivered (duplicate or reordered)"),
    "FRAMES_OK": ("leaf_cnt", LEAF_FRAMES_OK, "AAL5 frames delivered whole"),
    "FRAMES_BAD": ("leaf_cnt", LEAF_FRAMES_BAD, "AAL5 frames closed with a missing cell"),
    "DROPPED": ("leaf_drop", None, "copies for this leaf dropped in the fabric (any cause)"),
    "DELAY_SUM": ("leaf_cnt", LEAF_DELAY_SUM, "sum of the delays of the copies delivered to this leaf"),
    "DELAY_MIN1": ("leaf_cnt", LEAF_DELAY_MIN, "1 + smallest delay delivered (0: none yet)"),
    "DELAY_MAX": ("leaf_cnt", LEAF_DELAY_MAX, "largest delay delivered"),
    "GOOD_CELLS": ("leaf_cnt", LEAF_GOOD_CELLS, "cells of the AAL5 frames counted in FRAMES_OK (goodput)"),
}

DROP_DOC = {
    Drop.UNKNOWN_VC: "no valid VC entry for (port, VPI, VCI)",
    Drop.NO_LEAF: "VC valid but its leaf list is empty",
    Drop.HEC_ERROR: "injected cell with a wrong HEC (I.432)",
    Drop.MEMORY_FULL: "no free buffer in the shared cell memory",
    Drop.POINTER_FULL: "no free queue-pointer node",
    Drop.QUEUE_FULL: "tail drop at QLIMIT",
    Drop.CLP_DISCARD: "CLP=1 cell at or above CLP_THRESH",
    Drop.EPD: "early packet discard (whole AAL5 frame)",
    Drop.PPD: "partial packet discard (rest of an AAL5 frame)",
}

ARCH_VALUES = {a.name: int(a) for a in Arch}


def _global_registers(cfg: FabricConfig) -> tuple[Register, ...]:
    return (
        Register("ID", 0x000, (
            Field("DEVICE", 31, 16, RO, FABRIC_ID, "device identifier 0xA7F5"),
            Field("VERSION", 15, 0, RO, FABRIC_VERSION, "register-map version"),
        ), "identification"),
        Register("CONFIG", 0x004, (
            Field("PORTS", 8, 0, RO, cfg.ports, "N, the number of line ports; the control port is port N"),
            Field("ARCH", 14, 12, RO, int(cfg.arch), "queueing architecture", ARCH_VALUES),
            Field("ITERATIONS", 19, 16, RO, cfg.iterations, "matching iterations (iSLIP/PIM)"),
        ), "build-time configuration"),
        Register("BUFFERS", 0x008, (Field("COUNT", 31, 0, RO, cfg.buffers, "cells of shared memory"),),
                 "size of the shared cell memory"),
        Register("NODES", 0x00C, (Field("COUNT", 31, 0, RO, cfg.nodes, "queue-pointer nodes"),),
                 "size of the pointer RAM (copies that can be queued at once)"),
        Register("FREE", 0x010, (Field("COUNT", 31, 0, RO, cfg.buffers, "free buffers now"),),
                 "free-list length of the shared memory"),
        Register("STATUS", 0x014, (
            Field("STOPPED", 0, 0, W1C, 0, "the last advance stopped early for a STOP port"),
            Field("CAPTURE_FULL", 1, 1, W1C, 0, "the last advance stopped because the capture buffer filled"),
        ), "why the kernel last returned early"),
        Register("SLOT", 0x018, (Field("SLOT", 63, 0, RO, 0, "next slot to run"),), "virtual time", 64),
        Register("CAPTURED", 0x020, (Field("COUNT", 31, 0, RO, 0, "cells in the capture buffer"),),
                 "cells waiting for software in the capture buffer"),
    )


def _port_window(cfg: FabricConfig) -> Window:
    full = min(cfg.buffers, 0xFFFFFF)
    regs: list[Register] = [
        Register("CTRL", 0x00, (
            Field("CAPTURE", 0, 0, RW, 0, "hand every cell delivered on this output to software"),
            Field("STOP", 1, 1, RW, 0, "stop the kernel at the end of a slot that delivered a cell here"),
        ), "consumer flags (the control port resets to CAPTURE=1, STOP=1); a leaf with ACCOUNT_ONLY bypasses them"),
        Register("QLIMIT", 0x04, (Field("LIMIT", 23, 0, RW, full, "cells; reset = BUFFERS"),),
                 "tail-drop threshold of this port's queue (output queue in OQ, input buffer otherwise)"),
        Register("CLP_THRESH", 0x08, (Field("LIMIT", 23, 0, RW, full, "cells; reset = BUFFERS"),),
                 "CLP=1 cells are discarded at or above this occupancy"),
        Register("EPD_THRESH", 0x0C, (Field("LIMIT", 23, 0, RW, full, "cells; reset = BUFFERS"),),
                 "new AAL5 frames are refused at or above this occupancy (VCs with EPD)"),
        Register("OCCUPANCY", 0x10, (Field("CELLS", 23, 0, RO, 0, "cells now in this port's queue"),),
                 "queue occupancy the thresholds compare against"),
    ]
    offset = 0x18
    for name, (_, _, doc) in PORT_COUNTERS.items():
        if name not in PORT_COUNTERS_V2:
            regs.append(counter(name, offset, doc))
            offset += 8
    for cause in Drop:
        regs.append(counter(f"DROP_IN_{cause.name}", offset, f"copies of cells from this input: {DROP_DOC[cause]}"))
        offset += 8
    for cause in Drop:
        regs.append(counter(f"DROP_OUT_{cause.name}", offset, f"copies for this output: {DROP_DOC[cause]}"))
        offset += 8
    for name in PORT_COUNTERS_V2:
        regs.append(counter(name, offset, PORT_COUNTERS[name][2]))
        offset += 8
    return Window("PORT", PORT_BASE, cfg.port_count, PORT_STRIDE, tuple(regs),
                  "one entry per port; entry N is the control port", "N + 1")


def _vc_window(cfg: FabricConfig) -> Window:
    regs: list[Register] = [
        Register("CTRL", 0x00, (
            Field("VALID", 0, 0, RW, 0, "entry in use (installs its key in the lookup CAM)"),
            Field("AAL5", 1, 1, RW, 0, "frames delimited by PTI bit 0 (AUU)"),
            Field("EPD", 2, 2, RW, 0, "early packet discard (needs AAL5)"),
            Field("PPD", 3, 3, RW, 0, "partial packet discard (needs AAL5)"),
            Field("MCAST", 4, 4, RW, 0, "point-to-multipoint (input-queued fabrics use the multicast queue)"),
        ), "entry control"),
        Register("PORT", 0x04, (Field("PORT", 8, 0, RW, 0, "input port of the VC"),), "lookup key: input port"),
        Register("KEY", 0x08, (
            Field("VPI", 23, 16, RW, 0, "incoming VPI (UNI, 8 bits)"),
            Field("VCI", 15, 0, RW, 0, "incoming VCI"),
        ), "lookup key: incoming header"),
        Register("HEAD", 0x0C, (Field("LEAF", 23, 0, RW, NIL, "first leaf; 0xFFFFFF = none"),),
                 "leaf list (one leaf: point-to-point; several: point-to-multipoint)"),
    ]
    offset = 0x10
    for name, (_, _, doc) in VC_COUNTERS.items():
        regs.append(counter(name, offset, doc))
        offset += 8
    for cause in Drop:
        regs.append(counter(f"DROP_{cause.name}", offset, DROP_DOC[cause]))
        offset += 8
    doc = (
        "VPI/VCI translation table (a CAM keyed by input port, VPI, VCI). Entries 0..N-1 are reset to "
        "VPI 0/VCI 5 of port i -> control port (signalling); entries N..2N-1 carry cells the control "
        "port sends to port i - N unchanged."
    )
    return Window("VC", VC_BASE, cfg.vcs, VC_STRIDE, tuple(regs), doc, "vcs")


def _leaf_window(cfg: FabricConfig) -> Window:
    regs: list[Register] = [
        Register("CTRL", 0x00, (
            Field("VALID", 0, 0, RW, 0, "leaf in use"),
            Field("KEEP_HEADER", 1, 1, RW, 0, "send the incoming header unchanged (no VPI/VCI rewrite)"),
            Field("ACCOUNT_ONLY", 2, 2, RW, 0, "copies leave at line rate and are counted, but the output's "
                  "CAPTURE and STOP do not apply (PORT.TX_UNCAPTURED counts them there)"),
        ), "leaf control"),
        Register("PORT", 0x04, (Field("PORT", 8, 0, RW, 0, "output port (N = control port)"),), "output port"),
        Register("HDR", 0x08, (
            Field("VPI", 23, 16, RW, 0, "outgoing VPI"),
            Field("VCI", 15, 0, RW, 0, "outgoing VCI"),
        ), "outgoing header (HEC regenerated per copy)"),
        Register("NEXT", 0x0C, (Field("LEAF", 23, 0, RW, NIL, "next leaf of the same VC; 0xFFFFFF = end"),),
                 "leaf-list link"),
    ]
    offset = 0x10
    for name, (_, _, doc) in LEAF_COUNTERS.items():
        regs.append(counter(name, offset, doc))
        offset += 8
    doc = (
        "Leaf lists: a VC's HEAD points to its first leaf, each leaf to the next. At most one leaf per "
        "output port per VC (Q.2971: one branch per link). Each leaf also runs the emulated endpoint's "
        "checker (sequence gaps, order, AAL5 frame completeness). Software must not reuse a leaf entry "
        "while copies for it are still queued."
    )
    return Window("LEAF", LEAF_BASE, cfg.leaves, LEAF_STRIDE, tuple(regs), doc, "leaves")


def _hist_window(bins: int) -> Window:
    reg = counter("COUNT", 0x0, "copies delivered with a delay in this bin")
    doc = (
        "Delay histogram of every delivered copy (queueing delay in slots). Bin b < 1024 holds delay b; "
        "above, bins are log-linear with 128 sub-bins per octave (relative width 1/128): bin "
        "1024 + 128 (e - 10) + s holds delays [(128 + s) 2^(e-7), (129 + s) 2^(e-7))."
    )
    return Window("HIST", HIST_BASE, bins, 8, (reg,), doc)


def build_map(cfg: FabricConfig) -> RegisterMap:
    from hw.fabric.stats import HIST_BINS

    doc = (
        "Point-to-multipoint ATM switch fabric: N line ports plus a control port (port N) for the "
        "switch CPU, shared cell memory with a free list and reference counts, per-port queues with "
        "tail-drop, CLP and EPD thresholds. Counter registers are 64-bit, free running. Every offered "
        "copy is delivered, still queued, or counted in exactly one DROP_* counter."
    )
    return RegisterMap(
        DEVICE,
        "Switch fabric register map",
        _global_registers(cfg),
        (_port_window(cfg), _vc_window(cfg), _leaf_window(cfg), _hist_window(HIST_BINS)),
        doc,
    )


def register_map() -> RegisterMap:
    """The map of the default configuration (for ``atmemu regs fabric``)."""
    return build_map(FabricConfig())


__all__ = ["DEVICE", "build_map", "register_map", "PORT_COUNTERS", "VC_COUNTERS", "LEAF_COUNTERS", "N_DROP"]
