"""Bias + activation + gain + clamp, the fused epilogue of every StyleGAN2/EG3D layer.

Pure PyTorch; first- and second-order gradients (R1 needs the second). The piecewise-linear activations (linear
with a clamp, relu, lrelu: every layer of the generators and D) have a fast path (op "bias_act" of
`op3d.ops.dispatch`): one output buffer written in place and only the output kept for backward, as StyleGAN2's
bias_act CUDA plugin does (the slope at an element follows from its output's sign and whether it was clamped); the
reference twin is the composition of torch ops below, which keeps two tensors per layer for backward.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from op3d.ops.dispatch import fast_path


@dataclass(frozen=True)
class Activation:
    func: Callable[[torch.Tensor], torch.Tensor]
    def_gain: float


ACTIVATIONS: dict[str, Activation] = {
    "linear": Activation(lambda x: x, 1.0),
    "relu": Activation(F.relu, math.sqrt(2)),
    "lrelu": Activation(lambda x: F.leaky_relu(x, 0.2), math.sqrt(2)),
    "tanh": Activation(torch.tanh, 1.0),
    "sigmoid": Activation(torch.sigmoid, 1.0),
    "elu": Activation(F.elu, 1.0),
    "selu": Activation(F.selu, 1.0),
    "softplus": Activation(F.softplus, 1.0),
    "swish": Activation(lambda x: torch.sigmoid(x) * x, math.sqrt(2)),
}


def bias_act(
    x: torch.Tensor,
    b: torch.Tensor | None = None,
    dim: int = 1,
    act: str = "linear",
    gain: float | None = None,
    clamp: float | None = None,
) -> torch.Tensor:
    """act(x + b) * gain, then clamp to [-clamp, clamp].

    x: any shape; b: [x.shape[dim]] broadcast along `dim`. gain defaults to the activation's
    default gain (sqrt(2) for relu/lrelu/swish, else 1), as in StyleGAN2.
    """
    if act not in ACTIVATIONS:
        raise ValueError(f"unknown activation {act!r}; expected one of {sorted(ACTIVATIONS)}")
    spec = ACTIVATIONS[act]
    clamp = None if clamp is None or clamp < 0 else float(clamp)
    gain = spec.def_gain if gain is None else float(gain)
    if act in LEAKY_SLOPES and (act != "linear" or clamp is not None) and fast_path("bias_act", x.device):
        return _BiasActPiecewiseLinear.apply(x, b, dim % x.ndim, LEAKY_SLOPES[act], gain, clamp)
    if b is not None:
        x = x + _along(b, x.ndim, dim)
    x = spec.func(x)
    if gain != 1:
        x = x * gain
    if clamp is not None:
        x = x.clamp(-clamp, clamp)
    return x


def _along(b: torch.Tensor, ndim: int, dim: int) -> torch.Tensor:
    """A bias [C] viewed to broadcast along `dim` of an ndim-dimensional tensor."""
    shape = [1] * ndim
    shape[dim] = -1
    return b.reshape(shape)


# Activations max(x, slope * x) (slope 1: linear) that the fast path computes.
LEAKY_SLOPES = {"linear": 1.0, "relu": 0.0, "lrelu": 0.2}


class _BiasActPiecewiseLinear(torch.autograd.Function):
    """y = clamp(gain * max(x + b, slope (x + b)), -clamp, clamp) for slope in [0, 1], keeping only y: the
    derivative dy/dx is gain where y > 0, gain * slope where y <= 0, and 0 where |y| = clamp (an element clamped;
    torch's clamp passes the gradient of an input exactly at the bound, a set of measure zero). The backward is made
    of differentiable torch ops, so second derivatives (R1) flow through it; its own derivative in y is zero almost
    everywhere."""

    @staticmethod
    def forward(ctx, x, b, dim, slope, gain, clamp):
        y = x.clone() if b is None else torch.add(x, _along(b, x.ndim, dim))
        if slope == 0:
            y.relu_()
        elif slope != 1:
            F.leaky_relu_(y, slope)
        if gain != 1:
            y.mul_(gain)
        if clamp is not None:
            y.clamp_(-clamp, clamp)
        ctx.save_for_backward(y)
        ctx.dim, ctx.slope, ctx.gain, ctx.clamp, ctx.has_bias = dim, slope, gain, clamp, b is not None
        return y

    @staticmethod
    def backward(ctx, grad):
        (y,) = ctx.saved_tensors
        gx = grad
        if ctx.clamp is not None:  # zero where -clamp < y < clamp fails
            gx = torch.ops.aten.hardtanh_backward(gx, y, -ctx.clamp, ctx.clamp)
        if ctx.slope != 1:  # times slope where y <= 0 (self_is_result: y has the sign of the activation's input)
            gx = torch.ops.aten.leaky_relu_backward(gx, y, ctx.slope, True)
        if ctx.gain != 1:
            gx = gx * ctx.gain
        gb = gx.sum([d for d in range(gx.ndim) if d != ctx.dim]) if ctx.has_bias else None
        return gx, gb, None, None, None, None
