"""The fabric component as its users see it: the control plane, an adapter, a throughput run."""

from __future__ import annotations

import re
import tracemalloc
from dataclasses import replace

import numpy as np
import pytest

from hw.cell import hec
from hw.fabric import program
from hw.fabric.config import Arch, FabricConfig
from hw.fabric.counters import (
    LEAF_LOST,
    LEAF_MISORDERED,
    LEAF_OUT,
    N_DROP,
    PORT_DROP_IN,
    PORT_RX_CELLS,
    PORT_RX_COPIES,
    TX_CELLS,
    VC_DROP,
    VC_OFFERED,
    Drop,
)
from hw.fabric.errors import CellInputError, FabricConfigError
from hw.fabric.fabric import Fabric
from hw.fabric.memory import descriptor, queue_nodes
from hw.fabric.state import state_bytes
from hw.fabric.tables import header_twin, parse_header_twin, parse_test_cell_payload
from hw.fabric.traffic import Traffic, build

ARCHS = list(Arch)


def cells_on(vpi: int, vci: int, n: int, pti_last: bool = True, start: int = 0) -> np.ndarray:
    """n cells on VPI/VCI, payload octets 0..3 = a sequence number (to check order at the far end)."""
    out = np.zeros((n, 53), np.uint8)
    for k in range(n):
        pti = 1 if (pti_last and k == n - 1) else 0
        out[k, :5] = np.frombuffer(header_twin(3, vpi, vci, pti, k & 1), np.uint8)
        out[k, 5:9] = np.frombuffer((start + k).to_bytes(4, "big"), np.uint8)
        out[k, 9:] = 0xA5
    return out


def small(arch=Arch.OQ, **kw) -> Fabric:
    cfg = dict(ports=4, arch=arch, buffers=256, vcs=128, leaves=256, capture=64)
    cfg.update(kw)
    return Fabric(FabricConfig(**cfg))


@pytest.mark.parametrize("arch", ARCHS)
def test_signalling_reaches_the_control_port_at_its_exact_slot(arch):
    fab = small(arch)
    sig = cells_on(0, 5, 3)
    slots = fab.port(2).send(sig, at=40)
    assert list(slots) == [40, 41, 42]
    r = fab.advance(1000)
    # the kernel stopped at the end of slot 40, the first slot a cell reached the control port
    assert r.stopped and r.slot == 41 and fab.now == 41
    got = fab.control.receive()
    assert list(got.slots) == [40] and list(got.in_ports) == [2]
    assert bytes(got.cells[0]) == bytes(sig[0])  # header (GFC too) and payload unchanged, HEC valid
    while fab.now < 1000:
        fab.advance(1000)
    got = fab.control.receive()
    assert list(got.slots) == [41, 42]
    assert fab.regs.get("VC.OUT", index=2) == 3  # reserved VC 2 = port 2's signalling


@pytest.mark.parametrize("arch", ARCHS)
def test_control_port_sends_out_of_a_chosen_port_unchanged(arch):
    fab = small(arch)
    fab.port(3).wants_every_cell = True
    sig = cells_on(0, 5, 2)
    fab.control.send(sig, port=3)
    fab.run(20)
    got = fab.port(3).receive()
    assert [bytes(c) for c in got.cells] == [bytes(c) for c in sig]
    assert list(got.in_ports) == [4, 4]


@pytest.mark.parametrize("arch", ARCHS)
def test_point_to_point_header_rewrite_and_hec(arch):
    fab = small(arch)
    program.connect(fab.regs, 20, port=0, vpi=1, vci=100, leaves=[(20, 2, 7, 200)])
    fab.port(2).wants_every_cell = True
    sent = cells_on(1, 100, 5)
    fab.port(0).send(sent)
    fab.run(50)
    got = fab.port(2).receive()
    assert len(got) == 5
    for k, cell in enumerate(got.cells):
        gfc, vpi, vci, pti, clp = parse_header_twin(bytes(cell))
        assert (gfc, vpi, vci) == (0, 7, 200)  # translated; GFC not carried through (I.361)
        assert (pti, clp) == parse_header_twin(bytes(sent[k]))[3:]  # PTI and CLP kept
        assert cell[4] == hec(bytes(cell[:4]))
        assert bytes(cell[5:]) == bytes(sent[k, 5:])


@pytest.mark.parametrize("arch", ARCHS)
def test_multicast_every_leaf_gets_every_cell_once_in_order(arch):
    fab = small(arch, ports=6, buffers=512)
    leaves = [(40, 1, 9, 301), (41, 3, 9, 302), (42, 4, 9, 303), (43, 5, 9, 304)]
    program.connect(fab.regs, 30, port=0, vpi=2, vci=77, leaves=leaves)
    program.connect(fab.regs, 31, port=2, vpi=2, vci=78, leaves=[(44, 3, 9, 400)])  # competing unicast
    for p in (1, 3, 4, 5):
        fab.port(p).wants_every_cell = True
    n = 120
    fab.port(0).send(cells_on(2, 77, n, pti_last=False))
    fab.port(2).send(cells_on(2, 78, n, pti_last=False))
    fab.run(2000)
    for leaf, port, vpi, vci in leaves:
        got = fab.port(port).receive()
        mine = got.cells[got.leaves == leaf]
        seq = [int.from_bytes(bytes(c[5:9]), "big") for c in mine]
        assert seq == list(range(n)), f"leaf on port {port}"
        assert all(parse_header_twin(bytes(c))[1:3] == (vpi, vci) for c in mine)
        assert fab.regs.get("LEAF.OUT", index=leaf) == n
        assert fab.regs.get("LEAF.LOST", index=leaf) == 0
        assert fab.regs.get("LEAF.MISORDERED", index=leaf) == 0
    assert fab.regs.get("VC.OUT", index=30) == 4 * n
    assert fab.regs.get("FREE") == 512  # every buffer came back once its last copy left


def test_drop_party_and_add_party_change_the_copies_from_the_next_cell():
    fab = small()
    program.connect(fab.regs, 30, port=0, vpi=2, vci=77, leaves=[(40, 1, 9, 1), (41, 2, 9, 2)])
    for p in (1, 2, 3):
        fab.port(p).wants_every_cell = True
    fab.port(0).send(cells_on(2, 77, 10))
    fab.run(20)
    program.drop_leaf(fab.regs, 30, 40)
    program.add_leaf(fab.regs, 30, 42, 3, 9, 3)
    fab.port(0).send(cells_on(2, 77, 10))
    fab.run(40)
    assert len(fab.port(1).receive()) == 10 and len(fab.port(2).receive()) == 20 and len(fab.port(3).receive()) == 10
    program.drop_leaf(fab.regs, 30, 41)
    program.drop_leaf(fab.regs, 30, 42)
    fab.port(0).send(cells_on(2, 77, 4))
    fab.run(60)
    assert fab.regs.get("VC.DROP_NO_LEAF", index=30) == 4
    assert fab.regs.get("PORT.DROP_IN_NO_LEAF", index=0) == 4


def test_unknown_vc_and_bad_hec_are_dropped_and_counted():
    fab = small()
    bad = cells_on(5, 999, 3)
    bad[1, 4] ^= 0xFF
    fab.port(1).send(bad)
    fab.run(10)
    assert fab.regs.get("PORT.DROP_IN_UNKNOWN_VC", index=1) == 2
    assert fab.regs.get("PORT.DROP_IN_HEC_ERROR", index=1) == 1
    assert fab.regs.get("PORT.RX_CELLS", index=1) == 3


def test_bad_input_raises_typed_errors():
    fab = small()
    with pytest.raises(CellInputError):
        fab.port(0).send(np.zeros((2, 52), np.uint8))
    with pytest.raises(CellInputError):
        fab.port(0).send(np.zeros((2, 53), np.int32))
    fab.run(10)
    with pytest.raises(CellInputError):
        fab.port(0).send(cells_on(0, 5, 1), at=3)
    with pytest.raises(CellInputError):
        fab.port(9)
    with pytest.raises(CellInputError):
        Fabric(FabricConfig(ports=2, payload=False)).port(0).send(cells_on(0, 5, 1))


def test_a_traffic_program_whose_tables_do_not_hold_is_refused_by_name():
    """The kernel indexes the generator's tables without bounds checks: load_traffic checks them."""
    fab = small()
    good = build(Traffic("uniform", 0.5), 4)
    for name, bad, field in (
        ("alias_n", lambda a: a.__setitem__(1, 0), "alias columns of port 1"),
        ("alias_off", lambda a: a.__setitem__(2, 10_000), "alias columns of port 2"),
        ("alias_vc", lambda a: a.__setitem__(0, 999), "traffic VCs of port 0"),
        ("alias_alt", lambda a: a.__setitem__(0, 5), "a VC keyed on input port 0"),  # VC 5 is input 1's
        ("gen_mode", lambda a: a.__setitem__(3, 9), "gen_mode[3]"),
    ):
        gen = {k: np.array(v, copy=True) for k, v in good.gen.items()}
        bad(gen[name])
        with pytest.raises(FabricConfigError, match=re.escape(field)):
            fab.load_traffic(replace(good, gen=gen))
    fab.load_traffic(good)  # the checks pass a real program
    fab.run(100)
    assert fab.state.port_cnt[:4, PORT_RX_CELLS].sum() > 0


def test_a_traffic_program_goes_where_it_is_told_and_never_over_someone_elses_entries():
    """``first_entry`` places the program's VC and leaf entries (reloading it there is allowed); an entry
    below 2N (reserved), a non-int, an entry that does not leave room, or one a valid entry of someone
    else (the control plane's) is refused, naming first_entry, and nothing is written."""
    fab = small(vcs=64, leaves=64)
    prog = build(Traffic("uniform", 0.5), 4)   # 16 VCs, 16 leaves
    program.connect(fab.regs, 30, 1, 0, 100, [(30, 2, 0, 200)])   # someone's call at entry 30
    before = fab.regs.array("LEAF.PORT.PORT").copy()
    for bad in (7, -1, True, 8.0, "9", 20):
        with pytest.raises(FabricConfigError, match="first_entry"):
            fab.load_traffic(prog, first_entry=bad)
    with pytest.raises(FabricConfigError, match="vcs"):
        fab.load_traffic(prog, first_entry=60)          # 60 + 16 > 64 VC entries
    np.testing.assert_array_equal(fab.regs.array("LEAF.PORT.PORT"), before)
    fab.load_traffic(prog, first_entry=31)
    assert fab.traffic_vcs == (31, 47) and fab.traffic_leaves == (31, 47)
    assert fab.regs.read_table("VC", "CTRL.VALID")[31:47].all() and fab.regs.get("VC.HEAD", "LEAF", 31) == 31
    fab.load_traffic(prog, first_entry=31, account_only=True)   # a reload over its own entries
    flag = fab.regs.read_table("LEAF", "CTRL.ACCOUNT_ONLY")
    assert flag[31:47].all() and flag.sum() == 16
    fab.load_traffic(prog, first_entry=31)                      # and back: the flag is written, not kept
    assert not fab.regs.read_table("LEAF", "CTRL.ACCOUNT_ONLY").any()
    fab.run(200)
    assert fab.regs.array("VC.IN_CELLS.COUNT")[31:47].sum() > 0 and fab.regs.array("VC.IN_CELLS.COUNT")[8:31].sum() == 0


@pytest.mark.parametrize("arch", ARCHS)
def test_a_consumer_that_wants_every_cell_sees_each_at_its_slot(arch):
    fab = Fabric(FabricConfig(ports=4, arch=arch, buffers=512, vcs=64, leaves=128, capture=32), seed=3)
    fab.load_traffic(build(Traffic("uniform", 0.7, multicast_fraction=0.25, fanout=2), 4))
    fab.port(1).wants_every_cell = True
    stops = 0
    while fab.now < 3000:
        r = fab.advance(3000)
        got = fab.port(1).receive()
        if r.stopped:
            stops += 1
            # the kernel returned at the end of the slot in which this port's cell left
            assert len(got) >= 1 and np.all(got.slots == r.slot - 1)
        for cell in got.cells:  # generated cells carry (sequence, arrival slot, VC) in their payload
            seq, arrival, vc = parse_test_cell_payload(bytes(cell[5:]))
            assert arrival <= r.slot - 1
    assert stops == fab.regs.get("PORT.TX_CELLS", index=1) > 1000


def test_capture_without_stop_loses_nothing_when_the_buffer_fills():
    fab = Fabric(FabricConfig(ports=4, buffers=512, vcs=64, leaves=128, capture=20), seed=4)
    fab.load_traffic(build(Traffic("uniform", 0.9), 4))
    for p in range(4):
        fab.regs.set("PORT.CTRL", p, CAPTURE=1, STOP=0)
    r = fab.advance(2000)
    assert r.slot == 2000 and not r.stopped
    assert sum(len(fab.port(p).receive()) for p in range(4)) == fab.state.port_tx[:4, TX_CELLS].sum()
    assert fab.regs.get("STATUS", "CAPTURE_FULL") == 1


def conservation(fab: Fabric) -> None:
    s = fab.state
    P = fab.config.port_count
    drops = s.port_cnt[:, PORT_DROP_IN:PORT_DROP_IN + N_DROP]
    queued_by_input = np.zeros(P, np.int64)
    queued_by_vc = np.zeros(fab.config.vcs, np.int64)
    for q in range(fab.config.queue_count):
        for b, _ in queue_nodes(s, q):
            queued_by_input[s.buf_in[b]] += 1
            queued_by_vc[descriptor(s, b)[2]] += 1
    # every offered copy: delivered, still queued, or in exactly one drop counter
    delivered_by_input = np.zeros(P, np.int64)
    np.add.at(delivered_by_input, fab.state.vc_port.astype(np.int64), s.vc_out)
    np.testing.assert_array_equal(s.port_cnt[:, PORT_RX_COPIES], delivered_by_input + queued_by_input + drops.sum(1))
    np.testing.assert_array_equal(s.vc_cnt[:, VC_OFFERED], s.vc_out + queued_by_vc + s.vc_cnt[:, VC_DROP:].sum(1))
    assert s.port_tx[:, TX_CELLS].sum() == s.vc_out.sum() == s.leaf_cnt[:, LEAF_OUT].sum()


@pytest.mark.parametrize("arch", ARCHS)
def test_conservation_under_overload_with_every_discard(arch):
    fab = Fabric(FabricConfig(ports=4, arch=arch, buffers=48, nodes=60, vcs=64, leaves=128), seed=11)
    fab.load_traffic(build(Traffic("aal5", 0.95, multicast_fraction=0.5, fanout=3, clp=0.3, epd=True, ppd=True), 4))
    for p in range(5):
        fab.regs.set("PORT.QLIMIT", p, LIMIT=20)
        fab.regs.set("PORT.CLP_THRESH", p, LIMIT=12)
        fab.regs.set("PORT.EPD_THRESH", p, LIMIT=10)
    fab.port(0).send(cells_on(9, 9, 5))  # unknown VC
    fab.run(20000)
    conservation(fab)
    drops = fab.state.port_cnt[:, PORT_DROP_IN:PORT_DROP_IN + N_DROP].sum(0)
    for cause in (Drop.UNKNOWN_VC, Drop.CLP_DISCARD, Drop.EPD, Drop.PPD):
        assert drops[cause] > 0, cause.name
    assert fab.state.leaf_cnt[:, LEAF_MISORDERED].sum() == 0
    # the leaves' gap counts are the drops they suffered (minus drops after their last delivery)
    assert 0 < fab.state.leaf_cnt[:, LEAF_LOST].sum() <= drops.sum()


def test_memory_does_not_grow_with_the_run_length():
    fab = Fabric(FabricConfig(ports=8, buffers=1024, vcs=128, leaves=512, payload=False), seed=1)
    fab.load_traffic(build(Traffic("bursty", 0.8, multicast_fraction=0.25), 8))
    fab.run(1000)  # compiled and warm
    before = state_bytes(fab.state)
    tracemalloc.start()
    fab.run(300_000)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert state_bytes(fab.state) == before
    assert peak < 200_000, f"{peak} octets allocated while running 3e5 slots"
    assert fab.state.port_cnt[:, PORT_RX_CELLS].sum() > 1_500_000


def test_reset_empties_the_fabric_and_restores_the_reserved_entries():
    fab = Fabric(FabricConfig(ports=4, buffers=128, vcs=64, leaves=128), seed=2)
    fab.load_traffic(build(Traffic("uniform", 1.0), 4))
    program.connect(fab.regs, 40, port=1, vpi=3, vci=33, leaves=[(60, 2, 3, 34)])
    fab.run(500)
    assert fab.regs.get("FREE") < 128
    fab.reset()
    assert fab.now == 500 and fab.regs.get("SLOT") == 500  # time does not go back
    assert fab.regs.get("FREE") == 128 and fab.queued_copies() == 0
    assert fab.state.port_cnt.sum() == fab.state.port_tx.sum() == 0 and fab.regs.get("VC.CTRL", "VALID", 40) == 0
    fab.port(1).send(cells_on(0, 5, 1))
    fab.port(1).send(cells_on(3, 33, 1))
    fab.run(510)
    assert len(fab.control.receive()) == 1  # signalling still reaches the control port
    assert fab.regs.get("PORT.DROP_IN_UNKNOWN_VC", index=1) == 1  # the old VC is gone
