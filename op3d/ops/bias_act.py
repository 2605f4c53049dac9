"""Bias + activation + gain + clamp, the fused epilogue of every StyleGAN2/EG3D layer.

Pure PyTorch; autograd gives first- and second-order gradients (R1 needs the second).
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F


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
    if b is not None:
        shape = [1] * x.ndim
        shape[dim] = -1
        x = x + b.reshape(shape)
    x = spec.func(x)
    gain = spec.def_gain if gain is None else float(gain)
    if gain != 1:
        x = x * gain
    if clamp is not None and clamp >= 0:
        x = x.clamp(-clamp, clamp)
    return x
