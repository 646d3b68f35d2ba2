"""Reading a scenario: TOML text -> a checked :class:`~tools.scenario.model.Scenario`.

:func:`load` reads a file, :func:`loads` a text, :func:`from_dict` what tomllib made of one; :func:`check`
runs a Scenario built in Python through the same rules. Every error is a
:class:`~tools.scenario.errors.ScenarioError` naming the file, the dotted key path and what was expected:
a syntax error with its line and column, an unknown key with the closest known one, a missing key, a
value of the wrong type or out of range, and values that do not fit together (a duplicate port, a
script step on a leaf that does not exist, ``add_party`` before ``make_call``).

The first error found is raised: unknown keys of a table before its values (a misspelt key usually
explains a missing one), sections in the order of the format (topology before addresses before
the root, leaves and script, which refer to them).
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hw.errors import FieldError
from hw.rates import rate
from tools.scenario import model as m
from tools.scenario.errors import (
    ConsistencyError,
    MissingKeyError,
    OutOfRangeError,
    ScenarioError,
    ScenarioFileError,
    ScenarioSyntaxError,
    ScriptOrderError,
    UnknownKeyError,
    WrongTypeError,
)

#: Largest scenario text read, in characters: a scenario is a few kilobytes; this bounds memory.
MAX_TEXT = 1 << 20
#: Longest time of the script and of faults: a day of virtual time (more is a typo).
MAX_MS = 86_400_000
MAX_US = 1000 * MAX_MS
#: Longest timer, seconds.
MAX_TIMER_S = 86_400.0
MAX_FRAMES = 100_000_000
MAX_BURST_CELLS = 10_000_000
MAX_CAPTURE_CELLS = 1_000_000_000
MAX_SEED = (1 << 64) - 1
MAX_NAME = 100
MAX_DESCRIPTION = 10_000
#: Highest bit error ratio a link may be given (beyond it hardly a cell header survives).
MAX_BER = 0.1

_MISSING = object()
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


# ---- entry points ------------------------------------------------------------------------------------


def load(path: str | Path) -> m.Scenario:
    """Read the scenario file ``path``. Its name defaults to the file's stem."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > 4 * MAX_TEXT:  # UTF-8: at most 4 octets a character
            raise ScenarioFileError(str(path), f"too large ({size} octets; a scenario is at most {MAX_TEXT} "
                                               "characters)")
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ScenarioFileError(str(path), "no such file") from None
    except IsADirectoryError:
        raise ScenarioFileError(str(path), "is a directory, not a scenario file") from None
    except OSError as exc:
        raise ScenarioFileError(str(path), exc.strerror or str(exc)) from None
    name = "".join(c for c in p.stem if c.isprintable())[:MAX_NAME].strip() or "scenario"
    return loads(raw, source=str(path), name=name)


def loads(text: str | bytes, *, source: str | None = None, name: str = "scenario") -> m.Scenario:
    """Read a scenario from TOML ``text`` (bytes are read as UTF-8). ``source`` names it in errors;
    ``name`` is the scenario's name when the text gives none."""
    try:
        return from_dict(_parse(text), name=name)
    except ScenarioError as exc:
        if source and exc.source is None:
            exc.source = source
        raise


def from_dict(data: dict[str, Any], *, name: str = "scenario") -> m.Scenario:
    """Build and check a scenario from the tables tomllib returns."""
    return _Reader(name).scenario(data)


def check(scenario: m.Scenario) -> m.Scenario:
    """Check a Scenario built in Python with the rules of a file: it is written out and read back,
    so it passes exactly when a file saying the same would. Returns the scenario read back (equal
    to ``scenario``)."""
    from tools.scenario.dump import dump

    return loads(dump(scenario), source=f"scenario {scenario.name!r}", name=scenario.name)


# ---- TOML ---------------------------------------------------------------------------------------------

_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_AT_END = re.compile(r"\s*\(at end of document\)$")


def _parse(text: str | bytes) -> dict[str, Any]:
    if isinstance(text, (bytes, bytearray)):
        if len(text) > 4 * MAX_TEXT:
            raise ScenarioSyntaxError(f"too large ({len(text)} octets; at most {MAX_TEXT} characters)")
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ScenarioSyntaxError(f"not UTF-8: octet 0x{text[exc.start]:02x} at offset {exc.start}",
                                      offset=exc.start) from None
    elif not isinstance(text, str):
        raise ScenarioSyntaxError(f"expected TOML text (str or bytes), got {type(text).__name__}")
    else:
        text = text.removeprefix("\ufeff")
    if len(text) > MAX_TEXT:
        raise ScenarioSyntaxError(f"too large ({len(text)} characters; at most {MAX_TEXT})")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = _POSITION.search(message)
        if found:
            line, column = int(found.group(1)), int(found.group(2))
            lines = text.split("\n")
            offset = sum(len(x) + 1 for x in lines[: line - 1]) + column - 1
            raise ScenarioSyntaxError(message[: found.start()], line, column, offset) from None
        if _AT_END.search(message):
            lines = text.split("\n")
            raise ScenarioSyntaxError(_AT_END.sub("", message) + " (at the end of the text)",
                                      len(lines), len(lines[-1]) + 1, len(text)) from None
        raise ScenarioSyntaxError(message) from None
    except RecursionError:
        raise ScenarioSyntaxError("arrays or inline tables nested too deep") from None
    except ValueError as exc:  # an integer of more than 4300 digits (sys.int_info) is refused by int()
        reason = "an integer with too many digits" if "digits" in str(exc) else str(exc)
        raise ScenarioSyntaxError(reason) from None


# ---- paths, suggestions, typed reads -----------------------------------------------------------------


def _key(path: str, key: str) -> str:
    shown = key if len(key) <= 60 else key[:57] + "..."
    if not _BARE_KEY.fullmatch(key):
        shown = '"' + shown.replace("\\", "\\\\").replace('"', '\\"') + '"'
        shown = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in shown)
    return f"{path}.{shown}" if path else shown


def _at(path: str, index: int) -> str:
    return f"{path}[{index}]"


def suggest(word: object, choices: tuple[str, ...] | list[str]) -> str | None:
    """The choice closest to ``word`` (case ignored), or None when none is close."""
    if not isinstance(word, str) or not choices or len(word) > 64:
        return None
    lowered = {c.lower(): c for c in choices}
    found = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[found[0]] if found else None


def _ranges(values: list[int] | tuple[int, ...]) -> str:
    """1, 2, 3, 5 -> "1..3, 5"."""
    out: list[str] = []
    vals = sorted(set(values))
    i = 0
    while i < len(vals):
        j = i
        while j + 1 < len(vals) and vals[j + 1] == vals[j] + 1:
            j += 1
        out.append(str(vals[i]) if i == j else f"{vals[i]}, {vals[j]}" if j == i + 1 else f"{vals[i]}..{vals[j]}")
        i = j + 1
    return ", ".join(out)


def _num_text(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _table(value: object, path: str, keys: tuple[str, ...], what: str = "a table") -> dict[str, Any]:
    """``value`` as a table whose keys are all among ``keys``."""
    if not isinstance(value, dict):
        raise WrongTypeError(path, value, what)
    for k in value:
        if k not in keys:
            raise UnknownKeyError(_key(path, k), k, keys, suggest(k, keys))
    return value


def _get(t: dict[str, Any], key: str, path: str, default: object, expected: str) -> object:
    return t[key] if key in t else _default(key, path, default, expected)


def _default(key: str, path: str, default: object, expected: str) -> Any:
    """The value of a key left out: ``default``, or a MissingKeyError when it is required."""
    if default is _MISSING:
        raise MissingKeyError(_key(path, key), expected)
    return default


def _int(t: dict, key: str, path: str, lo: int, hi: int, default: object = _MISSING, what: str = "") -> Any:
    expected = f"an integer in {lo}..{hi}" + (f" ({what})" if what else "")
    if key not in t:
        return _default(key, path, default, expected)
    v = t[key]
    if isinstance(v, bool) or not isinstance(v, int):
        raise WrongTypeError(_key(path, key), v, expected)
    if not lo <= v <= hi:
        raise OutOfRangeError(_key(path, key), v, expected)
    return v


def _number(t: dict, key: str, path: str, lo: float, hi: float, default: object = _MISSING, *,
            lo_open: bool = False, what: str = "a number") -> Any:
    """An integer or a float in lo..hi (lo excluded with ``lo_open``); kept as written (5 stays 5)."""
    expected = (f"{what} > {_num_text(lo)} and <= {_num_text(hi)}" if lo_open
                else f"{what} in {_num_text(lo)}..{_num_text(hi)}")
    if key not in t:
        return _default(key, path, default, expected)
    v = t[key]
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise WrongTypeError(_key(path, key), v, expected)
    # written so that nan fails every comparison
    if not ((v > lo if lo_open else v >= lo) and v <= hi) or (isinstance(v, float) and not math.isfinite(v)):
        raise OutOfRangeError(_key(path, key), v, expected)
    return v


def _bool(t: dict, key: str, path: str, default: bool) -> bool:
    v = t.get(key, default)
    if not isinstance(v, bool):
        raise WrongTypeError(_key(path, key), v, "true or false")
    return v


def _string(t: dict, key: str, path: str, default: object, max_len: int, *, one_line: bool) -> Any:
    expected = f"a string of at most {max_len} characters" + (" on one line" if one_line else "")
    v = _get(t, key, path, default, expected)
    if not isinstance(v, str):
        raise WrongTypeError(_key(path, key), v, expected)
    if len(v) > max_len or (one_line and any(c in v for c in "\r\n")):
        raise OutOfRangeError(_key(path, key), v, expected)
    return v


def _choice(t: dict, key: str, path: str, choices: tuple[str, ...], default: object = _MISSING) -> str:
    expected = "one of " + ", ".join(choices)
    v = _get(t, key, path, default, expected)
    if not isinstance(v, str):
        raise WrongTypeError(_key(path, key), v, expected)
    if v not in choices:
        raise OutOfRangeError(_key(path, key), v, expected, suggest(v, choices))
    return v


def _array(t: dict, key: str, path: str, expected: str, default: object = _MISSING) -> list:
    v = _get(t, key, path, default, expected)
    if not isinstance(v, list):
        raise WrongTypeError(_key(path, key), v, expected)
    return v


# ---- the reader ------------------------------------------------------------------------------------

TOP_KEYS = ("name", "description", "seed", "topology", "addresses", "root", "leaves", "script", "traffic",
            "faults", "timers", "capture")
TOPOLOGY_KEYS = ("ports", "line_rate", "architecture", "buffer_cells")
ADDRESSES_KEYS = ("domain", "ports")
PORT_ADDRESS_KEYS = ("port", "prefixes")
ROOT_KEYS = ("port", "address")
LEAF_KEYS = ("port", "behaviour", "alert_delay_ms", "cause", "after_ms", "address")
#: Which behaviour uses which parameter, and the parameter's default (None: required).
LEAF_PARAMETERS = {"alert_delay_ms": (m.ALERT_THEN_ACCEPT, 100), "cause": (m.REJECT, 21),
                   "after_ms": (m.DROP_AFTER, None)}
TRAFFIC_KEYS = ("model", "load")
FAULT_KEYS = ("ber", "cell_loss", "bursts", "down")
BURST_KEYS = ("at_ms", "cells")
DOWN_KEYS = ("down_ms", "up_ms")
TIMER_KEYS = m.UNI_TIMERS + ("sscop",)
CAPTURE_KEYS = ("signalling", "cells", "vcs", "max_cells", "pcap")
STEP_FIELDS = {"make_call": ("leaf", "pcr", "aal5_max_sdu"), "add_party": ("leaf",), "drop_party": ("leaf",),
               "send_frames": ("count", "size", "spacing_us"), "close_call": ()}


@dataclass
class _Reader:
    default_name: str

    def scenario(self, data: dict[str, Any]) -> m.Scenario:
        top = _table(data, "", TOP_KEYS)
        name = _string(top, "name", "", self.default_name, MAX_NAME, one_line=True)
        if not name.strip():
            raise OutOfRangeError("name", name, "a name that is not blank")
        description = _string(top, "description", "", "", MAX_DESCRIPTION, one_line=False)
        seed = _int(top, "seed", "", 0, MAX_SEED, 1)
        topology = self.topology(top.get("topology", {}))
        addresses = self.addresses(top.get("addresses", {}), topology)
        root = self.root(top.get("root", {}), topology, addresses)
        leaves = self.leaves(_array(top, "leaves", "", "an array of leaf tables", []), topology, addresses, root)
        script = self.script(_array(top, "script", "", "an array of steps", []), topology, leaves)
        traffic = self.traffic(top.get("traffic", {}))
        faults = self.faults(top.get("faults", {}), leaves)
        timers = self.timers(top.get("timers", {}))
        capture = self.capture(top.get("capture", {}))
        return m.Scenario(name, description, topology, addresses, root, leaves, script, traffic, faults, timers,
                          capture, seed)

    # -- topology

    def topology(self, value: object) -> m.Topology:
        t = _table(value, "topology", TOPOLOGY_KEYS)
        ports = _int(t, "ports", "topology", m.MIN_PORTS, m.MAX_PORTS, 16, "line ports of the switch")
        raw_rate = t.get("line_rate", "OC-3c")
        expected = "one of " + ", ".join(m.LINE_RATES)
        if not isinstance(raw_rate, str):
            raise WrongTypeError("topology.line_rate", raw_rate, expected)
        try:
            line_rate = rate(raw_rate).name
        except FieldError:
            raise OutOfRangeError("topology.line_rate", raw_rate, expected + " (or an alias: OC3, STM-1, ...)",
                                  suggest(raw_rate, m.LINE_RATES)) from None
        architecture = _choice(t, "architecture", "topology", m.ARCHITECTURES, "oq")
        buffers = _int(t, "buffer_cells", "topology", 1, m.MAX_BUFFER_CELLS, 4096, "cells of fabric memory")
        return m.Topology(ports, line_rate, architecture, buffers)

    # -- addresses

    def addresses(self, value: object, topology: m.Topology) -> m.AddressPlan:
        t = _table(value, "addresses", ADDRESSES_KEYS)
        raw_domain = _array(t, "domain", "addresses", "an array of address prefixes") if "domain" in t else None
        domain = tuple(m.Address.parse(p, _at("addresses.domain", i)) for i, p in enumerate(raw_domain or ()))
        first: dict[m.Address, int] = {}  # prefix -> where it was first listed: one pass, not a pair scan
        for i, d in enumerate(domain):
            j = first.setdefault(d, i)
            if j != i:
                raise ConsistencyError(_at("addresses.domain", i), str(d),
                                       f"a prefix not already listed (addresses.domain[{j}])")
        if "ports" not in t:
            if raw_domain is None:
                domain = (m.Address.parse(m.DEFAULT_DOMAIN, "addresses.domain"),)
            base = next((d for d in domain if d.plan == m.AESA and len(d.octets) <= m.AESA_OCTETS - 2), None)
            if base is None:
                raise MissingKeyError("addresses.ports", "the prefixes of each port (addresses.domain has no AESA "
                                      "prefix of at most 18 octets to number the ports from)")
            return m.AddressPlan(domain, m.uniform_plan(topology.ports, base).ports)
        entries = _array(t, "ports", "addresses", "an array of {port, prefixes} tables")
        seen_port: dict[int, int] = {}
        seen_prefix: dict[m.Address, str] = {}
        out = []
        for i, entry in enumerate(entries):
            path = _at("addresses.ports", i)
            e = _table(entry, path, PORT_ADDRESS_KEYS, "a table {port = N, prefixes = [...]}")
            port = _int(e, "port", path, 0, topology.ports - 1, what="a port of the switch")
            if port in seen_port:
                raise ConsistencyError(f"{path}.port", port,
                                       f"a port not listed before (addresses.ports[{seen_port[port]}] has it)")
            seen_port[port] = i
            raw = _array(e, "prefixes", path, "an array of address prefixes")
            if not raw:
                raise OutOfRangeError(f"{path}.prefixes", raw, "at least one prefix (leave the port out to "
                                      "give it none)")
            prefixes = []
            for k, p in enumerate(raw):
                ppath = _at(f"{path}.prefixes", k)
                prefix = m.Address.parse(p, ppath)
                if prefix in seen_prefix:
                    raise ConsistencyError(ppath, p, f"a prefix no other entry has ({seen_prefix[prefix]} has it)")
                seen_prefix[prefix] = ppath
                prefixes.append(prefix)
            out.append(m.PortAddresses(port, tuple(prefixes)))
        return m.AddressPlan(domain, tuple(out))

    # -- the root and the leaves

    def _endpoint_address(self, t: dict, path: str, port: int, plan: m.AddressPlan, who: str) -> m.Address | None:
        if "address" in t:
            address = m.Address.parse(t["address"], f"{path}.address", full=True)
            routed = plan.port_of(address)
            if routed != port:
                where = "no port serves it" if routed is None else f"the plan routes it to port {routed}"
                raise ConsistencyError(f"{path}.address", t["address"],
                                       f"an address under a prefix of port {port}, where {who} is ({where})")
            return address
        if plan.host_address(port) is None:
            raise ConsistencyError(f"{path}.port", port, f"a port that serves a prefix in addresses.ports (port "
                                   f"{port} serves none, so {who} has no address)")
        return None

    def root(self, value: object, topology: m.Topology, plan: m.AddressPlan) -> m.Root:
        t = _table(value, "root", ROOT_KEYS)
        port = _int(t, "port", "root", 0, topology.ports - 1, 0, "a port of the switch")
        return m.Root(port, self._endpoint_address(t, "root", port, plan, "the root"))

    def leaves(self, entries: list, topology: m.Topology, plan: m.AddressPlan, root: m.Root) -> tuple[m.Leaf, ...]:
        out: list[m.Leaf] = []
        seen: dict[int, int] = {}
        for i, entry in enumerate(entries):
            path = _at("leaves", i)
            t = _table(entry, path, LEAF_KEYS, "a table {port = N, behaviour = ...}")
            port = _int(t, "port", path, 0, topology.ports - 1, what="the port the leaf is on")
            if port == root.port:
                raise ConsistencyError(f"{path}.port", port, f"a port other than the root's (root.port = {root.port})")
            if port in seen:
                raise ConsistencyError(f"{path}.port", port, f"a port no other leaf is on (leaves[{seen[port]}] is "
                                       f"on port {port})")
            seen[port] = i
            behaviour = _choice(t, "behaviour", path, m.BEHAVIOURS, m.ACCEPT)
            params: dict[str, Any] = {}
            for key, (owner, default) in LEAF_PARAMETERS.items():
                if behaviour != owner:
                    if key in t:
                        raise ConsistencyError(_key(path, key), t[key], f"no {key} with behaviour {behaviour!r} "
                                               f"(it is a parameter of {owner!r})")
                    params[key] = None
                elif key == "cause":
                    params[key] = _int(t, key, path, 1, 127, default, "a Q.850 cause value, 21 = call rejected")
                else:
                    params[key] = _number(t, key, path, 0, MAX_MS, _MISSING if default is None else default,
                                          what="a time in milliseconds")
            address = self._endpoint_address(t, path, port, plan, "the leaf")
            out.append(m.Leaf(port, behaviour, params["alert_delay_ms"], params["cause"], params["after_ms"], address))
        return tuple(out)

    # -- the script

    def script(self, entries: list, topology: m.Topology, leaves: tuple[m.Leaf, ...]) -> tuple[m.Step, ...]:
        steps = tuple(self._step(entry, _at("script", i), topology) for i, entry in enumerate(entries))
        _check_script(steps, leaves)
        return steps

    def _step(self, entry: object, path: str, topology: m.Topology) -> m.Step:
        expected = "a table with one step: " + ", ".join(m.STEP_KEYS)
        if not isinstance(entry, dict):
            raise WrongTypeError(path, entry, expected)
        for k in entry:
            if k not in m.STEP_KEYS:
                raise UnknownKeyError(_key(path, k), k, m.STEP_KEYS, suggest(k, m.STEP_KEYS), "step")
        if len(entry) != 1:
            got = "an empty table" if not entry else "several: " + ", ".join(entry) + "; write each as its own entry"
            raise OutOfRangeError(path, list(entry), f"exactly one step of {', '.join(m.STEP_KEYS)} (got {got})")
        ((kind, value),) = entry.items()
        spath = _key(path, kind)
        if kind == "wait_ms":
            return m.Wait(_number(entry, kind, path, 0, MAX_MS, what="a time in milliseconds"))
        t = _table(value, spath, STEP_FIELDS[kind], "a table " + {
            "make_call": "{leaf = N, pcr = CELLS_PER_S}", "add_party": "{leaf = N}", "drop_party": "{leaf = N}",
            "send_frames": "{count = N, size = OCTETS, spacing_us = US}", "close_call": "{}"}[kind])
        if kind == "close_call":
            return m.CloseCall()
        if kind == "send_frames":
            return m.SendFrames(_int(t, "count", spath, 1, MAX_FRAMES, what="frames"),
                                _int(t, "size", spath, 1, m.MAX_SDU, what="octets of AAL5 SDU"),
                                _number(t, "spacing_us", spath, 0, MAX_US, 0, what="a time in microseconds"))
        leaf = _int(t, "leaf", spath, 0, m.MAX_PORTS - 1, what="the port of a leaf")
        if kind == "make_call":
            max_pcr = min(m.MAX_PCR, topology.rate.cells_per_second)
            pcr = _int(t, "pcr", spath, 1, max_pcr, what=f"peak cell rate, cells/s; {topology.line_rate} carries "
                       f"{topology.rate.cells_per_second}")
            sdu = _int(t, "aal5_max_sdu", spath, 1, m.MAX_SDU, m.DEFAULT_SDU, "octets")
            return m.MakeCall(leaf, pcr, sdu)
        return m.AddParty(leaf) if kind == "add_party" else m.DropParty(leaf)

    # -- traffic, faults, timers, capture

    def traffic(self, value: object) -> m.Traffic:
        t = _table(value, "traffic", TRAFFIC_KEYS)
        model = _choice(t, "model", "traffic", m.TRAFFIC_MODELS, "none")
        load = _number(t, "load", "traffic", 0, 1, 0.0, what="a load (cells per input port per cell slot)")
        if model == "none" and load != 0:
            raise ConsistencyError("traffic.load", load, "0 with traffic.model 'none' (choose a model: "
                                   + ", ".join(m.TRAFFIC_MODELS[1:]) + ")")
        return m.Traffic(model, load)

    def faults(self, value: object, leaves: tuple[m.Leaf, ...]) -> tuple[m.LinkFault, ...]:
        links = m.LINK_KINDS + tuple(f"leaf{leaf.port}" for leaf in sorted(leaves, key=lambda x: x.port))
        if not isinstance(value, dict):
            raise WrongTypeError("faults", value, "a table of links: [faults.signalling], [faults.leaf3], ...")
        out = []
        for link, raw in value.items():
            path = _key("faults", link)
            if link not in links:
                ports = sorted(leaf.port for leaf in leaves)
                shown = "one of " + ", ".join(m.LINK_KINDS) + (f", or leafN with N the port of a leaf: {_ranges(ports)}"
                                                               if ports else "")
                raise UnknownKeyError(path, link, links, suggest(link, links), "link", shown)
            t = _table(raw, path, FAULT_KEYS)
            ber = _number(t, "ber", path, 0, MAX_BER, 0.0, what="a bit error ratio")
            loss = _number(t, "cell_loss", path, 0, 1, 0.0, what="a probability")
            bursts = []
            for i, b in enumerate(_array(t, "bursts", path, "an array of {at_ms, cells} tables", [])):
                bpath = _at(f"{path}.bursts", i)
                bt = _table(b, bpath, BURST_KEYS, "a table {at_ms = MS, cells = N}")
                bursts.append(m.LossBurst(_number(bt, "at_ms", bpath, 0, MAX_MS, what="a time in milliseconds"),
                                          _int(bt, "cells", bpath, 1, MAX_BURST_CELLS, what="cells lost in a row")))
            windows: list[m.DownWindow] = []
            for i, w in enumerate(_array(t, "down", path, "an array of {down_ms, up_ms} tables", [])):
                wpath = _at(f"{path}.down", i)
                wt = _table(w, wpath, DOWN_KEYS, "a table {down_ms = MS, up_ms = MS}")
                down = _number(wt, "down_ms", wpath, 0, MAX_MS, what="a time in milliseconds")
                if windows:
                    before = windows[-1]
                    if before.up_ms is None:
                        raise ConsistencyError(wpath, w, f"no window after {path}.down[{i - 1}], which has no "
                                               "up_ms (the link stays down)")
                    if not down > before.up_ms:
                        raise ConsistencyError(f"{wpath}.down_ms", down, f"a time after {path}.down[{i - 1}].up_ms "
                                               f"= {_num_text(before.up_ms)} (windows in order, not overlapping)")
                up = None
                if "up_ms" in wt:
                    up = _number(wt, "up_ms", wpath, down, MAX_MS, lo_open=True,
                                 what="a time in milliseconds after down_ms")
                windows.append(m.DownWindow(down, up))
            out.append(m.LinkFault(link, ber, loss, tuple(bursts), tuple(windows)))
        return tuple(out)

    def timers(self, value: object) -> m.Timers:
        t = _table(value, "timers", TIMER_KEYS)
        uni = {name: _number(t, name, "timers", 0, MAX_TIMER_S, None, lo_open=True, what="a duration in seconds")
               for name in m.UNI_TIMERS}
        s = _table(t.get("sscop", {}), "timers.sscop", m.SSCOP_TIMERS)
        sscop = {name: _number(s, name, "timers.sscop", 0, MAX_TIMER_S, None, lo_open=True,
                               what="a duration in seconds")
                 for name in m.SSCOP_TIMERS}
        return m.Timers(**uni, sscop=m.SscopTimers(**sscop))

    def capture(self, value: object) -> m.Capture:
        t = _table(value, "capture", CAPTURE_KEYS)
        signalling = _bool(t, "signalling", "capture", True)
        cells = _bool(t, "cells", "capture", False)
        vcs: list[tuple[int, int]] = []
        seen: dict[tuple[int, int], int] = {}  # VC -> its index, for the duplicate check
        for i, raw in enumerate(_array(t, "vcs", "capture", 'an array of "VPI/VCI" strings', [])):
            vcs.append(_vc(raw, _at("capture.vcs", i), seen))
            seen.setdefault(vcs[-1], i)
        max_cells = _int(t, "max_cells", "capture", 1, MAX_CAPTURE_CELLS, 1_000_000, "cells recorded at most")
        pcap = _bool(t, "pcap", "capture", False)
        return m.Capture(signalling, cells, tuple(vcs), max_cells, pcap)


def _vc(raw: object, path: str, before: dict[tuple[int, int], int]) -> tuple[int, int]:
    """One VC of capture.vcs; ``before``: the VCs listed so far, each with its index."""
    expected = f'"VPI/VCI" with VPI 0..{m.MAX_VPI} and VCI 0..{m.MAX_VCI} (UNI cell header, I.361)'
    if not isinstance(raw, str):
        raise WrongTypeError(path, raw, expected)
    vpi, sep, vci = raw.strip().partition("/")
    vpi, vci = vpi.strip(), vci.strip()
    if not (sep and vpi.isascii() and vpi.isdigit() and vci.isascii() and vci.isdigit() and len(vpi) <= 5
            and len(vci) <= 5 and int(vpi) <= m.MAX_VPI and int(vci) <= m.MAX_VCI):
        raise OutOfRangeError(path, raw, expected)
    vc = (int(vpi), int(vci))
    if vc in before:
        raise ConsistencyError(path, raw, f"a VC not already listed (capture.vcs[{before[vc]}])")
    return vc


# ---- the script's order -----------------------------------------------------------------------------


def _check_script(steps: tuple[m.Step, ...], leaves: tuple[m.Leaf, ...]) -> None:
    """Every leaf a step names exists; steps come in an order a client can follow: one call at a time,
    make_call before anything on the call, a party added once (unless it leaves by itself) and dropped
    only while it is one, send_frames within the call's maximum SDU."""
    by_port = {leaf.port: leaf for leaf in leaves}
    known = (f"leaves are on port{'s' if len(by_port) > 1 else ''} {_ranges(list(by_port))}" if by_port
             else "there are no leaves: list them in leaves")
    call: int | None = None  # index of the make_call of the open call
    sdu = 0
    parties: dict[int, int] = {}  # leaf -> index of the step that made it a party
    # a leaf that rejects, stays silent or drops itself may be added again without being dropped
    leave_by_themselves = (m.REJECT, m.SILENT, m.DROP_AFTER)
    for i, step in enumerate(steps):
        path = f"script[{i}].{step.KEY}"
        leaf_port = getattr(step, "leaf", None)
        if leaf_port is not None and leaf_port not in by_port:
            raise ConsistencyError(f"{path}.leaf", leaf_port, f"the port of a leaf ({known})")
        if isinstance(step, m.Wait):
            continue
        if isinstance(step, m.MakeCall):
            if call is not None:
                raise ScriptOrderError(path, None, f"no call open: script[{call}] made one that is not closed "
                                       "(one call at a time; add close_call before)", i)
            call, sdu, parties = i, step.aal5_max_sdu, {step.leaf: i}
            continue
        if call is None:
            raise ScriptOrderError(path, None, "a make_call before it (no call is open here)", i)
        if isinstance(step, m.AddParty):
            leaf = by_port[step.leaf]
            if step.leaf in parties and leaf.behaviour not in leave_by_themselves:
                raise ScriptOrderError(f"{path}.leaf", step.leaf, f"a leaf that is not a party already (script["
                                       f"{parties[step.leaf]}] made leaf {step.leaf} one, and with behaviour "
                                       f"{leaf.behaviour!r} it stays one: drop_party it first)", i)
            parties[step.leaf] = i
        elif isinstance(step, m.DropParty):
            if by_port[step.leaf].behaviour == m.REJECT:
                raise ScriptOrderError(f"{path}.leaf", step.leaf, f"a party of the call (leaf {step.leaf} rejects, "
                                       "so it never becomes one)", i)
            if step.leaf not in parties:
                raise ScriptOrderError(f"{path}.leaf", step.leaf, f"a party of the call (leaf {step.leaf} was not "
                                       f"added since script[{call}]'s make_call, or was dropped since)", i)
            del parties[step.leaf]
        elif isinstance(step, m.SendFrames):
            if step.size > sdu:
                raise ConsistencyError(f"{path}.size", step.size, f"at most the call's aal5_max_sdu, {sdu} octets "
                                       f"(script[{call}].make_call)")
        elif isinstance(step, m.CloseCall):
            call, parties = None, {}

