"""Writing a scenario as TOML: a commented file to read, copy and edit (`atmemu run --print-default`).

``loads(dump(s)) == s`` for every valid scenario: every value is written, except the timers left at
their defaults, which are written as comments showing the default. The comments explain each key:
its unit, its range or choices, and, in the leaves and the script, what the step or the behaviour will
do on the wire.

Layout: the top-level keys first (TOML puts them before any [table]): name, description, seed, the
root, the leaves and the script, the story of the run; then the tables: topology, addresses, traffic,
faults, timers, capture.
"""

from __future__ import annotations

import math

from tools.scenario import model as m

HEADER = """\
# atmemu scenario. Run it with `atmemu run FILE.toml`; `atmemu run --print-default` prints the built-in one.
# Most keys have a default (not the leaves' ports, make_call's leaf and pcr, send_frames' count and size):
# leave out what you do not need. Times in the script and in faults are milliseconds of virtual time from
# the start of the run, timers are seconds. A leaf is named by the port it is on: `leaf = 3` in the script,
# "leaf3" in faults.
"""

UNI_TIMER_NOTES = {
    "T303": "SETUP sent, no answer yet; SETUP again, then clear (Q.2931 5.1.1)",
    "T308": "RELEASE sent, no RELEASE COMPLETE yet (Q.2931 5.4.3)",
    "T310": "CALL PROCEEDING received, no CONNECT yet (Q.2931 5.1.5)",
    "T313": "CONNECT sent, no CONNECT ACKNOWLEDGE yet (Q.2931 5.2.6)",
    "T322": "STATUS ENQUIRY sent, no STATUS yet (Q.2931 5.6.11)",
    "T397": "PARTY ALERTING received, no ADD PARTY ACK yet (Q.2971)",
    "T398": "DROP PARTY sent, no DROP PARTY ACK yet (Q.2971)",
    "T399": "the root's ADD PARTY sent, no answer yet (Q.2971)",
}
SSCOP_TIMER_NOTES = {
    "cc": "Timer_CC: between BGN, END, RS, ER retransmissions (Q.2110 7.6)",
    "poll": "Timer_POLL: between POLLs while data is outstanding",
    "no_response": "Timer_NO-RESPONSE: longest time without a STAT",
    "keep_alive": "Timer_KEEP-ALIVE: between POLLs when nothing is outstanding",
    "idle": "Timer_IDLE: the idle phase, without POLLs",
}
BEHAVIOUR_NOTES = {
    m.ACCEPT: "CONNECT at once",
    m.ALERT_THEN_ACCEPT: "ALERTING, then CONNECT {alert_delay_ms} ms later",
    m.REJECT: "RELEASE COMPLETE, cause {cause}",
    m.SILENT: "never answers",
    m.DROP_AFTER: "CONNECT, then leaves by itself (RELEASE) {after_ms} ms later",
}
ADD_NOTES = {
    m.ACCEPT: "ADD PARTY -> ADD PARTY ACK",
    m.ALERT_THEN_ACCEPT: "PARTY ALERTING first, then ADD PARTY ACK",
    m.REJECT: "ADD PARTY REJECT, cause {cause}",
    m.SILENT: "no answer: the root's T399 expires",
    m.DROP_AFTER: "ADD PARTY ACK, then the leaf leaves by itself",
}


def dump(s: m.Scenario) -> str:
    """The TOML text of scenario ``s``, with comments."""
    out: list[str] = [HEADER]
    out.append(f"name = {_str(s.name)}")
    out.append(f"description = {_text(s.description)}")
    out.append(_align([(f"seed = {s.seed}", "of every random choice: bit errors, cell loss, background traffic")]))
    out.append("")

    out.append("# The root: the client and the call manager (MCM) on an emulated adapter; its own (calling) address.")
    root = [f"port = {s.root.port}"] + ([] if s.root.address is None else [f"address = {_str(str(s.root.address))}"])
    out.append("root = { " + ", ".join(root) + " }")
    out.append("")

    out.append("# One leaf per port. behaviour: accept | alert-then-accept (alert_delay_ms, default 100) |")
    out.append("# reject (cause 1..127, default 21) | silent | drop-after (after_ms, from its CONNECT). address: the")
    out.append("# number the root calls (left out: the port's first prefix, then ESI 000000000001 and selector 00).")
    rows = []
    for leaf in s.leaves:
        fields = [f"port = {leaf.port}", f"behaviour = {_str(leaf.behaviour)}"]
        for key in ("alert_delay_ms", "cause", "after_ms"):
            value = getattr(leaf, key)
            if value is not None:
                fields.append(f"{key} = {_num(value)}")
        if leaf.address is not None:
            fields.append(f"address = {_str(str(leaf.address))}")
        rows.append(("  { " + ", ".join(fields) + " },", _behaviour_note(leaf)))
    out.append(_array_block("leaves", rows))
    out.append("")

    out.append("# The client's script, in order: make_call {leaf, pcr (cells/s), aal5_max_sdu (octets)}, add_party")
    out.append("# {leaf}, drop_party {leaf}, wait_ms, send_frames {count, size (octets), spacing_us}, close_call {}.")
    out.append(_array_block("script", _script_rows(s)))
    out.append("")

    t = s.topology
    out.append("[topology]")
    out.append(_align([
        (f"ports = {t.ports}", f"line ports 0..{t.ports - 1} ({m.MIN_PORTS}..{m.MAX_PORTS})"),
        (f"line_rate = {_str(t.line_rate)}", " | ".join(m.LINE_RATES)),
        (f"architecture = {_str(t.architecture)}", "data path queueing: " + " | ".join(m.ARCHITECTURES)),
        (f"buffer_cells = {t.buffer_cells}", "shared cell memory of the fabric"),
    ]))
    out.append("")

    a = s.addresses
    out.append("[addresses]")
    out.append("# A called number goes to the port with the longest matching prefix. AESA prefixes in hex, dots")
    out.append('# anywhere, 1..20 octets; E.164 as "+" and digits. Left out, `ports` numbers port i as the first')
    out.append("# domain prefix followed by i in two octets.")
    out.append(_align([("domain = [" + ", ".join(_str(str(d)) for d in a.domain) + "]",
                        "numbers under it that no port serves: cause 1, others: cause 3")]))
    out.append(_array_block("ports", [
        ("  { port = " + str(e.port) + ", prefixes = [" + ", ".join(_str(str(p)) for p in e.prefixes) + "] },", "")
        for e in a.ports]))
    out.append("")

    out.append("[traffic]")
    out.append(_align([
        (f"model = {_str(s.traffic.model)}", "background data: " + " | ".join(m.TRAFFIC_MODELS)),
        (f"load = {_num(s.traffic.load)}", "cells per input port per cell slot, 0..1"),
    ]))
    out.append("")

    out.append('# Faults, one table per link: [faults.LINK], LINK "signalling" (every signalling channel), "data"')
    out.append('# (every data VC), "root" or "leafN" (the link of the leaf on port N); both directions.')
    if not s.faults:
        out.append("# [faults.signalling]")
        out.append(_align([
            ("# ber = 1e-06", "bit error ratio, 0..0.1"),
            ("# cell_loss = 1e-05", "probability that a cell is lost"),
            ("# bursts = [{ at_ms = 1000, cells = 20 }]", "20 cells in a row lost at 1 s"),
            ("# down = [{ down_ms = 2000, up_ms = 2500 }]", "down at 2 s, up at 2.5 s (no up_ms: stays down)"),
        ]))
    for i, f in enumerate(s.faults):
        if i:
            out.append("")
        out.append(f"[faults.{f.link}]")
        out.append(_align([
            (f"ber = {_num(f.ber)}", "bit error ratio, 0..0.1"),
            (f"cell_loss = {_num(f.cell_loss)}", "probability that a cell is lost"),
        ]))
        out.append("bursts = [" + ", ".join(f"{{ at_ms = {_num(b.at_ms)}, cells = {b.cells} }}"
                                            for b in f.bursts) + "]")
        out.append("down = [" + ", ".join(
            f"{{ down_ms = {_num(w.down_ms)}" + ("" if w.up_ms is None else f", up_ms = {_num(w.up_ms)}") + " }"
            for w in f.down) + "]")
    out.append("")

    out.append("[timers]")
    out.append("# Overrides in seconds (> 0); a timer left out (or commented out) keeps the default shown.")
    rows = []
    for name in m.UNI_TIMERS:
        value = getattr(s.timers, name)
        code = f"{name} = {_num(value)}" if value is not None else f"# {name} = {_num(m.UNI_TIMER_DEFAULTS[name])}"
        rows.append((code, UNI_TIMER_NOTES[name] + ("" if value is None else
                                                    f"; default {_num(m.UNI_TIMER_DEFAULTS[name])}")))
    out.append(_align(rows))
    out.append("")
    out.append("[timers.sscop]")
    rows = []
    for name in m.SSCOP_TIMERS:
        value = getattr(s.timers.sscop, name)
        code = f"{name} = {_num(value)}" if value is not None else f"# {name} = {_num(m.SSCOP_TIMER_DEFAULTS[name])}"
        rows.append((code, SSCOP_TIMER_NOTES[name] + ("" if value is None else
                                                      f"; default {_num(m.SSCOP_TIMER_DEFAULTS[name])}")))
    out.append(_align(rows))
    out.append("")

    c = s.capture
    out.append("[capture]")
    out.append(_align([
        (f"signalling = {_bool(c.signalling)}", "record the signalling frames of every link (pcapng)"),
        (f"cells = {_bool(c.cells)}", "record data cells too"),
        ("vcs = [" + ", ".join(_str(f"{vpi}/{vci}") for vpi, vci in c.vcs) + "]",
         'only these VCs, as "VPI/VCI" (empty: every VC)'),
        (f"max_cells = {c.max_cells}", "cells recorded at most"),
        (f"pcap = {_bool(c.pcap)}", "also export classic pcap for older tools"),
    ]))
    return "\n".join(out) + "\n"


# ---- comments ------------------------------------------------------------------------------------------


def _behaviour_note(leaf: m.Leaf) -> str:
    return BEHAVIOUR_NOTES[leaf.behaviour].format(alert_delay_ms=_opt(leaf.alert_delay_ms),
                                                  cause=leaf.cause, after_ms=_opt(leaf.after_ms))


def _opt(value: float | int | None) -> str:
    return "?" if value is None else _num(value)


def _script_rows(s: m.Scenario) -> list[tuple[str, str]]:
    leaves = {leaf.port: leaf for leaf in s.leaves}
    rows = []
    for step in s.script:
        note = ""
        if isinstance(step, m.MakeCall):
            code = (f"{{ make_call = {{ leaf = {step.leaf}, pcr = {step.pcr}, aal5_max_sdu = {step.aal5_max_sdu} }} }}")
            note = f"SETUP: the call, with leaf {step.leaf} as its first party"
        elif isinstance(step, m.AddParty):
            code = f"{{ add_party = {{ leaf = {step.leaf} }} }}"
            leaf = leaves.get(step.leaf)
            if leaf is not None and leaf.behaviour != m.ACCEPT:
                note = ADD_NOTES[leaf.behaviour].format(cause=leaf.cause)
        elif isinstance(step, m.DropParty):
            code = f"{{ drop_party = {{ leaf = {step.leaf} }} }}"
        elif isinstance(step, m.Wait):
            code = f"{{ wait_ms = {_num(step.ms)} }}"
        elif isinstance(step, m.SendFrames):
            code = (f"{{ send_frames = {{ count = {step.count}, size = {step.size}, "
                    f"spacing_us = {_num(step.spacing_us)} }} }}")
            cells = -(-(step.size + 8) // 48)  # AAL5 CPCS-PDU: SDU + 8-octet trailer, padded to 48 (I.363.5)
            note = f"{cells} cells a frame"
        else:
            code = "{ close_call = {} }"
            note = "RELEASE: the call and every party left"
        rows.append(("  " + code + ",", note))
    return rows


# ---- TOML values and layout -------------------------------------------------------------------------


def _align(rows: list[tuple[str, str]], width: int = 48) -> str:
    """Lines of code with their comments in one column (code longer than ``width`` pushes its own)."""
    col = min(max((len(code) for code, _ in rows), default=0), width)
    return "\n".join(f"{code.ljust(col)}  # {note}" if note else code for code, note in rows)


def _array_block(key: str, rows: list[tuple[str, str]]) -> str:
    if not rows:
        return f"{key} = []"
    return f"{key} = [\n" + _align(rows, 60) + "\n]"


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _num(value: float | int | None) -> str:
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)  # the shortest text that reads back as the same float; valid TOML
    raise TypeError(f"not a number: {value!r}")


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _char(c: str, keep: str = "") -> str:
    if c in keep:
        return c
    if c in _ESCAPES:
        return _ESCAPES[c]
    if ord(c) < 0x20 or ord(c) == 0x7F:
        return f"\\u{ord(c):04x}"
    return c


def _str(value: str) -> str:
    """A TOML basic string."""
    return '"' + "".join(_char(c) for c in value) + '"'


def _text(value: str) -> str:
    """A multi-line TOML basic string for text with line breaks (tabs and line feeds kept as they are)."""
    if "\n" not in value:
        return _str(value)
    return '"""\n' + "".join(_char(c, keep="\n\t") for c in value) + '"""'
