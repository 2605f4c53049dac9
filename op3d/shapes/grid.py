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


def grid_ticks(resolution: int, cube_length: float, center=(0.0, 0.0, 0.0)
               ) -> tuple[tuple[torch.Tensor, torch.Tensor, torch.Tensor], np.ndarray, float]:
    """Voxel-centre coordinates of an N^3 grid spanning the cube of side cube_length, per axis: ([N] x, y, z
    float32), the origin and the voxel size (world units)."""
    if resolution < 2:
        raise ValueError(f"shape resolution must be >= 2, got {resolution}")
    voxel = cube_length / (resolution - 1)
    origin = np.asarray(center, dtype=np.float64) - cube_length / 2
    steps = torch.arange(resolution, dtype=torch.float64) * voxel
    return tuple((steps + origin[m]).float() for m in range(3)), origin, voxel


def grid_points(resolution: int, cube_length: float, center=(0.0, 0.0, 0.0)) -> tuple[torch.Tensor, np.ndarray, float]:
    """Voxel centres of an N^3 grid spanning the cube of side cube_length: [N^3, 3] (x-major), origin, voxel size."""
    ticks, origin, voxel = grid_ticks(resolution, cube_length, center)
    return lattice_points(ticks, 0, resolution ** 3), origin, voxel


def lattice_points(ticks: tuple[torch.Tensor, torch.Tensor, torch.Tensor], start: int, stop: int) -> torch.Tensor:
    """Points start..stop-1 (x-major order) of the lattice ticks_x x ticks_y x ticks_z: [stop - start, 3]."""
    ny, nz = len(ticks[1]), len(ticks[2])
    flat = torch.arange(start, stop)
    return torch.stack([ticks[0][flat // (ny * nz)], ticks[1][(flat // nz) % ny], ticks[2][flat % nz]], dim=-1)


def evaluate_grid(fn: Callable[[torch.Tensor], torch.Tensor], resolution: int, cube_length: float,
                  center=(0.0, 0.0, 0.0), chunk: int = 1 << 20, device: str | torch.device = "cpu",
                  progress: bool = False) -> Grid:
    """fn(points [1, P, 3]) -> values [1, P, 1 or more]; the first channel is kept. Points are made per chunk
    (memory: the [N, N, N] float32 result plus one chunk)."""
    ticks, origin, voxel = grid_ticks(resolution, cube_length, center)
    total = resolution ** 3
    out = np.empty(total, dtype=np.float32)
    starts = with_progress(range(0, total, chunk), progress, "density grid", "chunk")
    with torch.no_grad():
        for s in starts:
            values = fn(lattice_points(ticks, s, min(s + chunk, total)).unsqueeze(0).to(device))
            out[s:s + chunk] = values[0, :, 0].float().cpu().numpy()
    return Grid(out.reshape(resolution, resolution, resolution), origin, voxel)


def evaluate_grid_slabs(fn: Callable[[tuple[torch.Tensor, torch.Tensor, torch.Tensor]], torch.Tensor],
                        resolution: int, cube_length: float, center=(0.0, 0.0, 0.0), chunk: int = 1 << 20,
                        device: str | torch.device = "cpu", progress: bool = False) -> Grid:
    """fn((ticks_x slab [n], ticks_y [N], ticks_z [N])) -> values [n, N, N] for a field that is cheaper on whole
    lattice slabs (separable plane sampling); slabs of about `chunk` points along x."""
    ticks, origin, voxel = grid_ticks(resolution, cube_length, center)
    out = np.empty((resolution,) * 3, dtype=np.float32)
    step = max(1, chunk // resolution ** 2)
    ty, tz = ticks[1].to(device), ticks[2].to(device)
    starts = with_progress(range(0, resolution, step), progress, "density grid", "slab")
    with torch.no_grad():
        for s in starts:
            out[s:s + step] = fn((ticks[0][s:s + step].to(device), ty, tz)).float().cpu().numpy()
    return Grid(out, origin, voxel)


def trim_border(grid: Grid, fraction: float = 30 / 256, value: float = -1000.0, inplace: bool = False) -> Grid:
    """OP3D's border trimming: set a margin of round(fraction * N) voxels on every face to `value`
    (removes plane-boundary artifacts before meshing). inplace: modify grid.values instead of a copy."""
    v = grid.values if inplace else grid.values.copy()
    pad = int(fraction * v.shape[0])
    if pad > 0:
        v[:pad], v[-pad:] = value, value
        v[:, :pad], v[:, -pad:] = value, value
        v[:, :, :pad], v[:, :, -pad:] = value, value
    return Grid(v, grid.origin, grid.voxel_size)
