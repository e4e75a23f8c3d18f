"""Lowering of calls (runtime: ``calls``, ``Context.call``).

Before / after::

    helper(x)          ->  rx.call(helper, x)     # a function of the user's, or unknown
    math.sqrt(x)       ->  rx.call(math.sqrt, x)  # per instance: torch.sqrt on a batch
    torch.exp(x)       ->  torch.exp(x)           # library code: called as it is
    xs.append(v)       ->  xs.append(v)           # a method of a container or tensor
    len(xs), max(a, b) ->  rx.len(xs), rx.max(a, b)   # (builtins: their own modules)

The callee is resolved here where it is a global, a builtin, or an attribute of a module: library
code (torch, the standard library, installed packages, classes, callable objects) stays a plain
call; a ``@relax`` function, a function of the user's and whatever cannot be resolved (a
parameter, a closure's variable, a function defined later, the function's own name) go through
``rx.call``, which decides at run time (``runtime/calls.py``). With ``convert_calls=False`` only
``@relax`` functions do.
"""

from __future__ import annotations

import builtins
import inspect
import types

import libcst as cst

from relaxc_runtime import calls as runtime_calls   # what is the user's code: the runtime's rule

from .nodes import runtime_attribute

#: Stand-ins for a callee known only at run time, and for a global not bound yet.
_DYNAMIC, _UNRESOLVED = object(), object()


def lower_call(updated: cst.Call, rx: str, user_globals: dict, local_names: set,
               own_name: str, convert_calls: bool) -> cst.Call:
    """``updated`` as it is, or as ``rx.call(func, *args)`` where it may reach relaxed code."""
    func = updated.func
    if isinstance(func, cst.Lambda):
        return updated   # no source of its own to compile: called as it is
    if runtime_attribute(func, rx) is not None:
        return updated   # the runtime's own (`rx.returned(...)`, made by canonicalization)
    target = _callee(func, user_globals, local_names, own_name)
    if hasattr(type(target), "__relaxc_call__"):
        reaches = True   # a @relax function: it gets this call's context
    elif runtime_calls.math_function(target):
        # `math.sqrt(x)` may be given a batch; `math.sqrt(2.0)` stays plain.
        reaches = not all(isinstance(a.value, (cst.Integer, cst.Float)) for a in updated.args)
    elif runtime_calls.compares_elements(target):
        reaches = True   # `bisect.bisect_left(xs, v)`: refused where the values are relaxed
    elif target is _DYNAMIC or target is _UNRESOLVED:
        reaches = convert_calls
    else:
        reaches = convert_calls and runtime_calls.may_run_relaxed(target)
    if not reaches:
        return updated
    return updated.with_changes(func=cst.Attribute(cst.Name(rx), cst.Name("call")),
                                args=[cst.Arg(func), *updated.args])


def _callee(func, user_globals: dict, local_names: set, own_name: str):
    """What ``func`` names, where compile time can tell; else ``_DYNAMIC`` or ``_UNRESOLVED``."""
    owner, attributes = func, []
    while isinstance(owner, cst.Attribute):
        attributes.insert(0, owner.attr.value)
        owner = owner.value
    if not isinstance(owner, cst.Name) or owner.value in local_names or owner.value == own_name:
        target = _DYNAMIC   # a value (`fs[i]`, `make()`, a parameter), or itself
    else:
        target = user_globals.get(owner.value, getattr(builtins, owner.value, _UNRESOLVED))
    if attributes and isinstance(target, types.ModuleType):
        for attribute in attributes:   # `torch.nn.functional.relu`, `mymodule.helper`
            target = getattr(target, attribute, _UNRESOLVED)
    elif (len(attributes) == 1 and target is not _DYNAMIC and target is not _UNRESOLVED
          and not isinstance(inspect.getattr_static(target, attributes[0], None), property)):
        # `Geometry.clip(x)`, `shared_scorer.score(x)`: looked up without running a property; a
        # static or class method stands for its function.
        target = inspect.getattr_static(target, attributes[0], _DYNAMIC)
        target = getattr(target, "__func__", target)
    elif attributes:
        # A method of a value: a container's or a tensor's stays a plain call (by its name; but
        # `self.clip(x)` in a method is the user's own class).
        # `xs.index(v)`, `xs.count(v)` and `xs.sort()` go through `rx.call`, which refuses
        # them on a batch.
        target = (None if attributes[-1] in runtime_calls.PLAIN_METHODS
                  and attributes[-1] not in runtime_calls.COMPARING_METHODS
                  and not (isinstance(owner, cst.Name) and owner.value in ("self", "cls"))
                  else _DYNAMIC)
    return target
