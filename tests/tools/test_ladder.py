"""tools.ladder: message sequence charts.

The layout is checked as geometry (a distinct lifeline per participant in the order given, one row per
event in time order, timers paired, long charts cut with a count); the pictures as images (the size the
layout promised, not blank, the arrows' colours present); the chart of a capture as participants and
arrows derived from link names and directions.
"""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.image import imread

from captures.summary import FrameSummary
from hw.errors import AtmemuError
from tools import ladder
from tools.ladder import (LadderFieldError, Message, Note, Participant, Timer, chart_from_frames, draw, layout,
                          link_ends, write)

PARTICIPANTS = [Participant("client", "client", "client"), Participant("mcm", "MCM", "mcm"),
                Participant("adapter0", kind="adapter"), Participant("switch", kind="switch"),
                Participant("leaf1", kind="leaf"), Participant("leaf2", kind="leaf")]


def add_party_story() -> list:
    """An ADD PARTY that the leaf never answers: NDIS call, frames, timers, expiry, completion."""
    s = 1_000_000_000
    return [
        Message(0, "client", "mcm", "NdisClAddParty", "party 3", "ndis"),
        Message(2_000, "mcm", "adapter0", "ADD PARTY", "cref 0x000001/orig · epref 3"),
        Timer(2_500, "mcm", "T399", "start"),
        Message(5_000, "adapter0", "switch", "ADD PARTY", "cref 0x000001/orig · epref 3",
                note="NdisClAddParty party=3 -> PENDING"),
        Message(9_000, "switch", "leaf2", "SETUP", "cref 0x000009/orig · epref 0"),
        Timer(9_500, "switch", "T303", "start"),
        Timer(4 * s + 9_500, "switch", "T303", "expire"),
        Message(4 * s + 10_000, "switch", "adapter0", "ADD PARTY REJECT",
                "cref 0x000001/term · epref 3 · cause 18 no user responding"),
        Message(4 * s + 12_000, "adapter0", "mcm", "ADD PARTY REJECT", "cause 18"),
        Timer(4 * s + 13_000, "mcm", "T399", "stop"),
        Note(4 * s + 14_000, "mcm", "party 3: Null", "state"),
        Message(4 * s + 15_000, "mcm", "client", "ProtocolClAddPartyComplete", "NDIS_STATUS_FAILURE",
                "ndis-complete"),
    ]


def test_each_participant_has_its_own_lifeline_in_the_order_given():
    lay = layout(PARTICIPANTS, add_party_story())
    xs = [lay.x[p.key] for p in PARTICIPANTS]
    assert len(set(xs)) == len(PARTICIPANTS)
    assert xs == sorted(xs)
    assert min(np.diff(xs)) >= ladder.MIN_SPACING - 1e-9
    assert xs[0] > ladder.LEFT_MARGIN and xs[-1] < lay.width_in


def test_events_are_rows_in_time_order_whatever_order_they_come_in():
    events = add_party_story()
    shuffled = [events[i] for i in np.random.default_rng(7).permutation(len(events))]
    lay = layout(PARTICIPANTS, shuffled)
    times = [ev.time_ns for _, ev in lay.rows]
    ys = [y for y, _ in lay.rows]
    assert times == sorted(ev.time_ns for ev in events)
    assert all(b - a >= ladder.ROW_HEIGHT - 1e-9 for a, b in zip(ys, ys[1:]))  # downward, one row each
    assert lay.lifeline_top < ys[0] and ys[-1] < lay.lifeline_bottom < lay.height_in
    # Events at the same time keep the caller's order.
    same = [Message(5, "mcm", "adapter0", f"M{i}") for i in range(4)]
    assert [ev.label for _, ev in layout(PARTICIPANTS, same[::-1]).rows] == ["M3", "M2", "M1", "M0"]


def test_timers_are_paired_and_gaps_marked():
    lay = layout(PARTICIPANTS, add_party_story())
    bars = {bar.name: bar for bar in lay.timers}
    assert bars["T303"].end == "expire" and bars["T399"].end == "stop"
    assert bars["T303"].y_start < bars["T303"].y_end
    assert bars["T399"].x > lay.x["mcm"] and bars["T303"].x > lay.x["switch"]
    assert [round(gap / 1e9, 3) for _, gap in lay.gaps] == [4.0]
    # Two timers running at once on one lifeline sit side by side; a start without an end runs to the bottom.
    both = layout(PARTICIPANTS, [Timer(0, "mcm", "T398"), Timer(1, "mcm", "T399"), Timer(2, "mcm", "T398", "stop")])
    b = {bar.name: bar for bar in both.timers}
    assert b["T398"].x != b["T399"].x and b["T399"].end is None and b["T399"].y_end == both.lifeline_bottom


def test_the_figure_grows_with_the_events_and_is_cut_at_max_events():
    def chart(n):
        return [Message(i * 1000, "adapter0" if i % 2 else "switch", "switch" if i % 2 else "adapter0",
                        "ADD PARTY", f"epref {i}") for i in range(n)]

    small, big = layout(PARTICIPANTS, chart(20)), layout(PARTICIPANTS, chart(150))
    assert big.height_in - small.height_in >= 130 * ladder.ROW_HEIGHT
    assert big.width_in == small.width_in and big.dropped == 0
    cut = layout(PARTICIPANTS, chart(150), max_events=100)
    assert cut.dropped == 50 and len(cut.rows) == 100
    assert [ev.time_ns for _, ev in cut.rows] == [i * 1000 for i in range(100)]  # the first ones


def test_bad_charts_are_typed_errors():
    p = PARTICIPANTS
    for participants, events, field in (
        ([], [], "participants"),
        ([Participant("a"), Participant("a")], [], "participants"),
        (p, [Message(0, "mcm", "nobody", "X")], "participant"),
        (p, [Message(0, "mcm", "switch", "X", style="bold")], "Message.style"),
        (p, [Timer(0, "mcm", "T399", "pause")], "Timer.action"),
        (p, [Note(0, "mcm", "x", "loud")], "Note.style"),
        (p, [Message(0.5, "mcm", "switch", "X")], "time_ns"),
        (p, ["not an event"], "events"),
        (p, [], "dpi"),
    ):
        with pytest.raises(LadderFieldError) as info:
            layout(participants, events, dpi=5 if field == "dpi" else ladder.DPI)
        assert info.value.field == field and isinstance(info.value, AtmemuError)
    with pytest.raises(LadderFieldError):
        layout(p, [], max_events=0)


def test_png_has_the_promised_size_and_real_content(tmp_path):
    path = tmp_path / "story.png"
    lay = write(path, PARTICIPANTS, add_party_story(), title="ADD PARTY without an answer")
    image = imread(path)
    assert image.shape[:2] == (lay.pixels[1], lay.pixels[0])
    gray = image[..., :3].mean(axis=2)
    assert gray.std() > 0.05  # not a blank page
    assert (gray < 0.5).mean() > 0.002  # dark ink: lines and text
    rgb = (image[..., :3] * 255).round().astype(int).reshape(-1, 3)

    def has(colour: str, tolerance: int = 30) -> bool:
        target = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
        return bool((np.abs(rgb - target).max(axis=1) < tolerance).any())

    assert has(ladder.STYLES["frame"]["color"]) and has(ladder.STYLES["ndis"]["color"])
    assert has(ladder.TIMER_COLOUR) and has("#c0392b")  # the expiry cross


@pytest.mark.parametrize("dpi", [72, 150])
def test_the_size_holds_at_any_resolution(tmp_path, dpi):
    lay = write(tmp_path / "story.png", PARTICIPANTS[:3], add_party_story()[:3], dpi=dpi)
    assert imread(tmp_path / "story.png").shape[:2] == (lay.pixels[1], lay.pixels[0])


def test_labels_alternate_along_neighbouring_arrows():
    events = [Message(i, "adapter0", "switch", "SD", "") for i in range(6)]
    fig, lay = draw(PARTICIPANTS, events)
    labels = [t for t in fig.axes[0].texts if t.get_text() == "SD"]
    xs = [round(t.get_position()[0], 3) for t in labels]
    assert len(xs) == 6 and len(set(xs)) == 2 and xs[0] != xs[1] and xs[0] == xs[2]


def test_a_hundred_and_twenty_events_draw_a_tall_readable_chart(tmp_path):
    events = []
    for i in range(60):
        events.append(Message(i * 10_000, "adapter0", "switch", "ADD PARTY", f"cref 0x000001/orig · epref {i}"))
        events.append(Message(i * 10_000 + 5_000, "switch", "adapter0", "ADD PARTY ACKNOWLEDGE",
                              f"cref 0x000001/term · epref {i}"))
    lay = write(tmp_path / "tall.png", PARTICIPANTS[2:4], events)
    assert lay.pixels[1] > 120 * ladder.ROW_HEIGHT * lay.dpi
    assert lay.name_rows  # the names are repeated in the tall chart
    # The lifelines are far enough apart for the longest label.
    assert lay.spacing >= len("ADD PARTY ACKNOWLEDGE") * ladder.LABEL_CHAR_IN
    assert imread(tmp_path / "tall.png").shape[0] == lay.pixels[1]


def test_other_formats_and_bad_file_names(tmp_path):
    write(tmp_path / "story.svg", PARTICIPANTS, add_party_story())
    assert (tmp_path / "story.svg").read_text().lstrip().startswith("<?xml")
    with pytest.raises(LadderFieldError):
        write(tmp_path / "story.jpg", PARTICIPANTS, add_party_story())
    with pytest.raises(LadderFieldError) as info:
        write(tmp_path / "missing" / "story.png", PARTICIPANTS, add_party_story())
    assert "can be written" in str(info.value)


# ------------------------------------------------------------------------------------------ from captures

def frame(n, link, direction, message=None, *, sscop="SD", error=None, comments=(), kind="sscop", **kw):
    return FrameSummary(frame=n, time_ns=n * 1000, link=link, interface=0, section=0, linktype=123, kind=kind,
                        direction=direction, vpi=0, vci=5, sscop=sscop, message=message, error=error,
                        comments=tuple(comments), **kw)


ROOT, LEAF1, LEAF2 = "adapter0<->switch.port0", "switch.port1<->leaf1", "switch.port2<->leaf2"


def test_link_ends():
    assert link_ends(ROOT) == ("adapter0", "switch")
    assert link_ends(LEAF1) == ("leaf1", "switch")  # the switch is the network side whichever end it is
    assert link_ends("hostA<->hostB") == ("hostA", "hostB")
    assert link_ends("if0") == ("user", "network")
    assert link_ends("if0", single=False) == ("user (if0)", "network (if0)")


def test_chart_of_a_capture():
    frames = [
        frame(1, ROOT, "user->network", "SETUP", call_ref=1, call_ref_flag=0, endpoint_ref=0,
              comments=["NdisClMakeCall -> PENDING"]),
        frame(2, LEAF1, "network->user", "SETUP", call_ref=7, call_ref_flag=0),
        frame(3, ROOT, "user->network", sscop="POLL"),
        frame(4, ROOT, "network->user", sscop="BGAK"),
        frame(5, LEAF2, None, "SETUP", call_ref=9, call_ref_flag=0),
        frame(6, ROOT, "network->user", "ADD PARTY REJECT", call_ref=1, call_ref_flag=1, endpoint_ref=3, causes=(21,)),
        frame(7, ROOT, "network->user", sscop=None, error="SSCOP PDU: at offset 8, field type: no such PDU"),
        frame(8, "switch.port3<->leaf3", None, sscop=None, kind="cells"),
    ]
    participants, events = chart_from_frames(frames)
    assert [p.key for p in participants] == ["adapter0", "switch", "leaf1", "leaf2", "leaf3"]
    assert [p.kind for p in participants] == ["adapter", "switch", "leaf", "leaf", "leaf"]
    assert [(e.src, e.dst, e.label) for e in events] == [
        ("adapter0", "switch", "SETUP"), ("switch", "leaf1", "SETUP"), ("switch", "adapter0", "BGAK"),
        ("leaf2", "switch", "SETUP"), ("switch", "adapter0", "ADD PARTY REJECT"),
        ("switch", "adapter0", "undecodable")]
    assert events[0].detail == "cref 0x000001/orig \u00b7 epref 0" and events[0].note == "NdisClMakeCall -> PENDING"
    assert events[4].detail == "cref 0x000001/term \u00b7 epref 3 \u00b7 cause 21 call rejected"
    assert [e.style for e in events] == ["frame", "frame", "sscop", "frame", "frame", "error"]
    assert [e.directed for e in events] == [True, True, True, False, True, True]
    assert "no such PDU" in events[5].detail
    assert len(chart_from_frames(frames, sscop="all")[1]) == 7  # the POLL too
    assert [e.label for e in chart_from_frames(frames, sscop="none")[1]].count("BGAK") == 0
    with pytest.raises(LadderFieldError):
        chart_from_frames(frames, sscop="some")
    # Nothing at all: still two lifelines to draw on.
    assert [p.key for p in chart_from_frames([])[0]] == ["user", "network"]
    # And the chart draws.
    layout(participants, events)


def test_a_runs_chart_has_a_lifeline_per_party_and_pairs_its_timers():
    """tools.ladder.run_chart: client, MCM, adapter, switch, each leaf; the client's NDIS calls and
    completions between client and MCM; T399 on the MCM from its ADD PARTY to the expiry (its own DROP
    PARTY), T303 on the switch from its SETUP to the leaf until the leaf answers."""
    from types import SimpleNamespace as NS

    ndis = [NS(slot=100, kind="request", function="NdisClAddParty", target="party3", status="NDIS_STATUS_PENDING",
               leaf=2, endpoint_ref=1),
            NS(slot=9000, kind="completion", function="AddParty", target="party3",
               status="NDIS_STATUS_REQUEST_ABORTED", leaf=2, endpoint_ref=1)]
    host = [NS(slot=100, direction="tx", message="ADD PARTY", endpoint_ref=1, causes=()),
            NS(slot=8900, direction="tx", message="DROP PARTY", endpoint_ref=1, causes=(102,))]
    frames = [FrameSummary(1, 400_000, "switch:2<->leaf2", 1, 0, 0, "sscop", direction="network->user",
                           sscop="SD", message="SETUP", call_ref=5),
              FrameSummary(2, 500_000, "switch:2<->leaf2", 1, 0, 0, "sscop", direction="user->network",
                           sscop="SD", message="CONNECT", call_ref=5)]
    participants, events = ladder.run_chart(frames, ndis, host, leaves=[1, 2], rate_cps=1_000_000)
    assert [p.key for p in participants] == ["client", "mcm", "atm0", "switch", "leaf1", "leaf2"]
    arrows = [(e.src, e.dst, e.label) for e in events if isinstance(e, Message)]
    assert ("client", "mcm", "NdisClAddParty") in arrows
    assert ("mcm", "client", "ProtocolClAddPartyComplete") in arrows
    assert ("mcm", "atm0", "ADD PARTY") in arrows and ("switch", "leaf2", "SETUP") in arrows
    assert ("leaf2", "switch", "CONNECT") in arrows
    lay = layout(participants, events)
    bars = {(b.participant, b.name): b.end for b in lay.timers}
    assert bars == {("mcm", "T399 ep1"): "expire", ("switch", "T303 leaf2"): "stop"}
