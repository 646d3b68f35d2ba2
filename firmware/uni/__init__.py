"""UNI signalling messages: Q.2931 with the Q.2971 point-to-multipoint messages, as scapy layers, with a
fast codec proven equal to them.

- :mod:`~firmware.uni.message`, :mod:`~firmware.uni.messages`: the message header and one class per
  message type; :class:`Q2931` dispatches on the type (bind it under the SSCOP SD PDU).
- :mod:`~firmware.uni.ie`, :mod:`~firmware.uni.ies`: the information element header, dispatcher and
  typed elements; unknown elements are kept byte for byte.
- :mod:`~firmware.uni.contents`: message contents (mandatory/optional IEs) and :func:`check`.
- :mod:`~firmware.uni.decode`: :func:`decode_message`, the strict decoder with Q.2931 5.6 causes.
- :mod:`~firmware.uni.builders`: ``AddParty(...)``, ``DropParty(...)``, ``cause(...)``...
- :mod:`~firmware.uni.fastcodec`, :mod:`~firmware.uni.fastie`: the hot-path encoder and decoder.
- :mod:`~firmware.uni.constants`, :mod:`~firmware.uni.errors`: code points and typed errors.
"""

from firmware.uni import ies  # noqa: F401 - registers the IE classes
from firmware.uni import messages  # noqa: F401 - registers the message classes
from firmware.uni.builders import *  # noqa: F401,F403
from firmware.uni.builders import __all__ as _builder_names
from firmware.uni.constants import (CallState, CauseLocation, CauseValue, CodingStandard, IEAction, IEId,
                                    MessageAction, MessageType, PartyState)
from firmware.uni.contents import CONTENTS, Finding, check, findings
from firmware.uni.decode import decode_message
from firmware.uni.errors import (Disposition, IEContentError, MessageIgnored, MessageLengthError, UniDecodeError,
                                 UniEncodeError, UnknownMessageType)
from firmware.uni.ie import IE_CLASSES, InformationElement, UnknownIE, decode_ie
from firmware.uni.ies import *  # noqa: F401,F403
from firmware.uni.ies import __all__ as _ie_names
from firmware.uni.message import MESSAGE_CLASSES, Q2931
from firmware.uni.messages import *  # noqa: F401,F403
from firmware.uni.messages import __all__ as _message_names

__all__ = [
    "CONTENTS", "CallState", "CauseLocation", "CauseValue", "CodingStandard", "Disposition", "Finding", "IEAction",
    "IEContentError", "IEId", "IE_CLASSES", "InformationElement", "MESSAGE_CLASSES", "MessageAction",
    "MessageIgnored", "MessageLengthError", "MessageType", "PartyState", "Q2931", "UniDecodeError",
    "UniEncodeError", "UnknownIE", "UnknownMessageType", "check", "decode_ie", "decode_message", "findings",
    *_builder_names, *_ie_names, *_message_names,
]
