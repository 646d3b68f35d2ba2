"""Fixtures of the MCM tests: a testbed (cm.testbed) already up - the host SSCOP link established, the
client's address family open - with short Q.2931 timers so that T399 and friends run out in a few seconds
of virtual time."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from cm.mcm import McmConfig
from cm.ndis.params import ATM_ADDRESS
from cm.testbed import Testbed
from firmware.uni.machines import Timers

#: User-side timers of the tests (seconds): T399 (ADD PARTY unanswered) 2 s, T310 2 s.
TIMERS = Timers(T303=1.0, T310=2.0, T308=2.0, T397=3.0, T398=1.0, T399_user=2.0, T399_network=1.5)


def e164(number: str) -> ATM_ADDRESS:
    return ATM_ADDRESS.e164(number)


def make_bed(*, behaviours: dict | None = None, config: McmConfig | None = None, mode: str = "strict",
             up: bool = True, network: str = "scripted", network_options: dict | None = None, **kw: Any) -> Testbed:
    config = config or McmConfig(timers=TIMERS)
    options = dict(network_options or {})
    if network == "scripted":
        options.setdefault("behaviours", behaviours or {})
        options.setdefault("timers", TIMERS)
    tb = Testbed(network=network, mode=mode, config=config, network_options=options, **kw)
    if up:
        tb.up()
    return tb


def connected(tb: Testbed, called: str = "2001"):
    """A client call to ``called``, run until the make-call completed."""
    call = tb.client.make_call(e164(called))
    tb.run_while(lambda: call.phase.value == "making", limit_seconds=5)
    return call


def settle(tb: Testbed, parties, limit: float = 10.0) -> None:
    """Run until none of ``parties`` is still being added or dropped."""
    tb.run_while(lambda: any(p.phase.value in ("adding", "dropping") for p in parties), limit_seconds=limit)


@pytest.fixture(scope="session")
def mb() -> SimpleNamespace:
    """The helpers, for test modules (importlib mode: they cannot import this file)."""
    return SimpleNamespace(make_bed=make_bed, connected=connected, settle=settle, e164=e164, TIMERS=TIMERS)
