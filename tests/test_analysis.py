"""The analyses, read as compact dumps: which variables each branch receives and returns."""

import libcst as cst

import relaxc
import relaxc_runtime  # noqa: F401  (the pipeline loads generated code against it)
from relaxc import analysis, source
from relaxc.lowering import sequences
from relaxc.lowering.branches import is_linear
from relaxc.lowering.transformer import SPECIAL_BUILTINS


def facts(function):
    parsed = source.read_source(function)
    dump = analysis.analyse(parsed).dump(parsed)
    first = function.__code__.co_firstlineno
    # Relative line numbers keep the expectations independent of where the function sits.
    for line in sorted({int(w[1:]) for w in dump.split() if w[:1] == "L" and w[1:].isdigit()},
                       reverse=True):
        dump = dump.replace(f"L{line} ", f"L+{line - first} ")
    return dump


def swap_and_count(xs, count):
    for j in range(len(xs) - 1):
        tmp = 0
        if xs[j] > xs[j + 1]:
            tmp = xs[j]
            xs[j] = xs[j + 1]
            xs[j + 1] = tmp
            count += 1
    return count


def test_outputs_are_assigned_and_read_afterwards_inputs_are_read_or_passed_through():
    # `tmp` is assigned in the branch but never read after it: not an output.
    assert facts(swap_and_count) == "L+3 if: inputs (xs, count, j) -> outputs (xs, count)"


def one_sided(x):
    if x > 0:
        y = x
    elif x < -1:
        z = 1
        y = z
    return y


def test_elif_chain_and_declared_unbound_variables():
    assert facts(one_sided) == (
        "L+1 if: inputs (x, y) -> outputs (y)\n"
        "L+3 if: inputs (y) -> outputs (y)\n"
        "unbound at start: y"
    )


def loop_carried(xs):
    best = xs[0]
    for x in xs:
        if x > best:
            best = x
        label = 1 if best > 0 else 2
    return label


def test_liveness_follows_loops_and_conditional_expressions():
    assert facts(loop_carried) == (
        "L+3 if: inputs (best, x) -> outputs (best)\n"
        "L+5 ifexp: inputs () -> outputs ()"
    )


def early_exit(xs):
    for x in xs:
        if x > 0:
            break
    return x


def test_an_if_with_an_early_exit_is_static_only():
    assert facts(early_exit) == "L+2 if: static only (`break`)"


def linear_marks(body: str) -> bool:
    """Whether lowered branch statements ``body`` count as linear."""
    return is_linear(list(cst.parse_module(body).body), "rx")


def test_a_linear_branch_only_moves_data_adds_and_scales_by_literals():
    for body in ["x, y = y, x",
                 "xs = rx.setitem(xs, j, rx.getitem(xs, j + 1))",
                 "count = rx.iadd(count, 1)\nflag = True",
                 "y = -x / 2 + 3 * (y - 1.5)",
                 "label = 'high'\nreturn label, rx.len(xs)"]:
        assert linear_marks(body), body
    for body in ["y = torch.sqrt(x)",        # any call but the data-moving runtime operations
                 "y = x * y",                # a product of two values
                 "y = 1 / x", "y = x ** 2", "y = x % 3",
                 "y = x / 0", "y = x / 0.0", "y = x * 1e999", "y = x / 1e-320",
                 "y = x.abs()",              # an attribute
                 "y = rx.max(x, 0)",
                 "y = rx.gt(x, 0)",
                 "y = rx.branch(rx.gt(x, 0), lambda x: x, lambda x: -x, (x,))",
                 "y = xs[0]"]:               # (lowered code never has a raw subscript)
        assert not linear_marks(body), body


def test_the_compiler_marks_linear_branches_and_else_less_false_paths():
    def swap_or_root(a, b):
        if a > b:
            a, b = b, a
        if a > 0:
            a = torch.sqrt(a)
        else:
            b = b - 1
        return a, b

    code = relaxc.to_source(relaxc.relax(swap_or_root))
    markers = [line.strip() for line in code.splitlines() if line.strip().startswith("@rx.")]
    assert markers == ["@rx.linear", "@rx.passes_through", "@rx.linear"], code


def column_parameters(source_code: str, builtins=frozenset(SPECIAL_BUILTINS)) -> list[str]:
    function = cst.ensure_type(cst.parse_module(source_code).body[0], cst.FunctionDef)
    return sequences.column_parameters(function, "rx", builtins)


def test_parameters_used_only_by_position_become_columns():
    assert column_parameters(
        "def f(xs, ys, zs, ws, n):\n"
        "    for i, x in enumerate(xs):\n"
        "        xs[i] = xs[i] + ys[len(ys) - 1][0]\n"
        "        zs[i] += 1\n"
        "    for y in reversed(ys):\n"
        "        n += y + sum(map(abs, ws)) + sum([w for w in ws])\n"
        "    if n > 0:\n"
        "        return_value = rx.returned(xs)\n"
        "    return xs, zs, n\n") == ["xs", "ys", "zs", "ws"]
    for use in ["ys = xs", "xs = xs", "f(xs)", "xs.shape", "xs * 2", "xs[1:]", "xs[0, 1]",
                "xs += [1]", "return *xs,", "return [xs]", "lambda xs: 0",
                "for xs in range(2): pass", "torch.stack(xs)", "map(xs, [1])", "min(xs)",
                "a, b = xs"]:
        assert column_parameters(f"def f(xs):\n    y = xs[0]\n    {use}\n") == [], use
    # A rebound builtin is the user's function: it may see the sequence itself.
    assert column_parameters("def f(xs):\n    return len(xs)\n", frozenset()) == []
