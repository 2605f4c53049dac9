"""Shared by the fixture builders: running the ORIGINAL OrthoPlanes / EG3D classes deterministically on small
random weights. The original code is never vendored: pass the op3d folder of a checkout of OrthoPlanes/op3d."""
from __future__ import annotations

import sys
from pathlib import Path

import torch


def add_original_to_path(original: str) -> None:
    """The original imports its packages (training, torch_utils, dnnlib) top-level."""
    path = Path(original).resolve()
    if not (path / "training").is_dir():
        sys.exit(f"{path}: not the source folder of an OrthoPlanes/op3d or NVlabs/eg3d checkout (no training/)")
    sys.path.insert(0, str(path))


def perturbed_float16_state(module: torch.nn.Module, seed: int, buffers: tuple[str, ...] = ()) -> dict:
    """Every parameter (and the named buffers) + 0.1 N(0, 1), rounded to float16-representable values so the
    fixture stores them losslessly as float16; other buffers (resampling filters) unchanged."""
    gen = torch.Generator().manual_seed(seed)
    perturb = set(dict(module.named_parameters())) | set(buffers)
    return {k: (v + 0.1 * torch.randn(v.shape, generator=gen)).half().float() if k in perturb else v
            for k, v in module.state_dict().items()}


def deterministic_sampling(renderer) -> None:
    """Stratified jitter fixed at 0.5 (the original's sample_stratified draws torch.rand_like) and importance
    sampling with det=True (u = linspace(0, 1, N)): op3d's deterministic=True."""
    stratified, sample_pdf = renderer.sample_stratified, renderer.sample_pdf

    def half_jitter(*a, **kw):
        rand_like = torch.rand_like
        torch.rand_like = lambda t, **k: torch.full_like(t, 0.5, **k)
        try:
            return stratified(*a, **kw)
        finally:
            torch.rand_like = rand_like

    renderer.sample_stratified = half_jitter
    renderer.sample_pdf = lambda *a, **kw: sample_pdf(*a, **dict(kw, det=True))
