"""The arguments of a call of a relaxed function: batch shapes checked at the call (DESIGN §2).

Every tensor argument carries the batch on dim 0 (a 0-d tensor is a constant shared by the batch):
a number per instance is ``(B,)``, a sequence ``(B, n, ...)`` or a list of ``(B, ...)`` tensors, a
categorical ``(B, ..., k)``. Two mistakes would otherwise surface as a raw broadcast error deep in
the generated code, or as no error at all:

- arguments with different batch sizes (``(3,)`` and ``(4,)``): refused, naming both;
- a ``(B, 1)`` tensor — the output of ``nn.Linear(..., 1)`` — given for a number per instance.
  ``(B, 1)`` is also a sequence of length one, so the shape alone cannot tell. The compiler marks
  the parameters that the function uses only as numbers (in arithmetic, comparisons, conditions;
  never indexed, measured, iterated, passed on or rebound). Such a parameter given ``(B, 1)``
  while another argument is ``(B,)`` would broadcast with it into ``(B, B)``: refused, with the
  fix ``.squeeze(-1)``. A length-one sequence is read by position, so it is never refused.

The compiler also marks the parameters that the function only hands whole to calls
(``mask.expand(n, n)``, ``torch.matmul(w, ...)``): torch sees those whole, so their first
dimension need not be the batch, and they are not checked. Both marks:
``function.relaxc_parameter_uses == (numbers, whole)``; a function without them has every
argument checked for its batch size only.

Hard meaning: none; a call that passes the checks runs unchanged.
"""

from __future__ import annotations

import torch

from .values import Categorical


class ArgumentShapeError(ValueError, RuntimeError):
    """Arguments whose shapes do not fit the batch. A ``ValueError`` (a bad argument), and a
    ``RuntimeError`` as torch's own broadcast errors are, so code that caught those still does."""


def check_arguments(function, args: tuple, kwargs: dict) -> None:
    """Refuse, before ``function`` runs, arguments with different batch sizes, and a ``(B, 1)``
    tensor given for a parameter that ``function`` uses only as a number next to a ``(B,)`` one."""
    numbers, whole = getattr(function, "relaxc_parameter_uses", ((), ()))
    seen = _Shapes()
    names = _positional_names(function)
    for position, value in enumerate(args):
        name = names[position] if position < len(names) else f"argument {position + 1}"
        if name not in whole:
            seen.visit(name, value)
    for name, value in kwargs.items():
        if name not in whole:
            seen.visit(name, value)
    if seen.number is None or not numbers:
        return
    for name, shape in seen.columns:
        if name in numbers and shape[0] == seen.number[1][0]:
            number_name, number_shape = seen.number
            raise ArgumentShapeError(
                f"argument {name!r} has shape {_text(shape)}, and {function.__qualname__} uses it "
                f"as a number per instance (in arithmetic or a comparison) next to {number_name!r} "
                f"of shape {_text(number_shape)}: (B, 1) and (B,) would broadcast into (B, B). "
                f"Pass {name}.squeeze(-1) (shape {_text(shape[:1])}) for one number per instance; "
                f"a sequence of length one is read by position ({name}[0], len({name}), "
                f"for v in {name})")


class _Shapes:
    """What the arguments hold: the batch size and who set it, the first ``(B,)`` tensor, and the
    top-level ``(B, 1)`` tensors."""

    __slots__ = ("batch", "number", "columns")

    def __init__(self):
        self.batch = None     # (label, shape) of the first tensor with a batch size other than 1
        self.number = None    # (label, shape) of the first (B,) tensor
        self.columns = []     # (name, shape) of the (B, 1) arguments

    def visit(self, name: str, value) -> None:
        if isinstance(value, torch.Tensor) and value.dim() == 2 and value.shape[1] == 1:
            self.columns.append((name, tuple(value.shape)))
        self._walk(name, value)

    def _walk(self, label: str, value) -> None:
        if isinstance(value, Categorical):
            value = value.probs
        if isinstance(value, torch.Tensor):
            if value.dim() > 0:
                self._tensor(label, tuple(value.shape))
        elif isinstance(value, (list, tuple)):
            for index, element in enumerate(value):
                self._walk(f"{label}[{index}]", element)
        elif isinstance(value, dict):
            for key, element in value.items():
                self._walk(f"{label}[{key!r}]", element)

    def _tensor(self, label: str, shape: tuple) -> None:
        if len(shape) == 1 and self.number is None:
            self.number = (label, shape)
        if shape[0] == 1:
            return   # a batch of one broadcasts, as in torch
        if self.batch is None:
            self.batch = (label, shape)
        elif shape[0] != self.batch[1][0]:
            first, first_shape = self.batch
            raise ArgumentShapeError(
                f"argument {label!r} has batch size {shape[0]} (shape {_text(shape)}), but "
                f"{first!r} has batch size {first_shape[0]} (shape {_text(first_shape)}): every "
                f"tensor argument carries the batch on dim 0, so give every argument the same "
                f"batch size (a 0-d tensor is a constant shared by the batch)")


def _positional_names(function) -> tuple[str, ...]:
    code = getattr(function, "__code__", None)
    if code is None:
        return ()
    return code.co_varnames[:code.co_argcount]   # (the count includes positional-only ones)


def _text(shape: tuple) -> str:
    return f"({shape[0]},)" if len(shape) == 1 else f"({', '.join(map(str, shape))})"
