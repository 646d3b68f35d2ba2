"""The miniport call manager (MCM): a CoNDIS driver for the emulated ATM adapter (hw/adapter) that roots
point-to-multipoint calls, with SSCOP and Q.2931/Q.2971 on the host (docs/adapter.md, "Decision").

It is one driver object, :class:`AtmMcm`, written in small modules by topic, as a C driver is written in
several .c files sharing one adapter context:

    config.py      McmConfig (the registry settings), PartyTrafficPolicy
    hal.py         AdapterResources (what NDIS hands the miniport), the register and descriptor "header"
    rings.py       the driver's half of the descriptor rings
    miniport.py    MiniportInitializeEx / MiniportHaltEx, the spin lock, the deferred NDIS calls
    isr.py         MiniportInterrupt (the ISR) and MiniportInterruptDpc
    timers.py      timer DPCs: the clock the hosted protocol code runs its timers on
    vc.py          per-VC state, ProtocolCoCreateVc / DeleteVc, the adapter's VC table
    saal.py        the host SSCOP on the signalling VC (VPI 0/VCI 5, rings 1)
    signalling.py  the Q.2931 user side (the one module that knows the messages)
    calls.py       ProtocolCmOpenAf / CloseAf / MakeCall / CloseCall, incoming close
    parties.py     ProtocolCmAddParty / DropParty, per-party state and traffic policy, incoming drop

The MCM touches the adapter only through :class:`~cm.mcm.hal.AdapterResources`: register reads and
writes, descriptor rings and buffers in shared host memory, and its interrupt.

Quick use::

    clock = Clock("OC-3c")
    adapter = Adapter(clock, HostMemory(16 << 20))
    adapter.attach(link.a)                       # the line to the network
    ndis = Ndis(clock=lambda: clock.now)
    RuleChecker("strict").attach(ndis)
    mcm = AtmMcm(ndis, AdapterResources.of(adapter))
    client = CoNdisClient(ndis); client.bind(mcm.adapter_handle)
    clock.run_for(10_000)                        # the SSCOP link comes up, the AF is registered
    call = client.make_call(ATM_ADDRESS.nsap(aesa))
"""

from cm.mcm.calls import CallHandlers
from cm.mcm.config import DATA_RING, SIGNALLING_RING, McmConfig, PartyTrafficPolicy
from cm.mcm.errors import McmError, McmHardwareError, McmStateError
from cm.mcm.hal import AdapterResources, RegisterHeader
from cm.mcm.isr import InterruptService
from cm.mcm.miniport import MiniportCore
from cm.mcm.parties import TAG_PARTY, McmParty, PartyHandlers, PartyState
from cm.mcm.saal import HostSaal
from cm.mcm.signalling import Q2931UserSide
from cm.mcm.vc import TAG_VC, McmVc, VcState, VcTable


class AtmMcm(CallHandlers, PartyHandlers, Q2931UserSide, HostSaal, VcTable, InterruptService, MiniportCore):
    """The MCM for one adapter: ``AtmMcm(ndis, resources, config, name=...)`` runs MiniportInitializeEx;
    ``unload()`` halts it and unloads the driver (the rule checker then looks for leaks and requests
    left pending)."""


__all__ = ["AdapterResources", "AtmMcm", "DATA_RING", "McmConfig", "McmError", "McmHardwareError", "McmParty",
           "McmStateError", "McmVc", "PartyState", "PartyTrafficPolicy", "RegisterHeader", "SIGNALLING_RING",
           "TAG_PARTY", "TAG_VC", "VcState"]
