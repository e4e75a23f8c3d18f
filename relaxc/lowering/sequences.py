"""Sequence parameters: a tensor argument used only by position runs as its columns.

Before / after::

    def bubble_sort(xs):                def bubble_sort(xs, *, rx=...):
        ...                      ->         xs = rx.columns(xs)
                                            ...

A parameter qualifies when the function only indexes it with single indices (``xs[j]``,
``xs[j] = v``, ``xs[j] += v``, ``xs[i][k]``), takes its ``len``, iterates over it (directly, in a
comprehension or through a builtin that iterates: ``enumerate``, ``zip``, ``reversed``, ``sum``, …)
and returns it. Nothing else can see it, so nothing can tell a tensor ``(B, n, ...)`` from its
``n`` elements ``(B, ...)`` held apart (``runtime/values.py: Columns``; ``rx.columns`` leaves any
other argument alone, and the runtime reads the stacked tensor for any other index). The columns
are much cheaper under a relaxed ``if``: a branch that writes ``xs[j]`` changes one element, so
only that element is merged and kept for the backward pass, instead of the whole tensor.
"""

from __future__ import annotations

import libcst as cst

from .indexing import ITERATING_BUILTINS, iterated_arguments
from .nodes import runtime_attribute


def column_parameters(function: cst.FunctionDef, rx: str, builtin_names: set) -> list[str]:
    """The parameters of ``function`` (positional or keyword) used only as sequences;
    ``builtin_names``: the builtins that lowering treats as such (the user did not rebind)."""
    params = [p.name.value for p in (*function.params.posonly_params, *function.params.params,
                                     *function.params.kwonly_params)]
    checker = _SequenceUses(set(params), rx, builtin_names)
    function.body.visit(checker)
    return [p for p in params if p not in checker.other_uses]


class _SequenceUses(cst.CSTVisitor):
    """Collects the candidate names that have a use other than as a sequence."""

    def __init__(self, candidates: set[str], rx: str, builtin_names: set):
        super().__init__()
        self.candidates = candidates
        self.rx = rx
        self.builtin_names = builtin_names
        self.other_uses: set[str] = set()
        self._allowed: set[int] = set()   # id() of Name nodes already seen in an allowed place

    def _allow(self, node) -> None:
        if isinstance(node, cst.Name) and node.value in self.candidates:
            self._allowed.add(id(node))

    def visit_Subscript(self, node: cst.Subscript) -> None:
        single = (len(node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index)
                  and not isinstance(node.slice[0].slice.value, cst.Tuple))
        if single:
            self._allow(node.value)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Name) and func.value in self.builtin_names:
            if func.value == "len":
                allowed = node.args[:1]
            elif func.value in ITERATING_BUILTINS:   # lowering passes these through rx.iterate
                allowed = iterated_arguments(node)
            else:
                allowed = []
        elif runtime_attribute(func, self.rx) == "returned":
            allowed = node.args[:1]
        else:
            allowed = []
        for arg in allowed:
            if arg.star == "":
                self._allow(arg.value)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._allow(node.iter)

    def visit_For(self, node: cst.For) -> None:
        self._allow(node.iter)

    def visit_Return(self, node: cst.Return) -> None:
        value = node.value
        if isinstance(value, cst.Tuple):
            for element in value.elements:
                if isinstance(element, cst.Element):   # not `*xs`
                    self._allow(element.value)
        else:
            self._allow(value)

    def visit_Name(self, node: cst.Name) -> None:
        if node.value in self.candidates and id(node) not in self._allowed:
            self.other_uses.add(node.value)

    # Rebinding the name (an assignment, a loop target, a lambda parameter) is another use; the
    # targets are Names that no allowed place above covers, so visit_Name records them.

