"""Benchmarks of the Q.2931 signalling codec (suite "signalling"): the fast codec against its twin, the
scapy layers, measured side by side in the same run (issue 4: at least 100,000 messages/s each way and 50
times the scapy path).

Workloads, as the MCM and the switch control plane meet them when a root adds and drops many parties:

- ADD PARTY from the root: AAL parameters (AAL 5, forward/backward maximum CPCS-SDU size), BLLI (LLC
  encapsulation), called party number (a 20-octet AESA, different per party) and endpoint reference
  (different per party): 57 octets;
- DROP PARTY ACKNOWLEDGE from the network: endpoint reference only: 16 octets.

Encoding builds each message from field values, each path through its own element helpers (scapy:
:mod:`firmware.uni.builders`, ``AddParty(..., aal=aal5(), blli=low_layer_information(l2=LLC))``; fast: the
helpers of :mod:`firmware.uni.fastcodec`, ``message(ADD_PARTY, ..., [aal5(), low_layer_information(l2=LLC),
...])``), the fast path checking every value as it encodes. Decoding is the strict decode of each path
(scapy: :func:`firmware.uni.decode.decode_message`, fast: :func:`firmware.uni.fastcodec.decode`), both
validating every element; the fast decoder reads all but the first frame of the batch by its layout
path, as it reads a peer's stream of same-shaped frames (``add_party_decode_general_path``, with no
target, gives the rate of its general path alone, the path of the first frame of each shape). Before
timing, the benchmark checks that both paths encode the same octets for the whole batch and decode them
to the same values.

Both paths run over the same batch of messages, interleaved in slices of a few milliseconds, for
:data:`SECONDS` each (:func:`_interleaved_rates`); each figure is the rate of its best slice, and its note
gives the rates over all slices too.
"""

from __future__ import annotations

import gc
import time

from firmware.uni import builders as b
from firmware.uni import fastcodec as fast
from firmware.uni.constants import Layer2Protocol, MessageType
from firmware.uni.decode import decode_message
from tools.bench import Context, Figure, figures

TARGET = 1e5  # messages/s each way, issue 4
SECONDS = 1.0  # of measured time per path and figure
SLICE = 0.002  # seconds of each measured slice (undisturbed), alternating between the paths
ROOT_AESA = bytes.fromhex("47000580ffe1000000f21a0001" "0020481a0001" "00")
CALL_REF = 0x000123
# plain ints, looked up once: an enum member's .value costs more than encoding an octet
ADD_PARTY, DROP_PARTY_ACK = int(MessageType.ADD_PARTY), int(MessageType.DROP_PARTY_ACKNOWLEDGE)
LLC = int(Layer2Protocol.ISO_8802_2_LLC)


def _parties(n: int) -> list[tuple[int, bytes]]:
    """(endpoint reference, the leaf's AESA) of ``n`` parties: the inputs both paths encode from."""
    return [(i, ROOT_AESA[:13] + i.to_bytes(6, "big") + b"\x00") for i in range(1, n + 1)]


def _add_party_fast(party: tuple[int, bytes]) -> bytes:
    endpoint_ref, called = party
    return fast.encode(fast.message(ADD_PARTY, CALL_REF, [
        fast.aal5(), fast.low_layer_information(l2=LLC), fast.called_party_number(called),
        fast.endpoint_reference(endpoint_ref)]))


def _add_party_scapy(party: tuple[int, bytes]) -> bytes:
    endpoint_ref, called = party
    return bytes(b.AddParty(CALL_REF, endpoint_ref, called, aal=b.aal5(), blli=b.low_layer_information(l2=LLC)))


def _drop_party_ack_fast(party: tuple[int, bytes]) -> bytes:
    return fast.encode(fast.message(DROP_PARTY_ACK, CALL_REF, [fast.endpoint_reference(party[0], 1)], flag=1))


def _drop_party_ack_scapy(party: tuple[int, bytes]) -> bytes:
    return bytes(b.DropPartyAcknowledge(CALL_REF, party[0], flag=1))


def _values(msg) -> tuple:
    """What a decoded message says (either path's): header values and each element's identifier,
    instruction, contents and fields."""
    if isinstance(msg, fast.FastMessage):
        return (msg.message_type, msg.call_ref, msg.call_ref_flag, msg.instruction, [
            (e.identifier, e.instruction, e.contents, e.fields._asdict()) for e in msg.ies])
    return (msg.message_type, msg.call_ref, msg.call_ref_flag, msg.instruction, [
        (e.identifier, e.instruction, bytes(e)[4:], e.content_fields()) for e in msg.ies])


def _check_same(label: str, octets: int, fast_enc, scapy_enc, parties: list) -> list[bytes]:
    """The batch's octets, after checking that both paths encode and decode it alike."""
    encoded = [fast_enc(p) for p in parties]
    if encoded != [scapy_enc(p) for p in parties] or len(encoded[0]) != octets:
        raise AssertionError(f"{label}: the fast codec and scapy encode the benchmark messages differently")
    if [_values(fast.decode(x)) for x in encoded] != [_values(decode_message(x)) for x in encoded]:
        raise AssertionError(f"{label}: the fast codec and scapy decode the benchmark messages differently")
    return encoded


class _Side:
    """One path's account in :func:`_interleaved_rates`."""

    __slots__ = ("fn", "at", "time", "done", "best")

    def __init__(self, fn) -> None:
        self.fn, self.at, self.time, self.done, self.best = fn, 0, 0.0, 0, 0.0


def _interleaved_rates(fast_fn, scapy_fn, items: list, seconds: float) -> tuple[float, float, float, float]:
    """Messages/s of ``fast_fn`` and of ``scapy_fn`` over the same ``items``: (fast, scapy) at the best
    slice of each, then (fast, scapy) over all slices.

    The two run in alternating slices of :data:`SLICE` seconds each (as many messages as take that long
    undisturbed, taken in turn from the batch, round and round; sizes follow each side's best rate so far)
    until each has run ``seconds`` in all: load from elsewhere on the machine meets both alike. The best
    slice of each side is its rate undisturbed (the convention of ``timeit``: the other slices are the same
    work slowed by other processes); the rates over all slices are the same figures under the run's load.
    Each message's result is dropped as the next comes, as in the firmware. The garbage collector stays on,
    but the young generation is collected between slices (not timed), so that neither side pays for the
    cycles the other left behind."""
    n = len(items)
    clock = time.perf_counter
    fast_side, scapy_side = sides = (_Side(fast_fn), _Side(scapy_fn))
    for side in sides:  # a first estimate of the rate, from a few messages
        start = clock()
        for x in items[:5]:
            side.fn(x)
        side.best = 5 / (clock() - start)
    while fast_side.time < seconds or scapy_side.time < seconds:
        for side in sides:
            fn, at, count = side.fn, side.at, max(1, round(side.best * SLICE))
            few = [items[(at + i) % n] for i in range(count)]  # the batch in turn, round and round
            side.at = (at + count) % n
            gc.collect(0)
            start = clock()
            for x in few:
                fn(x)
            elapsed = clock() - start
            side.time += elapsed
            side.done += len(few)
            side.best = max(side.best, len(few) / elapsed)
    return (fast_side.best, scapy_side.best, fast_side.done / fast_side.time,
            scapy_side.done / scapy_side.time)


def _pair(ctx: Context, name: str, fast_fn, scapy_fn, items: list, note: str, target: float | None = TARGET):
    fast_rate, scapy_rate, fast_mean, scapy_mean = _interleaved_rates(fast_fn, scapy_fn, items, SECONDS)
    ctx.log(f"{name}: fast {fast_rate:,.0f}/s, scapy {scapy_rate:,.0f}/s, x{fast_rate / scapy_rate:.1f} "
            f"(all slices: {fast_mean:,.0f}/s, {scapy_mean:,.0f}/s, x{fast_mean / scapy_mean:.1f})")
    all_slices = f"; over all slices, under this run's load: {fast_mean:,.0f}/s, x{fast_mean / scapy_mean:.1f}"
    yield Figure(name, fast_rate, "messages/s", ratio_to_twin=fast_rate / scapy_rate, target=target,
                 note=note + all_slices)
    yield Figure(f"{name}_scapy", scapy_rate, "messages/s",
                 note=f"the scapy twin, same run, same messages; over all slices: {scapy_mean:,.0f}/s")


@figures("signalling")
def codec(ctx: Context):
    parties = _parties(max(int(2000 * ctx.scale), 20))
    for label, fast_enc, scapy_enc, octets in (
            ("add_party", _add_party_fast, _add_party_scapy, 57),
            ("drop_party_ack", _drop_party_ack_fast, _drop_party_ack_scapy, 16)):
        encoded = _check_same(label, octets, fast_enc, scapy_enc, parties)
        yield from _pair(ctx, f"{label}_encode", fast_enc, scapy_enc, parties,
                         f"{octets}-octet messages built from values")
        yield from _pair(ctx, f"{label}_decode", fast.decode, decode_message, encoded,
                         f"strict decode of {octets}-octet messages")
        if label == "add_party":  # for the record: the first frame of a shape takes the general path
            yield from _pair(ctx, f"{label}_decode_general_path", fast._make_general_decoder({}), decode_message,
                             encoded, f"strict decode of {octets}-octet messages by the fast codec's general "
                             "path alone, as the first frame of each shape is (no target)", target=None)
