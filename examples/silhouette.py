"""Relaxed silhouette rasterisers written as plain Python (Petersen et al., NeurIPS 2021, sec. 4.3).

A silhouette is drawn the way a textbook states it: *for each pixel and each triangle, if the pixel
lies inside the triangle, the pixel is set to 1*. The two functions below say "inside" in the
paper's two ways:

* ``three_edges`` -- three nested ``if``s: the pixel lies on the inner side of edge 0, of edge 1
  and of edge 2;
* ``euclidean`` -- one ``if``: the directed Euclidean distance from the pixel to the triangle
  (positive inside, negative outside) is positive.

relaxc compiles them. Every ``if`` is an elementwise condition over the pixels (``px``, ``py`` hold
all pixel centres), and the union over triangles comes out of relaxc's path merging:
``image = 1.0`` under a condition of probability p merges into ``image <- p + (1 - p) * image``,
so after every triangle each pixel holds 1 - prod_f (1 - p_f), the paper's relaxed silhouette.
``mode="hard"`` is the exact rasteriser.

Units. Everything happens on the screen in normalised device coordinates (NDC: the image spans
[-1, 1] in x and y, one pixel is 2/64 wide at 64x64). The quantity a condition compares with 0,
and therefore beta, is in NDC squared for both renderers:

* three edges: the edge function (b - a) x (p - a), twice the signed area of the triangle
  (a, b, p), i.e. the edge's length times the pixel's distance to the edge's line;
* Euclidean: the signed *squared* distance d|d| from the pixel centre to the triangle, as SoftRas
  (Liu et al. 2019) relaxes it with its sigma.

The paper gives beta = 1/10000 (three edges) and 1/2000 (Euclidean) without units; these are our
defaults, read in the units above. ``softras`` is SoftRas' aggregation of the same squared
distances (1 - prod (1 - sigmoid(d|d| / sigma))), written directly in torch, the paper's baseline.

Faces must be wound counter-clockwise on the screen (``screen_triangles`` does so): a closed mesh
covers its silhouette with either orientation, and the three-edges test is stated for one.
"""

from __future__ import annotations

import math

import torch

import relaxc

#: The paper's temperatures (sec. 4.3), in NDC squared (module docstring).
BETA_THREE_EDGES = 1e-4
BETA_EUCLIDEAN = 1 / 2000
#: SoftRas' sigma for single-view reconstruction (Liu et al. 2019), NDC squared.
SIGMA_SOFTRAS = 1e-4


def three_edges(faces, px, py):
    """Silhouette of triangles ``faces`` over the pixel centres ``(px, py)``.

    ``faces`` holds per instance F triangles ``(x0, y0, x1, y1, x2, y2)``, counter-clockwise on the
    screen; each coordinate carries a trailing axis of length 1 so it meets every pixel.
    """
    image = 0.0 * px
    for x0, y0, x1, y1, x2, y2 in faces:
        if (x1 - x0) * (py - y0) - (y1 - y0) * (px - x0) > 0:
            if (x2 - x1) * (py - y1) - (y2 - y1) * (px - x1) > 0:
                if (x0 - x2) * (py - y2) - (y0 - y2) * (px - x2) > 0:
                    image = 1.0
    return image


def euclidean(faces, px, py):
    """Like :func:`three_edges`, with "inside" as a positive directed distance to the triangle."""
    image = 0.0 * px
    for x0, y0, x1, y1, x2, y2 in faces:
        if directed_squared_distance(x0, y0, x1, y1, x2, y2, px, py) > 0:
            image = 1.0
    return image


@relaxc.do_not_convert  # geometry, not a decision: its min and its inside test stay exact
def directed_squared_distance(x0, y0, x1, y1, x2, y2, px, py):
    """d|d|, d the distance from ``(px, py)`` to the counter-clockwise triangle, positive inside.

    Plain torch, elementwise with broadcasting. d|d| is continuous across the edges (0 there), so
    its sign is the only thing that jumps.
    """
    squared = torch.minimum(
        torch.minimum(_segment_squared_distance(x0, y0, x1, y1, px, py),
                      _segment_squared_distance(x1, y1, x2, y2, px, py)),
        _segment_squared_distance(x2, y2, x0, y0, px, py))
    inside = ((_edge(x0, y0, x1, y1, px, py) > 0) & (_edge(x1, y1, x2, y2, px, py) > 0)
              & (_edge(x2, y2, x0, y0, px, py) > 0))
    return torch.where(inside, squared, -squared)


def _edge(ax, ay, bx, by, px, py):
    return (bx - ax) * (py - ay) - (by - ay) * (px - ax)


def _segment_squared_distance(ax, ay, bx, by, px, py):
    ex, ey = bx - ax, by - ay
    # A degenerate edge (a == b) is a point: t = 0 instead of 0/0.
    t = ((px - ax) * ex + (py - ay) * ey) / (ex * ex + ey * ey).clamp_min(1e-20)
    t = t.clamp(0.0, 1.0)
    dx, dy = px - ax - t * ex, py - ay - t * ey
    return dx * dx + dy * dy


def softras(faces, px, py, sigma=SIGMA_SOFTRAS):
    """SoftRas' silhouette aggregation in plain torch, vectorised over faces and pixels.

    D_f = sigmoid(d_f|d_f| / sigma) per face, image = 1 - prod_f (1 - D_f) (Liu et al. 2019,
    eq. 3 and the silhouette aggregation A_O). ``faces`` is ``(B, F, 6, 1)`` as for the others.
    """
    x0, y0, x1, y1, x2, y2 = faces.unbind(dim=2)   # (B, F, 1) each, meeting (1, 1, P) pixels
    d = directed_squared_distance(x0, y0, x1, y1, x2, y2, px.unsqueeze(1), py.unsqueeze(1))
    # log(1 - sigmoid(z)) = logsigmoid(-z): the product in log space, stable for 1,280 faces.
    return 1.0 - torch.exp(torch.nn.functional.logsigmoid(-d / sigma).sum(dim=1))


relaxed_three_edges = relaxc.relax(three_edges, beta=BETA_THREE_EDGES, replay=True)
relaxed_euclidean = relaxc.relax(euclidean, beta=BETA_EUCLIDEAN, replay=True)


def pixel_centres(size: int, dtype=torch.float32) -> tuple[torch.Tensor, torch.Tensor]:
    """NDC x and y of the pixel centres of a size x size image, row-major, each ``(1, size²)``.

    Row 0 is the top of the image (y = 1 - 1/size), column 0 its left (x = -1 + 1/size).
    """
    centres = (torch.arange(size, dtype=dtype) * 2 + 1) / size - 1
    y, x = torch.meshgrid(-centres, centres, indexing="ij")
    return x.reshape(1, -1), y.reshape(1, -1)


def screen_triangles(screen: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
    """Triangles ``(B, F, 6, 1)`` from projected vertices ``(B, V, 2)`` and faces ``(F, 3)`` int.

    Clockwise triangles get their last two corners swapped (a permutation, so gradients pass), since
    the renderers test one orientation.
    """
    corners = screen[:, faces]                          # (B, F, 3, 2)
    a, b, c = corners.unbind(dim=2)
    area2 = (b[..., 0] - a[..., 0]) * (c[..., 1] - a[..., 1]) - (b[..., 1] - a[..., 1]) * (c[..., 0] - a[..., 0])
    clockwise = (area2 < 0).unsqueeze(-1)
    b, c = torch.where(clockwise, c, b), torch.where(clockwise, b, c)
    return torch.cat([a, b, c], dim=-1).unsqueeze(-1)


RENDERERS = ("three_edges", "euclidean", "softras")


def render(name: str, screen: torch.Tensor, faces: torch.Tensor, size: int, beta: float | None = None,
           mode: str = "relaxed") -> torch.Tensor:
    """Silhouettes ``(B, size, size)`` of meshes with projected vertices ``(B, V, 2)`` (NDC)."""
    px, py = pixel_centres(size, screen.dtype)
    triangles = screen_triangles(screen, faces)
    if name == "softras":
        if mode != "relaxed":
            raise ValueError("softras has no hard mode; use three_edges or euclidean with mode='hard'")
        image = softras(triangles, px, py, SIGMA_SOFTRAS if beta is None else beta)
    elif name == "three_edges":
        image = relaxed_three_edges.options(beta=BETA_THREE_EDGES if beta is None else beta, mode=mode)(
            triangles, px, py)
    elif name == "euclidean":
        image = relaxed_euclidean.options(beta=BETA_EUCLIDEAN if beta is None else beta, mode=mode)(
            triangles, px, py)
    else:
        raise ValueError(f"unknown renderer {name!r}; expected one of {RENDERERS}")
    return image.to(screen.dtype).reshape(-1, size, size)


def saved_bytes(function) -> tuple[object, int]:
    """Run ``function()``; also return the bytes of the distinct tensors autograd keeps for backward."""
    storages: dict[int, int] = {}

    def pack(tensor):
        storages[tensor.untyped_storage().data_ptr()] = tensor.untyped_storage().nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        result = function()
    return result, sum(storages.values())


def benchmark(repeats: int = 5, size: int = 64, batch: int = 2, seed: int = 0) -> dict:
    """Forward+backward seconds (median) and autograd memory of each renderer on SoftRas' sphere."""
    import time

    from shapes_data import icosphere, project

    vertices, faces = icosphere(3)
    generator = torch.Generator().manual_seed(seed)
    radius = 0.5 * (1 + 0.1 * torch.randn(batch, len(vertices), 1, generator=generator, dtype=torch.float64))
    shape = (vertices * radius).float()
    azimuth = 15.0 * torch.arange(batch)
    results = {}
    for name in RENDERERS:
        times = []
        for repeat in range(repeats + 1):   # the first call compiles and records the replay
            screen = project(shape, azimuth).requires_grad_()
            started = time.perf_counter()
            image, saved = saved_bytes(lambda: render(name, screen, faces, size))
            forward = time.perf_counter() - started
            image.sum().backward()
            if repeat:
                times.append((forward, time.perf_counter() - started))
        times.sort(key=lambda t: t[1])
        forward, total = times[len(times) // 2]
        results[name] = {"forward_seconds": forward, "forward_backward_seconds": total,
                         "saved_for_backward_mb": saved / 2**20}
    return {"vertices": len(vertices), "faces": len(faces), "image_size": size, "batch": batch,
            "repeats": repeats, "threads": torch.get_num_threads(), "torch": torch.__version__,
            "renderers": results}


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description="Time the three silhouette renderers (forward+backward).")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", help="write the JSON here too")
    args = parser.parse_args()
    summary = benchmark(args.repeats)
    text = json.dumps(summary, indent=2)
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
