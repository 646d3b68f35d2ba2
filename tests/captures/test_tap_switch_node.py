"""A whole emulated switch recorded with tap_switch_node: one link per port named after the switch port
and its device, every signalling frame once, and the data of a point-to-multipoint call as ERF cells
and whole AAL5 PDUs on the root's line and on each leaf's."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("firmware.switch.node") is None,
                                reason="firmware.switch.node is not in this tree")

from captures import reader  # noqa: E402
from captures.exchange import read_exchanges  # noqa: E402
from captures.records import LINKTYPE_ERF, erf_cells_from_records  # noqa: E402
from captures.recorder import Recorder  # noqa: E402
from captures.taps import tap_switch_node  # noqa: E402
from hw.aal5 import parse_cpcs_pdu  # noqa: E402


def test_a_call_with_data_through_the_switch(tmp_path):
    from firmware.endpoint.leaf import LeafBehaviour
    from firmware.network import Network

    net = Network(4)
    root = net.add_root(0)
    net.add_leaf(1)
    net.add_leaf(2, LeafBehaviour.accept())
    net.add_leaf(3, LeafBehaviour.reject(17))
    path = tmp_path / "run.pcapng"
    with Recorder(path, net.clock) as rec:
        links = tap_switch_node(rec, net.node, cells={"aal5": True})
        s = net.script()
        s.wait(0.01)
        s.make_call(1)
        s.wait(0.01)
        s.add_party(2)
        s.add_party(3)
        s.wait(0.05)
        s.send_frames(3, 1000)
        s.wait(0.05)
        s.close_call()
        s.wait(0.05)
    assert sorted(link.name for link in links.values()) == ["switch:0<->root0", "switch:1<->leaf1",
                                                             "switch:2<->leaf2", "switch:3<->leaf3"]
    exchanges = read_exchanges(path)
    root_link = exchanges["switch:0<->root0"]
    assert [f.summary.message for f in root_link.messages("network")] == [
        "CALL PROCEEDING", "CONNECT", "ADD PARTY ACKNOWLEDGE", "ADD PARTY REJECT", "RELEASE COMPLETE"]
    assert exchanges.counters["retransmissions"] == 0
    # Data: the root's cells on its line, a copy on each member leaf's, none on the refusing leaf's.
    vc = root.calls[0].connection
    cells: dict[str, list] = {}
    pdus: dict[str, list] = {}
    with reader.open(path) as rd:
        for record in rd:
            if record.linktype != LINKTYPE_ERF:
                continue
            name = rd.interface(record.section, record.interface).name
            if record.data[8] == 3:
                cells.setdefault(name, []).append(np.frombuffer(record.data, np.uint8))
            else:
                pdus.setdefault(name, []).append(parse_cpcs_pdu(record.data[20:])[0])
    sent = root.cells_sent
    assert sent == 3 * 21  # 1000 octets + trailer: 21 cells a frame
    assert sorted(cells) == ["switch:0<->root0", "switch:1<->leaf1", "switch:2<->leaf2"]
    for name in ("switch:0<->root0", "switch:1<->leaf1", "switch:2<->leaf2"):
        got = erf_cells_from_records(np.stack(cells[name]))
        assert len(got.cells) == sent, name
        assert len(pdus[name]) == 3 and all(len(p) == 1000 for p in pdus[name]), name
    root_cells = erf_cells_from_records(np.stack(cells["switch:0<->root0"]))
    vpi = ((root_cells.cells[:, 0] & 0x0F) << 4) | (root_cells.cells[:, 1] >> 4)
    assert set(vpi.tolist()) == {vc[0]}
    assert root_cells.interface.tolist() == [1] * sent  # port 1: sent by the root, end b of its link
    assert pdus["switch:1<->leaf1"] == pdus["switch:0<->root0"]  # each leaf got the root's frames
    # Each station sent its BGN as it was made, before the taps: recorded where it arrived, once.
    c = rec.counters
    assert c["frames_recorded_at_receiver"] == 4 and c["frames_lost_after_tap"] == 0
    assert c["frames_seen_twice"] + c["frames_recorded_at_receiver"] == c["frames"]
    assert [f.summary.sscop for f in root_link.frames[:2]] == ["BGN", "BGAK"]
