"""Branches: ``if``/``elif``/``else`` and conditional expressions (DESIGN §1.3).

The compiler turns each branch into a function of the variables it reads, returning the variables
it assigns that are read afterwards, and calls ``a, b = rx.branch(rx.gt(a, b), if_true, if_false,
(a, b))`` (the before/after is in ``relaxc/lowering/branches.py``).

:func:`branch` runs the taken branch when the condition is static (Python's ``if``; the other branch
never runs) and both branches when it is relaxed, each on its own copy of the inputs, then merges
every output and every list among the inputs: ``v = p·v_true + (1 − p)·v_false``.
"""

from __future__ import annotations

import math

import torch

from . import host
from .assignments import shift_of
from .conditions import truth
from .enumeration import or_negligible_on_path
from .events import Event, expectation, is_boolean
from .exits import EXITED, Fork, branch_per_side, has_exit, merge_forked
from .paths import guard, inactive_where, surely
from .returns import going_on_merger_of, merge_going_on
from .values import Value, align, as_tensor, is_relaxed, syncs_freely, to_rank, values_in


def branch(condition, if_true, if_false, inputs, ctx, returns=None):
    """Run ``if_true(*inputs)`` or ``if_false(*inputs)``, or both and merge their results.

    Static condition (Python's ``if``)::

        return if_true(*inputs) if condition else if_false(*inputs)

    Relaxed condition with probability ``p``: both run on separate copies of ``inputs``; outputs
    and the lists among the inputs are merged with :func:`merge`. Hard mode: ``p`` is a per-instance
    ``torch.bool`` tensor and the merge selects with ``torch.where``, which is the line above per
    instance.

    ``returns``: the positions of the early-return flag and value among the outputs, where other
    variables are outputs too; those merge in the proportion of the paths that have not returned
    (``returns.merge_going_on``).
    """
    if type(condition) is Fork:   # behind an exit inside a `while`: each side on its own
        return branch_per_side(condition, lambda c, values: branch(c, if_true, if_false, values,
                                                                   ctx, returns), inputs, ctx.eps)
    p = truth(condition, ctx)
    if not isinstance(p, torch.Tensor):
        return if_true(*inputs) if p else if_false(*inputs)
    taken = _taken_alone(p, if_true, if_false, ctx)
    if taken is not None:
        lists = {id(v): v for v in values_in(inputs) if isinstance(v, list)}
        before = {key: list(items) for key, items in lists.items()}
        outputs = _per_instance(taken(*inputs), p, ctx)
        for key, items in lists.items():   # what the path wrote into a list, likewise
            items[:] = [_per_instance(v, p, ctx) if v is not old else v
                        for v, old in zip(items, before[key] + [None] * len(items))]
        return outputs
    merger = Merger(p, ctx)
    if (getattr(if_true, "linear", False) and getattr(if_false, "passes_through", False)
            and not any(isinstance(v, (list, dict, tuple)) for v in inputs)):
        # The commonest relaxed `if` (a swap, a counter, a flag): nothing to copy, guard or
        # restore, so the generic way below would only cost time.
        with inactive_where(lambda: merger.negligible_true):
            out_true = if_true(*inputs)
        return _merged(merger, out_true, if_false(*inputs), returns)
    # The masks are made only if something asks (a guard, an index out of range). A guard
    # also cuts where the path being enumerated (exact mode) is negligible for the instance.
    on_true = BranchCopies(inputs, None if getattr(if_true, "linear", False)
                           else lambda: or_negligible_on_path(merger.negligible_true, ctx))
    with inactive_where(lambda: merger.negligible_true):
        out_true = if_true(*on_true.inputs)
    if getattr(if_false, "passes_through", False):
        # It computes nothing and mutates nothing: the originals are its copies.
        on_false, out_false = UNCOPIED, if_false(*inputs)
    else:
        on_false = BranchCopies(inputs, None if getattr(if_false, "linear", False)
                                else lambda: or_negligible_on_path(merger.negligible_false, ctx))
        with inactive_where(lambda: merger.negligible_false):
            out_false = if_false(*on_false.inputs)
    forked = has_exit(out_true) or has_exit(out_false)   # a `break`/`return` inside a `while`
    apart = {}
    if forked:
        # A list the paths give back stays apart too: the path that exited keeps what it wrote,
        # and what the path going on writes next does not reach it (a merge in place would).
        out_true, out_false = (_lists_apart(copies, outputs, apart) for copies, outputs in
                               ((on_true, out_true), (on_false, out_false)))
    for original, copy_true in on_true.containers():
        if id(original) not in apart:
            merger.merge_in_place(original, copy_true, on_false.copy_of(original), on_true,
                                  on_false)
    merger.copies = (on_true, on_false)   # (what each path's lists held: ChosenList's merge)
    out_true, out_false = on_true.restore(out_true), on_false.restore(out_false)
    if forked:
        return merge_forked(merger, out_true, out_false,
                            going_on_merger_of(lambda weight: Merger(weight, ctx), returns))
    return _merged(merger, out_true, out_false, returns)


def _lists_apart(copies, outputs, apart: dict) -> tuple:
    """``outputs`` with each input list that a path gives back as that path left it, a list of
    its own (a path that ran on the originals gives them as they are); their ids into ``apart``."""
    single = type(outputs) is not tuple
    kept = []
    for value in (outputs,) if single else outputs:
        if isinstance(value, list):
            original = copies.restore(value)
            if copies.holds(original):
                apart[id(original)] = original
                value = copies.contents_of(original)
        kept.append(value)
    return kept[0] if single else tuple(kept)


def _merged(merger, out_true, out_false, returns):
    merger.choosing_lists = True   # (the outputs: a name bound to a different list on each path)
    if returns is None:
        return merger.merge(out_true, out_false)
    return merge_going_on(merger, out_true, out_false, returns)


def _per_instance(outputs, p, ctx):
    """The outputs of the one path every instance took, with static numbers made per instance,
    as merging them with the other path's would (so a result's type never depends on the data:
    ``swaps`` is a tensor whether or not some instance swapped)."""
    if type(outputs) is tuple:
        return tuple(_per_instance(v, p, ctx) for v in outputs)
    if type(outputs) not in (bool, int, float):
        return outputs
    if p.dtype == torch.bool:
        dtype = {bool: torch.bool, int: torch.int64, float: torch.float64}[type(outputs)]
        return torch.full(p.shape, outputs, dtype=dtype, device=p.device)
    filled = torch.full(p.shape, float(outputs), dtype=p.dtype, device=p.device)
    return Event(filled) if type(outputs) is bool else filled


def _taken_alone(p, if_true, if_false, ctx):
    """The one branch function to run when every instance takes the same path, else None.

    Only a path that may have side effects (``@rx.has_effects``: ``print``, an ``append``) asks:
    one that no instance takes (hard), or whose probability is 0 everywhere, must not run, so its
    effects happen only where Python's would. Any other path runs and merges as usual (its reads
    out of range are placeholders where it does not matter, ``paths.py``). Relaxed and sampled
    decisions ask only where reading ``p`` back costs nothing (``syncs_freely``).
    """
    true_acts, false_acts = (getattr(f, "has_effects", False) for f in (if_true, if_false))
    if not (true_acts or false_acts) or not (syncs_freely(p) or ctx.hard):
        return None
    exact = p.dtype == torch.bool
    if true_acts and not bool((p if exact else p > 0).any()):
        return if_false
    if false_acts and bool((p if exact else p >= 1).all()):
        return if_true
    return None


def has_effects(function):
    """Mark a branch function that calls something other than relaxc's own operations (``print``,
    ``list.append``, a user function): :func:`branch` does not run it where no instance takes
    its path."""
    function.has_effects = True
    return function


def linear(function):
    """Mark a branch function that only moves data, adds, subtracts and scales by constants (the
    compiler checked its code): it cannot turn finite inputs into NaN or inf, so :func:`branch`
    runs it without :func:`guard`, and its gradient is exact also where it is negligible."""
    function.linear = True
    return function


def passes_through(function):
    """Mark a branch function that only returns some of its inputs (an ``if`` without ``else``):
    :func:`branch` runs it on the original inputs, since there is nothing to copy or guard."""
    function.passes_through = True
    return function


class ChosenList(list):
    """A name bound to a different list on each path of a relaxed ``if`` (``dst = hi if x > t
    else lo``), merged element by element: reads see the expectation. Python writes through
    such a name into the list it chose, which a merged list cannot do (a write would reach
    neither ``hi`` nor ``lo``), so writes are refused (:meth:`refuse_write`); a copy
    (``list(dst)``) is a plain list again."""

    __slots__ = ()

    def refuse_write(self, *args, **kwargs):
        raise TypeError(
            "a write into a list that a relaxed condition chose between two different lists "
            "(`dst = hi if x > t else lo`): Python writes into the chosen list, and relaxed "
            "code, which holds their expectation, would reach neither. Write into each list "
            "under the condition (`if x > t: hi[0] += 1` / `else: lo[0] += 1`); where each "
            "path makes a new list of its own, copy it before writing (`dst = list(dst)`)")

    def refuse_if_written(self, items) -> None:
        """Refuse where ``items`` (what a loop made of this list) differ from it in value: the
        loop wrote into its copy of it (a loop's copies are new tensors even where unchanged)."""
        if len(items) != len(self) or not all(
                new is old or (isinstance(new, torch.Tensor) and isinstance(old, torch.Tensor)
                               and new.shape == old.shape and bool(torch.equal(new, old)))
                for new, old in zip(items, self)):
            self.refuse_write()

    # The user's writes: `dst[k] = v` is `indexing.setitem`'s, which refuses; the methods here.
    # (The runtime's own `[:] =` writes back what a loop or branch holds, and stays allowed.)
    __iadd__ = __imul__ = refuse_write
    append = extend = insert = pop = remove = clear = sort = reverse = refuse_write
    #: What the runtime's walkers (``values.map_structure``) rebuild it as: it never leaves a
    #: relaxed call as itself.
    rebuilt_as = list


class BranchList(list):
    """A branch's private copy of a list: elements are guarded lazily, when the branch reads them."""

    __slots__ = ("copies",)

    def guarded(self, element):
        return self.copies.guard(element)


class BranchCopies:
    """One branch's copies of its inputs, and the way back from copies to the originals.

    Lists and dicts are copied (aliasing kept) so that one branch never sees the other's
    mutations; tensors are values and are only guarded (:func:`guard`).
    """

    def __init__(self, inputs, negligible, every_element=False):
        """``negligible``: the bool mask where this path does not matter, or a function that
        makes it (called only if a tensor that needs a gradient has to be guarded), or None for
        a path that needs no guard (``@rx.linear``). ``every_element``: guard every element of
        columns now (a loop iteration) rather than each when first read (a branch)."""
        self._negligible = negligible
        self.every_element = every_element
        self._copies = {}        # id(original container) -> (original, copy)
        # id(copy) -> (copy, original). Holding the copy keeps its id from being reused by a new
        # value while this branch runs.
        self._originals = {}
        # (guarded tensor, original), found by identity: id() of a tensor would make
        # torch.compile guard on the caller's tensor object and recompile for every new input.
        self._guarded = []
        self.inputs = tuple(self._copy(v) for v in inputs)

    def guard(self, value):
        if self._negligible is None or not (isinstance(value, torch.Tensor)
                                            and value.requires_grad):
            return value
        if callable(self._negligible):
            self._negligible = self._negligible()
        guarded = guard(value, self._negligible)
        if guarded is not value:
            self._guarded.append((guarded, value))
        return guarded

    def _copy(self, value):
        if isinstance(value, (list, dict)):
            if id(value) in self._copies:
                return self._copies[id(value)][1]
            if isinstance(value, list):
                copy = BranchList()
                copy.copies = self
            else:
                copy = {}
            self._copies[id(value)] = (value, copy)
            self._originals[id(copy)] = (copy, value)
            if isinstance(value, list):
                copy.extend(self._copy(v) if isinstance(v, (list, dict, tuple)) else v
                            for v in value)
            else:
                copy.update((k, self._copy(v)) for k, v in value.items())
            return copy
        if isinstance(value, tuple):
            return tuple(self._copy(v) for v in value)
        if isinstance(value, Value) and self._negligible is not None:
            copy = value.on_path(self)
            if copy is not value:
                self._originals[id(copy)] = (copy, value)
            return copy
        return self.guard(value)

    def containers(self):
        """(original, copy) for every list and dict among the inputs."""
        return list(self._copies.values())

    def holds(self, value) -> bool:
        """Whether ``value`` is one of the input lists or dicts (not one the path made)."""
        entry = self._copies.get(id(value))
        return entry is not None and entry[0] is value

    def contents_of(self, original):
        """An input list as this path left it (its copy's items, restored), or ``original``
        where the path had no copy of it."""
        entry = self._copies.get(id(original))
        if entry is None or entry[0] is not original or not isinstance(original, list):
            return original
        return [self.restore(item) for item in entry[1]]

    def copy_of(self, original):
        return self._copies[id(original)][1]

    def restore(self, value):
        """Map copies and guarded tensors in ``value`` back to the originals they stand for."""
        if not self._guarded and not self._originals:
            return value   # nothing was copied or guarded (a linear path over tensors)
        if isinstance(value, torch.Tensor):
            for guarded, original in self._guarded:
                if value is guarded:
                    return original
            return value
        entry = self._originals.get(id(value))
        if entry is not None and entry[0] is value:
            return entry[1]
        if isinstance(value, tuple):
            return tuple(self.restore(v) for v in value)
        if isinstance(value, list):
            restored = [self.restore(v) for v in value]
            return value if all(r is v for r, v in zip(restored, value)) else restored
        return value


class _Uncopied:
    """The copies of a path that ran on the originals: every value is its own copy and original."""

    @staticmethod
    def copy_of(original):
        return original

    @staticmethod
    def contents_of(original):
        return original

    @staticmethod
    def holds(value) -> bool:
        return isinstance(value, list)   # it ran on the inputs: a list it gives is one of them

    @staticmethod
    def restore(value):
        return value


UNCOPIED = _Uncopied()


class Merger:
    """Merges the results of two paths taken with probability ``p`` and ``1 - p``.

    ``p`` is a float probability tensor, or a ``torch.bool`` tensor for an exact choice. A path
    whose probability is below ``ctx.eps`` is negligible (see :func:`guard`).
    """

    def __init__(self, p, ctx):
        self.p = p
        self.ctx = ctx
        self._checks_on_host = syncs_freely(p)   # merges may test finiteness (_expectation)
        self._weights = {}   # (dtype, rank) -> p in that dtype, lined up with values of that rank
        # Made when first needed: a path that computes nothing, or a merge that is finite, never
        # asks for its mask. (Not functools.cached_property: its lock stops torch.compile.)
        self._negligible_true = self._negligible_false = None
        #: Whether two different lists merge into a :class:`ChosenList` (a branch's outputs),
        #: and each path's copies, which hold what its lists were (``branch``).
        self.choosing_lists = False
        self.copies = (UNCOPIED, UNCOPIED)

    @property
    def negligible_true(self):
        if self._negligible_true is None:
            self._negligible_true = surely(self.p, False, self.ctx.eps)
        return self._negligible_true

    @property
    def negligible_false(self):
        if self._negligible_false is None:
            self._negligible_false = surely(self.p, True, self.ctx.eps)
        return self._negligible_false

    def merge_in_place(self, original, copy_true, copy_false, on_true, on_false):
        if type(original) is ChosenList and not all(
                on_true.restore(t) is o and on_false.restore(f) is o
                for t, f, o in zip(copy_true, copy_false, original)):
            original.refuse_write()   # a path wrote into it (its own copy)
        if len(copy_true) != len(copy_false):
            kind = type(original).__name__
            raise ValueError(
                f"a {kind} changes size differently on the two paths of a relaxed `if` "
                f"({len(copy_true)} vs {len(copy_false)} items): under a relaxed condition, "
                f"assign to existing positions instead of `append`/`pop`/`insert`"
            )
        if isinstance(original, list):
            original[:] = [self.merge(on_true.restore(t), on_false.restore(f))
                           for t, f in zip(copy_true, copy_false)]
        else:
            merged = self.merge({k: on_true.restore(v) for k, v in copy_true.items()},
                                {k: on_false.restore(v) for k, v in copy_false.items()})
            original.clear()
            original.update(merged)

    def merge(self, value_true, value_false):
        """``p·value_true + (1 − p)·value_false``, structurally; identical values stay untouched."""
        if isinstance(value_true, tuple) and isinstance(value_false, tuple):
            return self._merge_sequences(tuple, value_true, value_false)
        if value_true is value_false:   # (after the tuples: dynamo cannot trace `is` on them)
            return value_true
        if value_true is EXITED or value_false is EXITED:
            # The exits of two paths merged with each other (a `break` here, a `return` there):
            # each flag is the probability of its exit.
            return self.merge(True if value_true is EXITED else value_true,
                              True if value_false is EXITED else value_false)
        if (type(value_true), type(value_false)) in _NUMBER_KINDS:
            return self.blend(value_true, value_false)   # the common case, before a dozen tests
        true_kind = type(value_true).merge_precedence if isinstance(value_true, Value) else -1
        false_kind = type(value_false).merge_precedence if isinstance(value_false, Value) else -1
        if true_kind >= 0 or false_kind >= 0:   # a kind of value merges itself (values.Value)
            kind = type(value_true) if true_kind >= false_kind else type(value_false)
            return kind.merge_paths(self, value_true, value_false)
        if isinstance(value_true, list) and isinstance(value_false, list):
            if not self.choosing_lists:
                return self._merge_sequences(list, value_true, value_false)
            # Each path's list as that path left it: an input list is already merged in place.
            # Lists that both paths made anew merge into a plain list (no list to write into).
            chosen = any(copies.holds(value) for copies, value in
                         zip(self.copies, (value_true, value_false)))
            return self._merge_sequences(ChosenList if chosen else list, *(
                copies.contents_of(value) for copies, value in
                zip(self.copies, (value_true, value_false))))
        if isinstance(value_true, list) or isinstance(value_false, list):
            stacked = _stacked_sequences(value_true, value_false)
            if stacked is not None:   # `list(xs)` on one path, a slice of the tensor on the other
                return self.blend(*stacked)
        if _static_equal(value_true, value_false):
            return value_true
        if isinstance(value_true, dict) and isinstance(value_false, dict):
            if value_true.keys() != value_false.keys():
                raise ValueError("a dict gets different keys on the two paths of a relaxed `if`")
            return {k: self.merge(value_true[k], value_false[k]) for k in value_true}
        if _is_number(value_true) and _is_number(value_false):
            return self.blend(value_true, value_false)
        return self.refuse(value_true, value_false)

    def refuse(self, value_true, value_false):
        """The error for two values that cannot be merged."""
        if value_true is None or value_false is None:
            raise TypeError(
                "one path gives None where the other gives a value (a function that falls off "
                "its end, or a bare `return`, returns None): return a value on every path")
        raise TypeError(
            f"cannot merge a {type(value_true).__name__} with a {type(value_false).__name__} "
            f"under a relaxed condition: only numbers, booleans, tensors and lists/tuples of them "
            f"can take different values on the two paths"
        )

    def reweighted(self, weight) -> "Merger":
        """A merger of the same evaluation with another weight."""
        return Merger(weight, self.ctx)

    def _merge_sequences(self, kind, value_true, value_false):
        """Element by element (a branch's private list copy merges as a list)."""
        if len(value_true) != len(value_false):
            raise ValueError(
                f"cannot merge {kind.__name__}s of lengths {len(value_true)} and "
                f"{len(value_false)} under a relaxed condition"
            )
        return kind([self.merge(t, f) for t, f in zip(value_true, value_false)])

    def blend(self, value_true, value_false):
        p = self.p
        if (type(value_true) is torch.Tensor and type(value_false) is torch.Tensor
                and value_true.dtype == value_false.dtype == p.dtype != torch.bool
                and value_true.dim() == value_false.dim() == p.dim()):
            # The commonest merge (two values like p, e.g. elements of a sequence), without the
            # dozen tests below: what they would conclude is this lerp.
            merged = _shifted(value_true, value_false, p)
            if merged is None:
                merged = torch.lerp(value_false, value_true, p)
            return self._finite_or_repaired(merged, value_true, value_false, p)
        boolean = is_boolean(value_true) and is_boolean(value_false)
        a, b = expectation(value_true), expectation(value_false)
        if p.dtype == torch.bool:
            # A Python float keeps double precision (hard mode is the Python program), unless the
            # other side is a floating tensor whose dtype it joins.
            dtype = next((v.dtype for v in (a, b)
                          if isinstance(v, torch.Tensor) and v.is_floating_point()), torch.float64)
            a, b = (as_tensor(v, p, dtype if isinstance(v, float) else None) for v in (a, b))
            p, a, b = align(p, a, b)
            return torch.where(p, a, b)
        merged = self._expectation(a, b)
        return Event(merged) if boolean else merged

    def _weight(self, dtype, rank):
        """``p`` as the weight of a merge of values of ``rank`` dims (made once per kind)."""
        key = (dtype, rank)
        if key not in self._weights:
            self._weights[key] = to_rank(as_tensor(self.p, self.p, dtype), rank)
        return self._weights[key]

    def _expectation(self, a, b):
        """``p·a + (1 − p)·b``; where a negligible side is not finite, the other side alone.

        A merge is finite wherever both sides are (``lerp`` with a weight in [0, 1]), so the plain
        merge is kept when it is finite everywhere, which a host read tells (``host.finite``)
        where that sync is free (``values.syncs_freely``). Elsewhere the places to repair come
        from one merge without gradient, and the merge that counts sees only finite negligible
        sides: a NaN there would reach the gradient of ``p`` as ``0·NaN``.
        """
        p = self.p
        static_a, static_b = _finite_number(a), _finite_number(b)
        if static_a and static_b:   # two static numbers (``flag = True``): no tensor to make
            a, b = float(a), float(b)   # float: torch refuses ``True - tensor``
            difference = a - b
            if difference == 1:
                return p + b if b else p
            if difference == -1:
                return b - p
            return p * difference + b if b else p * a
        dtype = p.dtype
        for value in (a, b):
            if (isinstance(value, torch.Tensor) and value.is_floating_point()
                    and value.dtype != dtype):
                dtype = torch.promote_types(dtype, value.dtype)
        # A finite static side stays a number: one op fewer than making it a tensor to lerp.
        a = float(a) if static_a else as_tensor(a, p, dtype)   # float: torch refuses bool - x
        b = float(b) if static_b else as_tensor(b, p, dtype)
        rank = max(p.dim(), a.dim() if not static_a else 0, b.dim() if not static_b else 0)
        p = self._weight(dtype, rank)
        a = a if static_a else to_rank(a, rank)
        b = b if static_b else to_rank(b, rank)
        if static_a or static_b:
            # Not addcmul: its backward costs twice that of a mul and an add (bubble sort's
            # `swapped = True`: 7% of the forward and backward time).
            merged = p * (a - b) + b
        else:
            merged = torch.lerp(b, a, p)
        return self._finite_or_repaired(merged, a, b, p)

    def _finite_or_repaired(self, merged, a, b, p):
        """``merged`` (``p·a + (1 − p)·b`` lined up), repaired where a negligible side is not
        finite (see :meth:`_expectation`)."""
        if host.finite_or_deferred(merged, self._checks_on_host):
            return merged
        negligible_true, negligible_false, _ = align(self.negligible_true, self.negligible_false,
                                                     merged)
        with torch.no_grad():
            not_finite = merged * 0 != 0   # 0·x is NaN exactly where x is not finite
        a = torch.where(not_finite & negligible_true, b, a)
        b = torch.where(not_finite & negligible_false, a, b)
        repaired = torch.lerp(b, a, p)
        with torch.no_grad():
            infinite = repaired * 0 != 0
        if self._checks_on_host and not bool(infinite.any()):
            return repaired
        # An infinite side that matters (`best = -inf` on one path): lerp's b + p·(a − b) is
        # inf − inf, where the expectation p·a + (1 − p)·b is the infinity (or NaN for +inf
        # against -inf). Its gradient is 0 there, and the finite elements keep lerp's.
        with torch.no_grad():   # (p of 0 or 1, or equal sides, would give 0·inf: taken apart)
            expected = torch.where(a == b, a, torch.where(
                p >= 1, a, torch.where(p <= 0, b, p * a + (1 - p) * b)))
        zero = torch.zeros_like(repaired)
        finite_part = torch.lerp(torch.where(infinite, zero, b), torch.where(infinite, zero, a), p)
        return torch.where(infinite, expected, finite_part)


#: Pairs of value types that :meth:`Merger.merge` hands straight to :meth:`Merger.blend`.
_NUMBER_KINDS = frozenset(
    (a, b) for a in (torch.Tensor, Event, bool, int, float)
    for b in (torch.Tensor, Event, bool, int, float)
    if a in (torch.Tensor, Event) or b in (torch.Tensor, Event))


def _shifted(value_true, value_false, p):
    """``p·value_true + (1 − p)·value_false`` where one is the other counted up by a number in
    this call (``assignments.shift_of``): ``value_false + p·c`` or ``value_true + (1 − p)·c``;
    else None."""
    shift = shift_of(value_true)
    if shift is not None and shift[0] is value_false:
        c = shift[1]
        return value_false + p if c == 1 else value_false + p * c
    shift = shift_of(value_false)
    if shift is not None and shift[0] is value_true:
        c = shift[1]
        return value_false - p if c == 1 else value_false - p * c
    return None


def _finite_number(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _stacked_sequences(value_true, value_false):
    """A list of per-instance elements and a ``(B, n, ...)`` tensor of the same length, as two
    tensors (the list stacked along dim 1), or None: two forms of one sequence."""
    items, tensor = ((value_true, value_false) if isinstance(value_true, list)
                     else (value_false, value_true))
    if not (isinstance(tensor, torch.Tensor) and tensor.dim() >= 2 and len(items) == tensor.shape[1]
            and items and all(map(_is_number, items))):
        return None
    column = tensor.select(1, 0)
    stacked = torch.stack([torch.as_tensor(expectation(v), device=tensor.device).expand_as(column)
                           for v in items], 1)
    return (stacked, tensor) if isinstance(value_true, list) else (tensor, stacked)


def _is_number(value):
    return isinstance(value, (torch.Tensor, Event, int, float))


def _static_equal(a, b):
    if is_relaxed(a) or is_relaxed(b) or type(a) is not type(b):
        return False
    try:
        return bool(a == b)
    except Exception:   # objects whose == is not a plain bool are simply not equal here
        return False


class Operations:
    """What generated code calls for a branch: ``rx.branch(condition, if_true, if_false, ...)``,
    and the marks the compiler puts on a branch's functions."""

    __slots__ = ()

    def branch(self, condition, if_true, if_false, inputs, returns=None):
        return branch(condition, if_true, if_false, inputs, self, returns)

    passes_through = staticmethod(passes_through)
    linear = staticmethod(linear)
    has_effects = staticmethod(has_effects)
