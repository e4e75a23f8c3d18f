"""Small builders for the libcst nodes that lowering emits, so each construct reads as code."""

from __future__ import annotations

import libcst as cst


def name(identifier: str) -> cst.Name:
    return cst.Name(identifier)


def call(function: cst.BaseExpression | str, *args: cst.BaseExpression) -> cst.Call:
    if isinstance(function, str):
        function = cst.parse_expression(function)
    return cst.Call(func=function, args=[cst.Arg(a) for a in args])


def runtime_call(rx: str, operation: str, *args: cst.BaseExpression) -> cst.Call:
    """``rx.operation(*args)``: a call into the evaluation context."""
    return call(cst.Attribute(name(rx), name(operation)), *args)


def runtime_attribute(node: cst.BaseExpression, rx: str) -> str | None:
    """``operation`` where ``node`` is ``rx.operation`` (an attribute of the evaluation
    context), else None."""
    if (isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name)
            and node.value.value == rx):
        return node.attr.value
    return None


def runtime_operation(node: cst.BaseExpression, rx: str) -> str | None:
    """``operation`` where ``node`` is a call ``rx.operation(...)`` (:func:`runtime_call`'s
    form), else None."""
    return runtime_attribute(node.func, rx) if isinstance(node, cst.Call) else None


def keyword(keyword_name: str, value: cst.BaseExpression) -> cst.Arg:
    """``keyword_name=value`` as an argument."""
    return cst.Arg(value, keyword=name(keyword_name), equal=cst.AssignEqual(
        whitespace_before=cst.SimpleWhitespace(""), whitespace_after=cst.SimpleWhitespace("")))


def string(text: str) -> cst.SimpleString:
    return cst.SimpleString(repr(text))


def thunk(body: cst.BaseExpression, params: tuple[str, ...] = ()) -> cst.Lambda:
    """``lambda params: body``."""
    return cst.Lambda(params=cst.Parameters(params=[cst.Param(name(p)) for p in params]),
                      body=body)


def tuple_of(names: tuple[str, ...]) -> cst.Tuple:
    """``(a, b)``, ``(a,)`` or ``()``."""
    elements = [cst.Element(name(n)) for n in names]
    if len(elements) == 1:
        elements = [cst.Element(name(names[0]), comma=cst.Comma())]
    return cst.Tuple(elements)


def names_target(names: tuple[str, ...]) -> cst.BaseExpression:
    """``a`` or ``a, b`` as an assignment target or return value."""
    if len(names) == 1:
        return name(names[0])
    return cst.Tuple([cst.Element(name(n)) for n in names], lpar=[], rpar=[])


def assign(target: cst.BaseExpression, value: cst.BaseExpression) -> cst.Assign:
    return cst.Assign(targets=[cst.AssignTarget(target)], value=value)


def line(small: cst.BaseSmallStatement, leading=()) -> cst.SimpleStatementLine:
    return cst.SimpleStatementLine(body=[small], leading_lines=list(leading))


def comment(text: str) -> cst.EmptyLine:
    return cst.EmptyLine(comment=cst.Comment("# " + text))


def statements_of(block) -> list:
    """The statements of an indented block or of a one-line suite (``if c: x = 1``)."""
    if isinstance(block, cst.SimpleStatementSuite):
        return [line(s) for s in block.body]
    return list(block.body)


def function(name_: str, params: tuple[str, ...], body: list) -> cst.FunctionDef:
    return cst.FunctionDef(
        name=name(name_),
        params=cst.Parameters(params=[cst.Param(name(p)) for p in params]),
        body=cst.IndentedBlock(body=body or [line(cst.Pass())]),
    )
