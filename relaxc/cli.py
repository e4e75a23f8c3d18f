"""The ``relaxc`` command line: ``relaxc show`` prints a function's generated code as a module
that runs on its own; ``relaxc check`` prints ``relaxc.report`` on some inputs (see ``main``'s
help). User errors (a bad target, code relaxc cannot compile) print relaxc's message, with the
caret under the user's code, and exit with status 2; ``--traceback`` shows the traceback too.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
import traceback

import torch

from relaxc_runtime import MODES

from .api import RelaxedFunction, relax, to_source
from .errors import RelaxcSyntaxError, SourceUnavailableError
from .report import report
from .standalone import StandaloneError
from .version import __version__

_DESCRIPTION = """\
relaxc compiles plain Python algorithms into differentiable PyTorch code.

TARGET is path/to/file.py:function or package.module:function (a method: Class.method).

examples:
  relaxc show examples/bubble_sort.py:bubble_sort --beta 0.25
  relaxc check examples/bubble_sort.py:bubble_sort --length 5 --mode sample
"""

#: Status of a user error (a bad target or code relaxc cannot compile), as argparse's own.
USER_ERROR = 2


class TargetError(Exception):
    """A target that names no function."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="relaxc", description=_DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"relaxc {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    show = commands.add_parser(
        "show", help="print the generated code of a function, as a module that runs on its own",
        description="Print the generated code of a function as a module that runs with torch "
                    "and relaxc_runtime (and the function's own module), without relaxc.")
    check = commands.add_parser(
        "check", help="compare the relaxed, true (exact or sampled) and hard outputs",
        description="Run relaxc.report: the relaxed output beside the true expectation and the "
                    "hard output, and how decided each line's relaxed decisions were.")
    for command in (show, check):
        command.add_argument("target", metavar="TARGET",
                             help="path/to/file.py:function or package.module:function")
        command.add_argument("--beta", type=float,
                             help="temperature (default: the function's, else 0.125)")
        command.add_argument("--traceback", action="store_true",
                             help="on an error, show the Python traceback too")
    show.add_argument("--mode", choices=MODES,
                      help="evaluation mode written as the generated code's default")
    check.add_argument("--mode", choices=("exact", "sample"),
                       help="how the true expectation is computed (default: exact, or sample "
                            "where exact would enumerate too many paths)")
    check.add_argument("--samples", type=int, default=1000,
                       help="draws for --mode sample (default: 1000)")
    check.add_argument("--args", metavar="MODULE:FACTORY",
                       help="factory(batch) returns the arguments (default: random tensors)")
    check.add_argument("--batch", type=int, default=8, help="instances per call (default: 8)")
    check.add_argument("--length", type=int, metavar="N",
                       help="give every parameter a (batch, N) sequence instead of (batch,)")
    check.add_argument("--seed", type=int, default=0,
                       help="seed of the random arguments and of the draws (default: 0)")
    return parser


def load(target: str):
    """The object ``target`` names: ``path/to/file.py:name`` or ``package.module:name``."""
    where, _, attribute = target.rpartition(":")
    if not where or not attribute:
        raise TargetError(f"expected path/to/file.py:function or package.module:function, got "
                          f"{target!r}")
    module = _load_file(where) if where.endswith(".py") else _import(where)
    found = module
    for part in attribute.split("."):
        if not hasattr(found, part):
            raise TargetError(f"{where!r} has no attribute {attribute!r}")
        found = getattr(found, part)
    return found


def _load_file(path: str):
    """The module of a file, imported under its own name with its folder on the path (as
    ``python path/to/file.py`` would see its neighbours), so the dump can import from it."""
    if not os.path.isfile(path):
        raise TargetError(f"no such file: {path!r}")
    folder, name = os.path.split(os.path.abspath(path))
    sys.path.insert(0, folder)
    return _import(name[:-len(".py")])


def _import(name: str):
    sys.path.insert(0, os.getcwd())   # as `python -m` does: modules of the current folder
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise TargetError(f"cannot import {name!r}: {error}") from None


def _check_arguments(function, args) -> tuple:
    if args.args:
        return tuple(load(args.args)(args.batch))
    generator = torch.Generator().manual_seed(args.seed)
    python = function.python if isinstance(function, RelaxedFunction) else function
    shape = (args.batch,) if args.length is None else (args.batch, args.length)
    count = python.__code__.co_argcount
    return tuple(torch.randn(*shape, generator=generator) for _ in range(count))


def _run(args) -> None:
    function = load(args.target)
    if isinstance(function, (staticmethod, classmethod)):
        function = function.__func__
    beta = {"beta": args.beta} if args.beta is not None else {}
    if args.command == "check":
        options = {**beta, "seed": args.seed, "samples": args.samples}
        print(report(function, *_check_arguments(function, args), reference=args.mode,
                     **options))
        return
    options = {**beta, **({"mode": args.mode} if args.mode else {})}
    relaxed = (function.options(**options) if isinstance(function, RelaxedFunction)
               else relax(function, **options))
    sys.stdout.write(to_source(relaxed, standalone=True))


def main(argv=None) -> int:
    args = _parser().parse_args(argv)
    try:
        _run(args)
    except BrokenPipeError:   # `relaxc show ... | head`: the reader has what it wanted
        sys.stdout = open(os.devnull, "w")   # (Python flushes stdout again at exit)
        return 0
    except (TargetError, RelaxcSyntaxError, SourceUnavailableError, StandaloneError) as error:
        if args.traceback:
            raise
        message = ("".join(traceback.format_exception_only(error)).rstrip()
                   if isinstance(error, SyntaxError) else str(error))
        print(f"relaxc: {message}", file=sys.stderr)
        return USER_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
