"""The procedural NMR-layout data of examples/shapes_data.py: camera, images, voxels, files."""

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


def asymmetric_shape() -> list[shapes_data.Part]:
    """No symmetry of the cube maps it onto itself: three different parts on three different sides."""
    return [shapes_data.Part("box", (0.2, -0.25, 0.1), (0.22, 0.1, 0.15)),
            shapes_data.Part("cylinder", (0.25, 0.2, -0.2), (0.08, 0.2, 0.08)),
            shapes_data.Part("cone", (-0.2, -0.1, -0.3), (0.12, 0.15, 0.12), (0.6, 0.0, 0.3)),
            shapes_data.Part("ellipsoid", (-0.3, 0.2, 0.25), (0.1, 0.15, 0.12))]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


def test_voxel_axis_order_mesh_voxelised_matches_stored_voxels():
    parts = asymmetric_shape()
    stored = shapes_data.voxelize_parts(parts)
    vertices, faces = shapes_data.object_mesh(parts)
    from_mesh = shapes_data.voxelize_mesh(torch.from_numpy(vertices)[None], torch.from_numpy(faces))[0].numpy()
    assert stored.sum() > 500
    assert iou(from_mesh, stored) > 0.95
    # Any other axis order or flip would be caught: each gives a far lower IoU.
    for other in (stored.transpose(1, 0, 2), stored.transpose(2, 1, 0), stored[::-1], stored[:, ::-1],
                  stored[:, :, ::-1]):
        assert iou(from_mesh, np.ascontiguousarray(other)) < 0.3


def test_voxel_centres_follow_softras_evaluation_map():
    # SoftRas maps mesh coordinates c to c·31/32 + 0.5 in [0, 1]^3 and voxel (x, y, z) covers
    # [index/32, (index+1)/32); the stored grid is that grid transposed to (y, x) and flipped in z.
    centres = shapes_data.voxel_centres()
    x, y, z = 3, 17, 28
    softras_centre = ((np.array([x, y, z]) + 0.5) / 32 - 0.5) * 32 / 31
    np.testing.assert_allclose(centres[y, x, 31 - z], softras_centre)


def test_images_show_the_mesh_through_the_renderers_camera():
    """The ray-cast alpha equals the exact rasteriser's silhouette of the part meshes, per view
    (up to the tessellation of curved parts)."""
    parts = asymmetric_shape()
    vertices, faces = shapes_data.object_mesh(parts)
    azimuths = torch.tensor([0.0, 90.0, 195.0])
    screen = shapes_data.project(torch.from_numpy(vertices).expand(3, -1, -1), azimuths)
    mesh_silhouette = silhouette.render("three_edges", screen, torch.from_numpy(faces), 64, mode="hard").numpy() > 0.5
    for view, azimuth in enumerate(azimuths.tolist()):
        alpha = shapes_data.render_alpha(parts, azimuth, supersample=1)   # one ray per pixel centre
        assert iou(alpha > 0.5, mesh_silhouette[view]) > 0.97
        # ...and not the mirrored image or another view's.
        assert iou(alpha > 0.5, mesh_silhouette[view][:, ::-1]) < 0.8
        assert iou(alpha > 0.5, mesh_silhouette[(view + 1) % 3]) < 0.8


def test_camera_is_nmrs():
    eye = shapes_data.eye_position(torch.tensor([0.0, 90.0]))
    torch.testing.assert_close(eye.norm(dim=-1), torch.full((2,), 2.732, dtype=torch.float64))
    torch.testing.assert_close(eye[:, 1], torch.full((2,), 2.732 * 0.5, dtype=torch.float64))
    points = torch.tensor([[[0.0, 0.0, 0.0], [0.1, 0.0, 0.0], [0.0, 0.1, 0.0]]], dtype=torch.float64)
    screen = shapes_data.project(points, torch.tensor([0.0]))[0]
    torch.testing.assert_close(screen[0], torch.zeros(2, dtype=torch.float64))
    assert screen[1, 0] > 0 and screen[2, 1] > 0   # +x to the right, y up, at azimuth 0
    # The origin is at distance 2.732 along the view axis: 0.1 across spans 0.1 / (2.732 tan 15°).
    assert abs(screen[1, 0] - 0.1 / (2.732 * np.tan(np.radians(15)))) < 1e-12


@pytest.mark.parametrize("name", sorted(shapes_data.GENERATORS))
def test_every_class_is_normalised_varied_and_deterministic(name):
    objects = [shapes_data.make_object(name, np.random.default_rng([7, i])) for i in range(12)]
    for parts in objects:
        corners = np.concatenate([p.corners() for p in parts])
        assert corners.min() >= -0.5 - 1e-9 and corners.max() <= 0.5 + 1e-9
        assert np.isclose((corners.max(0) - corners.min(0)).max(), 1.0)
        assert shapes_data.voxelize_parts(parts).any()
    # Sub-types: objects of one class differ in how many parts they have (or at least in size).
    counts = {len(parts) for parts in objects}
    sizes = {round(float(p.half.sum()), 6) for parts in objects for p in parts}
    assert len(counts) >= 2 or len(sizes) > 12
    again = shapes_data.make_object(name, np.random.default_rng([7, 0]))
    assert all(np.array_equal(p.centre, q.centre) and np.array_equal(p.half, q.half) for p, q in zip(objects[0], again))


def test_files_have_nmrs_layout_and_are_deterministic(tmp_path):
    sizes = {"train": 2, "val": 1, "test": 1}
    shapes_data.generate(tmp_path / "a", ["chair"], sizes, seed=3)
    shapes_data.generate(tmp_path / "b", ["chair"], sizes, seed=3)
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(
        f"03001627_{split}_{kind}.npz" for split in ("train", "val", "test") for kind in ("images", "voxels"))
    images, voxels = shapes_data.load_split(tmp_path / "a", "chair", "train")
    assert images.shape == (2, 24, 4, 64, 64) and images.dtype == np.uint8
    assert voxels.shape == (2, 32, 32, 32) and voxels.dtype == bool
    alpha = images[:, :, 3]
    assert alpha.max() == 255 and alpha.min() == 0 and ((alpha > 0) & (alpha < 255)).any()   # anti-aliased
    again, _ = shapes_data.load_split(tmp_path / "b", "chair", "train")
    assert np.array_equal(images, again)


def test_missing_or_malformed_files_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="03001627_val_images.npz"):
        shapes_data.load_split(tmp_path, "chair", "val")
    np.savez(tmp_path / "03001627_val_images.npz", np.zeros((1, 24, 3, 64, 64), np.uint8))
    np.savez(tmp_path / "03001627_val_voxels.npz", np.zeros((1, 32, 32, 32), bool))
    with pytest.raises(ValueError, match="expected"):
        shapes_data.load_split(tmp_path, "chair", "val")
    with pytest.raises(ValueError, match="unknown class"):
        shapes_data.make_object("giraffe", np.random.default_rng(0))


def test_voxelised_icosphere_is_a_ball():
    vertices, faces = shapes_data.icosphere(3)
    assert vertices.shape == (642, 3) and faces.shape == (1280, 3)
    voxels = shapes_data.voxelize_mesh(0.4 * vertices[None], faces)[0].numpy()
    ball = np.linalg.norm(shapes_data.voxel_centres(), axis=-1) < 0.4
    assert iou(voxels, ball) > 0.97
