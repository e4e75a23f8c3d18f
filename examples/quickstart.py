"""Quickstart: a plain Python function, its generated relaxation, a relaxed value with its gradient,
and the hard (discrete) result on the same batch.

Run: ``python examples/quickstart.py``
"""

import torch

import relaxc


@relaxc.relax(beta=0.5)
def bubble_pass(xs):
    """One pass of bubble sort: the largest value moves to the end. Counts the swaps."""
    swaps = 0
    for j in range(len(xs) - 1):
        if xs[j] > xs[j + 1]:
            xs[j], xs[j + 1] = xs[j + 1], xs[j]
            swaps += 1
    return xs, swaps


def main():
    print("== the plain Python function, run on a list ==")
    print("bubble_pass.python([3.0, 1.0, 2.0]) =", bubble_pass.python([3.0, 1.0, 2.0]))

    print("\n== the generated code (relaxc.to_source) ==")
    print(relaxc.to_source(bubble_pass))

    # A batch of two instances, each a sequence of 3 values: shape (B, n) = (2, 3).
    xs = torch.tensor([[3.0, 1.0, 2.0], [1.0, 2.0, 2.5]], requires_grad=True)
    values, swaps = bubble_pass(xs)
    swaps.sum().backward()
    print("== relaxed (beta=0.5) ==")
    print("values:\n", values.detach())
    print("expected number of swaps:", swaps.detach())
    print("d(swaps)/d(xs):\n", xs.grad)

    hard_values, hard_swaps = bubble_pass.options(mode="hard")(xs.detach())
    print("\n== hard (the discrete algorithm, batched) ==")
    print("values:\n", hard_values)
    print("swaps:", hard_swaps)


if __name__ == "__main__":
    main()
