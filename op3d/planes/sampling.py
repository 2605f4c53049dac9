"""Sampling features from orthoplanes and tri-planes at 3-D points.

Coordinates are world points scaled by 2 / box_warp into [-1, 1]^3. Interpolation follows
grid_sample(align_corners=False, padding_mode='zeros'): a grid value g indexes texel-space
(g + 1) * N / 2 - 0.5. Two implementations compute the same numbers:
- "grid_sample": torch's kernels (fast; its 3-D backward is not twice differentiable w.r.t. points);
- "gather": corner gathers and interpolation weights in plain autograd ops, differentiable to any order.
"auto" picks "gather" when the points require grad under grad mode (e.g. an eikonal term), else "grid_sample".
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

IMPLS = ("auto", "grid_sample", "gather")


def _choose(impl: str, points: torch.Tensor) -> str:
    if impl not in IMPLS:
        raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}")
    if impl == "auto":
        return "gather" if (points.requires_grad and torch.is_grad_enabled()) else "grid_sample"
    return impl


def _corner_terms(g: torch.Tensor, size: int) -> list[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
    """For grid coordinate g [...] along an axis of `size` texels: [(index, weight, valid)] for both neighbours."""
    t = (g + 1) * (size / 2) - 0.5
    t0 = torch.floor(t.detach())
    w1 = t - t0
    i0 = t0.long()
    return [(i0, 1 - w1, (i0 >= 0) & (i0 < size)), (i0 + 1, w1, (i0 + 1 >= 0) & (i0 + 1 < size))]


def _interp_gather(volume: torch.Tensor, grid: torch.Tensor) -> torch.Tensor:
    """Multilinear interpolation with zero padding.

    volume: [N, C, *S] (S = (H, W) or (D, H, W)); grid: [N, P, n] with components indexing S reversed
    (x -> W, y -> H, z -> D). Returns [N, P, C].
    """
    N, C = volume.shape[:2]
    sizes = volume.shape[2:]
    n = len(sizes)
    flat = volume.reshape(N, C, -1).transpose(1, 2).reshape(-1, C)  # [N * prod(S), C]
    numel = flat.shape[0] // N
    axes = [_corner_terms(grid[..., n - 1 - d], sizes[d]) for d in range(n)]  # per volume dim (D/H/W order)
    strides = [int(torch.tensor(sizes[d + 1:]).prod()) for d in range(n)]
    base = (torch.arange(N, device=volume.device) * numel).view(N, 1)
    out = None
    for corner in range(2 ** n):
        index = base
        weight = None
        valid = None
        for d in range(n):
            i, w, v = axes[d][(corner >> (n - 1 - d)) & 1]
            index = index + i.clamp(0, sizes[d] - 1) * strides[d]
            weight = w if weight is None else weight * w
            valid = v if valid is None else valid & v
        values = flat.index_select(0, index.reshape(-1)).reshape(N, -1, C)  # [N, P, C]
        term = values * (weight * valid).unsqueeze(-1).to(values.dtype)
        out = term if out is None else out + term
    return out


def _interp(volume: torch.Tensor, grid: torch.Tensor, impl: str) -> torch.Tensor:
    """volume [N, C, *S], grid [N, P, n] -> [N, P, C] with the chosen implementation."""
    if impl == "gather":
        return _interp_gather(volume, grid)
    N, P, n = grid.shape
    g = grid.reshape(N, 1, P, n) if n == 2 else grid.reshape(N, 1, 1, P, n)
    out = F.grid_sample(volume, g.to(volume.dtype), mode="bilinear", padding_mode="zeros", align_corners=False)
    return out.reshape(N, volume.shape[1], P).transpose(1, 2)


def _sample_axes(volumes: torch.Tensor, coords: torch.Tensor, impl: str) -> torch.Tensor:
    """The three axes in one sampling call: volumes [B, 3, C, *S] (a view when contiguous), coords [B, 3, P, n]
    -> [B, 3, P, C]. One kernel and one gradient buffer instead of three, no stacking copy in the backward."""
    B, A, C = volumes.shape[:3]
    out = _interp(volumes.reshape(B * A, C, *volumes.shape[3:]), coords.reshape(B * A, *coords.shape[2:]), impl)
    return out.reshape(B, A, *out.shape[1:])


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
    return _sample_axes(planes.permute(0, 2, 3, 1, 4, 5), coords, impl)  # volumes [B, 3, C, K, H, W]


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
    return _sample_axes(planes, coords, impl)


def aggregate_mean(features: torch.Tensor) -> torch.Tensor:
    """Mean over the three axes: [B, 3, P, C] -> [B, P, C]."""
    return features.mean(1)
