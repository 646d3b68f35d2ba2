"""SSCOP connection control (ITU-T Q.2110) as data: ``(state, event) -> (next state, actions)``.

The ten states are those of Q.2110 7.3, numbered as there. The events are the 15 received PDUs
(7.1), the 5 timer expiries (7.6) and the requests/responses of the SSCOP user and of layer
management (6.1). Every row carries the clause it comes from: "8.2 p.NN" is the page of the SDL
diagrams of Q.2110 (07/94), clause 8.2 (the same page numbers FreeBSD's ngatm ``saal_sscop.c`` cites);
the SDL macros (Initialize state variables, Prepare retrieval, Deliver data, Detect retransmission...)
are on pp.75-77.

A reaction is either a :class:`Rule` (next state, actions) or, where the SDL branches on a decision
before acting, a :class:`Choice`: the machine evaluates the named :class:`Decision` and follows the
branch whose outcome it yields. Actions are :class:`Act` names; ``firmware.sscop.machine`` performs
them. Data-transfer procedures that do not change the state (process a STAT, an in-window SD...) are
single actions; the branches that do change it (an SD or POLL with an N(S) error starts recovery)
are rows of the table.

Q.2110 prescribes a reaction for every received PDU in every state (ignore it, MAA-ERROR, END...):
those are rows, never errors. What is illegal is a request of the SSCOP user that the signal
sequences of 6.2 do not allow in that state, and the expiry of a timer that cannot be running in that
state; :data:`ILLEGAL` lists each such pair with its reason, and the machine raises
:class:`~firmware.sscop.protocol_errors.SSCOPProtocolError` for them, leaving the state unchanged.

One internal SDL signal is not an event of this table: "SD PDU queued up" (8.2 pp.64-65), the
transmitter's work loop. The machine runs it after every event that leaves it in state 10, which is
what the SDL's saved signals amount to: in states 7, 8 and 9 the signal is saved until the state
changes, and in the other states the transmission queue is either empty, cleared, or kept only for
AA-RETRIEVE (Clear-Buffers = No) and cleared before the next connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum, IntEnum

from firmware.sscop.protocol_errors import SSCOPProtocolError


class State(IntEnum):
    """States of an SSCOP protocol entity (Q.2110 7.3)."""

    IDLE = 1
    OUTGOING_CONNECTION_PENDING = 2
    INCOMING_CONNECTION_PENDING = 3
    OUTGOING_DISCONNECTION_PENDING = 4
    OUTGOING_RESYNC_PENDING = 5
    INCOMING_RESYNC_PENDING = 6
    OUTGOING_RECOVERY_PENDING = 7
    RECOVERY_RESPONSE_PENDING = 8
    INCOMING_RECOVERY_PENDING = 9
    DATA_TRANSFER_READY = 10

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]


_STATE_LABELS = {
    State.IDLE: "Idle",
    State.OUTGOING_CONNECTION_PENDING: "Outgoing Connection Pending",
    State.INCOMING_CONNECTION_PENDING: "Incoming Connection Pending",
    State.OUTGOING_DISCONNECTION_PENDING: "Outgoing Disconnection Pending",
    State.OUTGOING_RESYNC_PENDING: "Outgoing Resynchronization Pending",
    State.INCOMING_RESYNC_PENDING: "Incoming Resynchronization Pending",
    State.OUTGOING_RECOVERY_PENDING: "Outgoing Recovery Pending",
    State.RECOVERY_RESPONSE_PENDING: "Recovery Response Pending",
    State.INCOMING_RECOVERY_PENDING: "Incoming Recovery Pending",
    State.DATA_TRANSFER_READY: "Data Transfer Ready",
}


class Event(str, Enum):
    """Inputs of the state table."""

    # received PDUs (7.1)
    BGN = "BGN"
    BGAK = "BGAK"
    END = "END"
    ENDAK = "ENDAK"
    RS = "RS"
    RSAK = "RSAK"
    BGREJ = "BGREJ"
    SD = "SD"
    ER = "ER"
    POLL = "POLL"
    STAT = "STAT"
    USTAT = "USTAT"
    UD = "UD"
    MD = "MD"
    ERAK = "ERAK"
    # timer expiries (7.6)
    TIMER_CC = "Timer_CC"
    TIMER_POLL = "Timer_POLL"
    TIMER_NO_RESPONSE = "Timer_NO-RESPONSE"
    TIMER_KEEP_ALIVE = "Timer_KEEP-ALIVE"
    TIMER_IDLE = "Timer_IDLE"
    # from the SSCOP user and layer management (6.1)
    AA_ESTABLISH_REQUEST = "AA-ESTABLISH.request"
    AA_ESTABLISH_RESPONSE = "AA-ESTABLISH.response"
    AA_RELEASE_REQUEST = "AA-RELEASE.request"
    AA_DATA_REQUEST = "AA-DATA.request"
    AA_RESYNC_REQUEST = "AA-RESYNC.request"
    AA_RESYNC_RESPONSE = "AA-RESYNC.response"
    AA_RECOVER_RESPONSE = "AA-RECOVER.response"
    AA_UNITDATA_REQUEST = "AA-UNITDATA.request"
    AA_RETRIEVE_REQUEST = "AA-RETRIEVE.request"
    MAA_UNITDATA_REQUEST = "MAA-UNITDATA.request"


PDU_EVENTS = tuple(Event)[:15]
TIMER_EVENTS = tuple(Event)[15:20]
USER_EVENTS = tuple(Event)[20:]


class Decision(str, Enum):
    """Decisions the SDL takes before acting; the outcomes are listed in :data:`OUTCOMES`."""

    RETRANSMISSION = "N(SQ) = VR(SQ)? (Detect retransmission, 8.2 p.76)"
    VT_CC = "VT(CC) >= MaxCC?"
    SD_N_S = "N(S) of the SD against VR(R), VR(H), VR(MR) (8.2 p.66)"
    POLL_N_S = "N(S) of the POLL >= VR(H)? (8.2 p.67)"
    STAT_CHECK = "N(PS), N(R) and list of the STAT valid? (8.2 pp.70-71)"
    USTAT_CHECK = "N(R) and list of the USTAT valid? (8.2 p.69)"


#: Outcomes of each decision, in the order the SDL tests them.
OUTCOMES: dict[Decision, tuple[str, ...]] = {
    Decision.RETRANSMISSION: ("retransmission", "new"),
    Decision.VT_CC: ("VT(CC) >= MaxCC", "VT(CC) < MaxCC"),
    Decision.SD_N_S: ("N(S) >= VR(MR)", "N(S) = VR(R)", "N(S) = VR(H)", "N(S) > VR(H)",
                      "VR(R) < N(S) < VR(H), missing", "VR(R) < N(S) < VR(H), buffered"),
    Decision.POLL_N_S: ("N(S) >= VR(H)", "N(S) < VR(H)"),
    Decision.STAT_CHECK: ("valid", "N(PS) error", "N(R) or list error"),
    Decision.USTAT_CHECK: ("valid", "N(R) or list error"),
}


class Act(str, Enum):
    """Actions of the SDL, performed by the machine in the order a rule lists them."""

    IGNORE = "ignore the PDU (counted)"
    # timers (7.6; macros 8.2 pp.76-77)
    START_CC = "start Timer_CC"
    STOP_CC = "stop Timer_CC"
    START_NO_RESPONSE = "start Timer_NO-RESPONSE"
    SET_DATA_TRANSFER_TIMERS = "Set data transfer timers (start POLL, NO-RESPONSE)"
    RESET_DATA_TRANSFER_TIMERS = "Reset data transfer timers (stop POLL, KEEP-ALIVE, NO-RESPONSE, IDLE)"
    SET_POLL_TIMER = "Set POLL timer (KEEP-ALIVE if nothing outstanding, else POLL)"
    # state variables (7.4)
    VT_CC_1 = "VT(CC) := 1"
    VT_CC_INC = "VT(CC) := VT(CC) + 1"
    VT_SQ_INC = "VT(SQ) := VT(SQ) + 1"
    VT_PS_INC = "VT(PS) := VT(PS) + 1"
    VT_PD_0 = "VT(PD) := 0"
    SET_VT_MS = "VT(MS) := N(MR)"
    INIT_VR_MR = "Initialize VR(MR)"
    INIT_STATE = "Initialize state variables"
    SET_CLEAR_BUFFERS = "Clear-Buffers := BR"
    # SSCOP-UU kept for retransmission
    STORE_UU_BGN = "save SSCOP-UU for BGN"
    STORE_UU_BGAK = "save SSCOP-UU for BGAK"
    STORE_UU_BGREJ = "save SSCOP-UU for BGREJ"
    STORE_UU_END = "save SSCOP-UU for END"
    STORE_UU_RS = "save SSCOP-UU for RS"
    # PDUs sent
    SEND_BGN = "send BGN"
    SEND_BGAK = "send BGAK (saved SSCOP-UU)"
    SEND_BGAK_NO_UU = "send BGAK (no SSCOP-UU)"
    SEND_BGREJ = "send BGREJ"
    SEND_END_USER = "send END (S=0, saved SSCOP-UU)"
    SEND_END_SSCOP = "send END (S=1)"
    RESEND_END = "send END again (same S and SSCOP-UU)"
    SEND_ENDAK = "send ENDAK"
    SEND_RS = "send RS"
    RESEND_RS = "send RS again (same N(MR), N(SQ), SSCOP-UU)"
    SEND_RSAK = "send RSAK"
    SEND_ER = "send ER"
    SEND_ERAK = "send ERAK"
    SEND_POLL = "send POLL"
    SEND_UD = "send UD"
    SEND_MD = "send MD"
    # signals to the user / layer management (6.1)
    AA_ESTABLISH_INDICATION = "AA-ESTABLISH.indication"
    AA_ESTABLISH_CONFIRM = "AA-ESTABLISH.confirm"
    AA_RELEASE_INDICATION_PEER = "AA-RELEASE.indication (SSCOP-UU; Source = S of END, user for BGREJ)"
    AA_RELEASE_INDICATION_USER = "AA-RELEASE.indication (Source = user)"
    AA_RELEASE_INDICATION_SSCOP = "AA-RELEASE.indication (Source = SSCOP)"
    AA_RELEASE_CONFIRM = "AA-RELEASE.confirm"
    AA_RESYNC_INDICATION = "AA-RESYNC.indication"
    AA_RESYNC_CONFIRM = "AA-RESYNC.confirm"
    AA_RECOVER_INDICATION = "AA-RECOVER.indication"
    AA_UNITDATA_INDICATION = "AA-UNITDATA.indication"
    MAA_UNITDATA_INDICATION = "MAA-UNITDATA.indication"
    MAA_ERROR_A = "MAA-ERROR (A)"
    MAA_ERROR_B = "MAA-ERROR (B)"
    MAA_ERROR_C = "MAA-ERROR (C)"
    MAA_ERROR_D = "MAA-ERROR (D)"
    MAA_ERROR_F = "MAA-ERROR (F)"
    MAA_ERROR_G = "MAA-ERROR (G)"
    MAA_ERROR_H = "MAA-ERROR (H)"
    MAA_ERROR_I = "MAA-ERROR (I)"
    MAA_ERROR_J = "MAA-ERROR (J)"
    MAA_ERROR_K = "MAA-ERROR (K)"
    MAA_ERROR_L = "MAA-ERROR (L)"
    MAA_ERROR_M = "MAA-ERROR (M)"
    MAA_ERROR_O = "MAA-ERROR (O)"
    MAA_ERROR_P = "MAA-ERROR (P)"
    MAA_ERROR_Q = "MAA-ERROR (Q)"
    MAA_ERROR_R = "MAA-ERROR (R)"
    MAA_ERROR_S = "MAA-ERROR (S)"
    MAA_ERROR_T = "MAA-ERROR (T)"
    # buffers (macros 8.2 pp.75-76)
    CLEAR_TRANSMITTER = "Clear transmitter (if Clear-Buffers = No)"
    RELEASE_BUFFERS = "Release buffers"
    PREPARE_RETRIEVAL = "Prepare retrieval"
    PREPARE_RECOVERY = "Prepare recovery"
    DELIVER_DATA = "Deliver data (receive buffer)"
    CLEAR_RECEIVE_BUFFER = "clear receive buffer"
    CLEAR_TX_BUFFER_IF_KEEP = "clear transmission buffer if Clear-Buffers = No"
    DATA_RETRIEVAL = "Data retrieval (AA-RETRIEVE.indication..., AA-RETRIEVE_COMPLETE.indication)"
    QUEUE_DATA = "put the SDU in the transmission queue"
    QUEUE_DATA_IF_KEEP = "put the SDU in the transmission queue if Clear-Buffers = No, else discard"
    DISCARD_SD = "discard the SD (counted)"
    # data transfer procedures in state 10 (8.2 pp.66-72)
    RX_SD_OUTSIDE_WINDOW = "SD outside the receive window: USTAT(VR(H), VR(MR)) once, discard"
    RX_SD_IN_SEQUENCE = "deliver the SD and the buffered ones that follow; VR(R), VR(H), VR(MR)"
    RX_SD_AT_HIGHEST = "buffer the SD; VR(H) := N(S) + 1"
    RX_SD_BEYOND_HIGHEST = "buffer the SD; USTAT(VR(H), N(S)); VR(H) := N(S) + 1"
    RX_SD_FILLS_GAP = "buffer the SD"
    RX_POLL = "VR(H) := min(N(S), VR(MR)); send STAT (split at MaxSTAT)"
    RX_STAT = "release acknowledged SDs, retransmit listed ones (MAA V), credit (W/X), timers"
    RX_USTAT = "release acknowledged SDs, retransmit listed ones (MAA V)"


@dataclass(frozen=True, slots=True)
class Rule:
    """Go to ``next_state`` after performing ``actions``; ``clause`` is the Q.2110 reference."""

    next_state: State
    actions: tuple[Act, ...]
    clause: str


@dataclass(frozen=True, slots=True)
class Choice:
    """Evaluate ``decision``, then follow the rule of its outcome."""

    decision: Decision
    branches: tuple[tuple[str, Rule], ...]

    def rule(self, outcome: str) -> Rule:
        for name, rule in self.branches:
            if name == outcome:
                return rule
        raise KeyError(outcome)


Reaction = Rule | Choice


def _r(next_state: State, clause: str, *actions: Act) -> Rule:
    return Rule(next_state, actions, clause)


def _choice(decision: Decision, branches: dict[str, Rule]) -> Choice:
    return Choice(decision, tuple(branches.items()))


def _retransmission(retransmission: Rule, new: Rule) -> Choice:
    return _choice(Decision.RETRANSMISSION, {"retransmission": retransmission, "new": new})


def _vt_cc(exhausted: Rule, remaining: Rule) -> Choice:
    return _choice(Decision.VT_CC, {"VT(CC) >= MaxCC": exhausted, "VT(CC) < MaxCC": remaining})


S = State
E = Event
A = Act

_S1 = S.IDLE
_S2 = S.OUTGOING_CONNECTION_PENDING
_S3 = S.INCOMING_CONNECTION_PENDING
_S4 = S.OUTGOING_DISCONNECTION_PENDING
_S5 = S.OUTGOING_RESYNC_PENDING
_S6 = S.INCOMING_RESYNC_PENDING
_S7 = S.OUTGOING_RECOVERY_PENDING
_S8 = S.RECOVERY_RESPONSE_PENDING
_S9 = S.INCOMING_RECOVERY_PENDING
_S10 = S.DATA_TRANSFER_READY

#: Start of error recovery from state 10 (8.2 p.67): after MAA-ERROR Q, R, S or T.
_RECOVER = (A.VT_CC_1, A.VT_SQ_INC, A.INIT_VR_MR, A.SEND_ER, A.PREPARE_RECOVERY, A.START_CC)

#: Unexpected PDU answered by MAA-ERROR, END (S=1) and AA-RELEASE.indication (release by SSCOP).
def _abort(code: Act, clause: str) -> Rule:
    return _r(_S1, clause, code, A.SEND_END_SSCOP, A.AA_RELEASE_INDICATION_SSCOP)


def _common(state: State) -> dict[tuple[State, Event], Reaction]:
    """Unnumbered data, in any state (8.2 pp.73-74)."""
    return {
        (state, E.UD): _r(state, "8.2 p.73", A.AA_UNITDATA_INDICATION),
        (state, E.MD): _r(state, "8.2 p.73", A.MAA_UNITDATA_INDICATION),
        (state, E.AA_UNITDATA_REQUEST): _r(state, "8.2 pp.73-74", A.SEND_UD),
        (state, E.MAA_UNITDATA_REQUEST): _r(state, "8.2 pp.73-74", A.SEND_MD),
    }


def _ignore(state: State, clause: str, *events: Event) -> dict[tuple[State, Event], Reaction]:
    return {(state, event): _r(state, clause, A.IGNORE) for event in events}


TRANSITIONS: dict[tuple[State, Event], Reaction] = {
    # ---- 1 Idle (8.2 pp.31-33) -------------------------------------------------------------------
    **_common(_S1),
    (_S1, E.AA_ESTABLISH_REQUEST): _r(
        _S2, "8.2 p.31", A.STORE_UU_BGN, A.CLEAR_TRANSMITTER, A.SET_CLEAR_BUFFERS, A.VT_CC_1,
        A.VT_SQ_INC, A.INIT_VR_MR, A.SEND_BGN, A.START_CC),
    (_S1, E.BGN): _retransmission(
        retransmission=_r(_S1, "8.2 p.31", A.SEND_BGREJ),
        new=_r(_S3, "8.2 p.31", A.SET_VT_MS, A.AA_ESTABLISH_INDICATION)),
    (_S1, E.ENDAK): _r(_S1, "8.2 p.31", A.IGNORE),
    (_S1, E.END): _r(_S1, "8.2 p.31", A.SEND_ENDAK),
    (_S1, E.ER): _r(_S1, "8.2 p.31", A.MAA_ERROR_L, A.SEND_END_SSCOP),
    (_S1, E.BGREJ): _r(_S1, "8.2 p.31", A.MAA_ERROR_D),
    (_S1, E.POLL): _r(_S1, "8.2 p.32", A.MAA_ERROR_G, A.SEND_END_SSCOP),
    (_S1, E.SD): _r(_S1, "8.2 p.32", A.MAA_ERROR_A, A.SEND_END_SSCOP),
    (_S1, E.BGAK): _r(_S1, "8.2 p.32", A.MAA_ERROR_C, A.SEND_END_SSCOP),
    (_S1, E.ERAK): _r(_S1, "8.2 p.32", A.MAA_ERROR_M, A.SEND_END_SSCOP),
    (_S1, E.STAT): _r(_S1, "8.2 p.32", A.MAA_ERROR_H, A.SEND_END_SSCOP),
    (_S1, E.USTAT): _r(_S1, "8.2 p.32", A.MAA_ERROR_I, A.SEND_END_SSCOP),
    (_S1, E.RS): _r(_S1, "8.2 p.33", A.MAA_ERROR_J, A.SEND_END_SSCOP),
    (_S1, E.RSAK): _r(_S1, "8.2 p.33", A.MAA_ERROR_K, A.SEND_END_SSCOP),
    (_S1, E.AA_RETRIEVE_REQUEST): _r(_S1, "8.2 p.33", A.DATA_RETRIEVAL),

    # ---- 2 Outgoing Connection Pending (8.2 pp.34-36) --------------------------------------------
    **_common(_S2),
    (_S2, E.BGAK): _r(
        _S10, "8.2 p.34", A.STOP_CC, A.SET_VT_MS, A.AA_ESTABLISH_CONFIRM, A.INIT_STATE,
        A.SET_DATA_TRANSFER_TIMERS),
    (_S2, E.BGREJ): _r(_S1, "8.2 p.34", A.STOP_CC, A.AA_RELEASE_INDICATION_PEER),
    **_ignore(_S2, "8.2 p.34", E.ENDAK, E.SD, E.ERAK, E.END, E.STAT, E.USTAT, E.POLL, E.ER),
    (_S2, E.TIMER_CC): _vt_cc(
        exhausted=_r(_S1, "8.2 p.35", A.MAA_ERROR_O, A.SEND_END_SSCOP, A.AA_RELEASE_INDICATION_SSCOP),
        remaining=_r(_S2, "8.2 p.35", A.VT_CC_INC, A.SEND_BGN, A.START_CC)),
    (_S2, E.AA_RELEASE_REQUEST): _r(
        _S4, "8.2 p.35", A.STORE_UU_END, A.STOP_CC, A.VT_CC_1, A.SEND_END_USER, A.START_CC),
    (_S2, E.BGN): _retransmission(
        retransmission=_r(_S2, "8.2 p.36", A.IGNORE),
        new=_r(_S10, "8.2 p.36", A.STOP_CC, A.SET_VT_MS, A.INIT_VR_MR, A.SEND_BGAK_NO_UU,
               A.AA_ESTABLISH_CONFIRM, A.INIT_STATE, A.SET_DATA_TRANSFER_TIMERS)),
    **_ignore(_S2, "8.2 p.36", E.RS, E.RSAK),

    # ---- 3 Incoming Connection Pending (8.2 pp.37-39) --------------------------------------------
    **_common(_S3),
    (_S3, E.AA_ESTABLISH_RESPONSE): _r(
        _S10, "8.2 p.37", A.STORE_UU_BGAK, A.CLEAR_TRANSMITTER, A.SET_CLEAR_BUFFERS, A.INIT_VR_MR,
        A.SEND_BGAK, A.INIT_STATE, A.SET_DATA_TRANSFER_TIMERS),
    (_S3, E.AA_RELEASE_REQUEST): _r(_S1, "8.2 p.37", A.STORE_UU_BGREJ, A.SEND_BGREJ),
    (_S3, E.BGN): _retransmission(
        retransmission=_r(_S3, "8.2 p.37", A.IGNORE),
        new=_r(_S3, "8.2 p.37", A.SET_VT_MS, A.AA_RELEASE_INDICATION_USER, A.AA_ESTABLISH_INDICATION)),
    (_S3, E.ER): _r(_S3, "8.2 p.37", A.MAA_ERROR_L),
    (_S3, E.ENDAK): _r(_S1, "8.2 p.37", A.MAA_ERROR_F, A.AA_RELEASE_INDICATION_SSCOP),
    (_S3, E.BGAK): _r(_S3, "8.2 p.38", A.MAA_ERROR_C),
    (_S3, E.BGREJ): _r(_S1, "8.2 p.38", A.MAA_ERROR_D, A.AA_RELEASE_INDICATION_SSCOP),
    (_S3, E.SD): _abort(A.MAA_ERROR_A, "8.2 p.38"),
    (_S3, E.USTAT): _abort(A.MAA_ERROR_I, "8.2 p.38"),
    (_S3, E.STAT): _abort(A.MAA_ERROR_H, "8.2 p.38"),
    (_S3, E.POLL): _abort(A.MAA_ERROR_G, "8.2 p.38"),
    (_S3, E.ERAK): _r(_S3, "8.2 p.39", A.MAA_ERROR_M),
    (_S3, E.RS): _r(_S3, "8.2 p.39", A.MAA_ERROR_J),
    (_S3, E.RSAK): _r(_S3, "8.2 p.39", A.MAA_ERROR_K),
    (_S3, E.END): _r(_S1, "8.2 p.39", A.SEND_ENDAK, A.AA_RELEASE_INDICATION_PEER),
    (_S3, E.AA_RETRIEVE_REQUEST): _r(_S3, "8.2 p.39", A.DATA_RETRIEVAL),

    # ---- 4 Outgoing Disconnection Pending (8.2 pp.40-42) -----------------------------------------
    **_common(_S4),
    (_S4, E.AA_ESTABLISH_REQUEST): _r(
        _S2, "8.2 p.40", A.STORE_UU_BGN, A.STOP_CC, A.CLEAR_TRANSMITTER, A.SET_CLEAR_BUFFERS,
        A.VT_CC_1, A.VT_SQ_INC, A.INIT_VR_MR, A.SEND_BGN, A.START_CC),
    **_ignore(_S4, "8.2 p.40", E.SD, E.BGAK, E.POLL, E.STAT, E.USTAT),
    **_ignore(_S4, "8.2 p.41", E.ERAK),
    (_S4, E.END): _r(_S1, "8.2 p.41", A.STOP_CC, A.SEND_ENDAK, A.AA_RELEASE_CONFIRM),
    (_S4, E.ENDAK): _r(_S1, "8.2 p.41", A.STOP_CC, A.AA_RELEASE_CONFIRM),
    (_S4, E.BGREJ): _r(_S1, "8.2 p.41", A.STOP_CC, A.AA_RELEASE_CONFIRM),
    (_S4, E.TIMER_CC): _vt_cc(
        exhausted=_r(_S1, "8.2 p.41", A.MAA_ERROR_O, A.AA_RELEASE_CONFIRM),
        remaining=_r(_S4, "8.2 p.41", A.VT_CC_INC, A.RESEND_END, A.START_CC)),
    (_S4, E.BGN): _retransmission(
        retransmission=_r(_S4, "8.2 p.42", A.SEND_BGAK_NO_UU, A.RESEND_END),
        new=_r(_S3, "8.2 p.42", A.STOP_CC, A.SET_VT_MS, A.AA_RELEASE_CONFIRM, A.AA_ESTABLISH_INDICATION)),
    **_ignore(_S4, "8.2 p.42", E.ER, E.RS, E.RSAK),
    (_S4, E.AA_RETRIEVE_REQUEST): _r(_S4, "8.2 p.42", A.DATA_RETRIEVAL),

    # ---- 5 Outgoing Resynchronization Pending (8.2 pp.43-45) -------------------------------------
    **_common(_S5),
    (_S5, E.BGN): _retransmission(
        retransmission=_r(_S5, "8.2 p.43", A.SEND_BGAK, A.RESEND_RS),
        new=_r(_S3, "8.2 p.43", A.STOP_CC, A.SET_VT_MS, A.AA_RELEASE_INDICATION_USER,
               A.AA_ESTABLISH_INDICATION)),
    (_S5, E.ENDAK): _r(_S1, "8.2 p.43", A.STOP_CC, A.MAA_ERROR_F, A.AA_RELEASE_INDICATION_SSCOP),
    (_S5, E.BGREJ): _r(_S1, "8.2 p.43", A.STOP_CC, A.MAA_ERROR_D, A.AA_RELEASE_INDICATION_SSCOP),
    (_S5, E.END): _r(_S1, "8.2 p.43", A.STOP_CC, A.SEND_ENDAK, A.AA_RELEASE_INDICATION_PEER),
    **_ignore(_S5, "8.2 p.43", E.ER, E.POLL),
    **_ignore(_S5, "8.2 p.44", E.STAT, E.USTAT),
    (_S5, E.TIMER_CC): _vt_cc(
        exhausted=_r(_S1, "8.2 p.44", A.MAA_ERROR_O, A.SEND_END_SSCOP, A.AA_RELEASE_INDICATION_SSCOP),
        remaining=_r(_S5, "8.2 p.44", A.VT_CC_INC, A.RESEND_RS, A.START_CC)),
    (_S5, E.AA_RELEASE_REQUEST): _r(
        _S4, "8.2 p.44", A.STORE_UU_END, A.STOP_CC, A.VT_CC_1, A.SEND_END_USER, A.START_CC),
    **_ignore(_S5, "8.2 p.45", E.BGAK, E.SD, E.ERAK),
    (_S5, E.RS): _retransmission(
        retransmission=_r(_S5, "8.2 p.45", A.IGNORE),
        new=_r(_S10, "8.2 p.45", A.STOP_CC, A.SET_VT_MS, A.INIT_VR_MR, A.SEND_RSAK,
               A.AA_RESYNC_CONFIRM, A.INIT_STATE, A.SET_DATA_TRANSFER_TIMERS)),
    (_S5, E.RSAK): _r(
        _S10, "8.2 p.45", A.STOP_CC, A.SET_VT_MS, A.AA_RESYNC_CONFIRM, A.INIT_STATE,
        A.SET_DATA_TRANSFER_TIMERS),

    # ---- 6 Incoming Resynchronization Pending (8.2 pp.46-48) -------------------------------------
    **_common(_S6),
    (_S6, E.AA_RESYNC_RESPONSE): _r(
        _S10, "8.2 p.46", A.INIT_VR_MR, A.SEND_RSAK, A.CLEAR_TRANSMITTER, A.INIT_STATE,
        A.SET_DATA_TRANSFER_TIMERS),
    (_S6, E.AA_RELEASE_REQUEST): _r(
        _S4, "8.2 p.46", A.STORE_UU_END, A.VT_CC_1, A.SEND_END_USER, A.START_CC),
    (_S6, E.ENDAK): _r(_S1, "8.2 p.46", A.MAA_ERROR_F, A.AA_RELEASE_INDICATION_SSCOP),
    (_S6, E.BGREJ): _r(_S1, "8.2 p.46", A.MAA_ERROR_D, A.AA_RELEASE_INDICATION_SSCOP),
    (_S6, E.END): _r(_S1, "8.2 p.46", A.SEND_ENDAK, A.AA_RELEASE_INDICATION_PEER),
    (_S6, E.ER): _r(_S6, "8.2 p.47", A.MAA_ERROR_L),
    (_S6, E.BGN): _retransmission(
        retransmission=_r(_S6, "8.2 p.47", A.MAA_ERROR_B),
        new=_r(_S3, "8.2 p.47", A.SET_VT_MS, A.AA_RELEASE_INDICATION_USER, A.AA_ESTABLISH_INDICATION)),
    (_S6, E.SD): _abort(A.MAA_ERROR_A, "8.2 p.47"),
    (_S6, E.POLL): _abort(A.MAA_ERROR_G, "8.2 p.47"),
    (_S6, E.STAT): _abort(A.MAA_ERROR_H, "8.2 p.47"),
    (_S6, E.USTAT): _abort(A.MAA_ERROR_I, "8.2 p.47"),
    (_S6, E.BGAK): _r(_S6, "8.2 p.48", A.MAA_ERROR_C),
    (_S6, E.ERAK): _r(_S6, "8.2 p.48", A.MAA_ERROR_M),
    (_S6, E.RS): _retransmission(
        retransmission=_r(_S6, "8.2 p.48", A.IGNORE),
        new=_r(_S6, "8.2 p.48", A.MAA_ERROR_J)),
    (_S6, E.RSAK): _r(_S6, "8.2 p.48", A.MAA_ERROR_K),
    (_S6, E.AA_RETRIEVE_REQUEST): _r(_S6, "8.2 p.48", A.DATA_RETRIEVAL),

    # ---- 7 Outgoing Recovery Pending (8.2 pp.49-52) ----------------------------------------------
    **_common(_S7),
    (_S7, E.AA_DATA_REQUEST): _r(_S7, "8.2 p.49", A.QUEUE_DATA_IF_KEEP),
    (_S7, E.BGAK): _r(_S7, "8.2 p.49", A.MAA_ERROR_C),
    (_S7, E.ERAK): _r(_S8, "8.2 p.49", A.STOP_CC, A.SET_VT_MS, A.DELIVER_DATA, A.AA_RECOVER_INDICATION),
    (_S7, E.END): _r(
        _S1, "8.2 p.49", A.STOP_CC, A.SEND_ENDAK, A.AA_RELEASE_INDICATION_PEER, A.CLEAR_RECEIVE_BUFFER),
    (_S7, E.ENDAK): _r(
        _S1, "8.2 p.49", A.MAA_ERROR_F, A.STOP_CC, A.AA_RELEASE_INDICATION_SSCOP,
        A.CLEAR_RECEIVE_BUFFER),
    (_S7, E.BGREJ): _r(
        _S1, "8.2 p.49", A.MAA_ERROR_D, A.STOP_CC, A.AA_RELEASE_INDICATION_SSCOP,
        A.CLEAR_RECEIVE_BUFFER),
    (_S7, E.TIMER_CC): _vt_cc(
        exhausted=_r(_S1, "8.2 p.50", A.MAA_ERROR_O, A.SEND_END_SSCOP, A.AA_RELEASE_INDICATION_SSCOP,
                     A.CLEAR_RECEIVE_BUFFER),
        remaining=_r(_S7, "8.2 p.50", A.VT_CC_INC, A.SEND_ER, A.START_CC)),
    (_S7, E.AA_RELEASE_REQUEST): _r(
        _S4, "8.2 p.50", A.STORE_UU_END, A.STOP_CC, A.VT_CC_1, A.SEND_END_USER,
        A.CLEAR_RECEIVE_BUFFER, A.START_CC),
    (_S7, E.AA_RESYNC_REQUEST): _r(
        _S5, "8.2 p.51", A.STORE_UU_RS, A.STOP_CC, A.VT_CC_1, A.VT_SQ_INC, A.INIT_VR_MR, A.SEND_RS,
        A.CLEAR_TRANSMITTER, A.CLEAR_RECEIVE_BUFFER, A.START_CC),
    (_S7, E.BGN): _retransmission(
        retransmission=_r(_S7, "8.2 p.51", A.MAA_ERROR_B),
        new=_r(_S3, "8.2 p.51", A.STOP_CC, A.SET_VT_MS, A.AA_RELEASE_INDICATION_USER,
               A.AA_ESTABLISH_INDICATION, A.CLEAR_RECEIVE_BUFFER)),
    (_S7, E.ER): _retransmission(
        retransmission=_r(_S7, "8.2 p.51", A.MAA_ERROR_L),
        new=_r(_S8, "8.2 p.51", A.STOP_CC, A.SET_VT_MS, A.INIT_VR_MR, A.SEND_ERAK, A.DELIVER_DATA,
               A.AA_RECOVER_INDICATION)),
    (_S7, E.RSAK): _r(_S7, "8.2 p.52", A.MAA_ERROR_K),
    (_S7, E.RS): _retransmission(
        retransmission=_r(_S7, "8.2 p.52", A.MAA_ERROR_J),
        new=_r(_S6, "8.2 p.52", A.STOP_CC, A.SET_VT_MS, A.AA_RESYNC_INDICATION,
               A.CLEAR_RECEIVE_BUFFER)),
    **_ignore(_S7, "8.2 pp.49-52", E.SD, E.POLL, E.STAT, E.USTAT),

    # ---- 8 Recovery Response Pending (8.2 pp.53-55) ----------------------------------------------
    **_common(_S8),
    (_S8, E.BGAK): _r(_S8, "8.2 p.53", A.MAA_ERROR_C),
    (_S8, E.END): _r(_S1, "8.2 p.53", A.SEND_ENDAK, A.AA_RELEASE_INDICATION_PEER),
    (_S8, E.ENDAK): _r(_S1, "8.2 p.53", A.MAA_ERROR_F, A.AA_RELEASE_INDICATION_SSCOP),
    (_S8, E.BGREJ): _r(_S1, "8.2 p.53", A.MAA_ERROR_D, A.AA_RELEASE_INDICATION_SSCOP),
    (_S8, E.AA_RETRIEVE_REQUEST): _r(_S8, "8.2 p.53", A.DATA_RETRIEVAL),
    (_S8, E.AA_RELEASE_REQUEST): _r(
        _S4, "8.2 p.54", A.STORE_UU_END, A.VT_CC_1, A.SEND_END_USER, A.START_CC),
    (_S8, E.RSAK): _r(_S8, "8.2 p.54", A.MAA_ERROR_K),
    (_S8, E.RS): _retransmission(
        retransmission=_r(_S8, "8.2 p.54", A.MAA_ERROR_J),
        new=_r(_S6, "8.2 p.54", A.SET_VT_MS, A.AA_RESYNC_INDICATION)),
    (_S8, E.AA_RECOVER_RESPONSE): _r(
        _S10, "8.2 p.54", A.CLEAR_TX_BUFFER_IF_KEEP, A.INIT_STATE, A.SET_DATA_TRANSFER_TIMERS),
    (_S8, E.AA_RESYNC_REQUEST): _r(
        _S5, "8.2 p.54", A.STORE_UU_RS, A.CLEAR_TRANSMITTER, A.VT_CC_1, A.VT_SQ_INC, A.INIT_VR_MR,
        A.SEND_RS, A.START_CC),
    (_S8, E.ER): _retransmission(
        retransmission=_r(_S8, "8.2 p.55", A.SEND_ERAK),
        new=_r(_S8, "8.2 p.55", A.MAA_ERROR_L)),
    (_S8, E.BGN): _retransmission(
        retransmission=_r(_S8, "8.2 p.55", A.MAA_ERROR_B),
        new=_r(_S3, "8.2 p.55", A.SET_VT_MS, A.AA_RELEASE_INDICATION_USER, A.AA_ESTABLISH_INDICATION)),
    (_S8, E.STAT): _abort(A.MAA_ERROR_H, "8.2 p.55"),
    (_S8, E.USTAT): _abort(A.MAA_ERROR_I, "8.2 p.55"),
    **_ignore(_S8, "8.2 pp.53-55", E.SD, E.POLL, E.ERAK),

    # ---- 9 Incoming Recovery Pending (8.2 pp.56-59) ----------------------------------------------
    **_common(_S9),
    (_S9, E.AA_RECOVER_RESPONSE): _r(
        _S10, "8.2 p.56", A.CLEAR_TX_BUFFER_IF_KEEP, A.INIT_VR_MR, A.SEND_ERAK, A.INIT_STATE,
        A.SET_DATA_TRANSFER_TIMERS),
    (_S9, E.AA_RELEASE_REQUEST): _r(
        _S4, "8.2 p.56", A.STORE_UU_END, A.VT_CC_1, A.SEND_END_USER, A.START_CC),
    (_S9, E.END): _r(_S1, "8.2 p.56", A.SEND_ENDAK, A.AA_RELEASE_INDICATION_PEER),
    (_S9, E.AA_RESYNC_REQUEST): _r(
        _S5, "8.2 p.56", A.STORE_UU_RS, A.CLEAR_TRANSMITTER, A.VT_CC_1, A.VT_SQ_INC, A.INIT_VR_MR,
        A.SEND_RS, A.START_CC),
    (_S9, E.ENDAK): _r(_S1, "8.2 p.57", A.MAA_ERROR_F, A.AA_RELEASE_INDICATION_SSCOP),
    (_S9, E.BGREJ): _r(_S1, "8.2 p.57", A.MAA_ERROR_D, A.AA_RELEASE_INDICATION_SSCOP),
    (_S9, E.USTAT): _abort(A.MAA_ERROR_I, "8.2 p.57"),
    (_S9, E.STAT): _abort(A.MAA_ERROR_H, "8.2 p.57"),
    (_S9, E.POLL): _abort(A.MAA_ERROR_G, "8.2 p.57"),
    (_S9, E.SD): _abort(A.MAA_ERROR_A, "8.2 p.57"),
    (_S9, E.RSAK): _r(_S9, "8.2 p.58", A.MAA_ERROR_K),
    (_S9, E.RS): _retransmission(
        retransmission=_r(_S9, "8.2 p.58", A.MAA_ERROR_J),
        new=_r(_S6, "8.2 p.58", A.SET_VT_MS, A.AA_RESYNC_INDICATION)),
    (_S9, E.AA_RETRIEVE_REQUEST): _r(_S9, "8.2 p.58", A.DATA_RETRIEVAL),
    (_S9, E.ER): _retransmission(
        retransmission=_r(_S9, "8.2 p.59", A.IGNORE),
        new=_r(_S9, "8.2 p.59", A.MAA_ERROR_L)),
    (_S9, E.BGN): _retransmission(
        retransmission=_r(_S9, "8.2 p.59", A.MAA_ERROR_B),
        new=_r(_S3, "8.2 p.59", A.SET_VT_MS, A.AA_RELEASE_INDICATION_USER, A.AA_ESTABLISH_INDICATION)),
    (_S9, E.BGAK): _r(_S9, "8.2 p.59", A.MAA_ERROR_C),
    (_S9, E.ERAK): _r(_S9, "8.2 p.59", A.MAA_ERROR_M),

    # ---- 10 Data Transfer Ready (8.2 pp.60-72) ---------------------------------------------------
    **_common(_S10),
    (_S10, E.AA_RESYNC_REQUEST): _r(
        _S5, "8.2 p.60", A.STORE_UU_RS, A.RESET_DATA_TRANSFER_TIMERS, A.VT_CC_1, A.VT_SQ_INC,
        A.INIT_VR_MR, A.SEND_RS, A.RELEASE_BUFFERS, A.START_CC),
    (_S10, E.AA_RELEASE_REQUEST): _r(
        _S4, "8.2 p.60", A.STORE_UU_END, A.RESET_DATA_TRANSFER_TIMERS, A.VT_CC_1, A.SEND_END_USER,
        A.PREPARE_RETRIEVAL, A.START_CC),
    **_ignore(_S10, "8.2 p.60", E.BGAK, E.ERAK, E.RSAK),
    (_S10, E.ER): _retransmission(
        retransmission=_r(_S10, "8.2 p.61", A.START_NO_RESPONSE, A.SEND_ERAK),
        new=_r(_S9, "8.2 p.61", A.RESET_DATA_TRANSFER_TIMERS, A.SET_VT_MS, A.PREPARE_RECOVERY,
               A.DELIVER_DATA, A.AA_RECOVER_INDICATION)),
    (_S10, E.BGN): _retransmission(
        retransmission=_r(_S10, "8.2 p.61", A.START_NO_RESPONSE, A.SEND_BGAK),
        new=_r(_S3, "8.2 p.61", A.RESET_DATA_TRANSFER_TIMERS, A.SET_VT_MS,
               A.AA_RELEASE_INDICATION_USER, A.AA_ESTABLISH_INDICATION, A.PREPARE_RETRIEVAL)),
    (_S10, E.ENDAK): _r(
        _S1, "8.2 p.62", A.RESET_DATA_TRANSFER_TIMERS, A.MAA_ERROR_F, A.AA_RELEASE_INDICATION_SSCOP,
        A.PREPARE_RETRIEVAL),
    (_S10, E.BGREJ): _r(
        _S1, "8.2 p.62", A.RESET_DATA_TRANSFER_TIMERS, A.MAA_ERROR_D, A.AA_RELEASE_INDICATION_SSCOP,
        A.PREPARE_RETRIEVAL),
    (_S10, E.RS): _retransmission(
        retransmission=_r(_S10, "8.2 p.62", A.START_NO_RESPONSE, A.SEND_RSAK),
        new=_r(_S6, "8.2 p.62", A.RESET_DATA_TRANSFER_TIMERS, A.SET_VT_MS, A.AA_RESYNC_INDICATION,
               A.PREPARE_RETRIEVAL)),
    (_S10, E.END): _r(
        _S1, "8.2 p.62", A.RESET_DATA_TRANSFER_TIMERS, A.SEND_ENDAK, A.AA_RELEASE_INDICATION_PEER,
        A.PREPARE_RETRIEVAL),
    (_S10, E.TIMER_POLL): _r(_S10, "8.2 p.63", A.VT_PS_INC, A.SEND_POLL, A.VT_PD_0, A.SET_POLL_TIMER),
    (_S10, E.TIMER_KEEP_ALIVE): _r(
        _S10, "8.2 p.63", A.VT_PS_INC, A.SEND_POLL, A.VT_PD_0, A.SET_POLL_TIMER),
    (_S10, E.TIMER_IDLE): _r(
        _S10, "8.2 p.63", A.START_NO_RESPONSE, A.VT_PS_INC, A.SEND_POLL, A.VT_PD_0, A.SET_POLL_TIMER),
    (_S10, E.TIMER_NO_RESPONSE): _r(
        _S1, "8.2 p.63", A.RESET_DATA_TRANSFER_TIMERS, A.MAA_ERROR_P, A.SEND_END_SSCOP,
        A.AA_RELEASE_INDICATION_SSCOP, A.PREPARE_RETRIEVAL),
    (_S10, E.AA_DATA_REQUEST): _r(_S10, "8.2 p.63", A.QUEUE_DATA),
    (_S10, E.SD): _choice(Decision.SD_N_S, {
        "N(S) >= VR(MR)": _r(_S10, "8.2 p.66", A.RX_SD_OUTSIDE_WINDOW),
        "N(S) = VR(R)": _r(_S10, "8.2 p.66", A.RX_SD_IN_SEQUENCE),
        "N(S) = VR(H)": _r(_S10, "8.2 p.66", A.RX_SD_AT_HIGHEST),
        "N(S) > VR(H)": _r(_S10, "8.2 p.66", A.RX_SD_BEYOND_HIGHEST),
        "VR(R) < N(S) < VR(H), missing": _r(_S10, "8.2 p.66", A.RX_SD_FILLS_GAP),
        "VR(R) < N(S) < VR(H), buffered": _r(
            _S7, "8.2 pp.66-67", A.DISCARD_SD, A.RESET_DATA_TRANSFER_TIMERS, A.MAA_ERROR_Q, *_RECOVER),
    }),
    (_S10, E.POLL): _choice(Decision.POLL_N_S, {
        "N(S) >= VR(H)": _r(_S10, "8.2 pp.67-68", A.RX_POLL),
        "N(S) < VR(H)": _r(_S7, "8.2 p.67", A.RESET_DATA_TRANSFER_TIMERS, A.MAA_ERROR_Q, *_RECOVER),
    }),
    (_S10, E.USTAT): _choice(Decision.USTAT_CHECK, {
        "valid": _r(_S10, "8.2 p.69", A.RX_USTAT),
        "N(R) or list error": _r(
            _S7, "8.2 p.69", A.RESET_DATA_TRANSFER_TIMERS, A.MAA_ERROR_T, *_RECOVER),
    }),
    (_S10, E.STAT): _choice(Decision.STAT_CHECK, {
        "valid": _r(_S10, "8.2 pp.70-72", A.RX_STAT),
        "N(PS) error": _r(_S7, "8.2 p.70", A.RESET_DATA_TRANSFER_TIMERS, A.MAA_ERROR_R, *_RECOVER),
        "N(R) or list error": _r(
            _S7, "8.2 pp.70-71", A.RESET_DATA_TRANSFER_TIMERS, A.MAA_ERROR_S, *_RECOVER),
    }),
}


#: States in which Timer_CC can run (it is started only on the way into them, and stopped on the
#: way out): BGN, END, RS and ER are retransmitted from there (7.6).
_CC_STATES = frozenset({_S2, _S4, _S5, _S7})


def _illegal() -> dict[tuple[State, Event], str]:
    illegal: dict[tuple[State, Event], str] = {}
    for state in State:
        for event in TIMER_EVENTS:
            if (state, event) in TRANSITIONS:
                continue
            if event is E.TIMER_CC:
                illegal[state, event] = "Timer_CC runs only in states 2, 4, 5 and 7 (7.6, 8.2)"
            else:
                illegal[state, event] = (f"{event.value} runs only in state 10 (7.6; set and reset by "
                                         "the data transfer timer macros, 8.2 pp.76-77)")
        for event in USER_EVENTS:
            if (state, event) not in TRANSITIONS:
                illegal[state, event] = (f"the sequences of AA-signals of 6.2 do not allow "
                                         f"{event.value} in state {int(state)} {state.label}")
    return illegal


#: Every (state, event) pair without a reaction, with the reason it is illegal.
ILLEGAL: dict[tuple[State, Event], str] = _illegal()


def reaction(state: State, event: Event) -> Reaction:
    """The table's reaction to ``event`` in ``state``; an illegal pair raises SSCOPProtocolError."""
    try:
        return TRANSITIONS[state, event]
    except KeyError:
        raise SSCOPProtocolError(state, event, ILLEGAL.get((state, event), "no such pair")) from None


def rules() -> Iterator[tuple[State, Event, str | None, Rule]]:
    """Every rule of the table: (state, event, decision outcome or None, rule)."""
    for (state, event), reaction_ in TRANSITIONS.items():
        if isinstance(reaction_, Rule):
            yield state, event, None, reaction_
        else:
            for outcome, rule in reaction_.branches:
                yield state, event, outcome, rule


def _dot_quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def to_dot(*, include_self_loops: bool = False, name: str = "sscop") -> str:
    """Render the table as a Graphviz DOT digraph: one node per state (7.3), one edge per pair of
    states, labelled with every event (and decision outcome) that leads from one to the other.
    Self-loops (events that leave the state unchanged) are drawn only when asked for."""
    edges: dict[tuple[State, State], list[str]] = {}
    for state, event, outcome, rule in rules():
        if rule.next_state is state and not include_self_loops:
            continue
        label = event.value if outcome is None else f"{event.value} [{outcome}]"
        edges.setdefault((state, rule.next_state), []).append(label)
    lines = [
        f'digraph "{_dot_quote(name)}" {{',
        '  label="SSCOP connection control (ITU-T Q.2110 7.3, 8.2)";',
        "  rankdir=LR;",
        '  node [shape=box, style=rounded, fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=9];',
    ]
    for state in State:
        lines.append(f'  s{int(state)} [label="{int(state)} {_dot_quote(state.label)}"];')
    for (source, target), labels in edges.items():
        text = "\\n".join(_dot_quote(label) for label in labels)
        lines.append(f'  s{int(source)} -> s{int(target)} [label="{text}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
