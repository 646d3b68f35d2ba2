"""NDIS_STATUS: the status codes of ndis.h with their real values, and the severity helpers.

An NDIS_STATUS is an NTSTATUS: bits 31-30 are the severity (0 success, 1 informational, 2 warning,
3 error), bit 29 the customer flag, bits 27-16 the facility and bits 15-0 the code (ntdef.h, "NTSTATUS
Values"). Values below are those of the WDK 7.1 ndis.h ("status codes returned by drivers" and "CO-NDIS
specific") and of reference/condis-mcm.md, section "NDIS_STATUS values".

A call manager may complete with any status it chooses ("an MCM driver-determined error status",
NdisMCmAddPartyComplete), so functions in this model accept any 32-bit value; :func:`as_status` turns a
known one into its :class:`NDIS_STATUS` member so that it prints with its name.

Beware: NT_SUCCESS(NDIS_STATUS_PENDING) is true (0x103 has success severity), so every caller compares
with NDIS_STATUS_PENDING before it looks at the severity, exactly as C drivers must.
"""

from __future__ import annotations

from enum import IntEnum

from hw.errors import FieldError


class NDIS_STATUS(IntEnum):
    """The NDIS status codes this model uses, with their ndis.h values."""

    SUCCESS = 0x00000000  # STATUS_SUCCESS
    PENDING = 0x00000103  # STATUS_PENDING
    NOT_RECOGNIZED = 0x00010001
    NOT_COPIED = 0x00010002
    NOT_ACCEPTED = 0x00010003  # success severity (reference: "these two have success severity")
    CALL_ACTIVE = 0x00010007  # success severity
    FAILURE = 0xC0000001  # STATUS_UNSUCCESSFUL
    INVALID_PARAMETER = 0xC000000D  # STATUS_INVALID_PARAMETER
    RESOURCES = 0xC000009A  # STATUS_INSUFFICIENT_RESOURCES
    NOT_SUPPORTED = 0xC00000BB  # STATUS_NOT_SUPPORTED
    INVALID_STATE = 0xC0000184  # STATUS_INVALID_DEVICE_STATE (NDIS 6)
    CLOSING = 0xC0010002
    REQUEST_ABORTED = 0xC001000C
    CLOSING_INDICATING = 0xC001000E
    INVALID_LENGTH = 0xC0010014
    INVALID_DATA = 0xC0010015
    # CO-NDIS specific (ndis.h); the trailing comments of the header name the Q.2931 cause each stands for
    INVALID_SAP = 0xC0010020
    SAP_IN_USE = 0xC0010021
    INVALID_ADDRESS = 0xC0010022
    VC_NOT_ACTIVATED = 0xC0010023
    DEST_OUT_OF_ORDER = 0xC0010024  # cause 27
    VC_NOT_AVAILABLE = 0xC0010025  # cause 35, 45
    CELLRATE_NOT_AVAILABLE = 0xC0010026  # cause 37
    INCOMPATABLE_QOS = 0xC0010027  # cause 49 (spelled so in ndis.h)
    AAL_PARAMS_UNSUPPORTED = 0xC0010028  # cause 93
    NO_ROUTE_TO_DESTINATION = 0xC0010029  # cause 3


# The C spellings, so that driver code reads as it does in C: ``return NDIS_STATUS_PENDING``.
NDIS_STATUS_SUCCESS = NDIS_STATUS.SUCCESS
NDIS_STATUS_PENDING = NDIS_STATUS.PENDING
NDIS_STATUS_NOT_RECOGNIZED = NDIS_STATUS.NOT_RECOGNIZED
NDIS_STATUS_NOT_COPIED = NDIS_STATUS.NOT_COPIED
NDIS_STATUS_NOT_ACCEPTED = NDIS_STATUS.NOT_ACCEPTED
NDIS_STATUS_CALL_ACTIVE = NDIS_STATUS.CALL_ACTIVE
NDIS_STATUS_FAILURE = NDIS_STATUS.FAILURE
NDIS_STATUS_INVALID_PARAMETER = NDIS_STATUS.INVALID_PARAMETER
NDIS_STATUS_RESOURCES = NDIS_STATUS.RESOURCES
NDIS_STATUS_NOT_SUPPORTED = NDIS_STATUS.NOT_SUPPORTED
NDIS_STATUS_INVALID_STATE = NDIS_STATUS.INVALID_STATE
NDIS_STATUS_CLOSING = NDIS_STATUS.CLOSING
NDIS_STATUS_REQUEST_ABORTED = NDIS_STATUS.REQUEST_ABORTED
NDIS_STATUS_CLOSING_INDICATING = NDIS_STATUS.CLOSING_INDICATING
NDIS_STATUS_INVALID_LENGTH = NDIS_STATUS.INVALID_LENGTH
NDIS_STATUS_INVALID_DATA = NDIS_STATUS.INVALID_DATA
NDIS_STATUS_INVALID_SAP = NDIS_STATUS.INVALID_SAP
NDIS_STATUS_SAP_IN_USE = NDIS_STATUS.SAP_IN_USE
NDIS_STATUS_INVALID_ADDRESS = NDIS_STATUS.INVALID_ADDRESS
NDIS_STATUS_VC_NOT_ACTIVATED = NDIS_STATUS.VC_NOT_ACTIVATED
NDIS_STATUS_DEST_OUT_OF_ORDER = NDIS_STATUS.DEST_OUT_OF_ORDER
NDIS_STATUS_VC_NOT_AVAILABLE = NDIS_STATUS.VC_NOT_AVAILABLE
NDIS_STATUS_CELLRATE_NOT_AVAILABLE = NDIS_STATUS.CELLRATE_NOT_AVAILABLE
NDIS_STATUS_INCOMPATABLE_QOS = NDIS_STATUS.INCOMPATABLE_QOS
NDIS_STATUS_AAL_PARAMS_UNSUPPORTED = NDIS_STATUS.AAL_PARAMS_UNSUPPORTED
NDIS_STATUS_NO_ROUTE_TO_DESTINATION = NDIS_STATUS.NO_ROUTE_TO_DESTINATION

#: The Q.2931 cause values that ndis.h names beside a CO-NDIS status (its trailing comments). This is what
#: the header says, not a complete mapping: the cause-to-status converter (written with the UNI IE
#: conversion) starts from it and chooses a status for the other causes.
NDIS_H_CAUSE_COMMENTS: dict[int, NDIS_STATUS] = {
    3: NDIS_STATUS.NO_ROUTE_TO_DESTINATION,
    27: NDIS_STATUS.DEST_OUT_OF_ORDER,
    35: NDIS_STATUS.VC_NOT_AVAILABLE,
    37: NDIS_STATUS.CELLRATE_NOT_AVAILABLE,
    45: NDIS_STATUS.VC_NOT_AVAILABLE,
    49: NDIS_STATUS.INCOMPATABLE_QOS,
    93: NDIS_STATUS.AAL_PARAMS_UNSUPPORTED,
}

StatusLike = int  # an NDIS_STATUS member or any 32-bit status a driver chose


def as_status(value: object, field: str = "Status") -> int:
    """``value`` as an NDIS status: its :class:`NDIS_STATUS` member when known, else the int itself.

    Raises :class:`~hw.errors.FieldError` unless ``value`` is an int (not a bool) in 0..0xFFFFFFFF: a C
    NDIS_STATUS is a 32-bit value; negative Python ints are refused rather than silently wrapped."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(field, value, "an NDIS_STATUS (int 0..0xFFFFFFFF)")
    if not 0 <= value <= 0xFFFFFFFF:
        raise FieldError(field, value, "an NDIS_STATUS (int 0..0xFFFFFFFF)")
    try:
        return NDIS_STATUS(value)
    except ValueError:
        return int(value)


def severity(status: int) -> int:
    """The severity field, bits 31-30: 0 success, 1 informational, 2 warning, 3 error."""
    return (int(status) >> 30) & 0x3


def NT_SUCCESS(status: int) -> bool:
    """ntdef.h NT_SUCCESS: severity success or informational (the signed value is >= 0).
    True for NDIS_STATUS_PENDING: compare with PENDING first."""
    return severity(status) <= 1


def NT_INFORMATION(status: int) -> bool:
    """ntdef.h NT_INFORMATION: severity informational."""
    return severity(status) == 1


def NT_WARNING(status: int) -> bool:
    """ntdef.h NT_WARNING: severity warning."""
    return severity(status) == 2


def NT_ERROR(status: int) -> bool:
    """ntdef.h NT_ERROR: severity error."""
    return severity(status) == 3


def status_name(status: int) -> str:
    """``NDIS_STATUS_FAILURE`` for a known status, ``0xC00A0001`` for another."""
    try:
        return "NDIS_STATUS_" + NDIS_STATUS(int(status)).name
    except ValueError:
        return f"0x{int(status):08X}"
