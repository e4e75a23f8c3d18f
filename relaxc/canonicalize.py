"""The canonicalize pass: rewrite the user's function into the forms lowering expects.

1. One-line suites become blocks (``if c: x = 1`` -> an indented ``x = 1``), so every branch and
   loop body is a list of statement lines.
2. Loops over ranges whose bounds may differ per instance get a per-instance guard (``ranges``).
3. Early exits become flags (``early_exits``).

All keep the user's positions: each node they make records, in ``source.origins``, the user's
node it stands for. A function with none of these constructs is returned untouched.
"""

from __future__ import annotations

import libcst as cst

from . import early_exits, ranges
from .analysis import parameter_names, present_types
from .source import UserSource


class _SuitesToBlocks(cst.CSTTransformer):
    def __init__(self, origins: dict):
        super().__init__()
        self.origins = origins

    def on_leave(self, original, updated):
        result = super().on_leave(original, updated)
        if isinstance(result, cst.CSTNode) and result is not original:
            self.origins[result] = self.origins.get(original, original)
        return result

    def leave_SimpleStatementSuite(self, original, updated):
        lines = []
        for small in updated.body:
            origin = self.origins.get(small, small)   # the user's statement, before the change
            small = small.with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
            new_line = cst.SimpleStatementLine(body=[small])
            self.origins[small] = self.origins[new_line] = origin
            lines.append(new_line)
        return cst.IndentedBlock(body=lines)


def canonicalize(source: UserSource, namer, rx: str) -> None:
    """Rewrite ``source.node`` in place (recording origins)."""
    source.runtime_name = rx
    present = present_types(source.node.body)
    if cst.SimpleStatementSuite in present:
        source.node = source.node.visit(_SuitesToBlocks(source.origins))
    if cst.For in present:
        ranges.canonicalize(source, namer, rx, parameter_names(source.node))
    if present & {cst.Return, cst.Break, cst.Continue}:
        source.node = early_exits.canonicalize(source, namer, rx)
