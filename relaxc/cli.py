"""The ``relaxc`` command line: ``relaxc show package.module:function [--beta B] [--mode M]``."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from .api import RelaxedFunction, relax, to_source


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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="relaxc", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser("show", help="print the generated code of a function")
    show.add_argument("target", help="package.module:function")
    show.add_argument("--beta", type=float, help="temperature written into the code's default")
    show.add_argument("--mode", help="evaluation mode written into the code's default")
    args = parser.parse_args(argv)

    function = _load(args.target)
    options = {k: v for k, v in (("beta", args.beta), ("mode", args.mode)) if v is not None}
    relaxed = (function.options(**options) if isinstance(function, RelaxedFunction)
               else relax(function, **options))
    sys.stdout.write(to_source(relaxed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
