"""Hard mode on a batch equals the original Python function run on each instance.

Hypothesis draws small integer-valued floats, so ties (where ``<`` and ``<=`` differ) are common;
sequences are given both as ``(B, n)`` tensors and as lists of ``(B,)`` tensors.
"""

import copy

import pytest
from hypothesis import given, settings, strategies as st

import relaxc
from corpus import CASES
from helpers import batch_of, instance

VALUES = st.integers(-3, 3).map(float)


def draw_arguments(data, specs, batch):
    columns, static = [], {}
    for position, spec in enumerate(specs):
        if spec == "x":
            columns.append(data.draw(st.lists(VALUES, min_size=batch, max_size=batch)))
        elif isinstance(spec, str):
            n = int(spec[2:])
            row = st.lists(VALUES, min_size=n, max_size=n)
            columns.append(data.draw(st.lists(row, min_size=batch, max_size=batch)))
        else:
            static[position] = data.draw(spec)
            columns.append(None)
    return columns, static


@pytest.mark.parametrize("sequence_as", ["tensor", "list"])
@pytest.mark.parametrize("function", list(CASES), ids=lambda f: f.__name__)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_hard_mode_equals_python(function, sequence_as, data):
    specs = CASES[function]
    batch = data.draw(st.integers(1, 4), label="batch")
    columns, static = draw_arguments(data, specs, batch)

    expected = []
    for i in range(batch):
        args = [static[k] if k in static else copy.deepcopy(columns[k][i])
                for k in range(len(specs))]
        expected.append(function(*args))

    batched = [static[k] if k in static else batch_of(columns[k], sequence_as)
               for k in range(len(specs))]
    result = relaxc.relax(function, mode="hard")(*batched)
    for i in range(batch):
        assert instance(result, i) == expected[i], f"instance {i}"
