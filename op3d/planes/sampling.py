"""Sampling features from orthoplanes and tri-planes at 3-D points.

Coordinates are world points scaled by 2 / box_warp into [-1, 1]^3. Interpolation follows
grid_sample(align_corners=False, padding_mode='zeros'): a grid value g indexes texel-space
(g + 1) * N / 2 - 0.5. Two implementations compute the same numbers:
- "gather" (the fast path): each (point, axis) gathers its 2^n corner rows of C contiguous channels from planes
  stored channels-last ([B, H, W, K, 3, C], as the backbone writes them) and weights them, in plain autograd
  ops: differentiable to any order (eikonal terms), one gradient buffer for all axes;
- "grid_sample": torch's kernels on channel-first volumes, the reference twin (second derivatives w.r.t. the
  points rely on torch's own double backward of grid_sample: torch 2.13 has one, which agreed with finite
  differences in 3-D; "gather" needs none, so eikonal terms take it whatever the torch version).
"auto" picks "gather" where the points need second derivatives, else the device's path for the op
"plane_sampling" (`op3d.ops.dispatch.fast_path`: "gather" is the fast path, "grid_sample" its reference twin).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from op3d.ops.dispatch import fast_path

IMPLS = ("auto", "grid_sample", "gather")


def _choose(impl: str, points: torch.Tensor) -> str:
    if impl not in IMPLS:
        raise ValueError(f"impl must be one of {IMPLS}, got {impl!r}")
    if impl == "auto":
        if points.requires_grad and torch.is_grad_enabled():
            return "gather"  # twice differentiable in the points
        return "gather" if fast_path("plane_sampling", points.device) else "grid_sample"
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


def _interp_matrix(g: torch.Tensor, size: int, dtype: torch.dtype) -> torch.Tensor:
    """Linear interpolation weights [n, size] (two non-zeros per row, zero padding) at normalized coordinates g [n]."""
    m = torch.zeros(len(g), size, dtype=dtype, device=g.device)
    for index, weight, valid in _corner_terms(g, size):
        m.scatter_add_(1, index.clamp(0, size - 1)[:, None], (weight * valid).to(dtype)[:, None])
    return m


def _accumulate_on_grid(out: torch.Tensor, plane: torch.Tensor, uv: tuple[tuple[int, torch.Tensor], ...],
                        depth: tuple[int, torch.Tensor] | None, scale: float, cache: dict | None = None) -> None:
    """out [n_0, n_1, n_2, C] += scale x the multilinear sample of one axis' planes at every lattice point.

    plane [K, C, H, W]; uv: the lattice dims and normalized coordinates read along W and along H; depth: the
    lattice dim and coordinates read along K (None: a tri-plane, K = 1, broadcast over the third lattice dim).
    cache: where the caller evaluates slabs of one lattice along dim 0 (the same tick tensors for dims 1 and 2),
    the (H, W) resampling of a plane that reads neither is the same for every slab and is kept here.
    H and W are interpolated first (one bilinear grid_sample onto the lattice's (v, u) points, small); the K
    interpolation, which expands to the full lattice slab, is one matrix product accumulated into out (one pass
    over the slab).
    """
    (m_u, g_u), (m_v, g_v) = uv
    K = plane.shape[0]
    key = (plane.data_ptr(), m_u, m_v)
    if cache is not None and key in cache:
        t = cache[key]
    else:
        grid = torch.stack(torch.broadcast_tensors(g_u[None, :], g_v[:, None]), dim=-1)  # [n_v, n_u, 2]: (W, H)
        # one bilinear resampling per plane (batch K); reads channels-last storage as it is
        t = F.grid_sample(plane, grid.to(plane.dtype).expand(K, -1, -1, -1), mode="bilinear", padding_mode="zeros",
                          align_corners=False)  # [K, C, n_v, n_u]
        dims = {m_u: 3, m_v: 2}  # lattice dim -> dim of t
        if depth is None:
            t = t[0].permute(*[dims[m] - 1 for m in range(3) if m in dims], 0)  # [.., .., C]
        else:
            m_d = depth[0]
            before, after = [m for m in range(3) if m < m_d], [m for m in range(3) if m > m_d]
            t = t.permute(*[dims[m] for m in before], 0, *[dims[m] for m in after], 1).contiguous()  # [.., K, .., C]
        if cache is not None and 0 not in (m_u, m_v):
            cache[key] = t
    if depth is None:
        out.add_(t.unsqueeze(({0, 1, 2} - {m_u, m_v}).pop()), alpha=scale)
        return
    m_d, g_d = depth
    batch = out.shape[:m_d].numel()
    weights = _interp_matrix(g_d, K, t.dtype) * scale  # [n_d, K]
    out.view(batch, out.shape[m_d], -1).baddbmm_(weights.expand(batch, -1, -1), t.reshape(batch, K, -1))


def orthoplanes_on_grid(planes: torch.Tensor, ticks: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
                        box_warp: float = 1.0, legacy_unscaled_axes: bool = False,
                        cache: dict | None = None) -> torch.Tensor:
    """Aggregated (mean) features of planes [1, K, 3, C, H, W] at every point of the lattice ticks_x x ticks_y x
    ticks_z (world coordinates [n_x], [n_y], [n_z]) -> [n_x, n_y, n_z, C]: the same numbers as
    aggregate_mean(sample_orthoplanes(...)) at those points, computed separably (trilinear weights are products
    of per-dimension weights), each plane dim interpolated once per lattice line instead of once per point.
    cache: a dict kept across slabs of one lattice along x (see _accumulate_on_grid)."""
    C = planes.shape[3]
    out = planes.new_zeros(*(len(t) for t in ticks), C)
    for axis, order in enumerate(([0, 1, 2], [1, 2, 0], [2, 0, 1])):  # lattice dims read along W, H, K
        s = 2 / box_warp if axis == 0 or not legacy_unscaled_axes else 1.0
        g = [ticks[m].to(planes.dtype) * s for m in order]
        _accumulate_on_grid(out, planes[0, :, axis], ((order[0], g[0]), (order[1], g[1])), (order[2], g[2]), 1 / 3,
                            cache)
    return out


def triplane_on_grid(planes: torch.Tensor, ticks: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
                     box_warp: float = 1.0, legacy_eg3d_axes: bool = False, cache: dict | None = None) -> torch.Tensor:
    """The tri-plane version of orthoplanes_on_grid: planes [1, 3, C, H, W] -> [n_x, n_y, n_z, C]."""
    C = planes.shape[2]
    out = planes.new_zeros(*(len(t) for t in ticks), C)
    for axis, dims in enumerate(TRIPLANE_AXES[legacy_eg3d_axes]):  # lattice dims read along W, H
        g = [ticks[m].to(planes.dtype) * (2 / box_warp) for m in dims]
        _accumulate_on_grid(out, planes[0, axis].unsqueeze(0), ((dims[0], g[0]), (dims[1], g[1])), None, 1 / 3,
                            cache)
    return out


def aggregate_mean(features: torch.Tensor) -> torch.Tensor:
    """Mean over the three axes: [B, 3, P, C] -> [B, P, C]."""
    return features.mean(1)
