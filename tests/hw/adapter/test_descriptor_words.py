"""DescriptorLayout reads and merges a descriptor as one little-endian integer (unpack, getter, merger):
the same fields as the word-by-word encoder (pack) and read-modify-write (merge) put there."""

from __future__ import annotations

import random

import pytest

from hw.adapter.rings import RX_DESC, TX_DESC
from hw.errors import FieldError


@pytest.mark.parametrize("layout", [RX_DESC, TX_DESC], ids=lambda d: d.name)
def test_unpack_reads_what_pack_wrote(layout):
    rng = random.Random(7)
    masks = {name: layout._fields[name][2] for name in layout.fields}
    for _ in range(200):
        values = {name: rng.choice((0, masks[name], rng.randint(0, masks[name]))) for name in layout.fields}
        assert layout.unpack(layout.pack(**values)) == values


@pytest.mark.parametrize("layout", [RX_DESC, TX_DESC], ids=lambda d: d.name)
def test_merger_keeps_every_other_bit(layout):
    # a descriptor of all ones with one field merged to 0: exactly that field's bits cleared
    ones = b"\xff" * layout.octets
    for name in layout.fields:
        merged = layout.unpack(layout.merger(name)(ones, 0))
        assert merged[name] == 0
        assert all(v == layout._fields[n][2] for n, v in merged.items() if n != name)


def test_merger_refuses_a_descriptor_of_another_length():
    with pytest.raises(FieldError, match="octets"):
        RX_DESC.merger("LEN")(bytes(RX_DESC.octets - 1), 1)
