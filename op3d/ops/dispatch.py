"""Choose between the reference ops and the faster paths.

Every fast path has a reference twin that computes the same function. `reference_ops()` switches the whole
library to the references (used by the benchmarks and tests to compare the two); `op_paths(op="reference" |
"fast", ...)` picks the path of single ops. Without either, each op takes its default path for the device its
inputs are on (`DEVICE_PATHS`): the fast paths were written for CPUs (memory-bound gathers, bilinear
interpolation with fixed borders, batched matrix products), and some of them lose to the reference on a GPU.
"""
from __future__ import annotations

import contextlib
import threading

import torch

_state = threading.local()

# The ops with a fast path and a reference twin:
#   plane_sampling   sample_orthoplanes / sample_triplane: "gather" (corner rows, channels last) vs grid_sample
#                    (points that need second derivatives always take "gather")
#   upsample2x       upfirdn2d's 2x [1, 3, 3, 1] upsampling: bilinear interpolation with fixed borders vs upfirdn2d
#   planes_head      OrthoPlanes' K-plane 1x1 head: one batched matmul vs K grouped convolutions (OP3D's way)
#   skip_sum         a synthesis block's skip image: upsampling + head in one channels-last matmul-add
#   single_backward  the importance renderer's coarse pass without autograd, one backward through the field
#   bias_act         bias + piecewise-linear activation + gain + clamp in one buffer, only the output saved for
#                    backward vs the composition of torch ops
OPS = ("plane_sampling", "upsample2x", "planes_head", "skip_sum", "single_backward", "bias_act")
PATHS = ("fast", "reference")
# Default path per device type where it is not "fast". Measured on an NVIDIA H200, the generator's training step
# (G forward + backward, full size, 512 px, 64^2 neural rendering, batch 4, fp16 as EG3D trains; K=8 OrthoPlanes /
# EG3D tri-plane): all fast paths 0.168 / 0.111 s, these three on their references 0.097 / 0.075 s. The gather
# sampler materializes 2^n corner rows per (point, axis), gigabytes at that size, where grid_sample interpolates in
# registers; the coarse pass without autograd costs a third more field evaluations, which the CPU repays with one
# backward and a GPU does not; torch's bilinear-interpolation kernels lose to the FIR reference there.
# benchmarks/results/vs_original_cuda_*.json, docs/training.md ("Against the original"). bias_act's fast path
# came later and takes the fast path on CUDA too, untimed there yet: it makes the same number of passes over memory
# as its twin and keeps half as much for backward in clamped layers (gpu_speed.sh times both).
DEVICE_PATHS: dict[str, dict[str, str]] = {
    "cuda": {"plane_sampling": "reference", "single_backward": "reference", "upsample2x": "reference"}}


def _check_op(op: str) -> None:
    if op not in OPS:
        raise ValueError(f"unknown op {op!r}; ops with a fast path: {', '.join(OPS)}")


def _check(choices: dict[str, str]) -> None:
    """One-line errors for an op name outside OPS or a path outside PATHS."""
    for op, path in choices.items():
        _check_op(op)
        if path not in PATHS:
            raise ValueError(f"op {op}: path must be one of {PATHS}, got {path!r}")


def using_reference() -> bool:
    return getattr(_state, "reference", False)


def fast_path(op: str, device: torch.device | str) -> bool:
    """Whether `op` (one of OPS) takes its fast path for inputs on `device`: never inside reference_ops(), else
    the op_paths() choice, else the device default (DEVICE_PATHS)."""
    _check_op(op)
    if using_reference():
        return False
    chosen = getattr(_state, "paths", {}).get(op)
    if chosen is None:
        chosen = DEVICE_PATHS.get(torch.device(device).type, {}).get(op, "fast")
    return chosen == "fast"


@contextlib.contextmanager
def reference_ops(enabled: bool = True):
    previous = using_reference()
    _state.reference = enabled
    try:
        yield
    finally:
        _state.reference = previous


@contextlib.contextmanager
def op_paths(**choices: str):
    """Inside the block, each named op takes the named path ("fast" or "reference") on every device, e.g.
    op_paths(plane_sampling="reference"); the others keep their defaults. reference_ops() still wins."""
    _check(choices)
    previous = getattr(_state, "paths", {})
    _state.paths = {**previous, **choices}
    try:
        yield
    finally:
        _state.paths = previous


def parse_op_paths(text: str) -> dict[str, str]:
    """"plane_sampling=reference,upsample2x=fast" -> {op: path} (validated as op_paths does); "" -> {}."""
    choices = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        op, sep, path = item.partition("=")
        if not sep:
            raise ValueError(f"op paths: expected op=path, got {item!r}")
        choices[op.strip()] = path.strip()
    _check(choices)
    return choices
