"""Sampling features from orthoplanes and tri-planes at 3-D points.

Coordinates are world points scaled by 2 / box_warp into [-1, 1]^3. Interpolation follows
grid_sample(align_corners=False, padding_mode='zeros'): a grid value g indexes texel-space
(g + 1) * N / 2 - 0.5. Two implementations compute the same numbers:
- "gather" (the fast path): each (point, axis) gathers its 2^n corner rows of C contiguous channels from planes
  stored channels-last ([B, H, W, K, 3, C], as the backbone writes them) and weights them, in plain autograd
  ops: differentiable to any order (eikonal terms), one gradient buffer for all axes;
- "grid_sample": torch's kernels on channel-first volumes, the reference twin (its 3-D backward is not twice
  differentiable w.r.t. points).
"auto" picks "gather", or "grid_sample" inside `op3d.ops.reference_ops()` unless the points need second
derivatives.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from op3d.ops.dispatch import using_reference

IMPLS = ("auto", "grid_sample", "gather")


def _choose(impl: str, points: torch.Tensor) -> str:
    if impl not in IMPLS:
        raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}")
    if impl == "auto":
        if points.requires_grad and torch.is_grad_enabled():
            return "gather"  # twice differentiable in the points
        return "grid_sample" if using_reference() else "gather"
    return impl


def _corner_terms(g: torch.Tensor, size: int) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """For grid coordinate g [...] along an axis of `size` texels: [(index, weight, valid)] for both neighbours."""
    t = (g + 1) * (size / 2) - 0.5
    t0 = torch.floor(t.detach())
    w1 = t - t0
    i0 = t0.long()
    return [(i0, 1 - w1, (i0 >= 0) & (i0 < size)), (i0 + 1, w1, (i0 + 1 >= 0) & (i0 + 1 < size))]


def _gather_channels_last(planes: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
    """Multilinear interpolation with zero padding, gathering rows of C contiguous channels.

    planes [B, K, 3, C, H, W] (stored as [B, H, W, K, 3, C], the layout the backbone writes; other layouts are
    copied into it); coords [B, 3, P, n] per axis, components indexing (W, H) for n = 2 (K must be 1) or
    (W, H, K) for n = 3. Returns [B, 3, P, C]. Every (point, axis) reads 2^n rows of C contiguous floats.
    """
    B, K, A, C, H, W = planes.shape
    table = planes.permute(0, 4, 5, 1, 2, 3).reshape(-1, C)  # [B * H * W * K * 3, C]; a view when stored so
    P, n = coords.shape[2], coords.shape[3]
    sizes = (W, H, K)[:n]
    strides = (K * A, W * K * A, A)[:n]  # row strides of w, h, k
    axes = [_corner_terms(coords[..., d], sizes[d]) for d in range(n)]
    base = (torch.arange(B, device=planes.device) * (H * W * K * A)).view(B, 1, 1) + \
        torch.arange(A, device=planes.device).view(1, A, 1)  # [B, 3, 1]
    index, weight = [], []
    for corner in range(2 ** n):
        i, w, v = axes[0][corner & 1]
        row, wt, ok = base + i.clamp(0, sizes[0] - 1) * strides[0], w, v
        for d in range(1, n):
            i, w, v = axes[d][(corner >> d) & 1]
            row, wt, ok = row + i.clamp(0, sizes[d] - 1) * strides[d], wt * w, ok & v
        index.append(row)
        weight.append(wt * ok)
    index, weight = torch.stack(index, -1), torch.stack(weight, -1).to(planes.dtype)  # [B, 3, P, 2^n]
    values = table.index_select(0, index.reshape(-1)).view(-1, 2 ** n, C)
    return torch.bmm(weight.reshape(-1, 1, 2 ** n), values).view(B, A, P, C)  # 3x faster than a product + sum


def _grid_sample_axes(volumes: torch.Tensor, coords: torch.Tensor) -> torch.Tensor:
    """torch's grid_sample, the reference: volumes [B, 3, C, *S], coords [B, 3, P, n] -> [B, 3, P, C]."""
    B, A, C = volumes.shape[:3]
    N, P, n = B * A, coords.shape[2], coords.shape[3]
    g = coords.reshape(N, 1, P, n) if n == 2 else coords.reshape(N, 1, 1, P, n)
    out = F.grid_sample(volumes.reshape(N, C, *volumes.shape[3:]), g.to(volumes.dtype), mode="bilinear",
                        padding_mode="zeros", align_corners=False)
    return out.reshape(B, A, C, P).transpose(2, 3)


def sample_orthoplanes(planes: torch.Tensor, points: torch.Tensor, box_warp: float = 1.0,
                       legacy_unscaled_axes: bool = False, impl: str = "auto") -> torch.Tensor:
    """Trilinear sampling of K parallel planes per axis.

    planes: [B, K, 3, C, H, W]; points: [B, P, 3] world coordinates. Axis a's planes form a volume
    [B, C, D=K, H, W] read with coordinates (x, y, z), (y, z, x), (z, x, y) for a = 0, 1, 2, each
    scaled by 2 / box_warp. legacy_unscaled_axes reproduces OP3D's released code, which scales only
    axis 0 (its checkpoints were trained that way). Returns [B, 3, P, C].
    """
    if planes.ndim != 6 or planes.shape[2] != 3:
        raise ValueError(f"planes must be [B, K, 3, C, H, W], got {tuple(planes.shape)}")
    if points.ndim != 3 or points.shape[-1] != 3 or points.shape[0] != planes.shape[0]:
        raise ValueError(f"points must be [B, P, 3] with B = {planes.shape[0]}, got {tuple(points.shape)}")
    impl = _choose(impl, points)
    scaled = points * (2 / box_warp)
    coords = torch.stack([(scaled if axis == 0 or not legacy_unscaled_axes else points)[..., order]
                          for axis, order in enumerate(([0, 1, 2], [1, 2, 0], [2, 0, 1]))], dim=1)  # [B, 3, P, 3]
    if impl == "gather":
        return _gather_channels_last(planes, coords)
    return _grid_sample_axes(planes.permute(0, 2, 3, 1, 4, 5), coords)  # volumes [B, 3, C, K, H, W]


TRIPLANE_AXES = {False: ([0, 1], [1, 2], [2, 0]), True: ([0, 1], [0, 2], [2, 0])}


def sample_triplane(planes: torch.Tensor, points: torch.Tensor, box_warp: float = 1.0,
                    legacy_eg3d_axes: bool = False, impl: str = "auto") -> torch.Tensor:
    """Bilinear sampling of three axis-aligned planes.

    planes: [B, 3, C, H, W]; points: [B, P, 3]. Plane a is read at the (W, H) coordinates (x, y), (y, z),
    (z, x); legacy_eg3d_axes reproduces EG3D's projection (x, y), (x, z), (z, x), which released EG3D
    checkpoints need. Returns [B, 3, P, C].
    """
    if planes.ndim != 5 or planes.shape[1] != 3:
        raise ValueError(f"planes must be [B, 3, C, H, W], got {tuple(planes.shape)}")
    if points.ndim != 3 or points.shape[-1] != 3 or points.shape[0] != planes.shape[0]:
        raise ValueError(f"points must be [B, P, 3] with B = {planes.shape[0]}, got {tuple(points.shape)}")
    impl = _choose(impl, points)
    scaled = points * (2 / box_warp)
    coords = torch.stack([scaled[..., dims] for dims in TRIPLANE_AXES[legacy_eg3d_axes]], dim=1)  # [B, 3, P, 2]
    if impl == "gather":
        return _gather_channels_last(planes.unsqueeze(1), coords)
    return _grid_sample_axes(planes, coords)


def _interp_along(t: torch.Tensor, dim: int, g: torch.Tensor) -> torch.Tensor:
    """Linear interpolation of t along `dim` at normalized coordinates g [n] (grid_sample's convention, zero
    padding): that dim of t becomes n long."""
    shape = [1] * t.ndim
    shape[dim] = -1
    out = None
    for index, weight, valid in _corner_terms(g, t.shape[dim]):
        term = t.index_select(dim, index.clamp(0, t.shape[dim] - 1)) * (weight * valid).to(t.dtype).view(shape)
        out = term if out is None else out + term
    return out


def _plane_on_grid(plane: torch.Tensor, coords: dict[int, tuple[int, torch.Tensor]]) -> torch.Tensor:
    """Separable multilinear sampling of one axis' planes on a lattice: plane [*S, C, H, W] with S = (K,) or ();
    coords maps a plane dim to (lattice dim 0/1/2, normalized coordinates along it). Interpolates the most
    shrinking dim first. Returns [n_0 or 1, n_1 or 1, n_2 or 1, C] (size 1 where no plane dim reads that lattice
    dim)."""
    t = plane
    for dim in sorted(coords, key=lambda d: len(coords[d][1]) / plane.shape[d]):
        t = _interp_along(t, dim, coords[dim][1])
    lattice_of = {coords[d][0]: d for d in coords}
    channel = t.ndim - 3  # the channel dim of [*S, C, H, W]
    order = [lattice_of[m] if m in lattice_of else None for m in range(3)]
    missing = [m for m in range(3) if order[m] is None]
    for m in missing:  # a tri-plane reads two lattice dims; broadcast over the third
        t = t.unsqueeze(-1)
        order[m] = t.ndim - 1
    return t.permute(*order, channel)


def orthoplanes_on_grid(planes: torch.Tensor, ticks: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
                        box_warp: float = 1.0, legacy_unscaled_axes: bool = False) -> torch.Tensor:
    """Aggregated (mean) features of planes [1, K, 3, C, H, W] at every point of the lattice ticks_x x ticks_y x
    ticks_z (world coordinates [n_x], [n_y], [n_z]) -> [n_x, n_y, n_z, C]: the same numbers as
    aggregate_mean(sample_orthoplanes(...)) at those points, computed separably (trilinear weights are products
    of per-dimension weights), so each plane dim is interpolated once per lattice line, not per point."""
    out = None
    for axis, order in enumerate(([0, 1, 2], [1, 2, 0], [2, 0, 1])):
        scale = 2 / box_warp if axis == 0 or not legacy_unscaled_axes else 1.0
        coords = {0: (order[2], ticks[order[2]] * scale), 2: (order[1], ticks[order[1]] * scale),
                  3: (order[0], ticks[order[0]] * scale)}  # plane dims K, H, W of [K, C, H, W]
        f = _plane_on_grid(planes[0, :, axis], coords)
        out = f if out is None else out + f
    return out / 3


def triplane_on_grid(planes: torch.Tensor, ticks: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
                     box_warp: float = 1.0, legacy_eg3d_axes: bool = False) -> torch.Tensor:
    """The tri-plane version of orthoplanes_on_grid: planes [1, 3, C, H, W] -> [n_x, n_y, n_z, C]."""
    out = None
    for axis, dims in enumerate(TRIPLANE_AXES[legacy_eg3d_axes]):
        coords = {1: (dims[1], ticks[dims[1]] * (2 / box_warp)), 2: (dims[0], ticks[dims[0]] * (2 / box_warp))}
        f = _plane_on_grid(planes[0, axis], coords)  # plane dims H, W of [C, H, W]
        out = f if out is None else out + f
    return out / 3


def aggregate_mean(features: torch.Tensor) -> torch.Tensor:
    """Mean over the three axes: [B, 3, P, C] -> [B, P, C]."""
    return features.mean(1)
