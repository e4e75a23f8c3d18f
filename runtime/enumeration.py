"""Exact mode: every combination of relaxed decisions, enumerated with its weight (DESIGN §1.5).

The compiled function runs once per path. A :class:`DecisionScript` replays the choices of the
path being run and opens new decisions as they come (an odometer over each decision's options);
each run's result is weighted, per instance, by the product of the probabilities of its choices:

    exact(f) = Σ_paths Π_{decisions on the path} P(choice) · f(path)

Options with probability 0 for every instance are skipped, which changes nothing. As in a relaxed
merge, a path that takes an option of probability below ``eps`` for an instance is negligible for
it, and where its value is not finite there (``sqrt`` of a negative number on a path the data
rules out, a ``while`` body run past the instance's exit) it adds nothing, not ``0·NaN``. Past
``ctx.max_paths`` paths the enumeration stops with an error that names the user line whose
decisions multiply the paths most, and suggests sample mode.

The bound is checked as decisions are opened, not once per finished path: every option not yet
tried at a decision on the current path leads to at least one path of its own, so

    paths ≥ finished paths + 1 (the one running) + Σ_{open decisions} (options not yet tried)

and the enumeration stops, in the middle of a run, as soon as that lower bound passes
``max_paths``. A relaxed ``while`` with a data-dependent exit (gnome sort) makes a tree whose
paths grow longer one after another (a "comb": each run adds one decision); run after run, each
longer than the last, that would cost ``max_paths`` runs of up to ``max_iter`` iterations before
the bound is known. So new decisions open their options in the natural order (``True`` first)
on even runs and in the reverse order on odd ones: of two runs, one keeps taking the option that
stays in such a loop, and its decisions alone pass the bound. The order in which paths are
visited changes nothing else: every path is run once, with the same weight.
"""

from __future__ import annotations

import linecache
import math
import re
import sys

import torch

_PROVENANCE = re.compile(r"^\s*# L(\d+): (.*)$|.*  # L(\d+)$")


class TooManyPathsError(RuntimeError):
    """Exact mode would enumerate more paths than ``max_paths``."""


class DecisionScript:
    """The choices of the path being run, and the options still to try at each decision."""

    def __init__(self, max_paths: int, eps: float = 0.0):
        self.max_paths = max_paths
        self.eps = eps
        self.choices: list[int] = []     # the option index taken at each decision
        self.options: list[list] = []    # the options (True/False, or class indices) of each
        self.sites: list[tuple] = []     # where each decision was made in generated code
        self.position = 0
        self.weight = None
        self.negligible = None           # per instance: the path took an option below eps
        self.finished = 0                # paths run to the end
        self.untried = 0                 # options not tried yet at the decisions in `choices`

    def start(self):
        self.position, self.weight, self.negligible = 0, None, None

    def finish(self):
        """The path being run has ended."""
        self.finished += 1

    def lower_bound(self) -> int:
        """A number of paths the enumeration surely has: the finished ones, the one running, and
        one for each option not tried yet at a decision of the running path."""
        return self.finished + 1 + self.untried

    def decide(self, probabilities: list[torch.Tensor], labels: list):
        """Take the scripted option at this decision (opening it if new); returns its label."""
        if self.position == len(self.choices):
            alive = [labels[i] for i, p in enumerate(probabilities) if bool((p > 0).any())]
            if self.finished % 2:   # odd runs try the last option first (module docstring)
                alive.reverse()
            self.choices.append(0)
            self.options.append(alive or [labels[0]])
            self.sites.append(generated_site())
            self.untried += len(self.options[-1]) - 1
            if self.lower_bound() > self.max_paths:
                self.refuse(f"more than {self.max_paths}")   # known now: stop at once
        chosen = self.options[self.position][self.choices[self.position]]
        p = probabilities[labels.index(chosen)]   # the weight stays differentiable
        if self.negligible is not None:
            # Past a negligible choice an instance's state is a placeholder, and so may be a
            # probability made from it (NaN): such a path has no weight left there.
            p = torch.where(self.negligible & p.isnan(), 0.0, p)
        self.weight = p if self.weight is None else self.weight * p
        below = p.detach() < self.eps
        self.negligible = below if self.negligible is None else self.negligible | below
        self.position += 1
        return chosen

    def paths_estimate(self) -> float:
        """log2 of the number of paths if every path had the decisions of the last one."""
        return sum(math.log2(len(o)) for o in self.options)

    def advance(self) -> bool:
        """Move to the next path; False when every path has been run."""
        while self.choices:
            if self.choices[-1] + 1 < len(self.options[-1]):
                self.choices[-1] += 1
                self.untried -= 1
                return True
            self.choices.pop()
            self.options.pop()
            self.sites.pop()
        return False

    def refuse(self, paths: str):
        """The error for too many paths, naming the line that multiplies them most."""
        per_line: dict = {}
        for site, options in zip(self.sites, self.options):
            line = user_line(*site) if site else None
            per_line[line] = per_line.get(line, 0.0) + math.log2(len(options))
        worst = max(per_line, key=per_line.get)
        where = f"line {worst[0]} ({worst[1]})" if worst else "an unknown line"
        raise TooManyPathsError(
            f"exact mode would enumerate {paths} paths, more than max_paths={self.max_paths}; "
            f"the decisions at {where} multiply them most (2^{per_line[worst]:.0f} on one path). "
            f"Use mode='sample' (an unbiased estimate of the same expectation), or raise "
            f"max_paths")


def or_negligible_on_path(mask, ctx):
    """``mask`` (bool, batch first), and in exact mode also where the path being enumerated is
    negligible for the instance: the guards of a branch's sides and of a loop's iterations cut
    the gradient there too (``paths.guard``)."""
    script = ctx.script
    if script is None or script.negligible is None or script.negligible.dim() == 0:
        return mask
    negligible = script.negligible
    if mask.dim() == 0 or mask.shape[0] != negligible.shape[0]:
        return mask
    return mask | negligible.reshape(negligible.shape + (1,) * (mask.dim() - negligible.dim()))


def generated_site():
    """(pseudo-filename, line) of the generated code that made the current decision."""
    frame = sys._getframe(2)
    while frame is not None and not frame.f_code.co_filename.startswith("<relaxc "):
        frame = frame.f_back
    return (frame.f_code.co_filename, frame.f_lineno) if frame is not None else None


def user_line(filename: str, line: int):
    """The user's (line, text) for a generated line, from its ``# L<n>`` tag or the nearest
    ``# L<n>: text`` comment above it."""
    lines = linecache.getlines(filename)
    wanted = None
    if 0 < line <= len(lines):
        tag = _PROVENANCE.match(lines[line - 1].rstrip("\n"))
        wanted = int(tag.group(3)) if tag and tag.group(3) else None
    for number in range(min(line, len(lines)), 0, -1):
        match = _PROVENANCE.match(lines[number - 1].rstrip("\n"))
        if match and match.group(1) and (wanted is None or int(match.group(1)) == wanted):
            return int(match.group(1)), match.group(2).strip()
    return (wanted, "") if wanted else None
