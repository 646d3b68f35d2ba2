"""The node's run loop steps the fabric from one clock event to the next: a queue compacted while the
loop runs - many cancelled timers, as SSCOP's restarts leave - must neither hide an event nor let the fabric run ahead of the clock."""

from __future__ import annotations

import numpy as np

from firmware.switch import SwitchConfig
from firmware.switch.node import SwitchNode
from hw.aal5 import Reassembler, segment
from hw.clock import COMPACT_MIN_DEAD, Clock
from hw.fabric.config import FabricConfig


class Device:
    """A bare user device on a node port: sends cells when told, keeps what arrives."""

    def __init__(self, clock: Clock) -> None:
        self.clock, self.port, self.got = clock, None, []

    def attach(self, port) -> None:
        self.port = port

    def wake_rx(self, cells, slots) -> None:
        self.got.append((np.array(cells), np.array(slots)))

    def send(self, cells: np.ndarray) -> None:
        self.port.send(cells, at=self.clock.now)


def test_events_and_cells_keep_their_slots_across_a_compaction_inside_the_run() -> None:
    clock = Clock("OC-3c")
    node = SwitchNode(clock, SwitchConfig.uniform(4), fabric_config=FabricConfig(ports=4, vcs=64, leaves=64))
    a, b = Device(clock), Device(clock)
    node.attach(1, a)
    node.attach(2, b)
    vc = node.control_plane.fabric.install_vc(1, 0, 100)
    node.control_plane.fabric.add_leaf(vc, 2, 0, 200)
    start = clock.now
    seen: list[tuple[int, str]] = []
    doomed = [clock.schedule_at(start + 500 + i, seen.append, (0, "cancelled")) for i in range(4 * COMPACT_MIN_DEAD)]
    frame = segment(b"after the compaction", 0, 100)

    def cancel_all() -> None:  # from inside the run: the clock compacts its queue on the way
        seen.append((clock.now, "cancel"))
        for handle in doomed:
            handle.cancel()
        clock.schedule_at(clock.now + 5, lambda: (seen.append((clock.now, "send")), a.send(frame)))

    clock.schedule_at(start + 10, cancel_all)
    for k, offset in enumerate((20, 700, 30, 900)):
        clock.schedule_at(start + offset, lambda k=k: seen.append((clock.now, f"event {k}")))
    node.run_until(start + 1000)
    assert seen == [(start + 10, "cancel"), (start + 15, "send"), (start + 20, "event 0"), (start + 30, "event 2"),
                    (start + 700, "event 1"), (start + 900, "event 3")]
    assert clock.now == start + 1000 and clock.pending == 0 and clock.queue_size == 0
    cells = np.concatenate([c for c, _ in b.got])
    slots = np.concatenate([s for _, s in b.got])
    assert [s.sdu for s in Reassembler().feed(cells, slots)] == [b"after the compaction"]
    c = node.counters
    assert c["cells_late"] == 0 and c["cells_out"] == frame.shape[0]
    node.check_conservation()
