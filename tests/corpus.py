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


def insertion_sort(xs):
    for i in range(1, len(xs)):
        key = xs[i]
        j = i
        while j > 0 and xs[j - 1] > key:
            xs[j] = xs[j - 1]
            j -= 1
        xs[j] = key
    return xs


def bubble_sort_early_break(xs):
    n = len(xs)
    passes = 0
    for i in range(n):
        swapped = False
        for j in range(n - 1 - i):
            if xs[j] > xs[j + 1]:
                xs[j], xs[j + 1] = xs[j + 1], xs[j]
                swapped = True
        passes += 1
        if not swapped:
            break
    return xs, passes


def bubble_sort_while(xs):
    swapped = True
    swaps = 0
    while swapped:
        swapped = False
        for j in range(len(xs) - 1):
            if xs[j] > xs[j + 1]:
                xs[j], xs[j + 1] = xs[j + 1], xs[j]
                swapped = True
                swaps += 1
    return xs, swaps


def gnome_sort(xs):
    i = 0
    while i < len(xs):
        if i == 0 or xs[i - 1] <= xs[i]:
            i += 1
        else:
            xs[i], xs[i - 1] = xs[i - 1], xs[i]
            i -= 1
    return xs


def cocktail_shaker_sort(xs):
    start, end = 0, len(xs) - 1
    swapped = True
    while swapped and start < end:
        swapped = False
        for j in range(start, end):
            if xs[j] > xs[j + 1]:
                xs[j], xs[j + 1] = xs[j + 1], xs[j]
                swapped = True
        end -= 1
        for j in range(end - 1, start - 1, -1):
            if xs[j] > xs[j + 1]:
                xs[j], xs[j + 1] = xs[j + 1], xs[j]
                swapped = True
        start += 1
    return xs


def linear_search(xs, key):
    for i, x in enumerate(xs):
        if x == key:
            return i
    return -1


def count_inversions(xs):
    inversions = 0
    for i in range(len(xs)):
        for j in range(i + 1, len(xs)):
            if xs[i] > xs[j]:
                inversions += 1
    return inversions


def maximum_subarray(xs):
    best = xs[0]
    current = 0
    for x in xs:
        current = current + x
        if current > best:
            best = current
        if current < 0:
            current = 0
    return best


def first_above(xs, threshold):
    # `position` is assigned on the `break` path only: valid Python, and exact in hard mode, but
    # relaxed it is "assigned on one path and read afterwards" (see RELAXED_ERRORS).
    for i in range(len(xs)):
        if xs[i] > threshold:
            position = i
            break
    else:
        position = -1
    return position


def skip_negatives(xs):
    total = 0
    for x in xs:
        if x < 0:
            continue
        total += x
    return total


def countdown(x):
    steps = 0
    while x > 0:
        x = x - 1
        steps += 1
    return x, steps


def kadane(xs):
    best = float("-inf")
    current = 0.0
    for x in xs:
        current = max(x, current + x)
        best = max(best, current)
    return best


def knapsack(values, capacity):
    weights = [1, 2, 3, 2]
    table = [0.0] * (capacity + 1)
    for i in range(len(values)):
        for c in range(capacity, weights[i] - 1, -1):
            table[c] = max(table[c], table[c - weights[i]] + values[i])
    return table[capacity]


def min_cost_path(costs):
    n = 3   # costs: a 3×3 grid, row-major
    best = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(n):
            c = costs[i * n + j]
            if i == 0 and j == 0:
                best[i][j] = c
            elif i == 0:
                best[i][j] = best[i][j - 1] + c
            elif j == 0:
                best[i][j] = best[i - 1][j] + c
            else:
                best[i][j] = min(best[i - 1][j], best[i][j - 1]) + c
    return best[n - 1][n - 1]


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
    insertion_sort: ("xs4",),
    bubble_sort_early_break: ("xs4",),
    bubble_sort_while: ("xs4",),
    gnome_sort: ("xs4",),
    cocktail_shaker_sort: ("xs4",),
    linear_search: ("xs4", st.integers(-3, 3)),
    count_inversions: ("xs4",),
    maximum_subarray: ("xs4",),
    first_above: ("xs4", st.integers(-3, 3)),
    skip_negatives: ("xs4",),
    countdown: ("x",),
    kadane: ("xs4",),
    knapsack: ("xs4", st.integers(0, 5)),
    min_cost_path: ("xs9",),
}

#: Functions whose relaxation is refused by design (DESIGN §1.3), with the error it raises.
RELAXED_ERRORS = {first_above: UnboundLocalError}
