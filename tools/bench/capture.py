"""Benchmarks of the capture files (suite "capture"): writing and reading pcapng in tmpfs.

- cells written as ERF type 3 records (EPBs built with numpy), and read back in batches into
  (n, 53) cells with the HEC recomputed: cells/s, target 5 M cells/s (issue 7);
- signalling frames (SunATM records of ~60 octets, each with a comment tying it to an NDIS call)
  written one by one and read back as records: frames/s, target 50,000 frames/s;
- peak memory (tracemalloc, numpy's buffers included) of writing and of reading a short capture and
  one 10 times longer: the two figures should match, the cost being bounded by the writers' chunks
  and the reader's batch, whatever the capture's length.

The same through the recorder (``captures.recorder``), as an emulation records:

- signalling frames through the SAAL endpoints' taps (``SignallingTap``: the sender's tap writes the
  SunATM record, the receiver's sees it and leaves it out), each taking a comment left with
  ``Recorder.annotate``: frames/s, target 50,000; read back as the replay reads them
  (``captures.exchange``: SSCOP and Q.2931 decoded), frames/s, no target (reading the records back
  is ``frames_read_sunatm``);
- cells through a link's tap (``CellTap``: VC filter, count bound, clock slots to nanoseconds) into
  ERF records: cells/s, target 5 M; read back into (n, 53) cells; and the peak memory of a short and a
  10 times longer run;
- the cell tap's VC filter kernel alone (``captures.vcfilter``), cells/s and its ratio to the plain twin.

Files go to /dev/shm (tmpfs) when it exists, so the figures measure the code, not a disk.
"""

from __future__ import annotations

import os
import tempfile
import time
import tracemalloc
from contextlib import contextmanager

import numpy as np

from captures import reader
from captures.exchange import read_exchanges
from captures.pcapng import PcapngWriter, link_name
from captures.recorder import Recorder
from captures.taps import CellTap
from captures.vcfilter import vc_mask, vc_mask_twin
from captures.records import LINKTYPE_ERF, LINKTYPE_SUNATM, erf_cells_from_records, sunatm_record
from firmware.signalling_link import SignallingLink
from firmware.sscop import fastcodec
from firmware.uni import builders
from hw.cell import stamp_hec
from hw.clock import Clock
from tools.bench import Context, Figure, best_rate, figures

CELLS_TARGET = 5e6  # cells/s, issue 7
FRAMES_TARGET = 5e4  # frames/s, issue 7
CELL_CHUNK = 1 << 16  # cells handed to the writer per call, as a tap on a busy link would
CELL_TIME_NS = 2_831  # one OC-3c cell slot
T0 = 1_700_000_000_000_000_000
COMMENT = "NdisClAddParty party=3 -> PENDING"
SDU = bytes(56)  # 4 + 56 = a 60-octet SunATM record


@contextmanager
def _scratch(name: str):
    folder = "/dev/shm" if os.path.isdir("/dev/shm") else None
    fd, path = tempfile.mkstemp(prefix=f"atmemu-bench-{name}-", suffix=".pcapng", dir=folder)
    os.close(fd)
    try:
        yield path
    finally:
        os.remove(path)


def _chunk_of_cells() -> np.ndarray:
    cells = np.random.default_rng(1).integers(0, 256, (CELL_CHUNK, 53), dtype=np.uint8)
    cells[:, 0:4] = (0x00, 0x10, 0x02, 0x00)  # VPI 1, VCI 32
    return cells


def write_cells(path: str, n: int, chunk: np.ndarray) -> None:
    """``n`` cells in calls of ``len(chunk)``; the time stamps advance one cell slot per cell."""
    steps = np.arange(len(chunk), dtype=np.int64) * CELL_TIME_NS
    with PcapngWriter(path) as w:
        erf = w.add_interface(LINKTYPE_ERF, link_name("switch.port1", "leaf1"))
        for start in range(0, n, len(chunk)):
            k = min(len(chunk), n - start)
            w.write_erf_cells(erf, chunk[:k], T0 + start * CELL_TIME_NS + steps[:k])


def read_cells(path: str) -> int:
    count = 0
    with reader.open(path) as rd:
        for batch in rd.batches():
            count += len(erf_cells_from_records(batch.data).cells)
    return count


def write_frames(path: str, n: int) -> None:
    with PcapngWriter(path) as w:
        sig = w.add_interface(LINKTYPE_SUNATM, link_name("adapter0", "switch.port0"))
        for i in range(n):
            w.write_packet(sig, T0 + i * 1_000, sunatm_record(i & 1 == 0, 0, 5, SDU), comments=COMMENT)


def read_frames(path: str) -> int:
    count = 0
    with reader.open(path) as rd:
        for record in rd:
            count += len(record.comments)
    return count


def _best_seconds(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _peak(fn) -> int:
    """Peak of memory traced while ``fn`` runs, above what was allocated when it started."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


@figures("capture")
def cell_figures(ctx: Context):
    n = max(CELL_CHUNK, int(4_000_000 * ctx.scale))
    chunk = _chunk_of_cells()
    with _scratch("cells") as path:
        ctx.log(f"capture: {n:,} cells as ERF records in pcapng, {path}")
        write_s = _best_seconds(lambda: write_cells(path, n, chunk))
        size = os.path.getsize(path)
        assert read_cells(path) == n
        read_s = _best_seconds(lambda: read_cells(path))
    note = f"{n:,} cells, {size / 2**20:,.0f} MiB"
    yield Figure("cells_write_erf", n / write_s, "cells/s", target=CELLS_TARGET, note=note)
    yield Figure("cells_read_erf", n / read_s, "cells/s", target=CELLS_TARGET, note=note + ", to (n, 53) with HEC")


@figures("capture")
def frame_figures(ctx: Context):
    n = max(1_000, int(300_000 * ctx.scale))
    with _scratch("frames") as path:
        ctx.log(f"capture: {n:,} SunATM frames with comments, {path}")
        write_s = _best_seconds(lambda: write_frames(path, n))
        assert read_frames(path) == n
        read_s = _best_seconds(lambda: read_frames(path))
    note = f"{n:,} frames of 60 octets, one comment each"
    yield Figure("frames_write_sunatm", n / write_s, "frames/s", target=FRAMES_TARGET, note=note)
    yield Figure("frames_read_sunatm", n / read_s, "frames/s", target=FRAMES_TARGET, note=note + ", as Record objects")


@figures("capture")
def memory_figures(ctx: Context):
    """Peak memory of a short and a 10x longer capture, cells and frames, writing and reading."""
    short_cells = max(CELL_CHUNK, int(400_000 * ctx.scale))
    short_frames = max(40_000, int(40_000 * ctx.scale))  # > read chunk + batch, even at small scales
    chunk = _chunk_of_cells()
    stamp_hec(chunk[:1].copy())  # load the HEC kernel before measuring: numba's loading is not the reader's
    for kind, short, write, read in (
        ("cells", short_cells, lambda p, n: write_cells(p, n, chunk), read_cells),
        ("frames", short_frames, write_frames, read_frames),
    ):
        peaks = {}
        for label, n in (("short", short), ("long", 10 * short)):
            with _scratch(f"mem-{kind}") as path:
                ctx.log(f"capture: peak memory, {n:,} {kind}")
                peaks[("write", label)] = _peak(lambda: write(path, n))
                size = os.path.getsize(path)
                peaks[("read", label)] = _peak(lambda: read(path))
                peaks[("size", label)] = size
        for op in ("write", "read"):
            for label in ("short", "long"):
                n = short if label == "short" else 10 * short
                yield Figure(f"{kind}_{op}_peak_{label}", peaks[(op, label)] / 2**10, "KiB",
                             note=f"{n:,} {kind}, file {peaks[('size', label)] / 2**20:,.1f} MiB")
            ratio = peaks[(op, "long")] / max(1, peaks[(op, "short")])
            yield Figure(f"{kind}_{op}_peak_long_over_short", ratio, "x",
                         note="10x the capture; ~1 means independent of its length")


# ------------------------------------------------------------------------------------------ the recorder
SLOTS_PER_FRAME = 300  # a frame every 300 OC-3c slots (0.85 ms)


def signalling_pdus(n: int) -> list[bytes]:
    """``n`` SD PDUs of ADD PARTY, N(S) 0, 1, 2... (each a new message for the reader)."""
    message = bytes(builders.AddParty(1, 1, "+4930999"))
    return [fastcodec.encode_sd(i & 0xFFFFFF, message) for i in range(n)]


def record_frames(path: str, sds: list[bytes]) -> None:
    """The SD PDUs ``sds`` through the recorder: the sending endpoint's tap records each (with the
    comment annotated for it), the receiving endpoint's tap sees it and leaves it out, as on a UNI whose
    two ends are tapped. The endpoints only lend their tap hooks: no SSCOP runs."""
    clock = Clock("OC-3c")
    user = SignallingLink(clock, name="user", side="user")
    network = SignallingLink(clock, name="network", side="network")
    n = len(sds)
    with Recorder(path, clock) as rec:
        link = rec.link("adapter0", "switch:0")
        rec.tap_signalling(link, user)
        rec.tap_signalling(link, network)
        sender, receiver = user.tap, network.tap
        for i in range(n):
            slot = i * SLOTS_PER_FRAME
            rec.annotate(link, slot, COMMENT, sent_by="user")
            sender("tx", sds[i], slot)
            receiver("rx", sds[i], slot + 40)


def read_frames_as_exchanges(path: str) -> int:
    return sum(len(ex.messages()) for ex in read_exchanges(path))


def record_cells(path: str, n: int, chunk: np.ndarray) -> None:
    """``n`` cells through a CellTap (VC filter of two VCs, no bound), in calls of ``len(chunk)`` as a
    link delivers them; one cell per slot."""
    clock = Clock("OC-3c")
    steps = np.arange(len(chunk), dtype=np.int64)
    with Recorder(path, clock) as rec:
        tap = CellTap(rec, rec.link("switch:1", "leaf1", user="leaf1"), vcs=[(1, 32), (2, 40)])
        for start in range(0, n, len(chunk)):
            k = min(len(chunk), n - start)
            tap("switch:1->leaf1", chunk[:k], start + steps[:k])


@figures("capture")
def recorder_figures(ctx: Context):
    n_frames = max(2_000, int(200_000 * ctx.scale))
    sds = signalling_pdus(n_frames)
    with _scratch("recorder-frames") as path:
        ctx.log(f"capture: {n_frames:,} signalling frames through the recorder's taps, {path}")
        write_s = _best_seconds(lambda: record_frames(path, sds))
        assert read_frames_as_exchanges(path) == n_frames
        read_s = _best_seconds(lambda: read_frames_as_exchanges(path))
    note = f"{n_frames:,} SD PDUs of ADD PARTY, both ends tapped, one comment each"
    yield Figure("recorder_frames_sunatm", n_frames / write_s, "frames/s", target=FRAMES_TARGET, note=note)
    # Reading back as records is frames_read_sunatm; this is the replay's reading, every PDU decoded.
    yield Figure("recorder_frames_read_decoded", n_frames / read_s, "frames/s",
                 note=note + ", read back with SSCOP and Q.2931 decoded (captures.exchange), no target")
    n_cells = max(CELL_CHUNK, int(4_000_000 * ctx.scale))
    chunk = _chunk_of_cells()
    with _scratch("recorder-cells") as path:
        ctx.log(f"capture: {n_cells:,} cells through a cell tap into ERF, {path}")
        write_s = _best_seconds(lambda: record_cells(path, n_cells, chunk))
        assert read_cells(path) == n_cells
        read_s = _best_seconds(lambda: read_cells(path))
    note = f"{n_cells:,} cells in calls of {CELL_CHUNK:,}, VC filter of 2 VCs"
    yield Figure("recorder_cells_erf", n_cells / write_s, "cells/s", target=CELLS_TARGET, note=note)
    yield Figure("recorder_cells_read_erf", n_cells / read_s, "cells/s", target=CELLS_TARGET,
                 note=note + ", read back to (n, 53) with HEC")
    short = max(CELL_CHUNK, int(400_000 * ctx.scale))
    peaks = {}
    for label, n in (("short", short), ("long", 10 * short)):
        with _scratch("recorder-mem") as path:
            peaks[label] = _peak(lambda: record_cells(path, n, chunk))
    yield Figure("recorder_cells_peak_short", peaks["short"] / 2**10, "KiB", note=f"{short:,} cells")
    yield Figure("recorder_cells_peak_long", peaks["long"] / 2**10, "KiB", note=f"{10 * short:,} cells")
    yield Figure("recorder_cells_peak_long_over_short", peaks["long"] / max(1, peaks["short"]), "x",
                 note="10x the run; ~1 means independent of its length")


@figures("capture")
def vc_filter_figures(ctx: Context):
    """The cell tap's VC filter (captures.vcfilter): the numba kernel, and its ratio to the plain twin."""
    cells = _chunk_of_cells()
    cells[::2, 1] = 0x20  # half the cells on VPI 2: the filter keeps 1/32 and 2/40, not 2/32
    keys = np.array([1 << 16 | 32, 2 << 16 | 40], np.uint32)
    vc_mask(cells[:8], keys)  # compile or load from the cache before timing
    kernel = best_rate(lambda: vc_mask(cells, keys), len(cells))
    sample = cells[:2048]
    twin = best_rate(lambda: vc_mask_twin(sample, keys, False), len(sample), repeat=2)
    yield Figure("vc_filter", kernel, "cells/s", ratio_to_twin=kernel / twin,
                 note=f"{len(cells):,} cells a call, 2 VCs kept; twin on {len(sample):,}")
