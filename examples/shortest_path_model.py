"""The network of the Warcraft shortest-path experiment, and its metrics.

The network is the one of Vlastelica et al. (ICLR 2020) that Petersen et al. (NeurIPS 2021) reuse:
ResNet18 truncated after ``layer1`` (7x7 stride-2 convolution, batch norm, ReLU, 3x3 stride-2 max
pool, two basic blocks of 64 channels), an adaptive max pool to the 12x12 grid, and the mean over
channels: one number per cell.  torchvision's ResNet18 does not import beside the CPU torch wheel
used here, so the same layers are written in ``torch.nn``.

Metrics compare predicted with true path matrices; ``cost_ratio`` uses the true cell weights.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class BasicBlock(nn.Module):
    """ResNet's basic block with an identity shortcut (64 -> 64 channels, stride 1, as in layer1)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + x)


class GridResNet(nn.Module):
    """Maps normalised images ``(B, 3, 96, 96)`` to one number per cell ``(B, 12, 12)``.

    ``readout="mean"`` is Vlastelica et al.'s mean over the 64 channels, for cell costs; it is never
    negative (the channels come out of a ReLU).  ``readout="linear"`` is a learned 1x1 convolution
    with bias instead, for the direct baseline, whose per-cell logits need both signs.
    """

    def __init__(self, grid: int = 12, readout: str = "mean") -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(3, stride=2, padding=1),
        )
        self.layer1 = nn.Sequential(BasicBlock(64), BasicBlock(64))
        self.pool = nn.AdaptiveMaxPool2d((grid, grid))
        if readout not in ("mean", "linear"):
            raise ValueError(f"readout must be 'mean' or 'linear', not {readout!r}")
        self.linear = nn.Conv2d(64, 1, 1) if readout == "linear" else None

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = self.pool(self.layer1(self.stem(images)))
        if self.linear is None:
            return features.mean(dim=1)
        return self.linear(features).squeeze(1)


def exact_match(predicted: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """Per map: whether the predicted 0/1 path matrix equals the true one."""
    return (predicted.round() == true).flatten(1).all(1)


def is_path(paths: torch.Tensor) -> torch.Tensor:
    """Per map: whether the 0/1 cells form an 8-connected set holding both corners.

    A prediction of the direct baseline can be anything; a cost-optimal set of cells that holds
    both corners and is connected contains a path of at most its cost, so it counts as a path.
    """
    paths = paths.round().bool()
    reached = torch.zeros_like(paths)
    reached[:, 0, 0] = paths[:, 0, 0]
    for _ in range(paths.shape[1] * paths.shape[2]):
        grown = F.max_pool2d(reached.float().unsqueeze(1), 3, stride=1, padding=1).squeeze(1).bool() & paths
        if torch.equal(grown, reached):
            break
        reached = grown
    return reached[:, -1, -1] & (reached == paths).flatten(1).all(1)


def path_cost(paths: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """True cost of each 0/1 path matrix: the sum of the weights of its cells, ``(B,)``."""
    # float64, so that two optimal paths summing their cells in different orders still agree.
    return (paths.round().double() * weights.double()).flatten(1).sum(1)


def path_metrics(predicted: torch.Tensor, true: torch.Tensor, weights: torch.Tensor) -> dict[str, float]:
    """``exact_match``, ``cost_optimal_match`` (a path whose true cost is the optimum within 1e-5,
    absolute) and ``cost_ratio`` (mean of predicted over optimal true cost) of 0/1 path matrices."""
    optimum = path_cost(true, weights)
    cost = path_cost(predicted, weights)
    optimal = is_path(predicted) & ((cost - optimum).abs() <= 1e-5)
    return {
        "exact_match": exact_match(predicted, true).float().mean().item(),
        "cost_optimal_match": optimal.float().mean().item(),
        "cost_ratio": (cost / optimum).mean().item(),
        "valid_path": is_path(predicted).float().mean().item(),
    }
