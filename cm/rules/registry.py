"""The rules the checker enforces, as data: name, what it says, where the rule comes from, who breaks it
and when it is checked. This list is what the generated documentation prints.

Microsoft's verifiers check IRQL on entry to NDIS functions and double completion for OIDs only; none of
the party and call rules below is checked by a public tool (reference/condis-mcm.md, last section).
"""

from __future__ import annotations

from dataclasses import dataclass

REF = "reference/condis-mcm.md"


@dataclass(frozen=True)
class Rule:
    """One rule. ``blame`` is who breaks it: "call manager", "client" or "either"; ``checked`` says when
    the checker looks (on which call, at handler return, at unload, on the deadline)."""

    name: str
    title: str
    description: str
    source: str
    blame: str
    checked: str


_RULES = [
    Rule("CompleteNeverPended", "Completing what never pended",
         "A call manager called an NdisMCm*Complete function for a request whose handler did not return "
         "NDIS_STATUS_PENDING (it returned a final status, or there is no such request), or it completed "
         "the request from inside its handler and then returned a final status anyway. The completion is "
         "required exactly once if and only if the handler returned PENDING.",
         "Seed page NdisMCmAddPartyComplete (\"If an MCM driver's ProtocolCmAddParty function returns "
         "NDIS_STATUS_PENDING, the driver must call NdisMCmAddPartyComplete\"); seed page "
         "NdisCmDropPartyComplete; " + REF + ", \"Completions and indications the MCM issues\"",
         "call manager", "on each NdisMCm*Complete call; when a handler returns"),
    Rule("CompleteTwice", "Completing twice",
         "A call manager completed the same pended request a second time.",
         REF + ", \"Completions and indications the MCM issues\": required exactly once",
         "call manager", "on each NdisMCm*Complete call"),
    Rule("CompleteWithPending", "Completing with NDIS_STATUS_PENDING",
         "A completion function was given NDIS_STATUS_PENDING as the final status. NDIS ignores it and the "
         "request stays pending.",
         "Seed pages NdisMCmAddPartyComplete and NdisCmDropPartyComplete: Status is \"either "
         "NDIS_STATUS_SUCCESS or any NDIS_STATUS_XXX except NDIS_STATUS_PENDING\"",
         "call manager", "on each NdisMCm*Complete call"),
    Rule("AddPartySuccessWithoutContext", "Successful add-party without a party context",
         "A party was added with SUCCESS (NdisMCmAddPartyComplete, a synchronous ProtocolCmAddParty, or the "
         "first party of a multipoint NdisMCmMakeCallComplete / ProtocolCmMakeCall) without a "
         "CallMgrPartyContext. NDIS passes that context to ProtocolCmDropParty; the call manager must keep "
         "its per-party state (holding the NdisPartyHandle) in it.",
         "Seed page NdisMCmAddPartyComplete (\"If the MCM driver sets Status to NDIS_STATUS_SUCCESS, it must "
         "supply an explicit handle ... as CallMgrPartyContext\"); seed page ProtocolCmAddParty (\"must "
         "store the handle ... set as the CallMgrPartyContext handle before returning control to NDIS\")",
         "call manager", "on NdisMCmAddPartyComplete / NdisMCmMakeCallComplete; when ProtocolCmAddParty or "
         "ProtocolCmMakeCall returns SUCCESS"),
    Rule("PartyHandleAfterDrop", "Party handle used after its drop",
         "A party handle was used after the party ended: after its drop completed (with any status), after "
         "its add failed, after the call was closed; and, for the client, from the moment it called "
         "NdisClDropParty (or NdisClCloseCall) with it.",
         "Seed page NdisClDropParty (\"should consider the input NdisPartyHandle invalid as soon as it makes "
         "this call\"); seed page NdisCmDropPartyComplete (\"should consider the NdisPartyHandle invalid as "
         "soon as it calls\"); ProtocolClAddPartyComplete page (on failure \"the client should consider this "
         "parameter an invalid handle\")",
         "either", "on every call that takes an NdisPartyHandle"),
    Rule("CloseCallWithPartiesLeft", "Closing a multipoint call with parties left",
         "The client called NdisClCloseCall on a multipoint VC while parties other than the one it passed "
         "were still on the call (not yet given back with NdisClDropParty). It must drop all parties but "
         "the last, then close with the last.",
         "NdisClCloseCall page (\"The call manager will fail any client's request to close a multipoint "
         "call if the given VC still has more than one party connected\"); seed page NdisClDropParty",
         "client", "on NdisClCloseCall"),
    Rule("DropLastParty", "Dropping the last party instead of closing",
         "The client called NdisClDropParty on the last party of its multipoint call. The last party is "
         "released with NdisClCloseCall.",
         "Seed page NdisClDropParty (\"followed by a final call with the last party handle to "
         "NdisClCloseCall\"); " + REF + ", \"Client side\"",
         "client", "on NdisClDropParty"),
    Rule("IncomingDropForLastParty", "Incoming drop for the last party",
         "The call manager indicated NdisMCmDispatchIncomingDropParty for the only party left on the call. "
         "For the last party it must indicate NdisMCmDispatchIncomingCloseCall.",
         REF + ", \"Completions and indications the MCM issues\"; NdisClCloseCall page (\"When the last "
         "remaining remote party closes its connection, NDIS calls the client's ProtocolClIncomingCloseCall "
         "function instead\")",
         "call manager", "on NdisMCmDispatchIncomingDropParty"),
    Rule("MakeCallSuccessBeforeActivate", "Make-call success before ActivateVc",
         "A make-call completed with SUCCESS (NdisMCmMakeCallComplete or a synchronous ProtocolCmMakeCall) "
         "on a VC the call manager had not activated with NdisMCmActivateVc.",
         REF + ", \"Call manager handlers\": \"The VC must be activated (NdisMCmActivateVc) before "
         "completing with SUCCESS\"; the WDK coisdn sample orders ActivateVc -> MakeCallComplete",
         "call manager", "on NdisMCmMakeCallComplete; when ProtocolCmMakeCall returns SUCCESS"),
    Rule("DeleteVcWhileActive", "Deleting an active VC",
         "NdisCoDeleteVc or NdisMCmDeleteVc on a VC that is still active or still carries a call. NDIS "
         "answers NDIS_STATUS_NOT_ACCEPTED.",
         REF + ", \"Call manager handlers\" and \"Completions and indications the MCM issues\" (DeleteVc "
         "NOT_ACCEPTED while active); NdisClCloseCall page (close, then delete)",
         "either", "on NdisCoDeleteVc / NdisMCmDeleteVc"),
    Rule("VcHandlerPending", "ProtocolCoCreateVc / ProtocolCoDeleteVc returned PENDING",
         "A ProtocolCoCreateVc or ProtocolCoDeleteVc handler returned NDIS_STATUS_PENDING; these complete "
         "synchronously (there is no completion function). NDIS fails the request.",
         REF + ", \"Call manager handlers\": \"ProtocolCoCreateVc / ProtocolCoDeleteVc never return PENDING\"",
         "either", "when ProtocolCoCreateVc / ProtocolCoDeleteVc return"),
    Rule("StaleHandle", "VC or AF handle used after it was released",
         "A VC handle was used after the VC was deleted, or an AF handle after NdisClCloseAddressFamily "
         "(for the client: from the moment it called).",
         "NdisClCloseAddressFamily page (\"The NdisAfHandle ... becomes invalid for the client as soon as "
         "this call occurs\"); NdisCoDeleteVc page",
         "either", "on every call that takes an NdisVcHandle or NdisAfHandle"),
    Rule("PartyStateNotFreed", "Per-party state not freed",
         "At driver unload, memory that served as a party's CallMgrPartyContext is still allocated: the "
         "call manager did not free its per-party state when the party was dropped, failed or closed.",
         "Seed page ProtocolCmDropParty (\"Call managers must also free any per-party resources ... "
         "Failure to do so will result in a memory leak condition\"); seed page NdisCmDropPartyComplete",
         "call manager", "at driver unload"),
    Rule("MemoryLeak", "Memory not freed at unload",
         "At driver unload, memory the driver allocated through NDIS (other than per-party state) is still "
         "allocated.",
         "NdisFreeMemoryWithTagPriority page; general WDK rule: a driver frees what it allocated before it "
         "unloads (Driver Verifier pool tracking)",
         "either", "at driver unload"),
    Rule("BadFree", "Freeing memory not allocated",
         "NdisFreeMemoryWithTagPriority on memory that is not allocated (never, or already freed: a double "
         "free), or with a tag or handle other than those it was allocated with.",
         "NdisFreeMemoryWithTagPriority page (\"releases memory that was allocated with the "
         "NdisAllocateMemoryWithTagPriority function\", same NdisHandle and Tag)",
         "either", "on NdisFreeMemoryWithTagPriority"),
    Rule("PendingForever", "Operation left pending",
         "A request a handler pended was never completed, or an incoming drop or close was never answered "
         "by the client: found at the unload of the driver that owes it, or when it has been outstanding "
         "longer than the configured deadline (virtual time).",
         "Seed page NdisMCmAddPartyComplete (\"must call NdisMCmAddPartyComplete subsequently\"); seed page "
         "NdisCmDropPartyComplete (\"must call NdisCmDropPartyComplete if its ProtocolCmDropParty function "
         "previously returned NDIS_STATUS_PENDING\"); " + REF + ", \"Client side\" (ProtocolClIncomingDropParty:"
         " \"the client answers with NdisClDropParty\")",
         "either", "at driver unload; on the deadline"),
    Rule("IrqlTooHigh", "NDIS function called above its IRQL",
         "An NDIS function was called at an IRQL above the maximum its WDK page gives (<= DISPATCH_LEVEL for "
         "the NdisCl*, NdisCo* and NdisMCm* call functions; PASSIVE_LEVEL for address-family registration "
         "and NdisSetOptionalHandlers).",
         "The \"IRQL\" line of each function's WDK page; SDV rules Irql_MCM_Function, "
         "Irql_Protocol_Driver_Function, Irql_Miscellaneous_Function; " + REF + ", \"Actors\"",
         "either", "on every NDIS call"),
    Rule("IrqlNotRestored", "Handler returned at another IRQL",
         "A driver's handler returned to NDIS at an IRQL other than the one it was called at (typically a "
         "spin lock still held).",
         "WDK \"Managing Hardware Priorities\"; KeLowerIrql / NdisReleaseSpinLock pages (restore the IRQL "
         "that was current before the raise)",
         "either", "when a handler returns"),
]

#: The rules by name, in documentation order.
RULES: dict[str, Rule] = {r.name: r for r in _RULES}


def rule(name: str) -> Rule:
    """The rule called ``name``; KeyError naming the known rules otherwise."""
    try:
        return RULES[name]
    except KeyError:
        raise KeyError(f"unknown rule {name!r}; known: {', '.join(RULES)}") from None


def markdown() -> str:
    """The rules as a Markdown table (name, what, who, when, source), for the generated documentation."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| Rule | What it catches | Who breaks it | Checked | Source |", "|---|---|---|---|---|"]
    for r in RULES.values():
        lines.append(f"| `{r.name}` | **{cell(r.title)}.** {cell(r.description)} | {r.blame} | {cell(r.checked)} "
                     f"| {cell(r.source)} |")
    return "\n".join(lines) + "\n"
