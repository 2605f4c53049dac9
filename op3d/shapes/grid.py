"""Density on a regular 3-D grid, evaluated in chunks from planes computed once per latent."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from op3d.progress import with_progress


@dataclass
class Grid:
    """values[i, j, k] is the field at (x, y, z) = origin + (i, j, k) * voxel_size (world units)."""

    values: np.ndarray  # [N, N, N] float32, indexed (x, y, z)
    origin: np.ndarray  # [3] world position of voxel (0, 0, 0)
    voxel_size: float


def grid_points(resolution: int, cube_length: float, center=(0.0, 0.0, 0.0)) -> tuple[torch.Tensor, np.ndarray, float]:
    """Voxel centres of an N^3 grid spanning the cube of side cube_length: [N^3, 3] (x-major), origin, voxel size."""
    if resolution < 2:
        raise ValueError(f"shape resolution must be >= 2, got {resolution}")
    voxel = cube_length / (resolution - 1)
    origin = np.asarray(center, dtype=np.float64) - cube_length / 2
    ticks = torch.arange(resolution, dtype=torch.float64) * voxel
    xs, ys, zs = torch.meshgrid(ticks + origin[0], ticks + origin[1], ticks + origin[2], indexing="ij")
    return torch.stack([xs, ys, zs], dim=-1).reshape(-1, 3).float(), origin, voxel


def evaluate_grid(fn: Callable[[torch.Tensor], torch.Tensor], resolution: int, cube_length: float,
                  center=(0.0, 0.0, 0.0), chunk: int = 1 << 20, device: str | torch.device = "cpu",
                  progress: bool = False) -> Grid:
    """fn(points [1, P, 3]) -> values [1, P, 1 or more]; the first channel is kept."""
    points, origin, voxel = grid_points(resolution, cube_length, center)
    out = np.empty(points.shape[0], dtype=np.float32)
    starts = range(0, points.shape[0], chunk)
    starts = with_progress(starts, progress, "density grid", "chunk")
    with torch.no_grad():
        for s in starts:
            values = fn(points[s:s + chunk].unsqueeze(0).to(device))
            out[s:s + chunk] = values[0, :, 0].float().cpu().numpy()
    return Grid(out.reshape(resolution, resolution, resolution), origin, voxel)


def trim_border(grid: Grid, fraction: float = 30 / 256, value: float = -1000.0) -> Grid:
    """OP3D's border trimming: set a margin of round(fraction * N) voxels on every face to `value`
    (removes plane-boundary artifacts before meshing)."""
    v = grid.values.copy()
    pad = int(fraction * v.shape[0])
    if pad > 0:
        v[:pad], v[-pad:] = value, value
        v[:, :pad], v[:, -pad:] = value, value
        v[:, :, :pad], v[:, :, -pad:] = value, value
    return Grid(v, grid.origin, grid.voxel_size)
