"""Emulated user-side endpoints: the root of point-to-multipoint calls (:mod:`~firmware.endpoint.root`)
and leaves with configurable behaviour and a data-plane sink (:mod:`~firmware.endpoint.leaf`). Each runs
a user-side :class:`firmware.switch.interface.UniInterface` on a signalling channel; on a switch port,
over the real stack, through :mod:`~firmware.endpoint.attach` (``attach_root``, ``attach_leaf``)."""

from firmware.endpoint.attach import LeafStation, RootStation, Station, attach_leaf, attach_root
from firmware.endpoint.errors import BehaviourError, EndpointError
from firmware.endpoint.leaf import DataSink, LeafBehaviour, LeafEndpoint, LeafParty, address_key
from firmware.endpoint.root import PartyRecord, RootCall, RootEndpoint

__all__ = ["BehaviourError", "DataSink", "EndpointError", "LeafStation", "RootStation", "Station", "attach_leaf",
           "attach_root", "LeafBehaviour", "LeafEndpoint", "LeafParty",
           "PartyRecord", "RootCall", "RootEndpoint", "address_key"]
