"""How relaxed functions and generated code look in a notebook and a terminal.

A relaxed function displays as the user's source beside its generated code, highlighted by
Pygments (which Jupyter ships), with its options, its number of decision sites and where it was
defined (``Cell In[N]`` for a notebook cell). ``relaxc.to_source(f)`` returns a
:class:`GeneratedSource`: a ``str`` that prints and compares as the code and displays highlighted.
Plain text stays the terminal's representation.
"""

from __future__ import annotations

import html
import inspect
import re
import textwrap

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

from relaxc_runtime import Context

from . import locations

#: Runtime operations that make a relaxed decision: comparisons, membership and choices.
_DECISIONS = ("lt", "le", "gt", "ge", "eq", "ne", "in_", "not_in", "min", "max", "argmin",
              "argmax", "in_span")
_DEFAULTS = Context().options()


def options_text(context: Context) -> str:
    """``beta=0.125, mode='relaxed'`` and every option that differs from its default."""
    options = context.options()
    shown = {name: value for name, value in options.items()
             if name in ("beta", "mode") or value != _DEFAULTS.get(name)}
    return ", ".join(f"{name}={value!r}" for name, value in shown.items())


def decision_sites(text: str, rx_name: str) -> int:
    """How many places in generated ``text`` make a relaxed decision (comparisons, ``in``,
    ``min``/``max``/``argmin``/``argmax``); each may decide many times when it runs in a loop."""
    pattern = rf"\b{re.escape(rx_name)}\.(?:{'|'.join(_DECISIONS)})\("
    return len(re.findall(pattern, text))


def code_html(code: str) -> str:
    """``code`` as highlighted HTML with inline styles (no stylesheet needed)."""
    return highlight(code, PythonLexer(), HtmlFormatter(noclasses=True, nobackground=True))


class GeneratedSource(str):
    """Generated code: prints and compares as text, displays highlighted in notebooks."""

    def _repr_html_(self) -> str:
        return code_html(self)

    def _repr_markdown_(self) -> str:
        return f"```python\n{self}\n```"

    def _repr_pretty_(self, printer, cycle) -> None:   # terminal IPython: the code, not a repr
        printer.text(str(self))


def _summary(function) -> tuple[str, str, int]:
    """(where it was defined, its options, its decision sites) for a relaxed function."""
    code = function.python.__code__
    where = locations.describe(code.co_filename, code.co_firstlineno)
    compiled = function._compiled
    return where, options_text(function.context), decision_sites(compiled.text, compiled.rx_name)


def _user_source(function) -> str:
    try:
        return textwrap.dedent(inspect.getsource(function.python))
    except (OSError, TypeError):
        return "# (source unavailable)"


def function_html(function) -> str:
    """The user's source beside the generated code, with a summary line above."""
    from .api import to_source   # the api module displays through this one
    where, options, sites = _summary(function)
    cell = ("vertical-align: top; text-align: left; padding: 0 1em 0 0; "
            "border-right: 1px solid #ddd")
    return (
        f'<div class="relaxc-function"><p><b>relaxed function</b> '
        f"<code>{html.escape(function.python.__qualname__)}</code> · {html.escape(where)} · "
        f"<code>{html.escape(options)}</code> · {sites} decision site{'s' * (sites != 1)}</p>"
        f'<table><tr><th style="text-align: left">your code</th>'
        f'<th style="text-align: left">generated code (<code>relaxc.to_source</code>)</th></tr>'
        f'<tr><td style="{cell}">{code_html(_user_source(function))}</td>'
        f'<td style="vertical-align: top; text-align: left">'
        f"{code_html(to_source(function))}</td></tr></table></div>")


def function_markdown(function) -> str:
    from .api import to_source
    where, options, sites = _summary(function)
    return (f"**relaxed function** `{function.python.__qualname__}` · {where} · `{options}` · "
            f"{sites} decision site{'s' * (sites != 1)}\n\n"
            f"your code:\n\n```python\n{_user_source(function)}```\n\n"
            f"generated code:\n\n```python\n{to_source(function)}\n```")
