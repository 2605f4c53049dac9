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


def lattice_values(fn: Callable[[tuple[torch.Tensor, torch.Tensor, torch.Tensor]], torch.Tensor],
                   ticks: tuple[torch.Tensor, torch.Tensor, torch.Tensor], chunk: int = 1 << 17,
                   device: str | torch.device = "cpu", progress: bool = False) -> np.ndarray:
    """A field on the lattice ticks_x x ticks_y x ticks_z, evaluated on slabs of about `chunk` points along x:
    fn((ticks_x slab [n], ticks_y, ticks_z)) -> [n, n_y, n_z]. Returns float32 [n_x, n_y, n_z]."""
    nx, ny, nz = (len(t) for t in ticks)
    out = np.empty((nx, ny, nz), dtype=np.float32)
    step = max(1, chunk // (ny * nz))
    ty, tz = ticks[1].to(device), ticks[2].to(device)
    starts = with_progress(range(0, nx, step), progress, "density grid", "slab")
    with torch.no_grad():
        for s in starts:
            out[s:s + step] = fn((ticks[0][s:s + step].to(device), ty, tz)).float().cpu().numpy()
    return out


def evaluate_grid_slabs(fn: Callable[[tuple[torch.Tensor, torch.Tensor, torch.Tensor]], torch.Tensor],
                        resolution: int, cube_length: float, center=(0.0, 0.0, 0.0), chunk: int = 1 << 17,
                        device: str | torch.device = "cpu", progress: bool = False) -> Grid:
    """The N^3 grid of evaluate_grid for a field that is cheaper on whole lattice slabs (lattice_values)."""
    ticks, origin, voxel = grid_ticks(resolution, cube_length, center)
    return Grid(lattice_values(fn, ticks, chunk, device, progress), origin, voxel)


def _coarse_indices(n: int, factor: int) -> np.ndarray:
    """Every factor-th index of 0..n-1, and the last one."""
    idx = np.arange(0, n, factor)
    return idx if idx[-1] == n - 1 else np.append(idx, n - 1)


def _upsample_linear(values: np.ndarray, coarse: np.ndarray, n: int) -> np.ndarray:
    """Linear interpolation along every axis of values [c, c, c] given at the fine indices `coarse` -> [n, n, n]."""
    fine = np.arange(n)
    lower = np.minimum(np.searchsorted(coarse, fine, side="right") - 1, len(coarse) - 2)
    t = ((fine - coarse[lower]) / (coarse[lower + 1] - coarse[lower])).astype(np.float32)
    for axis in range(3):
        shape = [1, 1, 1]
        shape[axis] = n
        a, b = np.take(values, lower, axis=axis), np.take(values, lower + 1, axis=axis)
        values = a + (b - a) * t.reshape(shape)
    return values


def surface_grid(fn_slab: Callable[[tuple[torch.Tensor, torch.Tensor, torch.Tensor]], torch.Tensor],
                 fn_points: Callable[[torch.Tensor], torch.Tensor], resolution: int, cube_length: float,
                 level: float, factor: int = 4, margin: int = 1, center=(0.0, 0.0, 0.0), chunk: int = 1 << 17,
                 device: str | torch.device = "cpu", progress: bool = False) -> tuple[Grid, float]:
    """Coarse-to-fine grid for marching cubes at `level`: the field on every factor-th grid point, then exactly
    (fn_points(points [1, P, 3]) -> [1, P, 1]) at every grid point of the coarse cells whose corners straddle the
    level, grown by `margin` cells; elsewhere linear interpolation of the coarse values, which never crosses the
    level inside a cell whose corners do not. So the surface is the dense grid's wherever it passes through a
    coarse cell's corners' range; a feature thinner than a coarse cell that no coarse corner sees can be missed
    (the dense grid is the reference). Returns the grid and the fraction of grid points evaluated exactly.
    """
    if factor < 2 or margin < 1:
        raise ValueError(f"coarse-to-fine needs factor >= 2 and margin >= 1 (got {factor}, {margin}): the faces of "
                         "straddling cells are exact only when their neighbours are refined too")
    ticks, origin, voxel = grid_ticks(resolution, cube_length, center)
    coarse = _coarse_indices(resolution, factor)
    values_c = lattice_values(fn_slab, tuple(t[coarse] for t in ticks), chunk, device)
    corners = [values_c[i:len(coarse) - 1 + i, j:len(coarse) - 1 + j, k:len(coarse) - 1 + k]
               for i in (0, 1) for j in (0, 1) for k in (0, 1)]
    lo, hi = np.minimum.reduce(corners), np.maximum.reduce(corners)
    cells = (lo <= level) & (hi >= level)  # [c - 1, c - 1, c - 1]
    for _ in range(margin):  # grow by one cell in every direction (26-neighbourhood)
        grown = cells.copy()
        for axis in range(3):
            grown[(slice(None),) * axis + (slice(1, None),)] |= cells[(slice(None),) * axis + (slice(None, -1),)]
            grown[(slice(None),) * axis + (slice(None, -1),)] |= cells[(slice(None),) * axis + (slice(1, None),)]
            cells = grown.copy()
    values = _upsample_linear(values_c, coarse, resolution)
    cell_of = np.minimum(np.searchsorted(coarse, np.arange(resolution), side="right") - 1, len(coarse) - 2)
    exact = cells[np.ix_(cell_of, cell_of, cell_of)]  # grid points inside (or on) a marked cell
    flat = np.flatnonzero(exact)
    out = values.reshape(-1)
    starts = with_progress(range(0, len(flat), chunk), progress, "surface refinement", "chunk")
    with torch.no_grad():
        for s in starts:
            idx = torch.from_numpy(flat[s:s + chunk])
            n = resolution
            pts = torch.stack([ticks[0][idx // (n * n)], ticks[1][(idx // n) % n], ticks[2][idx % n]], dim=-1)
            out[flat[s:s + chunk]] = fn_points(pts[None].to(device))[0, :, 0].float().cpu().numpy()
    return Grid(out.reshape((resolution,) * 3), origin, voxel), len(flat) / out.size


def trim_border(grid: Grid, fraction: float = 30 / 256, value: float = -1000.0, inplace: bool = False) -> Grid:
    """OP3D's border trimming: set a margin of int(fraction * N) voxels on every face to `value` (none when that is 0)
    (removes plane-boundary artifacts before meshing). inplace: modify grid.values instead of a copy."""
    v = grid.values if inplace else grid.values.copy()
    pad = int(fraction * v.shape[0])
    if pad > 0:
        v[:pad], v[-pad:] = value, value
        v[:, :pad], v[:, -pad:] = value, value
        v[:, :, :pad], v[:, :, -pad:] = value, value
    return Grid(v, grid.origin, grid.voxel_size)
