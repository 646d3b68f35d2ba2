"""Q.2931 cause <-> NDIS_STATUS: every cause maps to an error status, the rows ndis.h dictates are exactly
the header's, every cause the standards and atm.h name has a row with its source, and the reverse mapping
answers the MCM's rejections with causes that map back to the same status."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cm.ndis import params as P
from cm.ndis.cause_status import (CAUSE_TO_STATUS, DEFAULT_CAUSE, DEFAULT_STATUS, NORMAL_CLEARING_CAUSES,
                                  STATUS_TO_CAUSE, cause_for_status, close_status, completion_status, mapping,
                                  ndis_h_rows)
from cm.ndis.status import NDIS_H_CAUSE_COMMENTS, NDIS_STATUS, NT_ERROR, NT_SUCCESS
from firmware.uni.constants import CauseValue
from hw.errors import FieldError

#: The cause values of atm.h's UNI 3.1 build (cm.ndis.params ATM_CAUSE_*), with the two UNI 3.0 numbers.
ATM_H_CAUSES = {value for name, value in vars(P).items() if name.startswith("ATM_CAUSE_") and isinstance(value, int)
                and not name.startswith(("ATM_CAUSE_LOC_", "ATM_CAUSE_COND_", "ATM_CAUSE_REASON_", "ATM_CAUSE_PU_",
                                         "ATM_CAUSE_NA_"))}
#: The values atm.h adds in its UNI 4.0 build (#ifdef MS_UNI4).
ATM_H_UNI40_CAUSES = {4, 5, 6, 7, 8, 9, 19, 20, 26, 29, 32, 34, 36, 37, 39, 40, 42, 44, 50, 53, 55, 62, 66, 69, 70,
                      78, 79, 83, 84, 85, 86, 87, 90, 95, 98, 103, 110, 127}


def test_brief_examples():
    """The pairings the issue asks about, one by one."""
    assert completion_status(3) is NDIS_STATUS.NO_ROUTE_TO_DESTINATION
    assert completion_status(1) is NDIS_STATUS.INVALID_ADDRESS
    assert completion_status(27) is NDIS_STATUS.DEST_OUT_OF_ORDER
    assert completion_status(35) is NDIS_STATUS.VC_NOT_AVAILABLE
    assert completion_status(37) is NDIS_STATUS.CELLRATE_NOT_AVAILABLE
    assert completion_status(49) is NDIS_STATUS.INCOMPATABLE_QOS
    assert completion_status(93) is NDIS_STATUS.AAL_PARAMS_UNSUPPORTED
    assert completion_status(78) is NDIS_STATUS.AAL_PARAMS_UNSUPPORTED  # Q.2931's number of the same cause
    assert completion_status(17) is NDIS_STATUS.RESOURCES
    assert completion_status(21) is NDIS_STATUS.FAILURE
    assert completion_status(102) is NDIS_STATUS.REQUEST_ABORTED  # T399 expiry at the user side (Q.2971)


def test_ndis_h_rows_are_the_headers():
    """Every row whose source is ndis.h is a cause comment of ndis.h, and every comment has its row."""
    assert ndis_h_rows() == NDIS_H_CAUSE_COMMENTS
    for cause, status in NDIS_H_CAUSE_COMMENTS.items():
        row = mapping(cause)
        assert row.status is status and row.source.startswith("ndis.h") and str(cause) in row.source


def test_rows_are_data_with_sources():
    causes = [row.cause for row in CAUSE_TO_STATUS]
    assert causes == sorted(set(causes)), "one row per cause, in numeric order"
    for row in CAUSE_TO_STATUS:
        assert row.name and row.defined_by and row.source.startswith(("ndis.h:", "atmemu:"))
        assert isinstance(row.status, NDIS_STATUS)
    named = {int(c) for c in CauseValue} | ATM_H_CAUSES | ATM_H_UNI40_CAUSES
    assert named - set(causes) == set(), "every cause the standards and atm.h name has its own row"
    # and the names agree with the standard's: spot checks against CauseValue
    assert mapping(CauseValue.USER_BUSY).name == "user busy"
    assert mapping(CauseValue.RECOVERY_ON_TIMER_EXPIRY).name == "recovery on timer expiry"


@given(st.integers(0, 127))
def test_every_cause_completes_with_an_error_status(cause):
    status = completion_status(cause)
    assert isinstance(status, NDIS_STATUS)
    # a rejected request never completes with success severity: the party handle would look valid
    assert NT_ERROR(status) and status not in (NDIS_STATUS.PENDING, NDIS_STATUS.NOT_ACCEPTED)
    row = mapping(cause)
    assert status is (row.status if row else DEFAULT_STATUS)


def test_unlisted_causes_default_to_failure():
    listed = {row.cause for row in CAUSE_TO_STATUS}
    unlisted = [c for c in range(128) if c not in listed]
    assert unlisted and 0 in unlisted and 11 in unlisted
    assert DEFAULT_STATUS is NDIS_STATUS.FAILURE
    assert all(completion_status(c) is NDIS_STATUS.FAILURE for c in unlisted)


@pytest.mark.parametrize("bad", [-1, 128, 255, "27", 27.0, True, None])
def test_invalid_causes_raise(bad):
    with pytest.raises(FieldError) as info:
        completion_status(bad)
    assert info.value.field == "cause"
    if bad is not None:
        with pytest.raises(FieldError):
            close_status(bad)


def test_close_status():
    """A call cleared normally (or without a cause) closes with SUCCESS; anything else tells why."""
    assert NORMAL_CLEARING_CAUSES == {16, 31}
    assert close_status(16) is NDIS_STATUS.SUCCESS and close_status(31) is NDIS_STATUS.SUCCESS
    assert close_status(None) is NDIS_STATUS.SUCCESS
    assert close_status(27) is NDIS_STATUS.DEST_OUT_OF_ORDER
    assert completion_status(16) is NDIS_STATUS.FAILURE  # a request that ended in clearing did not succeed
    for cause in range(128):
        if cause not in NORMAL_CLEARING_CAUSES:
            assert close_status(cause) is completion_status(cause)


def test_reverse_rows():
    statuses = [int(row.status) for row in STATUS_TO_CAUSE]
    assert len(statuses) == len(set(statuses))
    for row in STATUS_TO_CAUSE:
        assert row.source.startswith(("ndis.h", "atmemu", "Q.2931"))
        assert 1 <= row.cause <= 127 and mapping(row.cause) is not None
    assert cause_for_status(NDIS_STATUS.SUCCESS) == 16
    assert cause_for_status(NDIS_STATUS.DEST_OUT_OF_ORDER) == 27
    assert cause_for_status(NDIS_STATUS.VC_NOT_AVAILABLE) == 35
    assert cause_for_status(NDIS_STATUS.AAL_PARAMS_UNSUPPORTED) == 78  # this UNI speaks Q.2931, not UNI 3.0
    assert cause_for_status(NDIS_STATUS.INVALID_SAP) == 88  # no SAP matched the incoming call
    assert cause_for_status(NDIS_STATUS.FAILURE) == DEFAULT_CAUSE == 21
    assert cause_for_status(0xC00A0001) == DEFAULT_CAUSE  # a status the MCM or client chose itself


def test_every_failure_status_comes_back():
    """What a peer MCM rejects with maps back, at this MCM, to the status the peer's client gave: the
    reverse is a right inverse of completion_status on its image."""
    image = {row.status for row in CAUSE_TO_STATUS} | {DEFAULT_STATUS}
    for status in image:
        assert completion_status(cause_for_status(status)) is status, status.name


@pytest.mark.parametrize("status", list(NDIS_STATUS))
def test_every_status_has_a_cause(status):
    if status is NDIS_STATUS.PENDING:
        with pytest.raises(FieldError):
            cause_for_status(status)
        return
    cause = cause_for_status(status)
    assert cause in {int(c) for c in CauseValue}
    if status is not NDIS_STATUS.SUCCESS:
        assert not NT_SUCCESS(completion_status(cause))


@pytest.mark.parametrize("bad", [-1, 1 << 32, "0", None, True])
def test_invalid_statuses_raise(bad):
    with pytest.raises(FieldError):
        cause_for_status(bad)
