"""The built-in default scenario: `atmemu run` with no file runs it, `atmemu run --print-default`
prints it.

The end-to-end point-to-multipoint call of the signalling issue: a 16-port switch at OC-3c, the root
(the client and the MCM) on port 0 and 15 leaves. The root sets up a call to leaf 1 and adds 14 parties:
one rejects (cause 21), one stays silent until the root's T399 expires, one alerts first; it streams
AAL5 frames on the VC, drops some parties, one leaf leaves by itself, then the rest are dropped and
the call is closed.

The scenario is the file default.toml beside this module (package data, read with importlib.resources);
it is exactly what tools.scenario.dump writes for it, so the printed default and the file never differ.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from tools.scenario.load import loads
from tools.scenario.model import Scenario

RESOURCE = "default.toml"


def default_text() -> str:
    """The default scenario as TOML text, with its comments: the file to copy."""
    return resources.files("tools.scenario").joinpath(RESOURCE).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def default_scenario() -> Scenario:
    """The default scenario, loaded and checked."""
    return loads(default_text(), source=f"tools/scenario/{RESOURCE} (built in)", name="default")
