"""The ``relaxc`` command line.

    relaxc show package.module:function [--beta B] [--mode M]     the generated code
    relaxc check package.module:function [--args module:factory] [--batch 8] [--length N] [--beta B]
                                                                  relaxc.report on some inputs

``check`` calls ``factory(batch)`` for the arguments when given; otherwise every parameter gets
random values: a ``(batch,)`` tensor, or a ``(batch, N)`` sequence with ``--length N``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

import torch

from .api import RelaxedFunction, relax, to_source
from .report import report


def _load(target: str):
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise SystemExit(f"relaxc: expected package.module:function, got {target!r}")
    sys.path.insert(0, os.getcwd())   # as `python -m` does: modules of the current folder
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise SystemExit(f"relaxc: cannot import {module_name!r}: {error}") from None
    function = module
    for part in attribute.split("."):
        if not hasattr(function, part):
            raise SystemExit(f"relaxc: {module_name!r} has no attribute {attribute!r}")
        function = getattr(function, part)
    return function


def _check_arguments(function, args) -> tuple:
    if args.args:
        return tuple(_load(args.args)(args.batch))
    generator = torch.Generator().manual_seed(args.seed)
    python = function.python if isinstance(function, RelaxedFunction) else function
    shape = (args.batch,) if args.length is None else (args.batch, args.length)
    count = python.__code__.co_argcount
    return tuple(torch.randn(*shape, generator=generator) for _ in range(count))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="relaxc", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser("show", help="print the generated code of a function")
    show.add_argument("target", help="package.module:function")
    show.add_argument("--beta", type=float, help="temperature written into the code's default")
    show.add_argument("--mode", help="evaluation mode written into the code's default")
    check = commands.add_parser("check", help="compare relaxed, exact (or sampled) and hard")
    check.add_argument("target", help="package.module:function")
    check.add_argument("--args", help="module:factory; factory(batch) returns the arguments")
    check.add_argument("--batch", type=int, default=8)
    check.add_argument("--length", type=int, help="give every parameter a (batch, N) sequence")
    check.add_argument("--beta", type=float)
    check.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    function = _load(args.target)
    if args.command == "check":
        print(report(function, *_check_arguments(function, args),
                     **({"beta": args.beta} if args.beta is not None else {})))
        return 0
    options = {k: v for k, v in (("beta", args.beta), ("mode", args.mode)) if v is not None}
    relaxed = (function.options(**options) if isinstance(function, RelaxedFunction)
               else relax(function, **options))
    sys.stdout.write(to_source(relaxed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
