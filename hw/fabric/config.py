"""What a fabric instance is built with: its architecture and the sizes of its memories."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from hw.fabric.errors import FabricConfigError


class Arch(enum.IntEnum):
    """Queueing architecture (switch-models.md)."""

    OQ = 0  # output-queued shared memory: every copy goes straight to its output's queue
    IQ_FIFO = 1  # one FIFO per input; head-of-line blocking; random contention (Karol et al. 1987)
    VOQ_ISLIP = 2  # virtual output queues + a multicast queue per input, iSLIP (McKeown 1999)
    VOQ_PIM = 3  # virtual output queues + a multicast queue per input, PIM (Anderson et al. 1993)

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", "-")

    @classmethod
    def parse(cls, text: "str | Arch") -> "Arch":
        if isinstance(text, Arch):
            return text
        for a in cls:
            if a.label == text:
                return a
        raise FabricConfigError("arch", text, "one of " + ", ".join(a.label for a in cls))


MAX_PORTS = 256


@dataclass(frozen=True)
class FabricConfig:
    """Sizes of one fabric instance. Ports are 0..ports-1; the control port is index ``ports``."""

    ports: int = 16
    arch: Arch = Arch.OQ
    iterations: int = 1  # matching iterations for iSLIP / PIM
    buffers: int = 4096  # cells of shared memory
    nodes: int = 0  # queue-pointer nodes (copies queued at once); 0 -> 2 x buffers
    vcs: int = 1024  # translation-table entries (the first 2 x ports are reserved, see tables.py)
    leaves: int = 4096  # leaf-table entries
    capture: int = 4096  # capture buffer (cells handed to software per advance)
    payload: bool = True  # keep header and payload of injected cells (False: generated traffic only)
    block: int = 1024  # slots of traffic generated ahead in one go
    threads: int = 1  # 2: traffic generation and delivery accounting on a second thread (pipeline.py)

    def __post_init__(self) -> None:
        object.__setattr__(self, "arch", Arch.parse(self.arch))
        checks = [
            ("ports", self.ports, 2, MAX_PORTS),
            ("iterations", self.iterations, 1, 16),
            ("buffers", self.buffers, 1, (1 << 24) - 1),
            ("vcs", self.vcs, 2 * self.ports + 1, 1 << 20),
            ("leaves", self.leaves, 2 * self.ports + 1, (1 << 24) - 2),
            ("capture", self.capture, 4 * (self.ports + 1), 1 << 24),
            ("block", self.block, 1, 1 << 16),
            ("threads", self.threads, 1, 2),
        ]
        for name, value, lo, hi in checks:
            if not isinstance(value, int) or not lo <= value <= hi:
                raise FabricConfigError(name, value, f"an integer in {lo}..{hi}")
        if self.nodes == 0:
            object.__setattr__(self, "nodes", 2 * self.buffers)
        if not 1 <= self.nodes <= 1 << 28:
            raise FabricConfigError("nodes", self.nodes, "1..2^28 (0 = 2 x buffers)")

    @property
    def port_count(self) -> int:
        """Ports including the control port."""
        return self.ports + 1

    @property
    def control(self) -> int:
        return self.ports

    @property
    def queue_count(self) -> int:
        P = self.port_count
        if self.arch in (Arch.OQ, Arch.IQ_FIFO):
            return P
        return P * P + P  # unicast VOQ(i, o) = i * P + o, then one multicast queue per input
