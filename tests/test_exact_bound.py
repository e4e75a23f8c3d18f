"""Exact mode gives up as soon as it is known that the enumeration would pass ``max_paths``
(runtime/enumeration.py): the bound is checked as decisions are opened, not per finished path.

A relaxed ``while`` with a data-dependent index (gnome sort) makes a decision tree whose paths get
longer one after another; refusing only after ``max_paths`` finished paths ran each of them (the
last ones hundreds of iterations long). The work is counted in decisions made, not timed."""

import pytest
import torch

import relaxc
from corpus import gnome_sort
from relaxc_runtime import enumeration
from relaxc_runtime.enumeration import TooManyPathsError


def two_conditions(a, b):
    x = 1.0 if a > 0 else 2.0
    y = 10.0 if b > 0 else 20.0
    return x + y


@pytest.fixture
def work(monkeypatch):
    """Counts the decisions taken and the paths started during exact-mode enumeration."""
    counts = {"decisions": 0, "runs": 0}
    decide, start = enumeration.DecisionScript.decide, enumeration.DecisionScript.start

    def counting_decide(self, *args):
        counts["decisions"] += 1
        return decide(self, *args)

    def counting_start(self):
        counts["runs"] += 1
        return start(self)

    monkeypatch.setattr(enumeration.DecisionScript, "decide", counting_decide)
    monkeypatch.setattr(enumeration.DecisionScript, "start", counting_start)
    return counts


@pytest.mark.parametrize("xs", [[[2.0, 1.0]], [[3.0, 1.0, 2.0]]])
def test_gnome_sort_is_refused_at_once_naming_the_line(work, xs):
    max_paths = 200
    with pytest.raises(TooManyPathsError) as caught:
        relaxc.relax(gnome_sort, mode="exact", max_paths=max_paths)(torch.tensor(xs))
    assert work["runs"] <= max_paths + 1
    # Refusing after max_paths finished paths took about 40,000 decisions here (each path one
    # iteration longer than the last); the lower bound is known after a few hundred.
    assert work["decisions"] <= 5 * max_paths
    message = str(caught.value)
    assert f"more than {max_paths} paths" in message
    assert "(if i == 0 or xs[i - 1] <= xs[i]:) multiply them most" in message
    assert "mode='sample'" in message


def test_a_tree_within_the_bound_is_enumerated_completely(work):
    a = torch.tensor([0.3, -0.2], dtype=torch.float64)
    b = torch.tensor([-0.1, 0.4], dtype=torch.float64)
    beta = 0.5
    f = relaxc.relax(two_conditions, beta=beta, mode="exact", max_paths=4)
    pa, pb = torch.sigmoid(a / beta), torch.sigmoid(b / beta)
    expected = pa * 1 + (1 - pa) * 2 + pb * 10 + (1 - pb) * 20
    torch.testing.assert_close(f(a, b), expected)
    assert work["runs"] == 4


def test_the_bound_is_exact_one_path_more_is_refused():
    a = torch.tensor([0.3], dtype=torch.float64)
    with pytest.raises(TooManyPathsError, match="more than max_paths=3"):
        relaxc.relax(two_conditions, mode="exact", max_paths=3)(a, a)


def test_the_lower_bound_counts_finished_running_and_untried_paths():
    script = enumeration.DecisionScript(max_paths=100)
    p = torch.tensor([0.5])
    script.start()
    script.decide([p, 1 - p], [True, False])
    script.decide([p, 1 - p, p], [0, 1, 2])
    assert script.lower_bound() == 1 + 1 + 2
    script.finish()
    assert script.advance()
    assert script.lower_bound() == 1 + 1 + 1 + 1   # finished, running, untried (1 + 1)
