"""Seeds, latents and cameras for sampling (EG3D conventions: frontal conditioning camera, orbit around the
preset's pivot at its average radius)."""
from __future__ import annotations

import math
import re

import numpy as np
import torch

from op3d.data.cameras import fov_to_focal, intrinsics, lookat_pose, make_label

DEFAULT_FOV = 18.837  # degrees; focal 4.263, about FFHQ's 4.2647
MAX_SEED = 2 ** 32 - 1  # numpy's RandomState (seed_latent) takes seeds below 2^32
MAX_SEEDS = 1_000_000  # per command: more is a typo (a million renders take days)


def parse_seeds(text: str) -> list[int]:
    """'0-3,7' -> [0, 1, 2, 3, 7]. ValueError for unreadable parts, backward ranges, seeds above MAX_SEED and
    more than MAX_SEEDS seeds."""
    seeds: list[int] = []
    for part in str(text).split(","):
        part = part.strip()
        m = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not m:
            raise ValueError(f"--seeds: cannot read {part!r}; use numbers and ranges like 0-3,7")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if hi < lo:
            raise ValueError(f"--seeds: range {part!r} runs backwards")
        if hi > MAX_SEED:
            raise ValueError(f"--seeds: {hi} is above the largest seed, {MAX_SEED} (2^32 - 1)")
        if len(seeds) + hi - lo + 1 > MAX_SEEDS:
            raise ValueError(f"--seeds: {text!r} is more than {MAX_SEEDS:,} seeds")
        seeds.extend(range(lo, hi + 1))
    return seeds


def parse_grid(text: str) -> tuple[int, int]:
    """'3x2' -> (W, H) = (3, 2), each at least 1; ValueError otherwise."""
    try:
        W, H = (int(v) for v in str(text).lower().split("x"))
    except ValueError:
        raise ValueError(f"--grid: cannot read {text!r}; use WxH, e.g. 2x2") from None
    if W < 1 or H < 1:
        raise ValueError(f"--grid: {text}: W and H must be at least 1")
    return W, H


def parse_views(text: str) -> list[tuple[float, float]]:
    """'-20,0,20' or '-20/5,0/0' (yaw[/pitch] offsets from frontal, degrees) -> [(yaw, pitch)] in radians."""
    views = []
    for part in str(text).split(","):
        try:
            values = [float(v) for v in part.split("/")]
        except ValueError:
            raise ValueError(f"--views: cannot read {part!r}; use yaw or yaw/pitch in degrees") from None
        if len(values) not in (1, 2):
            raise ValueError(f"--views: {part!r} must be yaw or yaw/pitch")
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"--views: {part!r} is not a finite angle")
        yaw, pitch = values[0], values[1] if len(values) == 2 else 0.0
        views.append((math.radians(yaw), math.radians(pitch)))
    return views


def seed_latent(seed: int, z_dim: int) -> torch.Tensor:
    """z for a seed, independent of batching: numpy RandomState(seed).randn(z_dim) as EG3D. -> [1, z_dim]."""
    return torch.from_numpy(np.random.RandomState(seed).randn(1, z_dim)).float()


def camera_setup(G) -> tuple[float, tuple[float, float, float]]:
    rk = G.rendering_kwargs
    return float(rk.get("avg_camera_radius", 2.7)), tuple(float(v) for v in rk.get("avg_camera_pivot", (0, 0, 0)))


def camera_focal(G, fov_deg: float | None = None) -> float:
    """Normalized focal of a field of view, or without one the preset's (avg_camera_focal, else DEFAULT_FOV)."""
    if fov_deg is not None:
        return fov_to_focal(fov_deg)
    return float(G.rendering_kwargs.get("avg_camera_focal", fov_to_focal(DEFAULT_FOV)))


def view_labels(G, views: list[tuple[float, float]], fov_deg: float | None = None) -> torch.Tensor:
    """Cameras around the preset's pivot at (yaw, pitch) offsets from frontal: [V, 25]."""
    radius, pivot = camera_setup(G)
    yaws = torch.tensor([math.pi / 2 + v[0] for v in views])
    pitches = torch.tensor([math.pi / 2 + v[1] for v in views])
    return make_label(lookat_pose(yaws, pitches, radius, pivot), intrinsics(camera_focal(G, fov_deg)))


def conditioning_label(G, fov_deg: float | None = None) -> torch.Tensor:
    """The frontal camera the mapping network is conditioned on (as EG3D's sampling scripts do): [1, 25]."""
    return view_labels(G, [(0.0, 0.0)], fov_deg)
