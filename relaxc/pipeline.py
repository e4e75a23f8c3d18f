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
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass

from . import analysis, canonicalize, checks, emit, loader, source
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


def compile_function(function, context_repr: str) -> Compiled:
    parsed = source.read_source(function)                                # parse
    checks.check(parsed)                                                 # check
    namer = Namer(parsed.node, reserved=set(function.__globals__) | set(dir(builtins)))
    canonicalize.canonicalize(parsed, namer, namer.fixed("rx"))          # canonicalize
    facts = analysis.analyse(parsed)                                     # analyse
    lowering = Lowering(parsed, facts, namer, context_repr, function.__globals__,
                        function.__code__.co_freevars)
    module = parsed.wrapper.module.with_changes(body=[parsed.node])
    lowered_module = module.visit(lowering)                              # lower
    text = emit.emit(parsed, lowered_module.body[0])                     # emit
    filename = loader.pseudo_filename(function.__qualname__, text)
    generated = loader.load(text, filename, function, lowering.rx)       # load
    return Compiled(text, filename, generated, lowering.rx, loader.source_map(text),
                    parsed.filename, facts.one_path_hints)
