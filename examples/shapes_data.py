"""Data for silhouette supervision: procedural stand-ins for the 13 ShapeNet classes, in NMR's layout.

Kato et al. (Neural 3D Mesh Renderer, NMR) rendered 13 ShapeNet classes from 24 views and voxelised
them; SoftRas (Liu et al. 2019) and Petersen et al. (2021) train and evaluate on those files::

    <classid>_<split>_images.npz   arr_0: (N, 24, 4, 64, 64) uint8, RGBA, alpha = silhouette
    <classid>_<split>_voxels.npz   arr_0: (N, 32, 32, 32) bool

ShapeNet cannot be downloaded here, so :func:`generate` writes files of that layout from a
procedural generator: every object is a union of parametric parts (boxes, cylinders, ellipsoids,
cones) with class-specific sizes and 2-4 sub-types per class, normalised into [-0.5, 0.5]^3, y up.
Point ``--data-dir`` at the real files and nothing else changes.

The camera is NMR's: eye at distance 2.732, elevation 30 degrees, azimuth 15 v degrees for view
v = 0..23, looking at the origin with y up, perspective with a 15 degree half-angle; screen
coordinates are NDC (the image spans [-1, 1], row 0 at the top). Images are ray-cast exactly
against the parts at 2x2 samples per pixel (anti-aliased alpha in steps of 1/4); RGB is the
object's flat colour times alpha.

Voxels. Voxel (i, j, k) of the stored grid is occupied when its centre lies in the object. Its
centre in object coordinates follows SoftRas' evaluation (``evaluate_iou``: the mesh is mapped by
c -> c * 31/32 + 0.5 into [0, 1]^3, voxelised on a 32^3 grid indexed (x, y, z), then stored as
``grid.transpose(0, 2, 1, 3)[:, :, :, ::-1]``): i indexes y, j indexes x and k indexes z reversed,
at (index + 0.5 - 16) / 31. :func:`voxel_centres` is that map and :func:`voxelize_mesh` uses it,
so predictions and stored voxels agree by construction; ``tests/test_silhouette_data.py`` pins it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

#: NMR's 13 classes with their ShapeNet synset ids (the file names of the original data).
CLASS_IDS = {
    "airplane": "02691156", "bench": "02828884", "cabinet": "02933112", "car": "02958343",
    "chair": "03001627", "display": "03211117", "lamp": "03636649", "loudspeaker": "03691459",
    "rifle": "04090263", "sofa": "04256520", "table": "04379243", "telephone": "04401088",
    "watercraft": "04530566",
}
SPLITS = ("train", "val", "test")
VIEWS = 24
IMAGE_SIZE = 64
VOXELS = 32
CAMERA_DISTANCE = 2.732
ELEVATION = 30.0
HALF_ANGLE = 15.0
SUPERSAMPLE = 2

KINDS = ("box", "cylinder", "ellipsoid", "cone")


# ---------------------------------------------------------------- camera


def eye_position(azimuth_degrees: torch.Tensor | float, elevation: float = ELEVATION,
                 distance: float = CAMERA_DISTANCE) -> torch.Tensor:
    """NMR's ``get_points_from_angles``: the eye ``(..., 3)`` for azimuths in degrees."""
    azimuth = torch.as_tensor(azimuth_degrees, dtype=torch.float64).deg2rad()
    el = math.radians(elevation)
    return torch.stack([distance * math.cos(el) * azimuth.sin(),
                        distance * math.sin(el) * torch.ones_like(azimuth),
                        -distance * math.cos(el) * azimuth.cos()], dim=-1)


def camera_axes(eye: torch.Tensor) -> torch.Tensor:
    """NMR's ``look_at`` rotation ``(..., 3, 3)``: rows are the camera's x, y, z axes in world space."""
    up = torch.tensor([0.0, 1.0, 0.0], dtype=eye.dtype).expand_as(eye)
    z = torch.nn.functional.normalize(-eye, dim=-1)
    x = torch.nn.functional.normalize(torch.linalg.cross(up, z), dim=-1)
    y = torch.nn.functional.normalize(torch.linalg.cross(z, x), dim=-1)
    return torch.stack([x, y, z], dim=-2)


def project(vertices: torch.Tensor, azimuth_degrees: torch.Tensor) -> torch.Tensor:
    """Screen coordinates (NDC) ``(B, V, 2)`` of vertices ``(B, V, 3)`` seen from azimuths ``(B,)``."""
    eye = eye_position(azimuth_degrees).to(vertices.dtype)
    camera = torch.einsum("bvk,bjk->bvj", vertices - eye[:, None], camera_axes(eye))
    width = math.tan(math.radians(HALF_ANGLE))
    return camera[..., :2] / (camera[..., 2:] * width)


# ---------------------------------------------------------------- parts


def rotation(angles) -> np.ndarray:
    """Rotation matrix R = Rz Ry Rx for angles (radians) about x, y and z."""
    ax, ay, az = angles
    cx, sx, cy, sy, cz, sz = np.cos(ax), np.sin(ax), np.cos(ay), np.sin(ay), np.cos(az), np.sin(az)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


class Part:
    """A canonical solid mapped into the object: world = R @ (half * u) + centre.

    Canonical solids, u in [-1, 1]^3, axis along y: box (the cube), cylinder (x² + z² <= 1),
    ellipsoid (|u| <= 1) and cone (radius 1 at y = -1, apex at y = 1).
    """

    def __init__(self, kind: str, centre, half, angles=(0.0, 0.0, 0.0)):
        if kind not in KINDS:
            raise ValueError(f"unknown part kind {kind!r}; expected one of {KINDS}")
        self.kind = kind
        self.centre = np.asarray(centre, dtype=np.float64)
        self.half = np.asarray(half, dtype=np.float64)
        if self.half.shape != (3,) or (self.half <= 0).any():
            raise ValueError(f"half sizes must be three positive numbers, got {half}")
        self.rotation = rotation(angles)

    def scaled(self, factor: float, shift: np.ndarray) -> "Part":
        part = Part(self.kind, (self.centre + shift) * factor, self.half * factor)
        part.rotation = self.rotation
        return part

    def to_canonical(self, points: np.ndarray) -> np.ndarray:
        """u = (R^T (p - centre)) / half for points ``(..., 3)``."""
        return ((points - self.centre) @ self.rotation) / self.half

    def corners(self) -> np.ndarray:
        cube = np.array(np.meshgrid([-1, 1], [-1, 1], [-1, 1], indexing="ij")).reshape(3, -1).T
        return (cube * self.half) @ self.rotation.T + self.centre

    def quadric(self, u: np.ndarray) -> np.ndarray | None:
        """The canonical solid's curved side as q(u) <= 0 (None for the box)."""
        x, y, z = u[..., 0], u[..., 1], u[..., 2]
        if self.kind == "cylinder":
            return x * x + z * z - 1
        if self.kind == "ellipsoid":
            return x * x + y * y + z * z - 1
        if self.kind == "cone":
            return x * x + z * z - ((1 - y) / 2) ** 2
        return None

    def contains(self, points: np.ndarray) -> np.ndarray:
        u = self.to_canonical(points)
        inside = (np.abs(u) <= 1).all(axis=-1)
        q = self.quadric(u)
        return inside if q is None else inside & (q <= 0)

    def hit_by(self, origin: np.ndarray, directions: np.ndarray) -> np.ndarray:
        """Whether rays origin + t d (t > 0), directions ``(R, 3)``, meet the solid (exactly)."""
        o = self.to_canonical(origin)
        d = (directions @ self.rotation) / self.half
        # The slab |u| <= 1 on the ray: t in [near, far] (every kind lies inside the cube).
        with np.errstate(divide="ignore", invalid="ignore"):
            t1, t2 = (-1 - o) / d, (1 - o) / d
        lo, hi = np.minimum(t1, t2), np.maximum(t1, t2)
        parallel = d == 0
        lo = np.where(parallel, np.where(np.abs(o) <= 1, -np.inf, np.inf), lo)
        hi = np.where(parallel, np.where(np.abs(o) <= 1, np.inf, -np.inf), hi)
        near, far = np.maximum(lo.max(axis=-1), 0.0), hi.min(axis=-1)
        hit = near <= far
        if self.kind == "box":
            return hit
        # q along the ray is a quadratic a t² + b t + c; it is <= 0 somewhere on [near, far] iff its
        # minimum there is: at an end, or at the vertex when that lies inside and a > 0.
        near, far = np.where(hit, near, 0.0), np.where(hit, far, 0.0)
        q_near = self.quadric(o + near[:, None] * d)
        q_far = self.quadric(o + far[:, None] * d)
        q_mid = self.quadric(o + 0.5 * (near + far)[:, None] * d)
        a = 2 * (q_near + q_far - 2 * q_mid) / np.maximum(far - near, 1e-12) ** 2
        b_span = q_far - q_near   # = a (far² - near²) + b (far - near)
        with np.errstate(divide="ignore", invalid="ignore"):
            b = b_span / (far - near) - a * (far + near)
            vertex = -b / (2 * a)
        vertex_ok = (a > 0) & (vertex > near) & (vertex < far)
        q_vertex = self.quadric(o + np.where(vertex_ok, vertex, near)[:, None] * d)
        lowest = np.minimum(np.minimum(q_near, q_far), np.where(vertex_ok, q_vertex, np.inf))
        return hit & (lowest <= 0)


# ---------------------------------------------------------------- the 13 classes


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _legs(rng, width, depth, height, thickness, round_legs=False):
    """Four legs under a top at y = 0 spanning x in ±width, z in ±depth."""
    kind = "cylinder" if round_legs else "box"
    return [Part(kind, (sx * (width - thickness), -height / 2, sz * (depth - thickness)),
                 (thickness, height / 2, thickness)) for sx in (-1, 1) for sz in (-1, 1)]


def airplane(rng):
    length, radius = _u(rng, 0.8, 1.0), _u(rng, 0.05, 0.09)
    span, chord = _u(rng, 0.7, 1.0), _u(rng, 0.1, 0.2)
    sub = rng.integers(3)
    parts = [Part("ellipsoid", (0, 0, 0), (radius, radius, length / 2)),
             Part("box", (0, 0.08, length * 0.42), (0.01, _u(rng, 0.07, 0.12), 0.05)),
             Part("box", (0, 0.0, length * 0.42), (_u(rng, 0.12, 0.2), 0.01, 0.04))]
    if sub == 0:     # straight wings
        parts.append(Part("box", (0, 0, _u(rng, -0.05, 0.05)), (span / 2, 0.012, chord / 2)))
    else:            # swept wings, one per side; sub-type 2 adds engines under them
        sweep = _u(rng, 0.3, 0.6)
        for side in (-1, 1):
            parts.append(Part("box", (side * span / 4, 0, span / 4 * math.tan(sweep)),
                              (span / 4 / math.cos(sweep), 0.012, chord / 2), (0, side * sweep, 0)))
            if sub == 2:
                parts.append(Part("cylinder", (side * span * 0.22, -0.05, 0.0), (0.03, 0.09, 0.03),
                                  (math.pi / 2, 0, 0)))
    return parts


def bench(rng):
    width, depth, height = _u(rng, 0.8, 1.0), _u(rng, 0.2, 0.35), _u(rng, 0.3, 0.45)
    sub = rng.integers(3)
    parts = [Part("box", (0, 0, 0), (width / 2, 0.025, depth / 2))]
    if sub == 2:     # two slab sides instead of legs
        parts += [Part("box", (s * (width / 2 - 0.03), -height / 2, 0), (0.025, height / 2, depth / 2))
                  for s in (-1, 1)]
    else:
        parts += _legs(rng, width / 2, depth / 2, height, 0.025)
    if sub >= 1:     # a backrest
        parts.append(Part("box", (0, _u(rng, 0.15, 0.25), -depth / 2), (width / 2, _u(rng, 0.1, 0.18), 0.02),
                          (_u(rng, -0.3, 0.0), 0, 0)))
    return parts


def cabinet(rng):
    w, h, d = _u(rng, 0.5, 0.9), _u(rng, 0.6, 1.0), _u(rng, 0.3, 0.6)
    sub = rng.integers(3)
    if sub == 0:
        return [Part("box", (0, 0, 0), (w / 2, h / 2, d / 2))]
    if sub == 1:     # on legs
        return [Part("box", (0, 0.1, 0), (w / 2, h / 2 - 0.1, d / 2))] + [
            Part("box", (sx * (w / 2 - 0.04), -h / 2 + 0.05, sz * (d / 2 - 0.04)), (0.03, 0.05, 0.03))
            for sx in (-1, 1) for sz in (-1, 1)]
    top = _u(rng, 0.5, 0.9)   # two stacked blocks, the upper one shallower
    return [Part("box", (0, -h / 4, 0), (w / 2, h / 4, d / 2)),
            Part("box", (0, h / 4, -d * (1 - top) / 2), (w / 2, h / 4, d * top / 2))]


def car(rng):
    length, width, height = _u(rng, 0.9, 1.0), _u(rng, 0.38, 0.48), _u(rng, 0.12, 0.2)
    sub = rng.integers(3)
    wheel = _u(rng, 0.07, 0.1)
    parts = [Part("box", (0, 0, 0), (width / 2, height / 2, length / 2))]
    cabin_h = _u(rng, 0.1, 0.16) if sub != 1 else _u(rng, 0.2, 0.28)   # sub-type 1: a van
    cabin_len, cabin_z = ((_u(rng, 0.4, 0.55), _u(rng, -0.05, 0.1)) if sub == 0 else
                          (length * 0.85, 0.0) if sub == 1 else (_u(rng, 0.25, 0.35), -length * 0.2))
    parts.append(Part("box", (0, height / 2 + cabin_h / 2, cabin_z), (width / 2 * 0.9, cabin_h / 2, cabin_len / 2)))
    for sx in (-1, 1):
        for sz in (-1, 1):
            parts.append(Part("cylinder", (sx * width / 2, -height / 2, sz * length * 0.32), (wheel, 0.04, wheel),
                              (0, 0, math.pi / 2)))
    return parts


def chair(rng):
    w, d, leg = _u(rng, 0.4, 0.55), _u(rng, 0.4, 0.55), _u(rng, 0.35, 0.5)
    back = _u(rng, 0.35, 0.55)
    sub = rng.integers(3)
    parts = [Part("box", (0, 0, 0), (w / 2, 0.03, d / 2)),
             Part("box", (0, back / 2, -d / 2 + 0.03), (w / 2, back / 2, 0.03), (_u(rng, -0.25, 0), 0, 0))]
    if sub == 1:     # a pedestal on a disc
        parts += [Part("cylinder", (0, -leg / 2, 0), (0.04, leg / 2, 0.04)),
                  Part("cylinder", (0, -leg, 0), (w / 2, 0.02, w / 2))]
    else:
        parts += _legs(rng, w / 2, d / 2, leg, 0.025, round_legs=bool(rng.integers(2)))
    if sub == 2:     # armrests
        parts += [Part("box", (s * w / 2, 0.12, 0), (0.025, 0.02, d / 2)) for s in (-1, 1)]
        parts += [Part("box", (s * w / 2, 0.06, d / 2 - 0.03), (0.02, 0.06, 0.02)) for s in (-1, 1)]
    return parts


def display(rng):
    w, h = _u(rng, 0.7, 1.0), _u(rng, 0.45, 0.65)
    sub = rng.integers(2)
    parts = [Part("box", (0, 0, 0), (w / 2, h / 2, _u(rng, 0.015, 0.04)))]
    stand = _u(rng, 0.1, 0.2) if sub == 0 else 0.02
    parts += [Part("box", (0, -h / 2 - stand / 2, 0.05), (0.03, stand / 2, 0.02)),
              Part("box", (0, -h / 2 - stand, 0.05), (_u(rng, 0.12, 0.25), 0.015, _u(rng, 0.08, 0.14)))]
    return parts


def lamp(rng):
    height = _u(rng, 0.7, 1.0)
    sub = rng.integers(3)
    parts = [Part("cylinder", (0, -height / 2, 0), (_u(rng, 0.1, 0.18), 0.02, 0.15)),
             Part("cylinder", (0, 0, 0), (0.015, height / 2, 0.015))]
    top = height / 2
    if sub == 2:     # an angled arm carrying the shade
        reach = _u(rng, 0.15, 0.3)
        parts.append(Part("cylinder", (reach / 2, top + 0.05, 0), (0.015, reach / 2 / 0.9, 0.015), (0, 0, -1.1)))
        x = reach
    else:
        x = 0.0
    if sub == 1:
        parts.append(Part("ellipsoid", (x, top, 0), (0.12, 0.12, 0.12)))
    else:
        r = _u(rng, 0.12, 0.22)
        parts.append(Part("cone", (x, top, 0), (r, _u(rng, 0.08, 0.15), r)))
    return parts


def loudspeaker(rng):
    sub = rng.integers(3)
    if sub == 2:     # a round speaker
        r = _u(rng, 0.2, 0.35)
        return [Part("cylinder", (0, 0, 0), (r, _u(rng, 0.3, 0.5), r))]
    w, d = _u(rng, 0.3, 0.5), _u(rng, 0.3, 0.5)
    h = _u(rng, 0.7, 1.0) if sub == 0 else _u(rng, 0.35, 0.5)
    return [Part("box", (0, 0, 0), (w / 2, h / 2, d / 2)),
            Part("cylinder", (0, -h / 5, d / 2), (w / 3, 0.015, w / 3), (math.pi / 2, 0, 0))]


def rifle(rng):
    length = _u(rng, 0.9, 1.0)
    sub = rng.integers(3)
    parts = [Part("cylinder", (length * 0.25, 0.02, 0), (0.015, length * 0.25, 0.015), (0, 0, math.pi / 2)),
             Part("box", (-length * 0.05, 0, 0), (length * 0.18, _u(rng, 0.04, 0.06), 0.025)),
             Part("box", (-length * 0.36, -0.03, 0), (length * 0.14, _u(rng, 0.04, 0.06), 0.022),
                  (0, 0, _u(rng, 0.0, 0.25)))]
    if sub >= 1:     # a magazine
        parts.append(Part("box", (0, -0.09, 0), (0.03, 0.06, 0.015), (0, 0, _u(rng, -0.3, 0.0))))
    if sub == 2:     # a scope
        parts.append(Part("cylinder", (-length * 0.05, 0.09, 0), (0.025, _u(rng, 0.08, 0.13), 0.025), (0, 0, math.pi / 2)))
    return parts


def sofa(rng):
    w, d, seat = _u(rng, 0.8, 1.0), _u(rng, 0.35, 0.5), _u(rng, 0.15, 0.25)
    back = _u(rng, 0.2, 0.35)
    sub = rng.integers(3)
    parts = [Part("box", (0, 0, 0), (w / 2, seat / 2, d / 2)),
             Part("box", (0, seat / 2 + back / 2, -d / 2 + 0.05), (w / 2, back / 2 + seat / 2, 0.05))]
    if sub >= 1:     # arms
        arm = _u(rng, 0.08, 0.15)
        parts += [Part("box", (s * (w / 2 - 0.04), seat / 2, 0), (0.05, arm + seat / 2, d / 2)) for s in (-1, 1)]
    if sub == 2:     # an L-shaped chaise
        parts.append(Part("box", (w / 2 - 0.15, 0, d / 2 + 0.15), (0.15, seat / 2, 0.15)))
    return parts


def table(rng):
    w, d, h = _u(rng, 0.7, 1.0), _u(rng, 0.4, 0.8), _u(rng, 0.4, 0.7)
    sub = rng.integers(3)
    if sub == 1:     # round top on a pedestal
        r = _u(rng, 0.35, 0.5)
        return [Part("cylinder", (0, 0, 0), (r, 0.025, r)),
                Part("cylinder", (0, -h / 2, 0), (0.04, h / 2, 0.04)),
                Part("cylinder", (0, -h, 0), (r * 0.5, 0.02, r * 0.5))]
    parts = [Part("box", (0, 0, 0), (w / 2, 0.025, d / 2))]
    if sub == 2:     # two trestles
        return parts + [Part("box", (s * (w / 2 - 0.08), -h / 2, 0), (0.025, h / 2, d / 2 - 0.05)) for s in (-1, 1)]
    return parts + _legs(rng, w / 2, d / 2, h, 0.03)


def telephone(rng):
    w, h, t = _u(rng, 0.3, 0.5), _u(rng, 0.7, 1.0), _u(rng, 0.04, 0.1)
    sub = rng.integers(3)
    if sub == 2:     # a flip phone, opened
        return [Part("box", (0, -h / 4, 0), (w / 2, h / 4, t / 2)),
                Part("box", (0, h / 4, -0.06), (w / 2, h / 4, t / 2), (-0.35, 0, 0))]
    parts = [Part("box", (0, 0, 0), (w / 2, h / 2, t / 2))]
    if sub == 1:     # an antenna
        parts.append(Part("cylinder", (w / 3, h / 2 + 0.08, 0), (0.015, 0.08, 0.015)))
    return parts


def watercraft(rng):
    length, beam = _u(rng, 0.9, 1.0), _u(rng, 0.2, 0.3)
    sub = rng.integers(3)
    parts = [Part("ellipsoid", (0, 0, 0), (beam / 2, _u(rng, 0.06, 0.1), length / 2)),
             Part("box", (0, 0.02, 0), (beam / 2 * 0.8, 0.04, length / 2 * 0.7))]
    if sub == 0:     # a sailing boat: mast and sail
        mast = _u(rng, 0.4, 0.7)
        parts += [Part("cylinder", (0, mast / 2, -0.05), (0.01, mast / 2, 0.01)),
                  Part("box", (0, mast / 2, 0.08), (0.005, mast / 2 * 0.9, 0.12))]
    elif sub == 1:   # a motor boat: a cabin
        parts.append(Part("box", (0, 0.1, _u(rng, -0.1, 0.1)), (beam / 2 * 0.6, 0.06, _u(rng, 0.1, 0.2))))
    else:            # a ship: superstructure and a funnel
        parts += [Part("box", (0, 0.1, 0.1), (beam / 2 * 0.7, 0.07, 0.15)),
                  Part("cylinder", (0, 0.2, 0.05), (0.04, 0.06, 0.04))]
    return parts


GENERATORS = {"airplane": airplane, "bench": bench, "cabinet": cabinet, "car": car, "chair": chair,
              "display": display, "lamp": lamp, "loudspeaker": loudspeaker, "rifle": rifle, "sofa": sofa,
              "table": table, "telephone": telephone, "watercraft": watercraft}


def normalised(parts: list[Part]) -> list[Part]:
    """The parts scaled and shifted so the bounding box is centred with its longest side 1."""
    corners = np.concatenate([p.corners() for p in parts])
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    return [p.scaled(1.0 / (hi - lo).max(), -(lo + hi) / 2) for p in parts]


def make_object(name: str, rng: np.random.Generator) -> list[Part]:
    """One object of class ``name``: its parts, normalised into [-0.5, 0.5]^3."""
    if name not in GENERATORS:
        raise ValueError(f"unknown class {name!r}; expected one of {sorted(GENERATORS)}")
    return normalised(GENERATORS[name](rng))


# ---------------------------------------------------------------- rendering and voxels


def render_alpha(parts: list[Part], azimuth: float, size: int = IMAGE_SIZE,
                 supersample: int = SUPERSAMPLE) -> np.ndarray:
    """Anti-aliased silhouette ``(size, size)`` in [0, 1]: the fraction of sub-pixel rays that hit."""
    fine = size * supersample
    centres = (np.arange(fine) * 2 + 1) / fine - 1
    y, x = np.meshgrid(-centres, centres, indexing="ij")
    eye = eye_position(azimuth).numpy()
    axes = camera_axes(torch.from_numpy(eye)).numpy()
    width = math.tan(math.radians(HALF_ANGLE))
    directions = (x.reshape(-1, 1) * width) * axes[0] + (y.reshape(-1, 1) * width) * axes[1] + axes[2]
    unit = directions / np.linalg.norm(directions, axis=1, keepdims=True)
    hit = np.zeros(len(directions), dtype=bool)
    for part in parts:
        # Only rays that pass the part's bounding sphere can hit it (most rays, for small parts).
        to_centre = part.centre - eye
        along = unit @ to_centre
        near = (to_centre @ to_centre - along * along) <= part.half @ part.half
        hit[near] |= part.hit_by(eye, directions[near])
    return hit.reshape(size, supersample, size, supersample).mean(axis=(1, 3))


def voxel_centres(size: int = VOXELS) -> np.ndarray:
    """Object coordinates ``(size, size, size, 3)`` of the stored voxels' centres (module docstring)."""
    c = (np.arange(size) + 0.5 - size / 2) / (size - 1)
    i, j, k = np.meshgrid(c, c, c[::-1], indexing="ij")
    return np.stack([j, i, k], axis=-1)   # stored (i, j, k) holds (y, x, reversed z)


def voxelize_parts(parts: list[Part], size: int = VOXELS) -> np.ndarray:
    points = voxel_centres(size)
    occupied = np.zeros(points.shape[:-1], dtype=bool)
    for part in parts:
        occupied |= part.contains(points)
    return occupied


def voxelize_mesh(vertices: torch.Tensor, faces: torch.Tensor, size: int = VOXELS) -> torch.Tensor:
    """Voxels ``(B, size, size, size)`` bool of closed meshes ``(B, V, 3)`` with faces ``(F, 3)``.

    A voxel is occupied when its centre has a non-zero winding number: along the ray from the centre
    towards +z, crossings of faces facing +z count +1 and of faces facing -z count -1 (so a union of
    overlapping closed parts works too). Each stored column (i, j) shares one x, y.
    """
    centres = torch.from_numpy(voxel_centres(size)).to(vertices.dtype)
    px = centres[:, :, 0, 0].reshape(1, -1, 1)                         # (1, columns, 1)
    py = centres[:, :, 0, 1].reshape(1, -1, 1)
    a, b, c = (corner.unsqueeze(1) for corner in vertices[:, faces].unbind(dim=2))   # (B, 1, F, 3)

    def edge(p, q):   # twice the signed area of (p, q, column) in the xy plane
        return (q[..., 0] - p[..., 0]) * (py - p[..., 1]) - (q[..., 1] - p[..., 1]) * (px - p[..., 0])

    wa, wb, wc = edge(b, c), edge(c, a), edge(a, b)                    # (B, columns, F)
    area = wa + wb + wc                                                # the face's own, twice
    sign = torch.sign(area)
    crossed = (wa * sign > 0) & (wb * sign > 0) & (wc * sign > 0)
    z = (wa * a[..., 2] + wb * b[..., 2] + wc * c[..., 2]) / torch.where(area == 0, 1.0, area)
    facing = torch.where(crossed, sign, 0.0)
    # Voxel k of a column lies at z = levels[k], decreasing in k. A crossing at z lies ahead of
    # the voxels below it: those k with levels[k] < z, i.e. k >= size - below, below = #{levels < z}.
    ascending = centres[0, 0, :, 2].flip(0).contiguous()
    below = torch.searchsorted(ascending, z.contiguous())               # (B, columns, F) in 0..size
    histogram = torch.zeros(*z.shape[:2], size + 1, dtype=facing.dtype).scatter_add_(-1, size - below, facing)
    winding = histogram.cumsum(-1)[..., :size]                          # sum over crossings with size - below <= k
    return (winding != 0).reshape(-1, size, size, size)


def voxel_iou(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-object IoU of boolean voxel grids ``(B, ...)``, as SoftRas' ``evaluate_iou``."""
    inter = (predicted & target).flatten(1).sum(1).double()
    union = (predicted | target).flatten(1).sum(1).double()
    return inter / union.clamp_min(1)


def icosphere(subdivisions: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """Unit sphere: vertices ``(V, 3)`` float64 and outward counter-clockwise faces ``(F, 3)`` int64.

    3 subdivisions of the icosahedron give SoftRas' template: 642 vertices, 1,280 faces.
    """
    t = (1 + 5 ** 0.5) / 2
    vertices = [(-1, t, 0), (1, t, 0), (-1, -t, 0), (1, -t, 0), (0, -1, t), (0, 1, t), (0, -1, -t),
                (0, 1, -t), (t, 0, -1), (t, 0, 1), (-t, 0, -1), (-t, 0, 1)]
    faces = [(0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11), (1, 5, 9), (5, 11, 4),
             (11, 10, 2), (10, 7, 6), (7, 1, 8), (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8), (3, 8, 9),
             (4, 9, 5), (2, 4, 11), (6, 2, 10), (8, 6, 7), (9, 8, 1)]
    vertices = [np.array(v, dtype=np.float64) / np.linalg.norm(v) for v in vertices]
    for _ in range(subdivisions):
        middle: dict[tuple[int, int], int] = {}

        def midpoint(i, j):
            key = (min(i, j), max(i, j))
            if key not in middle:
                m = vertices[i] + vertices[j]
                vertices.append(m / np.linalg.norm(m))
                middle[key] = len(vertices) - 1
            return middle[key]

        refined = []
        for a, b, c in faces:
            ab, bc, ca = midpoint(a, b), midpoint(b, c), midpoint(c, a)
            refined += [(a, ab, ca), (b, bc, ab), (c, ca, bc), (ab, bc, ca)]
        faces = refined
    return torch.tensor(np.array(vertices)), torch.tensor(faces)


def part_mesh(part: Part, segments: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """A closed, outward-oriented triangle mesh of a part (vertices ``(V, 3)``, faces ``(F, 3)``)."""
    if part.kind == "ellipsoid":
        v, f = icosphere(3)
        unit, faces = v.numpy(), f.numpy()
    elif part.kind == "box":
        unit = np.array(np.meshgrid([-1, 1], [-1, 1], [-1, 1], indexing="ij"), dtype=np.float64).reshape(3, -1).T
        quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
        faces = np.array([(a, b, c) for a, b, c, d in quads] + [(a, c, d) for a, b, c, d in quads])
    else:   # cylinder or cone: a ring at y = -1 and one at y = 1 (a point for the cone), two centres
        angle = np.linspace(0, 2 * np.pi, segments, endpoint=False)
        top_radius = 1.0 if part.kind == "cylinder" else 0.0
        ring = np.stack([np.cos(angle), np.zeros(segments), np.sin(angle)], axis=1)
        unit = np.concatenate([ring + [0, -1, 0], ring * top_radius + [0, 1, 0], [[0, -1, 0], [0, 1, 0]]])
        n = segments
        faces = []
        for s in range(n):
            t = (s + 1) % n
            faces += [(s, n + s, t), (t, n + s, n + t), (2 * n, s, t), (2 * n + 1, n + t, n + s)]
        faces = np.array(faces)
    vertices = (unit * part.half) @ part.rotation.T + part.centre
    # Orient every face outwards: its normal points away from the part's centre.
    a, b, c = vertices[faces[:, 0]], vertices[faces[:, 1]], vertices[faces[:, 2]]
    normal = np.cross(b - a, c - a)
    inward = (normal * ((a + b + c) / 3 - part.centre)).sum(axis=1) < 0
    faces[inward] = faces[inward][:, [0, 2, 1]]
    return vertices, faces


def object_mesh(parts: list[Part]) -> tuple[np.ndarray, np.ndarray]:
    """All parts' meshes in one (a union of closed meshes)."""
    vertices, faces, offset = [], [], 0
    for part in parts:
        v, f = part_mesh(part)
        vertices.append(v)
        faces.append(f + offset)
        offset += len(v)
    return np.concatenate(vertices), np.concatenate(faces)


# ---------------------------------------------------------------- files


def default_sizes(objects_per_class: int) -> dict[str, int]:
    """Objects per split for ``objects_per_class`` in all: 70% / 10% / 20%, at least one each."""
    val = max(1, objects_per_class // 10)
    test = max(1, objects_per_class // 5)
    return {"train": objects_per_class - val - test, "val": val, "test": test}


def class_seed(seed: int, name: str, split: str) -> list[int]:
    # Every (class, split) has its own stream: generating more classes changes none of the others.
    return [seed, list(CLASS_IDS).index(name), SPLITS.index(split)]


def generate_split(name: str, split: str, count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(count, 24, 4, 64, 64)`` uint8 and voxels ``(count, 32, 32, 32)`` bool of one split."""
    rng = np.random.default_rng(class_seed(seed, name, split))
    images = np.zeros((count, VIEWS, 4, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    voxels = np.zeros((count, VOXELS, VOXELS, VOXELS), dtype=bool)
    for n in range(count):
        parts = make_object(name, rng)
        colour = rng.uniform(0.3, 1.0, size=3)
        for view in range(VIEWS):
            alpha = render_alpha(parts, 15.0 * view)
            images[n, view, :3] = np.round(255 * colour[:, None, None] * alpha)
            images[n, view, 3] = np.round(255 * alpha)
        voxels[n] = voxelize_parts(parts)
    return images, voxels


def file_paths(folder: Path, name: str, split: str) -> tuple[Path, Path]:
    class_id = CLASS_IDS[name]
    return folder / f"{class_id}_{split}_images.npz", folder / f"{class_id}_{split}_voxels.npz"


def generate(folder: str | Path, classes: list[str], sizes: dict[str, int], seed: int = 0,
             progress=None) -> Path:
    """Write the NMR files of ``classes`` into ``folder`` (skipping those already there)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name in classes:
        for split in SPLITS:
            images_path, voxels_path = file_paths(folder, name, split)
            if images_path.is_file() and voxels_path.is_file():
                continue
            if progress:
                progress(f"generating {name} {split} ({sizes[split]} objects)")
            images, voxels = generate_split(name, split, sizes[split], seed)
            # Written under temporary names first, so an interrupted run leaves no half file.
            for path, array in ((voxels_path, voxels), (images_path, images)):
                partial = path.with_name(path.name + ".partial.npz")
                np.savez_compressed(partial, array)
                partial.replace(path)
    return folder


def load_split(folder: str | Path, name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images ``(N, 24, 4, 64, 64)`` uint8 and voxels ``(N, 32, 32, 32)`` bool from NMR's files."""
    images_path, voxels_path = file_paths(Path(folder), name, split)
    for path in (images_path, voxels_path):
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing (NMR's layout: <classid>_<split>_images.npz / _voxels.npz)")
    with np.load(images_path) as f:
        images = f[f.files[0]]
    with np.load(voxels_path) as f:
        voxels = f[f.files[0]].astype(bool)
    expected = (VIEWS, 4, IMAGE_SIZE, IMAGE_SIZE)
    if images.ndim != 5 or images.shape[1:] != expected or images.dtype != np.uint8:
        raise ValueError(f"{images_path}: expected (N, {', '.join(map(str, expected))}) uint8, got {images.shape} {images.dtype}")
    if voxels.shape != (len(images), VOXELS, VOXELS, VOXELS):
        raise ValueError(f"{voxels_path}: expected ({len(images)}, 32, 32, 32), got {voxels.shape}")
    return images, voxels
