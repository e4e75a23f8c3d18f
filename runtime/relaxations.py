"""Relaxations: every formula that turns a discrete decision into a probability (DESIGN §1.2).

A relaxation is a perturbation family (the distribution of the noise added to every compared
value, with scale β) and a logic (how ``and``/``or`` combine two probabilities). Every other module
of the runtime asks the context's relaxation; nothing else writes a CDF, a kernel or a t-norm::

    relax(f)                                     # logistic noise, product logic (the paper)
    relax(f, relaxation="gaussian")              # another family
    f.options(relaxation=Relaxation("cauchy", logic="godel"))

With ``t = (b − a)/β``:

=============  ==========================  ===================  ======================
family         P[a < b]                    P[a == b]            index kernel κ(t)
=============  ==========================  ===================  ======================
logistic       σ(t)                        sech²(t/2)           σ(t)·σ(−t)
gaussian       Φ(t)                        exp(−t²/2)           exp(−t²/2)
cauchy         ½ + arctan(t)/π             1/(1 + t²)           1/(1 + t²)
smoothstep     0; ½ + ¾t − ¼t³; 1          max(0, 1 − t²)       max(0, 1 − t²)
=============  ==========================  ===================  ======================

(smoothstep: 0 for t ≤ −1, 1 for t ≥ 1: bounded support, so a decision farther than β from its
threshold is exact and the branch it does not take is exactly negligible.) ``P[a == b]`` and the
kernel are the family's density, scaled to 1 at t = 0. The logic:

=============  ======================  ======================  ======================
logic          p and q                 p or q                  p == q (booleans)
=============  ======================  ======================  ======================
product        p·q                     p + q − p·q             p·q + (1 − p)·(1 − q)
godel          min(p, q)               max(p, q)               max(min(p, q), min(1 − p, 1 − q))
lukasiewicz    max(0, p + q − 1)       min(1, p + q)           1 − |p − q|
=============  ======================  ======================  ======================

and ``not p`` is ``1 − p`` in all three. ``min``/``max``/``argmax`` weigh their arguments with
``softmax(±x/β)`` in every family (the paper's eq. 10). Hard mode is the discrete program whatever
the relaxation; sample and exact mode draw or enumerate each decision with the family's
probability. Path probabilities (a branch's share, a loop's chance of running on) are the
probabilities of a mixture and multiply in every logic: the logic is that of the user's
``and``/``or``.

A new family is one entry in :data:`FAMILIES`; a new logic one entry in :data:`LOGICS`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Family:
    """A perturbation distribution, as functions of ``t = (b − a)/β`` (a float tensor).

    cdf: ``P[a < b]``. density: ``P[a == b]``, the density scaled to 1 at 0.
    log_kernel: ``log`` of the index kernel (the density, unnormalised; −inf outside the support).
    far: beyond this many β from the nearest position the kernel is its limit (``indexing.py``
    clamps an index there, so an infinite index reads that limit).
    bounded: whether the support is bounded (the kernel can reach no position at all).
    """

    cdf: Callable
    density: Callable
    log_kernel: Callable
    far: float
    bounded: bool = False


def _smoothstep_cdf(t):
    inside = t.clamp(-1.0, 1.0)
    return 0.5 + 0.75 * inside - 0.25 * inside ** 3


def _smoothstep_log_kernel(t):
    # log(1 − t²) inside the support, −inf outside; the inner `where` keeps the discarded side's
    # log(≤ 0) out of the backward pass.
    inside = t.abs() < 1
    return torch.where(inside, torch.log1p(-torch.where(inside, t, 0.0) ** 2), -torch.inf)


FAMILIES = {
    # 4·σ(t)·σ(−t) = sech²(t/2), written so that it never overflows.
    "logistic": Family(cdf=torch.sigmoid,
                       density=lambda t: 4 * torch.sigmoid(t) * torch.sigmoid(-t),
                       log_kernel=lambda t: F.logsigmoid(t) + F.logsigmoid(-t),
                       far=64.0),
    "gaussian": Family(cdf=lambda t: torch.special.ndtr(t),
                       density=lambda t: torch.exp(-0.5 * t * t),
                       log_kernel=lambda t: -0.5 * t * t,
                       far=64.0),
    # Heavy tails: the kernel's limit far away is uniform, so the clamp lies much farther out.
    "cauchy": Family(cdf=lambda t: 0.5 + torch.atan(t) / math.pi,
                     density=lambda t: 1 / (1 + t * t),
                     log_kernel=lambda t: -torch.log1p(t * t),
                     far=1e6),
    "smoothstep": Family(cdf=_smoothstep_cdf,
                         density=lambda t: (1 - t * t).clamp(min=0.0),
                         log_kernel=_smoothstep_log_kernel,
                         far=64.0, bounded=True),
}


@dataclass(frozen=True)
class Logic:
    """A logic of relaxed booleans: ``and_``, ``or_`` and ``equal`` of two probability tensors."""

    and_: Callable
    or_: Callable
    equal: Callable


LOGICS = {
    "product": Logic(and_=lambda p, q: p * q,
                     or_=lambda p, q: p + q - p * q,
                     equal=lambda p, q: p * q + (1 - p) * (1 - q)),
    "godel": Logic(and_=torch.minimum,
                   or_=torch.maximum,
                   equal=lambda p, q: torch.maximum(torch.minimum(p, q),
                                                    torch.minimum(1 - p, 1 - q))),
    "lukasiewicz": Logic(and_=lambda p, q: (p + q - 1).clamp(min=0.0),
                         or_=lambda p, q: (p + q).clamp(max=1.0),
                         equal=lambda p, q: 1 - (p - q).abs()),
}


class Relaxation:
    """A family and a logic: ``Relaxation("gaussian", logic="godel")``.

    Each method takes tensors (and β) and returns a probability or weights; the hard meaning of
    every decision is the discrete one, decided by the caller without asking the relaxation.
    """

    __slots__ = ("family", "logic", "_family", "_logic")

    def __init__(self, family: str = "logistic", logic: str = "product"):
        if family not in FAMILIES:
            raise ValueError(f"unknown relaxation family {family!r}: choose one of "
                             f"{', '.join(map(repr, FAMILIES))}")
        if logic not in LOGICS:
            raise ValueError(f"unknown logic {logic!r}: choose one of "
                             f"{', '.join(map(repr, LOGICS))}")
        object.__setattr__(self, "family", family)
        object.__setattr__(self, "logic", logic)
        object.__setattr__(self, "_family", FAMILIES[family])
        object.__setattr__(self, "_logic", LOGICS[logic])

    def __setattr__(self, name, value):
        raise AttributeError("a Relaxation does not change: make another one")

    @classmethod
    def of(cls, value) -> "Relaxation":
        """A relaxation from an option's value: a family name, or a relaxation."""
        if isinstance(value, Relaxation):
            return value
        if isinstance(value, str):
            return cls(value)
        raise TypeError(f"relaxation must be a family name ({', '.join(map(repr, FAMILIES))}) "
                        f"or a relaxc_runtime.Relaxation, not {type(value).__name__}")

    def __eq__(self, other):
        return (isinstance(other, Relaxation)
                and (self.family, self.logic) == (other.family, other.logic))

    def __hash__(self):
        return hash((self.family, self.logic))

    def __reduce__(self):
        return Relaxation, (self.family, self.logic)

    def __repr__(self) -> str:
        logic = f", logic={self.logic!r}" if self.logic != "product" else ""
        return f"relaxc_runtime.Relaxation({self.family!r}{logic})"

    # Comparisons.
    def less(self, difference, beta):
        """``P[a < b]`` for ``difference = b − a``: the family's CDF at ``difference/β``."""
        return self._family.cdf(difference / beta)

    def equal(self, difference, beta):
        """``P[a == b]`` for ``difference = b − a``: the family's density at ``difference/β``,
        scaled to 1 at 0."""
        return self._family.density(difference / beta)

    def within_half(self, difference, beta):
        """``P[|a − b| < ½]`` for integer-valued operands: the perturbed difference lies within ½
        of 0 (``cdf((½ − d)/β) − cdf((−½ − d)/β)``)."""
        return self.less(0.5 - difference, beta) - self.less(-0.5 - difference, beta)

    # The index kernel (indexing.py).
    def log_kernel(self, distance, beta):
        """``log κ`` at ``distance/β`` from an index (unnormalised; −inf outside the support)."""
        return self._family.log_kernel(distance / beta)

    @property
    def far(self) -> float:
        return self._family.far

    @property
    def bounded(self) -> bool:
        return self._family.bounded

    # min / max / argmax (extrema.py).
    @staticmethod
    def choice_weights(values, sign: float, beta):
        """Weights over the last dim of ``values`` for ``max`` (``sign = 1``) or ``min`` (−1):
        ``softmax(sign·x/β)``; a value of ``−sign·inf`` gets none."""
        logits = values * (sign / beta)
        # On the CPU, torch's kernel over a short last dim of many rows is an order of magnitude
        # slower than over a leading dim (3 ms against 0.2 ms for the 9 neighbours of 70 12x12
        # maps, torch 2.13): a short last dim is moved to the front for it.
        if logits.device.type == "cpu" and logits.dim() > 1 and logits.shape[-1] <= 16:
            return torch.softmax(logits.movedim(-1, 0), dim=0).movedim(0, -1)
        return torch.softmax(logits, dim=-1)

    # Logic of relaxed booleans (conditions.py).
    def and_(self, p, q):
        return self._logic.and_(p, q)

    def or_(self, p, q):
        return self._logic.or_(p, q)

    def boolean_equal(self, p, q):
        """``p == q`` for two relaxed booleans (XNOR)."""
        return self._logic.equal(p, q)

    @staticmethod
    def not_(p):
        return 1 - p


#: The paper's relaxation: logistic perturbations, product logic.
DEFAULT = Relaxation()
