"""The public API: ``@relax``, ``f.options(...)``, ``f.python`` and ``relaxc.to_source(f)``.

Compiling is cached by the function's source text and compile options, so a notebook cell that
redefines a function with new text recompiles it, while ``f.options(beta=..., mode=...)`` only
swaps the evaluation context the same compiled code receives.

Calls (DESIGN §1.3): relaxed code calls the functions of the user's own code through ``rx.call``,
and the runtime asks :func:`_convert` (registered at import) for their compiled form: each is
compiled once, on first call, and then runs with its caller's context. ``relax(f,
convert_calls=False)`` calls them as they are instead; :func:`do_not_convert` marks one helper so.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import linecache
import weakref

import relaxc_runtime
from relaxc_runtime import Context
from relaxc_runtime.arguments import ArgumentShapeError
from relaxc_runtime.calls import PerInstanceRecursionError, convert_with
from relaxc_runtime.values import call_scope

from . import loader, pipeline
from .errors import RelaxcSyntaxError, SourceUnavailableError

_cache: dict = {}
_NOTE = "in relaxed code from"


def _compile(function, context: Context, convert_calls: bool = True,
             helper: bool = False) -> pipeline.Compiled:
    def compile_it():
        return pipeline.compile_function(function, repr(context), convert_calls, helper)

    try:
        if not inspect.isfunction(function):
            raise TypeError
        text = inspect.getsource(function)
    except (OSError, TypeError):
        return compile_it()   # raises the clear error
    code = function.__code__
    key = (text, code.co_filename, function.__qualname__, code.co_freevars, repr(context),
           convert_calls, helper)
    compiled = _cache.get(key)
    if compiled is None:
        compiled = _cache[key] = compile_it()
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

    def __init__(self, function, context: Context, convert_calls: bool = True):
        self.python = function
        self.context = context
        #: Whether the functions of the user's code that this one calls are compiled with it (a
        #: compile option: it decides what the generated code calls, so the Context, which
        #: holds the options of an evaluation, does not carry it).
        self.convert_calls = bool(convert_calls)
        self._compiled = _compile(function, context, self.convert_calls)
        functools.update_wrapper(self, function)

    def options(self, **changes) -> "RelaxedFunction":
        """The same function with other options (``beta``, ``mode``, ``eps``, ``max_iter``,
        ``fixed_iterations``, ``samples``, ``seed``, ``max_paths``, ``replay``,
        ``index_gradient``, ``relaxation``); changing
        ``convert_calls`` compiles the function anew."""
        convert_calls = bool(changes.pop("convert_calls", self.convert_calls))
        other = object.__new__(RelaxedFunction)
        other.__dict__.update(self.__dict__)
        other.context = self.context.replace(**changes)
        if convert_calls != self.convert_calls:
            other.convert_calls = convert_calls
            other._compiled = _compile(self.python, other.context, convert_calls)
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
        except PerInstanceRecursionError as error:
            _add_user_location(error, compiled)
            raise error.with_traceback(None)   # not the hundred levels of the recursion
        except Exception as error:
            _add_user_location(error, compiled)
            raise

    def __relaxc_run__(self, context, args, kwargs):
        """Called from relaxed code (``rx.call``): run as part of the caller's run."""
        return _run(self._compiled, context, args, kwargs)

    def __repr__(self) -> str:
        return f"<relaxed function {self.python.__qualname__} ({self.context!r})>"


def _run(compiled: pipeline.Compiled, context: Context, args, kwargs):
    """The compiled code with the caller's context, inside the caller's run: in a sample or exact
    run the callee's decisions are drawn or enumerated with the caller's (``modes.evaluate``
    would start a run of its own: draw anew, enumerate apart, check the arguments anew)."""
    try:
        with call_scope():
            return compiled.function(*args, **{**kwargs, compiled.rx_name: context})
    except Exception as error:
        _add_user_location(error, compiled)
        raise


class _Converted:
    """A function of the user's own code, compiled because relaxed code calls it."""

    def __init__(self, function, compiled: pipeline.Compiled):
        self.__qualname__ = function.__qualname__
        self.compiled = compiled

    def __relaxc_run__(self, context, args, kwargs):
        return _run(self.compiled, context, args, kwargs)


#: A converted function runs with its caller's context: it is compiled once, with the defaults.
_HELPER_CONTEXT = Context()
#: User function -> its _Converted, or None where it has no source (called as it is).
_converted = weakref.WeakKeyDictionary()


def _convert(function):
    """The compiled form of ``function``, a function of the user's own code that relaxed code
    calls (``relaxc_runtime.calls.user_function``); None where Python kept no source."""
    try:
        return _converted[function]
    except KeyError:
        pass
    try:
        compiled = _compile(function, _HELPER_CONTEXT, convert_calls=True, helper=True)
    except SourceUnavailableError:
        converted = None   # typed at the prompt or made by exec(): nothing to compile
    except RelaxcSyntaxError as error:
        error.add_note(
            f"relaxc compiles {function.__qualname__!r} because a relaxed function calls it "
            f"(functions of your own code run relaxed, with the caller's options): rewrite it "
            f"as the message says, mark it with relaxc.api.do_not_convert to call it as it is, "
            f"or relax the caller with convert_calls=False")
        raise
    else:
        converted = _Converted(function, compiled)
    _converted[function] = converted
    return converted


convert_with(_convert)


def do_not_convert(function):
    """Mark ``function`` (of the user's own code) to be called as it is from relaxed code, not
    compiled with its caller: for a helper that works on whole batched tensors, or that uses
    what relaxc cannot compile (``try``, ``with``)."""
    function.__relaxc_do_not_convert__ = True
    return function


def _add_user_location(error: BaseException, compiled: pipeline.Compiled) -> None:
    """Note on ``error`` the user's file, line and source text where the generated code failed."""
    traceback, frame_line = error.__traceback__, None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == compiled.filename:
            frame_line = traceback.tb_lineno
        traceback = traceback.tb_next
    user_line = compiled.source_map.get(frame_line) if frame_line else None
    if frame_line is None and isinstance(error, ArgumentShapeError):
        user_line = compiled.def_line   # refused at the call: the parameters' line
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
    docs/semantics.md), ``relaxation`` (default ``"logistic"``; ``"gaussian"``, ``"cauchy"``,
    ``"smoothstep"``, or ``relaxc.Relaxation(family, logic="godel")``: the perturbation
    distribution and the logic of ``and``/``or``, docs/semantics.md), ``convert_calls`` (default
    True: the functions of your own code that
    ``function`` calls are compiled with it and run with its options; False calls them as they
    are).
    """
    if isinstance(function, RelaxedFunction):
        return function.options(**options)
    convert_calls = options.pop("convert_calls", True)
    context = Context(**options)
    if function is None:
        return lambda f: RelaxedFunction(f, context, convert_calls)
    return RelaxedFunction(function, context, convert_calls)


def to_source(function: RelaxedFunction) -> str:
    """The generated code of a relaxed function, as a module that runs on its own."""
    if not isinstance(function, RelaxedFunction):
        raise TypeError("relaxc.to_source expects a function returned by relaxc.relax")
    return _compile(function.python, function.context, function.convert_calls).text
