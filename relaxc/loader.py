"""Loading generated code without temporary files, and mapping its lines back to the user's.

The text is registered in ``linecache`` under a pseudo-filename, so tracebacks, ``inspect.getsource``
and ``pdb`` show the generated code. The function is rebuilt on the user's module globals (a
notebook cell that rebinds a helper is seen at the next call) and, for a nested function, on the
user's closure cells.
"""

from __future__ import annotations

import hashlib
import linecache
import re
import types

import relaxc_runtime

_PROVENANCE = re.compile(r"^\s*# L(\d+): |.*  # L(\d+)$")


def source_map(text: str) -> dict[int, int]:
    """Generated line -> user line, from the ``# L<n>:`` comments (and ``# L<n>`` line tags)."""
    mapping, current = {}, None
    for number, line in enumerate(text.splitlines(), start=1):
        match = _PROVENANCE.match(line)
        if match and match.group(1):
            current = int(match.group(1))
        mapping[number] = int(match.group(2)) if match and match.group(2) else current
    return mapping


def pseudo_filename(qualname: str, text: str) -> str:
    return f"<relaxc {qualname} {hashlib.sha1(text.encode()).hexdigest()[:10]}>"


def load(text: str, filename: str, user_function, rx_name: str,
         parameter_uses=(frozenset(), frozenset())):
    """The generated function, bound to the user's globals, closure and defaults; it carries
    ``parameter_uses`` (``pipeline.parameter_uses``) for the checks at the call."""
    lines = text.splitlines(keepends=True)
    linecache.cache[filename] = (len(text), None, lines, filename)
    free = user_function.__code__.co_freevars
    def_line = next(i for i, l in enumerate(lines) if l.startswith("def "))
    # Keep line numbers: blank the module's imports (the user's globals provide those names) and,
    # for a nested function, wrap the `def` in a factory whose parameters stand for the closure.
    # `from __future__` lines stay: they change how the function compiles.
    blank = [l if l.startswith("from __future__") else "\n" for l in lines[:def_line]]
    # (The emitted module has two blank lines above the `def`.)
    blank[-2] = f"def __relaxc_factory__({', '.join(free)}):\n"
    blank[-1] = "\n" if user_function.__name__ in free else f" global {user_function.__name__}\n"
    # `global`: the `def` binds the function's name as the user's module does, not as a local of
    # the factory, which would make a recursive call by name a free variable with no user cell
    # to bind it to. (A nested function that calls itself has its name among its free
    # variables: there it is the user's cell, as it should be.)
    code_lines = blank + [" " + l if l.strip() else l for l in lines[def_line:]]
    code_lines.append(f" return {user_function.__name__}\n")
    # The `def` runs once here, to evaluate its defaults and annotations with the user's names.
    namespace = {**user_function.__globals__, "relaxc_runtime": relaxc_runtime}
    exec(compile("".join(code_lines), filename, "exec"), namespace)
    # The closure's present values, so that defaults that read them evaluate (the function then
    # takes the user's own cells and defaults).
    generated = namespace["__relaxc_factory__"](*map(_contents, user_function.__closure__ or ()))
    generated.relaxc_parameter_uses = parameter_uses
    return bind(generated, user_function, rx_name)


def _contents(cell):
    try:
        return cell.cell_contents
    except ValueError:   # a cell not filled yet (a name the enclosing function assigns later)
        return None


def bind(generated, user_function, rx_name: str):
    """The generated function with ``user_function``'s globals, closure cells and defaults: two
    closures made by one factory share their code, not their cells."""
    cells = _cells(user_function)
    function = types.FunctionType(
        generated.__code__, user_function.__globals__, user_function.__name__,
        user_function.__defaults__,
        tuple(cells[n] for n in generated.__code__.co_freevars) or None,
    )
    function.__kwdefaults__ = {**(user_function.__kwdefaults__ or {}),
                               rx_name: generated.__kwdefaults__[rx_name]}
    function.__qualname__ = user_function.__qualname__
    function.__doc__ = user_function.__doc__
    function.__module__ = user_function.__module__
    function.relaxc_parameter_uses = generated.relaxc_parameter_uses
    return function


def bound_to(function, user_function) -> bool:
    """Whether the generated ``function`` has ``user_function``'s closure cells and defaults."""
    cells = _cells(user_function)
    return (all(cell is cells[name] for name, cell in zip(function.__code__.co_freevars,
                                                           function.__closure__ or ()))
            and function.__defaults__ is user_function.__defaults__
            and all(function.__kwdefaults__.get(k) is v
                    for k, v in (user_function.__kwdefaults__ or {}).items()))


def _cells(user_function) -> dict:
    """Free variable name -> the user's closure cell."""
    return dict(zip(user_function.__code__.co_freevars, user_function.__closure__ or ()))
