"""Which finiteness tests a replay makes (``replay.py``): the fewest tensors whose being finite
implies that every merge the runtime found finite is finite again.

A merge that the usual run found finite (``host.finite``: every element finite) is tested on
every replay: were it not finite, the runtime would have repaired it, so the replay must not go
on. Most of these tests follow from others, because not being finite spreads. ``a + b``,
``a − b``, ``a · b``, ``lerp(a, b, w)`` and ``a / c`` are not finite at an element where ``a`` is
not (``∞ − ∞`` and ``0 · ∞`` are NaN, ``lerp`` computes ``a + w·(b − a)``), and a stack, a
reshape or a sum holds what it is made of. So in bubble sort the merge that the next comparison
lerps again is finite when that lerp is, and one test of the sorted stack stands for every swap of
a column. What can make a value finite again does not spread it: comparisons, ``sigmoid``,
``exp``, ``where`` with another value on the other side, indexing, a view as another dtype.

A tensor stands for others only if the recording found it finite (in every record that made it):
one that is not finite for reasons of its own, like a mask of ``-inf`` added to a total, would
fail its test on every call.
"""

from __future__ import annotations

import heapq
import math


def spreads(short_name: str) -> bool:
    """Whether a torch call (the last part of its name) may stand for the merges it is made
    from (the recorder then notes whether it was finite)."""
    return short_name in _SPREADS


class FiniteTest(list):
    """A statement of the generated code: the (number, shape) of merges to test finite, written
    once it is known which of them anything reads and which tensors stand for them."""


# How a torch call (by its short name) spreads "not finite" from its tensor arguments to its
# floating result:
#   "each":  at the same element from every tensor argument (elementwise arithmetic);
#   "first": likewise from the first argument only (the numerator: x / ∞ is finite);
#   "where": at the same element where both value arguments spread it (a choice between them);
#   "holds": somewhere, from what it stacks, reshapes or sums.
_SPREADS = {
    **dict.fromkeys((
        "add", "sub", "mul", "rsub", "lerp", "neg", "abs", "positive", "addcmul", "detach",
        "clone", "contiguous", "float", "double", "half", "bfloat16",
        *(f"__{op}__" for op in ("add", "sub", "mul", "radd", "rsub", "rmul", "neg", "abs",
                                 "pos"))), "each"),
    # (``x.to(y)`` takes only the dtype and device of ``y``)
    **dict.fromkeys(("div", "true_divide", "__truediv__", "to"), "first"),
    "where": "where",
    **dict.fromkeys(("stack", "cat", "hstack", "vstack", "reshape", "view", "flatten",
                     "unsqueeze", "squeeze", "expand", "expand_as", "sum", "transpose", "permute",
                     "movedim", "t"), "holds"),
}
_HOLDS_ALL = frozenset(("stack", "cat", "hstack", "vstack"))   # else the first argument only


class Coverage:
    """Follows the torch calls of one generated function in order, and at the end of each
    stretch without writes in place chooses the tensors to test for the merges read in it.

    For each tensor it knows two sets of tested merges (bit sets, one bit per merge): ``same``,
    those ``t`` of its shape with "``t[i]`` not finite ⇒ this ``[i]`` not finite", and ``some``,
    those with "``t`` not finite somewhere ⇒ this not finite somewhere".
    """

    def __init__(self, tested, stand_ins=True):
        """``tested``: (number, shape) of every merge the function tests; ``stand_ins``: whether
        tensors other than merges may stand for them."""
        self.stand_ins = stand_ins
        self.bit = {n: 1 << i for i, (n, _) in enumerate(tested)}
        self.shapes = dict(tested)
        self.dtypes = {}
        self.same, self.some = {}, {}
        self.made = {}   # tensors made since the last write: number -> where a test may go
        self.finite = set()   # tensors made by calls the recordings found finite
        # Merges by their number of elements (bit sets), to count the elements of a set fast.
        self.by_size = {}
        for number, shape in tested:
            size = math.prod(shape)
            self.by_size[size] = self.by_size.get(size, 0) | self.bit[number]

    def _same(self, number) -> int:
        return self.same.get(number, self.bit.get(number, 0))

    def add(self, short_name, op, after) -> None:
        """Follow a torch call (``short_name``: the last part of its name); a test of what it
        makes may go at index ``after`` of the statements."""
        if op.writes:
            # A write in place may change what a tensor was made from after it was made: only
            # what is made after it is followed (every test is made before the write).
            self.same.clear()
            self.some.clear()
            self.made.clear()
            return
        for number, (shape, dtype), finite in zip(op.outs, op.layouts, op.finite):
            self.shapes[number], self.dtypes[number] = shape, dtype
            self.made[number] = after
            if finite:
                self.finite.add(number)
        if len(op.outs) != 1 or op.unpack:
            return
        out = op.outs[0]
        shape, dtype = op.layouts[0]
        spread = (_SPREADS.get(short_name) if dtype.is_floating_point and math.prod(shape) > 0
                  else None)
        same, some = self.bit.get(out, 0), 0
        if spread in ("each", "first"):
            arguments = op.args[:1] if spread == "first" else op.args + tuple(
                t for _, t in op.kwargs)
            for number in _tensors(arguments):
                if self.shapes.get(number) == shape:
                    same |= self._same(number)
                    some |= self.some.get(number, 0)
                else:   # broadcast to the result's shape: it holds every element
                    some |= self._same(number) | self.some.get(number, 0)
        elif spread == "where" and len(op.args) == 3:
            values = _tensors(op.args[1:])
            if len(values) == 2 and all(self.shapes.get(n) == shape for n in values):
                same |= self._same(values[0]) & self._same(values[1])
        elif spread == "holds" and op.args:
            held = op.args[0]
            if short_name in _HOLDS_ALL and held[0] in ("list", "tuple"):
                numbers = _tensors(held[1])
            else:
                numbers = _tensors((held,))
            for number in numbers:
                # (a view as another dtype reads the bits anew: not what it is made of)
                if self.dtypes.get(number) == dtype:
                    some |= self._same(number) | self.some.get(number, 0)
        if same:
            self.same[out] = same
        if some:
            self.some[out] = some

    def choose(self, tested, start) -> list:
        """(number, shape, index) of the tensors to test for the merges ``tested`` (number,
        shape), and where in the statements each test may go (``start``, the stretch's first
        index, for a merge made before it).

        Greedily, the tensor that stands for most of the merges still untested; never one with
        more elements than the merges it stands for, or one not found finite.
        """
        need = 0
        for number, _ in tested:
            need |= self.bit[number]
        covers, queue = {}, []
        others = [n for n in self.made if n in self.finite] if self.stand_ins else []
        for number in (*others, *(n for n, _ in tested)):
            cover = (self._same(number) | self.some.get(number, 0)) & need
            size = math.prod(self.shapes[number])
            if number not in covers and cover and size <= self._elements(cover):
                covers[number] = cover
                queue.append((-cover.bit_count(), size, len(queue), number))
        heapq.heapify(queue)
        chosen, remaining = [], need
        while remaining:   # each merge stands for itself, so this ends
            _, size, order, number = heapq.heappop(queue)
            count = (covers[number] & remaining).bit_count()
            if not count:
                continue
            if queue and count < -queue[0][0]:   # counted before others were chosen: again
                heapq.heappush(queue, (-count, size, order, number))
                continue
            chosen.append((number, self.shapes[number], self.made.get(number, start)))
            remaining &= ~covers[number]
        self.made.clear()
        return chosen

    def _elements(self, bits) -> int:
        return sum(size * (bits & group).bit_count() for size, group in self.by_size.items())


def _tensors(templates) -> list:
    """The numbers of the tensors among ``templates`` (not inside lists)."""
    return [t[1] for t in templates if t[0] == "v"]
