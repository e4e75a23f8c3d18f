"""Representative functions whose generated code is kept verbatim in tests/golden/."""

import torch


def swap_if_greater(a, b):
    # A comment of the user's survives in the generated code.
    if a > b:
        a, b = b, a
    return a, b


def classify(x, y):
    """Order two values and label how far apart they are."""
    if x > y:
        x, y = y, x
    gap = y - x
    if gap < 1 and not x == y:
        label = 1
    elif gap > 3:
        label = 2
    else:
        label = 0
    return x, y, (gap if label > 0 else -gap)


def bubble_pass(xs):
    swaps = 0
    swapped = False
    for j in range(len(xs) - 1):
        if xs[j] > xs[j + 1]:
            xs[j], xs[j + 1] = xs[j + 1], xs[j]
            swaps += 1
            swapped = True
    return xs, swaps, swapped


def insertion_sort(xs):
    for i in range(1, len(xs)):
        key = xs[i]
        j = i
        while j > 0 and xs[j - 1] > key:
            xs[j] = xs[j - 1]
            j -= 1
        xs[j] = key
    return xs


def linear_search(xs, key):
    for i, x in enumerate(xs):
        if x == key:
            return i
    return -1
