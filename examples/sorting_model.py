"""Scoring network and ranking metrics for the four-digit MNIST sorting experiment.

The CNN is the one of Grover et al. (NeuralSort) that Petersen et al. reuse:
two 5x5 convolutions (32 and 64 channels), each followed by ReLU and 2x2
max-pooling, a 64-unit fully connected layer with ReLU, and one output, the
scalar score of a 28x112 image.  Sorting the scores should sort the numbers.

Metrics compare the ranking implied by the scores with the true one:
exact match (EM) counts sets whose whole ranking is right, element-wise
correct rank (EW) counts elements placed at their true rank.

Readouts of what the model knows (issue 19): pairwise order accuracy split by
how many leading digits the two numbers share, the scale of the scores against
β for those pairs, the EM of ideal readers of the first k digits that break
their ties at random, and a linear probe that reads each digit position back
from the frozen 64-unit features the score is computed from.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from sorting_data import NUM_CLASSES, NUM_DIGITS

IMAGE_SHAPE = (1, 28, 112)


class DigitsCNN(nn.Module):
    """Maps images ``(..., 1, 28, 112)`` to scores ``(...)``.

    ``channels_last`` keeps weights and activations in NHWC memory order, which the CPU
    convolutions run about a fifth faster (docs/experiments/sorting.md, "Throughput"); the
    results are the same up to rounding.

    ``batch_norm`` adds batch normalisation after both convolutions and the hidden layer (not
    in the paper's network): without it the network's features stop improving early at a batch
    of 32 sets, with it they do not (docs/experiments/sorting.md, "Runs 4–9"). Under torchrun
    each process normalises over its own sets (plain ``BatchNorm``, not ``SyncBatchNorm``).
    """

    def __init__(self, channels_last: bool = True, batch_norm: bool = False) -> None:
        super().__init__()
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format

        def normalised(layer: nn.Module, norm: nn.Module) -> list[nn.Module]:
            # Without batch norm the layers (and their state_dict keys) are exactly the paper's.
            return [layer, norm] if batch_norm else [layer]

        # padding=2 keeps 5x5 convolutions size-preserving ("SAME" in NeuralSort's code),
        # so two poolings leave a 7x28 map.
        self.features = nn.Sequential(
            *normalised(nn.Conv2d(1, 32, kernel_size=5, padding=2), nn.BatchNorm2d(32)),
            nn.ReLU(),
            nn.MaxPool2d(2),
            *normalised(nn.Conv2d(32, 64, kernel_size=5, padding=2), nn.BatchNorm2d(64)),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(
            nn.Flatten(),
            *normalised(nn.Linear(64 * (IMAGE_SHAPE[1] // 4) * (IMAGE_SHAPE[2] // 4), 64), nn.BatchNorm1d(64)),
            nn.ReLU(),
            nn.Linear(64, 1),
        )
        self.to(memory_format=self.memory_format)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        leading = images.shape[:-3]
        flat = images.reshape(-1, *IMAGE_SHAPE).contiguous(memory_format=self.memory_format)
        return self.head(self.features(flat)).reshape(leading)

    def embed(self, images: torch.Tensor) -> torch.Tensor:
        """The 64 features ``(N, 64)`` of images ``(N, 1, 28, 112)``: the score is linear in them."""
        return self.head[:-1](self.features(images.contiguous(memory_format=self.memory_format)))


def ranks(x: torch.Tensor) -> torch.Tensor:
    """Rank of every entry along the last dimension (0 = smallest)."""
    return x.argsort(dim=-1).argsort(dim=-1)


def exact_match(scores: torch.Tensor, values: torch.Tensor) -> float:
    """Fraction of sets (rows) whose predicted ranking equals the true ranking."""
    return (ranks(scores) == ranks(values)).all(dim=-1).float().mean().item()


def elementwise_rank_accuracy(scores: torch.Tensor, values: torch.Tensor) -> float:
    """Fraction of all elements whose predicted rank equals their true rank."""
    return (ranks(scores) == ranks(values)).float().mean().item()


def shared_prefix(values: torch.Tensor) -> torch.Tensor:
    """Leading decimal digits (of NUM_DIGITS) that values ``(..., n)`` share, for every pair:
    ``(..., n, n)``; NUM_DIGITS on the diagonal."""
    a, b = values[..., :, None], values[..., None, :]
    length = torch.zeros(a.shape[:-1] + b.shape[-1:], dtype=torch.int64, device=values.device)
    for k in range(1, NUM_DIGITS + 1):
        # The first k digits agree iff the integer quotients by 10^(NUM_DIGITS-k) do.
        unit = 10 ** (NUM_DIGITS - k)
        length += (a // unit == b // unit).long()
    return length


def _pairs(values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Index of every unordered pair i < j of a set of n, as two 1-d tensors."""
    return torch.triu_indices(values.shape[-1], values.shape[-1], offset=1, device=values.device)


def oriented_differences(scores: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For every unordered pair i < j of each set, the score difference oriented like the values
    (positive when the larger number scores higher), and the pair's indices."""
    i, j = _pairs(values)
    oriented = (scores[..., j] - scores[..., i]) * torch.sign(values[..., j] - values[..., i]).to(scores.dtype)
    return oriented, (i, j)


def pair_readouts(
    scores: torch.Tensor, values: torch.Tensor, beta: float, cdf=torch.sigmoid
) -> dict[str, list[float]]:
    """Pair statistics split by the shared leading prefix (0 .. NUM_DIGITS-1 digits; values distinct).

    For every unordered pair of a set, with Δs the score difference oriented like the values
    (Δs > 0 when the larger number scores higher):

    * ``pair_acc[k]``: fraction ordered right (Δs > 0) among pairs sharing exactly k leading digits;
    * ``scale[k]``: mean |Δs| / β, how far the pair sits from the relaxed swap's steep part;
    * ``slope[k]``: mean of β · |dp/dΔs|, p = cdf(-Δs/β) the swap probability of the pair when
      compared (``cdf`` is the relaxation family's; the logistic's slope is p (1 - p), at most 1/4):
      the share of gradient a comparison of the pair can pass;
    * ``pairs[k]``: how many pairs (to judge the estimates).

    None where no pair has prefix k (JSON has no NaN).
    """
    oriented, (i, j) = oriented_differences(scores, values)
    prefix = shared_prefix(values)[..., i, j]
    with torch.enable_grad():
        t = (-oriented / beta).detach().requires_grad_()
        (slope,) = torch.autograd.grad(cdf(t).sum(), t)
    out: dict[str, list[float]] = {"pair_acc": [], "scale": [], "slope": [], "pairs": []}
    for k in range(NUM_DIGITS):
        chosen = prefix == k
        count = int(chosen.sum())
        out["pairs"].append(count)
        if count == 0:
            for key in ("pair_acc", "scale", "slope"):
                out[key].append(None)
            continue
        out["pair_acc"].append((oriented[chosen] > 0).float().mean().item())
        out["scale"].append((oriented[chosen].abs() / beta).mean().item())
        out["slope"].append(slope[chosen].mean().item())
    return out


def leading_digit_readouts(scores: torch.Tensor, values: torch.Tensor) -> dict[str, list]:
    """How the scores of sets ``(..., n)`` follow the leading digit alone.

    * ``score_mean[d]``, ``score_std[d]``: mean and standard deviation of the scores of the
      numbers whose leading digit is d (None where there are none): a model that reads the
      leading digit has increasing means and spreads well below their spacing;
    * ``gap_acc[g - 1]``: among pairs whose leading digits differ by g = 1 .. 9, the fraction
      ordered right; mistakes only at g = 1 mean neighbouring classes overlap, mistakes at
      large g mean whole classes are out of place.
    """
    leading = values // 10 ** (NUM_DIGITS - 1)
    flat_scores, flat_leading = scores.reshape(-1), leading.reshape(-1)
    out: dict[str, list] = {"score_mean": [], "score_std": [], "gap_acc": []}
    for digit in range(NUM_CLASSES):
        chosen = flat_scores[flat_leading == digit]
        out["score_mean"].append(chosen.mean().item() if len(chosen) else None)
        out["score_std"].append(chosen.std().item() if len(chosen) > 1 else None)
    oriented, (i, j) = oriented_differences(scores, values)
    right = oriented > 0
    gap = leading[..., j] - leading[..., i]
    for g in range(1, NUM_CLASSES):
        chosen = gap.abs() == g
        out["gap_acc"].append(right[chosen].float().mean().item() if chosen.any() else None)
    return out


def reference_em(values: torch.Tensor, known_digits: int) -> float:
    """Expected EM of a reader that knows the first ``known_digits`` digits of every number
    perfectly and orders numbers sharing them at random.

    A set is right iff every group of numbers sharing the known prefix comes out in its one right
    order: probability ∏ 1 / m! over the groups, m their sizes.
    """
    if not 0 <= known_digits <= NUM_DIGITS:
        raise ValueError(f"known_digits must lie in 0..{NUM_DIGITS}")
    same = shared_prefix(values) >= known_digits  # (..., n, n), reflexive
    # Each element of a group of size m sees m - 1 others; ∏ over elements of 1/m = ∏ over groups
    # of m^-m, so take the m-th root per element: ∏ over elements of (1/m!)^(1/m).
    sizes = same.sum(dim=-1).double()
    per_element = -torch.lgamma(sizes + 1) / sizes
    return per_element.sum(dim=-1).exp().mean().item()


def linear_probe(
    train_features: torch.Tensor, train_digits: torch.Tensor, test_features: torch.Tensor,
    test_digits: torch.Tensor, weight_decay: float = 1e-3,
) -> list[float]:
    """Test accuracy of one multinomial logistic regression per digit position.

    Features ``(N, F)`` are standardised with the training set's statistics; digits are
    ``(N, NUM_DIGITS)``.  The fit is full-batch L-BFGS on the (convex) regularised cross-entropy.
    """
    mean, std = train_features.mean(0), train_features.std(0).clamp_min(1e-6)
    x_train, x_test = (train_features - mean) / std, (test_features - mean) / std
    accuracies = []
    for position in range(train_digits.shape[1]):
        linear = nn.Linear(x_train.shape[1], NUM_CLASSES, dtype=x_train.dtype)
        optimizer = torch.optim.LBFGS(linear.parameters(), max_iter=100, line_search_fn="strong_wolfe")
        target = train_digits[:, position]

        def closure() -> torch.Tensor:
            optimizer.zero_grad()
            loss = F.cross_entropy(linear(x_train), target) + weight_decay * linear.weight.square().sum()
            loss.backward()
            return loss

        with torch.enable_grad():
            optimizer.step(closure)
        with torch.no_grad():
            accuracies.append((linear(x_test).argmax(1) == test_digits[:, position]).float().mean().item())
    return accuracies
