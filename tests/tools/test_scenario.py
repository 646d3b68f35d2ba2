"""Scenario files (tools/scenario): the default loads and round-trips, every error names its key path and
says what was expected, and no input, however broken, raises anything but a typed ScenarioError."""

from __future__ import annotations

import copy
import dataclasses
import math
import os
import tomllib
from importlib import resources

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from hw.errors import AtmemuError, DecodeError, FieldError
from tools.scenario import (
    Address,
    AddParty,
    CloseCall,
    ConsistencyError,
    DropParty,
    Leaf,
    LinkFault,
    MakeCall,
    MissingKeyError,
    OutOfRangeError,
    Scenario,
    ScenarioError,
    ScenarioFileError,
    ScenarioSyntaxError,
    ScriptOrderError,
    SendFrames,
    UnknownKeyError,
    Wait,
    WrongTypeError,
    check,
    default_scenario,
    default_text,
    dump,
    load,
    loads,
)
from tools.scenario import model as m
from tools.scenario.dump import _str as toml_string

FUZZ_EXAMPLES = int(os.environ.get("ATMEMU_FUZZ_EXAMPLES", "300"))

# a small valid scenario the error cases below break one key at a time
MINIMAL = """\
leaves = [{ port = 1 }, { port = 2, behaviour = "reject" }, { port = 3 }]
script = [
  { make_call = { leaf = 1, pcr = 1000 } },
  { add_party = { leaf = 2 } },
  { add_party = { leaf = 3 } },
  { send_frames = { count = 10, size = 100 } },
  { drop_party = { leaf = 3 } },
  { close_call = {} },
]
"""


def error_of(text: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        loads(text, source="t.toml")
    return info.value


# ---- the default scenario -----------------------------------------------------------------------------


def test_default_is_the_end_to_end_call_of_issue_5():
    s = default_scenario()
    assert (s.topology.ports, s.topology.line_rate, s.root.port) == (16, "OC-3c", 0)
    assert s.leaf_ports == tuple(range(1, 16))
    behaviours = [leaf.behaviour for leaf in s.leaves]
    assert behaviours.count("accept") == 11
    assert [leaf.cause for leaf in s.leaves if leaf.behaviour == "reject"] == [21]
    assert behaviours.count("silent") == behaviours.count("alert-then-accept") == behaviours.count("drop-after") == 1
    first, *rest = s.script
    assert first == MakeCall(leaf=1, pcr=first.pcr, aal5_max_sdu=9188)
    assert sorted(step.leaf for step in rest if isinstance(step, AddParty)) == list(range(2, 16))  # 14 parties
    assert any(isinstance(step, SendFrames) for step in s.script)
    assert any(isinstance(step, DropParty) for step in s.script)
    assert s.script[-1] == CloseCall()
    # the silent leaf is seen through the root's T399: it must expire before the switch gives up on the
    # leaf after its two T303 expiries (Q.2931 5.1.1), and within the script's run
    assert s.timers.uni("T399") < 2 * s.timers.uni("T303")
    assert sum(step.ms for step in s.script if isinstance(step, Wait)) > 1000 * s.timers.uni("T399")
    # every party the script adds is dropped by the script, leaves by itself, never joins, or goes with
    # the close (exactly one: NdisClCloseCall takes the last party)
    dropped = {step.leaf for step in s.script if isinstance(step, DropParty)}
    by_themselves = {leaf.port for leaf in s.leaves if leaf.behaviour in ("reject", "silent", "drop-after")}
    assert len(set(range(1, 16)) - dropped - by_themselves) == 1


def test_default_round_trips_and_the_shipped_file_is_what_dump_writes():
    s = default_scenario()
    assert loads(dump(s)) == s
    assert dump(s) == default_text()  # `--print-default` and the file never differ
    assert resources.files("tools.scenario").joinpath("default.toml").is_file()  # package data
    assert check(s) == s


def test_default_addresses_route_to_their_ports():
    s = default_scenario()
    assert str(s.root_address) == "39.840f.80.113744.0000.0000.0000.000000000001.00"
    assert s.addresses.port_of(s.root_address) == 0
    for port in s.leaf_ports:
        assert s.addresses.port_of(s.leaf_address(port)) == port
    assert str(s.leaf_address(10)) == "39.840f.80.113744.0000.0000.000a.000000000001.00"


def test_minimal_file_gets_the_documented_defaults():
    s = loads(MINIMAL)
    assert s.name == "scenario" and s.topology == m.Topology(16, "OC-3c", "oq", 4096)
    assert len(s.addresses.ports) == 16 and str(s.addresses.domain[0]) == m.DEFAULT_DOMAIN
    assert s.leaf(2).cause == 21 and s.leaf(1).cause is None
    assert s.script[3] == SendFrames(10, 100, 0) and s.script[0].aal5_max_sdu == 9188
    assert s.timers == m.Timers() and s.timers.uni("T303") == 4.0 and s.timers.sscop_value("poll") == 0.75
    assert s.capture == m.Capture() and s.traffic == m.Traffic() and s.faults == ()
    assert loads(dump(s)) == s


def test_a_full_scenario_round_trips():
    text = MINIMAL + r"""
name = "everything"
description = "two\nlines \"quoted\" \\ and a tab\t, \u007f and \r\n"
seed = 18446744073709551615
[topology]
ports = 8
line_rate = "stm-4c"
architecture = "voq-islip"
buffer_cells = 100
[root]
port = 0
address = "+4930000"
[addresses]
domain = ["47.0005", "+49"]
ports = [
  { port = 0, prefixes = ["+4930", "47.0005.80"] },
  { port = 1, prefixes = ["47.0005.81"] },
  { port = 2, prefixes = ["+4931"] },
  { port = 3, prefixes = ["47.0005.83", "47.0005.83.ff"] },
]
[traffic]
model = "bursty"
load = 0.25
[faults.signalling]
ber = 1e-7
cell_loss = 1e-5
[faults.leaf3]
bursts = [{ at_ms = 10, cells = 5 }, { at_ms = 1.5, cells = 1 }]
down = [{ down_ms = 100, up_ms = 200.5 }, { down_ms = 300 }]
[timers]
T303 = 1
T398 = 0.25
[timers.sscop]
poll = 0.1
[capture]
cells = true
vcs = ["0/5", " 1 / 32 "]
max_cells = 10
pcap = true
"""
    s = loads(text)
    assert s.description == 'two\nlines "quoted" \\ and a tab\t, \x7f and \r\n'
    assert s.topology.line_rate == "OC-12c"  # an alias of hw.rates, named canonically
    assert s.root.address == Address("e164", digits="4930000")
    assert s.leaf_address(2) == Address("e164", digits="4931")
    assert s.faults[1] == LinkFault("leaf3", 0.0, 0.0, (m.LossBurst(10, 5), m.LossBurst(1.5, 1)),
                                    (m.DownWindow(100, 200.5), m.DownWindow(300, None)))
    assert s.capture.vcs == ((0, 5), (1, 32))
    assert s.timers.T303 == 1 and s.timers.sscop.poll == 0.1 and s.timers.T399 is None
    assert loads(dump(s)) == s
    assert dump(loads(dump(s))) == dump(s)


def test_load_reads_a_file_and_names_it_in_errors(tmp_path):
    good = tmp_path / "my-run.toml"
    good.write_text(MINIMAL, encoding="utf-8")
    assert load(good).name == "my-run"
    assert load(str(good)) == load(good)
    bad = tmp_path / "broken.toml"
    bad.write_text(MINIMAL + "[topology]\nports = 1\n", encoding="utf-8")
    with pytest.raises(OutOfRangeError) as info:
        load(bad)
    assert str(info.value).startswith(f"{bad}: topology.ports=1: expected an integer in 2..256")
    with pytest.raises(ScenarioFileError, match="no such file"):
        load(tmp_path / "missing.toml")
    with pytest.raises(ScenarioFileError, match="directory"):
        load(tmp_path)
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'name = "caf\xe9"\n')
    with pytest.raises(ScenarioSyntaxError, match="not UTF-8"):
        load(latin)
    bom = tmp_path / "bom.toml"
    bom.write_bytes(b"\xef\xbb\xbf" + MINIMAL.encode())
    assert load(bom).leaf_ports == (1, 2, 3)


# ---- every kind of error names its key path -----------------------------------------------------------

CASES = [
    # (text, error type, key path, a piece of the message)
    ("[toplogy]\nports = 4", UnknownKeyError, "toplogy", "did you mean 'topology'?"),
    ("[topology]\nline_rat = 'OC-3c'", UnknownKeyError, "topology.line_rat", "did you mean 'line_rate'?"),
    ("leaves = [{ port = 1, behavior = 'reject' }]", UnknownKeyError, "leaves[0].behavior",
     "did you mean 'behaviour'?"),
    ("[timers]\nt399 = 3", UnknownKeyError, "timers.t399", "did you mean 'T399'?"),
    ("[timers.sscop]\npol = 1", UnknownKeyError, "timers.sscop.pol", "did you mean 'poll'?"),
    ("script = [{ add_pary = { leaf = 1 } }]", UnknownKeyError, "script[0].add_pary", "did you mean 'add_party'?"),
    ("leaves = [{ port = 1 }]\nscript = [{ make_call = { leaf = 1, pcr = 9, sdu = 3 } }]", UnknownKeyError,
     "script[0].make_call.sdu", "expected one of leaf, pcr, aal5_max_sdu"),
    ("leaves = [{ port = 2 }]\n[faults.leaf3]\nber = 1e-5", UnknownKeyError, "faults.leaf3",
     "did you mean 'leaf2'?"),
    ("[faults.signaling]\nber = 1e-5", UnknownKeyError, "faults.signaling", "did you mean 'signalling'?"),
    ("leaves = [{ behaviour = 'accept' }]", MissingKeyError, "leaves[0].port", "missing"),
    ("leaves = [{ port = 1, behaviour = 'drop-after' }]", MissingKeyError, "leaves[0].after_ms", "milliseconds"),
    ("leaves = [{ port = 1 }]\nscript = [{ make_call = { leaf = 1 } }]", MissingKeyError,
     "script[0].make_call.pcr", "peak cell rate"),
    ("[topology]\nports = '16'", WrongTypeError, "topology.ports", "got a string"),
    ("[topology]\nports = 16.0", WrongTypeError, "topology.ports", "got a float"),
    ("[capture]\ncells = 1", WrongTypeError, "capture.cells", "true or false"),
    ("seed = true", WrongTypeError, "seed", "got a boolean"),
    ("name = 1979-05-27", WrongTypeError, "name", "got a date"),
    ("leaves = { port = 1 }", WrongTypeError, "leaves", "got a table"),
    ("script = [3]", WrongTypeError, "script[0]", "one step"),
    ("topology = 4", WrongTypeError, "topology", "a table"),
    ("[topology]\nports = 300", OutOfRangeError, "topology.ports", "2..256"),
    ("[topology]\nports = 1", OutOfRangeError, "topology.ports", "2..256"),
    ("[topology]\nline_rate = 'OC-5c'", OutOfRangeError, "topology.line_rate", "OC-3c, OC-12c"),
    ("[topology]\narchitecture = 'voq-slip'", OutOfRangeError, "topology.architecture",
     "did you mean 'voq-islip'?"),
    ("leaves = [{ port = 1, behaviour = 'rejct' }]", OutOfRangeError, "leaves[0].behaviour",
     "did you mean 'reject'?"),
    ("leaves = [{ port = 1, behaviour = 'reject', cause = 128 }]", OutOfRangeError, "leaves[0].cause", "1..127"),
    ("leaves = [{ port = 1, behaviour = 'reject', cause = 0 }]", OutOfRangeError, "leaves[0].cause", "1..127"),
    ("leaves = [{ port = 16 }]", OutOfRangeError, "leaves[0].port", "0..15"),
    ("[timers]\nT303 = 0", OutOfRangeError, "timers.T303", "> 0"),
    ("[timers]\nT310 = -1.5", OutOfRangeError, "timers.T310", "> 0"),
    ("[timers]\nT308 = nan", OutOfRangeError, "timers.T308", "> 0"),
    ("[timers.sscop]\ncc = inf", OutOfRangeError, "timers.sscop.cc", "<= 86400"),
    ("[faults.data]\nber = 0.5", OutOfRangeError, "faults.data.ber", "bit error ratio in 0..0.1"),
    ("[faults.root]\ncell_loss = 1.01", OutOfRangeError, "faults.root.cell_loss", "probability in 0..1"),
    ("[faults.root]\ndown = [{ down_ms = 5, up_ms = 5 }]", OutOfRangeError, "faults.root.down[0].up_ms", "> 5"),
    ("[capture]\nvcs = ['0/5', '256/1']", OutOfRangeError, "capture.vcs[1]", "VPI 0..255"),
    ("[capture]\nmax_cells = 0", OutOfRangeError, "capture.max_cells", "1..1000000000"),
    ("[traffic]\nmodel = 'poisson'", OutOfRangeError, "traffic.model", "uniform"),
    ("[addresses]\nports = [{ port = 0, prefixes = ['39.84xf'] }]", OutOfRangeError,
     "addresses.ports[0].prefixes[0]", "AESA in hex"),
    ("[addresses]\nports = [{ port = 0, prefixes = ['39.840'] }]", OutOfRangeError,
     "addresses.ports[0].prefixes[0]", "even number of hex digits"),
    ("[addresses]\nports = [{ port = 0, prefixes = ['" + "00" * 21 + "'] }]", OutOfRangeError,
     "addresses.ports[0].prefixes[0]", "at most 20 octets"),
    ("[addresses]\nports = [{ port = 0, prefixes = ['+1234567890123456'] }]", OutOfRangeError,
     "addresses.ports[0].prefixes[0]", "1..15 decimal digits"),
    ("[addresses]\nports = [{ port = 0, prefixes = [] }]", OutOfRangeError, "addresses.ports[0].prefixes",
     "at least one prefix"),
    ("[root]\naddress = '39.840f.80.113744.0000.0000.0000'", OutOfRangeError, "root.address", "20 octets"),
    ("leaves = [{ port = 1 }]\nscript = [{ make_call = { leaf = 1, pcr = 353209 } }]", OutOfRangeError,
     "script[0].make_call.pcr", "1..353208"),
    ("leaves = [{ port = 1 }]\nscript = [{ make_call = { leaf = 1, pcr = 5 } }, { wait_ms = -1 }]",
     OutOfRangeError, "script[1].wait_ms", "0..86400000"),
    ("leaves = [{ port = 1 }]\nscript = [{ wait_ms = 1, close_call = {} }]", OutOfRangeError, "script[0]",
     "exactly one step"),
    ("leaves = [{ port = 1 }]\nscript = [{}]", OutOfRangeError, "script[0]", "an empty table"),
    ("name = ''", OutOfRangeError, "name", "not blank"),
    ("leaves = [{ port = 1 }, { port = 2 }, { port = 1 }]", ConsistencyError, "leaves[2].port",
     "leaves[0] is on port 1"),
    ("leaves = [{ port = 0 }]", ConsistencyError, "leaves[0].port", "other than the root's"),
    ("[addresses]\nports = [{ port = 1, prefixes = ['47'] }, { port = 1, prefixes = ['48'] }]", ConsistencyError,
     "addresses.ports[1].port", "addresses.ports[0]"),
    ("[addresses]\nports = [{ port = 0, prefixes = ['47'] }, { port = 1, prefixes = ['47.00', '47'] }]",
     ConsistencyError, "addresses.ports[1].prefixes[1]", "addresses.ports[0].prefixes[0] has it"),
    ("leaves = [{ port = 1, cause = 3 }]", ConsistencyError, "leaves[0].cause", "parameter of 'reject'"),
    ("root = { address = '39.840f.80.113744.0000.0000.0003.000000000001.00' }", ConsistencyError, "root.address",
     "routes it to port 3"),
    ("leaves = [{ port = 2 }]\n[addresses]\nports = [{ port = 0, prefixes = ['39'] }]", ConsistencyError,
     "leaves[0].port", "port 2 serves none"),
    ("leaves = [{ port = 1 }]\nscript = [{ make_call = { leaf = 1, pcr = 9 } }, { add_party = { leaf = 20 } }]",
     ConsistencyError, "script[1].add_party.leaf", "leaves are on port 1"),
    ("leaves = [{ port = 1 }]\nscript = [{ make_call = { leaf = 7, pcr = 9 } }]",
     ConsistencyError, "script[0].make_call.leaf", "the port of a leaf"),
    ("leaves = [{ port = 1 }]\nscript = [{ make_call = { leaf = 1, pcr = 9, aal5_max_sdu = 100 } },"
     " { send_frames = { count = 1, size = 101 } }]", ConsistencyError, "script[1].send_frames.size", "100 octets"),
    ("[faults.root]\ndown = [{ down_ms = 5, up_ms = 10 }, { down_ms = 8 }]", ConsistencyError,
     "faults.root.down[1].down_ms", "not overlapping"),
    ("[faults.root]\ndown = [{ down_ms = 5 }, { down_ms = 8 }]", ConsistencyError, "faults.root.down[1]",
     "stays down"),
    ("[capture]\nvcs = ['0/5', '0/05']", ConsistencyError, "capture.vcs[1]", "capture.vcs[0]"),
    ("[traffic]\nload = 0.5", ConsistencyError, "traffic.load", "traffic.model 'none'"),
    ("leaves = [{ port = 1 }]\nscript = [{ wait_ms = 3 }, { add_party = { leaf = 1 } }]", ScriptOrderError,
     "script[1].add_party", "a make_call before it"),
    ("leaves = [{ port = 1 }]\nscript = [{ close_call = {} }]", ScriptOrderError, "script[0].close_call",
     "a make_call before it"),
    ("leaves = [{ port = 1 }]\nscript = [{ make_call = { leaf = 1, pcr = 9 } }, { make_call = { leaf = 1, pcr = 9 } }]",
     ScriptOrderError, "script[1].make_call", "one call at a time"),
    ("leaves = [{ port = 1 }, { port = 2 }]\nscript = [{ make_call = { leaf = 1, pcr = 9 } },"
     " { add_party = { leaf = 2 } }, { add_party = { leaf = 2 } }]", ScriptOrderError, "script[2].add_party.leaf",
     "not a party already"),
    ("leaves = [{ port = 1 }, { port = 2 }]\nscript = [{ make_call = { leaf = 1, pcr = 9 } },"
     " { drop_party = { leaf = 2 } }]", ScriptOrderError, "script[1].drop_party.leaf", "a party of the call"),
    ("leaves = [{ port = 1 }, { port = 2, behaviour = 'reject' }]\nscript = [{ make_call = { leaf = 1, pcr = 9 } },"
     " { add_party = { leaf = 2 } }, { drop_party = { leaf = 2 } }]", ScriptOrderError,
     "script[2].drop_party.leaf", "never becomes one"),
    ("leaves = [{ port = 1 }]\nscript = [{ make_call = { leaf = 1, pcr = 9 } }, { close_call = {} },"
     " { send_frames = { count = 1, size = 1 } }]", ScriptOrderError, "script[2].send_frames", "no call is open"),
]


@pytest.mark.parametrize(("text", "kind", "path", "fragment"), CASES, ids=[f"{c[1].__name__}-{c[2]}" for c in CASES])
def test_errors_name_the_key_path_and_what_was_expected(text, kind, path, fragment):
    error = error_of(text)
    assert type(error) is kind, str(error)
    assert isinstance(error, FieldError) and isinstance(error, AtmemuError)
    assert error.path == error.field == path
    message = str(error)
    assert message.startswith(f"t.toml: {path}") and fragment in message, message


def test_unknown_key_carries_its_suggestion_and_the_known_keys():
    error = error_of("[capture]\nsignaling = true")
    assert isinstance(error, UnknownKeyError)
    assert (error.key, error.suggestion) == ("signaling", "signalling")
    assert error.known == ("signalling", "cells", "vcs", "max_cells", "pcap")
    far = error_of("[capture]\nzzzzzz = true")
    assert far.suggestion is None and "did you mean" not in str(far)


def test_script_order_error_gives_the_step_index():
    error = error_of("leaves = [{ port = 1 }]\n"
                     "script = [{ wait_ms = 1 }, { wait_ms = 2 }, { drop_party = { leaf = 1 } }]")
    assert isinstance(error, ScriptOrderError) and error.step == 2


def test_unknown_keys_are_reported_before_the_values_they_would_explain():
    # "prot" is the typo; reporting "port missing" would hide it
    error = error_of("leaves = [{ prot = 1 }]")
    assert isinstance(error, UnknownKeyError) and error.suggestion == "port"


def test_syntax_errors_give_line_and_column():
    error = error_of('name = "x"\n[topology]\nports = = 16\n')
    assert isinstance(error, ScenarioSyntaxError) and isinstance(error, DecodeError)
    assert (error.line, error.column) == (3, 9)
    assert error.offset == len('name = "x"\n[topology]\n') + 8
    assert str(error).startswith("t.toml: line 3, column 9: TOML syntax error:")
    duplicate = error_of("[topology]\nports = 4\nports = 5\n")
    assert isinstance(duplicate, ScenarioSyntaxError) and duplicate.line == 3
    unterminated = error_of('name = "abc')
    assert isinstance(unterminated, ScenarioSyntaxError) and unterminated.line == 1


@pytest.mark.parametrize("text", ["a = " + "[" * 3000 + "]" * 3000, "seed = " + "9" * 5000, "#" * ((1 << 20) + 1)])
def test_hostile_text_gets_a_syntax_error(text):
    assert isinstance(error_of(text), ScenarioSyntaxError)


def test_keys_that_need_quotes_are_shown_quoted():
    error = error_of('"two words" = 1')
    assert error.path == '"two words"'


# ---- model helpers -----------------------------------------------------------------------------------------


def test_addresses_parse_print_and_route_on_the_longest_prefix():
    a = Address.parse("39840f80113744000000000003000000000001.00", "x", full=True)
    assert str(a) == "39.840f.80.113744.0000.0000.0003.000000000001.00"
    assert Address.parse(str(a), "x") == a
    plan = loads(MINIMAL + """
[addresses]
ports = [{ port = 0, prefixes = ["39"] }, { port = 1, prefixes = ["39.840f"] },
         { port = 2, prefixes = ["39.840f.80.1137"] }, { port = 3, prefixes = ["+49"] }]
""").addresses
    assert plan.port_of(a) == 2
    assert plan.port_of(Address.parse("39.840f.81" + "00" * 16, "x")) == 1
    assert plan.port_of(Address.parse("39.0f" + "00" * 18, "x")) == 0
    assert plan.port_of(Address.parse("47" + "00" * 19, "x")) is None
    assert plan.port_of(Address.parse("+4930", "x")) == 3
    assert plan.host_address(1) == Address.parse("39.840f" + "00" * 10 + "000000000001.00", "x")


def test_check_applies_the_file_rules_to_a_scenario_built_in_python():
    s = default_scenario()
    bad_cause = dataclasses.replace(s, leaves=(Leaf(1, "reject", cause=500),) + s.leaves[1:])
    with pytest.raises(OutOfRangeError) as info:
        check(bad_cause)
    assert info.value.path == "leaves[0].cause"
    early = dataclasses.replace(s, script=(AddParty(2),) + s.script)
    with pytest.raises(ScriptOrderError) as info:
        check(early)
    assert info.value.path == "script[0].add_party"


def test_model_constants_agree_with_the_layers_that_use_them():
    from firmware.sscop.machine import SSCOPParams
    from firmware.uni.machines.timers import Timers as UniTimers
    from hw.fabric.config import MAX_PORTS, Arch, FabricConfig
    from hw.fabric.traffic import KINDS
    from hw.rates import RATES

    uni = UniTimers()
    assert m.UNI_TIMER_DEFAULTS == {**{k: getattr(uni, k) for k in m.UNI_TIMERS if k != "T399"},
                                    "T399": uni.T399_user}
    sscop = SSCOPParams()
    assert m.SSCOP_TIMER_DEFAULTS == {k: getattr(sscop, f"timer_{k}") for k in m.SSCOP_TIMERS}
    assert m.ARCHITECTURES == tuple(a.label for a in Arch)
    assert m.TRAFFIC_MODELS == ("none", *KINDS)
    assert m.LINE_RATES == tuple(r.name for r in RATES)
    assert m.MAX_PORTS == MAX_PORTS and m.MAX_BUFFER_CELLS == 2**24 - 1
    FabricConfig(ports=m.MIN_PORTS, buffers=m.MAX_BUFFER_CELLS)  # the extremes are accepted by the fabric


# ---- fuzz: only typed errors, and what loads round-trips ---------------------------------------------


def _assert_typed(text: str | bytes) -> None:
    try:
        s = loads(text, source="fuzz.toml")
    except ScenarioError as exc:
        event(type(exc).__name__)  # `pytest --hypothesis-show-statistics`: which checks the inputs reach
        message = str(exc)
        assert message.startswith("fuzz.toml: ") and len(message) < 2000
        if isinstance(exc, FieldError):
            assert message.startswith(f"fuzz.toml: {exc.field}")
        return
    assert isinstance(s, Scenario)
    event("loaded")
    again = dump(s)
    assert loads(again) == s  # whatever loads, dump writes back faithfully
    assert dump(loads(again)) == again


@pytest.mark.fuzz
@settings(max_examples=FUZZ_EXAMPLES)
@given(st.one_of(st.text(), st.binary(), st.text(alphabet='[]{}=",.\n #\'abcdeilmnoprstuvwy0123456789_-+.')))
def test_fuzz_random_text(text):
    _assert_typed(text)


@pytest.mark.fuzz
@settings(max_examples=FUZZ_EXAMPLES)
@given(st.data())
def test_fuzz_mutated_default_text(data):
    text = default_text()
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 40)))
        insert = data.draw(st.one_of(st.just(""), st.text(max_size=8),
                                     st.sampled_from(['"', "[", "]", "{", "}", "=", ",", "\n", "0", "-1", "1e9",
                                                      "true", "'x'", "[[leaves]]", "port = 3", "leaf = 99"])))
        text = text[:i] + insert + text[j:]
    _assert_typed(text)


# values that a hand-written file might hold: the right kind, the wrong kind, edges
_VALUES = st.recursive(
    st.one_of(st.integers(0, 20), st.integers(-3, 300), st.integers(), st.floats(allow_nan=True), st.booleans(),
              st.sampled_from(["", "accept", "reject", "silent", "drop-after", "alert-then-accept", "OC-3c",
                               "oq", "0/5", "+4930", "39.840f", "39.840f.80.113744.0000.0000.0001.000000000001.00",
                               "uniform", "leaf1"]),
              st.text(max_size=12)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=8,
)
_KNOWN_KEYS = sorted({*m.STEP_KEYS, "port", "behaviour", "cause", "after_ms", "alert_delay_ms", "address", "leaf",
                      "pcr", "count", "size", "spacing_us", "ber", "cell_loss", "bursts", "down", "at_ms",
                      "cells", "down_ms", "up_ms", "prefixes", "domain", "ports", "model", "load", *m.UNI_TIMERS,
                      "cc", "poll", "vcs", "pcap", "leaf3", "signalling", "root", "name", "seed"})


def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
    if isinstance(v, str):
        return toml_string(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    assert isinstance(v, dict)
    return "{" + ", ".join(f"{toml_string(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"


@pytest.mark.fuzz
@settings(max_examples=FUZZ_EXAMPLES)
@given(st.data())
def test_fuzz_mutated_default_structure(data):
    """Valid TOML whose structure is the default's, with values replaced, keys removed or added: this
    reaches the checks behind the parser."""
    tree = copy.deepcopy(tomllib.loads(default_text()))
    for _ in range(data.draw(st.integers(1, 3))):
        node, key = tree, None
        while True:  # walk down to a random place
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            if not keys:
                break
            key = data.draw(st.sampled_from(keys))
            child = node[key]
            if not isinstance(child, (dict, list)) or not child or data.draw(st.booleans()):
                break
            node = child
        if key is None:
            continue
        action = data.draw(st.sampled_from(["replace", "delete", "add", "duplicate"]))
        if action == "replace":
            node[key] = data.draw(_VALUES)
        elif action == "delete":
            del node[key]
        elif action == "add" and isinstance(node, dict):
            node[data.draw(st.sampled_from(_KNOWN_KEYS))] = data.draw(_VALUES)
        elif action == "duplicate" and isinstance(node, list):
            node.insert(key, copy.deepcopy(node[key]))
    text = "\n".join(f"{toml_string(k)} = {_toml_value(v)}" for k, v in tree.items())
    assert tomllib.loads(text) == tree or any(isinstance(x, float) and math.isnan(x) for x in _floats(tree))
    _assert_typed(text)


def _floats(v):
    if isinstance(v, float):
        yield v
    elif isinstance(v, dict):
        for x in v.values():
            yield from _floats(x)
    elif isinstance(v, list):
        for x in v:
            yield from _floats(x)
