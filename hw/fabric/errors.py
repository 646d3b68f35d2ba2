"""Errors of the switch fabric model (hw/fabric)."""

from __future__ import annotations

from hw.errors import AtmemuError, FieldError


class FabricError(AtmemuError):
    """Base of the fabric's errors."""


class FabricConfigError(FabricError, FieldError):
    """A configuration or table value the fabric cannot accept; names the field and entry."""


class CellInputError(FabricError, FieldError):
    """Cells handed to a fabric port that are not a (n, 53) uint8 array, or aimed at a bad port/slot."""
