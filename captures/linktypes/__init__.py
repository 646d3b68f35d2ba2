"""pcap link types of ATM captures, registered with scapy on import so that ``rdpcap`` decodes them:

    LINKTYPE_SUNATM (123)  captures.linktypes.sunatm  SunATM pseudo-header + AAL5 SDU
    LINKTYPE_ERF    (197)  captures.linktypes.erf     ERF ATM cell (type 3) and AAL5 (type 4) records

Importing ``firmware.saal`` binds SSCOP SD payloads to Q.2931, so a signalling record decodes down to
the Q.2931 message.
"""

import firmware.saal  # noqa: F401 - binds SSCOP SD to Q.2931
from captures.linktypes import erf, sunatm
from captures.linktypes.erf import AAL5CPCS, ERF, ERFAAL5, ERFATMCell, LINKTYPE_ERF, decode_erf
from captures.linktypes.errors import LinkTypeDecodeError
from captures.linktypes.sunatm import LINKTYPE_SUNATM, SunATM, decode_sunatm

__all__ = [
    "AAL5CPCS", "ERF", "ERFAAL5", "ERFATMCell", "LINKTYPE_ERF", "LINKTYPE_SUNATM", "LinkTypeDecodeError",
    "SunATM", "decode_erf", "decode_sunatm", "erf", "sunatm",
]
