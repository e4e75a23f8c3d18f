"""The public API: ``@relax``, ``f.options(...)``, ``f.python`` and ``relaxc.to_source(f)``.

Compiling is cached by the function's source text and compile options, so a notebook cell that
redefines a function with new text recompiles it, while ``f.options(beta=..., mode=...)`` only
swaps the evaluation context the same compiled code receives.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import linecache

import relaxc_runtime
from relaxc_runtime import Context

from . import loader, pipeline

_cache: dict = {}
_NOTE = "in relaxed code from"


def _compile(function, context: Context) -> pipeline.Compiled:
    try:
        if not inspect.isfunction(function):
            raise TypeError
        text = inspect.getsource(function)
    except (OSError, TypeError):
        return pipeline.compile_function(function, repr(context))   # raises the clear error
    code = function.__code__
    key = (text, code.co_filename, function.__qualname__, code.co_freevars, repr(context))
    compiled = _cache.get(key)
    if compiled is None:
        compiled = _cache[key] = pipeline.compile_function(function, repr(context))
    elif not loader.bound_to(compiled.function, function):
        # The same text, another closure or other defaults (a factory's second function).
        compiled = dataclasses.replace(
            compiled, function=loader.bind(compiled.function, function, compiled.rx_name))
    return compiled


class RelaxedFunction:
    """A user function compiled by relaxc; calling it evaluates the relaxed (or another) mode.

    ``f(*args)`` runs the generated code with this function's options; ``f.options(**changes)``
    returns the same compiled code with other options; ``f.python`` is the original function.
    """

    def __init__(self, function, context: Context):
        self.python = function
        self.context = context
        self._compiled = _compile(function, context)
        functools.update_wrapper(self, function)

    def options(self, **changes) -> "RelaxedFunction":
        """The same function with other options (``beta``, ``mode``, ``eps``, ``max_iter``,
        ``fixed_iterations``, ``samples``, ``seed``, ``max_paths``, ``replay``)."""
        other = object.__new__(RelaxedFunction)
        other.__dict__.update(self.__dict__)
        other.context = self.context.replace(**changes)
        return other

    def __call__(self, *args, **kwargs):
        return self.__relaxc_call__(self.context, *args, **kwargs)

    def with_standard_error(self, *args, **kwargs):
        """In ``mode="sample"``: ``(mean over the draws, standard error of that mean)``."""
        return self.__relaxc_call__(self.context, *args, _standard_error=True, **kwargs)

    def __relaxc_call__(self, context, *args, _standard_error=False, **kwargs):
        """Run with ``context``: a relaxed caller passes its own (``rx.call``), so a hard or
        colder evaluation stays so all the way down."""
        compiled = self._compiled
        try:
            return relaxc_runtime.evaluate(compiled.function, context, args, kwargs,
                                           compiled.rx_name, _standard_error)
        except Exception as error:
            _add_user_location(error, compiled)
            raise

    def __repr__(self) -> str:
        return f"<relaxed function {self.python.__qualname__} ({self.context!r})>"


def _add_user_location(error: BaseException, compiled: pipeline.Compiled) -> None:
    """Note on ``error`` the user's file, line and source text where the generated code failed."""
    traceback, frame_line = error.__traceback__, None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == compiled.filename:
            frame_line = traceback.tb_lineno
        traceback = traceback.tb_next
    user_line = compiled.source_map.get(frame_line) if frame_line else None
    if user_line is None or any(n.startswith(_NOTE) for n in getattr(error, "__notes__", ())):
        return   # no generated frame, or a relaxed function inside this one noted it already
    text = linecache.getline(compiled.user_filename, user_line).strip()
    note = f'{_NOTE} File "{compiled.user_filename}", line {user_line}: {text}'
    hint = compiled.one_path_hints.get((user_line, getattr(error, "name", None)))
    if isinstance(error, UnboundLocalError) and hint:
        assigned, read = hint
        note += (f"\n  {error.name!r} is assigned at line {assigned} and read afterwards at line "
                 f"{read}")
    error.add_note(note)


def relax(function=None, /, **options):
    """Compile ``function`` into its relaxation: ``@relax`` or ``@relax(beta=..., mode=...)``.

    Options (all can be changed later per call with ``f.options``): ``beta`` (temperature,
    default 0.125), ``mode`` (``"relaxed"``, ``"hard"``, ``"straight_through"``, ``"sample"``,
    ``"exact"``), ``eps`` (default 1e-5), ``max_iter`` (default 1024), ``replay`` (default False:
    record each argument signature's first call and replay its torch calls afterwards; see
    docs/semantics.md).
    """
    context = Context(**options)
    if function is None:
        return lambda f: RelaxedFunction(f, context)
    if isinstance(function, RelaxedFunction):
        return function.options(**options)
    return RelaxedFunction(function, context)


def to_source(function: RelaxedFunction) -> str:
    """The generated code of a relaxed function, as a module that runs on its own."""
    if not isinstance(function, RelaxedFunction):
        raise TypeError("relaxc.to_source expects a function returned by relaxc.relax")
    return _compile(function.python, function.context).text
