"""The point-to-multipoint ATM switch fabric: numba kernels behind a register file.

Reading order:
- fabric.py       the component: ports (send/receive), register file, advance(until) with early stop
- registers.py    the register map (``atmemu regs fabric``), declared with hw/regs.py
- program.py      register-level sequences to program VCs and leaves (ADD/DROP PARTY)
- experiment.py   throughput runs (``atmemu throughput``): warm-up, batches, figures
- engine.py       the kernels (one per architecture): one slot = arrivals, service, stop check
- pipeline.py     one run on two threads: the switch on one, sources and delivery accounting on the other
- ingress.py      lookup, leaf walk, buffer management, buffer and pointer writes
- admission.py    tail drop, CLP-selective discard, EPD, PPD
- egress.py       delivery: statistics, the emulated leaf's checker (now, or logged), capture, reference counts
- arch_oq.py, arch_iq.py, arch_voq.py   output queueing; input FIFO (HOL); VOQ with iSLIP / PIM
- memory.py       free lists, buffer descriptors and pointer nodes as records, linked queues, prefetch
- tables.py       VPI/VCI CAM, header rewrite and HEC, test-cell payload
- generator.py, traffic.py   in-kernel sources and the traffic programs that configure them
- rng.py, stats.py, counters.py, state.py, config.py   random numbers, histogram, counter layout,
                  the struct of arrays, sizes
- twin.py         the plain-Python twin of the whole kernel (tests prove they agree cell by cell)
- jitcache.py     keeps numba's on-disk cache fresh across this package's modules

Importing this package installs jitcache's locator before any kernel is compiled.
"""

from hw.fabric import jitcache as _jitcache

_jitcache.install()  # before any kernel module is imported: see jitcache.py
