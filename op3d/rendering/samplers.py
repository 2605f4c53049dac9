"""Depths along rays: stratified samples and importance samples from a coarse pass."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def stratified_depths(ray_start: float | torch.Tensor, ray_end: float | torch.Tensor, B: int, R: int, S: int,
                      jitter: torch.Tensor | float, device: torch.device | str | None = None,
                      disparity_space: bool = False) -> torch.Tensor:
    """S depths per ray: linspace(start, end, S) + jitter * (end - start) / (S - 1).

    ray_start/ray_end: floats or [B, R, 1]; jitter: U[0, 1) samples [B, R, S, 1] (or 0.5 for the deterministic
    mode). disparity_space samples linearly in inverse depth instead. Returns [B, R, S, 1].
    """
    if disparity_space:
        t = torch.linspace(0, 1, S, device=device).reshape(1, 1, S, 1) + jitter / (S - 1)
        start, end = (x.unsqueeze(2) if isinstance(x, torch.Tensor) else x for x in (ray_start, ray_end))
        return (1.0 / (1.0 / start * (1.0 - t) + 1.0 / end * t)).expand(B, R, S, 1)
    if isinstance(ray_start, torch.Tensor):
        steps = torch.arange(S, dtype=torch.float32, device=ray_start.device).reshape(1, 1, S, 1) / (S - 1)
        depths = ray_start.unsqueeze(2) + steps * (ray_end - ray_start).unsqueeze(2)
        delta = ((ray_end - ray_start) / (S - 1)).unsqueeze(2)
    else:
        depths = torch.linspace(ray_start, ray_end, S, device=device).reshape(1, 1, S, 1).expand(B, R, S, 1)
        delta = (ray_end - ray_start) / (S - 1)
    return depths + jitter * delta


def sample_pdf(bins: torch.Tensor, weights: torch.Tensor, u: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Inverse-CDF sampling. bins [N, M+1], weights [N, M], u [N, n] in [0, 1] -> samples [N, n].

    As in EG3D, samples interpolate between bins[below] and bins[above] with indices from the
    searchsorted CDF (so with weights of length M only bins[0..M] are used).
    """
    N, M = weights.shape
    weights = weights + eps
    pdf = weights / torch.sum(weights, -1, keepdim=True)
    cdf = torch.cat([torch.zeros_like(pdf[:, :1]), torch.cumsum(pdf, -1)], -1)  # [N, M+1]
    inds = torch.searchsorted(cdf, u.contiguous(), right=True)
    below = torch.clamp_min(inds - 1, 0)
    above = torch.clamp_max(inds, M)
    idx = torch.stack([below, above], -1).view(N, -1)
    cdf_g = torch.gather(cdf, 1, idx).view(N, -1, 2)
    bins_g = torch.gather(bins, 1, idx).view(N, -1, 2)
    denom = cdf_g[..., 1] - cdf_g[..., 0]
    denom = torch.where(denom < eps, torch.ones_like(denom), denom)
    return bins_g[..., 0] + (u - cdf_g[..., 0]) / denom * (bins_g[..., 1] - bins_g[..., 0])


def importance_depths(depths: torch.Tensor, weights: torch.Tensor, n: int, u: torch.Tensor | None = None
                      ) -> torch.Tensor:
    """n new depths per ray drawn where the coarse pass put its weight.

    depths [B, R, S, 1] (coarse), weights [B, R, S-1, 1] (from ray_march); u: [B*R, n] uniforms, None for
    deterministic linspace(0, 1, n). Weights are smoothed by max_pool(2, 1, pad 1) then avg_pool(2, 1) and
    offset by 0.01 before inverse-CDF sampling over coarse midpoints. Returns [B, R, n, 1] (no gradient), sorted
    along each ray: the same depths as EG3D's, in ray order (callers merge them with the coarse ones by depth
    anyway), so that consecutive samples are close - the mesh queries of the conditional branch exploit that.
    """
    with torch.no_grad():
        B, R, S, _ = depths.shape
        z = depths.reshape(B * R, S)
        w = weights.reshape(B * R, -1).float().unsqueeze(1)
        w = F.avg_pool1d(F.max_pool1d(w, 2, 1, padding=1), 2, 1).squeeze(1) + 0.01  # [B*R, S-1]
        mids = 0.5 * (z[:, :-1] + z[:, 1:])
        if u is None:
            u = torch.linspace(0, 1, n, device=depths.device).expand(B * R, n)
        return sample_pdf(mids, w[:, 1:-1], u).sort(-1).values.reshape(B, R, n, 1)


def merge_samples(depths1: torch.Tensor, colors1: torch.Tensor, densities1: torch.Tensor, depths2: torch.Tensor,
                  colors2: torch.Tensor, densities2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Concatenate two sample sets along S and sort by depth. Shapes [B, R, S_i, *]."""
    depths = torch.cat([depths1, depths2], dim=-2)
    colors = torch.cat([colors1, colors2], dim=-2)
    densities = torch.cat([densities1, densities2], dim=-2)
    _, order = torch.sort(depths, dim=-2)
    return (torch.gather(depths, -2, order), torch.gather(colors, -2, order.expand(-1, -1, -1, colors.shape[-1])),
            torch.gather(densities, -2, order))
