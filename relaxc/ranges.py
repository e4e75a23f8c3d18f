"""Canonicalization of ``for`` loops over a ``range`` whose bounds may differ per instance.

``for j in range(a, b)`` where ``a`` or ``b`` may be relaxed (a counter merged under a relaxed
condition, a parameter) becomes a loop over static positions whose body runs behind a per-instance
guard::

    for j in range(i, low, -1):         span = rx.span(i, low, -1)
        xs[j] = xs[j - 1]         ->    for j in span:
                                            if rx.in_span(j, span):
                                                xs[j] = xs[j - 1]

With static bounds ``rx.span`` is Python's ``range`` and ``rx.in_span`` is ``True``, so the loop is
Python's. With per-instance bounds the positions cover every instance's range, and the guard is
each instance's ``a <= j < b`` (``runtime/ranges.py``): the masked loop in hard mode, each position
weighted by its probability when relaxed. Bounds that are surely static (literals, ``len``, loop
counters of static ranges: ``analysis.static_names``) keep the plain loop.
"""

from __future__ import annotations

import libcst as cst

from .analysis import body_of, is_static_expression, nodes_of, static_names
from .lowering.nodes import assign, line, name, runtime_call
from .source import UserSource


class _PerInstanceRanges(cst.CSTTransformer):
    def __init__(self, source: UserSource, namer, rx: str, params: list[str]):
        super().__init__()
        self.source, self.namer, self.rx, self.params = source, namer, rx, params
        self.count = 0
        self.enclosing = []   # the user's if/while/for statements around the node visited

    def on_visit(self, node):
        if isinstance(node, (cst.If, cst.While, cst.For)):
            self.enclosing.append(node)
        return super().on_visit(node)

    def on_leave(self, original, updated):
        result = super().on_leave(original, updated)
        if isinstance(original, (cst.If, cst.While, cst.For)):
            self.enclosing.pop()
        if isinstance(result, cst.CSTNode) and result is not original:
            self._from(result, original)   # a parent rebuilt around a rewritten loop
        return result

    def _from(self, new, old):
        self.source.origins[new] = self.source.origins.get(old, old)
        return new

    def leave_For(self, original, updated):
        iterator = updated.iter
        if not (isinstance(iterator, cst.Call) and isinstance(iterator.func, cst.Name)
                and iterator.func.value == "range" and isinstance(updated.target, cst.Name)
                and all(a.keyword is None and a.star == "" for a in iterator.args)):
            return updated
        bounds = [a.value for a in iterator.args]
        if all(is_static_expression(b, set()) for b in bounds):
            return updated   # literals and `len`: static without asking about any variable
        # What is static where the loop runs (inside the statements around it, their paths run
        # apart; `enclosing` still holds the loop itself, which cannot assign its own bounds).
        static = static_names(self.source.node, self.params, self.enclosing)
        if all(is_static_expression(b, static) for b in bounds):
            return updated
        if any(_calls_other_than_len(b) for b in bounds):
            return updated   # evaluated once as written; a relaxed bound is refused at run time
        span = self.namer.fixed("span" if self.count == 0 else f"span_{self.count}")
        self.count += 1
        made = self._from(line(self._from(assign(
            name(span), runtime_call(self.rx, "span", *bounds)), original)), original)
        guard = self._from(cst.If(
            test=runtime_call(self.rx, "in_span", updated.target, name(span)),
            body=cst.IndentedBlock(body=body_of(updated))), original)
        loop = updated.with_changes(iter=name(span), body=cst.IndentedBlock(body=[guard]))
        return cst.FlattenSentinel([made, self._from(loop, original)])


def _calls_other_than_len(node) -> bool:
    return any(not (isinstance(c.func, cst.Name) and c.func.value == "len")
               for c in nodes_of(node, cst.Call))


def canonicalize(source: UserSource, namer, rx: str, params: list[str]) -> None:
    """Rewrite ``source.node``'s loops over per-instance ranges in place (recording origins)."""
    source.node = source.node.visit(_PerInstanceRanges(source, namer, rx, params))
