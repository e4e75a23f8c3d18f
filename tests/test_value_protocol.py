"""The value protocol (``relaxc_runtime.values.Value``): a new kind of value is one class.

A kind defined here, in the test, and nowhere in the runtime — an interval ``[low, high]`` per
instance — goes through a relaxed ``if``, indexing, ``len``, iteration, the caller's result and
sampling's repetition with no change to the constructs; and the kinds that ship refuse what does
not apply to them with their own name.
"""

import pytest
import torch

from relaxc_runtime import Categorical, Context, Event
from relaxc_runtime.values import Value

RX = Context(beta=0.5)
HARD = Context(mode="hard")


class Interval(Value):
    """Per instance, the interval ``[low, high]``: two ``(B,)`` tensors."""

    __slots__ = ("low", "high")
    noun = "an interval"

    def __init__(self, low, high):
        self.low, self.high = low, high

    @classmethod
    def merge_paths(cls, merger, value_true, value_false):
        if not (isinstance(value_true, Interval) and isinstance(value_false, Interval)):
            return merger.refuse(value_true, value_false)
        return Interval(merger.blend(value_true.low, value_false.low),
                        merger.blend(value_true.high, value_false.high))

    def read(self, index, ctx):
        return (self.low, self.high)[index]

    def length(self):
        return 2

    def elements(self):
        return [self.low, self.high]

    def output(self):
        return torch.stack([self.low, self.high], 1)

    def repeated(self, draws):
        return Interval(self.low.repeat(draws), self.high.repeat(draws))


def test_a_kind_defined_outside_the_runtime_merges_under_a_relaxed_if():
    x = torch.tensor([-1.0, 0.0, 2.0], dtype=torch.float64)
    interval = Interval(torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64))
    widened = RX.branch(RX.gt(x, 0), lambda i: Interval(i.low - 1, i.high + 1), lambda i: i,
                        (interval,))
    p = torch.sigmoid(x / RX.beta)
    torch.testing.assert_close(widened.output(), torch.stack([-p, 1 + p], 1))
    hard = HARD.branch(HARD.gt(x, 0), lambda i: Interval(i.low - 1, i.high + 1), lambda i: i,
                       (interval,))
    torch.testing.assert_close(hard.output(), torch.tensor(
        [[0.0, 1.0], [0.0, 1.0], [-1.0, 2.0]], dtype=torch.float64))


def test_a_kind_defined_outside_the_runtime_is_indexed_measured_iterated_and_returned():
    low, high = torch.tensor([1.0, 2.0]), torch.tensor([3.0, 5.0])
    interval = Interval(low, high)
    assert RX.getitem(interval, 1) is high
    assert RX.len(interval) == 2
    assert list(RX.iterate(interval)) == [low, high]
    torch.testing.assert_close(RX.result((interval, 1)), (torch.stack([low, high], 1), 1))


def test_sampling_repeats_a_kind_through_its_protocol():
    from relaxc_runtime.modes import _repeat
    repeated = _repeat([Interval(torch.tensor([1.0]), torch.tensor([2.0]))], 3)
    assert repeated[0].low.tolist() == [1.0, 1.0, 1.0]


def test_a_kind_that_meets_another_kind_is_refused_with_both_names():
    interval = Interval(torch.zeros(2), torch.ones(2))
    with pytest.raises(TypeError, match="cannot merge a Tensor with a Interval"):
        RX.branch(RX.gt(torch.tensor([1.0, -1.0]), 0), lambda i: torch.zeros(2), lambda i: i,
                  (interval,))


@pytest.mark.parametrize("operation, message", [
    (lambda v: RX.getitem(v, 0), "cannot index a relaxed boolean"),
    (lambda v: RX.setitem(v, 0, 1.0), "cannot assign into a relaxed boolean"),
    (lambda v: RX.len(v), "a relaxed boolean has no len()"),
    (lambda v: RX.iterate(v), "cannot iterate over a relaxed boolean"),
    (lambda v: RX.getitem(torch.zeros(2, 3), v), "cannot index with a relaxed boolean"),
])
def test_an_event_refuses_what_does_not_apply_with_its_name(operation, message):
    with pytest.raises(TypeError, match=message):
        operation(Event(torch.tensor([0.3, 0.6])))


def test_a_categorical_refuses_a_write_with_its_name():
    sequence = Categorical(torch.eye(3).repeat(2, 1, 1))
    with pytest.raises(TypeError, match="cannot assign into a categorical value"):
        RX.setitem(sequence, 0, 1.0)


def test_an_event_merges_with_a_tensor_subclass_as_a_number():
    x = torch.tensor([-1.0, 0.5, 2.0])
    weight = torch.nn.Parameter(torch.ones(3))
    merged = RX.branch(RX.gt(x, 0), lambda a: weight, lambda a: RX.gt(x, 1), (x,))
    p, q = torch.sigmoid(x / RX.beta), torch.sigmoid((x - 1) / RX.beta)
    torch.testing.assert_close(merged, p * 1 + (1 - p) * q)


def test_a_shared_event_stays_shared_when_sampling_repeats_the_batch():
    from relaxc_runtime.modes import _repeat
    shared = Event(torch.tensor(0.3))
    assert _repeat([shared], 3)[0] is shared


def test_indexing_a_scalar_with_an_event_names_the_event():
    with pytest.raises(TypeError, match="cannot index with a relaxed boolean"):
        RX.getitem(torch.zeros(3), Event(torch.tensor([0.3, 0.6, 0.1])))


def test_a_private_copy_keeps_the_dict_kind_and_write_back_gives_the_whole_contents():
    from collections import defaultdict

    from relaxc_runtime.values import private_copy, write_back
    counts = defaultdict(int, a=1)
    copy = private_copy(counts)
    assert type(copy) is defaultdict and copy is not counts and copy["missing"] == 0
    original = {"a": [1], "b": 2}
    inner = original["a"]
    write_back(original, {"a": [1, 3]})   # "b" popped, an item appended to "a"
    assert original == {"a": [1, 3]} and original["a"] is inner
