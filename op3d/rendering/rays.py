"""Camera rays from EG3D-style 25-d labels (OpenCV cam2world + normalized intrinsics)."""
from __future__ import annotations

import torch


def check_labels(c: torch.Tensor) -> None:
    if c.ndim != 2 or c.shape[1] < 25:
        raise ValueError(f"camera labels must be [B, 25] (cam2world 16 + intrinsics 9), got {tuple(c.shape)}")


def rays_from_cameras(c: torch.Tensor, resolution: int) -> tuple[torch.Tensor, torch.Tensor]:
    """c: [B, 25] -> ray origins [B, R, 3] and unit directions [B, R, 3], R = resolution^2.

    Rays pass through pixel centres (i + 0.5) / resolution in row-major order (ray = row * res + col).
    Camera-space direction x = (u - cx + cy*sk/fy - sk*v/fy) / fx, y = (v - cy) / fy, z = 1.
    """
    check_labels(c)
    B = c.shape[0]
    cam2world = c[:, :16].reshape(B, 4, 4)
    K = c[:, 16:25].reshape(B, 3, 3)
    fx, fy, cx, cy, sk = (K[:, 0, 0, None], K[:, 1, 1, None], K[:, 0, 2, None], K[:, 1, 2, None], K[:, 0, 1, None])
    ticks = (torch.arange(resolution, dtype=c.dtype, device=c.device) + 0.5) / resolution
    v, u = torch.meshgrid(ticks, ticks, indexing="ij")  # v: row, u: column
    u = u.reshape(1, -1)
    v = v.reshape(1, -1)
    x = (u - cx + cy * sk / fy - sk * v / fy) / fx  # [B, R]
    y = (v - cy) / fy
    z = torch.ones_like(x)
    cam_points = torch.stack([x, y, z, torch.ones_like(z)], dim=-1)  # [B, R, 4]
    world = torch.bmm(cam2world, cam_points.transpose(1, 2)).transpose(1, 2)[..., :3]
    origins = cam2world[:, None, :3, 3]
    dirs = torch.nn.functional.normalize(world - origins, dim=2)
    return origins.expand(B, dirs.shape[1], 3), dirs


def ray_box_limits(origins: torch.Tensor, dirs: torch.Tensor, box_side: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Entry and exit distances of rays through the cube [-box_side/2, box_side/2]^3 (slab method).

    origins, dirs: [B, R, 3] -> t_near, t_far [B, R, 1]; rays that miss get t_near = -1, t_far = -2.
    """
    half = box_side / 2
    return ray_aabb_limits(origins, dirs, -half, half)


def ray_aabb_limits(origins: torch.Tensor, dirs: torch.Tensor, lo, hi) -> tuple[torch.Tensor, torch.Tensor]:
    """Entry and exit distances of rays through axis-aligned boxes [lo, hi] (slab method; Kay & Kajiya 1986).

    origins, dirs: [B, R, 3]; lo, hi: numbers or tensors broadcastable to [B, R, 3] (e.g. [B, 1, 3], one box per
    batch element) -> t_near, t_far [B, R, 1]; rays that miss get t_near = -1, t_far = -2.
    """
    with torch.no_grad():
        inv = 1 / dirs
        t1 = (lo - origins) * inv
        t2 = (hi - origins) * inv
        t_near = torch.minimum(t1, t2).nan_to_num(-float("inf")).amax(-1, keepdim=True)
        t_far = torch.maximum(t1, t2).nan_to_num(float("inf")).amin(-1, keepdim=True)
        miss = ~(t_far > t_near)
        t_near = torch.where(miss, torch.full_like(t_near, -1.0), t_near)
        t_far = torch.where(miss, torch.full_like(t_far, -2.0), t_far)
    return t_near, t_far
