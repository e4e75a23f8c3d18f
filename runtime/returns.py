"""Return values of a function that may return early on some paths (DESIGN §1.3).

Early ``return v`` becomes ``return_value = rx.returned(v); returned = True``: the value is a
:class:`Returned` with its *mass*, the probability that the function has returned with it, and
:data:`PENDING` where it has not returned yet (mass 0). Merging two paths weights each value by its
probability *and* its mass, so the value stays the expectation given that the function returned::

    mass   = p·m_true + (1 − p)·m_false
    weight = p·m_true / mass                 (p where mass is 0)
    value  = weight·v_true + (1 − weight)·v_false

Hard: ``p`` is exact per instance and the mass and value are those of the path taken.
"""

from __future__ import annotations

import torch

from .values import Value, align, to_output


class Returned(Value):
    """A return value with its mass (module docstring)."""

    __slots__ = ("value", "mass")
    noun = "a return value"
    per_instance = False
    merge_precedence = 2

    def __init__(self, value, mass=True):
        self.value = value
        self.mass = mass

    @classmethod
    def surely(cls, value) -> "Returned":
        """``value`` returned with certainty (an already-returned value keeps its value)."""
        return cls(value.value if isinstance(value, Returned) else value)

    def __repr__(self) -> str:
        return f"Returned({self.value!r}, mass={self.mass!r})"

    def output(self):
        return to_output(self.value)

    @classmethod
    def merge_paths(cls, merger, value_true, value_false):
        if not all(isinstance(v, (Returned, Pending)) for v in (value_true, value_false)):
            return merger.refuse(value_true, value_false)
        masses = [r.mass if isinstance(r, Returned) else False for r in (value_true, value_false)]
        p = merger.p
        if p.dtype == torch.bool:
            p_, mass_true, mass_false = align(p, *(_mass(m, p, None) for m in masses))
            mass, weight = torch.where(p_, mass_true, mass_false), p
        else:
            p_, mass_true, mass_false = align(p, *(_mass(m, p, p.dtype) for m in masses))
            mass = p_ * mass_true + (1 - p_) * mass_false
            safe = torch.where(mass > 0, mass, torch.ones_like(mass))
            weight = torch.where(mass > 0, p_ * mass_true / safe, p_)
        if isinstance(value_false, Pending):
            value = value_true.value
        elif isinstance(value_true, Pending):
            value = value_false.value
        else:
            value = merger.reweighted(weight).merge(value_true.value, value_false.value)
        return Returned(value, mass)



class Pending(Value):
    """The return value of a function that has not returned yet on this path (mass 0)."""

    __slots__ = ()
    noun = "a pending return value"
    per_instance = False
    merge_precedence = 2

    def __repr__(self) -> str:
        return "relaxc_runtime.PENDING"

    merge_paths = Returned.merge_paths


PENDING = Pending()


def _mass(mass, like: torch.Tensor, dtype):
    if isinstance(mass, torch.Tensor):
        return mass if dtype is None or mass.dtype == dtype else mass.to(dtype)
    return torch.as_tensor(mass, dtype=dtype, device=like.device)
