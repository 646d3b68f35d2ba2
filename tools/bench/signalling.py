"""Benchmarks of the Q.2931 signalling codec (suite "signalling"): the fast codec against its twin, the
scapy layers, measured side by side in the same run (issue 4: at least 100,000 messages/s each way and 50
times the scapy path).

Workloads, as the MCM and the switch control plane meet them when a root adds and drops many parties:

- ADD PARTY from the root: AAL parameters (AAL 5, forward/backward maximum CPCS-SDU size), BLLI (LLC
  encapsulation), called party number (a 20-octet AESA, different per party) and endpoint reference
  (different per party): 57 octets;
- DROP PARTY ACKNOWLEDGE from the network: endpoint reference only: 16 octets.

Encoding builds each message from field values (the fast codec from records, scapy through the builders);
decoding is the strict decode of each path (scapy: :func:`firmware.uni.decode.decode_message`, fast:
:func:`firmware.uni.fastcodec.decode`), both validating every element. Before timing, the benchmark checks
that both paths produce the same octets for the whole batch.
"""

from __future__ import annotations

import gc

from firmware.uni import builders as b
from firmware.uni import fastcodec as fast
from firmware.uni import fastie
from firmware.uni.constants import AALSubfield, IEId, Layer2Protocol, MessageType
from firmware.uni.decode import decode_message
from tools.bench import Context, Figure, best_rate, figures

TARGET = 1e5  # messages/s each way, issue 4
ROUNDS = 4  # alternating fast/scapy measurement rounds per figure
ROOT_AESA = bytes.fromhex("47000580ffe1000000f21a0001" "0020481a0001" "00")
CALL_REF = 0x000123
# plain ints, looked up once: an enum member's .value costs more than encoding an octet
ADD_PARTY, DROP_PARTY_ACK = int(MessageType.ADD_PARTY), int(MessageType.DROP_PARTY_ACKNOWLEDGE)
AAL, BLLI = int(IEId.AAL_PARAMETERS), int(IEId.BROADBAND_LOW_LAYER_INFORMATION)
LLC = int(Layer2Protocol.ISO_8802_2_LLC)
AAL_SUBFIELDS = ((int(AALSubfield.FORWARD_MAX_CPCS_SDU_SIZE), 9188),
                 (int(AALSubfield.BACKWARD_MAX_CPCS_SDU_SIZE), 9188))


def _parties(n: int) -> list[tuple[int, bytes]]:
    """(endpoint reference, the leaf's AESA) of ``n`` parties: the inputs both paths encode from."""
    return [(i, ROOT_AESA[:13] + i.to_bytes(6, "big") + b"\x00") for i in range(1, n + 1)]


def _add_party_fast(party: tuple[int, bytes]) -> bytes:
    endpoint_ref, called = party
    return fast.encode(fast.message(ADD_PARTY, CALL_REF, [
        fast.make_ie(AAL, fastie.AALParameters(5, AAL_SUBFIELDS)),
        fast.make_ie(BLLI, fastie.BroadbandLowLayerInformation(l2_protocol=LLC)),
        fast.called_party_number(called),
        fast.endpoint_reference(endpoint_ref),
    ]))


def _add_party_scapy(party: tuple[int, bytes]) -> bytes:
    endpoint_ref, called = party
    return bytes(b.AddParty(CALL_REF, endpoint_ref, called, aal=b.aal5(), blli=b.low_layer_information(l2=LLC)))


def _drop_party_ack_fast(party: tuple[int, bytes]) -> bytes:
    return fast.encode(fast.message(DROP_PARTY_ACK, CALL_REF, [fast.endpoint_reference(party[0], 1)], flag=1))


def _drop_party_ack_scapy(party: tuple[int, bytes]) -> bytes:
    return bytes(b.DropPartyAcknowledge(CALL_REF, party[0], flag=1))


def _each(fn, items) -> None:
    """``fn`` on every item, one at a time, each result dropped as the next message comes: the firmware's
    pattern (a list of every result would keep thousands of objects alive for the collector to walk)."""
    for x in items:
        fn(x)


def _pair(ctx: Context, name: str, fast_fn, scapy_fn, items: list, note: str):
    """Rates of the fast and the scapy function over ``items`` (scapy over a tenth of them), measured in
    alternating rounds and each taken at its best round, so that a burst of load on the machine during one
    round does not tilt the ratio. The garbage collector stays on (as in the firmware), but is run before
    each window so that neither side pays for the cycles the other left behind."""
    few = items[: max(len(items) // 10, 10)]
    fast_rate = scapy_rate = 0.0
    for _ in range(ROUNDS):
        gc.collect()  # scapy's packets are reference cycles: collect them now, not during the next window
        fast_rate = max(fast_rate, best_rate(lambda: _each(fast_fn, items), len(items), repeat=1))
        gc.collect()
        scapy_rate = max(scapy_rate, best_rate(lambda: _each(scapy_fn, few), len(few), repeat=1))
    ctx.log(f"{name}: fast {fast_rate:,.0f}/s, scapy {scapy_rate:,.0f}/s")
    yield Figure(name, fast_rate, "messages/s", ratio_to_twin=fast_rate / scapy_rate, target=TARGET, note=note)
    yield Figure(f"{name}_scapy", scapy_rate, "messages/s", note="the scapy twin, same run")


@figures("signalling")
def codec(ctx: Context):
    parties = _parties(max(int(2000 * ctx.scale), 20))
    for label, fast_enc, scapy_enc, octets in (
            ("add_party", _add_party_fast, _add_party_scapy, 57),
            ("drop_party_ack", _drop_party_ack_fast, _drop_party_ack_scapy, 16)):
        encoded = [fast_enc(p) for p in parties]
        if encoded != [scapy_enc(p) for p in parties] or len(encoded[0]) != octets:
            raise AssertionError(f"{label}: the fast codec and scapy disagree on the benchmark messages")
        yield from _pair(ctx, f"{label}_encode", fast_enc, scapy_enc, parties,
                         f"{octets}-octet messages built from values")
        yield from _pair(ctx, f"{label}_decode", fast.decode, decode_message, encoded,
                         f"strict decode of {octets}-octet messages")
