"""The switch control plane: the CPU behind the fabric's control port (DESIGN.md, "How an ADD PARTY
travels", steps 4 and 5).

* :mod:`~firmware.switch.config` - ports, line rates, the address plan, VPI/VCI ranges;
* :mod:`~firmware.switch.routing` - longest-prefix match of the called party number (causes 1, 3, 28);
* :mod:`~firmware.switch.allocation` - VPI/VCI per port (cause 35);
* :mod:`~firmware.switch.admission` - connection admission control on peak cell rates (causes 37, 73);
* :mod:`~firmware.switch.fabric_programming` - the fabric's VC and leaf tables, through its registers only;
* :mod:`~firmware.switch.channel` - the neutral signalling channel: the SAAL one (:class:`SaalChannel`, over
  SSCOP/AAL5 cells) and an in-memory pair over the clock;
* :mod:`~firmware.switch.interface` - one side of one UNI: the call machines on a channel and the clock
  (also what the endpoints in :mod:`firmware.endpoint` run);
* :mod:`~firmware.switch.control_plane` - :class:`ControlPlane`: one network-side UNI per port and the
  point-to-multipoint logic between them;
* :mod:`~firmware.switch.node` - :class:`~firmware.switch.node.SwitchNode`: the whole switch on the clock
  (fabric, one link per port, the CPU's SAAL endpoints behind the control port, the control plane) and
  the co-simulation loop (docs/cosimulation.md); imported on its own (it loads the fabric's kernels);
* :mod:`~firmware.switch.errors` - typed errors; refusals carry their cause.

Quick use (the real stack; firmware.network builds the same with stations on the ports)::

    clock = Clock("OC-3c")
    node = SwitchNode(clock, SwitchConfig.uniform(16))         # firmware.switch.node
    root = attach_root(node, 0)                                # firmware.endpoint.attach
    leaf = attach_leaf(node, 1)
    node.run(0.01)

or, at unit level, the control plane on in-memory channels::

    pairs = [channel_pair(clock, delay=100) for _ in range(16)]
    switch = ControlPlane(SwitchConfig.uniform(16), clock, Fabric(ports=16).regs, [sw for sw, _ in pairs])
"""

from firmware.switch.admission import EGRESS, INGRESS, Admission, CellRates
from firmware.switch.allocation import VcAllocator
from firmware.switch.channel import InMemoryChannel, SaalChannel, SignallingChannel, channel_pair
from firmware.switch.config import AddressPrefix, PortConfig, SwitchConfig
from firmware.switch.control_plane import ControlPlane, SwitchCounters
from firmware.switch.errors import (AdmissionError, AllocationError, BalanceError, BookkeepingError, CallRefused,
                                    FabricProgrammingError, InterfaceError, ResourceError, RoutingError,
                                    SwitchConfigError, SwitchError)
from firmware.switch.fabric_programming import FabricProgrammer
from firmware.switch.interface import UniCall, UniInterface
from firmware.switch.routing import Router

__all__ = [
    "AddressPrefix", "Admission", "AdmissionError", "AllocationError", "BalanceError", "BookkeepingError",
    "CallRefused", "CellRates", "ControlPlane", "EGRESS", "FabricProgrammer", "FabricProgrammingError",
    "INGRESS", "InMemoryChannel", "InterfaceError", "PortConfig", "ResourceError", "Router", "RoutingError",
    "SaalChannel", "SignallingChannel", "SwitchConfig", "SwitchConfigError", "SwitchCounters", "SwitchError", "UniCall",
    "UniInterface", "VcAllocator", "channel_pair",
]
