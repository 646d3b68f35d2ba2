"""Suite-wide fixtures: tshark (the independent decoder) and hypothesis profiles."""

from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import HealthCheck, settings

# Fuzz and property budgets: the suite runs a bounded number of examples; `make fuzz` raises it.
settings.register_profile(
    "atmemu",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("atmemu")

FUZZ_EXAMPLES = int(os.environ.get("ATMEMU_FUZZ_EXAMPLES", "300"))


@pytest.fixture(scope="session")
def tshark() -> str:
    """Path of tshark. Skips (with the reason) when it is missing, except under CI, where it fails:
    .ci/run installs it, so a missing tshark there is a broken CI, not a reason to skip."""
    path = shutil.which("tshark")
    if path is None:
        message = "tshark is not installed (apt-get install -y tshark); .ci/run installs it"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path
