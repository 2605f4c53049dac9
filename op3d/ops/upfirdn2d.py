"""Upsample, FIR-filter and downsample 2-D images (StyleGAN2's upfirdn2d).

`upfirdn2d` zero-inserts, pads and convolves with the filter: the reference that runs everywhere.
The hot case, 2x upsampling of skip images with the [1, 3, 3, 1] filter, has a fast path in `upsample2d`.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from op3d.ops.dispatch import using_reference

Padding = int | Sequence[int]


def setup_filter(
    f: Sequence[float] | torch.Tensor = (1, 3, 3, 1),
    normalize: bool = True,
    flip_filter: bool = False,
    gain: float = 1,
    separable: bool | None = None,
) -> torch.Tensor:
    """Build a FIR filter: 1-D taps become their outer product (2-D) unless `separable`.

    As in StyleGAN2, `separable` defaults to True only for 1-D filters with at least 8 taps.
    Returns float32 [kh, kw] (or [k] when separable).
    """
    f = torch.as_tensor(f, dtype=torch.float32)
    if f.ndim == 0:
        f = f[None]
    if separable is None:
        separable = f.ndim == 1 and f.numel() >= 8
    if f.ndim == 1 and not separable:
        f = torch.outer(f, f)
    if normalize:
        f = f / f.sum()
    if flip_filter:
        f = f.flip(list(range(f.ndim)))
    return f * (gain ** (f.ndim / 2))


def _pair(v: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(v, int):
        return v, v
    if len(v) != 2:
        raise ValueError(f"expected an int or a pair, got {v!r}")
    return int(v[0]), int(v[1])


def _padding4(padding: Padding) -> tuple[int, int, int, int]:
    """[x0, x1, y0, y1] from an int, a pair [px, py] or a quadruple."""
    if isinstance(padding, int):
        return padding, padding, padding, padding
    padding = [int(p) for p in padding]
    if len(padding) == 2:
        return padding[0], padding[0], padding[1], padding[1]
    if len(padding) == 4:
        return tuple(padding)  # type: ignore[return-value]
    raise ValueError(f"padding must be an int, [px, py] or [x0, x1, y0, y1], got {padding!r}")


def upfirdn2d(
    x: torch.Tensor,
    f: torch.Tensor | None,
    up: int | Sequence[int] = 1,
    down: int | Sequence[int] = 1,
    padding: Padding = 0,
    flip_filter: bool = False,
    gain: float = 1,
) -> torch.Tensor:
    """Zero-insert by `up`, pad (negative = crop), convolve with f, keep every `down`-th pixel.

    x: [B, C, H, W]; f: [kh, kw] or separable [k] (None = identity). Output H' = (H * up + py0 + py1 - kh + 1)
    / down, rounded up.
    """
    if x.ndim != 4:
        raise ValueError(f"x must be [B, C, H, W], got {tuple(x.shape)}")
    if f is None:
        f = torch.ones([1, 1], dtype=torch.float32, device=x.device)
    upx, upy = _pair(up)
    downx, downy = _pair(down)
    px0, px1, py0, py1 = _padding4(padding)
    B, C, H, W = x.shape
    x = x.reshape(B, C, H, 1, W, 1)
    x = F.pad(x, [0, upx - 1, 0, 0, 0, upy - 1])
    x = x.reshape(B, C, H * upy, W * upx)
    x = F.pad(x, [max(px0, 0), max(px1, 0), max(py0, 0), max(py1, 0)])
    x = x[:, :, max(-py0, 0): x.shape[2] - max(-py1, 0), max(-px0, 0): x.shape[3] - max(-px1, 0)]
    f = (f * (gain ** (f.ndim / 2))).to(x.dtype)
    if not flip_filter:
        f = f.flip(list(range(f.ndim)))
    if f.ndim == 2:
        x = F.conv2d(x, f[None, None].repeat(C, 1, 1, 1), groups=C)
    else:
        x = F.conv2d(x, f[None, None, None, :].repeat(C, 1, 1, 1), groups=C)
        x = F.conv2d(x, f[None, None, :, None].repeat(C, 1, 1, 1), groups=C)
    return x[:, :, ::downy, ::downx]


_BILINEAR = setup_filter([1, 3, 3, 1])


def is_bilinear_filter(f: torch.Tensor | None) -> bool:
    """True when f is setup_filter([1, 3, 3, 1]); checked once per tensor and version (one host copy)."""
    if f is None or f.shape != (4, 4):
        return False
    cached = getattr(f, "_op3d_is_bilinear", None)  # (tensor version, answer), kept on the tensor itself
    if cached is None or cached[0] != f._version:
        cached = (f._version, bool(torch.allclose(f.detach().float().cpu(), _BILINEAR, rtol=0, atol=1e-7)))
        f._op3d_is_bilinear = cached
    return cached[1]


def _upsample2x_bilinear(x: torch.Tensor) -> torch.Tensor:
    """Zero-padded [1, 3, 3, 1] 2x upsampling = bilinear interpolation (align_corners=False) of the input with
    a one-pixel zero border, cropped: output 2i gets 0.25 x[i-1] + 0.75 x[i], output 2i+1 0.75 x[i] + 0.25 x[i+1]."""
    y = F.interpolate(F.pad(x, [1, 1, 1, 1]), scale_factor=2, mode="bilinear", align_corners=False)
    return y[..., 2:-2, 2:-2]


def upsample2d(
    x: torch.Tensor, f: torch.Tensor | None, up: int = 2, padding: Padding = 0, flip_filter: bool = False,
    gain: float = 1,
) -> torch.Tensor:
    """Upsample by `up` with filter f, output [B, C, H * up, W * up] for zero padding.

    The common case (2x, the [1, 3, 3, 1] filter, no extra padding or gain) runs as bilinear interpolation,
    several times faster than zero insertion + FIR; reference_ops() forces the reference.
    """
    if up == 2 and padding == 0 and gain == 1 and not using_reference() and is_bilinear_filter(f):
        return _upsample2x_bilinear(x)
    upx, upy = _pair(up)
    px0, px1, py0, py1 = _padding4(padding)
    fw = fh = 1 if f is None else f.shape[-1]
    if f is not None and f.ndim == 2:
        fh = f.shape[0]
    p = [px0 + (fw + upx - 1) // 2, px1 + (fw - upx) // 2, py0 + (fh + upy - 1) // 2, py1 + (fh - upy) // 2]
    return upfirdn2d(x, f, up=up, padding=p, flip_filter=flip_filter, gain=gain * upx * upy)


def downsample2d(
    x: torch.Tensor, f: torch.Tensor | None, down: int = 2, padding: Padding = 0, flip_filter: bool = False,
    gain: float = 1,
) -> torch.Tensor:
    """Filter then downsample by `down`, output [B, C, H // down, W // down] for zero padding."""
    downx, downy = _pair(down)
    px0, px1, py0, py1 = _padding4(padding)
    fw = fh = 1 if f is None else f.shape[-1]
    if f is not None and f.ndim == 2:
        fh = f.shape[0]
    p = [px0 + (fw - downx + 1) // 2, px1 + (fw - downx) // 2, py0 + (fh - downy + 1) // 2, py1 + (fh - downy) // 2]
    return upfirdn2d(x, f, down=down, padding=p, flip_filter=flip_filter, gain=gain)
