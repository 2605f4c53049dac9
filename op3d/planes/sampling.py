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


def aggregate_mean(features: torch.Tensor) -> torch.Tensor:
    """Mean over the three axes: [B, 3, P, C] -> [B, P, C]."""
    return features.mean(1)
