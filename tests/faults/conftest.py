"""Helpers of the fault tests: short SSCOP and Q.2931 timers (so that losing a link, T309 and the party
timers take seconds of virtual time), the MCM rig (cm.mcm.rig: the MCM on port 0 of a switch with leaf
endpoints, every UNI a line of the switch) and the promises every fault test asserts."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from cm.mcm import McmConfig
from cm.mcm.rig import McmRig
from cm.ndis.status import NDIS_STATUS
from firmware.sscop.machine import SSCOPParams
from firmware.uni.machines import Timers

#: SSCOP timers scaled down ~7x from Q.2110/ngatm's, so that a dead line is noticed in about a second.
SSCOP = SSCOPParams(timer_cc=0.2, timer_poll=0.1, timer_no_response=1.0, timer_keep_alive=0.3, timer_idle=0.5)
#: Q.2931/Q.2971 timers of both sides: T309 3 s, T399 2 s at the MCM (1.5 s at the switch).
TIMERS = Timers(T303=1.0, T310=2.0, T308=2.0, T309=3.0, T397=3.0, T398=1.0, T399_user=2.0, T399_network=1.5)


def make_rig(*, ports: int = 5, behaviours: dict | None = None, seed: int = 1, impairments: Any = None,
             mode: str = "report", timers: Timers = TIMERS, **kw: Any) -> McmRig:
    network = {"sscop": SSCOP, "timers": timers, "seed": seed}
    if impairments is not None:
        network["link_impairments"] = impairments
    rig = McmRig(ports=ports, behaviours=behaviours, config=McmConfig(timers=timers, sscop=SSCOP), mode=mode,
                 network=network, **kw)
    rig.up(limit_seconds=20.0)
    return rig


def connected(rig: McmRig, port: int = 1, *, attempts: int = 1, tried: list | None = None):
    """A client call to the leaf on ``port``, run until the make-call completed. ``attempts``: how many
    times to try, as a client would on a line bad enough to lose the SETUP's exchange (the network then
    refuses the call, e.g. cause 27 when a leaf's link went down meanwhile), each try once every link is
    up again; every call made is appended to ``tried`` (for :func:`promises`). Returns the last call."""
    for attempt in range(attempts):
        if attempt:
            rig.up(limit_seconds=20.0)   # links lost meanwhile are re-established first
        call = rig.client.make_call(rig.address(port))
        if tried is not None:
            tried.append(call)
        rig.run_while(lambda: call.phase.value == "making", limit_seconds=20)
        if call.phase.value == "connected":
            break
    return call


def completed_once(party) -> bool:
    """Every NdisClAddParty / NdisClDropParty of the party completed exactly once (none still pending)."""
    adds, drops = party.add_completions, party.drop_completions
    if len(adds) != 1:
        return False
    if party.phase.value == "dropping":
        return False
    return len(drops) <= 1


def promises(rig: McmRig, calls: list) -> None:
    """The promises of issue 9 after a fault: close what is still up, unload; then every NDIS request
    completed exactly once with SUCCESS or a failure status (never PENDING), the rule checker saw no
    violation (pending requests at unload are violations), every counter balances, the switch is empty."""
    rig.finish(settle_seconds=8.0)
    report = rig.checker.report()
    assert report.ok, report.render()
    for call in calls:
        assert len(call.make_completions) == 1 and call.make_completions[0] != NDIS_STATUS.PENDING
        assert len(call.close_completions) <= 1
        for p in call.all_parties:
            assert completed_once(p), (p, p.add_completions, p.drop_completions)
            assert NDIS_STATUS.PENDING not in p.add_completions + p.drop_completions
    rig.check_conservation()
    cp = rig.net.node.control_plane
    assert not cp.calls and cp.idle(), cp.calls
    assert all(not iface.calls for iface in cp.ports)


@pytest.fixture(scope="session")
def fx() -> SimpleNamespace:
    """The helpers, for the test modules (importlib mode: they cannot import this file)."""
    return SimpleNamespace(make_rig=make_rig, connected=connected, promises=promises, completed_once=completed_once,
                           SSCOP=SSCOP, TIMERS=TIMERS)
