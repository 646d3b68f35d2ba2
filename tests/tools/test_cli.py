"""The command line's contract with scripts: exit codes and one-line errors."""

from __future__ import annotations

import pytest

from tools.cli import EXIT_BAD_INPUT, build_parser, main as atmemu


def test_every_subcommand_has_help_with_examples():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert {"run", "bench", "decode"} <= set(sub.choices)
    for name, p in sub.choices.items():
        assert p.epilog and "atmemu " + name in p.epilog, f"{name} --help has no example"


def test_no_command_prints_help_and_exits_2(capsys):
    assert atmemu([]) == EXIT_BAD_INPUT
    assert "usage: atmemu" in capsys.readouterr().out


def test_os_errors_are_one_line_not_a_traceback(capsys, tmp_path):
    assert atmemu(["decode", str(tmp_path / "missing.pcapng")]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "missing.pcapng" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_debug_shows_the_exception(tmp_path):
    with pytest.raises(OSError):
        atmemu(["--debug", "decode", str(tmp_path / "missing.pcapng")])


def test_unknown_bench_suite_names_the_choices(capsys):
    assert atmemu(["bench", "no-such-suite"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "SUITE" in err and "cells" in err
