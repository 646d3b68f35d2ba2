"""Typed errors of the NDIS model (cm/ndis).

These are the errors a real system would answer with a bug check (a crash): a handle of the wrong kind, a
handle from another NDIS instance, an impossible IRQL transition, a spin lock acquired twice on the one
processor. They are raised at once, in every mode of the rule checker, because no sane continuation
exists. Protocol *rule* breaches (completing twice, using a dropped party...) are not errors here: the
dispatcher reports them to its observers and the rule checker (cm/rules) decides to raise or to collect.
"""

from __future__ import annotations

from hw.errors import AtmemuError


class NdisError(AtmemuError):
    """Base of the NDIS model's errors."""


class NdisHandleError(NdisError, TypeError):
    """A handle argument is not a handle of the kind the function takes, or belongs to another NDIS.

    ``function`` is the NDIS function, ``parameter`` the parameter name as the WDK spells it."""

    def __init__(self, function: str, parameter: str, value: object, expected: str) -> None:
        self.function = function
        self.parameter = parameter
        self.value = value
        self.expected = expected
        super().__init__(f"{function}: {parameter}={value!r}: expected {expected}")


class NdisRegistrationError(NdisError):
    """A driver registered or bound in a way NDIS refuses (missing required handlers, duplicate AF...)."""


class IrqlError(NdisError):
    """An IRQL transition the processor cannot make (KeRaiseIrql to a lower level, KeLowerIrql to a higher
    one, an IRQL out of range, a spin lock released that is not held or acquired twice)."""
