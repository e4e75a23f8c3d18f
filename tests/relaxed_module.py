"""Module-level relaxed functions and an ``nn.Module`` holding them, as a user's module would
have them (test_methods_and_pickling.py pickles them)."""

import torch
from torch import nn

import relaxc


@relaxc.relax(beta=0.5)
def clamp_below(x, low):
    if x < low:
        return low
    return x


def magnitude(x):
    return x if x > 0 else -x


class Scorer(nn.Module):
    """A network with a relaxed method and two relaxed functions among its attributes."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)
        self.clamp = clamp_below.options(beta=0.25)
        self.magnitude = relaxc.relax(magnitude, beta=0.3)

    @relaxc.relax
    def doubled_if_positive(self, x):
        if x > 0:
            return x * 2
        return x

    @staticmethod
    @relaxc.relax
    def at_least_one(x):
        return x if x > 1 else 1

    @relaxc.relax
    @classmethod
    def at_most_one(cls, x):
        return x if x < 1 else 1

    def forward(self, x):
        score = self.linear(x)[:, 0]
        return self.doubled_if_positive(self.clamp(score, 0.0)) + self.magnitude(x[:, 1])
