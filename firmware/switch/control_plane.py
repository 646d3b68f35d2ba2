"""The switch's CPU: one network-side UNI per port and the point-to-multipoint logic between them.

Each port runs a :class:`~firmware.switch.interface.UniInterface` (network side, Q.2931 call machines
with the Q.2971 party machines) on the port's :class:`~firmware.switch.channel.SignallingChannel`; the
control plane is the "network application" behind them. A point-to-multipoint call through the switch
is one :class:`SwitchCall`: the root's call on the root's port, and one :class:`Branch` per port that
leads to leaves (Q.2971: one branch per link; a second party behind the same port joins the branch's
call with ADD PARTY). The root's parties (its endpoint references) map onto (branch, branch endpoint
reference) pairs.

The road of a party (DESIGN.md, "How an ADD PARTY travels"):

====================================  ============================================================
root -> switch                        switch does
====================================  ============================================================
SETUP (first party)                   route, allocate the root's VPI/VCI, admit the rate, CALL
                                      PROCEEDING with the connection identifier (Q.2931 5.1.2), SETUP
                                      to the first leaf's port; a refusal is RELEASE COMPLETE with
                                      the cause (Q.2931 5.1.8 / 5.4.2 a)
ADD PARTY                             route; SETUP on a new branch, or ADD PARTY on the branch
                                      already on that port; a refusal is ADD PARTY REJECT (Q.2971)
DROP PARTY                            RELEASE to the leaf (DROP PARTY when its branch carries other
                                      parties), the leaf out of the fabric, DROP PARTY ACK to the root
RELEASE                               RELEASE to every branch, the VC out of the fabric, RELEASE
                                      COMPLETE to the root (Q.2931 5.4.3)
====================================  ============================================================

====================================  ============================================================
leaf -> switch                        switch does
====================================  ============================================================
ALERTING / PARTY ALERTING             ALERTING (first party, call not yet active) or PARTY ALERTING
CONNECT / ADD PARTY ACK               CONNECT ACK to the leaf, the leaf into the root VC's leaf list
                                      (fabric registers), then CONNECT (first party) or ADD PARTY ACK
RELEASE COMPLETE (SETUP refused),     ADD PARTY REJECT with the leaf's cause (and the cause's
ADD PARTY REJECT, T303 twice (18)     location, Q.850); for the first party before the call is
                                      active, RELEASE of the call
RELEASE / DROP PARTY                  the leaf out of the fabric, DROP PARTY to the root (the machines'
                                      last-party rule turns it into RELEASE for the last party)
====================================  ============================================================

Resources are taken before a message goes out and given back when the call that holds them is back
in Null: the root's VPI/VCI and ingress rate when the root's call is, a branch's VPI/VCI and egress
rate when the branch's call is (Q.2931 5.4: a connection identifier is free again once RELEASE
COMPLETE is received, or T308 has run out twice). The fabric's VC entry is installed when the first
party connects and removed when the call clears; a branch's leaf is linked while it has an active party.

Counters: :class:`SwitchCounters` (calls, parties, outcomes by cause, branches, what was not passed
on), each port's :class:`~firmware.switch.interface.InterfaceCounters` (messages in and out by type,
unexpected messages answered by cause, discards), and the router, allocator, admission and fabric
programmer's own; :meth:`ControlPlane.check_balance` checks they all add up.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Sequence

from firmware.switch.admission import EGRESS, INGRESS, Admission, CellRates
from firmware.switch.allocation import VcAllocator
from firmware.switch.channel import SignallingChannel
from firmware.switch.config import SwitchConfig
from firmware.switch.errors import AllocationError, BalanceError, CallRefused, SwitchConfigError
from firmware.switch.fabric_programming import FabricProgrammer
from firmware.switch.interface import InterfaceCounters, Message, UniCall, UniInterface, cause_of
from firmware.switch.routing import Router
from firmware.uni import access
from firmware.uni.constants import IEId, PreferredExclusive
from firmware.uni.machines import Indicate
from firmware.uni.machines import events as ev
from hw.clock import Clock
from hw.regs import RegisterFile

_TRAFFIC, _BEARER, _QOS = int(IEId.ATM_TRAFFIC_DESCRIPTOR), int(IEId.BROADBAND_BEARER_CAPABILITY), int(IEId.QOS_PARAMETER)
_AAL, _BHLI, _BLLI = int(IEId.AAL_PARAMETERS), int(IEId.BROADBAND_HIGH_LAYER_INFORMATION), int(
    IEId.BROADBAND_LOW_LAYER_INFORMATION)
_CALLING, _CALLING_SUB, _CALLED_SUB = int(IEId.CALLING_PARTY_NUMBER), int(IEId.CALLING_PARTY_SUBADDRESS), int(
    IEId.CALLED_PARTY_SUBADDRESS)
_DELAY, _REPEAT, _CONNECTION = int(IEId.END_TO_END_TRANSIT_DELAY), int(IEId.BROADBAND_REPEAT_INDICATOR), int(
    IEId.CONNECTION_IDENTIFIER)

#: Q.2610 cause 65, "bearer capability not implemented": this switch carries point-to-multipoint calls.
CAUSE_BEARER_NOT_IMPLEMENTED = 65
#: Q.850 cause 41, "temporary failure".
CAUSE_TEMPORARY_FAILURE = 41

# Network-side call and party states the control plane looks at (firmware.uni.machines.call_network / party).
_N1, _N3, _N4, _N11 = "N1", "N3", "N4", "N11"
_P4, _P6, _P10, _P12 = "P4", "P6", "P10", "P12"

OFFERED, ALERTING, ACTIVE, ENDED = "offered", "alerting", "active", "ended"


@dataclass(eq=False)
class Party:
    """One party of a point-to-multipoint call, named by the root's endpoint reference."""

    epref: int
    call: SwitchCall
    called: Any                                  # the Called party number IE
    message: Message | None = None               # the SETUP or ADD PARTY that asked for it
    port: int | None = None
    branch: Branch | None = None
    branch_epref: int | None = None
    status: str = OFFERED
    outcome: str | None = None
    cause: int | None = None
    ack_held: bool = False                       # connected while the root's call was only delivered (N4)


@dataclass(eq=False)
class Branch:
    """The call's leg on one leaf port: a network-originated call on that port's UNI."""

    call: SwitchCall
    port: int
    vpi: int
    vci: int
    key: tuple
    ucall: UniCall | None = None
    parties: dict[int, Party] = field(default_factory=dict)   # branch endpoint reference -> party
    pending: list[Party] = field(default_factory=list)       # waiting for the branch to take ADD PARTY
    leaf: int | None = None                                  # fabric leaf entry while linked
    closing: bool = False
    closed: bool = False


@dataclass(eq=False)
class SwitchCall:
    """A point-to-multipoint call through the switch."""

    id: int
    port: int
    root: UniCall
    setup: Message
    first_epref: int = 0
    rates: CellRates | None = None
    vpi: int | None = None
    vci: int | None = None
    cac_key: tuple | None = None
    vc: int | None = None                                    # fabric VC entry
    parties: dict[int, Party] = field(default_factory=dict)  # root endpoint reference -> party
    branches: dict[int, Branch] = field(default_factory=dict)   # live branches by port
    old_branches: list[Branch] = field(default_factory=list)    # branches clearing
    connected: bool = False
    gone: bool = False
    root_closed: bool = False
    end_cause: int | None = None


@dataclass
class SwitchCounters:
    """What the control plane did. Outcomes are keyed (outcome, cause): a party ends ``rejected`` (the
    leaf or the switch refused it), ``withdrawn`` (the root dropped it before it was connected),
    ``dropped-by-root``, ``dropped-by-leaf`` or ``dropped-by-switch`` (after it was connected); a call
    ends ``rejected`` (never connected) or ``cleared``."""

    calls_offered: int = 0
    calls_connected: int = 0
    call_outcomes: Counter[tuple[str, int | None]] = field(default_factory=Counter)
    parties_offered: int = 0
    parties_alerting: int = 0
    parties_connected: int = 0
    party_outcomes: Counter[tuple[str, int | None]] = field(default_factory=Counter)
    branches_opened: int = 0
    branches_closed: int = 0
    add_party_on_branch: int = 0
    not_passed_on: Counter[str] = field(default_factory=Counter)
    indications_ignored: Counter[str] = field(default_factory=Counter)


class ControlPlane:
    """The switch's control plane. ``channels[i]`` is port i's signalling channel; ``regs`` the fabric's
    register file (the only way the control plane touches the fabric)."""

    def __init__(self, config: SwitchConfig, clock: Clock, regs: RegisterFile, channels: Sequence[SignallingChannel],
                 *, name: str = "switch") -> None:
        if len(channels) != config.port_count:
            raise SwitchConfigError("channels", len(channels), f"one per port ({config.port_count})")
        self.config = config
        self.clock = clock
        self.name = name
        self.router = Router(config)
        self.allocator = VcAllocator(config)
        self.admission = Admission(config)
        self.fabric = FabricProgrammer(regs)
        if self.fabric.ports < config.port_count:
            raise SwitchConfigError("ports", config.port_count, f"at most the fabric's {self.fabric.ports} line ports")
        self.ports = [UniInterface(clock, ch, "network", timers=config.timers, name=f"{name}:{i}", listener=self)
                      for i, ch in enumerate(channels)]
        self._port_of = {id(iface): i for i, iface in enumerate(self.ports)}
        self.calls: dict[int, SwitchCall] = {}
        self.counters = SwitchCounters()
        self._next_id = 1
        self._next_branch = 1

    # ---- the interfaces' listener
    def on_indication(self, iface: UniInterface, ucall: UniCall, ind: Indicate, message: Message | None) -> None:
        owner = ucall.owner
        if isinstance(owner, Branch):
            self._branch_event(owner, ind, message)
        elif isinstance(owner, SwitchCall):
            self._root_event(owner, ind, message)
        elif ind.primitive == "setup.indication":
            self._root_setup(self._port_of[id(iface)], ucall, message)
        else:
            self.counters.indications_ignored[f"{ind.primitive} for a call with no owner"] += 1

    def on_closed(self, iface: UniInterface, ucall: UniCall) -> None:
        owner = ucall.owner
        if isinstance(owner, Branch):
            self._branch_closed(owner)
        elif isinstance(owner, SwitchCall):
            self._root_closed(owner)

    # ---- root side
    def _root_setup(self, port: int, ucall: UniCall, msg: Message | None) -> None:
        assert msg is not None
        call = SwitchCall(self._next_id, port, ucall, msg)
        self._next_id += 1
        ucall.owner = call
        self.calls[call.id] = call
        self.counters.calls_offered += 1
        ep = access.endpoint_reference(msg)
        call.first_epref = ep if ep is not None else 0
        party = Party(call.first_epref, call, access.called_number(msg), msg)
        call.parties[party.epref] = party
        self.counters.parties_offered += 1
        iface = self.ports[port]
        try:
            if not ucall.machine.multipoint:
                raise CallRefused(CAUSE_BEARER_NOT_IMPLEMENTED, "this switch carries point-to-multipoint calls only "
                                  "(broadband bearer capability, user-plane configuration)", "Q.2931 4.5.7, Q.2971")
            call.rates = CellRates.from_traffic_descriptor(access.element(msg, _TRAFFIC))
            party.port = self.router.route(party.called)
            vpi, vci = self._requested_connection(port, msg)
            call.vpi, call.vci = self.allocator.allocate(port, vpi, vci)
            try:
                key = ("root", call.id)
                self.admission.reserve(key, call.rates, [(port, INGRESS, "forward")])
                call.cac_key = key
                branch = self._new_branch(call, party.port)
            except CallRefused:
                if call.cac_key is not None:
                    self.admission.release(call.cac_key)
                    call.cac_key = None
                self.allocator.free(port, call.vpi, call.vci)
                call.vpi = call.vci = None
                raise
        except CallRefused as refusal:
            # Q.2931 5.1.8 / 5.4.2 a): a SETUP the network cannot accept is answered with RELEASE COMPLETE.
            self._party_ended(party, refusal.cause, None, "rejected", from_branch=True, tell_root=False)
            call.end_cause = refusal.cause
            call.gone = True
            iface.request(ucall, ev.RELEASE_RESPONSE, cause=refusal.cause)
            return
        # Q.2931 5.1.2: the connection identifier goes back in the first answer, CALL PROCEEDING.
        iface.request(ucall, ev.PROCEEDING_REQUEST,
                      content={"connection_id": iface.B.connection_identifier(call.vpi, call.vci)})
        self._setup_branch(branch, party)

    @staticmethod
    def _requested_connection(port: int, msg: Message) -> tuple[int | None, int | None]:
        """(VPI, VCI) the calling user asks for in its Connection identifier IE (Q.2931 5.1.2), or Nones."""
        c = access.element(msg, _CONNECTION)
        if c is None:
            return None, None
        pref_excl, vpci, vci = (int(access.field(c, f)) for f in ("pref_excl", "vpci", "vci"))
        if pref_excl == PreferredExclusive.EXCLUSIVE_VPCI_EXCLUSIVE_VCI:
            return vpci, vci
        if pref_excl == PreferredExclusive.EXCLUSIVE_VPCI_ANY_VCI:
            return vpci, None
        raise AllocationError(port, f"preferred/exclusive {pref_excl} (a switched virtual path) "
                              "is not supported")

    def _root_event(self, call: SwitchCall, ind: Indicate, msg: Message | None) -> None:
        p = ind.primitive
        cause, location = ind.cause, cause_of(msg)[1]
        iface = self.ports[call.port]
        if p == "add-party.indication":
            self._root_add_party(call, ind.instance, msg)
        elif p == "drop-party.indication":
            # The root drops a party (P12; or the switch's own party machine gave up: P11, DROP PARTY sent).
            party = call.parties.get(ind.instance)
            by_root = call.root.party_state(ind.instance) == _P12
            if party is not None:
                outcome = "dropped-by-root" if by_root else "dropped-by-switch"
                self._party_ended(party, cause, location, "withdrawn" if party.status != ACTIVE else outcome)
            if by_root:
                iface.request(call.root, ev.DROP_PARTY_ACK_REQUEST, epref=ind.instance)     # Q.2971
        elif p == "drop-party-ack.indication":
            party = call.parties.get(ind.instance)
            if party is not None and party.status != ENDED:
                self._party_ended(party, cause, location, "withdrawn" if party.status != ACTIVE else "dropped-by-root")
        elif p in ("release.indication", "release.confirm"):
            self._call_gone(call, cause, location)
            if not call.root.closed and call.root.state == _N11:
                iface.request(call.root, ev.RELEASE_RESPONSE)     # Q.2931 5.4.3: RELEASE COMPLETE
        else:
            self.counters.indications_ignored[p] += 1

    def _root_add_party(self, call: SwitchCall, epref: int | None, msg: Message | None) -> None:
        assert epref is not None and msg is not None
        party = Party(epref, call, access.called_number(msg), msg)
        call.parties[epref] = party
        self.counters.parties_offered += 1
        try:
            party.port = self.router.route(party.called)
            branch = call.branches.get(party.port)
            if branch is None:
                branch = self._new_branch(call, party.port)
                self._setup_branch(branch, party)
            else:
                self._add_on_branch(branch, party)
        except CallRefused as refusal:
            self._party_ended(party, refusal.cause, None, "rejected", from_branch=True)

    def _root_closed(self, call: SwitchCall) -> None:
        call.root_closed = True
        self._call_gone(call, call.end_cause, None)
        if call.vpi is not None:
            self.allocator.free(call.port, call.vpi, call.vci)
            call.vpi = call.vci = None
        if call.cac_key is not None:
            self.admission.release(call.cac_key)
            call.cac_key = None
        outcome = "cleared" if call.connected else "rejected"
        self.counters.call_outcomes[(outcome, call.end_cause)] += 1
        self._maybe_finish(call)

    def _call_gone(self, call: SwitchCall, cause: int | None, location: int | None) -> None:
        """The root's call is clearing (or cleared): every party ends, every branch is released, the VC
        leaves the fabric."""
        if call.gone:
            return
        call.gone = True
        call.end_cause = cause
        for party in list(call.parties.values()):
            if party.status != ENDED:
                self._party_ended(party, cause, location, "withdrawn" if party.status != ACTIVE else "dropped-by-root",
                                  tell_root=False)
        if call.vc is not None:
            self.fabric.remove_vc(call.vc)
            call.vc = None
            for b in (*call.branches.values(), *call.old_branches):
                b.leaf = None

    # ---- branches
    def _new_branch(self, call: SwitchCall, port: int) -> Branch:
        """Take a VPI/VCI and the egress rate on ``port`` for a new branch (no message sent yet)."""
        assert call.rates is not None
        vpi, vci = self.allocator.allocate(port)
        key = ("branch", call.id, self._next_branch)
        self._next_branch += 1
        try:
            self.admission.reserve(key, call.rates, [(port, EGRESS, "forward")])
        except CallRefused:
            self.allocator.free(port, vpi, vci)
            raise
        branch = Branch(call, port, vpi, vci, key)
        call.branches[port] = branch
        self.counters.branches_opened += 1
        return branch

    def _setup_branch(self, branch: Branch, party: Party) -> None:
        """SETUP to the branch's port for its first party (endpoint reference 0 on that UNI)."""
        iface = self.ports[branch.port]
        ucall = iface.originate(multipoint=True)
        ucall.owner = branch
        branch.ucall = ucall
        branch.parties[0] = party
        party.branch, party.branch_epref = branch, 0
        iface.request(ucall, ev.SETUP_REQUEST, epref=0, content=self._setup_content(branch, party))

    def _add_on_branch(self, branch: Branch, party: Party) -> None:
        """A further party behind a port the call already reaches: ADD PARTY on the branch's call (Q.2971),
        now if the branch's state allows it, else once it does."""
        party.branch = branch
        iface = self.ports[branch.port]
        if branch.ucall is not None and iface.accepts(branch.ucall, ev.ADD_PARTY_REQUEST):
            step = iface.request(branch.ucall, ev.ADD_PARTY_REQUEST, content=self._add_party_content(party))
            assert step.epref is not None
            branch.parties[step.epref] = party
            party.branch_epref = step.epref
            self.counters.add_party_on_branch += 1
        else:
            branch.pending.append(party)

    def _flush(self, branch: Branch) -> None:
        while branch.pending and not branch.closing and branch.ucall is not None and \
                self.ports[branch.port].accepts(branch.ucall, ev.ADD_PARTY_REQUEST):
            self._add_on_branch(branch, branch.pending.pop(0))

    def _branch_event(self, branch: Branch, ind: Indicate, msg: Message | None) -> None:
        p = ind.primitive
        cause, location = ind.cause, cause_of(msg)[1]
        iface = self.ports[branch.port]
        ucall = branch.ucall
        assert ucall is not None
        if p == "alerting.indication":
            self._party_alerting(branch.parties.get(0))
        elif p == "setup.confirm":
            # Q.2931 5.2.7: the network acknowledges the called user's CONNECT
            iface.request(ucall, ev.SETUP_COMPLETE_REQUEST)
            self._party_connected(branch.parties.get(0))
        elif p == "party-alerting.indication":
            self._party_alerting(branch.parties.get(ind.instance))
        elif p == "add-party-ack.indication":
            self._party_connected(branch.parties.get(ind.instance))
        elif p == "add-party-reject.indication":
            self._branch_party_ended(branch, ind.instance, cause, location)
        elif p == "drop-party.indication":
            if ucall.party_state(ind.instance) == _P12:
                iface.request(ucall, ev.DROP_PARTY_ACK_REQUEST, epref=ind.instance)
            self._branch_party_ended(branch, ind.instance, cause, location)
        elif p == "drop-party-ack.indication":
            self._branch_party_ended(branch, ind.instance, cause, location)
        elif p in ("release.indication", "release.confirm"):
            self._branch_gone(branch, cause, location)
            if not ucall.closed and ucall.state == _N11:
                iface.request(ucall, ev.RELEASE_RESPONSE)          # Q.2931 5.4.3: RELEASE COMPLETE
        else:
            self.counters.indications_ignored[p] += 1
        self._flush(branch)

    def _branch_party_ended(self, branch: Branch, bepref: int | None, cause: int | None, location: int | None) -> None:
        party = branch.parties.get(bepref) if bepref is not None else None
        if party is None or party.status == ENDED:
            return
        self._party_ended(party, cause, location, "dropped-by-leaf" if party.status == ACTIVE else "rejected",
                          from_branch=True)

    def _branch_gone(self, branch: Branch, cause: int | None, location: int | None) -> None:
        """The branch's call is clearing: its parties end with the cause (the leaf's, or the switch's own
        timer cause, e.g. 18 after T303 twice, Q.2931 5.2.1)."""
        self._retire(branch)
        for party in [*branch.parties.values(), *branch.pending]:
            if party.status != ENDED:
                self._party_ended(party, cause, location, "dropped-by-leaf" if party.status == ACTIVE else "rejected",
                                  from_branch=True)
        branch.pending.clear()

    def _branch_closed(self, branch: Branch) -> None:
        """The branch's call is back in Null: its VPI/VCI and rate are free again (Q.2931 5.4)."""
        self._branch_gone(branch, branch.call.end_cause, None)
        branch.closed = True
        self.allocator.free(branch.port, branch.vpi, branch.vci)
        self.admission.release(branch.key)
        call = branch.call
        if branch in call.old_branches:
            call.old_branches.remove(branch)
        self.counters.branches_closed += 1
        self._maybe_finish(call)

    def _retire(self, branch: Branch) -> None:
        """The branch takes no new party (it is clearing): a later party to its port gets a new branch."""
        branch.closing = True
        call = branch.call
        if call.branches.get(branch.port) is branch:
            del call.branches[branch.port]
            call.old_branches.append(branch)
        self._unlink_leaf(branch)

    # ---- parties
    def _party_alerting(self, party: Party | None) -> None:
        if party is None or party.status != OFFERED:
            self.counters.not_passed_on["alerting for no party being offered"] += 1
            return
        party.status = ALERTING
        self.counters.parties_alerting += 1
        call = party.call
        if call.root.closed:
            return
        if party.epref == call.first_epref and call.root.state in (_N1, _N3):
            self._tell_root(call, ev.ALERTING_REQUEST)                         # Q.2931 5.1.6
        elif call.root.party_state(party.epref) == _P6:
            self._tell_root(call, ev.PARTY_ALERTING_REQUEST, party.epref)      # Q.2971
        else:
            self.counters.not_passed_on[f"alerting in root state {call.root.state}/"
                                        f"{call.root.party_state(party.epref)}"] += 1

    def _party_connected(self, party: Party | None) -> None:
        if party is None or party.status not in (OFFERED, ALERTING):
            self.counters.not_passed_on["connect for no party being offered"] += 1
            return
        call, branch = party.call, party.branch
        assert branch is not None
        try:
            self._link_leaf(branch)
        except CallRefused as refusal:                       # the fabric's tables are full: cause 47
            self._party_ended(party, refusal.cause, None, "rejected")
            return
        party.status = ACTIVE
        self.counters.parties_connected += 1
        if call.root.closed:
            return
        if party.epref == call.first_epref and call.root.state in (_N1, _N3, _N4):
            self._tell_root(call, ev.SETUP_RESPONSE)                           # Q.2931 5.1.7: CONNECT
            call.connected = True
            self.counters.calls_connected += 1
            for other in call.parties.values():                               # acknowledgements held back
                if other.ack_held and other.status == ACTIVE:
                    other.ack_held = False
                    self._tell_root(call, ev.ADD_PARTY_ACK_REQUEST, other.epref)
        elif call.root.party_state(party.epref) in (_P6, _P4):
            if self.ports[call.port].accepts(call.root, ev.ADD_PARTY_ACK_REQUEST, party.epref):
                self._tell_root(call, ev.ADD_PARTY_ACK_REQUEST, party.epref)  # Q.2971: ADD PARTY ACK
            else:
                # Q.2971 (SDL CC-N 8/39): no ADD PARTY ACKNOWLEDGE while the call is only delivered (N4);
                # it goes out once the first party has connected and the call is active.
                party.ack_held = True
        else:
            where = f"{call.root.state}/{call.root.party_state(party.epref)}"
            self.counters.not_passed_on[f"connect in root state {where}"] += 1

    def _tell_root(self, call: SwitchCall, event: str, epref: int | None = None, **params: Any) -> bool:
        """A primitive on the root's call when its state allows it (else counted, not raised: the root
        may have moved on, e.g. dropped the party, while the leaf's answer was on its way)."""
        iface = self.ports[call.port]
        if call.root.closed or not iface.accepts(call.root, event, epref):
            self.counters.not_passed_on[f"{event} in root state {call.root.state}"] += 1
            return False
        iface.request(call.root, event, epref=epref, **params)
        return True

    def _party_ended(self, party: Party, cause: int | None, location: int | None, outcome: str, *,
                     from_branch: bool = False, tell_root: bool = True) -> None:
        """The party is over: the branch side is told unless the end came from there, the leaf leaves the
        fabric, and the root is told unless the end came from the root (its party machine no longer
        accepts an answer then, which is how this knows)."""
        if party.status == ENDED:
            return
        party.status, party.outcome, party.cause = ENDED, outcome, cause
        self.counters.party_outcomes[(outcome, cause)] += 1
        call, branch = party.call, party.branch
        if call.parties.get(party.epref) is party and party.epref != call.first_epref:
            # an ended party holds nothing: forget it, so that a long call's add/drop cycles keep no state
            # (counted in party_outcomes; the first party stays, the call's result reads it)
            del call.parties[party.epref]
        if branch is not None:
            if party in branch.pending:
                branch.pending.remove(party)
            elif branch.parties.get(party.branch_epref) is party:
                del branch.parties[party.branch_epref]
                if not from_branch:
                    self._end_on_branch(branch, party, cause, location)
            self._unlink_leaf_if_idle(branch)
        if not tell_root or call.root.closed:
            return
        root, e = call.root, party.epref
        party.ack_held = False
        if e == call.first_epref and root.state in (_N1, _N3, _N4):
            # The first party failed before the call was active: the call fails (Q.2931 5.2.5 / 5.1.8).
            self._call_gone(call, cause, location)
            if root.state == _N1:
                self._tell_root(call, ev.RELEASE_RESPONSE, cause=cause, location=location)
            else:
                self._tell_root(call, ev.RELEASE_REQUEST, cause=cause or CAUSE_TEMPORARY_FAILURE, location=location)
        elif root.party_state(e) == _P6:
            self._tell_root(call, ev.ADD_PARTY_REJECT_REQUEST, e, cause=cause or CAUSE_TEMPORARY_FAILURE,
                            location=location)                               # Q.2971: ADD PARTY REJECT
        elif root.party_state(e) in (_P4, _P10):
            # Q.2971: DROP PARTY (the last-party rule makes it RELEASE). Once PARTY ALERTING has gone to
            # the root (P4) the network party machine has no ADD PARTY REJECT left (SDL PC 7/14, as
            # ngatm): a party refused after alerting is dropped, with the leaf's cause.
            self._tell_root(call, ev.DROP_PARTY_REQUEST, e, cause=cause or ev.CAUSE_NORMAL_CLEARING,
                            location=location)

    def _end_on_branch(self, branch: Branch, party: Party, cause: int | None, location: int | None) -> None:
        """Tell the leaf: RELEASE when this was the branch's last party, else DROP PARTY (Q.2971)."""
        ucall = branch.ucall
        if ucall is None or ucall.closed or branch.closing:
            return
        iface = self.ports[branch.port]
        if not branch.parties and not branch.pending:
            if iface.accepts(ucall, ev.RELEASE_REQUEST):
                self._retire(branch)
                iface.request(ucall, ev.RELEASE_REQUEST, cause=cause or ev.CAUSE_NORMAL_CLEARING, location=location)
        elif iface.accepts(ucall, ev.DROP_PARTY_REQUEST, party.branch_epref):
            iface.request(ucall, ev.DROP_PARTY_REQUEST, epref=party.branch_epref,
                          cause=cause or ev.CAUSE_NORMAL_CLEARING, location=location)
        else:
            where = f"{ucall.state}/{ucall.party_state(party.branch_epref)}"
            self.counters.not_passed_on[f"drop of branch party in {where}"] += 1

    # ---- the fabric
    def _link_leaf(self, branch: Branch) -> None:
        call = branch.call
        if branch.leaf is not None:
            return
        if call.vc is None:
            assert call.vpi is not None and call.vci is not None
            call.vc = self.fabric.install_vc(call.port, call.vpi, call.vci, aal5=True, multipoint=True)
        branch.leaf = self.fabric.add_leaf(call.vc, branch.port, branch.vpi, branch.vci)

    def _unlink_leaf(self, branch: Branch) -> None:
        if branch.leaf is not None and branch.call.vc is not None:
            self.fabric.remove_leaf(branch.call.vc, branch.leaf)
        branch.leaf = None

    def _unlink_leaf_if_idle(self, branch: Branch) -> None:
        if not any(p.status == ACTIVE for p in branch.parties.values()):
            self._unlink_leaf(branch)

    def _maybe_finish(self, call: SwitchCall) -> None:
        if call.root_closed and not call.branches and not call.old_branches:
            self.calls.pop(call.id, None)

    # ---- contents of the messages to the leaves
    def _setup_content(self, branch: Branch, party: Party) -> dict[str, Any]:
        """The leaf's SETUP: the root's traffic, bearer, QoS, AAL and layer information, the party's
        called number (and subaddress), and the branch's connection identifier (Q.2931 5.2.3)."""
        iface = self.ports[branch.port]
        copy, get = iface.codec.copy, access.element
        s, m = branch.call.setup, party.message or branch.call.setup
        kw: dict[str, Any] = {
            "called": copy(party.called),
            "traffic": copy(get(s, _TRAFFIC)),
            "bearer": copy(get(s, _BEARER)),
            "qos": copy(get(s, _QOS)),
            "aal": copy(get(m, _AAL) or get(s, _AAL)),
            "bhli": copy(get(m, _BHLI) or get(s, _BHLI)),
            "calling": copy(get(m, _CALLING) or get(s, _CALLING)),
            "calling_sub": copy(get(m, _CALLING_SUB) or get(s, _CALLING_SUB)),
            "called_sub": copy(get(m, _CALLED_SUB)),
            "e2e_delay": copy(get(m, _DELAY) or get(s, _DELAY)),
            "connection_id": iface.B.connection_identifier(branch.vpi, branch.vci),
        }
        blli = [copy(x) for x in (access.elements(m, _BLLI) or access.elements(s, _BLLI))]
        if blli:
            kw["blli"] = blli if len(blli) > 1 else blli[0]
            repeat = get(s, _REPEAT)
            if len(blli) > 1 and repeat is not None:
                kw["repeat"] = copy(repeat)
        return {k: v for k, v in kw.items() if v is not None}

    def _add_party_content(self, party: Party) -> dict[str, Any]:
        assert party.branch is not None
        copy, get = self.ports[party.branch.port].codec.copy, access.element
        s, m = party.call.setup, party.message or party.call.setup
        kw = {
            "called": copy(party.called),
            "aal": copy(get(m, _AAL) or get(s, _AAL)),
            "bhli": copy(get(m, _BHLI) or get(s, _BHLI)),
            "blli": copy(get(m, _BLLI) or get(s, _BLLI)),
            "calling": copy(get(m, _CALLING) or get(s, _CALLING)),
            "calling_sub": copy(get(m, _CALLING_SUB) or get(s, _CALLING_SUB)),
            "called_sub": copy(get(m, _CALLED_SUB)),
            "e2e_delay": copy(get(m, _DELAY) or get(s, _DELAY)),
        }
        return {k: v for k, v in kw.items() if v is not None}

    # ---- views and checks
    def interface_counters(self) -> InterfaceCounters:
        """Every port's interface counters summed."""
        total = InterfaceCounters()
        for iface in self.ports:
            c = iface.counters
            for name in ("messages_in", "messages_out", "requests", "indications", "answered", "causes", "discards",
                         "decode_errors", "timers_started", "timers_expired"):
                getattr(total, name).update(getattr(c, name))
            total.calls_opened += c.calls_opened
            total.calls_closed += c.calls_closed
        return total

    def live_parties(self) -> list[Party]:
        return [p for c in self.calls.values() for p in c.parties.values() if p.status != ENDED]

    def idle(self) -> bool:
        """No call, no branch, no resource held, nothing in the fabric."""
        return (not self.calls and not any(i.calls for i in self.ports) and self.allocator.in_use() == 0
                and not self.admission.reservations and self.fabric.empty)

    def check_balance(self) -> None:
        """Raise :class:`BalanceError` naming every count that does not add up."""
        c, problems = self.counters, []
        live_calls = sum(1 for call in self.calls.values() if not call.root_closed)
        ended_calls = sum(c.call_outcomes.values())
        if c.calls_offered != ended_calls + live_calls:
            problems.append(f"calls offered {c.calls_offered} != ended {ended_calls} + live {live_calls}")
        live = self.live_parties()
        ended = sum(c.party_outcomes.values())
        if c.parties_offered != ended + len(live):
            problems.append(f"parties offered {c.parties_offered} != ended {ended} + live {len(live)}")
        dropped = sum(n for (o, _), n in c.party_outcomes.items() if o.startswith("dropped"))
        active = sum(1 for p in live if p.status == ACTIVE)
        if c.parties_connected != dropped + active:
            problems.append(f"parties connected {c.parties_connected} != dropped {dropped} + active {active}")
        branches = sum(len(call.branches) + len(call.old_branches) for call in self.calls.values())
        if c.branches_opened != c.branches_closed + branches:
            problems.append(f"branches opened {c.branches_opened} != closed {c.branches_closed} + live {branches}")
        f = self.fabric
        if f.vcs_installed - f.vcs_removed != len(f.vcs):
            problems.append(f"fabric VCs installed {f.vcs_installed} - removed {f.vcs_removed} "
                            f"!= programmed {len(f.vcs)}")
        linked = sum(len(e.leaves) for e in f.vcs.values())
        if f.leaves_added - f.leaves_removed != linked:
            problems.append(f"fabric leaves added {f.leaves_added} - removed {f.leaves_removed} != linked {linked}")
        try:
            f.verify()
        except Exception as exc:  # noqa: BLE001 - reported as a balance problem with its message
            problems.append(str(exc))
        a = self.allocator
        held = sum(1 for call in self.calls.values() if call.vpi is not None) + branches
        given = sum(a.allocated.values()) - sum(a.freed.values())
        if given != a.in_use() or a.in_use() != held:
            problems.append(f"VPI/VCI allocated-freed {given}, in use {a.in_use()}, held by calls and branches {held}")
        ad = self.admission
        if ad.admitted - ad.released != len(ad.reservations):
            problems.append(f"admissions {ad.admitted} - releases {ad.released} != held {len(ad.reservations)}")
        committed = sum(d.rate for ds in ad.reservations.values() for d in ds)
        if committed != ad.committed_total():
            problems.append(f"committed cell rate {ad.committed_total()} != sum of reservations {committed}")
        for i, iface in enumerate(self.ports):
            ic = iface.counters
            if ic.calls_opened != ic.calls_closed + len(iface.calls):
                problems.append(f"port {i}: calls opened {ic.calls_opened} != closed {ic.calls_closed} "
                                f"+ live {len(iface.calls)}")
            channel_counters = getattr(iface.channel, "counters", None)
            sent = channel_counters.get("sent", 0) if channel_counters is not None else None
            if sent is not None and sent != sum(ic.messages_out.values()):
                problems.append(f"port {i}: channel sent {sent} != messages out {sum(ic.messages_out.values())}")
        if problems:
            raise BalanceError(problems)


__all__ = ["Branch", "ControlPlane", "Party", "SwitchCall", "SwitchCounters"]
