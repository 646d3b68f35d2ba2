"""A user-side endpoint that acts as the root of point-to-multipoint calls (Q.2971).

The root makes the call (SETUP with the broadband bearer capability's user-plane configuration
"point-to-multipoint" and endpoint reference 0 for the first party), adds parties with ADD PARTY
(endpoint references allocated by its call machine, 1, 2, ... round robin), drops them with DROP PARTY
and releases the call with RELEASE. Its Q.2931/Q.2971 machines run in a user-side
:class:`~firmware.switch.interface.UniInterface` on a signalling channel, so the root times out on its
own timers (T303, T310, T399, T398, T308...) on the virtual clock.

Answers the root gives by itself, as a user must: DROP PARTY ACKNOWLEDGE to the network's DROP PARTY
(Q.2971), RELEASE COMPLETE to the network's RELEASE (Q.2931 5.4.4). Every event of every party is
recorded (slot, event, cause) so a test can check what the root saw; :attr:`PartyRecord.outcome` is the
first way the party ended:

* ``rejected`` - ADD PARTY REJECT (or the call refused, for the first party);
* ``timed-out`` - the root's own party timer ran out (T399 for ADD PARTY, T397 after PARTY ALERTING):
  it dropped the party itself with cause 102;
* ``dropped`` - the network dropped it with DROP PARTY (a leaf left, or the network dropped it);
* ``dropped-locally`` - the root dropped it (:meth:`RootCall.drop_party`);
* ``released`` - the call ended under it (RELEASE either way).

The data plane: :meth:`RootCall.cells` cuts AAL5 frames into cells with the call's VPI/VCI (from the
Connection identifier of CALL PROCEEDING/CONNECT, Q.2931 5.1.2) for whoever carries them to the fabric.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from firmware.endpoint.errors import EndpointError
from firmware.switch.channel import SignallingChannel
from firmware.switch.interface import Message, UniCall, UniInterface
from firmware.uni.machines import Indicate
from firmware.uni.machines import events as ev
from firmware.uni.machines.timers import DEFAULT_TIMERS, Timers
from hw.aal5 import segment
from hw.clock import Clock

ALERTING, ACTIVE = "alerting", "active"
REJECTED, TIMED_OUT, DROPPED = "rejected", "timed-out", "dropped"
DROPPED_LOCALLY, RELEASED = "dropped-locally", "released"


@dataclass
class PartyRecord:
    """What the root knows of one party: its number, and every event with the slot and cause."""

    epref: int
    called: Any
    history: list[tuple[int, str, int | None]] = field(default_factory=list)
    outcome: str | None = None
    cause: int | None = None
    alerted: bool = False
    connected: bool = False

    def events(self) -> list[str]:
        return [e for _, e, _ in self.history]


class RootCall:
    """One point-to-multipoint call made by a :class:`RootEndpoint`."""

    def __init__(self, endpoint: RootEndpoint, ucall: UniCall, called: Any) -> None:
        self.endpoint = endpoint
        self.ucall = ucall
        self.parties: dict[int, PartyRecord] = {0: PartyRecord(0, called)}
        self.history: list[tuple[int, str, int | None]] = []
        self.cause: int | None = None

    # ---- what the user does
    def add_party(self, called: Any, **content: Any) -> int:
        """ADD PARTY for ``called`` (an AESA as bytes or hex text, E.164 digits, or the IE); returns the
        endpoint reference. The call must be active (or delivered, Q.2971: U4 and U10 allow it)."""
        if not self.endpoint.iface.accepts(self.ucall, ev.ADD_PARTY_REQUEST):
            raise EndpointError(f"{self.endpoint.name}: cannot add a party in call state {self.state}")
        content = {"called": called, **self.endpoint.party_content, **content}
        step = self.endpoint.iface.request(self.ucall, ev.ADD_PARTY_REQUEST, content=content)
        epref = step.epref
        assert epref is not None
        self.parties[epref] = PartyRecord(epref, called)
        self._log(epref, "add-party.request", None)
        return epref

    def drop_party(self, epref: int, cause: int = ev.CAUSE_NORMAL_CLEARING) -> None:
        """DROP PARTY (or RELEASE, for the last party: the machines' last-party rule, Q.2971)."""
        if not self.endpoint.iface.accepts(self.ucall, ev.DROP_PARTY_REQUEST, epref):
            raise EndpointError(f"{self.endpoint.name}: cannot drop party {epref} in state "
                                f"{self.state}/{self.party_state(epref)}")
        self._end(epref, DROPPED_LOCALLY, cause)
        self._log(epref, "drop-party.request", cause)
        self.endpoint.iface.request(self.ucall, ev.DROP_PARTY_REQUEST, epref=epref, cause=cause)

    def release(self, cause: int = ev.CAUSE_NORMAL_CLEARING) -> None:
        if not self.endpoint.iface.accepts(self.ucall, ev.RELEASE_REQUEST):
            raise EndpointError(f"{self.endpoint.name}: cannot release in call state {self.state}")
        self.history.append((self.endpoint.clock.now, "release.request", cause))
        for e in list(self.parties):
            self._end(e, RELEASED, cause)
        self.endpoint.iface.request(self.ucall, ev.RELEASE_REQUEST, cause=cause)

    # ---- queries
    @property
    def state(self) -> str:
        return self.ucall.state

    @property
    def closed(self) -> bool:
        return self.ucall.closed

    def party_state(self, epref: int) -> str:
        return self.ucall.party_state(epref)

    def active_parties(self) -> list[int]:
        return [e for e, p in self.ucall.machine.parties.items() if p.state == "P10"]

    @property
    def connection(self) -> tuple[int, int] | None:
        """(VPI, VCI) the network gave the call (VPCI = VPI on this UNI, Q.2931 4.5.16)."""
        return self.ucall.connection

    def cells(self, sdu: bytes, *, clp: int = 0) -> np.ndarray:
        """One AAL5 frame as cells on the call's VPI/VCI (I.363.5)."""
        if self.connection is None:
            raise EndpointError(f"{self.endpoint.name}: call {self.ucall.cref} has no connection identifier yet")
        vpi, vci = self.connection
        return segment(sdu, vpi, vci, clp)

    # ---- bookkeeping
    def _log(self, epref: int | None, what: str, cause: int | None) -> None:
        now = self.endpoint.clock.now
        if epref is None:
            self.history.append((now, what, cause))
        else:
            rec = self.parties.get(epref)
            if rec is not None:
                rec.history.append((now, what, cause))

    def _end(self, epref: int, outcome: str, cause: int | None) -> None:
        rec = self.parties.get(epref)
        if rec is not None and rec.outcome is None:
            rec.outcome, rec.cause = outcome, cause

    def _event(self, ind: Indicate, message: Message | None) -> None:
        p, e, cause = ind.primitive, ind.instance, ind.cause
        iface = self.endpoint.iface
        first = self.ucall.machine.first_epref if self.ucall.machine.first_epref is not None else 0
        if e is None and p in ("alerting.indication", "setup.confirm"):
            e = first
        self._log(e, p, cause)
        if p in ("alerting.indication", "party-alerting.indication"):
            self.parties[e].alerted = True
        elif p in ("setup.confirm", "add-party-ack.indication"):
            self.parties[e].connected = True
        elif p == "add-party-reject.indication":
            self._end(e, REJECTED, cause)
        elif p == "drop-party.indication":
            rec = self.parties.get(e)
            if self.party_state(e) == "P12":
                self._end(e, DROPPED if rec is not None and rec.connected else REJECTED, cause)
                iface.request(self.ucall, ev.DROP_PARTY_ACK_REQUEST, epref=e)          # Q.2971
            else:
                self._end(e, TIMED_OUT, cause)      # our T399/T397 ran out: we sent DROP PARTY ourselves
        elif p == "drop-party-ack.indication":
            self._end(e, DROPPED, cause)
        elif p in ("release.indication", "release.confirm"):
            self.cause = cause if self.cause is None else self.cause
            for ep, rec in self.parties.items():
                never = not rec.connected and ep == first and not self._was_active()
                self._end(ep, REJECTED if never else RELEASED, cause)
            if not self.ucall.closed and self.ucall.state == "U12":
                iface.request(self.ucall, ev.RELEASE_RESPONSE)                       # Q.2931 5.4.4

    def _was_active(self) -> bool:
        return any(rec.connected for rec in self.parties.values())

    def __repr__(self) -> str:
        return f"<RootCall cref={self.ucall.cref} {self.state} parties={self.ucall.machine.party_states()}>"


class RootEndpoint:
    """A user-side endpoint on one UNI that makes point-to-multipoint calls. ``address``: its own number
    (sent as the Calling party number); ``traffic``/``aal``/``qos``: defaults for its SETUPs (elements of
    either codec, or None for best effort, AAL 5 and no QoS element). ``codec``: the messages' codec
    (default: the channel's)."""

    def __init__(self, clock: Clock, channel: SignallingChannel, *, address: Any = None,
                 timers: Timers = DEFAULT_TIMERS, name: str = "root", traffic: Any = None, aal: Any = None,
                 qos: Any = None, codec: str | None = None) -> None:
        self.clock = clock
        self.name = name
        self.iface = UniInterface(clock, channel, "user", timers=timers, name=name, listener=self, codec=codec)
        B, ie = self.iface.B, self.iface.codec.ie
        # elements made once, in the interface's codec: every SETUP and ADD PARTY reuses them
        self.address = address
        self._calling = None if address is None else B.calling_party_number(address)
        self.traffic = ie(traffic) if traffic is not None else B.best_effort()
        self.aal = ie(aal) if aal is not None else B.aal5()
        self.qos = ie(qos)
        self._bearer = B.bearer_capability(point_to_multipoint=True)
        self.calls: list[RootCall] = []
        self.unsolicited: list[tuple[int, str]] = []
        #: called as ``on_event(call, epref, primitive, cause)`` after the root has taken each indication
        #: of one of its calls (a script reacts to a party's answer without polling)
        self.on_event: Callable[[RootCall, int | None, str, int | None], Any] | None = None

    @property
    def party_content(self) -> dict[str, Any]:
        return {} if self._calling is None else {"calling": self._calling}

    def setup(self, called: Any, *, traffic: Any = None, aal: Any = None, qos: Any = None, **content: Any) -> RootCall:
        """SETUP of a point-to-multipoint call to its first party ``called`` (Q.2971: endpoint reference 0,
        bearer capability point-to-multipoint). More builder keywords may be given (``connection_id``,
        ``bhli``, ``blli``...)."""
        ucall = self.iface.originate(multipoint=True)
        kw: dict[str, Any] = {
            "called": called,
            "traffic": traffic if traffic is not None else self.traffic,
            "aal": aal if aal is not None else self.aal,
            "bearer": self._bearer,
            **self.party_content,
            **content,
        }
        q = qos if qos is not None else self.qos
        if q is not None:
            kw["qos"] = q
        call = RootCall(self, ucall, called)
        ucall.owner = call
        self.calls.append(call)
        call._log(0, "setup.request", None)
        self.iface.request(ucall, ev.SETUP_REQUEST, epref=0, content=kw)
        return call

    # ---- the interface's listener
    def on_indication(self, iface: UniInterface, ucall: UniCall, ind: Indicate, message: Message | None) -> None:
        if isinstance(ucall.owner, RootCall):
            call = ucall.owner
            call._event(ind, message)
            if self.on_event is not None:
                self.on_event(call, ind.instance, ind.primitive, ind.cause)
            return
        # A call offered to the root itself: it takes no incoming call (Q.2931 5.2.5: rejected, cause 21).
        self.unsolicited.append((self.clock.now, ind.primitive))
        if ind.primitive == "setup.indication" and iface.accepts(ucall, ev.RELEASE_RESPONSE):
            iface.request(ucall, ev.RELEASE_RESPONSE, cause=ev.CAUSE_CALL_REJECTED)

    def on_closed(self, iface: UniInterface, ucall: UniCall) -> None:
        pass


__all__ = ["ACTIVE", "ALERTING", "DROPPED", "DROPPED_LOCALLY", "PartyRecord", "REJECTED", "RELEASED", "RootCall",
           "RootEndpoint", "TIMED_OUT"]
