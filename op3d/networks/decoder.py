"""The small MLP that turns aggregated plane features into density and colour features."""
from __future__ import annotations

import torch
from torch import nn

from op3d.networks.layers import FullyConnectedLayer


class OSGDecoder(nn.Module):
    """features [B, P, C] -> sigma [B, P, 1] (raw) and rgb [B, P, out_dim] in (-0.001, 1.001).

    Layout net = [FC(C -> 64), Softplus, FC(64 -> 1 + out_dim)] as in EG3D (state-dict names net.0, net.2).
    """

    def __init__(self, n_features: int = 32, hidden_dim: int = 64, out_dim: int = 32, lr_multiplier: float = 1.0):
        super().__init__()
        self.net = nn.Sequential(
            FullyConnectedLayer(n_features, hidden_dim, lr_multiplier=lr_multiplier),
            nn.Softplus(),
            FullyConnectedLayer(hidden_dim, 1 + out_dim, lr_multiplier=lr_multiplier),
        )

    def forward(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        B, P, C = features.shape
        x = self.net(features.reshape(B * P, C)).reshape(B, P, -1)
        rgb = torch.sigmoid(x[..., 1:]) * (1 + 2 * 0.001) - 0.001  # MipNeRF-style widened sigmoid
        return {"rgb": rgb, "sigma": x[..., 0:1]}

    def sigma(self, features: torch.Tensor) -> torch.Tensor:
        """forward's raw density alone (the colour rows of the last layer are not computed): [B, P, C] -> [B, P, 1].
        For density grids, where colours are not needed."""
        B, P, C = features.shape
        hidden = self.net[1](self.net[0](features.reshape(B * P, C)))
        last = self.net[2]
        w = last.weight[:1].to(hidden.dtype) * last.weight_gain
        b = last.bias[:1].to(hidden.dtype) * last.bias_gain
        return torch.addmm(b.unsqueeze(0), hidden, w.t()).reshape(B, P, 1)
