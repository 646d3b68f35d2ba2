"""Fuzzing the scenario loader (tools/scenario/load.py): TOML text in, a checked Scenario or a
ScenarioError out (syntax errors with line and column, key errors naming the dotted path).

Beyond random octets and mutated seed texts (fuzzkit), structure-aware mutations of valid scenarios:
the TOML is parsed, then keys are removed, renamed (a typo, another section's key, an unknown one),
values retyped (a string for a number, a table for an array, a date, a one-element array...), set out
of range (the loader's limits +- 1, negative, 2**64, nan and infinities, empty and overlong strings,
control characters), array entries repeated (a duplicate port), and whole sections swapped between
two scenarios; the tree is written back as TOML. Oracle (targets.py): only ScenarioError, its message
starting with the source name; what loads dumps back and loads to the same scenario."""

from __future__ import annotations

import copy
import datetime as dt
import math
import sys
import tomllib
from functools import cache

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tools.scenario  # noqa: F401 - the package: its ``load`` is the function, the module is in sys.modules
from fuzzkit import FUZZ, mutated, run, seeds, targets

loader = sys.modules["tools.scenario.load"]

SCENARIO = targets("scenario.toml")[0]


@pytest.mark.fuzz
@FUZZ
@given(data=st.one_of(st.binary(max_size=400), st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass")),
                      st.text(alphabet='[]{}=",.\n #\'abeilmnoprstuvy0123456789_-+:', max_size=400).map(str.encode)))
def test_random_text(data):
    run(SCENARIO, data)


@pytest.mark.fuzz
@FUZZ
@given(data=mutated(seeds(SCENARIO)))
def test_mutated_seed_texts(data):
    run(SCENARIO, data)


# ----------------------------------------------------------------------------- a small TOML writer

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_str(text: str) -> str:
    """A TOML basic string (TOML 1.0, "Strings": control characters escaped)."""
    out = []
    for c in text:
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04X}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return toml_str(v)
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{toml_str(k)} = {toml_value(x)}" for k, x in v.items()) + "}"


def toml_text(tree: dict) -> bytes:
    return "\n".join(f"{toml_str(k)} = {toml_value(v)}" for k, v in tree.items()).encode("utf-8", "surrogatepass")


# -------------------------------------------------------------------------------- tree mutations

#: Every key the format has, from the loader's own tables: a renamed key may land on a real one.
KNOWN_KEYS = sorted({*loader.TOP_KEYS, *loader.TOPOLOGY_KEYS, *loader.ADDRESSES_KEYS, *loader.PORT_ADDRESS_KEYS,
                     *loader.ROOT_KEYS, *loader.LEAF_KEYS, *loader.TRAFFIC_KEYS, *loader.FAULT_KEYS,
                     *loader.BURST_KEYS, *loader.DOWN_KEYS, *loader.TIMER_KEYS, *loader.CAPTURE_KEYS,
                     *loader.STEP_FIELDS, *(k for keys in loader.STEP_FIELDS.values() for k in keys),
                     "wait_ms", "leaf1", "leaf300", "cc", "poll", "idle"})
#: Numbers at and around the loader's limits.
EDGE_NUMBERS = (0, 1, -1, 2, 255, 256, 65535, 65536, (1 << 24) - 1, 1 << 24, (1 << 63) - 1, -(1 << 63),
                loader.MAX_MS, loader.MAX_MS + 1, loader.MAX_FRAMES + 1, loader.MAX_BER, 0.1000001, 1e-300, 5e-324,
                1e308, -0.0, 0.5, math.nan, math.inf, -math.inf)
EDGE_STRINGS = ("", " ", "\n", "a" * (loader.MAX_NAME + 1), "x" * (loader.MAX_DESCRIPTION + 1), "\u0000", "\u202e",
                "accept ", "ACCEPT", "OC3", "oc-3c", "STM-16", "0/5", "256/0", "0/65536", "+", "+49 30", "39.840f.",
                "39.840f.80.113744.0000.0000.0000.000000000001.00.00", "leaf01", "é")
VALUE = st.one_of(st.sampled_from(EDGE_NUMBERS), st.sampled_from(EDGE_STRINGS), st.booleans(),
                  st.integers(), st.floats(), st.text(max_size=12),
                  st.just(dt.datetime(1979, 5, 27, 7, 32)), st.just(dt.date(2026, 1, 1)), st.just([]), st.just({}))


def _walk(draw, tree):
    """(container, key) of a random place in the tree (never the root itself)."""
    node, key = tree, None
    while True:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            return node, key
        key = draw(st.sampled_from(keys))
        child = node[key]
        if not isinstance(child, (dict, list)) or not child or draw(st.integers(0, 2)) == 0:
            return node, key
        node = child


def _typo(draw, key: str) -> str:
    if not key:
        return "x"
    i = draw(st.integers(0, len(key) - 1))
    op = draw(st.sampled_from(("swap", "drop", "double", "case", "dash")))
    if op == "swap" and i + 1 < len(key):
        return key[:i] + key[i + 1] + key[i] + key[i + 2:]
    if op == "drop":
        return key[:i] + key[i + 1:]
    if op == "double":
        return key[:i] + key[i] + key[i:]
    if op == "case":
        return key.swapcase()
    return key.replace("_", "-") if "_" in key else key + "_"


def _retype(draw, value):
    if isinstance(value, bool):
        return draw(st.sampled_from(("true", 1, [value])))
    if isinstance(value, (int, float)):
        return draw(st.sampled_from((str(value), float(value) if isinstance(value, int) else int(value)
                                     if math.isfinite(value) else 0, [value], {"value": value}, True)))
    if isinstance(value, str):
        return draw(st.sampled_from((len(value), [value], {value: value}, dt.date(2026, 1, 1))))
    if isinstance(value, list):
        return draw(st.sampled_from(({str(i): v for i, v in enumerate(value)}, value[0] if value else 0, "[]")))
    if isinstance(value, dict):
        return draw(st.sampled_from((list(value.values()), str(value)[:20], 0)))
    return draw(st.sampled_from((str(value), 0, [value])))  # a date or time


@cache
def _trees(texts: tuple[bytes, ...]) -> list[dict]:
    return [tomllib.loads(text.decode()) for text in texts]


@st.composite
def scenario_trees(draw, seeds):
    trees = _trees(tuple(seeds))
    tree = copy.deepcopy(draw(st.sampled_from(trees)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(("remove", "rename", "known_key", "retype", "edge", "value", "repeat",
                                   "section", "many")))
        if op == "section":  # a whole top-level section taken from another scenario
            other = draw(st.sampled_from(trees))
            key = draw(st.sampled_from(sorted(other)))
            tree[key] = copy.deepcopy(other[key])
            continue
        node, key = _walk(draw, tree)
        if key is None:
            continue
        if op == "remove":
            del node[key]
        elif op in ("rename", "known_key") and isinstance(node, dict):
            new = _typo(draw, key) if op == "rename" else draw(st.sampled_from(KNOWN_KEYS))
            node[new] = node.pop(key)
        elif op == "retype":
            node[key] = _retype(draw, node[key])
        elif op == "edge":
            node[key] = draw(st.sampled_from(EDGE_NUMBERS + EDGE_STRINGS))
        elif op == "value":
            node[key] = draw(VALUE)
        elif op == "repeat" and isinstance(node, list):
            node.insert(key, copy.deepcopy(node[key]))
        elif op == "many" and isinstance(node, list) and node:  # a long array of one entry repeated
            node.extend(copy.deepcopy(node[key]) for _ in range(draw(st.sampled_from((10, 300)))))
    return toml_text(tree)


@pytest.mark.fuzz
@FUZZ
@given(data=scenario_trees(seeds(SCENARIO)))
def test_scenarios_mutated_key_by_key(data):
    run(SCENARIO, data)
