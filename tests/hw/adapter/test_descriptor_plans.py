"""The compiled descriptor accessors the adapter's per-frame paths use (DescriptorLayout.merger and
.getter) give what merge and unpack give, and refuse what they refuse."""

from __future__ import annotations

import random

import pytest

from hw.adapter.rings import RX_DESC, TX_DESC
from hw.errors import FieldError


@pytest.mark.parametrize("layout", [RX_DESC, TX_DESC], ids=lambda d: d.name)
@pytest.mark.parametrize("seed", range(5))
def test_merger_and_getter_equal_merge_and_unpack(layout, seed):
    rng = random.Random(seed)
    masks = {name: layout._fields[name][2] for name in layout.fields}
    for _ in range(200):
        raw = bytes(rng.randrange(256) for _ in range(layout.octets))
        names = tuple(rng.sample(layout.fields, rng.randint(1, len(layout.fields))))
        values = [rng.randint(0, masks[n]) for n in names]
        assert layout.merger(*names)(raw, *values) == layout.merge(raw, **dict(zip(names, values)))
        full = layout.unpack(raw)
        assert layout.getter(*names)(raw) == tuple(full[n] for n in names)


def test_merger_refuses_what_merge_refuses():
    merge = RX_DESC.merger("LEN", "ERR")
    raw = bytes(RX_DESC.octets)
    assert merge(raw, 3, "CRC") == RX_DESC.merge(raw, LEN=3, ERR="CRC")  # named values too
    with pytest.raises(FieldError, match="LEN"):
        merge(raw, 1 << 16, 0)
    with pytest.raises(FieldError, match="ERR"):
        merge(raw, 1, "NOT_A_CODE")
    with pytest.raises(FieldError, match="values"):
        merge(raw, 1)
    with pytest.raises(FieldError, match="field"):
        RX_DESC.merger("LEN", "NOPE")
    with pytest.raises(FieldError, match="once"):
        RX_DESC.merger("LEN", "LEN")
    with pytest.raises(FieldError, match="octets"):
        RX_DESC.getter("OWN")(bytes(3))
