"""Bugs the fuzzing found in decoders this suite does not own, kept as minimal regression tests. Each is
a hang or a memory blow-up on an input within the decoder's own size limits: the cost grows with the
square of the input, so the sizes the hypothesis tests draw stay fast and a file or a message of the
size the decoder accepts does not.

Open (strict xfail: the day the decoder is fixed, the xfail turns into a failure and the mark comes off):
none at present.

Fixed (plain regression tests):

- a Q.2931 message decoded by the scapy layers: each information element kept the rest of the
  message as its ``original`` octets (message.py's PacketListField of ies), so memory was quadratic;
- ``CaptureReader.packets()`` looked each packet's interface up in a list of all interfaces;
- ``CaptureReader.records()`` rebuilt arrays over every interface for each run of same-length packets;
- capture.vcs of a scenario: each VC was looked up in a list of those before it (load.py ``_vc``);
- addresses.domain of a scenario: each prefix was compared with every one before it (load.py).
"""

from __future__ import annotations

import io
import struct

import pytest

from tools.fuzz.guard import FuzzFinding, Hang, MemoryBlowUp, bounded


def within(seconds: float, peak: int | None, work):
    """``work()`` under the guard; a finding re-raised from here, with a traceback that pytest can show
    (an alarm can land in a frame without a line number, deep in scapy or a generator's cleanup)."""
    try:
        with bounded(seconds, peak or 1 << 30, trace=peak is not None):
            return work()
    except FuzzFinding as finding:
        raise type(finding)(str(finding)) from None


@pytest.mark.fuzz
def test_a_scenario_with_many_capture_vcs_loads_in_linear_time():
    from tools.scenario import loads

    vcs = ", ".join(f'"{i // 60000}/{i % 60000 + 32}"' for i in range(40000))  # 0.45 MiB of TOML
    # with a set of the VCs seen: about 0.5 s; today about 6 s on an idle machine
    assert len(within(3.0, None, lambda: loads(f"[capture]\nvcs = [{vcs}]\n")).capture.vcs) == 40000


@pytest.mark.fuzz
def test_a_scenario_with_many_domain_prefixes_loads_in_linear_time():
    from tools.scenario import loads

    domain = ", ".join(f'"39.{i:06x}"' for i in range(12000))  # 160 KiB of TOML
    # with a set of the prefixes seen: about 0.4 s; today about 5 s on an idle machine
    assert len(within(3.0, None, lambda: loads(f"[addresses]\ndomain = [{domain}]\n")).addresses.domain) == 12000


@pytest.mark.fuzz
def test_decoding_a_message_of_many_elements_takes_linear_memory():
    from firmware.uni.decode import decode_message

    body = b"\x70\x80\x00\x00" * 2000  # 2000 empty Called party number elements: 8 KiB
    message = b"\x09\x03\x00\x00\x01\x80\x80" + len(body).to_bytes(2, "big") + body
    # each element built from its own 4 octets: about 2.3 MiB for 2000 (from the rest of the message: 10 MiB)
    assert len(within(10.0, 5 << 20, lambda: decode_message(message)).ies) == 2000


def _pcapng(interfaces: int, packets: int) -> bytes:
    def block(block_type: int, body: bytes) -> bytes:
        total = struct.pack("<I", 12 + len(body))
        return struct.pack("<I", block_type) + total + body + total

    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    idbs = block(1, struct.pack("<HHI", 147, 0, 0)) * interfaces  # LINKTYPE_USER0: raw octets
    epbs = b"".join(block(6, struct.pack("<5I", interfaces - 1 - i % 7, 0, i, 0, 0)) for i in range(packets))
    return shb + idbs + epbs


@pytest.mark.fuzz
def test_packets_of_a_capture_with_many_interfaces_come_in_linear_time():
    from captures import reader

    data = _pcapng(10000, 6000)  # 390 KiB: with the lookup by id, about 0.4 s; with the old list search, 8 s

    def count() -> int:
        with reader.open(io.BytesIO(data)) as rd:
            return sum(1 for _ in rd.packets())

    assert within(3.0, None, count) == 6000


def _alternating_runs(interfaces: int, packets: int) -> bytes:
    """Interfaces, then packets in pairs of one length, the length changing from pair to pair: each
    pair is a run of the reader's vectorised path."""
    def block(block_type: int, body: bytes) -> bytes:
        body += bytes(-len(body) % 4)
        total = struct.pack("<I", 12 + len(body))
        return struct.pack("<I", block_type) + total + body + total

    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    idbs = block(1, struct.pack("<HHI", 147, 0, 0)) * interfaces
    epbs = b"".join(block(6, struct.pack("<5I", 0, 0, i, 4 * (i // 2 % 2), 4 * (i // 2 % 2)) + bytes(4 * (i // 2 % 2)))
                    for i in range(packets))
    return shb + idbs + epbs


@pytest.mark.fuzz
def test_records_of_a_capture_with_many_interfaces_and_short_runs_come_in_linear_time():
    from captures import reader

    data = _alternating_runs(6000, 6000)  # 330 KiB: 0.3 s with the tables kept per section; it was 11 s

    def count() -> int:
        with reader.open(io.BytesIO(data)) as rd:
            return sum(1 for _ in rd.records())

    assert within(3.0, None, count) == 6000
