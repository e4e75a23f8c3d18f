"""The lowering pass: one walk over the user's function that hands each construct to its module.

Children are lowered before their parents (libcst's ``leave_*``), so a construct's module always
receives already-lowered operands. Facts come from ``analysis`` (keyed by the original nodes);
positions from the parsed source (``UserSource.position``).
"""

from __future__ import annotations

import os

import libcst as cst

from ..analysis import (FunctionFacts, integer_elements, is_integer_expression, nodes_of, reads,
                        target_effects, walrus_targets)
from ..source import UserSource
from . import (arithmetic, assignments, branches, calls, conditions, extrema, indexing, loops,
               returns, sequences)
from .nodes import assign, comment, line, runtime_call, string

#: Builtins that lowering treats specially, unless the user's code or module rebinds the name.
SPECIAL_BUILTINS = ("len", "range", "min", "max", *indexing.ITERATING_BUILTINS,
                    *arithmetic.BUILTINS)


class Lowering(cst.CSTTransformer):

    def __init__(self, source: UserSource, facts: FunctionFacts, namer, context_repr: str,
                 user_globals: dict, free_names=(), convert_calls: bool = True):
        super().__init__()
        self.convert_calls = convert_calls
        self.source = source
        self.facts = facts
        self.namer = namer
        self.rx = namer.fixed("rx")
        self.context_repr = context_repr
        self.builtins = {n for n in SPECIAL_BUILTINS
                         if n not in facts.locals and n not in user_globals
                         and n not in free_names}
        self.user_globals = user_globals
        self._elifs: set = set()
        self._store_chains: set = set()

    # -- helpers -------------------------------------------------------------------------------

    def provenance(self, original) -> cst.EmptyLine:
        """``# L<n>: <user line>`` for the statement ``original``."""
        line_number = self.source.line_of(original)
        return comment(f"L{line_number}: {self.source.line_text(line_number).strip()}")

    def _with_provenance(self, statement, original):
        return statement.with_changes(
            leading_lines=[*statement.leading_lines, self.provenance(original)])

    def _temporaries(self, count: int) -> list[str]:
        return [self.namer.fixed("value" if i == 0 else f"value_{i}") for i in range(count)]

    # -- expressions ---------------------------------------------------------------------------

    def visit_AssignTarget(self, node):
        self._mark_store_chain(node.target)

    def visit_AugAssign(self, node):
        self._mark_store_chain(node.target)

    def visit_For(self, node):
        self._mark_store_chain(node.target)

    def visit_CompFor(self, node):
        self._mark_store_chain(node.target)

    def _mark_store_chain(self, target):
        if isinstance(target, cst.Subscript):
            while isinstance(target, cst.Subscript):
                self._store_chains.add(target)
                target = target.value
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                if isinstance(element, cst.StarredElement):
                    self._store_chains.add(element)   # `first, *rest = xs`: a target
                self._mark_store_chain(element.value)

    def leave_Subscript(self, original, updated):
        if original in self._store_chains:
            return updated   # a target: lowered with its assignment (`del` is refused by checks)
        return indexing.lower_subscript(updated, self.rx)

    def leave_Comparison(self, original, updated):
        operands = [original.left] + [c.comparator for c in original.comparisons]
        # A tuple of integers compares in Python's order element by element: integers each.
        integer = [integer_elements(operand, self.facts.integers, self.facts.integer_lists)
                   if isinstance(operand, cst.Tuple) else
                   is_integer_expression(operand, self.facts.integers, self.facts.integer_lists)
                   for operand in operands]
        return conditions.lower_comparison(
            updated, self.rx,
            lambda position: self.namer.fixed("compared" if position == 0 else
                                              f"compared_{position}"),
            [integer[k] and integer[k + 1] for k in range(len(original.comparisons))],
            original in self.facts.while_comparisons)

    def leave_BooleanOperation(self, original, updated):
        # The variables the right operand reads (not those a walrus or comprehension in it binds).
        bound_inside = set(walrus_targets(original.right)) | {
            n for comp in nodes_of(original.right, cst.CompFor)
            for n in target_effects(comp.target)[0]}
        inputs = tuple(n for n in reads(original.right)
                       if n in self.facts.locals and n not in bound_inside)
        return conditions.lower_boolean_operation(updated, self.rx, inputs)

    def leave_BinaryOperation(self, original, updated):
        return arithmetic.lower_binary_operation(updated, self.rx)

    def leave_UnaryOperation(self, original, updated):
        if isinstance(updated.operator, cst.Not):
            return conditions.lower_not(updated, self.rx)
        if isinstance(updated.operator, cst.Minus):
            return updated.with_changes(expression=arithmetic.counted(updated.expression, self.rx))
        return updated

    def leave_FormattedStringExpression(self, original, updated):
        return indexing.lower_formatted_value(updated, self.rx)

    def leave_StarredElement(self, original, updated):
        if original in self._store_chains:
            return updated
        return indexing.lower_starred_element(updated, self.rx)

    def leave_Call(self, original, updated):
        updated = indexing.lower_unpacked_arguments(updated, self.rx, self.builtins)
        if (isinstance(updated.func, cst.Attribute) and not updated.args
                and updated.func.attr.value in indexing.PER_INSTANCE_METHODS):
            return runtime_call(self.rx, updated.func.attr.value, updated.func.value)
        method = extrema.compiled_function(updated.func, self.user_globals)
        if method:
            return extrema.lower_compiled_function(updated, method, self.rx)
        if not (isinstance(updated.func, cst.Name) and updated.func.value in self.builtins):
            return calls.lower_call(updated, self.rx, self.user_globals, self.facts.locals,
                                    self.source.node.name.value, self.convert_calls)
        if updated.func.value == "len" and len(updated.args) == 1:
            return indexing.lower_len(updated, self.rx)
        if updated.func.value in ("min", "max"):
            return extrema.lower_extremum(updated, self.rx)
        if updated.func.value in indexing.ITERATING_BUILTINS:
            lowered = indexing.lower_iterating_builtin(updated, self.rx)
            if updated.func.value in conditions.LOGIC_BUILTINS:
                return conditions.lower_logic_builtin(lowered, self.rx)
            return lowered
        # int(), round(), float(), divmod() of relaxed values (arithmetic.py).
        if updated.func.value in arithmetic.BUILTINS:
            return arithmetic.lower_builtin(updated, self.rx)
        return updated

    def leave_IfExp(self, original, updated):
        return branches.lower_if_expression(updated, self.facts.branches[original], self.rx)

    def leave_CompFor(self, original, updated):
        return loops.lower_comprehension_for(updated, self.rx, self.builtins)

    # -- statements ----------------------------------------------------------------------------

    def leave_Return(self, original, updated):
        return returns.lower_return(updated, self.rx)

    def leave_SimpleStatementLine(self, original, updated):
        smalls = []
        for small in updated.body:
            if isinstance(small, cst.Assign):
                small = assignments.lower_unpacking(small, self.rx)
            if isinstance(small, cst.Assign) and assignments.holds_subscript(small.targets[0].target):
                smalls += assignments.lower_assign(small, self.rx, self._temporaries,
                                                   self.facts.written_arguments)
            elif isinstance(small, cst.AugAssign):
                smalls.append(assignments.lower_augmented(small, self.rx, self.facts.written_arguments))
            else:
                smalls.append(small)
        if _is_docstring(original):
            return updated
        if len(smalls) == len(updated.body):
            return self._with_provenance(updated.with_changes(body=smalls), original)
        lines = [line(s) for s in smalls]
        lines[0] = lines[0].with_changes(
            leading_lines=[*updated.leading_lines, self.provenance(original)])
        return cst.FlattenSentinel(lines)

    def leave_For(self, original, updated):
        return self._with_provenance(loops.lower_for(updated, self.rx, self.builtins), original)

    def leave_While(self, original, updated):
        names = (self.namer.fixed("while_condition"), self.namer.fixed("while_body"))
        line_number = self.source.line_of(original)
        where = f"{os.path.basename(self.source.filename)}:{line_number}"
        statements = loops.lower_while(updated, self.facts.branches[original], self.rx, names,
                                       where, self.source.loop_exits.get(original, ()))
        return cst.FlattenSentinel(self._mark(statements, updated, original, line_number, 2))

    def _mark(self, statements, updated, original, line_number, call_index):
        """Provenance on the first statement; a ``# L<n>`` tag on the runtime call's line, so
        errors raised by the merge there name the user's statement."""
        statements[0] = statements[0].with_changes(
            leading_lines=[*updated.leading_lines, self.provenance(original)])
        statements[call_index] = statements[call_index].with_changes(
            trailing_whitespace=cst.TrailingWhitespace(
                whitespace=cst.SimpleWhitespace("  "), comment=cst.Comment(f"# L{line_number}")))
        return statements

    def visit_If(self, node):
        if isinstance(node.orelse, cst.If):
            self._elifs.add(node.orelse)

    def leave_If(self, original, updated):
        if original in self._elifs:
            return updated   # lowered by the `if` it belongs to
        lowered = self._lower_if(original, updated)
        if isinstance(lowered, cst.If):
            return self._with_provenance(lowered, original)
        return cst.FlattenSentinel(lowered)

    def _lower_if(self, original: cst.If, updated: cst.If):
        """An ``if`` and its ``elif`` chain: a static ``cst.If``, or a list of statements."""
        if isinstance(updated.orelse, cst.If):
            inner = self._lower_if(original.orelse, updated.orelse)
            orelse_statements = ([self._with_provenance(inner, original.orelse)]
                                 if isinstance(inner, cst.If) else inner)
        elif isinstance(updated.orelse, cst.Else):
            orelse_statements = list(updated.orelse.body.body)
        else:
            orelse_statements = []

        if original in self.facts.early_exits:
            # Only `if rx.stop(flag): break`, made by canonicalization, exits early here: its
            # condition is always static, and it stays Python's `if`.
            return updated

        names = (self.namer.fixed("if_true"), self.namer.fixed("if_false"))
        return_flags = (self.namer.given("returned"), self.namer.given("return_value"))
        statements = branches.lower_if(updated, self.facts.branches[original], self.rx, names,
                                       orelse_statements, return_flags)
        return self._mark(statements, updated, original, self.source.line_of(original), -1)

    def leave_FunctionDef(self, original, updated):
        if original is not self.source.node:
            return updated
        context_param = cst.Param(
            cst.Name(self.rx), default=cst.parse_expression(self.context_repr),
            equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                  whitespace_after=cst.SimpleWhitespace("")))
        params = updated.params
        star = params.star_arg if isinstance(params.star_arg, cst.Param) else cst.ParamStar()
        params = params.with_changes(star_arg=star,
                                     kwonly_params=[*params.kwonly_params, context_param])
        body = list(updated.body.body)
        docstring = body[:1] if _is_docstring(original.body.body[0]) else []
        declarations = [
            line(assign(cst.Name(n), runtime_call(self.rx, "unbound", string(n))))
            for n in self.facts.unbound
        ]
        if declarations:
            declarations[0] = declarations[0].with_changes(leading_lines=[
                comment("Declared unbound so that branches can receive and merge them.")])
        as_columns = [line(assign(cst.Name(p), runtime_call(self.rx, "columns", cst.Name(p))))
                      for p in sequences.column_parameters(original, self.rx, self.builtins)]
        if as_columns:
            as_columns[0] = as_columns[0].with_changes(leading_lines=[
                comment("Used only by position: a tensor argument is held as its elements.")])
        return updated.with_changes(
            decorators=[], leading_lines=[], params=params,
            body=updated.body.with_changes(
                body=docstring + as_columns + declarations + body[len(docstring):]))


def _is_docstring(statement) -> bool:
    return (isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1
            and isinstance(statement.body[0], cst.Expr)
            and isinstance(statement.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))
