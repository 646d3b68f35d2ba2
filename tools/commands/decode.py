"""atmemu decode: a capture frame by frame (SSCOP, Q.2931 / Q.2971, cells), and its signalling as a
message sequence chart.

Reads any pcap or pcapng file: SunATM (123) and ERF (197) records are decoded
(:mod:`captures.summary`); other link types are listed as "linktype N not decoded". One line per frame:
frame number, time (seconds from the first frame, or absolute with ``--absolute``), link (the pcapng
interface name), direction (``→`` sent by the user side, DTE->DCE; ``←`` by the network side; ``·``
unknown), VPI/VCI, SSCOP PDU, and the Q.2931 message with its call and endpoint references, causes and
states, then the packet comments. A frame that does not decode is shown with the typed error that
refused it; a damaged capture file prints the frames read so far, then the reader's error (exit 2).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace

from captures import reader as capture_reader
from captures.errors import CaptureDecodeError
from captures.summary import FrameSummary, summarize, scapy_tree
from hw.errors import AtmemuError, FieldError

NAME = "decode"
HELP = "print a capture frame by frame (SSCOP, Q.2931/Q.2971, cells); draw its signalling"
DESCRIPTION = """Print a pcap/pcapng capture frame by frame: time, link, direction (\u2192 sent by the
user side, DTE->DCE; \u2190 by the network side), VPI/VCI, SSCOP PDU, the Q.2931/Q.2971 message with its
call reference (/orig: sent by the side that allocated it, /term: sent to it), endpoint reference and
causes, and the packet comments. SunATM and ERF records are decoded; a run of ERF cells of one VC makes
one line. A table on a terminal, plain lines when piped."""
EXAMPLES = """examples:
  atmemu decode atmemu-out/capture.pcapng
  atmemu decode capture.pcapng -V | less              # with the full scapy dissection of each frame
  atmemu decode capture.pcapng --json | jq -c 'select(.causes != [])'
  atmemu decode capture.pcapng --ladder ladder.png    # the signalling as a message sequence chart
  atmemu decode dag-capture.pcap --erf-port0 user     # ERF port 0 holds what the user side sent
"""

ARROWS = {"user->network": "\u2192", "network->user": "\u2190", None: "\u00b7"}
TABLE_CHUNK_ROWS = 200


class DecodeInputError(AtmemuError):
    """A capture path that cannot be read (a directory, no permission...)."""


def register(p) -> None:
    p.add_argument("capture", help="a pcap or pcapng file (SunATM or ERF link types are decoded)")
    p.add_argument("-V", "--verbose", action="store_true", help="also print the full scapy tree of each frame")
    p.add_argument("--json", action="store_true", help="one JSON object per frame (the summary's fields)")
    p.add_argument("--plain", action="store_true", help="plain lines even on a terminal")
    p.add_argument("--absolute", action="store_true",
                   help="absolute times (seconds since 1970) instead of seconds from the first frame")
    p.add_argument("--cells", action="store_true", help="one line per ERF cell (default: one line per run of "
                   "consecutive cells of one VC)")
    p.add_argument("--ladder", metavar="FILE.png", help="draw the signalling as a message sequence chart "
                   "(.png, .svg or .pdf)")
    p.add_argument("--ladder-sscop", choices=("none", "connection", "all"), default="connection",
                   help="SSCOP PDUs drawn besides the Q.2931 messages: none, connection control (BGN, END, "
                   "RS, ER...; the default) or all (POLL, STAT too)")
    p.add_argument("--ladder-max", type=int, default=1000, metavar="N",
                   help="draw at most the first N events (default %(default)s)")
    p.add_argument("--erf-port0", choices=("user", "network"),
                   help="ERF records have no direction bit: port 0 holds what this side sent, port 1 the "
                   "other side (default: direction unknown)")


def seconds(ns: int) -> str:
    """Integer nanoseconds as seconds with 9 decimals, exactly."""
    sign = "-" if ns < 0 else ""
    whole, frac = divmod(abs(ns), 1_000_000_000)
    return f"{sign}{whole}.{frac:09d}"


def _comment_text(f: FrameSummary) -> str:
    return "; ".join(f.comments)


class _Plain:
    """Plain lines: ``frame  time  link  dir  vc  sscop  message  # comments``."""

    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose
        self.link_width = 0

    def add(self, f: FrameSummary, time: str) -> None:
        self.link_width = max(self.link_width, len(f.link))
        line = (f"{f.frame:>5}  {time:>12}  {f.link:<{self.link_width}}  {ARROWS[f.direction]}  "
                f"{f.vc_text():<7}  {f.sscop_text():<16}  {f.text()}")
        if f.comments:
            line += f"  # {_comment_text(f)}"
        print(line.rstrip())
        if self.verbose:
            print(_indent(scapy_tree(f)))
            print()

    def close(self, frames: int, undecodable: int, error: Exception | None) -> None:
        sys.stdout.flush()


def _indent(text: str) -> str:
    return "\n".join("      " + line for line in text.splitlines())


class _Json:
    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose

    def add(self, f: FrameSummary, time: str) -> None:
        obj = f.as_json()
        if self.verbose:
            obj["tree"] = scapy_tree(f)
        print(json.dumps(obj, ensure_ascii=False))

    def close(self, frames: int, undecodable: int, error: Exception | None) -> None:
        sys.stdout.flush()


class _Table:
    """A rich table on a terminal, printed in chunks as the capture is read (columns of fixed width,
    so that the chunks line up)."""

    def __init__(self, rd, quiet: bool, absolute: bool) -> None:
        from rich.console import Console

        self.console = Console(highlight=False)
        self.quiet = quiet
        self.rows: list[tuple] = []
        self.first = True
        self.time_width = 20 if absolute else 14
        self.link_width = 8
        if not quiet:
            self.console.print(f"[bold]{rd.name}[/] ({rd.format})")
            self.console.print("[dim]\u2192 sent by the user side (DTE\u2192DCE)  \u2190 by the network side  "
                               "\u00b7 unknown;  cref /orig: sent by the side that allocated it, /term: to it[/]")
        self.comments: bool | None = None  # a Comment column: decided on the first chunk

    def add(self, f: FrameSummary, time: str) -> None:
        self.rows.append((f, time))
        if len(self.rows) >= TABLE_CHUNK_ROWS:
            self.flush()

    def flush(self) -> None:
        from rich import box
        from rich.table import Table
        from rich.text import Text

        if not self.rows:
            return
        self.link_width = max([self.link_width] + [min(30, len(f.link)) for f, _ in self.rows])
        table = Table(box=box.SIMPLE_HEAD, expand=True, show_header=self.first, show_edge=False, pad_edge=False,
                      padding=(0, 1))
        table.add_column("No.", justify="right", width=6, no_wrap=True)
        table.add_column("Time", justify="right", width=self.time_width, no_wrap=True)
        table.add_column("Link", width=self.link_width, overflow="fold")
        table.add_column("", width=1, no_wrap=True)
        table.add_column("VC", width=7, overflow="fold")
        table.add_column("SSCOP", width=20, overflow="fold")
        table.add_column("Message", ratio=3, overflow="fold")
        if self.comments is None:
            self.comments = any(f.comments for f, _ in self.rows)
        if self.comments:
            table.add_column("Comment", ratio=1, overflow="fold", style="magenta")
        for f, time in self.rows:
            text = Text()
            if f.message is not None:
                text.append(f.message_text(), style="bold" if f.error is None else "")
            elif f.info:
                text.append(f.info, style="cyan" if f.kind == "cells" else "dim")
            if f.error is not None:
                text.append((" " if len(text) else "") + f"undecodable: {f.error}", style="red")
            sscop_style = "dim" if f.message is None and f.error is None else ""
            cells = [str(f.frame), time, f.link, ARROWS[f.direction], f.vc_text(),
                     Text(f.sscop_text(), style=sscop_style), text]
            if self.comments:
                cells.append(_comment_text(f))
            elif f.comments:  # no Comment column (none in the first rows): the comment joins the message
                text.append(f"  # {_comment_text(f)}", style="magenta")
            table.add_row(*cells)
        self.console.print(table)
        self.rows = []
        self.first = False

    def close(self, frames: int, undecodable: int, error: Exception | None) -> None:
        self.flush()
        if not self.quiet:
            bad = f", [red]{undecodable} undecodable[/]" if undecodable else ""
            end = " before the damage below" if error is not None else ""
            self.console.print(f"[dim]{frames} lines{end}[/]{bad}" if frames else "[dim]no frames[/]")


def _stdout_is_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def _stderr_is_terminal() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _open(path: str):
    try:
        return capture_reader.open(path)
    except FileNotFoundError:
        raise
    except IsADirectoryError:
        raise DecodeInputError(f"{path} is a directory, not a capture file") from None
    except PermissionError:
        raise DecodeInputError(f"{path}: permission denied") from None
    except OSError as exc:
        raise DecodeInputError(f"{path}: cannot read it ({exc.strerror or exc})") from None


def _check_ladder_path(path: str) -> None:
    from tools.ladder import LadderFieldError

    ext = os.path.splitext(path)[1].lower()
    if ext not in (".png", ".svg", ".pdf"):
        raise LadderFieldError("--ladder", path, "a .png, .svg or .pdf file name")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise LadderFieldError("--ladder", path, f"a file in an existing directory ({folder} does not exist)")


def main(args) -> int:
    if args.ladder:
        _check_ladder_path(args.ladder)
        if args.ladder_max < 1:
            raise FieldError("--ladder-max", args.ladder_max, "at least 1")
    try:
        return _decode(args)
    except BrokenPipeError:
        # The reader of our output went away (`| head`): stop quietly, as Unix tools do.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 0


def _decode(args) -> int:
    quiet = getattr(args, "quiet", False)
    with _open(args.capture) as rd:
        if args.json:
            out = _Json(args.verbose)
        elif args.plain or args.verbose or not _stdout_is_terminal():
            out = _Plain(args.verbose)
        else:
            out = _Table(rd, quiet, args.absolute)
        kept: list[FrameSummary] = []  # what the ladder needs: signalling frames, and one frame per link
        links: set[str] = set()
        t0 = None
        lines = undecodable = 0
        error: CaptureDecodeError | None = None
        try:
            for f in summarize(rd, collapse_cells=not args.cells, erf_port0=args.erf_port0):
                if t0 is None:
                    t0 = f.time_ns
                out.add(f, seconds(f.time_ns if args.absolute else f.time_ns - t0))
                lines += 1
                undecodable += f.error is not None
                if args.ladder and (f.signalling or f.link not in links):
                    links.add(f.link)
                    kept.append(replace(f, data=b""))
        except CaptureDecodeError as exc:
            error = exc
        out.close(lines, undecodable, error)
        if args.ladder:
            _ladder(args, rd.name, kept, quiet)
    if error is not None:
        raise error
    return 0


def _ladder(args, name: str, frames: list[FrameSummary], quiet: bool) -> None:
    from tools import ladder

    participants, events = ladder.chart_from_frames(frames, sscop=args.ladder_sscop)
    messages = sum(1 for f in frames if f.signalling and f.message is not None)
    title = f"{os.path.basename(name)}: signalling"
    subtitle = (f"{messages} Q.2931 message{'s' if messages != 1 else ''}, {len(events)} arrows; time flows "
                "downward, in seconds from the first frame drawn")
    if not events:
        subtitle = "no signalling frames in this capture"
    if not quiet and _stderr_is_terminal():
        from rich.console import Console

        with Console(stderr=True).status(f"drawing {min(len(events), args.ladder_max)} events to {args.ladder}"):
            lay = ladder.write(args.ladder, participants, events, title=title, subtitle=subtitle,
                               max_events=args.ladder_max)
    else:
        lay = ladder.write(args.ladder, participants, events, title=title, subtitle=subtitle,
                           max_events=args.ladder_max)
    if not quiet:
        w, h = lay.pixels
        cut = f"; {lay.dropped} events beyond the first {len(lay.rows)} not drawn" if lay.dropped else ""
        print(f"ladder: {args.ladder} ({w}x{h} px, {len(lay.rows)} events, {len(participants)} lifelines{cut})",
              file=sys.stderr)
