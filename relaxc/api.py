"""The public API: ``@relax``, ``f.options(...)``, ``f.python`` and ``relaxc.to_source(f)``.

Compiling is cached by the function's source text and compile options, so a notebook cell that
redefines a function with new text recompiles it, while ``relax(f, beta=...)`` and
``f.options(beta=..., mode=...)`` only swap the evaluation context the same compiled code receives.

A relaxed function behaves as a function does: it binds as a method (``__get__``), pickles by
reference (``__reduce__``), and shows as its source beside its generated code in a notebook
(``display``). Errors inside it are shown at the user's line (``tracebacks``).

Calls (DESIGN §1.3): relaxed code calls the functions of the user's own code through ``rx.call``,
and the runtime asks :func:`_convert` (registered at import) for their compiled form: each is
compiled once, on first call, and then runs with its caller's context. ``relax(f,
convert_calls=False)`` calls them as they are instead; :func:`do_not_convert` marks one helper so.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import linecache
import pickle
import weakref

import relaxc_runtime
from relaxc_runtime import Context
from relaxc_runtime.arguments import ArgumentShapeError
from relaxc_runtime.calls import PerInstanceRecursionError, convert_with
from relaxc_runtime.values import call_scope

from . import display, loader, locations, pipeline, tracebacks
from .errors import RelaxcSyntaxError, SourceUnavailableError

_cache: dict = {}
_NOTE = "in relaxed code from"
#: The context written as the generated function's default; ``to_source`` writes the function's
#: own options there instead. Compiling never depends on the options.
_DEFAULT_CONTEXT = repr(Context())


def _compile(function, convert_calls: bool = True, helper: bool = False) -> pipeline.Compiled:
    def compile_it():
        return pipeline.compile_function(function, _DEFAULT_CONTEXT, convert_calls, helper)

    try:
        if not inspect.isfunction(function):
            raise TypeError
        text = inspect.getsource(function)
    except (OSError, TypeError):
        return compile_it()   # raises the clear error
    code = function.__code__
    key = (text, code.co_filename, function.__qualname__, code.co_freevars, convert_calls, helper)
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
        self._compiled = _compile(function, self.convert_calls)
        functools.update_wrapper(self, function)

    def options(self, **changes) -> "RelaxedFunction":
        """The same function with other options (those of :func:`relax`, where each is
        documented): the same compiled code, except that changing ``convert_calls`` compiles the
        function anew."""
        convert_calls = bool(changes.pop("convert_calls", self.convert_calls))
        other = object.__new__(RelaxedFunction)
        other.__dict__.update(self.__dict__)
        other.context = self.context.replace(**changes)
        if convert_calls != self.convert_calls:
            other.convert_calls = convert_calls
            other._compiled = _compile(self.python, convert_calls)
        return other

    def __call__(self, *args, **kwargs):
        __tracebackhide__ = True
        return self.__relaxc_call__(self.context, *args, **kwargs)

    def __get__(self, instance, owner=None):
        """As a method: ``obj.step(x)`` calls the relaxed function with ``obj`` first."""
        return self if instance is None else BoundRelaxedMethod(self, instance)

    def with_standard_error(self, *args, **kwargs):
        """In ``mode="sample"``: ``(mean over the draws, standard error of that mean)``."""
        return self.__relaxc_call__(self.context, *args, _standard_error=True, **kwargs)

    def __relaxc_call__(self, context, *args, _standard_error=False, **kwargs):
        """Run with ``context``: a relaxed caller passes its own (``rx.call``), so a hard or
        colder evaluation stays so all the way down."""
        __tracebackhide__ = True
        compiled = self._compiled
        try:
            return relaxc_runtime.evaluate(compiled.function, context, args, kwargs,
                                           compiled.rx_name, _standard_error)
        except PerInstanceRecursionError as error:
            _add_user_location(error, compiled)
            raise error.with_traceback(None)   # not the hundred levels of the recursion
        except Exception as error:
            _add_user_location(error, compiled)
            # Refused at the call, before the generated code ran: shown at the `def` line.
            refused_at = ((compiled.user_filename, compiled.def_line, self.python.__name__)
                          if isinstance(error, ArgumentShapeError) else None)
            raise error.with_traceback(
                tracebacks.at_user_lines(error.__traceback__, refused_at) or error.__traceback__)

    def __relaxc_run__(self, context, args, kwargs):
        """Called from relaxed code (``rx.call``): run as part of the caller's run."""
        return _run(self._compiled, context, args, kwargs)

    def __repr__(self) -> str:
        code = self.python.__code__
        return (f"<relaxed function {self.python.__qualname__} from "
                f"{locations.short(code.co_filename, code.co_firstlineno)}, "
                f"{display.options_text(self.context)}>")

    def _repr_html_(self) -> str:
        return display.function_html(self)

    def _repr_markdown_(self) -> str:
        return display.function_markdown(self)

    def __reduce__(self):
        """Pickled by reference, as functions are: a module-level relaxed function (or method)
        is found again by its module and name; one made with other options (``relax(f,
        beta=...)``, ``f.options(...)``) is made again from it with those options."""
        module, qualname = self.python.__module__, self.python.__qualname__
        found = _lookup(module, qualname)
        if found is self:
            return qualname
        if found is not self.python and not (isinstance(found, RelaxedFunction)
                                             and found.python is self.python):
            raise pickle.PicklingError(
                f"cannot pickle the relaxed function {qualname!r}: pickle finds functions by "
                f"module and name, and {module}.{qualname} is not it (a function defined inside "
                f"another, or rebound). Define it at the top level of a module")
        return _unpickle, (module, qualname, self.context.options(), self.convert_calls)


class BoundRelaxedMethod:
    """``obj.step`` for a relaxed method ``step``, as a bound method is: calling it calls the
    relaxed function with ``obj`` first, and so do ``obj.step.options(...)`` and
    ``with_standard_error`` (a ``types.MethodType`` would hand those to the unbound function,
    which then misses ``obj``). Anything else is the relaxed function's."""

    __slots__ = ("__func__", "__self__")

    def __init__(self, function: RelaxedFunction, instance):
        self.__func__, self.__self__ = function, instance

    def __call__(self, *args, **kwargs):
        __tracebackhide__ = True
        return self.__func__(self.__self__, *args, **kwargs)

    def options(self, **changes) -> "BoundRelaxedMethod":
        return BoundRelaxedMethod(self.__func__.options(**changes), self.__self__)

    def with_standard_error(self, *args, **kwargs):
        return self.__func__.with_standard_error(self.__self__, *args, **kwargs)

    def __relaxc_call__(self, context, *args, **kwargs):
        return self.__func__.__relaxc_call__(context, self.__self__, *args, **kwargs)

    def __relaxc_run__(self, context, args, kwargs):
        return self.__func__.__relaxc_run__(context, (self.__self__, *args), kwargs)

    def __getattr__(self, name):
        return getattr(self.__func__, name)

    def __eq__(self, other):
        return (isinstance(other, BoundRelaxedMethod) and other.__func__ is self.__func__
                and other.__self__ is self.__self__)

    def __hash__(self):
        return hash((id(self.__func__), id(self.__self__)))

    def __reduce__(self):
        return getattr, (self.__self__, self.__func__.python.__name__)

    def __repr__(self) -> str:
        return f"<bound {self.__func__!r} of {self.__self__!r}>"


def _lookup(module: str, qualname: str):
    """``module.qualname`` (a dotted path through classes), or None."""
    try:
        found = importlib.import_module(module)
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError):
        return None
    return found


def _unpickle(module: str, qualname: str, options: dict, convert_calls: bool):
    found = _lookup(module, qualname)
    function = found.python if isinstance(found, RelaxedFunction) else found
    if function is None:
        raise pickle.UnpicklingError(f"relaxed function {module}.{qualname} no longer exists")
    return RelaxedFunction(function, Context(**options), convert_calls)


def _run(compiled: pipeline.Compiled, context: Context, args, kwargs):
    """The compiled code with the caller's context, inside the caller's run: in a sample or exact
    run the callee's decisions are drawn or enumerated with the caller's (``modes.evaluate``
    would start a run of its own: draw anew, enumerate apart, check the arguments anew)."""
    try:
        with call_scope(from_relaxed_code=True):
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
        compiled = _compile(function, convert_calls=True, helper=True)
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
    note = f"{_NOTE} {locations.describe(compiled.user_filename, user_line)}: {text}"
    hint = compiled.one_path_hints.get((user_line, getattr(error, "name", None)))
    if isinstance(error, UnboundLocalError) and hint:
        assigned, read = hint
        note += (f"\n  {error.name!r} is assigned at line {assigned} and read afterwards at line "
                 f"{read}")
    error.add_note(note)


def relax(function=None, /, **options):
    """Compile ``function`` into its relaxation: ``@relax``, ``@relax(beta=..., mode=...)`` or
    ``relax(function, **options)``.

    This is the one place where every option is documented. Each can be changed per call with
    ``f.options(**changes)``, which reuses the compiled code (only ``convert_calls`` compiles
    anew); a value out of range raises ``ValueError`` at once.

    :param beta: the temperature β of the logistic perturbation, a positive float (default
        ``0.125``). β → 0 is the discrete program; :func:`relaxc.report` suggests the paper's
        β = 1/√k (k relaxed decisions per run) and never applies it.
    :param mode: how each relaxed decision is evaluated (default ``"relaxed"``; DESIGN §1.5):
        ``"relaxed"``, the closed-form expectation with path merging (differentiable);
        ``"hard"``, Python's exact operators, batched (equals the original function per
        instance); ``"straight_through"``, the hard result forward and the relaxed gradient
        backward; ``"sample"``, every decision drawn (the mean over ``samples`` draws, see
        :meth:`RelaxedFunction.with_standard_error`); ``"exact"``, every combination of decisions
        enumerated with its probability (at most ``max_paths``).
    :param eps: a path whose probability is below ``eps`` is negligible (default ``1e-5``, in
        ``[0, 0.5)``): a relaxed ``while`` freezes an instance there, and a branch contributes
        no non-finite value or gradient there.
    :param max_iter: the bound on the iterations of a relaxed ``while`` (default ``1024``); the
        mass still running at the bound is put on the last state, with a warning.
    :param fixed_iterations: run every relaxed ``while`` for exactly ``max_iter`` iterations, with
        no exit that depends on data, so that ``torch.compile(fullgraph=True)`` can capture it
        (default ``False``).
    :param samples: ``mode="sample"``: the number of draws per instance (default ``100``).
    :param seed: ``mode="sample"``: the seed of the draws' ``torch.Generator`` (default ``0``; the
        same seed gives the same draws).
    :param max_paths: ``mode="exact"``: the most paths enumerated (default ``10_000``); past it a
        ``TooManyPathsError`` names the line that multiplies them most.
    :param replay: record each argument signature's first call and replay its torch calls
        afterwards, at about the speed of hand-written PyTorch (default ``False``; relaxed and
        hard modes; the function must depend on its arguments only; docs/semantics.md says what a
        record holds).
    :param index_gradient: the gradient of a real-valued index (default ``"exact"``, the
        gradient of the kernel's weights); ``"constant_normaliser"`` holds the normaliser
        constant in the backward pass (the paper's training heuristic).
    :param relaxation: the perturbation distribution and the logic of ``and``/``or``/``not``
        (default ``"logistic"``, the paper's): ``"gaussian"``, ``"cauchy"``, ``"smoothstep"``
        (bounded support), or ``relaxc.Relaxation(family, logic="godel")`` (logics
        ``"product"``, ``"godel"``, ``"lukasiewicz"``); docs/semantics.md gives every formula.
    :param convert_calls: compile the functions of your own code that ``function`` calls with
        it, to run with its options (default ``True``); ``False`` calls them as they are
        (:func:`do_not_convert` marks one helper so).
    :returns: a :class:`RelaxedFunction`; called, it runs the generated code with these options.
    :raises RelaxcSyntaxError: where ``function`` uses what relaxc cannot compile (the caret
        points at it; docs/limitations.md lists every refusal).
    """
    __tracebackhide__ = True   # IPython and pytest show the user's line, not this frame
    if function is None:
        Context(**{k: v for k, v in options.items() if k != "convert_calls"})   # checked now
        return functools.partial(relax, **options)   # (a partial adds no frame to errors)
    try:
        return _relax(function, options)
    except (RelaxcSyntaxError, SourceUnavailableError) as error:
        if tracebacks.keep_all():
            raise
        # The caret under the user's code is the message: not the frames of the compiler and
        # libcst it was raised under (this frame stays, as every frame that raises does).
        raise error.with_traceback(None) from None


def _relax(function, options: dict):
    if isinstance(function, RelaxedFunction):
        return function.options(**options)
    if isinstance(function, (staticmethod, classmethod)):   # `@relax` above `@staticmethod`
        return type(function)(_relax(function.__func__, options))
    convert_calls = options.pop("convert_calls", True)
    return RelaxedFunction(function, Context(**options), convert_calls)


def to_source(function: RelaxedFunction, standalone: bool = False) -> display.GeneratedSource:
    """The generated code of a relaxed function (a ``str``; notebooks show it highlighted), with
    the function's options as the default context. ``standalone=True``: a module that runs on its
    own with torch and ``relaxc_runtime`` (and the user's module, for what the function reads
    from it): the compiled helpers it calls are included (``standalone``)."""
    if not isinstance(function, RelaxedFunction):
        raise TypeError("relaxc.to_source expects a function returned by relaxc.relax")
    if standalone:
        from . import standalone as dumps   # the module depends on this one
        return display.GeneratedSource(dumps.module_text(function))
    return display.GeneratedSource(generated_text(function._compiled, function.context))


def generated_text(compiled: pipeline.Compiled, context: Context) -> str:
    """The compiled text with ``context`` written as the default of its context parameter."""
    return compiled.text.replace(f"{compiled.rx_name}={_DEFAULT_CONTEXT}",
                                 f"{compiled.rx_name}={context!r}", 1)
