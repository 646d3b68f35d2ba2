"""Programming the fabric's translation table and leaf lists, only through its register file.

The control plane sees the fabric as a driver does: a :class:`hw.regs.RegisterFile` bound to the
fabric's register map (hw/fabric/registers.py). It never touches the fabric object or its arrays. Four
operations, each a sequence of register writes ordered so that the fabric's kernel (which runs only
between control-plane events, so each sequence is atomic to it) never sees a half-built entry:

* :meth:`FabricProgrammer.install_vc` - the root's VC entry: (input port, VPI, VCI) with an empty leaf
  list. The key goes in last, with ``VC.CTRL.VALID`` (writing VALID installs the key in the lookup CAM).
  Until a leaf is linked, the root's cells are counted by the fabric as ``DROP_NO_LEAF``.
* :meth:`FabricProgrammer.add_leaf` - a branch of the call: the leaf entry is written whole (output
  port, outgoing VPI/VCI, link to the current head, VALID) and then linked at the head of the VC's list
  with one write of ``VC.HEAD``; cells from the next slot on are copied to it.
* :meth:`FabricProgrammer.remove_leaf` - the branch's predecessor (or ``VC.HEAD``) is pointed past it
  with one write, then the entry is invalidated and its link cleared.
* :meth:`FabricProgrammer.remove_vc` - ``VC.CTRL.VALID`` is cleared first (the key leaves the CAM: the
  VC stops matching at once), then every leaf still linked is unlinked and invalidated.

Entries 0..2N-1 of both tables are the fabric's reserved entries (signalling VPI 0/VCI 5 of every port
to the control port, and the control port's routing-tag entries, see hw/fabric/tables.py); this module
uses the entries from its first entry up, 2N unless told otherwise (``first_entry``, or
:meth:`FabricProgrammer.start_at` before anything is programmed: a switch node leaves the entries from
2N to a traffic program loaded with Fabric.load_traffic), and checks at start that they are all free.

A leaf entry must not be reused while copies for it may still be queued in the fabric (the register
map's note on the leaf window): freed entries go to the back of a FIFO free list, so an entry is reused
only after every other free entry has been.

As a driver does, the programmer writes whole registers on the bus (``RegisterFile.write(offset,
value)``, the value composed from the register's declared fields, each checked against its width) and
keeps a shadow of what it wrote - each VC's leaf list in order - so that unlinking a leaf needs no read
walk; :meth:`FabricProgrammer.verify` compares the shadow with the registers.

``LEAF.OUT`` is a free-running counter; the programmer notes it when a leaf is linked and reports, when
it is removed, how many copies that branch delivered (:attr:`FabricProgrammer.delivered`).
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

import numpy as np

from firmware.switch.errors import BookkeepingError, FabricProgrammingError, ResourceError
from hw.errors import FieldError
from hw.regs import RegisterFile


@dataclass
class VcEntry:
    """What the programmer wrote into one VC entry, and its leaves by output port."""

    index: int
    port: int
    vpi: int
    vci: int
    leaves: dict[int, int] = field(default_factory=dict)   # output port -> leaf entry


@dataclass(frozen=True)
class LeafView:
    """A leaf as read back from the registers."""

    index: int
    port: int
    vpi: int
    vci: int


class FabricProgrammer:
    """Owns the non-reserved VC and leaf entries of one fabric, through its register file."""

    def __init__(self, regs: RegisterFile, *, first_entry: int | None = None) -> None:
        self.regs = regs
        self.ports = int(regs.get("CONFIG", "PORTS"))
        self.control_port = self.ports
        self.nil = regs.map.window("VC").register("HEAD").field("LEAF").reset
        self.vc_capacity = regs.map.window("VC").count
        self.leaf_capacity = regs.map.window("LEAF").count
        self.first_entry = 2 * self.ports
        self._free_vcs: deque[int] = deque()
        self._free_leaves: deque[int] = deque()
        self._take_from(2 * self.ports if first_entry is None else first_entry)
        self.vcs: dict[int, VcEntry] = {}
        self._layouts: dict[str, tuple[int, int, dict[str, tuple[int, int]]]] = {}
        self._lists: dict[int, list[int]] = {}   # shadow: each VC's leaf list, head first
        self._out_at_add: dict[int, int] = {}
        self.vcs_installed = 0
        self.vcs_removed = 0
        self.leaves_added = 0
        self.leaves_removed = 0
        #: copies each removed branch delivered, by (VC entry's input port, VPI, VCI, output port)
        self.delivered: Counter[tuple[int, int, int, int]] = Counter()

    def _take_from(self, first_entry: int) -> None:
        """Own the entries from ``first_entry`` on (2N or more: below are the fabric's reserved entries),
        all of which must be free."""
        if isinstance(first_entry, bool) or not isinstance(first_entry, (int, np.integer)):
            raise FabricProgrammingError(f"first entry {first_entry!r}: expected an int")
        first = int(first_entry)
        if not 2 * self.ports <= first < min(self.vc_capacity, self.leaf_capacity):
            raise FabricProgrammingError(f"first entry {first} outside {2 * self.ports}.."
                                         f"{min(self.vc_capacity, self.leaf_capacity) - 1} (entries below "
                                         f"{2 * self.ports} are the fabric's reserved ones; {self.vc_capacity} VCs, "
                                         f"{self.leaf_capacity} leaves)")
        self.first_entry = first
        busy_vcs, busy_leaves = self.valid_entries()
        if busy_vcs or busy_leaves:
            raise FabricProgrammingError(f"entries from {self.first_entry} on are in use before the control plane "
                                         f"started (VCs {busy_vcs[:8]}, leaves {busy_leaves[:8]}): reset the fabric")
        self._free_vcs = deque(range(first, self.vc_capacity))
        self._free_leaves = deque(range(first, self.leaf_capacity))

    def start_at(self, first_entry: int) -> None:
        """Leave the entries below ``first_entry`` (from 2N) to another user of the tables (a traffic
        program, Fabric.load_traffic) and own those from there on. Only before anything is programmed:
        the programmer then has no entry to give back, and the new ones must all be free (the same
        checks as the constructor's ``first_entry``)."""
        if self.vcs or self.vcs_installed or self.leaves_added:
            raise FabricProgrammingError(f"first entry moved to {first_entry} after the control plane programmed "
                                         f"{self.vcs_installed} VCs and {self.leaves_added} leaves")
        old = self.first_entry, self._free_vcs, self._free_leaves
        try:
            self._take_from(first_entry)
        except FabricProgrammingError:
            self.first_entry, self._free_vcs, self._free_leaves = old   # as it was
            raise

    # ---- register access (every write goes through here, so a refused value names the register)
    def _set(self, name: str, index: int, **fields: int) -> None:
        """Write register ``name`` of entry ``index`` whole, on the bus: ``fields`` must name every field
        of the register (the value is composed from them)."""
        layout = self._layouts.get(name)
        if layout is None:
            layout = self._layouts[name] = self._layout(name)
        base, stride, fields_of = layout
        value = 0
        try:
            for fname, (lsb, mask) in fields_of.items():
                v = fields[fname]
                if v.__class__ is not int:
                    v = int(v)
                if not 0 <= v <= mask:
                    raise FieldError(f"{name}.{fname}", v, f"0..{mask}")
                value |= v << lsb
            if len(fields) != len(fields_of):
                raise FieldError(name, sorted(fields), f"every field of {name}: {sorted(fields_of)}")
            self.regs.write(base + index * stride, value)
        except KeyError as exc:
            raise FabricProgrammingError(f"{name}[{index}] <- {fields}: field {exc} not given") from None
        except FieldError as exc:   # hw.fabric's FabricConfigError is one: a key in use, a bad port
            raise FabricProgrammingError(f"{name}[{index}] <- {fields}: {exc}") from exc

    def _layout(self, name: str) -> tuple[int, int, dict[str, tuple[int, int]]]:
        w, r = self.regs.map.resolve(name)
        return (self.regs.map.offset_of(name, 0), w.stride if w is not None else 0,
                {f.name: (f.lsb, f.mask) for f in r.fields})

    def _get(self, name: str, fld: str, index: int) -> int:
        return int(self.regs.get(name, fld, index))

    # ---- the four operations
    def install_vc(self, port: int, vpi: int, vci: int, *, aal5: bool = True, multipoint: bool = True) -> int:
        """A VC entry for cells arriving on ``port`` with ``vpi``/``vci``, no leaf yet. Returns the entry."""
        if not 0 <= port < self.ports:
            raise BookkeepingError(f"fabric: VC input port {port} is not a line port (0..{self.ports - 1})")
        if not self._free_vcs:
            raise ResourceError(f"the fabric's translation table is full ({self.vc_capacity} entries)")
        vc = self._free_vcs.popleft()
        try:
            self._set("VC.CTRL", vc, VALID=0, AAL5=0, EPD=0, PPD=0, MCAST=0)
            self._set("VC.HEAD", vc, LEAF=self.nil)
            self._set("VC.PORT", vc, PORT=port)
            self._set("VC.KEY", vc, VPI=vpi, VCI=vci)
            # I.363.5: AAL5 frames are delimited by the AUU bit; MCAST: input-queued fabrics use their
            # multicast queue for a point-to-multipoint VC.
            self._set("VC.CTRL", vc, VALID=1, AAL5=int(aal5), EPD=0, PPD=0, MCAST=int(multipoint))
        except FabricProgrammingError:
            self._clear_vc_entry(vc)
            self._free_vcs.appendleft(vc)
            raise
        self.vcs[vc] = VcEntry(vc, port, vpi, vci)
        self._lists[vc] = []
        self.vcs_installed += 1
        return vc

    def add_leaf(self, vc: int, port: int, vpi: int, vci: int) -> int:
        """Link a branch to ``port`` with outgoing ``vpi``/``vci`` at the head of VC ``vc``'s leaf list."""
        entry = self._entry(vc)
        if not 0 <= port < self.ports:
            raise BookkeepingError(f"fabric: leaf output port {port} is not a line port (0..{self.ports - 1})")
        if port in entry.leaves:
            raise BookkeepingError(f"fabric: VC[{vc}] already has leaf {entry.leaves[port]} on port {port} "
                                   "(one branch per link, Q.2971)")
        if not self._free_leaves:
            raise ResourceError(f"the fabric's leaf table is full ({self.leaf_capacity} entries)")
        leaf = self._free_leaves.popleft()
        chain = self._lists[vc]
        head = chain[0] if chain else self.nil
        try:
            self._set("LEAF.PORT", leaf, PORT=port)
            self._set("LEAF.HDR", leaf, VPI=vpi, VCI=vci)
            self._set("LEAF.NEXT", leaf, LEAF=head)
            self._set("LEAF.CTRL", leaf, VALID=1, KEEP_HEADER=0, ACCOUNT_ONLY=0)
            self._set("VC.HEAD", vc, LEAF=leaf)          # the one write that makes the branch live
        except FabricProgrammingError:
            self._set("LEAF.CTRL", leaf, VALID=0, KEEP_HEADER=0, ACCOUNT_ONLY=0)
            self._set("LEAF.NEXT", leaf, LEAF=self.nil)
            self._free_leaves.appendleft(leaf)
            raise
        chain.insert(0, leaf)
        entry.leaves[port] = leaf
        self._out_at_add[leaf] = self._get("LEAF.OUT", "COUNT", leaf)
        self.leaves_added += 1
        return leaf

    def remove_leaf(self, vc: int, leaf: int) -> None:
        """Unlink ``leaf`` from VC ``vc`` and free it (cells from the next slot on no longer reach it)."""
        entry = self._entry(vc)
        port = next((p for p, lf in entry.leaves.items() if lf == leaf), None)
        if port is None:
            raise BookkeepingError(f"fabric: leaf {leaf} is not a leaf of VC[{vc}] ({entry.leaves})")
        self._unlink(vc, leaf)
        del entry.leaves[port]
        self._retire_leaf(leaf, entry, port)

    def remove_vc(self, vc: int) -> None:
        """Stop VC ``vc`` matching, unlink and free its leaves, free the entry."""
        entry = self._entry(vc)
        self._set("VC.CTRL", vc, VALID=0, AAL5=0, EPD=0, PPD=0, MCAST=0)   # out of the CAM first: no cell matches from now on
        for port, leaf in list(entry.leaves.items()):
            self._unlink(vc, leaf)
            del entry.leaves[port]
            self._retire_leaf(leaf, entry, port)
        self._clear_vc_entry(vc)
        del self.vcs[vc]
        del self._lists[vc]
        self._free_vcs.append(vc)
        self.vcs_removed += 1

    # ---- reading back
    def leaf_list(self, vc: int) -> list[LeafView]:
        """VC ``vc``'s leaves in list order, read from the registers (a loop in the list is an error)."""
        out: list[LeafView] = []
        leaf = self._get("VC.HEAD", "LEAF", vc)
        while leaf != self.nil:
            if len(out) > self.leaf_capacity:
                raise FabricProgrammingError(f"VC[{vc}]: the leaf list loops")
            out.append(LeafView(leaf, self._get("LEAF.PORT", "PORT", leaf), self._get("LEAF.HDR", "VPI", leaf),
                                self._get("LEAF.HDR", "VCI", leaf)))
            leaf = self._get("LEAF.NEXT", "LEAF", leaf)
        return out

    def valid_entries(self) -> tuple[list[int], list[int]]:
        """The non-reserved VC and leaf entries with VALID set, read from the registers."""
        vcs = self.regs.read_table("VC", "CTRL.VALID")
        leaves = self.regs.read_table("LEAF", "CTRL.VALID")
        return ([int(i) for i in np.flatnonzero(vcs[self.first_entry:]) + self.first_entry],
                [int(i) for i in np.flatnonzero(leaves[self.first_entry:]) + self.first_entry])

    @property
    def empty(self) -> bool:
        """No VC and no leaf of the control plane's is programmed (read from the registers)."""
        vcs, leaves = self.valid_entries()
        return not vcs and not leaves and not self.vcs

    def verify(self) -> None:
        """The registers hold exactly what was written: every VC entry valid with its key and its leaves
        (and nothing else valid). Raises :class:`FabricProgrammingError` naming the first difference."""
        vcs, leaves = self.valid_entries()
        if sorted(vcs) != sorted(self.vcs):
            raise FabricProgrammingError(f"valid VC entries {sorted(vcs)}, expected {sorted(self.vcs)}")
        want_leaves = sorted(lf for e in self.vcs.values() for lf in e.leaves.values())
        if sorted(leaves) != want_leaves:
            raise FabricProgrammingError(f"valid leaf entries {sorted(leaves)}, expected {want_leaves}")
        for e in self.vcs.values():
            key = (self._get("VC.PORT", "PORT", e.index), self._get("VC.KEY", "VPI", e.index),
                   self._get("VC.KEY", "VCI", e.index))
            if key != (e.port, e.vpi, e.vci):
                raise FabricProgrammingError(f"VC[{e.index}] key {key}, expected {(e.port, e.vpi, e.vci)}")
            listed = self.leaf_list(e.index)
            if {v.port: v.index for v in listed} != e.leaves or [v.index for v in listed] != self._lists[e.index]:
                raise FabricProgrammingError(f"VC[{e.index}] leaves {[(v.index, v.port) for v in listed]}, "
                                             f"expected {self._lists[e.index]} ({e.leaves})")

    # ---- internals
    def _entry(self, vc: int) -> VcEntry:
        entry = self.vcs.get(vc)
        if entry is None:
            raise BookkeepingError(f"fabric: VC[{vc}] is not programmed by this control plane")
        return entry

    def _unlink(self, vc: int, leaf: int) -> None:
        """Point the leaf's predecessor (the shadow says which) or VC.HEAD past it, then clear it."""
        chain = self._lists[vc]
        try:
            at = chain.index(leaf)
        except ValueError:
            raise FabricProgrammingError(f"VC[{vc}]: leaf {leaf} is not in its list {chain}") from None
        nxt = chain[at + 1] if at + 1 < len(chain) else self.nil
        if at == 0:
            self._set("VC.HEAD", vc, LEAF=nxt)
        else:
            self._set("LEAF.NEXT", chain[at - 1], LEAF=nxt)
        del chain[at]
        self._set("LEAF.CTRL", leaf, VALID=0, KEEP_HEADER=0, ACCOUNT_ONLY=0)
        self._set("LEAF.NEXT", leaf, LEAF=self.nil)

    def _retire_leaf(self, leaf: int, entry: VcEntry, port: int) -> None:
        out = self._get("LEAF.OUT", "COUNT", leaf) - self._out_at_add.pop(leaf, 0)
        self.delivered[(entry.port, entry.vpi, entry.vci, port)] += out
        self._free_leaves.append(leaf)       # FIFO: reused last (copies may still be queued for it)
        self.leaves_removed += 1

    def _clear_vc_entry(self, vc: int) -> None:
        self._set("VC.CTRL", vc, VALID=0, AAL5=0, EPD=0, PPD=0, MCAST=0)
        self._set("VC.HEAD", vc, LEAF=self.nil)
        self._set("VC.KEY", vc, VPI=0, VCI=0)
        self._set("VC.PORT", vc, PORT=0)
