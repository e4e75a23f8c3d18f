"""``relaxc.plot``: how the relaxation behaves — relaxed vs true expectation vs hard output,
against β or against one input; and the figure of a ``Report``.

The question a user asks first is whether the relaxed output follows the true expectation
(``mode="exact"``, or sampled where exact would enumerate too many paths) and how it approaches the
discrete program as β → 0. Every output of the function (named after its ``return`` statement)
gets a panel; each shows the first instance of the batch, up to six elements of it. matplotlib is
imported only here (``pip install relaxc[experiments]`` or any matplotlib).
"""

from __future__ import annotations

import copy

import torch

from .api import RelaxedFunction, relax
from .report import named_leaves, reference_run

_ELEMENTS = 6   # elements of one output drawn per panel
_STYLES = {"relaxed": "-", "reference": "--", "hard": ":"}


def plot(function, *args, vary=None, betas=None, **options):
    """Draw ``function``'s outputs on ``args`` (a batch, as for calling it): relaxed, the true
    expectation and hard. Returns the matplotlib ``Figure``.

    - Against β (``vary=None``): ``betas`` (default: 17 values from 1e-3 to 10, log scale).
    - Against one input: ``vary=(argument, values)`` varies a per-instance number argument,
      ``vary=(argument, element, values)`` one element of a sequence argument (a ``(B, n)`` tensor
      or a list of ``(B,)`` tensors); ``argument`` is a parameter name or position. The first
      instance is repeated once per value; one relaxed curve (and expectation) per β in ``betas``
      (default: the function's β).

    ``options`` are the function's options for these runs (``f.options(...)``).
    """
    import matplotlib.pyplot as plt

    relaxed = function if isinstance(function, RelaxedFunction) else relax(function)
    relaxed = relaxed.options(**options) if options else relaxed
    if vary is None:
        betas = list(betas) if betas is not None else [10 ** (k / 4) for k in range(-12, 5)]
        x, runs = betas, [_runs(relaxed, args, betas)]
        x_label, labels = "β (temperature)", [None]
    else:
        position, element, values = _parse_vary(relaxed, vary)
        values = torch.as_tensor(values, dtype=torch.get_default_dtype())
        varied = _varied_batch(args, position, element, values)
        betas = list(betas) if betas is not None else [relaxed.context.beta]
        x = values.tolist()
        runs = [_runs(relaxed.options(beta=beta), varied, None) for beta in betas]
        name = relaxed.python.__code__.co_varnames[position]
        x_label = name if element is None else f"{name}[{element}]"
        labels = [f"β={beta:g}" if len(betas) > 1 else None for beta in betas]

    panels = runs[0]["hard"]
    figure, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.6), squeeze=False)
    for axis, output in zip(axes[0], panels):
        for number, (run, label) in enumerate(zip(runs, labels)):
            _draw(axis, x, run, output, label, number if len(runs) > 1 else None)
        axis.set_title(output)
        axis.set_xlabel(x_label)
        if vary is None:
            axis.set_xscale("log")
    axes[0][0].legend(fontsize="small")
    figure.suptitle(f"{relaxed.python.__qualname__}: relaxed ({_STYLES['relaxed']}), "
                    f"{runs[0]['reference_name']} ({_STYLES['reference']}), hard "
                    f"({_STYLES['hard']})", fontsize="medium")
    figure.tight_layout()
    return figure


def _runs(relaxed: RelaxedFunction, args, betas) -> dict:
    """Per output name, the rows of elements of the relaxed, reference and hard values: one row
    per β in ``betas``, or (``betas=None``) one per instance of the batch."""
    python = relaxed.python
    if betas is None:
        reference, name = _reference(relaxed, args)
        return {"relaxed": _elements(python, _run(relaxed, "relaxed", args), True),
                "reference": _elements(python, reference, True),
                "hard": _elements(python, _run(relaxed, "hard", args), True),
                "reference_name": name}
    runs = {"relaxed": {}, "reference": {}, "hard": {}}
    hard = _elements(python, _run(relaxed, "hard", args))
    names = set()
    for beta in betas:
        at_beta = relaxed.options(beta=beta)
        reference, name = _reference(at_beta, args)
        for kind, value in (("relaxed", _elements(python, _run(at_beta, "relaxed", args))),
                            ("reference", _elements(python, reference)), ("hard", hard)):
            for output, row in value.items():
                runs[kind].setdefault(output, []).append(row)
        names.add(name)
    # Exact mode may give up at some β (too many paths) and be sampled there.
    runs["reference_name"] = " or ".join(sorted(names))
    return runs


def _run(relaxed: RelaxedFunction, mode: str, args):
    with torch.no_grad():
        return relaxed.options(mode=mode)(*copy.deepcopy(args))   # a call may change its lists


def _reference(relaxed: RelaxedFunction, args):
    with torch.no_grad():
        return reference_run(relaxed, copy.deepcopy(args))


def _elements(python, value, per_instance: bool = False) -> dict:
    """Output name -> the first instance's elements (up to six), or with ``per_instance`` a list
    of such rows, one per instance of the batch."""
    rows = {}
    for name, leaf in named_leaves(value, python):
        tensor = torch.as_tensor(leaf).detach().double()
        if tensor.dim() == 0:
            tensor = tensor.reshape(1, 1)
        flat = tensor.reshape(tensor.shape[0], -1)[:, :_ELEMENTS]
        rows[name] = flat.tolist() if per_instance else flat[0].tolist()
    return rows


def _draw(axis, x, run, output, label, color: int | None) -> None:
    """The three curves of one run; elements take colours C0, C1, ... unless ``color`` is given
    (one colour per β)."""
    for kind in ("relaxed", "reference", "hard"):
        name = run["reference_name"] if kind == "reference" else kind
        for index, column in enumerate(zip(*run[kind][output])):
            suffix = f" {label}" if label and kind != "hard" else ""
            shown = index == 0 and (kind != "hard" or not color)   # one "hard" entry
            axis.plot(x, column, _STYLES[kind], color=f"C{index if color is None else color}",
                      label=f"{name}{suffix}" if shown else None)


def _parse_vary(relaxed: RelaxedFunction, vary) -> tuple[int, int | None, object]:
    if not isinstance(vary, tuple) or len(vary) not in (2, 3):
        raise TypeError("vary is (argument, values) or (argument, element, values)")
    argument, element, values = vary if len(vary) == 3 else (vary[0], None, vary[1])
    code = relaxed.python.__code__
    parameters = code.co_varnames[:code.co_argcount]
    if isinstance(argument, str):
        if argument not in parameters:
            raise ValueError(f"vary names {argument!r}, which is not a parameter of "
                             f"{relaxed.python.__qualname__} ({', '.join(parameters)})")
        argument = parameters.index(argument)
    return argument, element, values


def _varied_batch(args, position: int, element, values: torch.Tensor) -> tuple:
    """The first instance of ``args`` repeated once per value, with the varied argument (or its
    element) set to the values."""
    count = len(values)

    def first(value):
        if isinstance(value, torch.Tensor) and value.dim() > 0:
            return value[:1].expand(count, *value.shape[1:]).clone()
        if isinstance(value, list):
            return [first(v) for v in value]
        return value

    batch = [first(a) for a in args]
    if position >= len(batch):
        raise ValueError(f"vary's argument {position} is not among the {len(batch)} arguments")
    target = batch[position]
    if element is None:
        batch[position] = values
    elif isinstance(target, torch.Tensor):
        target[:, element] = values.to(target.dtype)
    elif isinstance(target, list):
        target[element] = values
    else:
        raise TypeError(f"vary's element {element} needs a sequence argument, got "
                        f"{type(target).__name__}")
    return tuple(batch)


def report_figure(report):
    """Two panels: each output's relaxed / reference / hard batch means, and each line's
    decidedness (1 certain, 0 a coin flip)."""
    import matplotlib.pyplot as plt

    figure, (outputs, sites) = plt.subplots(1, 2, figsize=(10, 3.6))
    names = [o.name for o in report.outputs]
    width = 0.27
    for offset, (kind, values) in enumerate((
            ("relaxed", [o.relaxed for o in report.outputs]),
            (report.reference, [o.reference for o in report.outputs]),
            ("hard", [o.hard for o in report.outputs]))):
        outputs.bar([i + (offset - 1) * width for i in range(len(names))], values, width,
                    label=kind)
    outputs.set_xticks(range(len(names)), names)
    outputs.set_title(f"outputs (batch means), β={report.beta:g}")
    outputs.legend(fontsize="small")
    lines = [f"L{s.line}" if s.line else "?" for s in report.sites]
    sites.barh(range(len(lines)), [s.decidedness for s in report.sites])
    sites.set_yticks(range(len(lines)), lines)
    sites.invert_yaxis()
    sites.set_xlim(0, 1)
    sites.set_title(f"decidedness per line (k = {report.k:g})")
    figure.suptitle(report.function, fontsize="medium")
    figure.tight_layout()
    return figure
