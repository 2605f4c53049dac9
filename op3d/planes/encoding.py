"""Plane positions and their Fourier encoding (OrthoPlanes)."""
from __future__ import annotations

import math

import torch


def plane_positions(K: int, device: torch.device | str | None = None,
                    dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """p_k = linspace(-1, 1, K): [K]. Note these are not the texel centres ((2k+1)/K - 1) that
    align_corners=False sampling assumes; OrthoPlanes uses them as given."""
    if K < 1:
        raise ValueError(f"the number of planes per axis must be >= 1, got {K}")
    return torch.linspace(-1, 1, K, device=device, dtype=dtype)


def fourier_encode(p: torch.Tensor, L: int) -> torch.Tensor:
    """gamma(p) = [p, cos(2^0 pi p), sin(2^0 pi p), ..., cos(2^(L-1) pi p), sin(2^(L-1) pi p)].

    p: [...] -> [..., 2L + 1]
    """
    if L < 0:
        raise ValueError(f"fourier_L must be >= 0, got {L}")
    parts = [p]
    for i in range(L):
        angle = p * (2 ** i * math.pi)
        parts += [torch.cos(angle), torch.sin(angle)]
    return torch.stack(parts, dim=-1)


def plane_head_inputs(w: torch.Tensor, K: int, L: int) -> torch.Tensor:
    """The style inputs of the K plane heads: [w ; gamma(p_k)] for every k.

    w: [B, w_dim] -> [B, K, w_dim + 2L + 1]
    """
    code = fourier_encode(plane_positions(K, device=w.device, dtype=w.dtype), L)  # [K, 2L+1]
    B = w.shape[0]
    return torch.cat([w.unsqueeze(1).expand(B, K, w.shape[1]), code.unsqueeze(0).expand(B, K, code.shape[1])], dim=2)
