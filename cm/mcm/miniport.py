"""The miniport part of the MCM: bring-up and halt of the adapter, the adapter's spin lock, and the
discipline every path into the driver follows.

MiniportInitializeEx (PASSIVE_LEVEL), in the order of docs/adapter.md "How a driver programs the
adapter":

1. probe: ID and CONFIG (the header of this configuration, hal.py), LINE_RATE;
2. reset (CTRL.RESET);
3. rings: for each transmit and receive ring, descriptors and buffers in shared memory, BASE, SIZE,
   CTRL.ENABLE; every receive buffer posted (rings.py);
4. interrupts: the ISR connected, COALESCE, INT_MASK;
5. CTRL.TX_EN, CTRL.RX_EN;
6. the signalling VC (VPI 0/VCI 5, AAL5, on ring 1) opened (vc.py), the host SSCOP started (saal.py)
   and asked to establish the link;
7. NDIS: NdisMSetMiniportAttributes, NdisSetOptionalHandlers with the call manager handlers. The
   address family is registered (NdisMCmRegisterAddressFamilyEx, PASSIVE_LEVEL) from a work item once
   the signalling link is up: clients see the call manager when it can place calls.

MiniportHaltEx undoes it in reverse (interrupts masked and the ISR disconnected first).

Locking. One NDIS spin lock (``Lock``) guards the driver's state: rings, VC table, calls, parties, the
SSCOP and Q.2931 state. Every entry takes it: the NDIS handlers (NdisAcquireSpinLock, at PASSIVE or
DISPATCH_LEVEL), the DPC and the timer DPCs (NdisDprAcquireSpinLock, at DISPATCH_LEVEL). The ISR does
not: it only reads and acknowledges INT_STATUS (isr.py). While the lock is held the driver never calls
NDIS: a completion makes NDIS call the client at once, and the client may call straight back into the
driver (NdisClDropParty from ProtocolClAddPartyComplete...), which would spin on the lock forever. NDIS
calls decided under the lock are queued (:meth:`MiniportCore._defer`) and made, in order, once it is
released (:meth:`MiniportCore._leave`). Doorbells are rung once per entry, before the release.
"""

from __future__ import annotations

from collections import Counter, deque
from typing import Any, Callable

from cm.mcm.config import DATA_RING, SIGNALLING_RING, McmConfig
from cm.mcm.errors import McmHardwareError
from cm.mcm.hal import AdapterResources, RegisterHeader
from cm.mcm.rings import HostRxRing, HostTxRing
from cm.mcm.timers import TimerDpcClock
from cm.ndis.characteristics import NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS
from cm.ndis.dispatcher import Ndis
from cm.ndis.irql import (DISPATCH_LEVEL, NDIS_SPIN_LOCK, KeLowerIrql, KeRaiseIrql, NdisAcquireSpinLock,
                          NdisAllocateSpinLock, NdisDprAcquireSpinLock, NdisDprReleaseSpinLock, NdisFreeSpinLock,
                          NdisReleaseSpinLock)
from cm.ndis.params import CO_ADDRESS_FAMILY
from cm.ndis.status import NDIS_STATUS_SUCCESS
from cm.ndis.trace import call_site, dispatcher, pop_origin, push_origin

#: Interrupt causes the driver enables: every completion and every error cause.
INT_CAUSES = ("TX_DONE0", "TX_DONE1", "RX_DONE0", "RX_DONE1", "RX_NO_DESC", "RX_ERROR", "TX_ERROR", "FAULT", "LINK")


class MiniportCore:
    """Adapter bring-up, halt, the lock and the deferred NDIS calls. State it owns: ``ndis``, ``res``,
    ``cfg``, ``hdr``, ``Lock``, ``tx``/``rx`` (rings by number), ``counters``, ``halted``,
    ``line_rate`` (cells/s), ``timer_clock``, ``adapter_handle``."""

    # ------------------------------------------------------------------------------------------
    # construction: what NDIS does when the PnP manager starts the device

    def __init__(self, ndis: Ndis, resources: AdapterResources, config: McmConfig | None = None, *,
                 name: str = "atm-mcm") -> None:
        self.ndis = ndis
        self.res = resources
        self.cfg = config or McmConfig()
        self.name = name
        self.counters: Counter[str] = Counter()
        self.Lock = NDIS_SPIN_LOCK(f"{name}.Lock")
        NdisAllocateSpinLock(self.Lock)
        self._deferred: deque[tuple[Callable[..., Any], tuple, Any]] = deque()
        self._indicating = False
        self.halted = True
        self.af_registered = False
        self.timer_clock = TimerDpcClock(resources.clock, self._timer_dpc)
        self.adapter_handle = ndis.register_miniport(name)
        self.MiniportInitializeEx()

    # ------------------------------------------------------------------------------------------
    # MiniportInitializeEx / MiniportHaltEx

    def MiniportInitializeEx(self) -> int:
        """Bring the adapter up and register with NDIS (PASSIVE_LEVEL). Returns NDIS_STATUS_SUCCESS;
        raises :class:`~cm.mcm.errors.McmHardwareError` for an adapter it cannot drive."""
        bus, cfg = self.res.bus, self.cfg
        self.hdr = hdr = RegisterHeader.probe(bus)
        bus.write32(hdr.off("CTRL"), hdr.bits("CTRL", RESET=1))
        self.line_rate = bus.read32(hdr.off("LINE_RATE"))
        rings = max(SIGNALLING_RING, DATA_RING) + 1
        if hdr.cfg.tx_rings < rings or hdr.cfg.rx_rings < rings:
            raise McmHardwareError("CONFIG.TX_RINGS/RX_RINGS", (hdr.cfg.tx_rings, hdr.cfg.rx_rings),
                                   f"at least {rings} rings each way (data ring {DATA_RING}, signalling ring "
                                   f"{SIGNALLING_RING})")
        sizes = {DATA_RING: cfg.data_buffer, SIGNALLING_RING: cfg.signalling_buffer}
        mem = self.res.memory
        self.tx = {r: HostTxRing(bus, hdr, mem, r, cfg.tx_entries, sizes[r]) for r in sorted(sizes)}
        self.rx = {r: HostRxRing(bus, hdr, mem, r, cfg.rx_entries, sizes[r]) for r in sorted(sizes)}
        for ring in (*self.tx.values(), *self.rx.values()):
            ring.program()
        self._init_interrupts()
        bus.write32(hdr.off("CTRL"), hdr.bits("CTRL", TX_EN=1, RX_EN=1))
        self.halted = False
        self._init_vcs()
        self._init_saal()
        self.ndis.NdisMSetMiniportAttributes(self.adapter_handle, self)
        self.ndis.NdisSetOptionalHandlers(self.adapter_handle, self.call_manager_handlers())
        self._enter()
        try:
            self._init_signalling()  # establishes the signalling link: BGN goes out
        finally:
            self._leave()
        return NDIS_STATUS_SUCCESS

    def call_manager_handlers(self) -> NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS:
        """The handler table given to NdisSetOptionalHandlers."""
        return NDIS_CO_CALL_MANAGER_OPTIONAL_HANDLERS(
            CmCreateVcHandler=self.ProtocolCoCreateVc, CmDeleteVcHandler=self.ProtocolCoDeleteVc,
            CmOpenAfHandler=self.ProtocolCmOpenAf, CmCloseAfHandler=self.ProtocolCmCloseAf,
            CmMakeCallHandler=self.ProtocolCmMakeCall, CmCloseCallHandler=self.ProtocolCmCloseCall,
            CmAddPartyHandler=self.ProtocolCmAddParty, CmDropPartyHandler=self.ProtocolCmDropParty)

    def _register_address_family(self) -> None:
        """Work item (PASSIVE_LEVEL): the signalling link is up, offer the Q.2931 address family."""
        if self.halted or self.af_registered:
            return
        self.af_registered = True
        status = self.ndis.NdisMCmRegisterAddressFamilyEx(self.adapter_handle, CO_ADDRESS_FAMILY())
        self.counters[f"af_register.{status:#x}"] += 1

    def MiniportHaltEx(self) -> None:
        """Stop the adapter and give back everything (PASSIVE_LEVEL)."""
        if self.halted:
            return
        bus, hdr = self.res.bus, self.hdr
        bus.write32(hdr.off("INT_MASK"), 0)
        self.res.connect_interrupt(None)
        NdisAcquireSpinLock(self.Lock)
        try:
            self._saal_stop()
            self.halted = True
            bus.write32(hdr.off("CTRL"), 0)
            self._halt_vcs()
            for ring in (*self.tx.values(), *self.rx.values()):
                ring.stop()
                ring.free_memory()
        finally:
            NdisReleaseSpinLock(self.Lock)
        self._indicate()
        NdisFreeSpinLock(self.Lock)

    def unload(self) -> None:
        """Halt, then let NDIS (and the rule checker) see what the driver left behind."""
        self.MiniportHaltEx()
        self.ndis.unload_driver(self.adapter_handle)

    # ------------------------------------------------------------------------------------------
    # entering and leaving the driver's state

    def _enter(self) -> None:
        """Take the adapter lock from an NDIS handler (PASSIVE or DISPATCH_LEVEL)."""
        NdisAcquireSpinLock(self.Lock)

    def _leave(self) -> None:
        """Ring the doorbells, release the lock, then make the NDIS calls queued meanwhile."""
        try:
            self._ring_doorbells()
        finally:
            NdisReleaseSpinLock(self.Lock)
        self._indicate()

    def _ring_doorbells(self) -> None:
        if not self.halted:
            for ring in self.tx.values():
                ring.doorbell()

    def _defer(self, function: Callable[..., Any], *args: Any) -> None:
        """Queue an NDIS call (or a step that must follow one) until the lock is released. Where it was
        queued is kept: the rule checker reports a violation of that call there (cm.ndis.trace)."""
        self._deferred.append((function, args, call_site()))

    @dispatcher
    def _indicate(self) -> None:
        """Make the queued NDIS calls in order. Re-entrant calls (a client calling back into the driver
        from a completion handler) queue behind and are drained here, not nested."""
        if self._indicating:
            return
        self._indicating = True
        try:
            deferred = self._deferred
            while deferred:
                function, args, site = deferred.popleft()
                push_origin(site)
                try:
                    function(*args)
                finally:
                    pop_origin()
        finally:
            self._indicating = False

    def _timer_dpc(self, callback: Callable[..., Any], args: tuple) -> None:
        """A timer of the hosted protocol code expired: run it as a timer DPC (DISPATCH_LEVEL, under
        the lock) - timers.py."""
        if self.halted:
            self.counters["timer_after_halt"] += 1
            return
        old = KeRaiseIrql(DISPATCH_LEVEL)
        try:
            NdisDprAcquireSpinLock(self.Lock)
            try:
                callback(*args)
                self._ring_doorbells()
            finally:
                NdisDprReleaseSpinLock(self.Lock)
            self._indicate()
        finally:
            KeLowerIrql(old)

    def _queue_work_item(self, function: Callable[[], None]) -> None:
        """NdisQueueIoWorkItem: run ``function`` at PASSIVE_LEVEL from a system worker thread (here: an
        event of the clock, which runs at PASSIVE_LEVEL)."""
        self.res.clock.schedule_in(0, function)

    # ------------------------------------------------------------------------------------------
    # inspection

    def ring_counters(self) -> dict[str, Counter[str]]:
        return {**{f"tx{r}": ring.counters for r, ring in self.tx.items()},
                **{f"rx{r}": ring.counters for r, ring in self.rx.items()}}


__all__ = ["INT_CAUSES", "MiniportCore"]
