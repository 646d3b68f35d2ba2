"""AAL5 figures of `atmemu bench cells`: CRC-32 throughput (with the memory read bandwidth beside it),
segmentation and reassembly of 1,500-octet frames. Each kernel's ratio is to its plain twin, measured
in the same run on a smaller input (rates, so sizes need not match)."""

from __future__ import annotations

import numpy as np

from hw.aal5 import Reassembler, segment_batch, segment_batch_twin
from hw.aal5.crc import crc32_batch, crc32_batch_twin
from tools.bench import Context, Figure, best_rate, figures

FRAME = 1500
CELLS_PER_FRAME = 32  # ceil((1500 + 8) / 48)


def _frames(total_octets: int, seed: int = 1):
    n = max(1, total_octets // FRAME)
    buf = np.random.default_rng(seed).integers(0, 256, n * FRAME, dtype=np.uint8)
    offsets = np.arange(n, dtype=np.int64) * FRAME
    lengths = np.full(n, FRAME, dtype=np.int64)
    return buf, offsets, lengths


@figures("cells")
def aal5_crc32(ctx: Context):
    size = max(1 << 20, int((64 << 20) * ctx.scale))
    buf, off, ln = _frames(size)
    ctx.log(f"aal5_crc32: {buf.size / 2**20:.0f} MiB in {off.size} frames of {FRAME} octets")
    crc32_batch(buf[:FRAME], off[:1], ln[:1])  # compile (or load from the cache) before timing
    rate = best_rate(lambda: crc32_batch(buf, off, ln), buf.size)
    k = max(1, (256 << 10) // FRAME)
    twin = best_rate(lambda: crc32_batch_twin(buf[: k * FRAME], off[:k], ln[:k]), k * FRAME, repeat=1)
    words = buf[: buf.size // 8 * 8].view(np.uint64)
    memory = best_rate(lambda: np.bitwise_xor.reduce(words), buf.size)
    yield Figure("aal5_crc32", rate, "bytes/s", ratio_to_twin=rate / twin, target=1e9,
                 note=f"{buf.size / 2**20:.0f} MiB")
    # memory_pass: XOR of every 64-bit word of the same buffer, the read bandwidth a CRC could reach
    yield Figure("memory_pass", memory, "bytes/s",
                 note="read pass, same buffer")


@figures("cells")
def aal5_segment_reassemble(ctx: Context):
    n = max(100, int(20_000 * ctx.scale))
    buf, off, ln = _frames(n * FRAME, seed=2)
    cells = segment_batch(buf, off, ln, 1, 100)
    total = cells.shape[0]
    ctx.log(f"aal5_segment/reassemble: {n} frames of {FRAME} octets = {total} cells")
    seg = best_rate(lambda: segment_batch(buf, off, ln, 1, 100), total)
    k = 100
    seg_twin = best_rate(lambda: segment_batch_twin(buf[: k * FRAME], off[:k], ln[:k], 1, 100),
                         k * CELLS_PER_FRAME, repeat=1)
    yield Figure("aal5_segment", seg, "cells/s", ratio_to_twin=seg / seg_twin, target=5e6,
                 note=f"{n} x {FRAME} B")

    fast = Reassembler()
    check = fast.feed(cells, 0)
    if len(check) != n or check.errors or not np.array_equal(check.data, buf):
        raise AssertionError("aal5_reassemble benchmark: frames did not come back intact")
    rea = best_rate(lambda: fast.feed(cells, 0), total)
    twin = Reassembler(engine="twin")
    part = cells[: k * CELLS_PER_FRAME]
    rea_twin = best_rate(lambda: twin.feed(part, 0), part.shape[0], repeat=1)
    fast.check_conservation()
    yield Figure("aal5_reassemble", rea, "cells/s", ratio_to_twin=rea / rea_twin, target=5e6,
                 note=f"{n} x {FRAME} B")
