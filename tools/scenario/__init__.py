"""Scenario files: the TOML format that `atmemu run SCENARIO.toml` reads, its typed model, the loader
with its errors, the writer, and the built-in default scenario.

    from tools.scenario import load, loads, dump, default_scenario
    s = load("my.toml")            # a checked Scenario, or a ScenarioError naming the key path
    text = dump(s)                 # commented TOML; loads(text) == s

The format is shown, commented, by `atmemu run --print-default` (tools/scenario/default.toml).

Note: ``tools.scenario.load`` and ``tools.scenario.dump`` are the functions here; the modules of the
same names are reached with ``from tools.scenario.load import ...`` (or ``sys.modules``).
"""

from tools.scenario.default import default_scenario, default_text
from tools.scenario.dump import dump
from tools.scenario.errors import (
    ConsistencyError,
    MissingKeyError,
    OutOfRangeError,
    ScenarioError,
    ScenarioFieldError,
    ScenarioFileError,
    ScenarioSyntaxError,
    ScriptOrderError,
    UnknownKeyError,
    WrongTypeError,
)
from tools.scenario.load import check, from_dict, load, loads
from tools.scenario.model import (
    Address,
    AddParty,
    AddressPlan,
    Capture,
    CloseCall,
    DownWindow,
    DropParty,
    Leaf,
    LinkFault,
    LossBurst,
    MakeCall,
    PortAddresses,
    Root,
    Scenario,
    SendFrames,
    SscopTimers,
    Step,
    Timers,
    Topology,
    Traffic,
    Wait,
)

__all__ = [
    "Address", "AddParty", "AddressPlan", "Capture", "CloseCall", "ConsistencyError", "DownWindow", "DropParty",
    "Leaf", "LinkFault", "LossBurst", "MakeCall", "MissingKeyError", "OutOfRangeError", "PortAddresses", "Root",
    "Scenario", "ScenarioError", "ScenarioFieldError", "ScenarioFileError", "ScenarioSyntaxError",
    "ScriptOrderError", "SendFrames", "SscopTimers", "Step", "Timers", "Topology", "Traffic", "UnknownKeyError",
    "Wait", "WrongTypeError", "check", "default_scenario", "default_text", "dump", "from_dict", "load", "loads",
]
