"""A built-in procedural 3D dataset: head-like compositions of analytic SDF primitives with colour and Lambert
shading, sphere-traced from FFHQ-like cameras, written in the EG3D format (PNGs + dataset.json) with
ground-truth depth maps (`depth/<name>.npy`, float32 distance along the unit ray, inf for background).

Every image depends only on (seed, index): shapes, colours and cameras come from a generator seeded by both,
so the dataset is reproducible and independent of the rendering batch size.
"""
from __future__ import annotations

import io
import json
import math
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from op3d.data.cameras import FFHQ_FOCAL, intrinsics, lookat_pose, make_label
from op3d.io.atomic import atomic_path
from op3d.progress import with_progress
from op3d.rendering.rays import rays_from_cameras

RADIUS = 2.7
LOOKAT = (0.0, 0.0, 0.0)
BOUND = 0.45  # every object lies inside the sphere of this radius (and the cube [-0.5, 0.5]^3)
NUM_PARTS = 6  # head, hair, left eye, right eye, nose, neck


@dataclass
class Heads:
    """Per object: ellipsoid centres [B, P, 3], radii [B, P, 3], colours [B, P, 3] in [0, 1]."""

    centers: torch.Tensor
    radii: torch.Tensor
    colors: torch.Tensor


def random_heads(seeds: list[tuple[int, int]]) -> Heads:
    """One head per (seed, index); sizes ~0.2-0.3 world units so a head fills an FFHQ-like frame."""
    centers, radii, colors = [], [], []
    for seed, index in seeds:
        g = np.random.default_rng([seed, index])
        u = lambda lo, hi, n=None: g.uniform(lo, hi, n)
        head_r = np.array([u(0.17, 0.21), u(0.21, 0.26), u(0.18, 0.22)])
        eye_y, eye_x = u(0.02, 0.07), u(0.06, 0.09)
        skin = np.array([u(0.55, 0.95), u(0.4, 0.75), u(0.3, 0.6)])
        hair = g.uniform(0.05, 0.6, 3) * np.array([1.0, u(0.5, 1.0), u(0.3, 1.0)])
        hair_r = head_r * np.array([u(1.02, 1.12), u(0.7, 0.85), u(1.0, 1.1)])
        face_z = head_r[2]
        part_c = [[0, 0, 0], [0, head_r[1] * u(0.35, 0.5), -u(0.0, 0.05)],
                  [-eye_x, eye_y, face_z * 0.83], [eye_x, eye_y, face_z * 0.83],
                  [0, -u(0.0, 0.04), face_z * 0.98], [0, -head_r[1] * 1.05, -0.02]]
        part_r = [head_r, hair_r, [u(0.03, 0.045)] * 3, None, [u(0.03, 0.045), u(0.04, 0.06), u(0.04, 0.06)],
                  [u(0.08, 0.11), 0.14, u(0.08, 0.11)]]
        part_r[3] = part_r[2]
        eye = g.uniform(0.0, 0.3, 3)
        part_col = [skin, hair, eye, eye, skin * u(0.85, 1.0), skin * 0.9]
        centers.append(np.array(part_c))
        radii.append(np.array(part_r, dtype=np.float64))
        colors.append(np.clip(np.array(part_col), 0, 1))
    t = lambda a: torch.tensor(np.stack(a), dtype=torch.float32)
    return Heads(t(centers), t(radii), t(colors))


def _sdf(points: torch.Tensor, centers: torch.Tensor, radii: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """points [..., 3], centers/radii [..., parts, 3] -> distance [...] and nearest part [...].

    Ellipsoid distance is the first-order bound k0 (k0 - 1) / k1 (Quilez): exact on spheres, conservative
    enough for sphere tracing.
    """
    d = points.unsqueeze(-2) - centers
    q = d / radii
    k0 = q.norm(dim=-1)
    k1 = (q / radii).norm(dim=-1).clamp_min(1e-8)
    return (k0 * (k0 - 1) / k1).min(dim=-1)


def head_sdf(points: torch.Tensor, heads: Heads) -> tuple[torch.Tensor, torch.Tensor]:
    """Signed distance of points [B, P, 3] to each head's union of ellipsoids, and the nearest part [B, P]."""
    return _sdf(points, heads.centers.unsqueeze(1), heads.radii.unsqueeze(1))


def render_heads(heads: Heads, labels: torch.Tensor, resolution: int, steps: int = 128
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Sphere-trace heads from cameras labels [B, 25]: uint8 images [B, R, R, 3] (white background) and
    depth [B, R, R] (distance along the unit ray; inf where nothing is hit).

    Only rays that enter the bounding sphere are traced, and finished rays leave the active set each step.
    """
    B = labels.shape[0]
    origins, dirs = rays_from_cameras(labels, resolution)  # [B, P, 3]
    P = origins.shape[1]
    origins, dirs = origins.reshape(-1, 3), dirs.reshape(-1, 3)
    b = (origins * dirs).sum(-1)
    disc = b * b - (origins.square().sum(-1) - BOUND ** 2)
    t_all = torch.full((B * P,), float("inf"))
    ray = disc.gt(0).nonzero().squeeze(1)  # active rays
    t = (-b[ray] - disc[ray].sqrt()).clamp_min(0)
    t_far = -b[ray] + disc[ray].sqrt()
    owner = ray // P
    centers, radii = heads.centers[owner], heads.radii[owner]
    o, d = origins[ray], dirs[ray]
    for _ in range(steps):
        if ray.numel() == 0:
            break
        dist, _ = _sdf(o + t.unsqueeze(-1) * d, centers, radii)
        t = t + dist
        hit = dist.abs() < 1e-4
        t_all[ray[hit]] = t[hit]
        keep = ~hit & (t < t_far)
        ray, t, t_far, o, d, centers, radii = (x[keep] for x in (ray, t, t_far, o, d, centers, radii))
    depth = t_all.reshape(B, P)
    hit = torch.isfinite(depth)
    points = origins.reshape(B, P, 3) + torch.where(hit, depth, 0).unsqueeze(-1) * dirs.reshape(B, P, 3)
    _, part = head_sdf(points, heads)
    eps = 1e-3
    grad = torch.stack([head_sdf(points + o_, heads)[0] - head_sdf(points - o_, heads)[0]
                        for o_ in torch.eye(3) * eps], -1)
    normal = torch.nn.functional.normalize(grad, dim=-1)
    light = torch.nn.functional.normalize(torch.tensor([0.4, 0.6, 0.8]), dim=0)
    shade = 0.35 + 0.65 * (normal @ light).clamp_min(0)  # [B, P]
    base = torch.gather(heads.colors, 1, part.unsqueeze(-1).expand(-1, -1, 3))  # [B, P, 3]
    rgb = torch.where(hit.unsqueeze(-1), base * shade.unsqueeze(-1), torch.ones_like(base))
    images = (rgb.clamp(0, 1) * 255).round().to(torch.uint8).reshape(B, resolution, resolution, 3)
    return images, depth.reshape(B, resolution, resolution)


def camera_labels(seeds: list[tuple[int, int]], yaw_std: float = 0.35, pitch_std: float = 0.15) -> torch.Tensor:
    """FFHQ-like cameras, one per (seed, index)."""
    yaws, pitches = [], []
    for seed, index in seeds:
        g = np.random.default_rng([seed, index, 1])
        yaws.append(math.pi / 2 + float(np.clip(g.normal() * yaw_std, -0.9, 0.9)))
        pitches.append(math.pi / 2 + float(np.clip(g.normal() * pitch_std, -0.4, 0.4)))
    return make_label(lookat_pose(torch.tensor(yaws), torch.tensor(pitches), RADIUS, LOOKAT), intrinsics(FFHQ_FOCAL))


def make_synthetic_dataset(out_zip: str | os.PathLike, count: int, resolution: int = 64, seed: int = 0,
                           batch: int = 64, progress: bool = True) -> Path:
    """Render `count` heads at `resolution` into an EG3D-format zip (written atomically)."""
    if count < 1:
        raise ValueError("--count must be at least 1")
    if resolution < 8 or resolution & (resolution - 1):
        raise ValueError(f"--resolution must be a power of two >= 8, got {resolution}")
    out_zip = Path(out_zip)
    starts = range(0, count, batch)
    starts = with_progress(starts, progress, "synthetic", "batch")
    labels_json = []
    with atomic_path(out_zip) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as z:
        for s in starts:
            seeds = [(seed, i) for i in range(s, min(s + batch, count))]
            labels = camera_labels(seeds)
            with torch.no_grad():
                images, depth = render_heads(random_heads(seeds), labels, resolution)
            for (_, i), img, dep, lab in zip(seeds, images, depth, labels):
                name = f"{i // 1000:05d}/img{i:08d}.png"
                buf = io.BytesIO()
                Image.fromarray(img.numpy()).save(buf, format="png", compress_level=1)
                z.writestr(_zipinfo(name), buf.getvalue())
                dbuf = io.BytesIO()
                np.save(dbuf, dep.numpy().astype(np.float32))
                z.writestr(_zipinfo(f"depth/img{i:08d}.npy"), dbuf.getvalue())
                labels_json.append([name, [float(v) for v in lab.tolist()]])
        z.writestr(_zipinfo("dataset.json"), json.dumps({"labels": labels_json}))
    return out_zip


def _zipinfo(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # fixed timestamps: byte-identical zips
    info.compress_type = zipfile.ZIP_STORED
    return info
