"""Interrupt service: the ISR (MiniportInterrupt) and its DPC (MiniportInterruptDpc).

ISR, at DIRQL (the adapter's interrupt line is level triggered, docs/adapter.md "Interrupts"):
read INT_STATUS, keep the causes this driver enabled, acknowledge them (write 1 to clear: the line
drops, and the coalescing gate closes once every completion cause is clear), remember them for the
DPC and queue the DPC. Nothing else: no lock, no ring, no NDIS call (NDIS functions are callable at
IRQL <= DISPATCH_LEVEL only; the rule checker flags one made from here: rule IrqlTooHigh).

DPC, at DISPATCH_LEVEL, under the adapter lock (NdisDprAcquireSpinLock):

1. error causes counted (RX_NO_DESC, RX_ERROR, TX_ERROR, FAULT with FAULT_INFO and FAULT_ADDR, LINK
   with STATUS.LINK_UP);
2. receive ring 1 (signalling): every frame to the host SSCOP (saal.py), whose Q.2931 indications queue
   NDIS calls; receive ring 0 (data): counted per VC (a root receives nothing on a point-to-multipoint
   VC: Q.2971, leaves send nothing back);
3. transmit rings: completed descriptors reclaimed (their buffers reusable), frames waiting for room
   posted;
4. doorbells rung, the lock released, the queued NDIS calls made (miniport.py).

A DPC takes at most ``McmConfig.dpc_budget`` descriptors per receive ring and requeues itself when more
are waiting, so a flood cannot keep the processor at DISPATCH_LEVEL.
"""

from __future__ import annotations

from cm.mcm.config import DATA_RING, SIGNALLING_RING
from cm.mcm.miniport import INT_CAUSES
from cm.ndis.irql import DIRQL, DISPATCH_LEVEL, KeLowerIrql, KeRaiseIrql, NdisDprAcquireSpinLock, NdisDprReleaseSpinLock

_ERROR_CAUSES = ("RX_NO_DESC", "RX_ERROR", "TX_ERROR", "FAULT", "LINK")


class InterruptService:
    """ISR and DPC. State it owns: ``_int_mask`` (the causes enabled), ``_isr_causes`` (acknowledged by
    the ISR, not yet seen by the DPC), ``_dpc_queued``, ``link_up``."""

    def _init_interrupts(self) -> None:
        bus, hdr, cfg = self.res.bus, self.hdr, self.cfg
        self._int_mask = hdr.bits("INT_MASK", **{c: 1 for c in INT_CAUSES})
        self._int_status_reg = hdr.off("INT_STATUS")
        self._error_bits = {c: hdr.bit("INT_STATUS", c) for c in _ERROR_CAUSES}
        self._isr_causes = 0
        self._dpc_queued = False
        self.link_up = False
        self.res.connect_interrupt(self.MiniportInterrupt)
        bus.write32(hdr.off("COALESCE"), hdr.bits("COALESCE", MAX_FRAMES=cfg.coalesce_frames,
                                                   MAX_DELAY=cfg.coalesce_slots))
        bus.write32(hdr.off("INT_MASK"), self._int_mask)

    # ------------------------------------------------------------------------------------------
    # MiniportInterrupt

    def MiniportInterrupt(self) -> bool:
        """The ISR (MINIPORT_ISR): True when the interrupt was this adapter's."""
        old = KeRaiseIrql(DIRQL)
        try:
            bus = self.res.bus
            status = bus.read32(self._int_status_reg) & self._int_mask
            if not status:
                self.counters["isr_not_ours"] += 1
                return False
            bus.write32(self._int_status_reg, status)
            self._isr_causes |= status
            self.counters["isr"] += 1
            if not self._dpc_queued:
                self._queue_dpc()
            return True
        finally:
            KeLowerIrql(old)

    def _queue_dpc(self) -> None:
        """KeInsertQueueDpc: the DPC runs once the processor drops below DISPATCH_LEVEL, here as the
        next event of the current slot."""
        self._dpc_queued = True
        self.res.clock.schedule_in(0, self._run_dpc)

    def _run_dpc(self) -> None:
        if self.halted:
            self._dpc_queued = False
            self.counters["dpc_after_halt"] += 1
            return
        old = KeRaiseIrql(DISPATCH_LEVEL)
        try:
            self.MiniportInterruptDpc()
        finally:
            KeLowerIrql(old)

    # ------------------------------------------------------------------------------------------
    # MiniportInterruptDpc

    def MiniportInterruptDpc(self) -> None:
        """The DPC (MINIPORT_INTERRUPT_DPC), at DISPATCH_LEVEL."""
        self._dpc_queued = False
        self.counters["dpc"] += 1
        more = False
        NdisDprAcquireSpinLock(self.Lock)
        try:
            causes, self._isr_causes = self._isr_causes, 0
            if causes & self._any_error():
                self._count_errors(causes)
            budget = self.cfg.dpc_budget
            frames, m = self.rx[SIGNALLING_RING].harvest(budget)
            more |= m
            for frame in frames:
                self._saal_frame_in(frame)
            frames, m = self.rx[DATA_RING].harvest(budget)
            more |= m
            for frame in frames:
                self._data_frame_in(frame)
            for ring in self.tx.values():
                ring.reclaim()
            self._ring_doorbells()
        finally:
            NdisDprReleaseSpinLock(self.Lock)
        if more and not self._dpc_queued:
            self.counters["dpc_requeued"] += 1
            self._queue_dpc()
        self._indicate()

    def _any_error(self) -> int:
        return sum(self._error_bits.values())

    def _count_errors(self, causes: int) -> None:
        bus, hdr = self.res.bus, self.hdr
        for name, bit in self._error_bits.items():
            if causes & bit:
                self.counters[f"int.{name}"] += 1
        if causes & self._error_bits["FAULT"]:
            info = bus.read32(hdr.off("FAULT_INFO"))
            self.last_fault = {f: hdr.field("FAULT_INFO", f, info) for f in ("CODE", "DIR", "RING", "INDEX")}
            self.last_fault["ADDR"] = bus.read64(hdr.off("FAULT_ADDR"))
        if causes & self._error_bits["LINK"]:
            self.link_up = bool(hdr.field("STATUS", "LINK_UP", bus.read32(hdr.off("STATUS"))))


__all__ = ["InterruptService"]
