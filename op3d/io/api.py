"""`op3d.load`: one call for op3d checkpoint directories and original snapshot pickles."""
from __future__ import annotations

import os
from pathlib import Path

import torch

from op3d.io.checkpoint import CheckpointError, load_pretrained


def load(path: str | os.PathLike, which: str = "G_ema", device: str | torch.device = "cpu") -> torch.nn.Module:
    """Load a model ready for inference (eval mode, no grad).

    path: an op3d checkpoint directory (config.json + model.safetensors) or an original OP3D/EG3D
    `network-snapshot-*.pkl` (read safely: nothing in it is imported or executed). `which` picks
    G_ema (default), G or D from a snapshot.
    """
    p = Path(path)
    if p.is_dir():
        model = load_pretrained(p)
    elif p.is_file():
        from op3d.io.legacy import load_legacy

        model = load_legacy(p, which)
    else:
        raise CheckpointError(f"{path}: no such checkpoint directory or snapshot file")
    return model.to(device)
