"""The supported subset: constructs relaxc refuses at compile time, each with the fix.

Everything here is refused with a :class:`~relaxc.errors.RelaxcSyntaxError` whose caret points at
the user's code; nothing is compiled "as is" in the hope that it works.
"""

from __future__ import annotations

import libcst as cst

from .analysis import nodes_of
from .lowering.assignments import holds_subscript
from .source import UserSource

_REFUSED = {
    cst.Try: "`try` is not supported in a relaxed function: handle errors around the call instead",
    cst.TryStar: "`try` is not supported in a relaxed function: handle errors around the call "
                 "instead",
    cst.With: "`with` is not supported in a relaxed function: enter the context around the call",
    cst.ClassDef: "a class cannot be defined inside a relaxed function: define it at module level",
    cst.FunctionDef: "a function cannot be defined inside a relaxed function: define it at module "
                     "level (decorate it with @relax too if it holds relaxed decisions)",
    cst.Lambda: "a lambda inside a relaxed function is not compiled (its comparisons would not be "
                "relaxed): write the loop it stands for (`max(..., key=lambda j: xs[j])` is a "
                "loop keeping the best index), or define it as a function at module level, "
                "which relaxed code compiles when it calls it",
    cst.Global: "`global` is not supported in a relaxed function: pass the value in and return "
                "the result",
    cst.Nonlocal: "`nonlocal` is not supported in a relaxed function: pass the value in and "
                  "return the result",
    cst.Import: "imports inside a relaxed function are not supported: move the import to module "
                "level",
    cst.ImportFrom: "imports inside a relaxed function are not supported: move the import to "
                    "module level",
    cst.Del: "`del` is not supported in a relaxed function: assign a new value instead",
    cst.Yield: "a generator cannot be relaxed (`yield`): return a list instead",
    cst.Await: "`await` is not supported in a relaxed function",
    cst.Match: "`match` is not supported in a relaxed function: use `if`/`elif`",
}


class _Checker(cst.CSTVisitor):
    def __init__(self, source: UserSource):
        self.source = source

    def on_visit(self, node) -> bool:
        message = _REFUSED.get(type(node))
        if message:
            raise self.source.error(node, message)
        return super().on_visit(node)

    def visit_Assign(self, node: cst.Assign):
        subscripted = [t for t in node.targets if holds_subscript(t.target)]
        if subscripted and len(node.targets) > 1:
            raise self.source.error(node, "a chained assignment (`a = b = ...`) to a subscript is "
                                          "not supported: write one assignment per target")
        for target in subscripted:
            self._check_target(target.target)

    def visit_AugAssign(self, node: cst.AugAssign):
        self._check_target(node.target)

    def _check_target(self, target):
        if isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                if isinstance(element, cst.StarredElement):
                    raise self.source.error(element, "a starred target next to a subscript is not "
                                                     "supported: unpack into names first")
                self._check_target(element.value)
            return
        root = target
        while isinstance(root, cst.Subscript):
            root = root.value
        if isinstance(target, cst.Subscript) and not isinstance(root, (cst.Name, cst.Attribute)):
            raise self.source.error(target, "assigning into a subscript of an expression is not "
                                            "supported: assign the expression to a variable first")
        if isinstance(target, cst.Subscript) and any(
                isinstance(e.slice, cst.Index) and e.slice.star for e in target.slice):
            raise self.source.error(target, "a starred index is not supported: build the index "
                                            "tuple first")

    def visit_BooleanOperation(self, node: cst.BooleanOperation):
        self._no_walrus(node.right, "the right operand of `and`/`or` (it runs only if needed)")

    def visit_IfExp(self, node: cst.IfExp):
        self._no_walrus(node.body, "a branch of a conditional expression")
        self._no_walrus(node.orelse, "a branch of a conditional expression")

    def visit_While(self, node: cst.While):
        self._no_walrus(node.test, "a `while` condition")

    def _no_walrus(self, expression, where: str):
        found = nodes_of(expression, cst.NamedExpr)
        if found:
            raise self.source.error(found[0], f"an assignment expression (`:=`) in {where} is "
                                              f"not supported: assign the value in a statement "
                                              f"before it")

    def visit_For(self, node: cst.For):
        if node.asynchronous:
            raise self.source.error(node, "`async for` is not supported in a relaxed function")
        self._loop_target(node.target)

    def visit_CompFor(self, node: cst.CompFor):
        self._loop_target(node.target)

    def _loop_target(self, target):
        # Python's loop would assign it with the tensor's own __setitem__: into the caller's
        # tensor, and across the batch rather than per instance.
        if holds_subscript(target):
            raise self.source.error(target, "a subscript as a loop target (`for xs[0] in ...`) "
                                            "is not supported: loop over a name and assign "
                                            "`xs[0] = v` in the body")

    def visit_Subscript(self, node: cst.Subscript):
        for element in node.slice:
            if isinstance(element.slice, cst.Index) and element.slice.star:
                raise self.source.error(node, "a starred index is not supported: build the index "
                                              "tuple first")


def _is_relax_decorator(decorator: cst.Decorator) -> bool:
    expression = decorator.decorator
    if isinstance(expression, cst.Call):
        expression = expression.func
    return ((isinstance(expression, cst.Name) and expression.value == "relax")
            or (isinstance(expression, cst.Attribute) and expression.attr.value == "relax"))


def _is_method_kind(decorator: cst.Decorator) -> bool:
    return (isinstance(decorator.decorator, cst.Name)
            and decorator.decorator.value in ("staticmethod", "classmethod"))


def check(source: UserSource) -> None:
    """Raise a ``RelaxcSyntaxError`` at the first construct relaxc cannot compile."""
    function = source.node
    if function.asynchronous:
        raise source.error(function, "an `async def` cannot be relaxed: use a plain `def`")
    decorators = list(function.decorators)
    relax_at = next((i for i, d in enumerate(decorators) if _is_relax_decorator(d)), None)
    applied_before = decorators[relax_at + 1:] if relax_at is not None else decorators
    # `relax` unwraps a static or class method and wraps its relaxation again.
    applied_before = [d for d in applied_before if not _is_method_kind(d)]
    if applied_before:
        raise source.error(applied_before[0], "a decorator applied before @relax would be lost: "
                                              "put @relax directly above the `def`")
    function.body.visit(_Checker(source))
