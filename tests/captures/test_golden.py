"""The golden captures of captures/golden/: each one replayed against a fresh emulator at its recorded pace
must get the same answers; a change of behaviour fails here with the frame-by-frame diff."""

from __future__ import annotations

import pytest

from captures.golden_captures import GOLDEN_DIR, GOLDEN_SCENARIOS, check, golden_files, regenerate

GOLDEN = golden_files()


def _diff_text(result) -> str:
    lines = [f"{len(result.comparison.differences)} differences replaying {result.script.source}:"]
    for row in result.comparison.differences:
        expected = row.expected.text() if row.expected else "-"
        got = row.got.text() if row.got else "-"
        lines.append(f"  {row.status}: expected {expected} | got {got} {list(row.fields) or ''}")
    return "\n".join(lines)


@pytest.mark.parametrize("path", GOLDEN, ids=[p.name for p in GOLDEN])
def test_golden_capture_replays_without_a_difference(path):
    result = check(path)
    assert result.script.steps, f"{path.name}: nothing to replay"
    assert result.equal, _diff_text(result)


def test_every_golden_scenario_has_its_capture():
    """The golden captures are in the tree (`atmemu replay --update-golden` records them with
    tools.scenario.runner.record): a missing one would silently replay nothing."""
    assert sorted(p.name for p in GOLDEN) == sorted(GOLDEN_SCENARIOS), GOLDEN_DIR


def test_the_default_capture_holds_the_default_scenarios_calls():
    """What the golden default capture replays: the root's SETUP and an ADD PARTY per added leaf, the
    refusal with cause 21 and the root's own drop of the silent leaf (T399)."""
    from captures.summary import summarize

    frames = [f for f in summarize(GOLDEN_DIR / "default.pcapng") if f.message and f.link.endswith("atm0")]
    sent = [f.message for f in frames if f.direction == "user->network"]
    assert sent.count("SETUP") == 1 and sent.count("ADD PARTY") == 14
    rejects = [f.causes for f in frames if f.message == "ADD PARTY REJECT"]
    assert rejects == [(21,)]


def test_regenerate_replaces_a_capture_only_once_it_is_complete(tmp_path):
    (tmp_path / "default.pcapng").write_bytes(b"previous")

    def fails(scenario, path):
        path.write_bytes(b"half")
        raise RuntimeError("runner crashed")

    with pytest.raises(RuntimeError):
        regenerate(fails, tmp_path)
    assert (tmp_path / "default.pcapng").read_bytes() == b"previous"
    assert [p.name for p in tmp_path.iterdir()] == ["default.pcapng"]  # no partial file left

    def writes(scenario, path):
        path.write_bytes(scenario.encode())

    assert regenerate(writes, tmp_path) == [tmp_path / "default.pcapng"]
    assert (tmp_path / "default.pcapng").read_bytes() == b"default"
    assert golden_files(tmp_path) == [tmp_path / "default.pcapng"]
