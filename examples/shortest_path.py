"""Shortest paths on a grid of cell costs, as plain Python compiled by relaxc (the paper's sec. 4.2).

``shortest_path(costs)`` takes ``(B, H, W)`` positive cell costs and returns the ``(B, H, W)`` path
matrix of the cheapest 8-connected path from the top-left to the bottom-right cell, where a path
costs the sum of the costs of all its cells, both ends included (node weights, as in the Warcraft
maps of Vlastelica et al.).  It is written the way relaxc supports best: vectorised over the grid,
so every step below works on whole ``(H, W)`` maps at once.

1. **Bellman-Ford.**  ``dist[v]`` is the cost of the cheapest path found so far from the start to
   ``v``.  One round replaces it, in every cell at once, by ``costs[v] + min(options)``, where the 9
   options of cell ``v`` are the distances of its 8 neighbours and, in the centre, a start option
   that is 0 at the start cell and "unreachable" elsewhere.  After ``H * W - 1`` rounds every
   shortest path (at most ``H * W`` cells) has been found.
2. **Path reconstruction.**  Each cell's predecessor is the ``argmin`` of its options (the centre
   means "the path starts here").  A walker starts on the target and moves to the predecessor of
   its cell ``H * W - 1`` times; the path is every cell it visits.

Tie rule: ``argmin`` takes the first of equal options, in the row-major order of the 3x3
neighbourhood (``OFFSETS``); the labels of ``shortest_path_data.py`` use the same rule.

Relaxed (``shortest_path(costs)``, β = 1/25 by default, the paper's): ``min`` is the softmin-weighted
sum (eq. 10), each predecessor is a categorical over the 9 options, the walker's position is a
probability map, and the path is the probability that the walker visits each cell, treating its
visits at different steps as independent (``1 - (1 - on_path) * (1 - walker)``, the same product
logic relaxc uses for ``or``).  So every cell of the result lies in [0, 1].  In hard mode
(``shortest_path.options(mode="hard")``) this is the exact algorithm, batched, and equals Dijkstra
(``tests/test_shortest_path.py``).

Costs must be positive (a negative cell makes "shortest" ill-defined on an undirected grid, and
the fixed number of rounds then stops at an arbitrary walk); this is not checked here, since a
check would read the data on every call: the model in ``shortest_path_supervision.py`` ends in a
softplus, and ``shortest_path_data.dijkstra_path`` refuses such grids.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

import relaxc

# The 3x3 neighbourhood, row-major, as (row, column) offsets; the centre (0, 0) is the start option.
OFFSETS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
START = OFFSETS.index((0, 0))
# Dearer than any path.  Finite, so that relaxed `min` gives it weight exactly 0 on its fast path
# (an infinity takes a slower branch that handles inf - inf); 1e30 fits in float32.
UNREACHABLE = 1e30


def neighbourhood(grid, outside):
    """The 9 shifted copies of ``grid (..., H, W)``: ``(..., 9, H, W)`` with entry ``k`` at
    ``(i, j)`` equal to ``grid[i + dy, j + dx]`` for ``(dy, dx) = OFFSETS[k]``, ``outside`` off the
    grid."""
    height, width = grid.shape[-2:]
    padded = F.pad(grid, (1, 1, 1, 1), value=outside)
    return F.unfold(padded.unsqueeze(-3), kernel_size=3).unflatten(-1, (height, width))


def move_to_neighbours(moving):
    """The adjoint of ``neighbourhood``: ``moving (..., 9, H, W)`` holds, per cell, the amount that
    leaves it towards each of its 9 neighbours (``OFFSETS``); returns the ``(..., H, W)`` amounts
    that arrive (what would leave the grid is dropped)."""
    height, width = moving.shape[-2:]
    return F.fold(moving.flatten(-2), (height, width), kernel_size=3, padding=1).squeeze(-3)


@relaxc.relax(beta=1 / 25, replay=True)
def shortest_path(costs):
    if costs.dim() != 3:
        raise ValueError(f"costs must be a batch of grids (B, H, W), got shape {tuple(costs.shape)}")
    height, width = costs.shape[-2:]
    start = torch.full_like(costs, UNREACHABLE)
    start[..., 0, 0] = 0.0

    # Bellman-Ford: every cell takes its cheapest option, all cells at once.
    dist = costs + start
    for _ in range(height * width - 1):
        options = neighbourhood(dist, UNREACHABLE)
        options[START] = start
        dist = costs + min(options)

    # Path reconstruction: walk back from the target along the predecessors.
    options = neighbourhood(dist, UNREACHABLE)
    options[START] = start
    predecessor = relaxc.argmin(options)
    # towards[k] is the map of "the predecessor of this cell is option k".
    towards = torch.stack([predecessor == k for k in range(len(OFFSETS))], dim=-3)
    walker = torch.zeros_like(costs)
    walker[..., -1, -1] = 1.0
    on_path = walker
    for _ in range(height * width - 1):
        walker = move_to_neighbours(walker.unsqueeze(-3) * towards)
        on_path = 1 - (1 - on_path) * (1 - walker)
    return on_path
