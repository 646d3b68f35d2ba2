"""The ``atmemu`` command.

Each subcommand lives in its own module under ``tools/commands/`` and exposes::

    NAME = "throughput"            # the subcommand's name
    HELP = "one line for atmemu --help"
    def register(parser): ...      # adds its arguments to an argparse sub-parser
    def main(args) -> int: ...     # runs it; returns the exit code

Exit codes scripts can rely on: 0 success, 1 a check failed, 2 bad input (usage, missing file, a
typed atmemu error). ``--debug`` shows the traceback of an error instead of one line.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import tools.commands
from hw.errors import AtmemuError

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2


def _command_modules():
    for info in sorted(pkgutil.iter_modules(tools.commands.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"tools.commands.{info.name}")
        if hasattr(module, "NAME") and hasattr(module, "main"):
            yield module


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="atmemu",
        description="Emulate an ATM adapter, a point-to-multipoint ATM switch and a CoNDIS call manager.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars or decorations")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        p = sub.add_parser(
            module.NAME,
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", module.HELP),
            epilog=getattr(module, "EXAMPLES", None),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        p.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        module.register(p)
        p.set_defaults(_run=module.main)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        return int(args._run(args) or 0)
    except AtmemuError as exc:
        if args.debug:
            raise
        print(f"atmemu {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except FileNotFoundError as exc:
        if args.debug:
            raise
        print(f"atmemu {args.command}: error: no such file: {exc.filename}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        if args.debug:
            raise
        what = exc.strerror or str(exc)
        where = f": {exc.filename}" if exc.filename else ""
        print(f"atmemu {args.command}: error: {what}{where}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"atmemu {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
