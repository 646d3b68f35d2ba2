"""The IRQL model: the interrupt request level of the one emulated host processor, the kernel calls
that change it, NDIS spin locks, and the IRQL each NDIS function may be called at.

Windows runs driver code at an IRQL: PASSIVE_LEVEL (threads), APC_LEVEL, DISPATCH_LEVEL (DPCs, code
holding a spin lock) and the device levels above it (interrupt service routines). A function documented
"IRQL <= DISPATCH_LEVEL" must not be called from an ISR; one documented "PASSIVE_LEVEL" must not be called
while a spin lock is held. WDK, "Managing Hardware Priorities"; the "IRQL" line of each ndis.h page; the
Static Driver Verifier rules Irql_MCM_Function, Irql_Protocol_Driver_Function, Irql_CallManager_Function
(reference/condis-mcm.md, "Actors" and the last section).

The emulation is single threaded and models one processor, so the current IRQL is a module-level state
(:data:`CPU`), read with :func:`KeGetCurrentIrql` and changed with :func:`KeRaiseIrql` /
:func:`KeLowerIrql`, the :func:`at_irql` context manager, or the spin lock functions. Impossible
transitions (raising to a lower level, lowering to a higher one) would bug-check a real system: they raise
:class:`~cm.ndis.errors.IrqlError` at once. Calling an NDIS function above its maximum IRQL is a rule
violation, reported by the dispatcher to the rule checker (rule ``IrqlTooHigh``).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator

from cm.ndis.errors import IrqlError

# wdm.h, AMD64 values
PASSIVE_LEVEL = 0
LOW_LEVEL = 0
APC_LEVEL = 1
DISPATCH_LEVEL = 2
#: A device IRQL (DIRQL): the level an interrupt service routine (MiniportInterrupt) runs at. Device
#: levels lie between DISPATCH_LEVEL and CLOCK_LEVEL; this model uses one representative value.
DIRQL = 5
CLOCK_LEVEL = 13
HIGH_LEVEL = 15

IRQL_NAMES = {PASSIVE_LEVEL: "PASSIVE_LEVEL", APC_LEVEL: "APC_LEVEL", DISPATCH_LEVEL: "DISPATCH_LEVEL",
              CLOCK_LEVEL: "CLOCK_LEVEL", HIGH_LEVEL: "HIGH_LEVEL"}


def irql_name(level: int) -> str:
    """PASSIVE_LEVEL, DISPATCH_LEVEL..., ``DIRQL(5)`` for a device level."""
    return IRQL_NAMES.get(level, f"DIRQL({level})")


def _check_level(level: object, what: str) -> int:
    if isinstance(level, bool) or not isinstance(level, int) or not PASSIVE_LEVEL <= level <= HIGH_LEVEL:
        raise IrqlError(f"{what}: IRQL {level!r} is not a level 0..{HIGH_LEVEL}")
    return int(level)


class Processor:
    """The current IRQL of the emulated processor, and how many times it was raised (for statistics)."""

    __slots__ = ("irql", "raises")

    def __init__(self) -> None:
        self.irql = PASSIVE_LEVEL
        self.raises = 0

    def reset(self) -> None:
        """Back to PASSIVE_LEVEL (tests use it between cases; a real processor never does this)."""
        self.irql = PASSIVE_LEVEL


#: The one emulated host processor.
CPU = Processor()


def KeGetCurrentIrql() -> int:
    """The current IRQL (wdm.h KeGetCurrentIrql)."""
    return CPU.irql


def KeRaiseIrql(NewIrql: int) -> int:
    """Raise the IRQL to ``NewIrql`` and return the old one (C: the OldIrql out parameter).

    Raising to a level below the current one is a fatal error (KeRaiseIrql page)."""
    new = _check_level(NewIrql, "KeRaiseIrql")
    old = CPU.irql
    if new < old:
        raise IrqlError(f"KeRaiseIrql: NewIrql {irql_name(new)} is below the current {irql_name(old)}")
    CPU.irql = new
    CPU.raises += 1
    return old


def KeLowerIrql(NewIrql: int) -> None:
    """Lower the IRQL back to ``NewIrql`` (the value KeRaiseIrql returned).

    Lowering to a level above the current one is a fatal error (KeLowerIrql page)."""
    new = _check_level(NewIrql, "KeLowerIrql")
    if new > CPU.irql:
        raise IrqlError(f"KeLowerIrql: NewIrql {irql_name(new)} is above the current {irql_name(CPU.irql)}")
    CPU.irql = new


@contextmanager
def at_irql(level: int) -> Iterator[int]:
    """Run a block at ``level`` (raised from the current IRQL) and restore the old IRQL after it, even
    when the block raises: ``with at_irql(DISPATCH_LEVEL): NdisMCmAddPartyComplete(...)`` is how a DPC is
    modelled. Yields the old IRQL."""
    old = KeRaiseIrql(level)
    try:
        yield old
    finally:
        # Restore unconditionally: a block that left the IRQL elsewhere (a spin lock still held) is a
        # driver bug the rule checker reports; the emulation itself must not stay raised.
        CPU.irql = old


class NDIS_SPIN_LOCK:
    """An NDIS spin lock. On the one emulated processor, acquiring a lock already held can never
    succeed (a real system would spin forever): :class:`IrqlError` is raised instead of a hang."""

    __slots__ = ("name", "held", "OldIrql", "acquisitions")

    def __init__(self, name: str = "") -> None:
        self.name = name
        self.held = False
        self.OldIrql = PASSIVE_LEVEL
        self.acquisitions = 0

    def __repr__(self) -> str:
        return f"<NDIS_SPIN_LOCK {self.name or hex(id(self))} {'held' if self.held else 'free'}>"


def NdisAllocateSpinLock(SpinLock: NDIS_SPIN_LOCK) -> None:
    """Initialise a spin lock (ndis.h NdisAllocateSpinLock)."""
    SpinLock.held = False
    SpinLock.OldIrql = PASSIVE_LEVEL


def NdisFreeSpinLock(SpinLock: NDIS_SPIN_LOCK) -> None:
    """Release a spin lock's resources; freeing a held lock is a bug."""
    if SpinLock.held:
        raise IrqlError(f"NdisFreeSpinLock: {SpinLock!r} is still held")


def NdisAcquireSpinLock(SpinLock: NDIS_SPIN_LOCK) -> None:
    """Acquire the lock and raise to DISPATCH_LEVEL, saving the old IRQL in the lock (callers run at
    IRQL <= DISPATCH_LEVEL; NdisAcquireSpinLock page)."""
    if CPU.irql > DISPATCH_LEVEL:
        raise IrqlError(f"NdisAcquireSpinLock at {irql_name(CPU.irql)}: callers must run at IRQL <= "
                        f"DISPATCH_LEVEL")
    if SpinLock.held:
        raise IrqlError(f"NdisAcquireSpinLock: {SpinLock!r} is already held (deadlock on one processor)")
    SpinLock.OldIrql = KeRaiseIrql(DISPATCH_LEVEL)
    SpinLock.held = True
    SpinLock.acquisitions += 1


def NdisReleaseSpinLock(SpinLock: NDIS_SPIN_LOCK) -> None:
    """Release the lock and restore the IRQL saved by NdisAcquireSpinLock."""
    if not SpinLock.held:
        raise IrqlError(f"NdisReleaseSpinLock: {SpinLock!r} is not held")
    SpinLock.held = False
    KeLowerIrql(SpinLock.OldIrql)


def NdisDprAcquireSpinLock(SpinLock: NDIS_SPIN_LOCK) -> None:
    """Acquire the lock from code already at DISPATCH_LEVEL (the IRQL does not change)."""
    if CPU.irql != DISPATCH_LEVEL:
        raise IrqlError(f"NdisDprAcquireSpinLock at {irql_name(CPU.irql)}: callers run at DISPATCH_LEVEL")
    if SpinLock.held:
        raise IrqlError(f"NdisDprAcquireSpinLock: {SpinLock!r} is already held (deadlock on one processor)")
    SpinLock.held = True
    SpinLock.OldIrql = DISPATCH_LEVEL
    SpinLock.acquisitions += 1


def NdisDprReleaseSpinLock(SpinLock: NDIS_SPIN_LOCK) -> None:
    """Release a lock taken with NdisDprAcquireSpinLock."""
    if not SpinLock.held:
        raise IrqlError(f"NdisDprReleaseSpinLock: {SpinLock!r} is not held")
    SpinLock.held = False


@dataclass(frozen=True)
class IrqlRequirement:
    """The IRQL an NDIS function may be called at: at most ``max_irql``; ``source`` is where it is said."""

    max_irql: int
    source: str

    def allows(self, level: int) -> bool:
        return level <= self.max_irql


_MCM = "WDK page of the function, IRQL <= DISPATCH_LEVEL; SDV rule Irql_MCM_Function"
_CLIENT = "WDK page of the function, IRQL <= DISPATCH_LEVEL; SDV rule Irql_Protocol_Driver_Function"

#: Which IRQL each NDIS function of the model may be called at (the "IRQL" line of its WDK page;
#: reference/condis-mcm.md "Actors": everything <= DISPATCH_LEVEL except address-family registration,
#: PASSIVE_LEVEL).
IRQL_REQUIREMENTS: dict[str, IrqlRequirement] = {
    # configuration and registration: PASSIVE_LEVEL
    "NdisSetOptionalHandlers": IrqlRequirement(PASSIVE_LEVEL, "NdisSetOptionalHandlers page, PASSIVE_LEVEL; "
                                               "SDV rule Irql_Miscellaneous_Function"),
    "NdisMCmRegisterAddressFamilyEx": IrqlRequirement(PASSIVE_LEVEL, "NdisMCmRegisterAddressFamilyEx page, "
                                                      "PASSIVE_LEVEL; SDV rule Irql_MCM_Function"),
    "NdisClOpenAddressFamilyEx": IrqlRequirement(PASSIVE_LEVEL, "NdisClOpenAddressFamilyEx page, PASSIVE_LEVEL; "
                                                 "SDV rule Irql_Protocol_Driver_Function"),
    # client side
    "NdisClCloseAddressFamily": IrqlRequirement(DISPATCH_LEVEL, _CLIENT),
    "NdisCoCreateVc": IrqlRequirement(DISPATCH_LEVEL, _CLIENT),
    "NdisCoDeleteVc": IrqlRequirement(DISPATCH_LEVEL, _CLIENT),
    "NdisClMakeCall": IrqlRequirement(DISPATCH_LEVEL, _CLIENT),
    "NdisClCloseCall": IrqlRequirement(DISPATCH_LEVEL, _CLIENT),
    "NdisClAddParty": IrqlRequirement(DISPATCH_LEVEL, _CLIENT),
    "NdisClDropParty": IrqlRequirement(DISPATCH_LEVEL, _CLIENT),
    # miniport call manager side
    "NdisMCmOpenAddressFamilyComplete": IrqlRequirement(DISPATCH_LEVEL, _MCM),
    "NdisMCmCloseAddressFamilyComplete": IrqlRequirement(DISPATCH_LEVEL, _MCM),
    "NdisMCmCreateVc": IrqlRequirement(DISPATCH_LEVEL, _MCM),
    "NdisMCmDeleteVc": IrqlRequirement(DISPATCH_LEVEL, _MCM),
    "NdisMCmActivateVc": IrqlRequirement(DISPATCH_LEVEL, _MCM),
    "NdisMCmDeactivateVc": IrqlRequirement(DISPATCH_LEVEL, _MCM),
    "NdisMCmMakeCallComplete": IrqlRequirement(DISPATCH_LEVEL, _MCM),
    "NdisMCmCloseCallComplete": IrqlRequirement(DISPATCH_LEVEL, _MCM),
    "NdisMCmAddPartyComplete": IrqlRequirement(DISPATCH_LEVEL, _MCM),
    "NdisMCmDropPartyComplete": IrqlRequirement(DISPATCH_LEVEL, _MCM),
    "NdisMCmDispatchIncomingDropParty": IrqlRequirement(DISPATCH_LEVEL, _MCM),
    "NdisMCmDispatchIncomingCloseCall": IrqlRequirement(DISPATCH_LEVEL, _MCM),
    # memory: nonpaged pool, IRQL <= DISPATCH_LEVEL (NdisAllocateMemoryWithTagPriority and
    # NdisFreeMemoryWithTagPriority pages, Remarks)
    "NdisAllocateMemoryWithTagPriority": IrqlRequirement(DISPATCH_LEVEL, "NdisAllocateMemoryWithTagPriority "
                                                         "page, Remarks: nonpaged pool at <= DISPATCH_LEVEL"),
    "NdisFreeMemoryWithTagPriority": IrqlRequirement(DISPATCH_LEVEL, "NdisFreeMemoryWithTagPriority page, "
                                                     "Remarks: nonpaged pool at <= DISPATCH_LEVEL"),
}
