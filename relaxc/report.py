"""``relaxc.report``: how far the relaxation is from the truth, for one call (DESIGN §1.5–1.6).

For each output: the relaxed value, the true expectation (exact mode, or sample mode where exact
would enumerate too many paths) and the hard value, averaged over the batch, and the gaps. For each
line that makes relaxed decisions: how decided they were on average (|2p − 1| for a condition, the
largest weight for a softmax choice; 1 is certain, 0 a coin flip). And k, the number of relaxed
decisions in one run, with the paper's heuristic β = 1/√k as a suggestion (never applied).
"""

from __future__ import annotations

import ast
import html
import inspect
import math
import textwrap
from dataclasses import dataclass

import torch

from relaxc_runtime.enumeration import TooManyPathsError, generated_site, user_line

from .api import RelaxedFunction, relax


@dataclass
class OutputGap:
    """Batch means of one output, and the mean absolute elementwise gaps."""

    name: str
    relaxed: float
    reference: float
    hard: float
    gap: float           # mean |relaxed − reference|
    hard_gap: float      # mean |reference − hard|


def _output_gap(name, relaxed, reference, hard) -> OutputGap:
    r, e, h = (torch.as_tensor(v).double() for v in (relaxed, reference, hard))
    return OutputGap(name, float(r.mean()), float(e.mean()), float(h.mean()),
                     float((r - e).abs().mean()), float((e - h).abs().mean()))


@dataclass
class DecisionSite:
    line: int | None
    text: str
    decisions: int
    decidedness: float


@dataclass(repr=False)
class Report:
    function: str
    beta: float
    reference: str            # "exact" or "sample (N draws)"
    outputs: list
    sites: list
    k: float                  # relaxed decisions per instance in one run

    @property
    def suggested_beta(self) -> float | None:
        return 1 / math.sqrt(self.k) if self.k else None

    def __str__(self) -> str:
        lines = [f"relaxc report for {self.function} at beta={self.beta:g} "
                 f"(reference: {self.reference}; batch means, gaps are mean absolute "
                 f"differences)",
                 f"  {'output':<14} {'relaxed':>10} {'reference':>10} {'hard':>10} "
                 f"{'|rel-ref|':>10} {'|ref-hard|':>10}"]
        for o in self.outputs:
            lines.append(f"  {o.name:<14} {o.relaxed:>10.4g} {o.reference:>10.4g} "
                         f"{o.hard:>10.4g} {o.gap:>10.3g} {o.hard_gap:>10.3g}")
        lines.append(f"  {'line':<6} {'decisions':>9} {'decided':>8}  source")
        for s in self.sites:
            where = f"L{s.line}" if s.line else "?"
            lines.append(f"  {where:<6} {s.decisions:>9} {s.decidedness:>8.3f}  {s.text}")
        suggestion = (f"beta = 1/sqrt(k) = {self.suggested_beta:.3g} (a suggestion; not applied)"
                      if self.k else "no relaxed decisions")
        lines.append(f"  k = {self.k:g} relaxed decisions per run; {suggestion}")
        return "\n".join(lines)

    __repr__ = __str__   # a terminal (and terminal IPython) shows the table

    def plot(self):
        """A figure of this report: each output's relaxed, reference and hard value (batch
        means), and how decided each line's relaxed decisions were. Needs matplotlib."""
        from .plotting import report_figure
        return report_figure(self)

    def _repr_html_(self) -> str:
        number = 'style="text-align: right; padding: 2px 10px"'
        text = 'style="text-align: left; padding: 2px 10px"'

        def table(headers, rows, numeric):
            head = "".join(f"<th {number if n else text}>{h}</th>"
                           for h, n in zip(headers, numeric))
            body = "".join("<tr>" + "".join(f"<td {number if n else text}>{v}</td>"
                                            for v, n in zip(row, numeric)) + "</tr>"
                           for row in rows)
            return (f'<table style="border-collapse: collapse; margin: 4px 0">'
                    f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")

        outputs = table(
            ["output", "relaxed", html.escape(self.reference), "hard", "|relaxed − reference|",
             "|reference − hard|"],
            [[f"<code>{html.escape(o.name)}</code>", f"{o.relaxed:.4g}", f"{o.reference:.4g}",
              f"{o.hard:.4g}", f"{o.gap:.3g}", f"{o.hard_gap:.3g}"] for o in self.outputs],
            [False, True, True, True, True, True])
        sites = table(
            ["line", "decisions", "decided", "source"],
            [[f"L{s.line}" if s.line else "?", s.decisions, f"{s.decidedness:.3f}",
              f"<code>{html.escape(s.text)}</code>"] for s in self.sites],
            [False, True, True, False])
        suggestion = (f"suggested β = 1/√k = {self.suggested_beta:.3g} (not applied)" if self.k
                      else "no relaxed decisions")
        return (f'<div class="relaxc-report"><p><b>relaxc report</b> for '
                f"<code>{html.escape(self.function)}</code> at β = {self.beta:g}: batch means; "
                f"gaps are mean absolute differences</p>{outputs}"
                f"<p>decided: |2p − 1| of a condition, the largest weight of a choice (1 "
                f"certain, 0 a coin flip)</p>{sites}<p>k = {self.k:g} relaxed decisions per "
                f"run; {suggestion}</p></div>")


def output_names(python_function, count: int) -> list[str]:
    """Names of ``count`` outputs after the function's ``return`` statements: ``return xs,
    swaps`` names them ``xs`` and ``swaps``; a position where the returns disagree (``return lo``
    here, ``return x`` there) or that no return shows is ``output[i]`` (``output`` alone)."""
    generic = ["output"] if count == 1 else [f"output[{i}]" for i in range(count)]
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(python_function)))
    except (OSError, TypeError, SyntaxError):
        return generic
    shown = []
    for node in _own_returns(tree.body[0]):
        values = (node.value.elts if isinstance(node.value, ast.Tuple) and count > 1
                  else [node.value])
        if node.value is not None and len(values) == count:
            shown.append([ast.unparse(v) for v in values])
    names = []
    for i in range(count):
        texts = {returned[i] for returned in shown}
        names.append(texts.pop() if len(texts) == 1 else generic[i])
    return names


def _own_returns(function: ast.AST):
    """The ``return`` statements of ``function``, not of functions defined inside it."""
    for node in ast.iter_child_nodes(function):
        if isinstance(node, ast.Return):
            yield node
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda,
                                   ast.ClassDef)):
            yield from _own_returns(node)


def named_leaves(value, python_function):
    """``(name, leaf)`` for the numbers and tensors of a function's result, named after its
    ``return`` statement (elements of a returned list as ``name[i]``)."""
    outputs = list(value) if isinstance(value, tuple) else [value]
    for name, output in zip(output_names(python_function, len(outputs)), outputs):
        yield from _leaves(output, name)


def _leaves(value, name):
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _leaves(v, f"{name}[{i}]")
    elif isinstance(value, (torch.Tensor, int, float, bool)):
        yield name, value


def reference_run(relaxed: RelaxedFunction, args, reference: str | None = None
                  ) -> tuple[object, str]:
    """``(value, name)`` of the true expectation at the function's β: ``reference="exact"``
    (every path enumerated), ``"sample"`` (at least 1,000 draws), or by default exact where it
    would enumerate at most ``max_paths`` paths, else sampled."""
    if reference not in (None, "exact", "sample"):
        raise ValueError(f"reference is 'exact' or 'sample', got {reference!r}")
    try:
        if reference != "sample":
            return relaxed.options(mode="exact")(*args), "exact"
    except TooManyPathsError:
        if reference == "exact":
            raise
    sampled = relaxed.options(mode="sample", samples=max(relaxed.context.samples, 1000))
    return sampled(*args), f"sample ({sampled.context.samples} draws)"


def report(function, *args, reference: str | None = None, **options) -> Report:
    """Run ``function`` relaxed, exact (or sampled) and hard on ``args``, and compare.
    ``reference``: how the true expectation is computed (see :func:`reference_run`);
    ``options``: the function's options for these runs."""
    relaxed = function if isinstance(function, RelaxedFunction) else relax(function)
    relaxed = relaxed.options(**options) if options else relaxed
    decisions: dict = {}
    batch = next((a.shape[0] for a in args if isinstance(a, torch.Tensor) and a.dim() > 0), 1)

    def record(p, kind):
        site = generated_site()
        located = user_line(*site) if site else None
        measure = (2 * p - 1).abs() if kind == "condition" else p.max(-1).values
        entry = decisions.setdefault(located, [0, 0.0])
        entry[0] += measure.numel()
        entry[1] += float(measure.double().sum())

    context = relaxed.context.replace(mode="relaxed")
    context.recorder = record
    relaxed_result = relaxed.__relaxc_call__(context, *args)
    expectation, reference_name = reference_run(relaxed, args, reference)
    hard = relaxed.options(mode="hard")(*args)
    python = relaxed.python
    outputs = [_output_gap(name, r, e, h) for (name, r), (_, e), (_, h) in zip(
        named_leaves(relaxed_result, python), named_leaves(expectation, python),
        named_leaves(hard, python))]
    sites = [DecisionSite(line[0] if line else None, line[1] if line else "",
                          count, total / count)
             for line, (count, total) in sorted(decisions.items(),
                                                key=lambda item: (item[0] or (0, ""))[0])]
    k = sum(count for count, _ in decisions.values()) / batch
    return Report(relaxed.python.__qualname__, relaxed.context.beta, reference_name, outputs,
                  sites, k)
