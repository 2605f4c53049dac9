"""Upsample, FIR-filter and downsample 2-D images (StyleGAN2's upfirdn2d).

`upfirdn2d` zero-inserts, pads and convolves with the filter: the reference that runs everywhere.
The hot case, 2x upsampling of skip images with the [1, 3, 3, 1] filter, has a fast path in `upsample2d`.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from op3d.ops.dispatch import fast_path

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


def channels_last(x: torch.Tensor) -> torch.Tensor:
    """x [N, C, H, W] in channels-last memory with canonical strides (a view when it is channels-last already).
    Views from reshapes can give size-1 dims odd strides, which make elementwise ops and interpolation pick
    the channel-first layout for their outputs."""
    if not x.is_contiguous(memory_format=torch.channels_last):
        return x.contiguous(memory_format=torch.channels_last)
    N, C, H, W = x.shape
    return x.as_strided(x.shape, (H * W * C, 1, W * C, C), x.storage_offset())


def _scale_border_(z: torch.Tensor, value: torch.Tensor | None) -> None:
    """In place on z [N, C, H, W]: border rows, then border columns, z <- 0.75 z + 0.25 value (value [C] or 0).
    Turns clamped-edge bilinear 2x upsampling (of x + value) into zero-padded [1, 3, 3, 1] upsampling (+ value)."""
    v = 0 if value is None else 0.25 * value.reshape(-1, 1)
    for lines in (z[:, :, 0], z[:, :, -1], z[:, :, :, 0], z[:, :, :, -1]):  # [N, C, W] / [N, C, H] views
        lines.mul_(0.75).add_(v)


def _upsample_linear_adjoint(g: torch.Tensor) -> torch.Tensor:
    """Adjoint of 1-D 2x linear upsampling (align_corners=False, clamped edges) along the last axis of g [N, C, 2n].
    torch's kernel: on a CPU 1.1-3x faster than the same sums written as slices and adds."""
    n = g.shape[-1] // 2
    return torch.ops.aten.upsample_linear1d_backward(g, [2 * n], [g.shape[0], g.shape[1], n], False, 2.0)


class _Upsample2x(torch.autograd.Function):
    """upfirdn2d 2x upsampling with the [1, 3, 3, 1] filter and zero padding, plus an optional bias [C]:
    bilinear interpolation (align_corners=False) differs from it only on the border rows and columns, which are
    fixed in place (no padded or cropped copies). x [N, C, h, w] -> [N, C, 2h, 2w].

    Backward: the adjoint of the interpolation (torch's kernel) plus corrections from the border lines of the
    incoming gradient; written in differentiable ops, so double backward works too.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        ctx.has_bias = bias is not None
        src = x if bias is None else x + bias.to(x.dtype).reshape(1, -1, 1, 1)  # interpolation keeps constants
        z = F.interpolate(src, scale_factor=2, mode="bilinear", align_corners=False)
        _scale_border_(z, None if bias is None else bias.to(z.dtype))
        return z

    @staticmethod
    def backward(ctx, g: torch.Tensor):
        N, C, H, W = g.shape
        grad = torch.ops.aten.upsample_bilinear2d_backward(g, [H, W], [N, C, H // 2, W // 2], False, 2.0, 2.0)
        # z = D_r D_c interp(x) with D = 1 - 0.25 on border lines: interp^T((D_r D_c - 1) g) from those lines only
        grad[:, :, 0] -= 0.25 * _upsample_linear_adjoint(g[:, :, 0])
        grad[:, :, -1] -= 0.25 * _upsample_linear_adjoint(g[:, :, -1])
        grad[:, :, :, 0] -= 0.25 * _upsample_linear_adjoint(g[:, :, :, 0])
        grad[:, :, :, -1] -= 0.25 * _upsample_linear_adjoint(g[:, :, :, -1])
        for i, j in ((0, 0), (0, -1), (-1, 0), (-1, -1)):
            grad[:, :, i, j] += 0.0625 * g[:, :, i, j]
        grad_bias = g.sum((0, 2, 3)) if ctx.has_bias else None  # z = upsample(x) + bias exactly
        return grad, grad_bias


def upsample2d(
    x: torch.Tensor, f: torch.Tensor | None, up: int = 2, padding: Padding = 0, flip_filter: bool = False,
    gain: float = 1, bias: torch.Tensor | None = None,
) -> torch.Tensor:
    """Upsample by `up` with filter f, output [B, C, H * up, W * up] for zero padding, plus bias [C] if given.

    The common case (2x, the [1, 3, 3, 1] filter, no extra padding or gain) runs as bilinear interpolation with
    fixed borders, several times faster than zero insertion + FIR on a CPU (the op "upsample2x" of
    op3d.ops.dispatch: reference_ops() or op_paths(upsample2x="reference") force the reference).
    """
    if up == 2 and padding == 0 and gain == 1 and fast_path("upsample2x", x.device) and is_bilinear_filter(f):
        return _Upsample2x.apply(x, bias)
    upx, upy = _pair(up)
    px0, px1, py0, py1 = _padding4(padding)
    fw = fh = 1 if f is None else f.shape[-1]
    if f is not None and f.ndim == 2:
        fh = f.shape[0]
    p = [px0 + (fw + upx - 1) // 2, px1 + (fw - upx) // 2, py0 + (fh + upy - 1) // 2, py1 + (fh - upy) // 2]
    y = upfirdn2d(x, f, up=up, padding=p, flip_filter=flip_filter, gain=gain * upx * upy)
    return y if bias is None else y + bias.to(y.dtype).reshape(1, -1, 1, 1)


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
