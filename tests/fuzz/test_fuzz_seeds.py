"""The seed corpora (tools/fuzz/corpus.py) are what mutation fuzzing starts from: every seed must be
accepted by its decoder, or the mutations would start from an input already refused, one check too
early. Every decoder family the fuzzing promises to cover has a target."""

from __future__ import annotations

import pytest

from fuzzkit import run
from tools.fuzz.targets import TARGETS

FAMILIES = {"cells", "AAL5", "SSCOP", "Q.2931", "link layers", "captures", "scenario"}


@pytest.mark.fuzz
@pytest.mark.parametrize("name", sorted(TARGETS))
def test_every_seed_is_accepted(name):
    target = TARGETS[name]
    seeds = target.seeds()
    assert len(seeds) >= 3
    for seed in seeds:
        assert run(target, seed) == "ok", seed.hex()


def test_every_decoder_family_has_targets():
    assert {t.family for t in TARGETS.values()} == FAMILIES
    assert {"capture.pcap", "capture.pcapng", "uni.message", "uni.ie", "sscop.pdu", "aal5.cpcs",
            "aal5.reassembly", "cell.header", "cell.hec_receiver", "cell.delineation", "cell.oam", "link.sunatm",
            "link.erf", "scenario.toml", "sscop.saal"} == set(TARGETS)
