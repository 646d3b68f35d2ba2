"""The MCM's parts on their own: the header probe, the bring-up through the registers, the timer DPCs, the
ISR's IRQL, the signalling module's shortcut for ADD PARTY."""

from __future__ import annotations

import random

import pytest

from cm.mcm import AdapterResources, AtmMcm, McmConfig, McmHardwareError, RegisterHeader
from cm.mcm.signalling import _add_party_content
from cm.ndis.dispatcher import Ndis
from cm.ndis.irql import CPU, DIRQL, DISPATCH_LEVEL
from cm.ndis.params import ATM_ADDRESS, make_call_parameters
from cm.ndis.q2931 import party_number_fields
from firmware.uni import fastbuild, fastcodec
from hw.adapter import Adapter, HostMemory
from hw.adapter.registers import register_map
from hw.clock import Clock


def test_probe_reads_the_configuration_from_the_adapter():
    adapter = Adapter(Clock("OC-3c"), HostMemory(1 << 20))
    hdr = RegisterHeader.probe(AdapterResources.of(adapter).bus)
    assert (hdr.cfg.vcs, hdr.cfg.tx_rings, hdr.cfg.rx_rings) == (256, 2, 2)
    # the header's offsets are the adapter's own
    for name, index in (("CTRL", 0), ("TXR.TAIL", 1), ("RXR.BASE", 0), ("VC.PCR", 17), ("INT_STATUS", 0)):
        assert hdr.off(name, index) == adapter.offset(name, index)
    assert hdr.bits("VC.CTRL", AAL="AAL5", SERVICE="CBR", TX_EN=1) == (8 << 4) | (1 << 8) | 1


def test_probe_refuses_another_device():
    ident = register_map().offset_of("ID")

    class Bus:
        def read32(self, offset):
            return 0x12340001 if offset == ident else 0

    with pytest.raises(McmHardwareError, match="ID"):
        RegisterHeader.probe(Bus())


def test_initialisation_programs_the_adapter_through_its_registers(mb):
    tb = mb.make_bed(up=False)
    a, mcm = tb.adapter, tb.mcm
    rd = lambda name, i=0: a.read32(a.offset(name, i))  # noqa: E731
    for r in (0, 1):
        assert rd("TXR.CTRL", r) & 1 and rd("RXR.CTRL", r) & 1
        assert a.read64(a.offset("TXR.BASE", r)) == mcm.tx[r].base
        assert rd("RXR.TAIL", r) == mcm.cfg.rx_entries - 1  # every buffer but one posted
    hdr = rd("VC.HDR", 0)
    assert (hdr >> 16 & 0xFF, hdr & 0xFFFF) == (0, 5)  # the signalling VC
    ctrl = rd("VC.CTRL", 0)
    assert ctrl & 3 == 3 and (ctrl >> 12) & 3 == 1  # TX_EN, RX_EN, RX_RING 1
    assert rd("INT_MASK") == mcm._int_mask and rd("CTRL") & 0b110 == 0b110
    # the address family is registered once the signalling link is up, not before
    assert not mcm.af_registered and not tb.client.binding.af_open
    tb.up()
    assert mcm.af_registered and mcm.saal_up


def test_timer_callbacks_run_as_dpcs_under_the_adapter_lock(mb):
    tb = mb.make_bed()
    seen = []
    tb.mcm.timer_clock.schedule_in(10, lambda: seen.append((CPU.irql, tb.mcm.Lock.held)))
    tb.run(0.001)
    assert seen == [(DISPATCH_LEVEL, True)]
    assert CPU.irql == 0 and not tb.mcm.Lock.held


def test_isr_runs_at_dirql_and_leaves_the_work_to_the_dpc(mb):
    tb = mb.make_bed()
    mcm = tb.mcm
    levels: dict[str, set[int]] = {"isr": set(), "dpc": set()}
    bus_read, dpc = mcm.res.bus.read32, mcm.MiniportInterruptDpc

    def read32(offset):
        if offset == mcm._int_status_reg:  # only the ISR reads INT_STATUS
            levels["isr"].add(CPU.irql)
        return bus_read(offset)

    mcm.res.bus.read32 = read32
    mcm.MiniportInterruptDpc = lambda: (levels["dpc"].add(CPU.irql), dpc())[1]
    call = mb.connected(tb)
    assert call.phase.value == "connected"
    assert levels == {"isr": {DIRQL}, "dpc": {DISPATCH_LEVEL}}
    assert mcm.counters["isr"] >= mcm.counters["dpc"] > 0
    assert CPU.irql == 0


@pytest.mark.parametrize("seed", range(3))
def test_add_party_shortcut_encodes_as_the_converter(seed):
    rng = random.Random(seed)
    B = fastbuild
    for _ in range(50):
        if rng.random() < 0.5:
            addr = ATM_ADDRESS.nsap(bytes(rng.randrange(256) for _ in range(20)))
        else:
            addr = ATM_ADDRESS.e164("".join(rng.choice("0123456789") for _ in range(rng.randint(1, 15))))
        params = make_call_parameters(addr)
        cref, epref = rng.randrange(1, 1 << 23), rng.randrange(1, 1 << 15)
        address, plan, number_type = party_number_fields(addr)
        quick = B.AddParty(cref, epref, B.called_party_number(address, number_type=number_type, plan=plan))
        full = B.AddParty(cref, epref, **_add_party_content(params))
        assert fastcodec.encode(quick) == fastcodec.encode(full)


def test_an_adapter_without_the_signalling_ring_is_refused():
    from hw.adapter import AdapterConfig
    clock = Clock("OC-3c")
    adapter = Adapter(clock, HostMemory(8 << 20), AdapterConfig(tx_rings=1, rx_rings=1))
    with pytest.raises(McmHardwareError, match="TX_RINGS"):
        AtmMcm(Ndis(clock=lambda: clock.now), AdapterResources.of(adapter), McmConfig())
