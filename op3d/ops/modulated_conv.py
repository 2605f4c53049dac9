"""Modulated (style-scaled, optionally demodulated) convolution of StyleGAN2."""
from __future__ import annotations

import torch

from op3d.ops.conv2d_resample import conv2d_resample
from op3d.ops.dispatch import fast_path


def modulated_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    styles: torch.Tensor,
    noise: torch.Tensor | None = None,
    up: int = 1,
    down: int = 1,
    padding: int = 0,
    resample_filter: torch.Tensor | None = None,
    demodulate: bool = True,
    flip_weight: bool = True,
    fused_modconv: bool = True,
) -> torch.Tensor:
    """x: [B, I, H, W], weight: [O, I, kh, kw], styles: [B, I], noise broadcastable to the output.

    fused_modconv=True builds per-sample weights and runs one grouped convolution; False scales the
    activations before and after a shared convolution. Both compute the same function.
    """
    B = x.shape[0]
    out_channels, in_channels, kh, kw = weight.shape
    if styles.shape != (B, in_channels):
        raise ValueError(f"styles must be [B, I] = [{B}, {in_channels}], got {tuple(styles.shape)}")
    if x.dtype == torch.float16 and demodulate:  # pre-normalize to avoid fp16 overflow
        weight = weight * (1 / (in_channels * kh * kw) ** 0.5 / weight.norm(float("inf"), dim=[1, 2, 3], keepdim=True))
        styles = styles / styles.norm(float("inf"), dim=1, keepdim=True)

    w = None
    dcoefs = None
    if demodulate or fused_modconv:
        w = weight.unsqueeze(0) * styles.reshape(B, 1, -1, 1, 1)  # [B, O, I, kh, kw]
    if demodulate:
        dcoefs = (w.square().sum(dim=[2, 3, 4]) + 1e-8).rsqrt()  # [B, O]

    if not fused_modconv:
        x = x * styles.to(x.dtype).reshape(B, -1, 1, 1)
        x = conv2d_resample(x, weight.to(x.dtype), f=resample_filter, up=up, down=down, padding=padding,
                            flip_weight=flip_weight)
        if demodulate:
            x = x * dcoefs.to(x.dtype).reshape(B, -1, 1, 1)
        if noise is not None:
            x = x + noise.to(x.dtype)
        return x

    if demodulate:
        w = w * dcoefs.reshape(B, -1, 1, 1, 1)
    x = x.reshape(1, -1, *x.shape[2:])
    w = w.reshape(-1, in_channels, kh, kw)
    x = conv2d_resample(x, w.to(x.dtype), f=resample_filter, up=up, down=down, padding=padding, groups=B,
                        flip_weight=flip_weight)
    x = x.reshape(B, -1, *x.shape[2:])
    if noise is not None:
        x = x + noise
    return x


def modulated_conv1x1_multi(x: torch.Tensor, weight: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
    """K differently-modulated 1x1 convolutions of one feature map, without replicating it K times.

    x: [B, I, H, W], weight: [O, I], styles: [B, K, I] -> [B, O, K, H, W] (output channel before plane index:
    the layout in which each axis' planes already form a [C, D=K, H, W] volume for trilinear sampling).
    out[b, o, k] = sum_i weight[o, i] * styles[b, k, i] * x[b, i]  (no demodulation).
    """
    B, I, H, W = x.shape
    K = styles.shape[1]
    O = weight.shape[0]
    if not fast_path("planes_head", x.device):  # OP3D's computation: replicate x K times, one grouped conv per (b, k)
        x_rep = x.unsqueeze(1).expand(B, K, I, H, W).reshape(B * K, I, H, W)
        y = modulated_conv2d(x_rep, weight[:, :, None, None], styles.reshape(B * K, I), demodulate=False)
        return y.reshape(B, K, O, H, W).transpose(1, 2)
    w = weight.unsqueeze(1) * styles.unsqueeze(1)  # [B, O, K, I]
    y = torch.bmm(w.reshape(B, O * K, I).to(x.dtype), x.reshape(B, I, H * W))  # [B, O*K, HW]
    return y.reshape(B, O, K, H, W)
