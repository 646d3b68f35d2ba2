"""SSCOP, the Service Specific Connection Oriented Protocol of ITU-T Q.2110: the SAAL's reliable layer
over AAL5 on VPI 0/VCI 5.

The wire format: ``pdu`` (the 15 PDUs as scapy layers, the definition, and the strict ``decode_sscop``),
``fastcodec`` (the hot-path encoder/decoder, proven byte-identical with the layers), ``layout`` (type
codes and the validity rules both share), ``errors``. The protocol entity lives beside them
(``machine``, ``states``, ``events``).
"""
