"""A shared corpus of plain Python functions, run through every check (as tangent's tests do).

Each is ordinary Python on plain numbers and lists; the tests compile them with relaxc and compare.
``CASES`` says, per function, what each argument is: ``"x"`` a relaxed scalar, ``"xs3"`` a relaxed
sequence of 3 values, or a hypothesis strategy for a static argument shared by the batch.
"""

from hypothesis import strategies as st


def clamp(x, lo, hi):
    if x < lo:
        x = lo
    elif x > hi:
        x = hi
    return x


def sign(x):
    if x > 0:
        s = 1
    elif x < 0:
        s = -1
    else:
        s = 0
    return s


def max_of_three(a, b, c):
    if a > b:
        if a > c:
            m = a
        else:
            m = c
    else:
        if b >= c:
            m = b
        else:
            m = c
    return m


def sequential(x, y):
    if x > y:
        x = x - y
    if x > 1:
        y = y * 2
    else:
        y = y - 1
    return x, y


def absolute(x):
    return x if x >= 0 else -x


def in_range(x, lo, hi):
    return lo <= x < hi


def signs_differ(a, b):
    return (a > 0) != (b > 0) and not a == b


def count_greater(xs, threshold):
    count = 0
    for x in xs:
        count += x > threshold
    return count


def bubble_pass(xs):
    swaps = 0
    for j in range(len(xs) - 1):
        if xs[j] > xs[j + 1]:
            xs[j], xs[j + 1] = xs[j + 1], xs[j]
            swaps += 1
    return xs, swaps


def guarded_read(xs, i):
    # `xs[i]` would raise for i >= len(xs): the static left operand must short-circuit.
    if i < len(xs) and xs[i] > 0:
        r = xs[i]
    else:
        r = 0.0
    return r


def any_descent(xs):
    swapped = False
    for j in range(len(xs) - 1):
        if xs[j] > xs[j + 1]:
            swapped = True
    return swapped


def mixed_logic(a, b, c):
    if a > b and (b > c or not c > a):
        r = a - b
    elif a == c or b is not None and c < 0:
        r = c
    else:
        r = a + b + c
    return r


def truthiness(x):
    if x:
        y = 1.0
    else:
        y = 2.0
    return y


def extremes(xs):
    lo = xs[0]
    hi = xs[0]
    for x in xs[1:]:
        if x < lo:
            lo = x
        if x > hi:
            hi = x
    return lo, hi


def selection_sort(xs):
    n = len(xs)
    for i in range(n):
        for j in range(i + 1, n):
            if xs[j] < xs[i]:
                tmp = xs[i]
                xs[i] = xs[j]
                xs[j] = tmp
    return xs


def count_flags(a, b):
    flags = [a > b, a < b, a == b]
    total = 0
    for flag in flags:
        if flag is True:
            total += 1
    return total, flags[0] and flags[1]


def nested_conditional(x, y):
    z = (x - y if x > y else y - x) if x * y > 0 else 0.0
    return z


CASES = {
    clamp: ("x", st.integers(-3, 0), st.integers(0, 3)),
    sign: ("x",),
    max_of_three: ("x", "x", "x"),
    sequential: ("x", "x"),
    absolute: ("x",),
    in_range: ("x", st.integers(-3, 0), st.integers(0, 3)),
    signs_differ: ("x", "x"),
    count_greater: ("xs4", st.integers(-3, 3)),
    bubble_pass: ("xs4",),
    guarded_read: ("xs3", st.integers(0, 5)),
    any_descent: ("xs4",),
    mixed_logic: ("x", "x", "x"),
    truthiness: ("x",),
    extremes: ("xs4",),
    selection_sort: ("xs4",),
    count_flags: ("x", "x"),
    nested_conditional: ("x", "x"),
}
