"""Volume compositing along rays (EG3D's MipRayMarcher2)."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def ray_march(colors: torch.Tensor, densities: torch.Tensor, depths: torch.Tensor, white_back: bool = False,
              depth_range: tuple[torch.Tensor, torch.Tensor] | None = None, activation: str = "softplus"
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Composite S samples per ray over their S-1 intervals.

    colors [B, R, S, C], densities [B, R, S, 1] (raw sigma), depths [B, R, S, 1] sorted along S.
    Interval midpoints carry colour, sigma and depth; sigma' = softplus(sigma - 1) (activation "none": the
    densities are used as given, e.g. already computed from a signed distance); alpha = 1 - exp(-sigma' delta);
    T_i = prod_{j<i} (1 - alpha_j + 1e-10); weight = alpha T. Returns rgb in [-1, 1] [B, R, C] (white_back adds
    1 - sum w before scaling), depth [B, R, 1] = sum w t / sum w (NaN -> inf, clamped to depth_range, by default
    the min/max over all `depths` as in EG3D) and weights [B, R, S-1, 1].
    """
    deltas = depths[:, :, 1:] - depths[:, :, :-1]
    colors_mid = (colors[:, :, :-1] + colors[:, :, 1:]) / 2
    densities_mid = (densities[:, :, :-1] + densities[:, :, 1:]) / 2
    depths_mid = (depths[:, :, :-1] + depths[:, :, 1:]) / 2
    if activation == "softplus":
        sigma = F.softplus(densities_mid - 1)  # a -1 activation bias initializes better
    elif activation == "none":
        sigma = densities_mid
    else:
        raise ValueError(f"activation must be 'softplus' or 'none', got {activation!r}")
    alpha = 1 - torch.exp(-sigma * deltas)
    alpha_shifted = torch.cat([torch.ones_like(alpha[:, :, :1]), 1 - alpha + 1e-10], -2)
    weights = alpha * torch.cumprod(alpha_shifted, -2)[:, :, :-1]
    rgb = torch.sum(weights * colors_mid, -2)
    weight_total = weights.sum(2)
    depth = torch.sum(weights * depths_mid, -2) / weight_total
    lo, hi = (torch.min(depths), torch.max(depths)) if depth_range is None else depth_range
    depth = torch.clamp(torch.nan_to_num(depth, float("inf")), lo, hi)
    if white_back:
        rgb = rgb + 1 - weight_total
    return rgb * 2 - 1, depth, weights


def ray_march_samples(colors: torch.Tensor, densities: torch.Tensor, depths: torch.Tensor, white_back: bool = True
                      ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Composite S samples per ray at the samples themselves (the released pose-conditional OP3D marcher,
    `Sdf2DensityRayMarcher`; EG3D's `ray_march` uses interval midpoints instead).

    colors [B, R, S, C], densities [B, R, S, 1] (already densities), depths [B, R, S, 1] sorted along S. Sample i
    covers depths[i+1] - depths[i], the last one 1e9; alpha = 1 - exp(-density delta); T_i = prod_{j<i} (1 -
    alpha_j + 1e-10); weight = alpha T. Depth = sum w' t / sum w, where w' adds the leftover 1 - sum w to the
    last sample (NaN -> inf, clamped to the min/max of all depths). white_back adds 1 - sum w to the colour.
    Returns rgb in [-1, 1] [B, R, C], depth [B, R, 1] and weights [B, R, S, 1].
    """
    deltas = torch.cat([depths[:, :, 1:] - depths[:, :, :-1], torch.full_like(depths[:, :, :1], 1e9)], dim=-2)
    alpha = 1 - torch.exp(-densities * deltas)
    alpha_shifted = torch.cat([torch.ones_like(alpha[:, :, :1]), 1 - alpha + 1e-10], -2)
    weights = alpha * torch.cumprod(alpha_shifted, -2)[:, :, :-1]
    rgb = torch.sum(weights * colors, -2)
    weight_total = weights.sum(2)
    depth_weights = torch.cat([weights[:, :, :-1], weights[:, :, -1:] + (1 - weight_total).unsqueeze(2)], dim=2)
    depth = torch.sum(depth_weights * depths, -2) / weight_total
    depth = torch.clamp(torch.nan_to_num(depth, float("inf")), torch.min(depths), torch.max(depths))
    if white_back:
        rgb = rgb + 1 - weight_total
    return rgb * 2 - 1, depth, weights
