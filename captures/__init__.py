"""Captures: pcap/pcapng writing and reading, the ATM link types, taps, replay and diff.

Importing this package registers LINKTYPE_SUNATM (123) and LINKTYPE_ERF (197) with scapy and binds
SSCOP SD PDUs to Q.2931, so ``scapy.utils.rdpcap`` decodes an atmemu capture down to Q.2931.
"""

from captures import linktypes  # noqa: F401  (registration happens at import)
