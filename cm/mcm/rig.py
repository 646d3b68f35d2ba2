"""The MCM as the root of a whole emulated network, under the name the fault tests (tests/faults) and
the soak (tools/soak.py) use: :class:`McmRig` is :class:`cm.testbed.Testbed` with ``network="switch"``
(:class:`cm.testbed.SwitchNetwork`) - the host (NDIS with the rule checker, the CoNDIS client, the MCM on
the emulated adapter) plugged into port 0 of a :class:`firmware.network.Network`, whose switch
(:class:`firmware.switch.node.SwitchNode`: fabric, one line per port, per-port SAAL through the control
port, control plane) has a leaf station on every other port, each over its own line and SSCOP. Every
UNI, the MCM's included, is a line of the switch with its impairments (``rig.line(port)``), so faults can
be put on any signalling link.

    rig = McmRig(ports=4, behaviours={3: LeafBehaviour.silent()})
    rig.up()                                              # every SSCOP link up, the client's AF open
    call = rig.client.make_call(rig.address(1)); rig.run_while(lambda: call.phase.value == "making")
    rig.line(0).down(); rig.run(5.0); rig.line(0).up()    # the MCM's signalling link fails
    rig.finish()                                          # close, unload: the checker looks for leftovers
"""

from __future__ import annotations

from typing import Any, Mapping

from cm.mcm.config import McmConfig
from cm.ndis.params import ATM_ADDRESS
from cm.testbed import HOST_PORT, SwitchNetwork, Testbed
from firmware.endpoint.leaf import LeafBehaviour
from firmware.network import Network
from hw.adapter import AdapterConfig
from hw.link import Link


class McmRig(Testbed):
    """Host on port 0 of a ``ports``-port :class:`~firmware.network.Network`, a leaf on every other port
    (``behaviours``: port -> LeafBehaviour, accept by default; ``addresses``: end system identifiers each
    leaf answers for). ``network``: keywords for the Network (``timers``, ``sscop``,
    ``link_impairments``, ``seed``...); ``config``: the MCM's; ``mode``: the rule checker's; other
    keywords as :class:`~cm.testbed.Testbed`'s (``mcm_cls``, ``client_cls``...)."""

    network: SwitchNetwork

    def __init__(self, *, ports: int = 4, behaviours: Mapping[int, LeafBehaviour] | None = None, addresses: int = 1,
                 config: McmConfig | None = None, mode: str = "strict", deadline: int | None = None,
                 adapter_config: AdapterConfig | None = None, host_memory: int = 32 << 20,
                 network: Mapping[str, Any] | None = None, **testbed: Any) -> None:
        options = {"ports": ports, "behaviours": behaviours, "addresses": addresses, **dict(network or {})}
        super().__init__(network="switch", mode=mode, deadline=deadline, config=config, adapter_config=adapter_config,
                         host_memory=host_memory, network_options=options, **testbed)

    @property
    def net(self) -> Network:
        """The :class:`firmware.network.Network` (its ``node`` is the SwitchNode)."""
        return self.network.net

    def address(self, port: int, esi: int = 1) -> ATM_ADDRESS:
        """An AESA the leaf on ``port`` answers for, as the client names it."""
        return self.network.address(port, esi)

    def line(self, port: int) -> Link:
        """The line of switch port ``port`` (port 0: the host's): ``set_impairments``, ``down``, ``up``."""
        return self.network.line(port)

    def cells_lost(self) -> int:
        """Cells the lines lost or dropped, and cells the ports' PHYs discarded for a bad HEC."""
        return self.network.cells_lost()


__all__ = ["HOST_PORT", "McmRig"]
