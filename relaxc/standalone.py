"""A generated module that runs on its own: ``relaxc show`` and ``to_source(f, standalone=True)``.

It needs torch, ``relaxc_runtime`` and, for what the function reads from its module (constants,
classes, functions called as they are), that module — never the compiler. Before / after, for a
module ``sorting.py``::

    import torch, relaxc                     import relaxc_runtime
    LIMIT = 3                                from sorting import LIMIT
                                             import torch
    def swap(a, b): ...
                                             def swap(a, b, *, rx=relaxc_runtime.Context(...)): ...
    @relaxc.relax(beta=0.5)                  swap = relaxc_runtime.GeneratedFunction(swap, 'rx')
    def sort(xs):
        ... swap(a, b) ... LIMIT ...         def sort(xs, *, rx=relaxc_runtime.Context(beta=0.5, ...)):
                                                 ... rx.call(swap, (a, b), {}, rx) ... LIMIT ...
                                             sort = relaxc_runtime.GeneratedFunction(sort, 'rx')

The helpers that relaxed code would compile on its first call (``relaxc_runtime.calls``) are
compiled now and written out, so the module computes what the relaxed function computes; each
function is wrapped so that calling it evaluates its modes as ``relax`` does and relaxed callers
run it with their own context. What each function reads is found by ``symtable`` on its generated
code: its global names, looked up in the globals of the user's function.
"""

from __future__ import annotations

import builtins
import symtable
import types

from relaxc_runtime.calls import user_function

from . import api, locations

_WRAPPER = "relaxc_runtime.GeneratedFunction"


class StandaloneError(ValueError):
    """The function reads something that another process cannot import."""


def module_text(function: api.RelaxedFunction) -> str:
    """The standalone module of ``function`` (see the module docstring)."""
    writer = _Writer(function)
    writer.add(function.python, function._compiled, function.context, function.convert_calls)
    return writer.text()


class _Writer:
    def __init__(self, function):
        self.function = function
        self.definitions: list[str] = []      # generated functions, helpers first
        self.written: set = set()             # the user functions written out
        self.names: dict = {}                 # global name -> the value it must have
        self.imports: list[str] = []
        self.future: set[str] = set()

    def add(self, python, compiled, context, convert_calls: bool) -> None:
        self.written.add(python)
        self._claim(python.__name__, python, f"a function {python.__qualname__!r}")
        if python.__code__.co_freevars:
            raise StandaloneError(
                f"{python.__qualname__!r} reads {', '.join(python.__code__.co_freevars)} from "
                f"the function it is defined in, which a module of its own cannot provide: "
                f"define it at the top level of a module")
        text = api.generated_text(compiled, context)
        header, _, body = text.partition("\ndef ")
        self.future.update(line for line in header.splitlines() if line.startswith("from __future__"))
        for name in sorted(_global_names("def " + body) - {"relaxc_runtime"}):
            self._provide(name, python, convert_calls)
        self.definitions.append(
            f"def {body.rstrip()}\n{python.__name__} = {_WRAPPER}({python.__name__}, "
            f"{compiled.rx_name!r})\n")

    def _provide(self, name: str, reader, convert_calls: bool) -> None:
        """Make ``name`` mean in the module what it means to ``reader``, a user function."""
        if name not in reader.__globals__:
            if hasattr(builtins, name) or name == reader.__name__:
                return
            raise StandaloneError(f"{reader.__qualname__!r} reads {name!r}, which its module "
                                  f"does not define (yet): define it before dumping")
        value = reader.__globals__[name]
        relaxed = isinstance(value, api.RelaxedFunction)
        if relaxed or (convert_calls and user_function(value)):
            python = value.python if relaxed else value
            if python in self.written:
                return
            compiled = value._compiled if relaxed else api._compile(python, helper=True)
            if python.__name__ != name:
                raise StandaloneError(f"{reader.__qualname__!r} calls {python.__qualname__!r} "
                                      f"under the name {name!r}: call it by its own name")
            self.add(python, compiled, api.Context(), convert_calls)
            return
        self._claim(name, value, f"{name!r} of {reader.__module__}")
        self.imports.append(_import_line(name, value, reader))

    def _claim(self, name: str, value, what: str) -> None:
        if name in self.names and self.names[name] is not value:
            raise StandaloneError(f"two functions read {name!r} with different meanings (one is "
                                  f"{what}): one module cannot hold both; rename one")
        self.names[name] = value

    def text(self) -> str:
        python = self.function.python
        code = python.__code__
        header = [
            f"# Generated by relaxc from {locations.short(code.co_filename, code.co_firstlineno)}, "
            f"function "
            f"{python.__qualname__}, as a module of its own (relaxc show).",
            "# It needs torch and relaxc_runtime, not relaxc; edit the original function: this "
            "code is regenerated whenever it is compiled.",
        ]
        imports = ["import relaxc_runtime", *sorted(set(self.imports))]
        return "\n".join([*header, *sorted(self.future), *imports, "", "",
                          "\n\n".join(self.definitions)])


def _import_line(name: str, value, reader) -> str:
    """How the module gets ``value`` as ``name``: a module is imported, an object importable by
    its own module and name is imported from there, anything else from the reader's module."""
    if isinstance(value, types.ModuleType):
        module = value.__name__
        return f"import {module}" if module == name else f"import {module} as {name}"
    home, qualname = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
    if (isinstance(home, str) and home != "__main__" and qualname == name
            and _importable(home, qualname, value)):
        return f"from {home} import {name}"
    if reader.__module__ == "__main__":
        raise StandaloneError(
            f"{reader.__qualname__!r} reads {name!r} from the notebook or script it was defined "
            f"in, which another process cannot import: pass it as an argument, or move it and "
            f"the function into a module")
    return f"from {reader.__module__} import {name}"


def _importable(module: str, qualname: str, value) -> bool:
    return api._lookup(module, qualname) is value


def _global_names(text: str) -> set[str]:
    """The global names that ``text`` (generated function definitions) reads, in any scope."""
    found: set[str] = set()

    def visit(table: symtable.SymbolTable) -> None:
        for symbol in table.get_symbols():
            if table.get_type() == "module":
                if symbol.is_referenced():
                    found.add(symbol.get_name())
            # (not is_local: Python 3.11 takes every name bound in a function named `top`, the
            # module table's name, for a global)
            elif symbol.is_global() and not symbol.is_local() and symbol.is_referenced():
                found.add(symbol.get_name())
        for child in table.get_children():
            visit(child)

    visit(symtable.symtable(text, "<relaxc standalone>", "exec"))
    return found
