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
  while another argument holds numbers ``(B,)`` — is one, or is a sequence ``(B, n)`` of them —
  would broadcast with them into ``(B, B)``: refused, with the fix ``.squeeze(-1)``. A
  length-one sequence is read by position, so it is never refused.

The compiler also marks the parameters that the function only hands whole to calls
(``mask.expand(n, n)``, ``torch.matmul(w, ...)``): torch sees those whole, so their first
dimension need not be the batch, and they are not checked. Both marks:
``function.relaxc_parameter_uses == (numbers, whole)``; a function without them has every
argument checked for its batch size only.

Hard meaning: none; a call that passes the checks runs unchanged.
"""

from __future__ import annotations

import torch

from .categorical import Categorical
from .values import values_in


class ArgumentShapeError(ValueError, RuntimeError):
    """Arguments whose shapes do not fit the batch. A ``ValueError`` (a bad argument), and a
    ``RuntimeError`` as torch's own broadcast errors are, so code that caught those still does."""


def check_arguments(function, args: tuple, kwargs: dict) -> None:
    """Refuse, before ``function`` runs, arguments with different batch sizes, and a ``(B, 1)``
    tensor given for a parameter that ``function`` uses only as a number next to a ``(B,)`` one."""
    numbers, whole = getattr(function, "relaxc_parameter_uses", ((), ()))
    names = _positional_names(function)
    checked = [(names[i] if i < len(names) else f"argument {i + 1}", value)
               for i, value in enumerate(args)]
    checked += kwargs.items()
    if whole:
        checked = [(name, value) for name, value in checked if name not in whole]
    sizes, scalars = set(), False   # (the fast pass: labels are made only for an error)
    for v in values_in([value for _, value in checked]):
        v = v.probs if isinstance(v, Categorical) else v
        if isinstance(v, torch.Tensor) and v.dim() > 0:
            if v.shape[0] != 1:
                sizes.add(v.shape[0])
            scalars = scalars or _holds_numbers(v.shape)
    if len(sizes) > 1:
        _refuse_batch_sizes(checked)
    if not (numbers and scalars):
        return
    for name, value in checked:
        if (name in numbers and isinstance(value, torch.Tensor) and value.dim() == 2
                and value.shape[1] == 1):
            number_name, number_shape = _first_number(checked, value.shape[0])
            if number_name is None:
                continue
            shape = tuple(value.shape)
            elements = " (a sequence of (B,) numbers)" if len(number_shape) == 2 else ""
            raise ArgumentShapeError(
                f"argument {name!r} has shape {_text(shape)}, and {function.__qualname__} uses it "
                f"as a number per instance (in arithmetic or a comparison) next to {number_name!r} "
                f"of shape {_text(number_shape)}{elements}: (B, 1) and (B,) would broadcast into "
                f"(B, B). "
                f"Pass {name}.squeeze(-1) (shape {_text(shape[:1])}) for one number per instance; "
                f"a sequence of length one is read by position ({name}[0], len({name}), "
                f"for v in {name})")


def _tensors(label: str, value):
    """``(label, shape)`` of every tensor with dims in ``value``, ``xs[2]`` for an element."""
    if isinstance(value, Categorical):
        value = value.probs
    if isinstance(value, torch.Tensor):
        if value.dim() > 0:
            yield label, tuple(value.shape)
    elif isinstance(value, (list, tuple)):
        for index, element in enumerate(value):
            yield from _tensors(f"{label}[{index}]", element)
    elif isinstance(value, dict):
        for key, element in value.items():
            yield from _tensors(f"{label}[{key!r}]", element)


def _refuse_batch_sizes(checked):
    first = None
    for name, value in checked:
        for label, shape in _tensors(name, value):
            if shape[0] == 1:
                continue   # a batch of one broadcasts, as in torch
            if first is None:
                first = (label, shape)
            elif shape[0] != first[1][0]:
                raise ArgumentShapeError(
                    f"argument {label!r} has batch size {shape[0]} (shape {_text(shape)}), but "
                    f"{first[0]!r} has batch size {first[1][0]} (shape {_text(first[1])}): every "
                    f"tensor argument carries the batch on dim 0, so give every argument the "
                    f"same batch size (a 0-d tensor is a constant shared by the batch)")


def _holds_numbers(shape) -> bool:
    """Whether a tensor of ``shape`` is numbers ``(B,)`` or a sequence ``(B, n)`` of them, n > 1
    (``(B, 1)`` is the ambiguous shape itself)."""
    return len(shape) == 1 or (len(shape) == 2 and shape[1] != 1)


def _first_number(checked, batch: int):
    """``(label, shape)`` of the first tensor that holds numbers of this ``batch``, or
    ``(None, None)``."""
    for name, value in checked:
        for label, shape in _tensors(name, value):
            if _holds_numbers(shape) and shape[0] == batch:
                return label, shape
    return None, None


def _positional_names(function) -> tuple[str, ...]:
    code = getattr(function, "__code__", None)
    if code is None:
        return ()
    return code.co_varnames[:code.co_argcount]   # (the count includes positional-only ones)


def _text(shape: tuple) -> str:
    return f"({shape[0]},)" if len(shape) == 1 else f"({', '.join(map(str, shape))})"
