"""The MCM's settings: what a Windows driver would read from its registry keys (NdisReadConfiguration)
at MiniportInitializeEx.

Rings and buffers follow docs/adapter.md: ring 0 carries data, ring 1 the signalling VC (VPI 0/VCI 5,
an ordinary AAL5 VC; SSCOP runs here on the host). Every buffer is allocated once, at initialisation, in
shared host memory (NdisMAllocateSharedMemory), one buffer per descriptor: a frame longer than a buffer
takes several descriptors (SOP ... EOP).

The per-party traffic policy is the choice the WDK leaves to an MCM whose medium cannot carry per-party
traffic parameters on a multipoint VC (seed page NdisMCmAddPartyComplete; Q.2971 9.1.1: ADD PARTY carries
no traffic descriptor), when a client adds a party with parameters other than the VC's:

* ``RESET``: add the party with the VC's parameters (the completion returns them, with
  CALL_PARAMETERS_CHANGED);
* ``CHANGE_FOR_ALL``: reshape the VC (every party) to the new parameters once the party is added. The
  network polices the VC at the contract its SETUP signalled (I.371 UPC), so a rate above that contract
  is refused with NDIS_STATUS_CELLRATE_NOT_AVAILABLE: only a change within the contract can be honoured;
* ``REJECT``: refuse the party with NDIS_STATUS_NOT_SUPPORTED ("invalid or unavailable features in the
  call parameters", ProtocolCmAddParty page).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from firmware.sscop.machine import SSCOPParams
from firmware.uni.machines.timers import DEFAULT_TIMERS, Timers
from hw.errors import FieldError


class PartyTrafficPolicy(str, Enum):
    """What the MCM does with an AddParty whose traffic parameters differ from the VC's."""

    RESET = "reset"
    CHANGE_FOR_ALL = "change-for-all"
    REJECT = "reject"


#: Ring numbers (docs/adapter.md, "Decision"): data on ring 0, signalling on ring 1.
DATA_RING = 0
SIGNALLING_RING = 1


@dataclass(frozen=True)
class McmConfig:
    """Driver settings.

    ``tx_entries`` / ``rx_entries``: descriptors per transmit / receive ring (2..65535);
    ``signalling_buffer``: octets of each buffer of the signalling rings (an SSCOP PDU longer than that
    spans several descriptors); ``data_buffer``: octets of each data buffer; ``coalesce_frames`` /
    ``coalesce_slots``: interrupt moderation (COALESCE.MAX_FRAMES, MAX_DELAY in cell slots);
    ``dpc_budget``: descriptors a DPC takes from one ring before it yields and requeues itself (so a
    flood cannot hold the processor at DISPATCH_LEVEL); ``signalling_vc``: the VC table entry of VPI 0/VCI 5;
    ``party_traffic_policy``: see the module documentation; ``timers``: the Q.2931/Q.2971 timers of the
    user side; ``sscop``: SSCOP parameters (None: Q.2130's); ``deferred_close``: complete CloseCall
    asynchronously even when nothing is left to signal (a driver may always pend)."""

    tx_entries: int = 256
    rx_entries: int = 256
    signalling_buffer: int = 512
    data_buffer: int = 2048
    coalesce_frames: int = 0
    coalesce_slots: int = 0
    dpc_budget: int = 128
    signalling_vc: int = 0
    party_traffic_policy: PartyTrafficPolicy = PartyTrafficPolicy.RESET
    timers: Timers = field(default=DEFAULT_TIMERS)
    sscop: SSCOPParams | None = None
    deferred_close: bool = False

    def __post_init__(self) -> None:
        for name, lo, hi in (("tx_entries", 2, 65535), ("rx_entries", 2, 65535), ("signalling_buffer", 16, 65535),
                             ("data_buffer", 16, 65535), ("coalesce_frames", 0, 0xFFFF),
                             ("coalesce_slots", 0, 0xFFFF), ("dpc_budget", 1, 1 << 20), ("signalling_vc", 0, 4095)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise FieldError(f"McmConfig.{name}", v, f"an integer {lo}..{hi}")
        object.__setattr__(self, "party_traffic_policy", PartyTrafficPolicy(self.party_traffic_policy))
        if not isinstance(self.timers, Timers):
            raise FieldError("McmConfig.timers", self.timers, "a firmware.uni.machines.Timers")


__all__ = ["DATA_RING", "McmConfig", "PartyTrafficPolicy", "SIGNALLING_RING"]
