"""Register-level programming sequences for the fabric's tables (a reference driver).

Everything here goes through the register file, in the order a driver must use so the kernel never
sees a half-built entry (the kernel only runs inside Fabric.advance, so each call here is atomic for
it). The switch control plane may use these or write the registers itself; choosing free VC and leaf
entries is the caller's job (entries 0..2N-1 are reserved, see tables.py).
"""

from __future__ import annotations

from typing import Sequence

from hw.fabric.counters import NIL
from hw.fabric.errors import FabricConfigError
from hw.regs import RegisterFile


def connect(
    regs: RegisterFile,
    vc: int,
    port: int,
    vpi: int,
    vci: int,
    leaves: Sequence[tuple[int, int, int, int]],
    aal5: bool = False,
    epd: bool = False,
    ppd: bool = False,
    mcast: bool | None = None,
) -> None:
    """Program VC entry ``vc`` for cells arriving on ``port`` with ``vpi``/``vci``; ``leaves`` are
    (leaf entry, output port, outgoing VPI, outgoing VCI). More than one leaf: point-to-multipoint
    (``mcast`` defaults to True then: input-queued fabrics use their multicast queue)."""
    ports = [p for _, p, _, _ in leaves]
    if len(set(ports)) != len(ports):
        raise FabricConfigError("leaves", ports, "at most one leaf per output port (Q.2971: one branch per link)")
    regs.set("VC.CTRL", vc, VALID=0)
    nxt = NIL
    for leaf, out, ovpi, ovci in reversed(list(leaves)):
        regs.set("LEAF.PORT", leaf, PORT=out)
        regs.set("LEAF.HDR", leaf, VPI=ovpi, VCI=ovci)
        regs.set("LEAF.NEXT", leaf, LEAF=nxt)
        regs.set("LEAF.CTRL", leaf, VALID=1, KEEP_HEADER=0, ACCOUNT_ONLY=0)
        nxt = leaf
    regs.set("VC.HEAD", vc, LEAF=nxt)
    regs.set("VC.PORT", vc, PORT=port)
    regs.set("VC.KEY", vc, VPI=vpi, VCI=vci)
    mc = len(leaves) > 1 if mcast is None else mcast
    regs.set("VC.CTRL", vc, VALID=1, AAL5=int(aal5), EPD=int(epd), PPD=int(ppd), MCAST=int(mc))


def leaves_of(regs: RegisterFile, vc: int) -> list[int]:
    out = []
    leaf = regs.get("VC.HEAD", "LEAF", vc)
    while leaf != NIL:
        out.append(leaf)
        leaf = regs.get("LEAF.NEXT", "LEAF", leaf)
    return out


def add_leaf(regs: RegisterFile, vc: int, leaf: int, port: int, vpi: int, vci: int) -> None:
    """ADD PARTY: link a new leaf at the head of the VC's list (cells from the next slot on)."""
    for other in leaves_of(regs, vc):
        if regs.get("LEAF.CTRL", "VALID", other) and regs.get("LEAF.PORT", "PORT", other) == port:
            raise FabricConfigError("port", port, f"a port with no leaf of VC[{vc}] yet (leaf {other} has it)")
    regs.set("LEAF.PORT", leaf, PORT=port)
    regs.set("LEAF.HDR", leaf, VPI=vpi, VCI=vci)
    regs.set("LEAF.NEXT", leaf, LEAF=regs.get("VC.HEAD", "LEAF", vc))
    regs.set("LEAF.CTRL", leaf, VALID=1, KEEP_HEADER=0, ACCOUNT_ONLY=0)
    regs.set("VC.HEAD", vc, LEAF=leaf)


def drop_leaf(regs: RegisterFile, vc: int, leaf: int) -> None:
    """DROP PARTY: unlink a leaf (copies already queued for it still leave; do not reuse the entry
    until its queued copies are gone)."""
    chain = leaves_of(regs, vc)
    if leaf not in chain:
        raise FabricConfigError("leaf", leaf, f"a leaf of VC[{vc}] ({chain})")
    nxt = regs.get("LEAF.NEXT", "LEAF", leaf)
    k = chain.index(leaf)
    if k == 0:
        regs.set("VC.HEAD", vc, LEAF=nxt)
    else:
        regs.set("LEAF.NEXT", chain[k - 1], LEAF=nxt)
    regs.set("LEAF.CTRL", leaf, VALID=0)


def release(regs: RegisterFile, vc: int) -> None:
    """RELEASE: the VC stops matching at once; its leaves are invalidated."""
    regs.set("VC.CTRL", vc, VALID=0)
    for leaf in leaves_of(regs, vc):
        regs.set("LEAF.CTRL", leaf, VALID=0)
    regs.set("VC.HEAD", vc, LEAF=NIL)
