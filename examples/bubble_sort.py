"""The paper's relaxed bubble sort, written as plain Python and compiled by relaxc.

``bubble_sort`` is ordinary Python (run it on a list); ``relaxed_bubble_sort`` is its relaxation
(Petersen et al., NeurIPS 2021, §4.1): on a ``(B, n)`` tensor it returns the softly sorted values,
the expected number of swaps, and the probability that any swap happened, L = 1 − Π(1 − p), where
p runs over every comparison. Sorting supervision trains a network so that scores given in the true
order cause no swaps.

Run ``python examples/bubble_sort.py`` to see it on a small batch.
"""

import torch

import relaxc


def bubble_sort(xs):
    n = len(xs) - 1
    swapped = True
    swaps = 0
    any_swap = False
    while swapped:
        swapped = False
        for j in range(n):
            if xs[j] > xs[j + 1]:
                xs[j], xs[j + 1] = xs[j + 1], xs[j]
                swapped = True
                any_swap = True
                swaps += 1
        n -= 1
    return xs, swaps, any_swap


#: The paper's temperature for sorting supervision: β = 1/8.
relaxed_bubble_sort = relaxc.relax(bubble_sort, beta=0.125)


def main():
    print("plain Python:", bubble_sort([3.0, 1.0, 2.0]))
    scores = torch.tensor([[3.0, 1.0, 2.0], [0.1, 0.2, 0.15]], requires_grad=True)
    values, swaps, any_swap = relaxed_bubble_sort(scores)
    (swaps.sum() + any_swap.sum()).backward()
    print("relaxed values:\n", values.detach())
    print("expected swaps:", swaps.detach(), " P(any swap):", any_swap.detach())
    print("gradient of the losses:\n", scores.grad)
    print("hard:", relaxed_bubble_sort.options(mode="hard")(scores.detach()))


if __name__ == "__main__":
    main()
