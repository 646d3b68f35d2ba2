"""SSCOPPdu._trusted (the machine's and the decoder's unchecked maker) gives the PDU the checked
constructor gives, field for field, for every PDU type."""

from __future__ import annotations

import random

from firmware.sscop.events import PduType, SSCOPPdu

FIELDS = ("type", "n_s", "n_r", "n_mr", "n_sq", "n_ps", "s", "list_", "data")


def test_trusted_equals_the_checked_constructor_for_every_type() -> None:
    rng = random.Random(7)
    for pdu_type in PduType:
        for _ in range(50):
            values = dict(n_s=rng.randrange(1 << 24), n_r=rng.randrange(1 << 24), n_mr=rng.randrange(1 << 24),
                          n_sq=rng.randrange(256), n_ps=rng.randrange(1 << 24), s=rng.randrange(2),
                          list_=tuple(rng.randrange(1 << 24) for _ in range(rng.randrange(3))),
                          data=rng.randbytes(rng.randrange(12)))
            checked = SSCOPPdu(pdu_type, **values)
            trusted = SSCOPPdu._trusted(pdu_type, **values)
            assert trusted == checked and hash(trusted) == hash(checked)
            assert [getattr(trusted, f) for f in FIELDS] == [getattr(checked, f) for f in FIELDS]
            assert trusted.__class__ is SSCOPPdu
    assert SSCOPPdu._trusted(PduType.POLL) == SSCOPPdu(PduType.POLL)   # the defaults
