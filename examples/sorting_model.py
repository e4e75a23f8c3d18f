"""Scoring network and ranking metrics for the four-digit MNIST sorting experiment.

The CNN is the one of Grover et al. (NeuralSort) that Petersen et al. reuse:
two 5x5 convolutions (32 and 64 channels), each followed by ReLU and 2x2
max-pooling, a 64-unit fully connected layer with ReLU, and one output, the
scalar score of a 28x112 image.  Sorting the scores should sort the numbers.

Metrics compare the ranking implied by the scores with the true one:
exact match (EM) counts sets whose whole ranking is right, element-wise
correct rank (EW) counts elements placed at their true rank.
"""

from __future__ import annotations

import torch
from torch import nn

IMAGE_SHAPE = (1, 28, 112)


class DigitsCNN(nn.Module):
    """Maps images ``(..., 1, 28, 112)`` to scores ``(...)``."""

    def __init__(self) -> None:
        super().__init__()
        # padding=2 keeps 5x5 convolutions size-preserving ("SAME" in NeuralSort's code),
        # so two poolings leave a 7x28 map.
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, kernel_size=5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(64 * (IMAGE_SHAPE[1] // 4) * (IMAGE_SHAPE[2] // 4), 64),
            nn.ReLU(),
            nn.Linear(64, 1),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        leading = images.shape[:-3]
        flat = images.reshape(-1, *IMAGE_SHAPE)
        return self.head(self.features(flat)).reshape(leading)


def ranks(x: torch.Tensor) -> torch.Tensor:
    """Rank of every entry along the last dimension (0 = smallest)."""
    return x.argsort(dim=-1).argsort(dim=-1)


def exact_match(scores: torch.Tensor, values: torch.Tensor) -> float:
    """Fraction of sets (rows) whose predicted ranking equals the true ranking."""
    return (ranks(scores) == ranks(values)).all(dim=-1).float().mean().item()


def elementwise_rank_accuracy(scores: torch.Tensor, values: torch.Tensor) -> float:
    """Fraction of all elements whose predicted rank equals their true rank."""
    return (ranks(scores) == ranks(values)).float().mean().item()
