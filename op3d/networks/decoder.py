"""The small MLP that turns aggregated plane features into density and colour features."""
from __future__ import annotations

import torch
from torch import nn

from op3d.networks.layers import FullyConnectedLayer


class OSGDecoder(nn.Module):
    """features [B, P, C] -> sigma [B, P, 1] (raw) and rgb [B, P, out_dim] in (-0.001, 1.001).

    Layout net = [FC(C -> 64), Softplus, FC(64 -> 1 + out_dim)] as in EG3D (state-dict names net.0, net.2);
    hidden_layers = 3 is the released pose-conditional OP3D decoder ([FC, Softplus] x 3, then the output FC:
    net.0, net.2, net.4, net.6).
    """

    def __init__(self, n_features: int = 32, hidden_dim: int = 64, out_dim: int = 32, lr_multiplier: float = 1.0,
                 hidden_layers: int = 1):
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(hidden_layers):
            layers += [FullyConnectedLayer(n_features if i == 0 else hidden_dim, hidden_dim,
                                           lr_multiplier=lr_multiplier), nn.Softplus()]
        self.net = nn.Sequential(*layers, FullyConnectedLayer(hidden_dim, 1 + out_dim, lr_multiplier=lr_multiplier))

    def forward(self, features: torch.Tensor) -> dict[str, torch.Tensor]:
        B, P, C = features.shape
        x = self.net(features.reshape(B * P, C)).reshape(B, P, -1)
        rgb = torch.sigmoid(x[..., 1:]) * (1 + 2 * 0.001) - 0.001  # MipNeRF-style widened sigmoid
        return {"rgb": rgb, "sigma": x[..., 0:1]}

    def sigma(self, features: torch.Tensor, chunk: int = 1 << 15) -> torch.Tensor:
        """forward's raw density alone: [B, P, C] -> [B, P, 1], for density grids. The colour rows of the last
        layer are skipped and the hidden activations go through one reused buffer of `chunk` rows (no large
        fresh allocations, whose page faults cost more than the arithmetic on CPUs)."""
        if len(self.net) != 3:
            return self.forward(features)["sigma"]
        B, P, C = features.shape
        x = features.reshape(B * P, C)
        first, last = self.net[0], self.net[2]
        w1 = first.weight.to(x.dtype) * first.weight_gain
        b1 = first.bias.to(x.dtype) * first.bias_gain
        w2 = last.weight[0].to(x.dtype) * last.weight_gain
        out = torch.empty(B * P, dtype=x.dtype, device=x.device)
        hidden = torch.empty(min(chunk, B * P), w1.shape[0], dtype=x.dtype, device=x.device)
        for s in range(0, B * P, chunk):
            h = hidden[:min(chunk, B * P - s)]
            torch.mm(x[s:s + chunk], w1.t(), out=h).add_(b1)
            torch.ops.aten.softplus.out(h, 1, 20, out=h)  # nn.Softplus() defaults: beta 1, threshold 20
            torch.mv(h, w2, out=out[s:s + chunk])
        return out.add_(last.bias[0].to(x.dtype) * last.bias_gain).reshape(B, P, 1)
