"""The evaluation context: the options of one call, and the operations generated code calls.

Generated code receives a context as a keyword argument (``rx``) and calls everything through it::

    def swap(a, b, *, rx=relaxc_runtime.Context(beta=0.125, mode='relaxed', eps=1e-05, max_iter=1024)):

so a dumped function runs on its own, and the same compiled code serves every β and mode: the
caller passes another context. The operations come from the module of each construct, whose
``Operations`` class the context inherits (``rx.in_`` is ``conditions.Operations.in_``), beside the
formula and the exact hard-mode meaning; this module holds the options, and how each mode turns a
probability into a decision (``outcome``, ``choice``).
"""

from __future__ import annotations

import math
import numbers

import torch

from . import (arithmetic, assignments, branches, calls, columns, conditions, extrema, indexing,
               loops, ranges, returns, values)
from .relaxations import DEFAULT, Relaxation
from .events import Event

MODES = ("relaxed", "hard", "straight_through", "sample", "exact")
#: The options of a context: its constructor's arguments, fixed once it is made.
_OPTIONS = ("beta", "mode", "eps", "max_iter", "fixed_iterations", "samples", "seed", "max_paths",
            "replay", "index_gradient", "relaxation")


class Context(conditions.Operations, branches.Operations, loops.Operations, returns.Operations,
              indexing.Operations, columns.Operations, ranges.Operations,
              assignments.Operations, arithmetic.Operations, extrema.Operations,
              calls.Operations, values.Operations):
    """Options of one evaluation, and (inherited from each construct's module) the operations
    generated code calls.

    beta: the scale β of the perturbation (β → 0 is the discrete program).
    relaxation: the perturbation family and the logic of ``and``/``or`` (``relaxations.py``): a
        family name (``"logistic"``, the default, ``"gaussian"``, ``"cauchy"``,
        ``"smoothstep"``) or a :class:`~relaxations.Relaxation`.
    mode: ``"relaxed"`` (closed-form expectation with path merging), ``"hard"`` (exact), or
        ``"straight_through"`` (the hard result with the relaxed gradient; ``modes.evaluate``),
        ``"sample"`` (every relaxed decision drawn; the mean over ``samples`` draws), or
        ``"exact"`` (every combination of decisions enumerated, at most ``max_paths``).
    samples, seed: for ``"sample"``: how many draws, and the seed of their ``torch.Generator``
        (the same seed gives the same draws).
    eps: a path whose probability is below ``eps`` is negligible: its non-finite values are
        dropped and no gradient flows through it.
    max_iter: the bound on the iterations of a relaxed ``while``.
    fixed_iterations: run every relaxed ``while`` for exactly ``max_iter`` iterations (no exit that
        depends on data, so ``torch.compile(fullgraph=True)`` can capture it); the result is the
        same as the early-exit form up to the mass below ``eps`` (no warning is given).
    replay: record the torch calls of the first call with each signature and replay them as
        straight-line code afterwards (``replay.py``; relaxed and hard modes). The function must
        depend on its arguments only.
    index_gradient: ``"exact"`` (the gradient of the relaxed index's weights) or
        ``"constant_normaliser"`` (the paper's training heuristic; ``indexing.py``).
    """

    __slots__ = (*_OPTIONS, "_generators", "script", "recorder", "_repr")

    def __init__(self, beta: float = 0.125, mode: str = "relaxed", eps: float = 1e-5,
                 max_iter: int = 1024, fixed_iterations: bool = False, samples: int = 100,
                 seed: int = 0, max_paths: int = 10_000, replay: bool = False,
                 index_gradient: str = "exact", relaxation="logistic"):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}: choose one of {', '.join(MODES)}")
        if isinstance(beta, torch.Tensor):
            raise TypeError(
                f"beta must be a Python number, got a tensor ({beta!r}): the scale of the "
                f"relaxation is an option, not a learnable value. Pass float(beta); for a "
                f"learned temperature, divide the compared values by it instead (x / t compared "
                f"at beta=1 is x compared at beta=t)")
        if isinstance(beta, bool) or not (isinstance(beta, numbers.Real) and math.isfinite(beta)
                                          and beta > 0):
            raise ValueError(f"beta must be a positive finite number, got {beta!r}")
        if not 0 <= eps < 0.5:
            raise ValueError(f"eps must lie in [0, 0.5), got {eps!r}")
        if not (isinstance(max_iter, int) and max_iter > 0):
            raise ValueError(f"max_iter must be a positive int, got {max_iter!r}")
        self.beta, self.mode, self.eps, self.max_iter = float(beta), mode, float(eps), max_iter
        self.fixed_iterations = bool(fixed_iterations)
        if not (isinstance(samples, int) and samples > 0):
            raise ValueError(f"samples must be a positive int, got {samples!r}")
        self.samples, self.seed = samples, int(seed)
        self._generators = {}   # device -> torch.Generator, made on the first draw
        if not (isinstance(max_paths, int) and max_paths > 0):
            raise ValueError(f"max_paths must be a positive int, got {max_paths!r}")
        self.max_paths = max_paths
        if replay and mode not in ("relaxed", "hard"):
            raise ValueError(
                f"replay=True replays the relaxed and hard modes only; mode={mode!r} draws or "
                f"enumerates anew on every call: pass replay=False with it")
        self.replay = bool(replay)
        if index_gradient not in indexing.INDEX_GRADIENTS:
            raise ValueError(f"unknown index_gradient {index_gradient!r}: choose one of "
                             f"{', '.join(map(repr, indexing.INDEX_GRADIENTS))}")
        self.index_gradient = index_gradient
        self.relaxation = Relaxation.of(relaxation)
        self.script = None      # exact mode: the DecisionScript of the path being run
        self.recorder = None    # relaxed mode, for relaxc.report: called with each decision
        self._repr = None       # made once: the options never change (replay keys calls by it)

    def __setattr__(self, name, value):
        if name in _OPTIONS and hasattr(self, name):
            raise AttributeError(f"the options of a Context do not change (replay keys calls by "
                                 f"them): use ctx.replace({name}=...) for another context")
        object.__setattr__(self, name, value)

    @property
    def hard(self) -> bool:
        """Whether decisions are exact. A straight-through context never runs code itself:
        ``modes.evaluate`` runs the hard and the relaxed mode and combines them."""
        if self.mode == "straight_through":
            raise RuntimeError(
                "a straight-through context runs the function twice: call it through "
                "relaxc_runtime.evaluate(function, context, args, kwargs, 'rx'), not directly")
        return self.mode == "hard"

    @property
    def sampling(self) -> bool:
        """Whether each relaxed decision is taken (drawn, or enumerated in exact mode)."""
        return self.mode in ("sample", "exact")

    # Outcomes of relaxed decisions: their distribution (relaxed), a draw from it (sample), or
    # the scripted choice of the path being enumerated (exact).
    def outcome(self, p):
        """The result of a relaxed condition with probability ``p``: an event, or a bool."""
        if self.recorder is not None:
            self.recorder(p.detach(), "condition")
        return self.draw(p) if self.sampling else Event(p)

    def draw(self, p):
        """A Bernoulli(p) outcome per element: drawn (sample) or scripted (exact)."""
        if self.mode == "exact":
            _enumerating(self)
            _one_decision_per_instance(p)
            chosen = self.script.decide([p, 1 - p], [True, False])
            return torch.full(p.shape, chosen, dtype=torch.bool, device=p.device)
        # A NaN probability is that instance's own (its NaN data, or the placeholder state of a
        # loop it has left): it draws False, so the other instances still draw, and a `while`
        # stops for it (as relaxed mode counts a NaN probability of running on as stopped)
        # instead of walking on past a sentinel it cannot compare with.
        p = torch.nan_to_num(p.detach(), nan=0.0)
        return torch.bernoulli(p, generator=self._generator(p.device)).bool()

    def choice(self, weights):
        """A categorical decision with ``weights`` over the last dim: the weights themselves, or
        the one-hot (bool) of a drawn (sample) or scripted (exact) class."""
        if self.recorder is not None:
            self.recorder(weights.detach(), "choice")
        if not self.sampling:
            return weights
        classes = weights.shape[-1]
        if self.mode == "exact":
            _enumerating(self)
            _one_decision_per_instance(weights[..., 0])
            chosen = self.script.decide([weights[..., c] for c in range(classes)],
                                        list(range(classes)))
            return (torch.arange(classes, device=weights.device) == chosen).expand(weights.shape)
        flat = weights.detach().reshape(-1, classes)
        picked = torch.multinomial(flat, 1, generator=self._generator(weights.device))
        return torch.nn.functional.one_hot(picked[:, 0], classes).reshape(weights.shape).bool()

    def _generator(self, device):
        if device not in self._generators:
            self._generators[device] = torch.Generator(device=device).manual_seed(self.seed)
        return self._generators[device]

    def __repr__(self) -> str:
        if self._repr is None:
            self._repr = self._describe()
        return self._repr

    def _describe(self) -> str:
        fixed = ", fixed_iterations=True" if self.fixed_iterations else ""
        sample = (f", samples={self.samples!r}, seed={self.seed!r}" if self.mode == "sample"
                  else f", max_paths={self.max_paths!r}" if self.mode == "exact" else "")
        replay = ", replay=True" if self.replay else ""
        gradient = (f", index_gradient={self.index_gradient!r}"
                    if self.index_gradient != "exact" else "")
        relaxation = (f", relaxation={self.relaxation!r}" if self.relaxation != DEFAULT else "")
        return (f"relaxc_runtime.Context(beta={self.beta!r}, mode={self.mode!r}, eps={self.eps!r}, "
                f"max_iter={self.max_iter!r}{fixed}{sample}{replay}{gradient}{relaxation})")

    def options(self) -> dict:
        return {name: getattr(self, name) for name in _OPTIONS}

    def replace(self, **changes) -> "Context":
        return Context(**{**self.options(), **changes})


def _one_decision_per_instance(p):
    if p.dim() > 1 and p[0].numel() > 1:
        raise ValueError(
            "exact mode enumerates one decision per instance, and this condition is elementwise "
            f"({tuple(p.shape[1:])} decisions per instance): use mode='sample'")


def _enumerating(ctx):
    if ctx.script is None:
        raise RuntimeError(
            "an exact-mode context runs the function once per path: call it through "
            "relaxc_runtime.evaluate(function, context, args, kwargs, 'rx'), not directly")
