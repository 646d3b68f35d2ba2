"""The soak's promises on a short run (tools/soak.py; ``make soak`` runs 100,000 cycles): every NDIS
operation issued completed, no rule violation, no party or call state left behind (live state objects
do not grow), every counter balances - with cell loss on every signalling link."""

from __future__ import annotations

from tools.soak import run_soak


def test_short_soak_keeps_every_promise() -> None:
    # 1e-2 here (1e-5 in make soak): enough lost cells in 200 cycles for SSCOP to recover some SD PDUs
    # (a cycle is its cells' time, microseconds, not a Timer_POLL: few cells besides the SDs cross)
    res = run_soak(200, loss=1e-2, window=10, seed=3)
    assert res.cycles == 200
    assert res.issued == res.completed and res.not_completed == 0
    assert res.violations == 0, res.violation_names
    assert res.balanced, res.unbalanced
    assert not res.objects_grew, res.objects_grew
    assert res.cells_lost > 0 and res.sscop_retransmissions > 0     # faults were injected and recovered
    assert res.ok
