"""The frame-by-frame comparison: what is compared and what is not, and how a missing, extra or changed
answer shows (one row each, the rest still matching)."""

from __future__ import annotations

from captures.compare import DIFFERS, EXTRA, MISSING, SAME, SENT, MessageView, compare


def answer(name: str, mt: int, epref: int | None = None, causes=(), state=None, frame=1, time_ns=0, cref=1,
           flag=1) -> MessageView:
    return MessageView(name, mt, cref, flag, epref, None if epref is None else flag, tuple(causes), state,
                       frame=frame, time_ns=time_ns)


EXPECTED = [answer("CALL PROCEEDING", 0x02), answer("CONNECT", 0x07, 0), answer("ADD PARTY ACKNOWLEDGE", 0x81, 1),
            answer("ADD PARTY REJECT", 0x82, 2, (21,)), answer("DROP PARTY ACKNOWLEDGE", 0x84, 1, (16,))]


def statuses(comparison):
    return [row.status for row in comparison.rows]


def test_the_same_answers_at_other_times_and_frames_are_equal():
    moved = [MessageView(**{**m.__dict__, "frame": 100 + i, "time_ns": 10**9 * i}) for i, m in enumerate(EXPECTED)]
    result = compare(EXPECTED, moved)
    assert result.equal and statuses(result) == [SAME] * 5


def test_a_changed_cause_is_one_row_naming_the_field():
    got = list(EXPECTED)
    got[3] = answer("ADD PARTY REJECT", 0x82, 2, (17,))
    result = compare(EXPECTED, got)
    assert not result.equal
    assert statuses(result) == [SAME, SAME, SAME, DIFFERS, SAME]
    assert result.rows[3].fields == ("causes",)


def test_each_compared_field_is_seen():
    base = answer("ADD PARTY ACKNOWLEDGE", 0x81, 1, (), 10)
    changes = {"message_type": dict(message_type=0x82), "call_ref": dict(call_ref=2),
               "call_ref_flag": dict(call_ref_flag=0), "endpoint_ref": dict(endpoint_ref=9),
               "endpoint_ref_flag": dict(endpoint_ref_flag=0), "causes": dict(causes=(31,)),
               "endpoint_state": dict(endpoint_state=7)}
    for field, change in changes.items():
        other = MessageView(**{**base.__dict__, **change})
        result = compare([answer("CONNECT", 7), base, answer("CONNECT", 7)], [answer("CONNECT", 7), other,
                                                                             answer("CONNECT", 7)])
        assert [r.fields for r in result.rows] == [(), (field,), ()], field


def test_a_missing_answer_is_one_row_and_the_rest_still_match():
    got = EXPECTED[:2] + EXPECTED[3:]
    result = compare(EXPECTED, got)
    assert statuses(result) == [SAME, SAME, MISSING, SAME, SAME]
    assert result.rows[2].expected == EXPECTED[2] and result.rows[2].got is None
    assert result.counts[MISSING] == 1 and not result.equal


def test_an_extra_answer_is_one_row():
    extra = answer("STATUS", 0x7D, None, (101,), state=10)
    result = compare(EXPECTED, EXPECTED[:1] + [extra] + EXPECTED[1:])
    assert statuses(result) == [SAME, EXTRA, SAME, SAME, SAME, SAME]
    assert result.rows[1].got == extra


def test_sent_messages_sit_where_the_capture_had_them():
    setup, add1, add2 = (answer("SETUP", 5, 0, flag=0), answer("ADD PARTY", 0x80, 1, flag=0),
                         answer("ADD PARTY", 0x80, 2, flag=0))
    result = compare(EXPECTED, EXPECTED, sent=[(0, setup), (2, add1), (2, add2), (5, answer("RELEASE", 0x4D))])
    names = [(row.status, row.expected.message) for row in result.rows]
    assert names == [(SENT, "SETUP"), (SAME, "CALL PROCEEDING"), (SAME, "CONNECT"), (SENT, "ADD PARTY"),
                     (SENT, "ADD PARTY"), (SAME, "ADD PARTY ACKNOWLEDGE"), (SAME, "ADD PARTY REJECT"),
                     (SAME, "DROP PARTY ACKNOWLEDGE"), (SENT, "RELEASE")]
    assert result.equal  # sent rows are context, not differences


def test_nothing_got_at_all():
    result = compare(EXPECTED, [])
    assert statuses(result) == [MISSING] * 5
    assert result.as_json() == {"equal": False, "same": 0, "differs": 0, "missing": 5, "extra": 0, "sent": 0}
