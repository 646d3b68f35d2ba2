"""Coverage-guided fuzzing of one target with atheris (libFuzzer for Python), when atheris is installed.

    python -m tools.fuzz.atheris_harness TARGET [libFuzzer options] [CORPUS_DIR ...]

The project's decoders are imported under ``atheris.instrument_imports`` so that libFuzzer sees their
branch coverage; each input runs through the same target as the hypothesis tests
(:func:`tools.fuzz.targets.check`, under :func:`tools.fuzz.guard.bounded`: time limit and address
space cap), so only the layer's typed errors may come out. The seeds of the target are added to the
corpus. libFuzzer prints ``Done N runs in S second(s)`` at the end; a finding stops the run with a
non-zero status and leaves the input in the artifact file libFuzzer names (``-artifact_prefix``).

atheris is an optional tool (``make fuzz`` installs it where a wheel exists for this Python): it is
not a dependency of atheris-free runs, and this module imports it only when run.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

#: Packages whose code libFuzzer follows (the decoders and what they call).
INSTRUMENTED = ["hw", "firmware", "captures", "tools.scenario"]
_ROOT = Path(__file__).resolve().parents[2]
_KERNEL = re.compile(r"@(nb|numba)\.(njit|jit|vectorize|guvectorize)|from numba import")


def kernel_modules() -> list[str]:
    """Modules that define numba kernels: left uninstrumented, since numba compiles a function from
    its bytecode and atheris's coverage calls in it cannot be compiled (their plain Python callers,
    in other modules, are instrumented)."""
    out = []
    for package in INSTRUMENTED:
        base = _ROOT.joinpath(*package.split("."))
        for path in base.rglob("*.py"):
            if _KERNEL.search(path.read_text(encoding="utf-8", errors="replace")):
                out.append(".".join(path.relative_to(_ROOT).with_suffix("").parts))
    return sorted(out)


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[1].startswith("-"):
        sys.stderr.write(__doc__)
        return 2
    name = argv[1]
    import atheris  # noqa: PLC0415 - optional tool, imported when used

    with atheris.instrument_imports(include=INSTRUMENTED, exclude=kernel_modules()):
        import captures.linktypes  # noqa: F401
        import captures.reader  # noqa: F401
        import firmware.saal  # noqa: F401
        import firmware.sscop.fastcodec  # noqa: F401
        import firmware.uni  # noqa: F401
        import hw.aal5  # noqa: F401
        import hw.delineation  # noqa: F401
        import hw.hec_receiver  # noqa: F401
        import hw.oam  # noqa: F401
        import tools.scenario  # noqa: F401
    from tools.fuzz.guard import bounded
    from tools.fuzz.targets import TARGETS, check

    target = TARGETS[name]
    seeds = target.seeds()
    for seed in seeds:  # imports what the target uses, warms the kernels; every seed is valid
        if check(target, seed) != "ok":
            raise AssertionError(f"{name}: a seed is refused: {seed.hex()}")
    timeout = float(os.environ.get("ATMEMU_FUZZ_TIMEOUT", "10"))

    def one_input(data: bytes) -> None:
        with bounded(timeout, target.memory(len(data)), trace=False):
            check(target, data)

    libfuzzer_args = [argv[0], *argv[2:]]
    atheris.Setup(libfuzzer_args, one_input)
    atheris.Fuzz()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
