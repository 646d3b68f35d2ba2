"""The UNI signalling state machines as tables: Q.2931 call control (user and network side), Q.2971
party control, and the Q.2931 restart procedure - pure data with no I/O, no clock and no dependency on
the wire encoding.

* ``table`` - rows, tables, the :class:`Machine` that runs them, DOT and Markdown rendering;
* ``call_user`` / ``call_network`` - the call tables (``USER_CALL``, ``NETWORK_CALL``);
* ``party`` - the party tables (``USER_PARTY``, ``NETWORK_PARTY``);
* ``restart`` - ``RESTART_START``, ``RESTART_RESPOND`` and :class:`RestartControl`;
* ``call`` - :class:`Call`, a call machine composed with its party machines;
* ``events`` - the neutral vocabulary; ``timers`` - durations; ``errors`` - typed errors.

Quick use::

    from firmware.uni.machines import Call
    root = Call(cref=1, side="user", multipoint=True)
    root.handle("setup.request", epref=0)     # -> Send SETUP, start T303 (4 s)
    root.handle("CONNECT")                     # -> Send CONNECT_ACK, indicate setup.confirm
    root.handle("add-party.request")           # -> Send ADD_PARTY (instance=1), start T399 (34 s)
"""

from __future__ import annotations

from firmware.uni.machines.call import Call, CallStep
from firmware.uni.machines.call_network import NETWORK_CALL
from firmware.uni.machines.call_user import USER_CALL
from firmware.uni.machines.errors import (
    ParameterError,
    TableError,
    UNIError,
    UNIProtocolError,
    UnknownEventError,
)
from firmware.uni.machines.party import NETWORK_PARTY, USER_PARTY
from firmware.uni.machines.restart import RESTART_RESPOND, RESTART_START, RestartControl
from firmware.uni.machines.table import (
    Action,
    CountCause,
    Discard,
    EventKind,
    Indicate,
    Machine,
    Send,
    Side,
    StartTimer,
    Step,
    StopTimer,
    Table,
    Transition,
)
from firmware.uni.machines.timers import DEFAULT_TIMERS, Timers

#: Every table of the package, by name (for documentation and diagrams).
TABLES: dict[str, Table] = {t.name: t for t in (USER_CALL, NETWORK_CALL, USER_PARTY, NETWORK_PARTY,
                                                 RESTART_START, RESTART_RESPOND)}

__all__ = [
    "Action", "Call", "CallStep", "CountCause", "DEFAULT_TIMERS", "Discard", "EventKind", "Indicate",
    "Machine", "NETWORK_CALL", "NETWORK_PARTY", "ParameterError", "RESTART_RESPOND", "RESTART_START",
    "RestartControl", "Send", "Side", "StartTimer", "Step", "StopTimer", "TABLES", "Table", "TableError",
    "Timers", "Transition", "UNIError", "UNIProtocolError", "USER_CALL", "USER_PARTY", "UnknownEventError",
]
