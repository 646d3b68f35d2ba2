"""docs/driver.md shows commands with what they printed: every Python example in it, run again, prints
exactly what the page says (so the guide cannot drift from the driver)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "driver.md"
BLOCK = re.compile(r"```\n\$ \.venv/bin/python - <<'EOF'\n(.*?)\nEOF\n(.*?)```", re.S)
EXAMPLES = BLOCK.findall(DOC.read_text())


#: Line numbers inside the package's own files (``cm/client.py:432``) move with every edit of that file;
#: the page shows the real ones, the comparison ignores the number (the file and function still count).
#: Lines of the example itself (``<stdin>:12``) are compared exactly.
_PACKAGE_LINE = re.compile(r"(\b[\w/]+\.py):\d+")


def _lines(text: str) -> list[str]:
    return [_PACKAGE_LINE.sub(r"\1:N", line.rstrip()) for line in text.rstrip("\n").splitlines()]


def test_the_guide_has_its_examples():
    assert len(EXAMPLES) >= 6


@pytest.mark.parametrize("code,printed", EXAMPLES, ids=[f"example-{i}" for i in range(len(EXAMPLES))])
def test_each_example_prints_what_the_guide_shows(code, printed, monkeypatch):
    """Run as the page runs it (``python - <<'EOF'``: the code is ``<stdin>``, the current directory the
    repository's), in this process."""
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code + "\n", "<stdin>", "exec"), {"__name__": "__main__"})
    assert _lines(out.getvalue()) == _lines(printed)
