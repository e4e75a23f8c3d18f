"""Lowering: one module per construct, each with a before/after in its docstring.

- ``conditions``: comparisons, ``and``/``or``/``not``
- ``branches``: ``if``/``elif``/``else`` and conditional expressions
- ``indexing``: subscripts, ``len``, what a ``for`` and the builtins that iterate see
- ``sequences``: which tensor parameters are held as their elements (``rx.columns``)
- ``assignments``: assignments to subscripts, augmented assignments
- ``loops``: ``for`` and ``while``
- ``extrema``: the builtins ``min`` and ``max``
- ``returns``: ``return``

``transformer.Lowering`` walks the function once and dispatches to them.
"""
