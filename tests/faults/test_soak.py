"""The soak's promises on a short run (tools/soak.py; ``make soak`` runs 100,000 cycles): every NDIS
operation issued completed, no rule violation, no party or call state left behind (live state objects
do not grow; what the client and the leaves keep as records stays at its bound), every counter balances -
with cell loss on every signalling link. And the soak is not blind: a leak of party state fails it."""

from __future__ import annotations

import pytest

from cm.client import HISTORY as CLIENT_HISTORY
from cm.client import ClientCall
from firmware.endpoint.leaf import HISTORY as LEAF_HISTORY
from tools.soak import run_soak

# window 9: three parties per leaf (ports 1..3) per window, so the leaves' records (32 each) fill about as
# fast as the client's (64): the warm-up takes about 99 cycles, each tracemalloc window 18 + about 99 + 18
CYCLES, WINDOW, TRACE = 400, 9, 18


def test_short_soak_keeps_every_promise() -> None:
    # 1e-2 here (1e-5 in make soak): enough lost cells for SSCOP to recover some SD PDUs (a cycle is its
    # cells' time, microseconds, not a Timer_POLL: few cells besides the SDs cross)
    res = run_soak(CYCLES, loss=1e-2, window=WINDOW, seed=3, trace_cycles=TRACE)
    assert res.cycles >= CYCLES and res.measured_cycles > 0
    assert res.issued == res.completed and res.not_completed == 0
    assert res.violations == 0, res.violation_names
    assert res.balanced, res.unbalanced
    assert not res.objects_grew, res.objects_grew
    assert res.cells_lost > 0 and res.sscop_retransmissions > 0     # faults were injected and recovered
    # the records are full from the start (the warm-up fills them) and stay at their bound
    for objects in (res.objects_start, res.objects_end):
        assert objects["ClientParty"] == {"live": 1, "records": CLIENT_HISTORY}      # the call's first party
        assert objects["LeafParty"] == {"live": 1, "records": 3 * LEAF_HISTORY}
        assert objects["ClientCall"]["live"] == 1 and objects["SwitchCall"]["live"] == 1
    for mem in (res.memory_start, res.memory_end):
        assert mem.window.settled and mem.window.cycles == TRACE and mem.window.peak > 0
        assert mem.blocks > 0 and mem.objects > 0
    assert res.ok


def test_the_soak_fails_on_leaked_party_state(monkeypatch: pytest.MonkeyPatch) -> None:
    """A client that keeps every gone party (the bug the records' bound fixed) makes the soak fail, and
    tracemalloc points at the client."""
    kept = []
    retire = ClientCall.retire

    def leaky(self: ClientCall, party) -> None:
        retire(self, party)
        kept.append(party)

    monkeypatch.setattr(ClientCall, "retire", leaky)
    res = run_soak(CYCLES, loss=0.0, window=WINDOW, seed=3, trace_cycles=TRACE)
    assert res.not_completed == 0 and res.violations == 0          # every operation still completes...
    start, end = res.objects_grew["ClientParty"]                    # ...but party state piles up
    assert end - start >= res.measured_cycles - WINDOW
    assert not res.ok
    assert any("cm/client.py" in where and size > 0 for where, size, _ in res.memory_end.window.top)
