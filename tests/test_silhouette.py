"""The relaxed rasterisers of examples/silhouette.py against an exact reference rasteriser.

The reference is written here, independently of the renderers: numpy, float64, a pixel is covered
when its centre lies strictly inside some triangle of either orientation (all three barycentric
coordinates of one sign). Meshes are random: perturbed icospheres seen through NMR's camera and
triangle soups with both orientations.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))  # the examples are scripts, not an installed package

import shapes_data  # noqa: E402
import silhouette  # noqa: E402

RELAXED = ("three_edges", "euclidean")


def reference_silhouette(screen: np.ndarray, faces: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact silhouettes ``(B, size, size)`` and the pixels whose centre lies within 1e-6 of an edge."""
    centres = (np.arange(size) * 2 + 1) / size - 1
    y, x = np.meshgrid(-centres, centres, indexing="ij")            # row 0 at the top
    p = np.stack([x.ravel(), y.ravel()], axis=-1)[None, None]       # (1, 1, P, 2)
    tri = screen[:, faces][:, :, :, None, :]                        # (B, F, 3, 1, 2)
    a, b, c = tri[:, :, 0], tri[:, :, 1], tri[:, :, 2]

    def cross(u, v, w):
        return (v[..., 0] - u[..., 0]) * (w[..., 1] - u[..., 1]) - (v[..., 1] - u[..., 1]) * (w[..., 0] - u[..., 0])

    w0, w1, w2 = cross(b, c, p), cross(c, a, p), cross(a, b, p)
    inside = ((w0 > 0) & (w1 > 0) & (w2 > 0)) | ((w0 < 0) & (w1 < 0) & (w2 < 0))

    def segment_distance(u, v):
        e = v - u
        t = np.clip(((p - u) * e).sum(-1) / np.maximum((e * e).sum(-1), 1e-300), 0, 1)
        return np.linalg.norm(p - u - t[..., None] * e, axis=-1)

    near = np.minimum(np.minimum(segment_distance(a, b), segment_distance(b, c)), segment_distance(c, a))
    return inside.any(axis=1).reshape(-1, size, size), (near < 1e-6).any(axis=1).reshape(-1, size, size)


def random_sphere_meshes(batch: int, subdivisions: int, seed: int, noise: float = 0.15):
    """Perturbed icospheres of radius about 0.5, projected from random NMR azimuths: ``(B, V, 2)``, faces."""
    generator = torch.Generator().manual_seed(seed)
    vertices, faces = shapes_data.icosphere(subdivisions)
    radius = 0.5 * (1 + noise * torch.randn(batch, len(vertices), 1, generator=generator, dtype=torch.float64))
    azimuth = 15.0 * torch.randint(0, 24, (batch,), generator=generator)
    return shapes_data.project(vertices * radius, azimuth), faces


def random_triangle_soup(batch: int, count: int, seed: int):
    """Unconnected triangles of random size and either orientation, partly off the image."""
    generator = torch.Generator().manual_seed(seed)
    centres = torch.rand(batch, count, 1, 2, generator=generator, dtype=torch.float64) * 2.4 - 1.2
    corners = centres + 0.4 * torch.randn(batch, count, 3, 2, generator=generator, dtype=torch.float64)
    return corners.reshape(batch, count * 3, 2), torch.arange(count * 3).reshape(count, 3)


@pytest.mark.parametrize("name", RELAXED)
@pytest.mark.parametrize("seed", [0, 1])
def test_hard_mode_is_the_exact_rasteriser_on_random_meshes(name, seed):
    for screen, faces, size in [(*random_sphere_meshes(3, 2, seed), 32), (*random_triangle_soup(2, 40, seed), 24)]:
        expected, near = reference_silhouette(screen.numpy(), faces.numpy(), size)
        hard = silhouette.render(name, screen, faces, size, mode="hard").numpy()
        assert set(np.unique(hard)) <= {0.0, 1.0}
        assert 0.05 < expected.mean() < 0.95   # the meshes cover part of the image
        differ = (hard != expected) & ~near
        assert not differ.any(), f"{differ.sum()} pixels differ from the reference"


@pytest.mark.slow   # about 30 s each: the first call of a 1,280-face loop records its replay
@pytest.mark.parametrize("name", RELAXED)
def test_hard_mode_is_exact_on_the_full_sphere_at_64x64(name):
    screen, faces = random_sphere_meshes(2, 3, seed=5, noise=0.1)
    expected, near = reference_silhouette(screen.numpy(), faces.numpy(), 64)
    hard = silhouette.render(name, screen.float(), faces, 64, mode="hard").numpy()
    assert ((hard != expected) & ~near).sum() == 0


def test_a_single_triangle_is_the_product_of_three_edge_probabilities():
    # The union comes from relaxc's merges: one triangle gives σ(e0/β)σ(e1/β)σ(e2/β), two give
    # 1 − (1 − p)(1 − q); checked against those closed forms.
    screen, faces = random_triangle_soup(2, 2, seed=3)
    beta = 0.02
    px, py = silhouette.pixel_centres(8, torch.float64)
    triangles = silhouette.screen_triangles(screen, faces)
    coverage = []
    for f in range(2):
        x0, y0, x1, y1, x2, y2 = triangles[:, f].unbind(1)
        e = [(x1 - x0) * (py - y0) - (y1 - y0) * (px - x0), (x2 - x1) * (py - y1) - (y2 - y1) * (px - x1),
             (x0 - x2) * (py - y2) - (y0 - y2) * (px - x2)]
        coverage.append(torch.sigmoid(e[0] / beta) * torch.sigmoid(e[1] / beta) * torch.sigmoid(e[2] / beta))
    one = silhouette.render("three_edges", screen[:, :3], faces[:1], 8, beta=beta).reshape(2, -1)
    torch.testing.assert_close(one, coverage[0])
    both = silhouette.render("three_edges", screen, faces, 8, beta=beta).reshape(2, -1)
    torch.testing.assert_close(both, 1 - (1 - coverage[0]) * (1 - coverage[1]))


def test_euclidean_single_triangle_is_the_sigmoid_of_the_directed_distance():
    screen, faces = random_triangle_soup(1, 1, seed=4)
    beta = 1e-3
    image = silhouette.render("euclidean", screen, faces, 16, beta=beta).reshape(1, -1)
    expected, near = reference_silhouette(screen.numpy(), faces.numpy(), 16)
    # Closed form from the reference's own distance: d|d| with d the distance to the boundary.
    px, py = silhouette.pixel_centres(16, torch.float64)
    x0, y0, x1, y1, x2, y2 = silhouette.screen_triangles(screen, faces)[:, 0].unbind(1)
    d = silhouette.directed_squared_distance(x0, y0, x1, y1, x2, y2, px, py)
    torch.testing.assert_close(image, torch.sigmoid(d / beta))
    assert ((d > 0).numpy().reshape(expected.shape) == expected).all()


@pytest.mark.parametrize("name", RELAXED + ("softras",))
def test_relaxed_silhouettes_lie_in_0_1_and_tend_to_the_hard_image(name):
    screen, faces = random_sphere_meshes(2, 2, seed=7)
    expected, near = reference_silhouette(screen.numpy(), faces.numpy(), 32)
    errors = []
    for beta in (1e-2, 1e-4, 1e-6, 1e-9):
        image = silhouette.render(name, screen, faces, 32, beta=beta).numpy()
        assert (image >= 0).all() and (image <= 1).all()
        errors.append(np.abs(image - expected)[~near].mean())
    assert errors[0] > errors[1] > errors[2] >= errors[3]
    assert errors[3] < 1e-3   # only pixels within ~sqrt(β) of an edge are still undecided


@pytest.mark.parametrize("name", RELAXED + ("softras",))
@pytest.mark.parametrize("subdivisions, size", [
    (2, 32), pytest.param(3, 64, marks=pytest.mark.slow, id="full-sphere-64x64")])
def test_gradients_are_finite_at_the_papers_beta(name, subdivisions, size):
    screen, faces = random_sphere_meshes(2, subdivisions, seed=8, noise=0.1)
    screen = screen.float().requires_grad_()
    image = silhouette.render(name, screen, faces, size)
    target = torch.zeros_like(image)
    target[:, size // 4:3 * size // 4, size // 4:3 * size // 4] = 1
    loss = 1 - (image * target).sum() / (image + target - image * target).sum()
    loss.backward()
    assert torch.isfinite(screen.grad).all() and screen.grad.abs().sum() > 0


@pytest.mark.parametrize("name", RELAXED)
def test_gradients_equal_finite_differences(name):
    screen, faces = random_sphere_meshes(1, 0, seed=9)
    screen.requires_grad_()
    weights = torch.rand(1, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    assert torch.autograd.gradcheck(
        lambda s: (silhouette.render(name, s, faces, 8, beta=0.05) * weights).sum(), (screen,))


def test_screen_triangles_wind_counter_clockwise_and_keep_gradients():
    screen, faces = random_triangle_soup(2, 30, seed=10)
    triangles = silhouette.screen_triangles(screen.requires_grad_(), faces)
    x0, y0, x1, y1, x2, y2 = triangles[..., 0].unbind(-1)
    assert ((x1 - x0) * (y2 - y0) - (y1 - y0) * (x2 - x0) >= 0).all()
    triangles.sum().backward()
    assert torch.equal(screen.grad, torch.ones_like(screen))


def test_unknown_renderer_and_hard_softras_are_refused():
    screen, faces = random_triangle_soup(1, 1, seed=0)
    with pytest.raises(ValueError, match="unknown renderer"):
        silhouette.render("phong", screen, faces, 8)
    with pytest.raises(ValueError, match="no hard mode"):
        silhouette.render("softras", screen, faces, 8, mode="hard")
