"""The compiler as one list of passes. Read this file first.

    parse → check → canonicalize → analyse → lower → emit → load

- **parse** (``source``): the function's source via ``inspect``, parsed by libcst with positions.
- **check** (``checks``): refuse what relaxc cannot compile, with a caret and the fix, before any
  rewriting, so no later pass meets an unsupported node.
- **canonicalize** (``canonicalize``): one-line suites become blocks and early exits become flags,
  so lowering meets only ``if``/``while``/``for`` blocks without exits.
- **analyse** (``analysis``): reads/writes, liveness, definite assignment and early exits, computed
  once on the parsed tree; lowering only consults them.
- **lower** (``lowering``): one walk that rewrites each construct through its own module; children
  first, so every construct sees lowered operands.
- **emit** (``emit``): the generated module as text, with a header, imports and the ``# L<n>:``
  provenance comments lowering left on every statement.
- **load** (``loader``): compile the text under a pseudo-filename registered in ``linecache``.

Two facts for the runtime ride along on the loaded function: which parameters the function uses
only as numbers, and which it only hands whole to calls (``relaxc_parameter_uses``, for the shape
checks at the call in ``runtime/arguments.py``); and, in ``Compiled``, the user's ``def`` line.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass

import libcst as cst

from . import analysis, canonicalize, checks, emit, loader, source, tracebacks
from .lowering.transformer import Lowering
from .naming import Namer


@dataclass
class Compiled:
    """What compiling one function gives: the code, the callable, and what errors need."""

    text: str                  # the generated module
    filename: str              # its pseudo-filename in linecache
    function: object           # the generated function (takes the context as ``rx_name=``)
    rx_name: str               # the keyword that receives the evaluation context
    source_map: dict           # generated line -> user line
    user_filename: str
    one_path_hints: dict       # (if line, variable) -> (assigned at, read at)
    def_line: int = 0          # the user's `def` line


def compile_function(function, context_repr: str, convert_calls: bool = True,
                     helper: bool = False) -> Compiled:
    """``convert_calls``: route calls that may reach the user's code through ``rx.call``, which
    compiles them too (``runtime/calls.py``). ``helper``: ``function`` is a function of the user's
    that relaxed code calls, not one given to ``@relax``: its decorators (``@staticmethod``, a
    registry's) were applied already and are no part of what is compiled."""
    parsed = source.read_source(function)                                # parse
    if helper and parsed.node.decorators:
        undecorated = parsed.node.with_changes(decorators=[])
        parsed.origins[undecorated] = parsed.node
        parsed.node = undecorated
    checks.check(parsed)                                                 # check
    uses = parameter_uses(parsed.node)
    namer = Namer(parsed.node, reserved=set(function.__globals__) | set(dir(builtins)))
    canonicalize.canonicalize(parsed, namer, namer.fixed("rx"))          # canonicalize
    facts = analysis.analyse(parsed)                                     # analyse
    lowering = Lowering(parsed, facts, namer, context_repr, function.__globals__,
                        function.__code__.co_freevars, convert_calls)
    module = parsed.wrapper.module.with_changes(body=[parsed.node])
    lowered_module = module.visit(lowering)                              # lower
    text = emit.emit(parsed, lowered_module.body[0])                     # emit
    filename = loader.pseudo_filename(function.__qualname__, text)
    generated = loader.load(text, filename, function, lowering.rx, uses)  # load
    source_map = loader.source_map(text)
    tracebacks.generated_files[filename] = (parsed.filename, source_map, function.__name__)
    return Compiled(text, filename, generated, lowering.rx, source_map,
                    parsed.filename, facts.one_path_hints, parsed.line_of(parsed.node.name))


def parameter_uses(function: cst.FunctionDef) -> tuple[frozenset, frozenset]:
    """``(numbers, whole)``: the parameters that ``function`` uses only as numbers, and those it
    only hands to calls whole (``relaxc_runtime.arguments`` checks the arguments by them).

    Numbers: operands of arithmetic, comparisons, ``not``/``and``/``or``, conditions, and (not
    counted) a returned value or a branch of a conditional expression; at least once as a number,
    never otherwise (indexed, measured, iterated, passed on, rebound). Whole: only the object of
    an attribute (``mask.expand(n, n)``, ``w.shape``) or an argument of a call — what torch sees
    whole, batch or not (not a builtin's: ``len``, ``max``, ``enumerate`` see one instance)."""
    params = {p.name.value for p in (*function.params.posonly_params, *function.params.params,
                                     *function.params.kwonly_params)}
    uses = _ParameterUses(params)
    function.body.visit(uses)
    return (frozenset(uses.kinds["number"] - uses.kinds["other"] - uses.kinds["whole"]),
            frozenset(uses.kinds["whole"] - uses.kinds["other"] - uses.kinds["number"]))


class _ParameterUses(cst.CSTVisitor):
    def __init__(self, params: set):
        super().__init__()
        self.params = params
        self.kinds = {"number": set(), "whole": set(), "other": set(), None: set()}
        self._placed: dict = {}   # id(Name) -> its kind of use ("number", "whole", None)

    def _place(self, node, as_number) -> None:
        if isinstance(node, cst.Name) and node.value in self.params:
            self._placed[id(node)] = ("number" if as_number is True else
                                      "whole" if as_number == "whole" else None)

    def visit_Attribute(self, node):
        self._place(node.value, "whole")

    def visit_Call(self, node):
        if isinstance(node.func, cst.Name) and hasattr(builtins, node.func.value):
            return   # `len(xs)`, `max(a, b)`, `enumerate(xs)`: per instance
        for arg in node.args:
            self._place(arg.value, "whole")

    def visit_BinaryOperation(self, node):
        self._place(node.left, True)
        self._place(node.right, True)

    def visit_UnaryOperation(self, node):
        self._place(node.expression, True)

    def visit_BooleanOperation(self, node):
        self._place(node.left, True)
        self._place(node.right, True)

    def visit_Comparison(self, node):
        self._place(node.left, True)
        for target in node.comparisons:
            self._place(target.comparator, True)

    def visit_AugAssign(self, node):
        self._place(node.value, True)

    def visit_If(self, node):
        self._place(node.test, True)

    def visit_While(self, node):
        self._place(node.test, True)

    def visit_IfExp(self, node):
        self._place(node.test, True)
        self._place(node.body, False)
        self._place(node.orelse, False)

    def visit_Return(self, node):
        self._place(node.value, False)

    def visit_Name(self, node):
        if node.value in self.params:
            self.kinds[self._placed.get(id(node), "other")].add(node.value)
