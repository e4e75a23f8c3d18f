"""Canonicalization of early exits: ``return``, ``break`` and ``continue`` become flags.

Under a relaxed condition an exit is taken with some probability, so what follows it must run
weighted by the probability that it is still reached. Turning each exit into a flag and guarding
the rest of the block with ``if not flag:`` says exactly that, and the ordinary branch merging does
the weighting. Under static conditions the flags are plain ``bool``s and the code is Python's::

    def find(xs, key):                       def find(xs, key):
        for i in range(len(xs)):                 returned = False
            if xs[i] == key:                     return_value = rx.pending
                return i                         for i in range(len(xs)):
        return -1                                    if rx.stop(returned):
                                                         break
                                  ->                 if not returned:
                                                         if xs[i] == key:
                                                             return_value = i
                                                             returned = True
                                                 if not returned:
                                                     return_value = -1
                                                     returned = True
                                                 return return_value

``rx.stop(flag)`` is true only for a static ``True``: a relaxed flag lets the loop go on, with its
body weighted by ``not flag``. A ``while`` gets ``not flag and`` in front of its condition instead.
Every node made here records the user's node it stands for in ``source.origins``, so errors and
``# L<n>:`` comments still point at the user's lines.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import libcst as cst

from .analysis import body_of, contains, nodes_of, orelse_body
from .lowering.nodes import assign, line, name
from .source import UserSource

_TRUE, _FALSE, _NONE = cst.Name("True"), cst.Name("False"), cst.Name("None")


@dataclass(frozen=True)
class _Scope:
    returned: str | None = None       # flag of the function's early return (None: not needed)
    return_value: str | None = None
    broke: str | None = None          # flags of the innermost loop
    continued: str | None = None
    # Whether a `return` (a `break`) leaves a `while`: its flag is then set to `rx.exited`, so that
    # the runtime keeps the path that exits apart from the one that goes on (runtime/exits.py).
    return_leaves_while: bool = False
    break_leaves_while: bool = False
    # Variables the innermost loop sets only just before its `break`s and its `else` sets
    # (`_exit_values`): carried like a return value, the value given that the loop broke.
    exit_values: tuple = ()


def _exits_in(statements, kinds, in_nested_loop=False) -> bool:
    """Whether ``statements`` hold an exit of one of ``kinds`` (Return/Break/Continue classes);
    ``break``/``continue`` inside a nested loop belong to that loop."""
    for stmt in statements:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Return) and cst.Return in kinds:
                    return True
                if isinstance(small, (cst.Break, cst.Continue)) and type(small) in kinds \
                        and not in_nested_loop:
                    return True
        elif isinstance(stmt, cst.If):
            if _exits_in(body_of(stmt) + orelse_body(stmt), kinds, in_nested_loop):
                return True
        elif isinstance(stmt, (cst.For, cst.While)):
            if _exits_in(body_of(stmt), kinds, True) or _exits_in(_else_of(stmt), kinds,
                                                                   in_nested_loop):
                return True
    return False


def _endless(stmt) -> bool:
    """Whether ``stmt`` is a ``while True:`` that no ``break`` of its own leaves."""
    return (isinstance(stmt, cst.While) and isinstance(stmt.test, cst.Name)
            and stmt.test.value == "True" and not _exits_in(body_of(stmt), {cst.Break}))


def _else_of(loop) -> list:
    return list(loop.orelse.body.body) if loop.orelse is not None else []


def _exit_values(loop) -> tuple[str, ...]:
    """The variables of a loop's search idiom, ``if …: pos = i; break`` … ``else: pos = -1``.

    Python sets such a variable on every way out: before each ``break`` or in the ``else``. Merged
    as a plain variable, the paths that have not broken yet would hold no value for it (refused
    as "assigned on one path") or a stale one; carried as an exit value (``runtime/returns.py``)
    it is the value given that the loop broke, and the ``else`` merge weighs it by that
    probability. A variable qualifies when the ``else`` assigns it at its top level, every
    ``break`` of the loop follows an assignment of it in the same block, and the body names it
    nowhere else (so no path that goes on reads it)."""
    candidates = [variable for stmt in _else_of(loop) for variable in _assigned_names(stmt)]
    if not candidates:
        return ()
    blocks = []   # the statements of each block up to a `break` of this loop
    unsure = []   # a `break` in a line that is not a block's statement (cannot be checked)

    def visit(statements):
        for position, stmt in enumerate(statements):
            if isinstance(stmt, cst.SimpleStatementLine):
                for index, small in enumerate(stmt.body):
                    if isinstance(small, cst.Break):
                        blocks.append(statements[:position] + [stmt.with_changes(body=stmt.body[:index])])
            elif isinstance(stmt, cst.If):
                visit(body_of(stmt))
                visit(orelse_body(stmt))
            elif not isinstance(stmt, (cst.For, cst.While)) and _exits_in([stmt], {cst.Break}):
                unsure.append(stmt)   # a `with` or `try` around a `break`: left as it is

    body = body_of(loop)
    visit(body)
    if not blocks or unsure:
        return ()

    def mentions(statements, variable):
        return sum(1 for stmt in statements for node in nodes_of(stmt, cst.Name)
                   if node.value == variable)

    return tuple(dict.fromkeys(
        variable for variable in candidates
        if all(any(variable in _assigned_names(stmt) for stmt in block) for block in blocks)
        and mentions(body, variable) == sum(mentions(block, variable) for block in blocks)))


def _assigned_names(stmt) -> list[str]:
    """The variables a simple statement line assigns with ``=`` (``a = …``, ``a, b = …``)."""
    if not isinstance(stmt, cst.SimpleStatementLine):
        return []
    found = []
    for small in stmt.body:
        if not isinstance(small, cst.Assign):
            continue
        for target in small.targets:
            node = target.target
            parts = ([e.value for e in node.elements] if isinstance(node, (cst.Tuple, cst.List))
                     else [node])
            found += [part.value for part in parts if isinstance(part, cst.Name)]
    return found


class EarlyExits:
    def __init__(self, source: UserSource, namer, rx: str):
        self.source = source
        self.namer = namer
        self.rx = rx
        self.depth = 0

    # -- building nodes that remember where they came from --------------------------------------

    def _from(self, new, old):
        self.source.origins[new] = self.source.origins.get(old, old)
        return new

    def _line(self, small, origin):
        return self._from(line(self._from(small, origin)), origin)

    def _set(self, flag: str, value, origin):
        return self._line(assign(name(flag), value), origin)

    def _flags_test(self, flags: list[str]):
        """``broke`` or ``(broke or returned)``."""
        if len(flags) == 1:
            return name(flags[0])
        test = name(flags[0])
        for flag in flags[1:]:
            test = cst.BooleanOperation(left=test, operator=cst.Or(), right=name(flag))
        return test.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])

    def _returned(self, variable: str) -> cst.Call:
        return cst.Call(self._runtime("returned"), [cst.Arg(name(variable))])

    def _unless(self, flags: list[str], statements: list, origin, scope: "_Scope",
                loop_else: bool = False) -> cst.If:
        """``if not flags: statements``, with the flags refined on each path.

        Inside, every flag is false (and nothing has been returned yet); on the other path a single
        flag is true. Without this, each path would see the flags' merged probability instead.
        The loop's exit values likewise: not set yet inside; set for sure on the path that broke,
        where a loop's ``else`` (``loop_else``) reads them as they are.
        """
        test = cst.UnaryOperation(operator=cst.Not(), expression=self._flags_test(flags))
        refined = [self._set(flag, _FALSE, origin) for flag in flags]
        if scope.returned in flags:
            refined.append(self._set(scope.return_value, self._runtime("pending"), origin))
        carries = scope.broke in flags and scope.exit_values
        if carries:
            refined += [self._set(v, self._runtime("pending"), origin) for v in scope.exit_values]
        orelse = None
        if len(flags) == 1:
            surely = [self._set(flags[0], self._exit_value(flags[0], scope), origin)]
            if flags[0] == scope.returned:   # on this path the value is returned for sure
                surely.append(self._set(scope.return_value, self._returned(scope.return_value),
                                        origin))
            if carries:
                surely += [self._set(v, cst.Call(self._runtime("settled"), [cst.Arg(name(v))])
                                     if loop_else else self._returned(v), origin)
                           for v in scope.exit_values]
            orelse = self._from(cst.Else(body=cst.IndentedBlock(body=surely)), origin)
        return self._from(cst.If(test=self._from(test, origin),
                                 body=cst.IndentedBlock(body=refined + statements),
                                 orelse=orelse), origin)

    def _exit_value(self, flag: str, scope: "_Scope"):
        """What setting ``flag`` assigns: ``rx.exited`` where it leaves a ``while``, else True."""
        leaves_while = ((flag == scope.returned and scope.return_leaves_while)
                        or (flag == scope.broke and scope.break_leaves_while))
        return self._runtime("exited") if leaves_while else _TRUE

    def _runtime(self, attribute: str) -> cst.Attribute:
        return cst.Attribute(name(self.rx), name(attribute))

    # -- the pass -----------------------------------------------------------------------------

    def function(self, node: cst.FunctionDef) -> cst.FunctionDef:
        statements = body_of(node)
        last = statements[-1] if statements else None
        final_return = (isinstance(last, cst.SimpleStatementLine)
                        and isinstance(last.body[-1], cst.Return))
        # Python never falls off the end after a `while True:` that no `break` leaves.
        falls_off = not final_return and not _endless(last)
        inner_return = _exits_in(statements[:-1] if final_return else statements, {cst.Return}) \
            or (final_return and any(isinstance(s, cst.Return) for s in last.body[:-1]))
        if not inner_return and not contains(node, cst.Break, cst.Continue):
            return node
        scope = _Scope()
        if inner_return:
            scope = _Scope(returned=self.namer.fixed("returned"),
                           return_value=self.namer.fixed("return_value"))
        body, _ = self.block(statements, scope)
        if inner_return:
            prologue = [self._set(scope.returned, _FALSE, node),
                        self._set(scope.return_value, self._runtime("pending"), node)]
            epilogue = []
            if falls_off:   # falling off the end returns None, as in Python
                epilogue.append(self._unless([scope.returned], [
                    self._set(scope.return_value, cst.Call(self._runtime("returned"),
                                                           [cst.Arg(_NONE)]), node)],
                    node, scope))
            epilogue.append(self._line(cst.Return(name(scope.return_value)), node))
            body = prologue + body + epilogue
        return self._from(node.with_changes(body=node.body.with_changes(body=body)), node)

    def block(self, statements, scope: _Scope) -> tuple[list, dict]:
        """Statements with exits turned into flags; the flags they may set -> the exit's node."""
        out, exits = [], {}
        for position, stmt in enumerate(statements):
            new, stmt_exits = self.statement(stmt, scope)
            out += new
            exits.update(stmt_exits)
            rest = statements[position + 1:]
            if stmt_exits and rest:
                guarded, rest_exits = self.block(rest, scope)
                exits.update(rest_exits)
                out.append(self._unless(list(stmt_exits), guarded,
                                        next(iter(stmt_exits.values())), scope))
                break
        return out, exits

    def statement(self, stmt, scope: _Scope) -> tuple[list, dict]:
        if isinstance(stmt, cst.SimpleStatementLine):
            return self.simple(stmt, scope)
        if isinstance(stmt, cst.If):
            return self.if_statement(stmt, scope)
        if isinstance(stmt, (cst.For, cst.While)):
            return self.loop(stmt, scope)
        return [stmt], {}

    def simple(self, stmt: cst.SimpleStatementLine, scope: _Scope):
        for position, small in enumerate(stmt.body):
            flags = self._exit_flags(small, scope)
            if flags is None:
                continue
            before = ([self._from(stmt.with_changes(body=stmt.body[:position]), stmt)]
                      if position else [])
            # Anything after an exit on the same line is unreachable, as in Python.
            return before + flags, {self._flag_name(small, scope): small}
        return [stmt], {}

    def _flag_name(self, small, scope):
        if isinstance(small, cst.Return):
            return scope.returned
        return scope.broke if isinstance(small, cst.Break) else scope.continued

    def _exit_flags(self, small, scope: _Scope):
        """The statements that replace an exit, or None if ``small`` stays as written."""
        if isinstance(small, cst.Return) and scope.returned:
            value = small.value if small.value is not None else _NONE
            if isinstance(value, cst.Tuple) and not value.lpar:   # `return a, b`
                value = value.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
            returning = cst.Call(self._runtime("returned"), [cst.Arg(value)])
            return [self._set(scope.return_value, returning, small),
                    self._set(scope.returned, self._exit_value(scope.returned, scope), small)]
        if isinstance(small, cst.Break) and scope.broke:
            carried = [self._set(v, self._returned(v), small) for v in scope.exit_values]
            return carried + [self._set(scope.broke, self._exit_value(scope.broke, scope), small)]
        if isinstance(small, cst.Continue) and scope.continued:
            return [self._set(scope.continued, _TRUE, small)]
        return None

    def if_statement(self, stmt: cst.If, scope: _Scope):
        body, exits = self.block(body_of(stmt), scope)
        orelse = stmt.orelse
        if orelse is not None:
            else_statements, else_exits = self.block(orelse_body(stmt), scope)
            exits = {**exits, **else_exits}
            if isinstance(orelse, cst.If) and len(else_statements) == 1 \
                    and isinstance(else_statements[0], cst.If):
                orelse = else_statements[0]       # still an `elif`
            else:
                orelse = self._from(cst.Else(body=cst.IndentedBlock(body=else_statements)),
                                    orelse)
        new = stmt.with_changes(body=stmt.body.with_changes(body=body), orelse=orelse)
        return [self._from(new, stmt)], exits

    def loop(self, stmt, scope: _Scope):
        body_statements = body_of(stmt)
        has_break = _exits_in(body_statements, {cst.Break})
        has_continue = _exits_in(body_statements, {cst.Continue})
        self.depth += 1
        suffix = "" if self.depth == 1 else f"_{self.depth - 1}"
        is_while = isinstance(stmt, cst.While)
        # Exit values need the path that broke apart from every other way out: not with a
        # `return` inside the loop as well.
        exit_values = (_exit_values(stmt) if has_break
                       and not (scope.returned and _exits_in(body_statements, {cst.Return}))
                       else ())
        inner = _Scope(scope.returned, scope.return_value,
                       self.namer.fixed("broke" + suffix) if has_break else None,
                       self.namer.fixed("continued" + suffix) if has_continue else None,
                       return_leaves_while=scope.return_leaves_while or is_while,
                       break_leaves_while=is_while, exit_values=exit_values)
        body, exits = self.block(body_statements, inner)
        self.depth -= 1
        returns = scope.returned in exits if scope.returned else False
        stops = [f for f in (inner.broke, inner.returned if returns else None) if f]

        prefix = [self._set(inner.continued, _FALSE, stmt)] if inner.continued else []
        if isinstance(stmt, cst.While):
            # The exit flags join the condition in the runtime (`exits=`), which conditions the
            # state it records on the way the loop stopped. The body runs on the path that is
            # still going: there the flags are false and nothing is returned yet.
            refined = [self._set(flag, _FALSE, stmt) for flag in stops]
            if inner.returned in stops:
                refined.append(self._set(inner.return_value, self._runtime("pending"), stmt))
            refined += [self._set(v, self._runtime("pending"), stmt) for v in exit_values]
            new_body = refined + prefix + body
            loop = stmt
        else:
            if stops:
                # Once stopped, the loop still iterates (the flag may be relaxed), so the target
                # must not move on: it is assigned inside the guarded body from a fresh item.
                item = self.namer.fixed("item" + suffix)
                body = [self._line(assign(stmt.target, name(item)), stmt)] + body
                stmt = self._from(stmt.with_changes(target=name(item)), stmt)
                stop = self._from(cst.If(
                    test=cst.Call(func=cst.Attribute(name(self.rx), name("stop")),
                                  args=[cst.Arg(self._flags_test(stops).with_changes(
                                      lpar=[], rpar=[]))]),
                    body=cst.IndentedBlock(body=[self._line(cst.Break(), stmt)])), stmt)
                new_body = [stop] + prefix + [self._unless(stops, body, stmt, inner)]
            else:
                new_body = prefix + body
            loop = stmt
        loop = self._from(loop.with_changes(body=cst.IndentedBlock(body=new_body), orelse=None),
                          stmt)
        if isinstance(stmt, cst.While) and stops:
            self.source.loop_exits[loop] = tuple(
                (flag, inner.return_value if flag == inner.returned else None) for flag in stops)
        out = [self._set(inner.broke, _FALSE, stmt)] if inner.broke else []
        out += [self._set(v, self._runtime("pending"), stmt) for v in exit_values]
        out.append(loop)
        else_statements, else_exits = self.block(_else_of(stmt), scope)
        if else_statements:
            # The `else` runs after the loop: a flag set for sure on the way past it leaves the
            # loop no more (it leaves an enclosing `while` only if the `return` does).
            after = replace(inner, return_leaves_while=scope.return_leaves_while,
                            break_leaves_while=False)
            out += ([self._unless(stops, else_statements, stmt.orelse, after, loop_else=True)]
                    if stops else else_statements)
        outward = {scope.returned: exits[scope.returned]} if returns else {}
        return out, {**outward, **else_exits}


def canonicalize(source: UserSource, namer, rx: str) -> cst.FunctionDef:
    """The user's function with early exits turned into flags (unchanged when it has none)."""
    return EarlyExits(source, namer, rx).function(source.node)
