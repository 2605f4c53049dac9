"""An independent, purely functional float64 model of the FID Inception-v3 (test-only).

Written from the public description of the network, not from op3d's module: torchvision's Inception3 block
layouts with pytorch-fid's FID blocks (FIDInceptionA / FIDInceptionC / FIDInceptionE_1: average pools that
exclude the padding; FIDInceptionE_2, the last block: a 3x3 stride-1 max pool in its pool branch), the
TF 2015-12-05 graph's BatchNorm eps 0.001, the 2048-d global average pool and the 1008-way classifier.

Weights are a flat dict {name: tensor} in the key layout of pytorch-fid's pt_inception-2015-12-05-6726825d.pth
(`<layer>.conv.weight`, `<layer>.bn.{weight,bias,running_mean,running_var}`, `fc.{weight,bias}`); the layer
table below is the only place shapes are stated, so `random_weights` doubles as a shape/name specification.

Two input conventions exist for the same weights; both are written out here explicitly (no F.interpolate):
  "pytorch_fid": pytorch-fid's InceptionV3 - bilinear resize with half-pixel centres (PyTorch's
                 align_corners=False: src = (i + 0.5) * in / 299 - 0.5, clamped at 0), then x / 255 * 2 - 1.
  "nvidia":      NVIDIA's TorchScript inception-2015-12-05.pt (stylegan2-ada / EG3D) and the TF graph itself -
                 TF1 legacy bilinear resize (src = i * in / 299, clamped to the border), then (x - 128) / 128.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

BN_EPS = 1e-3
SIZE = 299

# ----------------------------------------------------------------------------------------------------------
# Layer table: name -> (cin, cout, (kh, kw), stride, (ph, pw)). Every conv is bias-free and followed by BN+ReLU.


def _block_a(p, cin, pool_features):
    return {
        f"{p}.branch1x1": (cin, 64, (1, 1), 1, (0, 0)),
        f"{p}.branch5x5_1": (cin, 48, (1, 1), 1, (0, 0)),
        f"{p}.branch5x5_2": (48, 64, (5, 5), 1, (2, 2)),
        f"{p}.branch3x3dbl_1": (cin, 64, (1, 1), 1, (0, 0)),
        f"{p}.branch3x3dbl_2": (64, 96, (3, 3), 1, (1, 1)),
        f"{p}.branch3x3dbl_3": (96, 96, (3, 3), 1, (1, 1)),
        f"{p}.branch_pool": (cin, pool_features, (1, 1), 1, (0, 0)),
    }


def _block_b(p, cin):
    return {
        f"{p}.branch3x3": (cin, 384, (3, 3), 2, (0, 0)),
        f"{p}.branch3x3dbl_1": (cin, 64, (1, 1), 1, (0, 0)),
        f"{p}.branch3x3dbl_2": (64, 96, (3, 3), 1, (1, 1)),
        f"{p}.branch3x3dbl_3": (96, 96, (3, 3), 2, (0, 0)),
    }


def _block_c(p, cin, c7):
    row, col = ((1, 7), (0, 3)), ((7, 1), (3, 0))
    return {
        f"{p}.branch1x1": (cin, 192, (1, 1), 1, (0, 0)),
        f"{p}.branch7x7_1": (cin, c7, (1, 1), 1, (0, 0)),
        f"{p}.branch7x7_2": (c7, c7, row[0], 1, row[1]),
        f"{p}.branch7x7_3": (c7, 192, col[0], 1, col[1]),
        f"{p}.branch7x7dbl_1": (cin, c7, (1, 1), 1, (0, 0)),
        f"{p}.branch7x7dbl_2": (c7, c7, col[0], 1, col[1]),
        f"{p}.branch7x7dbl_3": (c7, c7, row[0], 1, row[1]),
        f"{p}.branch7x7dbl_4": (c7, c7, col[0], 1, col[1]),
        f"{p}.branch7x7dbl_5": (c7, 192, row[0], 1, row[1]),
        f"{p}.branch_pool": (cin, 192, (1, 1), 1, (0, 0)),
    }


def _block_d(p, cin):
    return {
        f"{p}.branch3x3_1": (cin, 192, (1, 1), 1, (0, 0)),
        f"{p}.branch3x3_2": (192, 320, (3, 3), 2, (0, 0)),
        f"{p}.branch7x7x3_1": (cin, 192, (1, 1), 1, (0, 0)),
        f"{p}.branch7x7x3_2": (192, 192, (1, 7), 1, (0, 3)),
        f"{p}.branch7x7x3_3": (192, 192, (7, 1), 1, (3, 0)),
        f"{p}.branch7x7x3_4": (192, 192, (3, 3), 2, (0, 0)),
    }


def _block_e(p, cin):
    return {
        f"{p}.branch1x1": (cin, 320, (1, 1), 1, (0, 0)),
        f"{p}.branch3x3_1": (cin, 384, (1, 1), 1, (0, 0)),
        f"{p}.branch3x3_2a": (384, 384, (1, 3), 1, (0, 1)),
        f"{p}.branch3x3_2b": (384, 384, (3, 1), 1, (1, 0)),
        f"{p}.branch3x3dbl_1": (cin, 448, (1, 1), 1, (0, 0)),
        f"{p}.branch3x3dbl_2": (448, 384, (3, 3), 1, (1, 1)),
        f"{p}.branch3x3dbl_3a": (384, 384, (1, 3), 1, (0, 1)),
        f"{p}.branch3x3dbl_3b": (384, 384, (3, 1), 1, (1, 0)),
        f"{p}.branch_pool": (cin, 192, (1, 1), 1, (0, 0)),
    }


LAYERS: dict[str, tuple] = {
    "Conv2d_1a_3x3": (3, 32, (3, 3), 2, (0, 0)),
    "Conv2d_2a_3x3": (32, 32, (3, 3), 1, (0, 0)),
    "Conv2d_2b_3x3": (32, 64, (3, 3), 1, (1, 1)),
    "Conv2d_3b_1x1": (64, 80, (1, 1), 1, (0, 0)),
    "Conv2d_4a_3x3": (80, 192, (3, 3), 1, (0, 0)),
    **_block_a("Mixed_5b", 192, 32), **_block_a("Mixed_5c", 256, 64), **_block_a("Mixed_5d", 288, 64),
    **_block_b("Mixed_6a", 288),
    **_block_c("Mixed_6b", 768, 128), **_block_c("Mixed_6c", 768, 160),
    **_block_c("Mixed_6d", 768, 160), **_block_c("Mixed_6e", 768, 192),
    **_block_d("Mixed_7a", 768),
    **_block_e("Mixed_7b", 1280), **_block_e("Mixed_7c", 2048),
}
NUM_CLASSES = 1008
FEATURES = 2048


def random_weights(seed: int = 0) -> dict[str, torch.Tensor]:
    """Seeded float32 weights for every tensor of the file layout. He-scaled convolutions and BN statistics near
    unit scale keep the pool3 features O(1) (rms ~1, ~15% zeros) through the 94 layers; running_var in [0.5, 1.5]
    keeps eps=1e-3 (vs 1e-5) visible at ~1e-3 relative per layer; logits come out with a spread of a few units."""
    g = torch.Generator().manual_seed(seed)
    w = {}
    for name, (cin, cout, (kh, kw), _, _) in LAYERS.items():
        fan_in = cin * kh * kw
        w[f"{name}.conv.weight"] = torch.randn(cout, cin, kh, kw, generator=g) * math.sqrt(2.0 / fan_in)
        w[f"{name}.bn.weight"] = 0.7 + 0.5 * torch.rand(cout, generator=g)
        w[f"{name}.bn.bias"] = 0.2 * torch.randn(cout, generator=g)
        w[f"{name}.bn.running_mean"] = 0.2 * torch.randn(cout, generator=g)
        w[f"{name}.bn.running_var"] = 0.5 + torch.rand(cout, generator=g)
    w["fc.weight"] = torch.randn(NUM_CLASSES, FEATURES, generator=g) * (2.0 / math.sqrt(FEATURES))
    w["fc.bias"] = torch.randn(NUM_CLASSES, generator=g)
    return w


# ----------------------------------------------------------------------------------------------------------
# Input: resize to 299x299 and scale, written out as gathers in float64.


def _taps(n_in: int, convention: str):
    """For each output row/column i: the two source indices and the weight of the second one."""
    i = torch.arange(SIZE, dtype=torch.float64)
    scale = n_in / SIZE
    if convention == "pytorch_fid":
        src = ((i + 0.5) * scale - 0.5).clamp(min=0.0)
    elif convention == "nvidia":
        src = (i * scale).clamp(max=n_in - 1.0)
    else:
        raise ValueError(convention)
    lo = src.floor().long()
    hi = (lo + 1).clamp(max=n_in - 1)
    return lo, hi, src - lo.double()


def preprocess(images: torch.Tensor, convention: str) -> torch.Tensor:
    """uint8 [B, 3, H, W] -> float64 [B, 3, 299, 299] network input."""
    x = images.double()
    lo, hi, t = _taps(x.shape[2], convention)
    x = x[:, :, lo, :] * (1 - t)[:, None] + x[:, :, hi, :] * t[:, None]
    lo, hi, t = _taps(x.shape[3], convention)
    x = x[..., lo] * (1 - t) + x[..., hi] * t
    if convention == "pytorch_fid":
        return x / 255.0 * 2.0 - 1.0
    return (x - 128.0) / 128.0


# ----------------------------------------------------------------------------------------------------------
# The network.


def _unit(w, name, x):
    _, _, _, stride, padding = LAYERS[name]
    y = F.conv2d(x, w[f"{name}.conv.weight"], stride=stride, padding=padding)
    mean, var = w[f"{name}.bn.running_mean"], w[f"{name}.bn.running_var"]
    gamma, beta = w[f"{name}.bn.weight"], w[f"{name}.bn.bias"]
    # (y - mean) / sqrt(var + eps) * gamma + beta, then ReLU; in place on the fresh conv output
    y.sub_(mean[:, None, None]).mul_((gamma / torch.sqrt(var + BN_EPS))[:, None, None]).add_(beta[:, None, None])
    return y.clamp_(min=0.0)


def _chain(w, x, *names):
    for n in names:
        x = _unit(w, n, x)
    return x


def _avg3_excluding_pad(x):
    """3x3 stride-1 mean over the in-image neighbours only (TF 'SAME' average pooling)."""
    total = F.pad(x, (1, 1, 1, 1)).unfold(2, 3, 1).unfold(3, 3, 1).sum(dim=(-1, -2))
    ones = torch.ones(1, 1, x.shape[2], x.shape[3], dtype=x.dtype)
    count = F.pad(ones, (1, 1, 1, 1)).unfold(2, 3, 1).unfold(3, 3, 1).sum(dim=(-1, -2))
    return total / count


def _max3_same(x):
    return F.pad(x, (1, 1, 1, 1), value=-math.inf).unfold(2, 3, 1).unfold(3, 3, 1).amax(dim=(-1, -2))


def _max3_stride2(x):
    return x.unfold(2, 3, 2).unfold(3, 3, 2).amax(dim=(-1, -2))


def _mixed_a(w, p, x):
    return [
        _unit(w, f"{p}.branch1x1", x),
        _chain(w, x, f"{p}.branch5x5_1", f"{p}.branch5x5_2"),
        _chain(w, x, f"{p}.branch3x3dbl_1", f"{p}.branch3x3dbl_2", f"{p}.branch3x3dbl_3"),
        _unit(w, f"{p}.branch_pool", _avg3_excluding_pad(x)),
    ]


def _mixed_b(w, p, x):
    return [
        _unit(w, f"{p}.branch3x3", x),
        _chain(w, x, f"{p}.branch3x3dbl_1", f"{p}.branch3x3dbl_2", f"{p}.branch3x3dbl_3"),
        _max3_stride2(x),
    ]


def _mixed_c(w, p, x):
    return [
        _unit(w, f"{p}.branch1x1", x),
        _chain(w, x, *(f"{p}.branch7x7_{i}" for i in (1, 2, 3))),
        _chain(w, x, *(f"{p}.branch7x7dbl_{i}" for i in (1, 2, 3, 4, 5))),
        _unit(w, f"{p}.branch_pool", _avg3_excluding_pad(x)),
    ]


def _mixed_d(w, p, x):
    return [
        _chain(w, x, f"{p}.branch3x3_1", f"{p}.branch3x3_2"),
        _chain(w, x, *(f"{p}.branch7x7x3_{i}" for i in (1, 2, 3, 4))),
        _max3_stride2(x),
    ]


def _mixed_e(w, p, x, pool):
    a = _unit(w, f"{p}.branch3x3_1", x)
    d = _chain(w, x, f"{p}.branch3x3dbl_1", f"{p}.branch3x3dbl_2")
    return [
        _unit(w, f"{p}.branch1x1", x),
        _unit(w, f"{p}.branch3x3_2a", a), _unit(w, f"{p}.branch3x3_2b", a),
        _unit(w, f"{p}.branch3x3dbl_3a", d), _unit(w, f"{p}.branch3x3dbl_3b", d),
        _unit(w, f"{p}.branch_pool", pool(x)),
    ]


def network(weights: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Preprocessed float64 input [B, 3, 299, 299] -> pool3 features [B, 2048], everything in float64."""
    w = {k: v.double() for k, v in weights.items()}
    x = x.double()
    x = _max3_stride2(_chain(w, x, "Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3"))
    x = _max3_stride2(_chain(w, x, "Conv2d_3b_1x1", "Conv2d_4a_3x3"))
    for p in ("Mixed_5b", "Mixed_5c", "Mixed_5d"):
        x = torch.cat(_mixed_a(w, p, x), dim=1)
    x = torch.cat(_mixed_b(w, "Mixed_6a", x), dim=1)
    for p in ("Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e"):
        x = torch.cat(_mixed_c(w, p, x), dim=1)
    x = torch.cat(_mixed_d(w, "Mixed_7a", x), dim=1)
    x = torch.cat(_mixed_e(w, "Mixed_7b", x, _avg3_excluding_pad), dim=1)
    x = torch.cat(_mixed_e(w, "Mixed_7c", x, _max3_same), dim=1)
    assert x.shape[1:] == (FEATURES, 8, 8), x.shape
    return x.sum(dim=(2, 3)) / 64.0


def logits(weights: dict[str, torch.Tensor], features: torch.Tensor, bias: bool = False) -> torch.Tensor:
    """1008-way classifier; the Inception Score uses it without the bias (NVIDIA's no_output_bias=True)."""
    out = features.double() @ weights["fc.weight"].double().T
    return out + weights["fc.bias"].double() if bias else out
