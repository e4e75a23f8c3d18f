"""Fresh names for what the compiler introduces, never shadowing a name of the user's."""

from __future__ import annotations

import libcst as cst

from .analysis import nodes_of


class Namer:
    """Hands out ``base``, ``base_1``, ``base_2``… avoiding every identifier in the user's code
    and every global of the user's module (generated code must not shadow what the user reads)."""

    def __init__(self, tree: cst.CSTNode, reserved=()):
        self._taken = set(reserved) | {name.value for name in nodes_of(tree, cst.Name)}
        self._given: dict[str, str] = {}

    def fixed(self, base: str) -> str:
        """The same fresh name every time it is asked for ``base`` (e.g. the context ``rx``)."""
        if base not in self._given:
            candidate, n = base, 0
            while candidate in self._taken:
                n += 1
                candidate = f"{base}_{n}"
            self._taken.add(candidate)
            self._given[base] = candidate
        return self._given[base]

    def given(self, base: str) -> str | None:
        """The name :meth:`fixed` gave for ``base``, or None if it was never asked for."""
        return self._given.get(base)
