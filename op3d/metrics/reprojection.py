"""Multi-view reprojection error: a weight-free measure of 3-D consistency.

Pixels of view A are lifted to 3-D with A's rendered depth (distance along the ray), projected into view B,
and compared with B's colour there. Pixels that B does not see (outside its frame, or occluded: B's depth at
the projection disagrees with the point's distance) are ignored. A consistent scene scores about 0.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from op3d.rendering.rays import rays_from_cameras


def backproject(depth: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """depth [B, 1, h, h] (distance along unit rays), cameras c [B, 25] -> world points [B, h*h, 3]."""
    origins, dirs = rays_from_cameras(c, depth.shape[-1])
    return origins + depth.reshape(depth.shape[0], -1, 1) * dirs


def project(points: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """World points [B, P, 3] -> normalized image coordinates uv [B, P, 2] in [0, 1] and camera z [B, P]."""
    B = c.shape[0]
    cam2world = c[:, :16].reshape(B, 4, 4)
    K = c[:, 16:25].reshape(B, 3, 3)
    R, t = cam2world[:, :3, :3], cam2world[:, :3, 3]
    cam = torch.einsum("bji,bpj->bpi", R, points - t[:, None])  # R^T (p - t)
    z = cam[..., 2]
    x, y = cam[..., 0] / z, cam[..., 1] / z
    u = K[:, None, 0, 0] * x + K[:, None, 0, 1] * y + K[:, None, 0, 2]
    v = K[:, None, 1, 1] * y + K[:, None, 1, 2]
    return torch.stack([u, v], dim=-1), z


def _sample(image: torch.Tensor, uv: torch.Tensor) -> torch.Tensor:
    grid = (uv * 2 - 1).unsqueeze(1)  # [B, 1, P, 2]
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=False)[:, :, 0]


def reprojection_error(img_a: torch.Tensor, depth_a: torch.Tensor, c_a: torch.Tensor, img_b: torch.Tensor,
                       depth_b: torch.Tensor, c_b: torch.Tensor, depth_tol: float = 0.02
                       ) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean absolute colour difference per image over pixels of A visible in B, and the visible fraction.

    img_*: [B, C, h, h] (same value range in both), depth_*: [B, 1, h, h], c_*: [B, 25]. depth_tol is relative.
    Returns error [B] and visible fraction [B].
    """
    points = backproject(depth_a, c_a)
    uv, z = project(points, c_b)
    dist_b = (points - c_b[:, None, [3, 7, 11]]).norm(dim=-1)  # distance from B's centre
    seen = _sample(depth_b, uv)[:, 0]
    inside = (uv >= 0).all(-1) & (uv <= 1).all(-1) & (z > 0) & torch.isfinite(depth_a.flatten(1))
    visible = inside & ((seen - dist_b).abs() <= depth_tol * dist_b)
    diff = (_sample(img_b, uv) - img_a.flatten(2)).abs().mean(1)  # [B, P]
    count = visible.sum(1)
    error = (diff * visible).sum(1) / count.clamp_min(1)
    return error, count / visible.shape[1]


@torch.no_grad()
def generator_reprojection_error(G, ws: torch.Tensor, c_a: torch.Tensor, c_b: torch.Tensor,
                                 resolution: int | None = None) -> tuple[float, float]:
    """Mean reprojection error of G's raw renderings between two camera sets (deterministic rendering)."""
    a = G.synthesis(ws, c_a, neural_rendering_resolution=resolution, noise_mode="const", deterministic=True)
    b = G.synthesis(ws, c_b, neural_rendering_resolution=resolution, noise_mode="const", deterministic=True)
    err, frac = reprojection_error(a["image_raw"], a["image_depth"], c_a, b["image_raw"], b["image_depth"], c_b)
    return float(err.mean()), float(frac.mean())
