"""Lowering of ``if``/``elif``/``else`` and conditional expressions (runtime: ``branches``).

Before / after::

    if a > b:                       def if_true(a, b):
        a, b = b, a                     a, b = b, a
                                        return a, b
                          ->        def if_false(a, b):
                                        return a, b
                                    a, b = rx.branch(rx.gt(a, b), if_true, if_false, (a, b))

An ``if`` without ``else`` marks its false path ``@rx.passes_through``: it returns some of its
inputs unchanged. A branch that only moves data, adds, subtracts and scales by numeric literals is
marked ``@rx.linear``: it cannot turn finite inputs into NaN or inf, so the runtime gives it no
gradient guard (see ``runtime/branches.py``).

    y = sqrt(x) if x > 0 else 0     y = rx.branch(rx.gt(x, 0), lambda x: sqrt(x), lambda x: 0, (x,))

Each branch receives the variables it may read (its *inputs*) and returns those it may assign that
are read afterwards (its *outputs*); both come from ``analysis``. An ``if`` holding a
``break`` for the loop around it stays a Python ``if`` whose condition must be static; after canonicalization (``early_exits``) only ``if rx.stop(flag): break`` is such an
``if``.
"""

from __future__ import annotations

import math

import libcst as cst

from ..analysis import BranchFacts, nodes_of
from .nodes import (assign, function, line, name, names_target, runtime_call, runtime_operation,
                    statements_of, thunk, tuple_of)


def lower_if(updated: cst.If, facts: BranchFacts, rx: str, branch_names: tuple[str, str],
             orelse_statements: list, return_flags: tuple = ()) -> list:
    """A relaxed-capable ``if`` as two branch functions and one ``rx.branch`` call.

    ``return_flags``: the names of the function's early-return flag and value (``early_exits``).
    Where both are outputs besides other variables, the call passes their positions
    (``returns=(1, 2)``): the other variables matter only on the paths that have not returned,
    and the runtime merges them in that proportion (``runtime/returns.py``)."""
    true_name, false_name = branch_names
    returned = [line(cst.Return(names_target(facts.outputs)))] if facts.outputs else []
    if_true = function(true_name, facts.inputs, statements_of(updated.body) + returned)
    if_false = function(false_name, facts.inputs, orelse_statements + returned)
    if not orelse_statements:
        # No `else`: the false path only hands its inputs back, so the runtime may run it on the
        # originals, without copies or gradient guards (about a tenth of a relaxed `if`'s cost).
        if_false = _decorated(if_false, rx, "passes_through")
    elif is_linear(orelse_statements, rx):
        if_false = _decorated(if_false, rx, "linear")
    elif has_effects(orelse_statements, rx):
        if_false = _decorated(if_false, rx, "has_effects")
    if is_linear(statements_of(updated.body), rx):
        if_true = _decorated(if_true, rx, "linear")
    elif has_effects(statements_of(updated.body), rx):
        if_true = _decorated(if_true, rx, "has_effects")
    merged = runtime_call(rx, "branch", updated.test, name(true_name), name(false_name),
                          tuple_of(facts.inputs))
    positions = [facts.outputs.index(flag) for flag in return_flags if flag in facts.outputs]
    if len(positions) == len(return_flags) == 2 and len(facts.outputs) > 2:
        positions_node = cst.Tuple([cst.Element(cst.Integer(str(i))) for i in positions])
        merged = merged.with_changes(args=[*merged.args, cst.Arg(
            positions_node, keyword=name("returns"), equal=cst.AssignEqual(
                whitespace_before=cst.SimpleWhitespace(""),
                whitespace_after=cst.SimpleWhitespace("")))])
    result = (assign(names_target(facts.outputs), merged) if facts.outputs
              else cst.Expr(merged))
    return [if_true, if_false, line(result)]


def lower_if_expression(updated: cst.IfExp, facts: BranchFacts, rx: str) -> cst.Call:
    return runtime_call(rx, "branch", updated.test, thunk(updated.body, facts.inputs),
                        thunk(updated.orelse, facts.inputs), tuple_of(facts.inputs))


def _decorated(function_def: cst.FunctionDef, rx: str, marker: str) -> cst.FunctionDef:
    return function_def.with_changes(
        decorators=[cst.Decorator(cst.Attribute(name(rx), name(marker)))])


#: Runtime operations that only move data or add: ``xs[j]``, ``xs[j] = v``, ``+=``, ``-=``.
_LINEAR_OPERATIONS = frozenset({"getitem", "setitem", "iadd", "isub", "len"})

#: Nodes a linear branch may contain; everything not listed (any other call, attribute, ``*`` of
#: two variables, ``/``, ``**``, comparisons, nested control flow, lambdas) makes it non-linear.
_LINEAR_NODES = (cst.SimpleStatementLine, cst.Assign, cst.AssignTarget, cst.Expr, cst.Return,
                 cst.Pass, cst.Name, cst.Tuple, cst.List, cst.Element, cst.Integer, cst.Float,
                 cst.SimpleString, cst.UnaryOperation, cst.Minus, cst.Plus, cst.BinaryOperation,
                 cst.Add, cst.Subtract, cst.Multiply, cst.Divide, cst.Call, cst.Arg)

#: Layout: whitespace, comments and punctuation.
_LAYOUT = (cst.BaseParenthesizableWhitespace, cst.TrailingWhitespace, cst.EmptyLine,
           cst.Newline, cst.Comment, cst.LeftParen, cst.RightParen, cst.Comma, cst.AssignEqual,
           cst.Semicolon, cst.Dot, cst.LeftSquareBracket, cst.RightSquareBracket)


def is_linear(statements: list, rx: str) -> bool:
    """Whether lowered ``statements`` only move data, add, subtract and scale by numeric literals.

    The backward pass of such code never multiplies by a value it computed, so evaluating it
    where it does not apply (a negligible branch) cannot put NaN into the gradient: relaxed
    indices are allowed too, their kernel's derivative is bounded.
    """
    checker = _LinearityChecker(rx)
    for statement in statements:
        statement.visit(checker)
    return checker.linear


class _LinearityChecker(cst.CSTVisitor):
    def __init__(self, rx: str):
        super().__init__()
        self.rx = rx
        self.linear = True

    def on_visit(self, node: cst.CSTNode) -> bool:
        if not self.linear or isinstance(node, _LAYOUT):
            return False
        if not isinstance(node, _LINEAR_NODES):
            self.linear = False
        elif isinstance(node, cst.Call):
            self.linear = runtime_operation(node, self.rx) in _LINEAR_OPERATIONS
            for arg in node.args:   # the arguments only: `rx.getitem` is not an attribute read
                arg.value.visit(self)
            return False
        elif isinstance(node, cst.BinaryOperation) and isinstance(node.operator,
                                                                  (cst.Multiply, cst.Divide)):
            if isinstance(node.operator, cst.Divide):
                self.linear = _finite_scale(node.right, reciprocal=True)
            else:
                self.linear = _finite_scale(node.right) or _finite_scale(node.left)
        return self.linear


#: Builtins without side effects that a branch may call and still run where no instance takes it.
_PURE_BUILTINS = frozenset({"abs", "len", "float", "int", "round", "bool", "range", "min", "max",
                            "sum", "list", "tuple", "enumerate", "zip", "reversed", "sorted",
                            "all", "any"})


def has_effects(statements: list, rx: str) -> bool:
    """Whether lowered ``statements`` call something other than relaxc's operations, a few pure
    builtins and ``torch``/``math`` functions: ``print``, a method such as ``append``, a user
    function. Such a branch must not run where no instance takes it (``runtime/branches.py``)."""
    for statement in statements:
        for call in nodes_of(statement, cst.Call):
            func = call.func
            if isinstance(func, cst.Name) and func.value in _PURE_BUILTINS:
                continue
            root = func
            while isinstance(root, cst.Attribute):
                root = root.value
            if isinstance(func, cst.Attribute) and isinstance(root, cst.Name) \
                    and root.value in (rx, "torch", "math", "F"):
                continue
            return True
    return False


def _finite_scale(node: cst.CSTNode, reciprocal: bool = False) -> bool:
    """Whether ``node`` is a numeric literal that scales by a finite factor (``x * 1e999`` and
    ``x / 0`` do not)."""
    if not isinstance(node, (cst.Integer, cst.Float)):
        return False
    value = float(node.evaluated_value)
    if reciprocal:
        value = 1 / value if value != 0 else math.inf
    return math.isfinite(value)
