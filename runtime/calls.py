"""Calls from relaxed code (DESIGN §1.3 "Calls"): the user's own functions run relaxed, with the
caller's context; library functions run as they are.

Before / after (lowering routes every call that may reach the user's code through ``rx.call``)::

    return helper(x) + 1      ->     return rx.result(rx.call(helper, x) + 1)

:func:`call` meets three kinds of callee:

- a relaxed function (``@relax``; it has ``__relaxc_run__``): its compiled code runs as part of the
  caller's run, with the caller's context — the same mode, β and draws, so a sample or exact run
  sees the callee's decisions among its own;
- a function of the user's own code (:func:`user_function`): the compiler, when it is imported,
  registered a converter (:func:`convert_with`) that compiles it once (as TensorFlow AutoGraph
  converts what a converted function calls); it then runs as above. Generated code saved by the CLI
  runs without the compiler: there no converter is registered and the helper is called as it is;
- a function of Python's ``math`` module given a batch (a tensor or a relaxed value): the torch
  function of the same meaning, elementwise (:func:`math_function`), since the source applies it
  to one instance's number; given plain numbers, ``math``'s own;
- anything else (torch, the standard library, installed packages, classes, callable objects,
  lambdas, generators, C functions): called as it is. Hard meaning: ``function(*args, **kwargs)``.

Recursion: statically decided recursion (a base case on lengths or counters) runs as in Python.
Recursion under a relaxed condition runs both paths at every level, so it never ends where an
instance's recursion would: when it nears Python's recursion limit it is refused with the fix.
"""

from __future__ import annotations

import functools
import inspect
import os
import site
import sys
import sysconfig
import threading
import types

import torch

from . import paths, values
from .columns import Columns
from .events import expectation
from .indexing import static_sorted
from .modes import evaluate

#: Modules whose functions are library code, never converted (with the standard library's).
LIBRARY_MODULES = frozenset({"torch", "numpy", "relaxc", "relaxc_runtime", "functorch",
                             *sys.stdlib_module_names})
_NOT_CONVERTED = (inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR
                  | inspect.CO_ITERABLE_COROUTINE)
#: Frames left free below Python's recursion limit when a relaxed recursion is refused.
_FRAMES_IN_RESERVE = 200

_converter = None


def convert_with(converter) -> None:
    """Register ``converter(function) -> relaxed callee or None``: the compiler does at import."""
    global _converter
    _converter = converter


def user_function(function) -> bool:
    """Whether ``function`` is a plain Python function of the user's own code, which relaxed code
    converts: a ``def`` (not a lambda, generator, coroutine or a decorator's wrapper) from neither
    torch, numpy, relaxc, the standard library, nor an installed package (site-packages), and not
    marked ``__relaxc_do_not_convert__``."""
    if type(function) is not types.FunctionType or function.__name__ == "<lambda>":
        return False
    if function.__code__.co_flags & _NOT_CONVERTED or "__wrapped__" in function.__dict__:
        return False
    if function.__dict__.get("__relaxc_do_not_convert__"):
        return False
    module = function.__module__ or ""
    return (module.partition(".")[0] not in LIBRARY_MODULES
            and not _installed(function.__code__.co_filename))


@functools.lru_cache(maxsize=4096)
def _installed(filename: str) -> bool:
    """Whether ``filename`` lies in an installed package or the standard library."""
    path = os.path.realpath(filename)
    return any(path.startswith(root + os.sep) for root in _library_roots())


@functools.lru_cache(maxsize=1)
def _library_roots() -> tuple[str, ...]:
    roots = {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    roots.update(getattr(site, "getsitepackages", lambda: [])())
    roots.add(site.getusersitepackages())
    return tuple(sorted(os.path.realpath(r) for r in roots if r))


#: Methods of containers, strings and tensors: ``xs.append(v)`` calls no code of the user's.
PLAIN_METHODS = frozenset(name for kind in (list, dict, set, str, tuple, bytes, torch.Tensor)
                          for name in dir(kind))


#: Sequence methods that compare elements and branch on each comparison, one at a time.
COMPARING_METHODS = frozenset({"index", "count", "sort"})
#: Library modules whose functions compare the elements they are given and branch on each.
COMPARING_MODULES = frozenset({"bisect", "_bisect", "heapq", "_heapq", "statistics"})


def compares_elements(function) -> bool:
    """Whether ``function`` is a library function that compares elements one at a time
    (``bisect.bisect_left``, ``heapq.nsmallest``, ``statistics.median``)."""
    return getattr(function, "__module__", None) in COMPARING_MODULES


def _refuse_comparisons_on_batch(function, args) -> None:
    """``xs.index(v)``, ``xs.count(v)``, ``bisect.bisect_left(xs, v)`` ... where
    the values differ per instance: Python's code tests each comparison with ``bool()``, which on a
    batch fails (torch: "ambiguous") and at a batch of one decides hard without a word (a
    tensor's ``index`` is another method altogether), so they are refused with what to write."""
    name = function.__name__
    receiver = getattr(function, "__self__", None)
    if compares_elements(function):
        if not any(map(values.is_relaxed, values.values_in(args))):
            return   # static values: the library's own function
        raise TypeError(
            f"`{function.__module__.lstrip('_')}.{name}` compares the values it is given one by "
            f"one and branches on each comparison, which relaxed code cannot see: given values "
            f"that differ per instance it would fail, or decide hard at a batch of one. Write it "
            f"out as a loop with `if` in the relaxed function (or in a helper function of "
            f"yours, which relaxc compiles) so that each comparison is relaxed")
    if isinstance(receiver, (list, tuple)):
        if not any(map(values.is_relaxed, (*receiver, *args))):
            return   # static values: Python's own method
    elif not isinstance(receiver, (torch.Tensor, Columns)):
        return       # a method of another object (the user's `count`)
    loop = ("`position = -1`, then `for j in range(len(xs)):` with `if xs[j] == v:` "
            "`position = j` and `break`" if name == "index" else "`sum(x == v for x in xs)`")
    raise TypeError(
        f"`.{name}(...)` of a sequence whose elements differ per instance has no batched meaning "
        f"(Python's compares element by element and branches on each `==`): write it "
        f"out, e.g. {loop}")


def may_run_relaxed(function) -> bool:
    """Whether calling ``function`` may run relaxed code: a relaxed function, a function of the
    user's own code, or a bound method or ``functools.partial`` of one."""
    if hasattr(type(function), "__relaxc_run__") or hasattr(type(function), "__relaxc_call__"):
        return True
    if isinstance(function, types.MethodType):
        return may_run_relaxed(function.__func__)
    if isinstance(function, functools.partial):
        return may_run_relaxed(function.func)
    return user_function(function)


def relaxed_callee(function, args: tuple):
    """``(callee, args)``: what runs relaxed for ``function(*args)`` (a bound method's function
    with its ``self``, a ``functools.partial``'s function with its arguments), or ``(None, args)``
    where ``function`` is called as it is."""
    if hasattr(type(function), "__relaxc_run__"):   # by class: a Mock has every name
        return function, args
    if isinstance(function, types.MethodType):
        callee, _ = relaxed_callee(function.__func__, ())
        return callee, (function.__self__, *args)
    if _converter is not None and user_function(function):
        return _converter(function), args
    return None, args


#: ``math`` functions of one instance's numbers and the torch functions with the same meaning
#: elementwise (``math.remainder``, ``math.isclose``, ``math.prod`` have torch namesakes that mean
#: something else: they are refused).
_ELEMENTWISE_MATH = {name: name for name in (
    "sqrt", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan", "asin",
    "acos", "atan", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "atan2", "floor", "ceil",
    "trunc", "copysign", "fmod", "pow", "hypot", "isnan", "isinf", "isfinite", "erf", "erfc",
    "lgamma")}
_ELEMENTWISE_MATH.update(fabs="abs", degrees="rad2deg", radians="deg2rad")


def math_function(function) -> bool:
    """Whether ``function`` is a function of Python's ``math`` module."""
    return isinstance(function, types.BuiltinFunctionType) and function.__module__ == "math"


def _per_instance_math(function, args: tuple, kwargs: dict):
    """``math.f(*args)`` where an argument is a batch: torch's ``f`` elementwise (``math.log(x,
    base)`` is ``torch.log(x) / math.log(base)``); a function torch lacks is refused by name."""
    name = function.__name__
    args = [expectation(a) for a in args]
    like = next(a for a in args if isinstance(a, torch.Tensor))
    args = [a if isinstance(a, torch.Tensor) else torch.as_tensor(a, dtype=like.dtype, device=like.device)
            for a in args]
    if name not in _ELEMENTWISE_MATH or kwargs or (name == "hypot" and len(args) != 2):
        raise TypeError(
            f"`math.{name}` takes one number and relaxed code gives it a batch of them: torch has "
            f"no elementwise `{name}` to stand for it; compute it with torch functions, or mark a "
            f"helper that does with `@relaxc.do_not_convert`")
    if name == "log" and len(args) == 2:
        return torch.log(args[0]) / torch.log(args[1])
    return getattr(torch, _ELEMENTWISE_MATH[name])(*args)


def call(function, args: tuple, kwargs: dict, ctx):
    """``function(*args, **kwargs)`` from relaxed code; a relaxed or converted callee runs with
    ``ctx`` (see the module docstring). Hard meaning: ``function(*args, **kwargs)``."""
    if isinstance(function, functools.partial):
        return call(function.func, (*function.args, *args), {**function.keywords, **kwargs}, ctx)
    name = getattr(function, "__name__", None)
    if name == "sort" and type(getattr(function, "__self__", None)) is list:
        # `xs.sort()`: as `sorted`, whose keys must be static (relaxed ones are refused).
        function.__self__[:] = static_sorted(function.__self__, *args, **kwargs)
        return None
    if name in COMPARING_METHODS or compares_elements(function):
        _refuse_comparisons_on_batch(function, args)
    if math_function(function) and any(values.is_relaxed(a) for a in args):
        return _per_instance_math(function, args, kwargs)
    callee, args = relaxed_callee(function, args)
    if callee is None:
        if hasattr(type(function), "__relaxc_call__"):   # a relaxed callable of another kind
            return function.__relaxc_call__(ctx, *args, **kwargs)
        return function(*args, **kwargs)
    entries = _active.entries.setdefault(id(callee), [])
    if entries and _near_recursion_limit():
        _refuse_recursion(callee, entries)
    entries.append(len(paths._local.stack))
    try:
        return type(callee).__relaxc_run__(callee, ctx, args, kwargs)
    finally:
        entries.pop()


def refuse_write_into_argument(container, parameter: str) -> None:
    """A helper writes into its parameter ``parameter`` and neither rebinds nor returns it (the
    compiler knows: ``analysis.written_arguments``), so its caller is meant to see the writes, as
    a list's in Python. A list is written in place and the caller sees them; a tensor (or the
    columns it is held as) is a value in relaxed code, a write makes a new one, and the caller's
    would silently stay as it was: refused, with the two ways to write it."""
    if len(values._calls.stack) < 2 or not isinstance(container, (torch.Tensor, Columns)):
        return   # the function called by the user (its result is what it gives back), or a list
    raise TypeError(
        f"a helper writes into its parameter `{parameter}`, which its caller passed as a tensor: "
        f"in relaxed code a write makes a new tensor and the caller's does not change, as a "
        f"list's would in Python. Return it and assign it in the caller (`{parameter} = "
        f"helper({parameter}, ...)`), or copy it in the helper if the writes are its own "
        f"(`{parameter} = {parameter}.clone()`)")


class _Active(threading.local):
    """Per thread: for each relaxed callee now running, how many relaxed paths were open (the
    masks of ``paths``) when each of its activations began, outermost first."""

    def __init__(self):
        self.entries = {}


_active = _Active()


def _near_recursion_limit() -> bool:
    try:
        sys._getframe(max(sys.getrecursionlimit() - _FRAMES_IN_RESERVE, 1))
    except ValueError:
        return False
    return True


class PerInstanceRecursionError(TypeError):
    """A recursion whose end is decided per instance: refused (a ``TypeError``, as a relaxed
    value where a static one is needed is), not left to run into Python's ``RecursionError``."""


def _refuse_recursion(callee, entries):
    name = getattr(callee, "__qualname__", None) or getattr(callee, "__name__", repr(callee))
    if len(paths._local.stack) > entries[0]:
        raise PerInstanceRecursionError(
            f"`{name}` calls itself under a condition decided per instance (a relaxed one, or a "
            f"hard one on a batch): both of its paths run, so the recursion does not end where "
            f"an instance's would (it is {len(entries)} calls deep). Write it as a loop (a "
            f"`while` on a per-instance condition is bounded by max_iter), or end the recursion "
            f"on a static condition (a length, a counter)")
    raise RecursionError(
        f"`{name}` recursed {len(entries)} calls deep in relaxed code, where each call takes "
        f"several Python frames: raise sys.setrecursionlimit, or write the recursion as a loop")


class GeneratedFunction:
    """A generated function in a module written by ``relaxc show`` (no compiler there): calling
    it evaluates it with its own options as a relaxed function does (``modes.evaluate``: modes,
    draws, argument checks); relaxed code that calls it runs it with the caller's context.

    ``function`` takes the evaluation context as the keyword ``rx_name``, whose default holds
    the options it was dumped with."""

    def __init__(self, function, rx_name: str, context=None):
        self.function, self.rx_name = function, rx_name
        self.context = context if context is not None else function.__kwdefaults__[rx_name]
        functools.update_wrapper(self, function)

    def options(self, **changes) -> "GeneratedFunction":
        """The same function with other options (``beta``, ``mode``, ...)."""
        return GeneratedFunction(self.function, self.rx_name, self.context.replace(**changes))

    def __call__(self, *args, **kwargs):
        return evaluate(self.function, self.context, args, kwargs, self.rx_name)

    def __relaxc_run__(self, context, args, kwargs):
        with values.call_scope(from_relaxed_code=True):
            return self.function(*args, **{**kwargs, self.rx_name: context})


class Operations:
    """What generated code calls: ``rx.call(function, *args, **kwargs)``."""

    __slots__ = ()

    def call(self, function, *args, **kwargs):
        """``function(*args, **kwargs)``; a relaxed function, or a function of the user's own code
        (compiled once when the compiler is imported), runs with this context, so the caller's
        mode and β reach it. Hard meaning: ``function(*args, **kwargs)``."""
        return call(function, args, kwargs, self)
