"""Captures: pcap/pcapng writing and reading, the ATM link types, taps, replay and diff.

Modules, in reading order:

    records, pcapng, pcap, stream   the formats: SunATM and ERF records, the pcapng and pcap writers
    reader, errors                  the streaming reader and its typed errors
    linktypes/                      SunATM and ERF as scapy layers
    summary                         every frame of a capture as a neutral set of facts (atmemu decode)
    recorder, taps, vcfilter        recording a running emulation: one pcapng, one interface per link
    synth                           signalling captures written by hand (tests, examples)
    exchange, compare               a capture's signalling per link; frame-by-frame comparison
    replay, drivers                 atmemu replay: the script, the emulator drivers, cells through the fabric
    golden_captures, golden/        the reference captures tests replay

Importing this package registers LINKTYPE_SUNATM (123) and LINKTYPE_ERF (197) with scapy and binds
SSCOP SD PDUs to Q.2931, so ``scapy.utils.rdpcap`` decodes an atmemu capture down to Q.2931.
"""

from captures import linktypes  # noqa: F401  (registration happens at import)
