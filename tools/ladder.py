"""Message sequence charts ("ladder diagrams") of signalling, drawn with matplotlib (Agg, no display).

One lifeline per participant (client, MCM, adapter, switch, each leaf...), time flowing downward, one
row per event in time order:

- :class:`Message`: an arrow from one participant to another: a frame (labelled with the message name
  above the line and the call reference, endpoint reference and causes below), an SSCOP PDU, an NDIS
  call or its completion (each in its own style), or an undecodable frame (red). A message whose
  direction is unknown (ERF records carry none) is drawn as a line without a head.
- :class:`Timer`: a protocol timer started, stopped or expired on a participant: a bar beside the
  lifeline from start to stop or expiry, an expiry marked with a red cross.
- :class:`Note`: a boxed remark on a lifeline (a state change, a cell run...).

The caller passes the participants (left to right) and the events: ``atmemu decode --ladder`` derives
them from a capture (:func:`chart_from_frames`); ``atmemu run`` passes NDIS calls and timers too.
:func:`layout` places everything (inches, y downward) and is what tests check; :func:`draw` renders a
figure; :func:`write` saves it (PNG, SVG or PDF by the file's extension).

Readable with hundreds of events: the figure grows with the number of rows, fonts stay small, labels
alternate their position along the arrows, the time of each row is printed in the left margin, long
quiet gaps are marked, and charts beyond ``max_events`` rows are cut with a note saying so.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Iterable, Sequence, Union

from hw.errors import AtmemuError, FieldError

#: Rows drawn by default at most: 1000 rows make a 34,000-pixel-tall PNG and take seconds to draw.
MAX_EVENTS = 1000
DPI = 100
#: A quiet gap between two rows at least this long is marked across the chart.
GAP_NS = 100_000_000

# Geometry, in inches.
ROW_HEIGHT = 0.34
LEFT_MARGIN = 1.15  # the time column
RIGHT_MARGIN = 0.35
MIN_SPACING, MAX_SPACING = 1.45, 3.4
HEAD_HEIGHT = 0.34
TITLE_HEIGHT = 0.62
LEGEND_HEIGHT = 0.42
LABEL_CHAR_IN = 0.076  # average width of a character of a 7.5 pt bold label (mostly capitals)
DETAIL_CHAR_IN = 0.054  # ... of a 6.5 pt detail
NOTE_CHAR_IN = 0.052
TITLE_CHAR_IN = 0.1  # ... of the 11 pt title
#: Every this many rows, the participants' names are repeated on their lifelines (tall charts).
REPEAT_NAMES_ROWS = 50

#: Arrow styles: line colour, line style, width, head style.
STYLES = {
    "frame": {"color": "#1f4e79", "ls": "-", "lw": 1.3, "head": "-|>", "text": "#0d2238", "legend": "frame"},
    "sscop": {"color": "#8a8a8a", "ls": "-", "lw": 0.9, "head": "-|>", "text": "#5c5c5c", "legend": "SSCOP PDU"},
    "ndis": {"color": "#7d3c98", "ls": (0, (5, 2)), "lw": 1.2, "head": "->", "text": "#4a235a",
             "legend": "NDIS call"},
    "ndis-complete": {"color": "#7d3c98", "ls": (0, (1, 1.6)), "lw": 1.4, "head": "->", "text": "#4a235a",
                      "legend": "NDIS completion"},
    "error": {"color": "#c0392b", "ls": "-", "lw": 1.3, "head": "-|>", "text": "#922b21",
              "legend": "undecodable frame"},
}
#: Fill colours of participant heads by kind.
KIND_COLOURS = {
    "client": "#e8daef", "mcm": "#d6eaf8", "adapter": "#d1f2eb", "switch": "#fdebd0", "leaf": "#d5f5e3",
    "user": "#eaecee", "network": "#fdebd0",
}
TIMER_COLOUR = "#b9770e"
NOTE_STYLES = {"info": ("#f4f6f6", "#7f8c8d"), "state": ("#eaf2f8", "#2e86c1"), "error": ("#fdedec", "#c0392b")}
TIMER_ACTIONS = ("start", "stop", "expire")


class LadderError(AtmemuError):
    """Base of the errors of the chart renderer."""


class LadderFieldError(LadderError, FieldError):
    """A participant or event the chart cannot draw: an unknown participant, a duplicate key, an
    unknown style, a file type matplotlib does not write..."""


@dataclass(frozen=True)
class Participant:
    """A lifeline: ``key`` is what events name, ``label`` what the head shows (``key`` when empty),
    ``kind`` picks the head's colour (client, mcm, adapter, switch, leaf, user, network)."""

    key: str
    label: str = ""
    kind: str = ""

    @property
    def title(self) -> str:
        return self.label or self.key


@dataclass(frozen=True)
class Message:
    """An arrow from ``src`` to ``dst`` at ``time_ns``: ``label`` above the line, ``detail`` below,
    ``note`` in the right margin (a capture comment, say). ``style`` is a key of :data:`STYLES`;
    ``directed`` False draws a line without a head (direction unknown)."""

    time_ns: int
    src: str
    dst: str
    label: str
    detail: str = ""
    style: str = "frame"
    directed: bool = True
    note: str = ""


@dataclass(frozen=True)
class Timer:
    """A protocol timer on a participant: ``action`` "start", "stop" or "expire"; a start is matched with
    the next stop or expiry of the same ``name`` on the same participant."""

    time_ns: int
    participant: str
    name: str
    action: str = "start"
    detail: str = ""


@dataclass(frozen=True)
class Note:
    """A boxed remark on a lifeline; ``style`` "info", "state" or "error"."""

    time_ns: int
    participant: str
    text: str
    style: str = "info"


Event = Union[Message, Timer, Note]


@dataclass(frozen=True)
class TimerBar:
    """A timer drawn beside a lifeline from ``y_start`` to ``y_end`` (``end`` None: still running at the
    end of the chart)."""

    participant: str
    name: str
    x: float
    y_start: float | None  # None: stopped or expired without a start in the chart
    y_end: float
    end: str | None  # "stop", "expire" or None
    detail: str = ""


@dataclass(frozen=True)
class Layout:
    """Where everything goes, in inches from the top left corner (y grows downward with time)."""

    width_in: float
    height_in: float
    dpi: int
    x: dict[str, float]  # lifeline of each participant
    rows: list[tuple[float, Event]]  # (y, event), in time order
    lifeline_top: float
    lifeline_bottom: float
    spacing: float
    note_x: float | None  # left edge of the notes column, None without notes
    t0_ns: int
    gaps: list[tuple[float, int]] = field(default_factory=list)  # (y between rows, gap in ns)
    timers: list[TimerBar] = field(default_factory=list)
    dropped: int = 0  # events beyond max_events, not drawn
    name_rows: list[float] = field(default_factory=list)  # y of the rows that repeat the participants' names

    @property
    def pixels(self) -> tuple[int, int]:
        """(width, height) of the image in pixels (as matplotlib's Agg canvas counts them: truncated)."""
        return int(self.width_in * self.dpi), int(self.height_in * self.dpi)


def _validate(participants: Sequence[Participant], events: Sequence[Event]) -> dict[str, int]:
    if not participants:
        raise LadderFieldError("participants", [], "at least one participant")
    index: dict[str, int] = {}
    for i, p in enumerate(participants):
        if not isinstance(p, Participant):
            raise LadderFieldError("participants", p, "Participant objects")
        if p.key in index:
            raise LadderFieldError("participants", p.key, "distinct keys (this one appears twice)")
        index[p.key] = i
    for ev in events:
        if isinstance(ev, Message):
            names = (ev.src, ev.dst)
            if ev.style not in STYLES:
                raise LadderFieldError("Message.style", ev.style, "one of " + ", ".join(STYLES))
        elif isinstance(ev, Timer):
            names = (ev.participant,)
            if ev.action not in TIMER_ACTIONS:
                raise LadderFieldError("Timer.action", ev.action, "one of " + ", ".join(TIMER_ACTIONS))
        elif isinstance(ev, Note):
            names = (ev.participant,)
            if ev.style not in NOTE_STYLES:
                raise LadderFieldError("Note.style", ev.style, "one of " + ", ".join(NOTE_STYLES))
        else:
            raise LadderFieldError("events", ev, "Message, Timer or Note objects")
        for name in names:
            if name not in index:
                raise LadderFieldError("participant", name, "one of the chart's participants: " + ", ".join(index))
        if not isinstance(ev.time_ns, int) or isinstance(ev.time_ns, bool):
            raise LadderFieldError("time_ns", ev.time_ns, "an integer count of nanoseconds")
    return index


def _spacing(events: Sequence[Event], index: dict[str, int]) -> float:
    """Distance between lifelines: wide enough for the labels of the arrows between neighbours."""
    need = MIN_SPACING
    for ev in events:
        if isinstance(ev, Message):
            span = max(1, abs(index[ev.dst] - index[ev.src]))
            width = max(len(ev.label) * LABEL_CHAR_IN, len(ev.detail) * DETAIL_CHAR_IN) + 0.3
            need = max(need, width / span)
        elif isinstance(ev, Note):
            need = max(need, len(ev.text) * NOTE_CHAR_IN + 0.3)
    return min(need, MAX_SPACING)


def layout(participants: Sequence[Participant], events: Iterable[Event], *, max_events: int = MAX_EVENTS,
           dpi: int = DPI, min_width_in: float = 0.0) -> Layout:
    """Place the lifelines and the event rows: participants left to right in the order given, events
    sorted by time (events at the same time keep their order), one row each; the first ``max_events``
    rows are kept. The figure is at least ``min_width_in`` wide (room for a title)."""
    events = list(events)
    if not isinstance(max_events, int) or max_events < 1:
        raise LadderFieldError("max_events", max_events, "a positive integer")
    if not isinstance(dpi, int) or not 20 <= dpi <= 600:
        raise LadderFieldError("dpi", dpi, "an integer 20..600")
    index = _validate(participants, events)
    ordered = sorted(events, key=lambda ev: ev.time_ns)  # stable: ties keep the caller's order
    drawn, dropped = ordered[:max_events], max(0, len(ordered) - max_events)

    spacing = _spacing(drawn, index)
    head_w = min(spacing * 0.9, 1.6)
    notes = [ev.note for ev in drawn if isinstance(ev, Message) and ev.note]
    note_w = min(3.2, max(len(n) for n in notes) * NOTE_CHAR_IN + 0.25) if notes else 0.0
    x0 = LEFT_MARGIN + head_w / 2
    x = {p.key: x0 + i * spacing for i, p in enumerate(participants)}
    last_x = x0 + (len(participants) - 1) * spacing
    # Room on the right of the last lifeline for self-messages and timers, then the notes column.
    body_right = last_x + max(head_w / 2, 0.6)
    note_x = body_right + 0.15 if notes else None
    width = max(body_right + (note_w + 0.15 if notes else 0) + RIGHT_MARGIN, min_width_in)

    top = TITLE_HEIGHT + HEAD_HEIGHT + 0.12
    # One row per event; in a tall chart, a slot every REPEAT_NAMES_ROWS rows repeats the names.
    rows, name_rows, slot = [], [], 0
    for i, ev in enumerate(drawn):
        if i and i % REPEAT_NAMES_ROWS == 0:
            name_rows.append(top + (slot + 0.6) * ROW_HEIGHT)
            slot += 1
        rows.append((top + (slot + 0.6) * ROW_HEIGHT, ev))
        slot += 1
    bottom = top + (max(1, slot) + 0.4) * ROW_HEIGHT
    height = bottom + 0.12 + HEAD_HEIGHT + LEGEND_HEIGHT + (0.22 if dropped else 0)

    t0 = drawn[0].time_ns if drawn else 0
    gaps = []
    for (y_prev, prev), (y, ev) in zip(rows, rows[1:]):
        if ev.time_ns - prev.time_ns >= GAP_NS:
            gaps.append(((y_prev + y) / 2, ev.time_ns - prev.time_ns))

    timers = _timer_bars(rows, x, bottom)
    # Whole pixels: matplotlib truncates the figure's size in pixels, so aim half a pixel above one.
    width_in, height_in = (math.ceil(width * dpi) + 0.5) / dpi, (math.ceil(height * dpi) + 0.5) / dpi
    return Layout(width_in=width_in, height_in=height_in, dpi=dpi, x=x, rows=rows,
                  lifeline_top=top, lifeline_bottom=bottom, spacing=spacing, note_x=note_x, t0_ns=t0, gaps=gaps,
                  timers=timers, dropped=dropped, name_rows=name_rows)


def _timer_bars(rows: list[tuple[float, Event]], x: dict[str, float], bottom: float) -> list[TimerBar]:
    """Pair each timer start with the next stop/expiry of the same timer on the same participant; bars
    that overlap on one lifeline are set side by side."""
    open_: dict[tuple[str, str], tuple[float, int, str]] = {}  # (participant, name) -> (y, slot, detail)
    used: dict[str, set[int]] = {}
    bars: list[TimerBar] = []

    def slot_x(participant: str, slot: int) -> float:
        return x[participant] + 0.09 + slot * 0.085

    for y, ev in rows:
        if not isinstance(ev, Timer):
            continue
        key = (ev.participant, ev.name)
        if ev.action == "start":
            if key in open_:  # restarted: the old run ends here without a stop
                y0, slot, detail = open_.pop(key)
                bars.append(TimerBar(ev.participant, ev.name, slot_x(ev.participant, slot), y0, y, None, detail))
                used[ev.participant].discard(slot)
            taken = used.setdefault(ev.participant, set())
            slot = next(i for i in range(len(taken) + 1) if i not in taken)
            taken.add(slot)
            open_[key] = (y, slot, ev.detail)
        elif key in open_:
            y0, slot, detail = open_.pop(key)
            used[ev.participant].discard(slot)
            bars.append(TimerBar(ev.participant, ev.name, slot_x(ev.participant, slot), y0, y, ev.action, detail))
        else:
            bars.append(TimerBar(ev.participant, ev.name, slot_x(ev.participant, 0), None, y, ev.action, ev.detail))
    for (participant, name), (y0, slot, detail) in open_.items():
        bars.append(TimerBar(participant, name, slot_x(participant, slot), y0, bottom, None, detail))
    return bars


def _time_text(ns: int) -> str:
    """Seconds, exactly to the nanosecond (to the millisecond past 1000 s)."""
    sign = "-" if ns < 0 else ""
    whole, frac = divmod(abs(ns), 10**9)
    return f"{sign}{whole}.{frac:09d}" if whole < 1000 else f"{sign}{whole}.{frac // 10**6:03d}"


def _gap_text(ns: int) -> str:
    return f"+{ns / 1e9:.3f} s" if ns >= 10**9 else f"+{ns / 1e6:.1f} ms"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def draw(participants: Sequence[Participant], events: Iterable[Event], *, title: str = "", subtitle: str = "",
         max_events: int = MAX_EVENTS, dpi: int = DPI):
    """Render the chart: returns ``(figure, layout)``; the figure is a ``matplotlib.figure.Figure`` with
    an Agg canvas (no pyplot state, no display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

    title = title or "Message sequence chart"
    subtitle = subtitle or "time flows downward; times in seconds from the first event"
    min_width = max(len(title) * TITLE_CHAR_IN, len(subtitle) * NOTE_CHAR_IN * 1.1) + 0.5
    lay = layout(participants, events, max_events=max_events, dpi=dpi, min_width_in=min_width)
    fig = Figure(figsize=(lay.width_in, lay.height_in), dpi=dpi, facecolor="white")
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, lay.width_in)
    ax.set_ylim(lay.height_in, 0)
    ax.axis("off")
    W = lay.width_in
    head_w = min(lay.spacing * 0.9, 1.6)

    # Title.
    ax.text(0.25, 0.3, title, fontsize=11, fontweight="bold", va="center", color="#1b2631")
    ax.text(0.25, 0.52, subtitle, fontsize=7.5, va="center", color="#5d6d7e")

    # Zebra rows and the time column.
    ax.text(LEFT_MARGIN - 0.12, lay.lifeline_top - 0.05, "time (s)", fontsize=6.5, ha="right", va="bottom",
            color="#5d6d7e", style="italic")
    for i, (y, ev) in enumerate(lay.rows):
        if i % 2:
            ax.add_patch(Rectangle((0.08, y - ROW_HEIGHT / 2), W - 0.16, ROW_HEIGHT, facecolor="#f4f6f7",
                                   edgecolor="none", zorder=0))
        ax.text(LEFT_MARGIN - 0.12, y, _time_text(ev.time_ns - lay.t0_ns), fontsize=6, ha="right", va="center",
                family="monospace", color="#566573")
    for y, gap in lay.gaps:
        ax.plot([0.1, W - 0.1], [y, y], color="#aab7b8", lw=0.6, ls=(0, (2, 3)), zorder=1)
        ax.text(0.12, y, _gap_text(gap), fontsize=5.5, va="center", ha="left", color="#7b7d7d", style="italic",
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"}, zorder=2)

    # Lifelines and heads (top and bottom, as in a classic MSC).
    for p in participants:
        px = lay.x[p.key]
        ax.plot([px, px], [lay.lifeline_top, lay.lifeline_bottom], color="#99a3a4", lw=0.8, ls=(0, (4, 3)),
                zorder=1)
        fill = KIND_COLOURS.get(p.kind, "#eaecee")
        for yc in (TITLE_HEIGHT + HEAD_HEIGHT / 2, lay.lifeline_bottom + 0.12 + HEAD_HEIGHT / 2):
            ax.add_patch(FancyBboxPatch((px - head_w / 2, yc - HEAD_HEIGHT / 2 + 0.03), head_w, HEAD_HEIGHT - 0.06,
                                        boxstyle="round,pad=0,rounding_size=0.06", facecolor=fill,
                                        edgecolor="#566573", lw=0.8, zorder=3))
            ax.text(px, yc, _shorten(p.title, int(head_w / 0.068)), ha="center", va="center", fontsize=8,
                    fontweight="bold", color="#1b2631", zorder=4)
        for yk in lay.name_rows:  # a tall chart repeats the names now and then
            ax.text(px, yk, _shorten(p.title, int(head_w / 0.06)), ha="center", va="center", fontsize=6.5,
                    color="#566573", style="italic", zorder=4,
                    bbox={"boxstyle": "round,pad=0.2", "fc": fill, "ec": "#aab7b8", "lw": 0.6})

    # Timers under the events that start and end them.
    for bar in lay.timers:
        y0 = bar.y_start if bar.y_start is not None else bar.y_end - ROW_HEIGHT * 0.4
        ax.add_patch(Rectangle((bar.x - 0.025, y0), 0.05, bar.y_end - y0, facecolor="#fdebd0",
                               edgecolor=TIMER_COLOUR, lw=0.8, zorder=4,
                               ls="-" if bar.y_start is not None else ":"))
        if bar.end == "expire":
            ax.plot([bar.x], [bar.y_end], marker="x", markersize=6, mew=1.6, color="#c0392b", zorder=6)
        elif bar.end == "stop":
            ax.plot([bar.x - 0.05, bar.x + 0.05], [bar.y_end, bar.y_end], color=TIMER_COLOUR, lw=1.4, zorder=6)
        elif bar.y_start is not None and bar.y_end >= lay.lifeline_bottom:
            ax.plot([bar.x], [bar.y_end], marker="v", markersize=4, color=TIMER_COLOUR, zorder=6)

    # Events.
    for i, (y, ev) in enumerate(lay.rows):
        if isinstance(ev, Message):
            _draw_message(ax, lay, i, y, ev, FancyArrowPatch)
        elif isinstance(ev, Timer):
            px = _timer_x(lay, ev, y)
            words = {"start": "started", "stop": "stopped", "expire": "expired"}[ev.action]
            text = f"{ev.name} {words}" + (f" ({ev.detail})" if ev.detail else "")
            ax.text(px + 0.07, y, text, fontsize=6.5, va="center", ha="left",
                    color="#c0392b" if ev.action == "expire" else TIMER_COLOUR,
                    fontweight="bold" if ev.action == "expire" else "normal", zorder=7,
                    bbox={"boxstyle": "round,pad=0.12", "fc": "white", "ec": "none", "alpha": 0.85})
        else:
            face, edge = NOTE_STYLES[ev.style]
            ax.text(lay.x[ev.participant], y, ev.text, fontsize=6.5, ha="center", va="center", color="#1b2631",
                    zorder=7, bbox={"boxstyle": "round,pad=0.25", "fc": face, "ec": edge, "lw": 0.8})

    # Notes column heading, legend, dropped events.
    if lay.note_x is not None:
        ax.text(lay.note_x, lay.lifeline_top - 0.05, "comments", fontsize=6.5, va="bottom", color="#5d6d7e",
                style="italic")
    _legend(ax, lay, [ev for _, ev in lay.rows])
    if lay.dropped:
        ax.text(0.25, lay.height_in - 0.14, f"\u2026 {lay.dropped:,} more events not drawn (the chart shows the "
                f"first {len(lay.rows):,})", fontsize=7, color="#c0392b", va="center")
    return fig, lay


def _timer_x(lay: Layout, ev: Timer, y: float) -> float:
    for bar in lay.timers:
        if bar.participant == ev.participant and bar.name == ev.name and y in (bar.y_start, bar.y_end):
            return bar.x
    return lay.x[ev.participant] + 0.09


def _draw_message(ax, lay: Layout, i: int, y: float, ev: Message, FancyArrowPatch) -> None:
    st = STYLES["error" if ev.style == "error" else ev.style]
    x1, x2 = lay.x[ev.src], lay.x[ev.dst]
    text_box = {"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.85}
    if x1 == x2:  # a message to itself: a small loop on the right of the lifeline
        loop = 0.32
        xs, ys = [x1, x1 + loop, x1 + loop, x1 + 0.03], [y - 0.07, y - 0.07, y + 0.07, y + 0.07]
        ax.plot(xs, ys, color=st["color"], lw=st["lw"], ls=st["ls"], zorder=5)
        if ev.directed:
            ax.add_patch(FancyArrowPatch((x1 + 0.12, y + 0.07), (x1, y + 0.07), arrowstyle=st["head"],
                                         mutation_scale=9, color=st["color"], lw=st["lw"], zorder=5))
        lx, ha = x1 + loop + 0.06, "left"
    else:
        sign = 1 if x2 > x1 else -1
        ax.plot([x1, x2 - sign * (0.04 if ev.directed else 0)], [y, y], color=st["color"], lw=st["lw"],
                ls=st["ls"] if ev.directed else (0, (6, 2, 1, 2)), zorder=5, solid_capstyle="butt")
        if ev.directed:
            ax.add_patch(FancyArrowPatch((x2 - sign * 0.14, y), (x2, y), arrowstyle=st["head"], mutation_scale=10,
                                         color=st["color"], lw=st["lw"], zorder=5, shrinkA=0, shrinkB=0))
        # Alternate the labels left and right of the middle, so that neighbours' labels do not line up,
        # as far as the arrow has room to spare for the wider of label and detail.
        span = abs(x2 - x1)
        wide = max(len(ev.label) * LABEL_CHAR_IN, len(ev.detail) * DETAIL_CHAR_IN)
        shift = max(0.0, min(0.1 * span, (span - wide) / 2))
        lx, ha = (x1 + x2) / 2 + (-shift if i % 2 == 0 else shift), "center"
    ax.text(lx, y - 0.035, ev.label, fontsize=7.5, ha=ha, va="bottom", color=st["text"], fontweight="bold",
            zorder=8, bbox=text_box)
    if ev.detail:
        ax.text(lx, y + 0.035, ev.detail, fontsize=6.5, ha=ha, va="top", color="#4d5656", zorder=8, bbox=text_box)
    if ev.note and lay.note_x is not None:
        ax.text(lay.note_x, y, _shorten(ev.note, 64), fontsize=6.5, ha="left", va="center", color="#6c3483",
                style="italic", zorder=8)


def _legend(ax, lay: Layout, events: list[Event]) -> None:
    used = []
    for key in STYLES:
        if any(isinstance(ev, Message) and ev.style == key for ev in events):
            used.append(("line", key))
    if any(isinstance(ev, Message) and not ev.directed for ev in events):
        used.append(("undirected", "frame"))
    if any(isinstance(ev, Timer) for ev in events):
        used.append(("timer", None))
    if not used:
        return
    y = lay.lifeline_bottom + 0.12 + HEAD_HEIGHT + LEGEND_HEIGHT / 2
    xx = 0.3
    for what, key in used:
        if what == "line":
            st = STYLES[key]
            ax.plot([xx, xx + 0.32], [y, y], color=st["color"], lw=st["lw"], ls=st["ls"])
            ax.plot([xx + 0.32], [y], marker=">", markersize=3.5, color=st["color"])
            label = st["legend"]
        elif what == "undirected":
            ax.plot([xx, xx + 0.36], [y, y], color=STYLES["frame"]["color"], lw=1.2, ls=(0, (6, 2, 1, 2)))
            label = "direction unknown"
        else:
            from matplotlib.patches import Rectangle
            ax.add_patch(Rectangle((xx + 0.14, y - 0.08), 0.05, 0.16, facecolor="#fdebd0", edgecolor=TIMER_COLOUR,
                                   lw=0.8))
            ax.plot([xx + 0.28], [y], marker="x", markersize=5, mew=1.4, color="#c0392b")
            label = "timer (x: expired)"
        ax.text(xx + 0.42, y, label, fontsize=6.5, va="center", color="#34495e")
        xx += 0.55 + len(label) * 0.05
        if xx > lay.width_in - 1.0:
            break


def write(path: str | os.PathLike, participants: Sequence[Participant], events: Iterable[Event], *,
          title: str = "", subtitle: str = "", max_events: int = MAX_EVENTS, dpi: int = DPI) -> Layout:
    """Draw the chart and save it to ``path`` (PNG, SVG or PDF, by extension); returns its layout.
    A file that cannot be written raises :class:`LadderFieldError` naming it."""
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower().lstrip(".")
    if ext not in ("png", "svg", "pdf"):
        raise LadderFieldError("ladder file", path, "a .png, .svg or .pdf file name")
    fig, lay = draw(participants, events, title=title, subtitle=subtitle, max_events=max_events, dpi=dpi)
    try:
        fig.savefig(path, dpi=dpi, format=ext)
    except OSError as exc:
        raise LadderFieldError("ladder file", path, f"a file that can be written ({exc.strerror or exc})") from exc
    return lay


# ---------------------------------------------------------------------------------------- from captures

#: SSCOP PDUs drawn with ``sscop="connection"``: connection control (Q.2110 7.2); POLL, STAT, USTAT and
#: the unnumbered data PDUs only with ``sscop="all"``.
CONNECTION_PDUS = frozenset({"BGN", "BGAK", "BGREJ", "END", "ENDAK", "RS", "RSAK", "ER", "ERAK"})
SSCOP_CHOICES = ("none", "connection", "all")
_NETWORK_WORDS = ("switch", "network", "dce", "fabric")
_KIND_WORDS = ("client", "mcm", "adapter", "switch", "leaf")


def _device(end: str) -> str:
    """The device of a link end: ``switch.port3`` is the switch's port 3, drawn on the switch's lifeline."""
    return end.split(".", 1)[0] if "." in end and not end.startswith(".") else end


def _is_network(device: str) -> bool:
    low = device.lower()
    return any(word in low for word in _NETWORK_WORDS)


def _kind(device: str, network: bool) -> str:
    low = device.lower()
    for word in _KIND_WORDS:
        if word in low:
            return word
    return "network" if network else "user"


def link_ends(link: str, *, single: bool = True) -> tuple[str, str]:
    """(user side, network side) devices of a link named ``a<->b`` (captures.pcapng.link_name): the end
    whose device name says switch/network/DCE is the network side, else the second end. A link without
    two ends (a capture from elsewhere) gives "user" and "network" (suffixed with the link's name when
    the capture has several links)."""
    if "<->" in link:
        a, b = (_device(e.strip()) for e in link.split("<->", 1))
        if _is_network(a) and not _is_network(b):
            return b, a
        return a, b
    if single:
        return "user", "network"
    return f"user ({link})", f"network ({link})"


def chart_from_frames(frames: Iterable, *, sscop: str = "connection") -> tuple[list[Participant], list[Message]]:
    """Participants and events of the signalling in ``frames`` (:class:`captures.summary.FrameSummary`):
    one arrow per Q.2931 message, per undecodable signalling frame, and per SSCOP PDU that ``sscop``
    selects ("none", "connection": connection control PDUs, "all").

    Every link of the frames gives two lifelines, its user side (DTE: where the frames that the SunATM
    direction bit marks DTE->DCE come from) and its network side (:func:`link_ends`); ends on one device
    (``switch.port0``, ``switch.port1``) share its lifeline. Left to right: the user side of the first
    link that carries signalling, the network side(s), then the other links' user sides. Without any
    frame: "user" and "network"."""
    if sscop not in SSCOP_CHOICES:
        raise LadderFieldError("sscop", sscop, "one of " + ", ".join(SSCOP_CHOICES))
    chosen = []
    links: dict[str, bool] = {}  # every link of the frames, in order of appearance: True if it signals
    for f in frames:
        links.setdefault(f.link, False)
        if not f.signalling:
            continue
        links[f.link] = True
        if f.message is None and f.error is None:
            if sscop == "none" or (sscop == "connection" and f.sscop not in CONNECTION_PDUS):
                continue
        chosen.append(f)
    # Links that carry signalling come first (the first of them gives the leftmost lifeline).
    names = [link for link, signals in links.items() if signals] + [link for link, signals in links.items()
                                                                    if not signals]
    ends = {link: link_ends(link, single=len(names) <= 1) for link in names}
    if not ends:
        ends = {"": ("user", "network")}
        names = [""]
    order: list[str] = []
    kinds: dict[str, str] = {}
    for user, net in ends.values():
        kinds.setdefault(user, _kind(user, False))
        kinds.setdefault(net, _kind(net, True))
    order.append(ends[names[0]][0])
    order += [net for _, net in ends.values()]
    order += [user for user, _ in ends.values()]
    participants = [Participant(key, key, kinds[key]) for key in dict.fromkeys(order)]

    events = []
    for f in chosen:
        user, net = ends[f.link]
        src, dst = (net, user) if f.direction == "network->user" else (user, net)
        if f.message is not None:
            label = f.message
            detail = _frame_detail(f)
            if f.error is not None:
                detail = (detail + " \u00b7 " if detail else "") + "undecodable"
        elif f.error is not None:
            label = f"undecodable {f.sscop}" if f.sscop else "undecodable"
            detail = _shorten(f.error, 70)
        else:
            label, detail = f.sscop_text(), ""
        style = "error" if f.error is not None else ("frame" if f.message is not None else "sscop")
        events.append(Message(f.time_ns, src, dst, label, detail, style, f.direction is not None,
                              "; ".join(f.comments)))
    return participants, events


def _frame_detail(f) -> str:
    from captures.summary import cause_text, flag_text

    parts = []
    if f.call_ref is not None:
        parts.append(f"cref 0x{f.call_ref:06X}/{flag_text(f.call_ref_flag)}")
    if f.endpoint_ref is not None:
        parts.append(f"epref {f.endpoint_ref}")
    parts += [cause_text(c) for c in f.causes]
    return " \u00b7 ".join(parts)


# ---------------------------------------------------------------------------------------- from a run

#: The client's requests and the MCM's answers as the client sees them (cm.client's completion kinds).
_COMPLETION_LABELS = {"MakeCall": "ProtocolClMakeCallComplete", "AddParty": "ProtocolClAddPartyComplete",
                      "DropParty": "ProtocolClDropPartyComplete", "CloseCall": "ProtocolClCloseCallComplete",
                      "IncomingDropParty": "ProtocolClIncomingDropParty",
                      "IncomingCloseCall": "ProtocolClIncomingCloseCall",
                      "OpenAf": "ProtocolClOpenAfCompleteEx", "CloseAf": "ProtocolClCloseAfComplete"}


def run_chart(frames: Iterable, ndis: Iterable, host: Iterable, *, leaves: Sequence[int], rate_cps: int,
              adapter: str = "atm0", switch: str = "switch") -> tuple[list[Participant], list[Event]]:
    """Participants and events of a scenario run (``atmemu run``): lifelines client, MCM, the adapter, the
    switch and each leaf (``leafN``).

    ``frames``: the run capture's :class:`captures.summary.FrameSummary` (signalling: Q.2931 messages
    and SSCOP connection control PDUs; the root's link is the one whose user end is ``adapter``, the
    others ``switch:N<->leafN``); ``ndis``: the run's NDIS events (``tools.scenario.runner.NdisEvent``:
    client requests, client → MCM, and completions or indications, MCM → client); ``host``: the Q.2931
    messages between the MCM's SSCOP and the adapter (``HostMessage``). Times of ``ndis`` and ``host``
    are cell slots at ``rate_cps``.

    Timers are marked where the messages show them (the run does not trace the state machines):
    T399 on the MCM from each ADD PARTY it sends until PARTY ALERTING, ADD PARTY ACKNOWLEDGE or ADD
    PARTY REJECT comes back, and as expired when the MCM drops the party itself first (Q.2971: T399
    expiry clears the party); T397 from PARTY ALERTING to the answer; T303 on the switch from each SETUP
    it sends a leaf until the leaf answers, expired when the switch repeats the SETUP or gives up
    (Q.2931 5.1.1)."""
    from captures.summary import NETWORK_TO_USER

    def ns(slot: int) -> int:
        return int(slot) * 1_000_000_000 // rate_cps

    leaf_keys = [f"leaf{p}" for p in leaves]
    participants = [Participant("client", "client", "client"), Participant("mcm", "MCM", "mcm"),
                    Participant(adapter, f"{adapter} (adapter)", "adapter"), Participant(switch, switch, "switch")]
    participants += [Participant(k, k, "leaf") for k in leaf_keys]
    known = {p.key for p in participants}
    events: list[Event] = []
    for e in ndis:
        who = []
        if e.endpoint_ref is not None:
            who.append(f"epref {e.endpoint_ref}")
        if e.leaf is not None:
            who.append(f"leaf {e.leaf}")
        status = e.status.removeprefix("NDIS_STATUS_")
        if e.kind == "request":
            events.append(Message(ns(e.slot), "client", "mcm", e.function, " \u00b7 ".join(who + [f"-> {status}"]),
                                  "ndis"))
        else:
            label = _COMPLETION_LABELS.get(e.function, e.function)
            events.append(Message(ns(e.slot), "mcm", "client", label, " \u00b7 ".join(who + [status]),
                                  "ndis-complete"))
    running: dict[str, int] = {}
    for h in host:
        t = ns(h.slot)
        detail = " \u00b7 ".join(([f"epref {h.endpoint_ref}"] if h.endpoint_ref is not None else [])
                                 + [cause_text_of(c) for c in h.causes])
        if h.direction == "tx":
            events.append(Message(t, "mcm", adapter, h.message, detail))
        else:
            events.append(Message(t, adapter, "mcm", h.message, detail))
        ep = h.endpoint_ref
        t399, t397 = f"T399 ep{ep}", f"T397 ep{ep}"
        if h.direction == "tx" and h.message == "ADD PARTY":
            events.append(Timer(t, "mcm", t399, "start"))
            running[t399] = t
        elif h.direction == "tx" and h.message == "DROP PARTY" and t399 in running:
            events.append(Timer(t, "mcm", t399, "expire"))
            running.pop(t399)
        elif h.direction == "rx" and h.message == "PARTY ALERTING" and t399 in running:
            events.append(Timer(t, "mcm", t399, "stop"))
            running.pop(t399)
            events.append(Timer(t, "mcm", t397, "start"))
            running[t397] = t
        elif h.direction == "rx" and h.message in ("ADD PARTY ACKNOWLEDGE", "ADD PARTY REJECT", "DROP PARTY"):
            for name in (t399, t397):
                if name in running:
                    events.append(Timer(t, "mcm", name, "stop"))
                    running.pop(name)
    t303: dict[str, bool] = {}
    for f in frames:
        if not f.signalling:
            continue
        if f.message is None and f.error is None and f.sscop not in CONNECTION_PDUS:
            continue
        a, b = (x.strip() for x in f.link.split("<->", 1)) if "<->" in f.link else (f.link, switch)
        user = a if not a.startswith(switch) else b
        if user not in known:
            continue
        from_network = f.direction == NETWORK_TO_USER
        src, dst = (switch, user) if from_network else (user, switch)
        if f.message is not None:
            label, detail, style = f.message, _frame_detail(f), "frame"
        elif f.error is not None:
            label, detail, style = "undecodable", _shorten(f.error, 70), "error"
        else:
            label, detail, style = f.sscop_text(), "", "sscop"
        events.append(Message(f.time_ns, src, dst, label, detail, style, f.direction is not None,
                              "; ".join(f.comments)))
        if user == adapter or f.message is None:
            continue
        name = f"T303 {user}"
        if from_network and f.message == "SETUP":
            if t303.get(name):
                events.append(Timer(f.time_ns, switch, name, "expire"))
            events.append(Timer(f.time_ns, switch, name, "start"))
            t303[name] = True
        elif t303.get(name):
            if from_network:  # the switch gave up on the SETUP (RELEASE COMPLETE, Q.2931 5.1.1)
                events.append(Timer(f.time_ns, switch, name, "expire"))
            else:
                events.append(Timer(f.time_ns, switch, name, "stop"))
            t303[name] = False
    return participants, events


def cause_text_of(value: int) -> str:
    from captures.summary import cause_text

    return cause_text(value)


__all__ = [
    "CONNECTION_PDUS", "DPI", "Event", "LadderError", "LadderFieldError", "Layout", "MAX_EVENTS", "Message",
    "Note", "Participant", "STYLES", "Timer", "TimerBar", "chart_from_frames", "draw", "layout", "link_ends",
    "run_chart",
    "write",
]
