"""Two threads for one fabric run: the switch on one core, its traffic sources and its bookkeeping on
the other, with exactly the results of a one-thread run.

What can be split. In every architecture, a slot's switching (arrivals, buffer management, queues,
the scheduler, the free lists) depends on the slot before: it stays on one thread (the *switch*
thread). Two parts of the work do not feed back into it:
- the traffic sources: they never look at the switch (generator.py), so the next block of slots can
  be generated while the switch runs the current one;
- the accounting of delivered copies (egress.account: delivery counters, delay histogram, the
  emulated leaf's checker): a pure function of the copies delivered, in delivery order.
So the switch thread runs the engine kernel with a delivery log in its state (egress.deliver_copy
appends each delivered copy instead of accounting it), and the *helper* thread, meanwhile, accounts
the log of the previous chunk of slots and generates the next block. The switch thread accounts the
last chunk itself before returning, so every counter is complete whenever software can read it. The
two threads write disjoint words: the switch thread the ingress counters and drop counters, queues,
buffers, ``leaf_discard``; the helper the delivery counters, histogram, ``leaf_rx``/``leaf_expect``,
the generator's state and the spare block.

What cannot be split. Splitting the output ports of the output-queued switch between the cores does
not give the same results: every cell's admission depends on the shared memory's free count, which
the arrivals to every output change in the same slot (and IQ / VOQ matching is global). So the switch
itself stays on one core; the speed-up is bounded by the share of the work that moves (about a third
for OQ under multicast overload, tools/bench/fabric.py measures it).

Chunks are the generator's blocks (FabricConfig.block slots), so the switch never generates inside a
chunk. A block generated ahead but not reached (the run stopped early) is kept as ``pending`` and put
in place when the switch reaches its first slot; if the traffic is reloaded first, the generator's
state is rewound to before that block, as if it had never been generated.
"""

from __future__ import annotations

import threading
import time

import numba as nb
import numpy as np

from hw.fabric.egress import account
from hw.fabric.generator import generate_block
from hw.fabric.state import (
    LOG_DELAY,
    LOG_WHERE,
    LOG_WIDTH,
    LOG_WORD,
    SC_BLK_LEN,
    SC_BLK_T0,
    SC_GEN_ON,
    SC_LOG_N,
    SC_NOW,
    SC_PORTS,
    FabricState,
)


@nb.njit(cache=True, nogil=True, _nrt=False)
def account_log(s, log, n):
    """Account the first n records of a delivery log, in order (egress.account)."""
    for k in range(n):
        r = k * LOG_WIDTH
        where = log[r + LOG_WHERE]
        account(s, np.uint32(where >> 32), np.uint32(where & 0xFFFFFFFF), log[r + LOG_DELAY], log[r + LOG_WORD])


# the generator's dynamic state (the scheduler's stream is apart, in sched_rng)
_GEN_STATE = ("rng", "gen_vc", "gen_left", "vc_left")


class PendingBlock:
    """A block generated ahead: its first slot, its arrays, and the generator's state before it."""

    def __init__(self, t0: int, arr: np.ndarray, end: np.ndarray, before: dict[str, np.ndarray]) -> None:
        self.t0 = t0
        self.arr = arr
        self.end = end
        self.before = before


class _Helper:
    """The helper thread: runs one job at a time (a callable releasing the GIL), handed over with
    ``start`` and collected with ``wait``."""

    def __init__(self) -> None:
        self._job = None
        self._error: BaseException | None = None
        self._go = threading.Semaphore(0)
        self._done = threading.Semaphore(0)
        self._thread = threading.Thread(target=self._loop, name="fabric-helper", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while True:
            self._go.acquire()
            job = self._job
            if job is None:
                return
            try:
                job()
            except BaseException as exc:  # handed to the switch thread in wait()
                self._error = exc
            self._done.release()

    def start(self, job) -> None:
        self._job = job
        self._go.release()

    def wait(self) -> None:
        self._done.acquire()
        if self._error is not None:
            err, self._error = self._error, None
            raise err

    def close(self) -> None:
        self._job = None
        self._go.release()
        self._thread.join()


class TwoThreadRunner:
    """Runs a Fabric's kernel on two threads (see the module doc). ``run`` has the contract of the
    kernel: (state, until, injected cells) -> stop reason, with the state's sc[SC_NOW] advanced."""

    def __init__(self, kernel, block: int, ports: int) -> None:
        self.kernel = kernel
        P = ports + 1
        self.B = block
        # a chunk delivers at most one copy per output and slot
        self.logs = [np.zeros(block * P * LOG_WIDTH, np.int64) for _ in range(2)]
        self.spare = (np.zeros(P * block, np.int32), np.zeros(block, np.int32))
        self.pending: PendingBlock | None = None
        self.helper = _Helper()
        #: CPU seconds of each thread's share (the benchmark reports what two free cores would give)
        self.cpu = {"switch": 0.0, "helper": 0.0}

    def close(self) -> None:
        self.helper.close()

    # -- pending blocks -----------------------------------------------------------------------------
    def install_pending(self, s: FabricState) -> FabricState:
        """The pending block becomes the current one (the switch has reached its first slot)."""
        p = self.pending
        self.spare = (s.blk_arr, s.blk_end)
        s = s._replace(blk_arr=p.arr, blk_end=p.end)
        s.sc[SC_BLK_T0] = p.t0
        s.sc[SC_BLK_LEN] = self.B
        self.pending = None
        return s

    def discard_pending(self, s: FabricState) -> None:
        """Forget the pending block and rewind the generator to before it (traffic reloaded)."""
        p = self.pending
        if p is None:
            return
        for name, before in p.before.items():
            getattr(s, name)[...] = before
        self.spare = (p.arr, p.end)
        self.pending = None

    def _generate_next(self, s: FabricState, t0: int) -> PendingBlock:
        P = int(s.sc[SC_PORTS]) + 1
        before = {name: getattr(s, name).copy() for name in _GEN_STATE}
        arr, end = self.spare
        generate_block(s._replace(blk_arr=arr, blk_end=end), t0, self.B, P)
        return PendingBlock(t0, arr, end, before)

    # -- the run ------------------------------------------------------------------------------------
    def run(self, s: FabricState, until: int, inj: tuple) -> tuple[FabricState, int]:
        """Run to ``until`` or an early stop. Returns the (possibly re-bound) state and the stop
        reason."""
        B = self.B
        if until <= int(s.sc[SC_NOW]):
            return s, 0  # (nothing to run: in particular, no block generated)
        logs = self.logs
        cur = 0
        prev_n = 0  # records of the previous chunk, in logs[1 - cur], not yet accounted
        reason = 0
        while True:
            t = int(s.sc[SC_NOW])
            if self.pending is not None and t == self.pending.t0:
                s = self.install_pending(s)
            gen = bool(s.sc[SC_GEN_ON])
            t0, blen = int(s.sc[SC_BLK_T0]), int(s.sc[SC_BLK_LEN])
            if gen and not t0 <= t < t0 + blen:
                # the switch would generate this block itself: do it here, then split around it
                generate_block(s, t, B, int(s.sc[SC_PORTS]) + 1)
                s.sc[SC_BLK_T0] = t
                s.sc[SC_BLK_LEN] = B
                t0 = t
            end = min(until, t0 + B) if gen else min(until, t + B)
            if self.pending is not None:
                end = min(end, self.pending.t0)
            ahead = gen and self.pending is None and end == t0 + B and until > end
            acct_log, acct_n = logs[1 - cur], prev_n
            job_state = s
            box: list = []

            def job(acct_log=acct_log, acct_n=acct_n, job_state=job_state, box=box, ahead=ahead,
                    next_t0=t0 + B):
                c = time.thread_time()
                if acct_n:
                    account_log(job_state, acct_log, acct_n)
                if ahead:
                    box.append(self._generate_next(job_state, next_t0))
                self.cpu["helper"] += time.thread_time() - c

            self.helper.start(job)
            s.sc[SC_LOG_N] = 0
            c = time.thread_time()
            try:
                reason = self.kernel(s._replace(dlog=logs[cur]), end, *inj)
            finally:
                self.cpu["switch"] += time.thread_time() - c
                self.helper.wait()
            if box:
                self.pending = box[0]
            prev_n = int(s.sc[SC_LOG_N])
            cur = 1 - cur
            if reason != 0 or int(s.sc[SC_NOW]) >= until:
                break
        if prev_n:
            c = time.thread_time()
            account_log(s, logs[1 - cur], prev_n)
            self.cpu["switch"] += time.thread_time() - c
        s.sc[SC_LOG_N] = 0
        return s, reason
