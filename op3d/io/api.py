"""`op3d.load`: one call for op3d checkpoint directories, training run directories and original snapshot pickles."""
from __future__ import annotations

import os
from pathlib import Path

import torch

from op3d.io.checkpoint import CONFIG_NAME, WEIGHTS_NAME, CheckpointError, load_pretrained

WHICH = ("G_ema", "G", "D")


def resolve_checkpoint(path: str | os.PathLike) -> Path:
    """A training run directory -> its latest snapshot directory; anything else unchanged. Raises
    CheckpointError for a file of a checkpoint directory (its config.json, weights or training state)."""
    from op3d.training.snapshots import STATE_NAME, latest_snapshot

    p = Path(path)
    if p.is_file() and p.name in (CONFIG_NAME, WEIGHTS_NAME, STATE_NAME) and (p.parent / CONFIG_NAME).is_file():
        raise CheckpointError(f"{p}: a file of the checkpoint directory {p.parent}; pass the directory")
    if p.is_dir() and not (p / CONFIG_NAME).is_file():
        latest = latest_snapshot(p)
        if latest is not None:
            return latest
        if (p / "training_options.json").is_file():  # a run directory that has not written a snapshot yet
            raise CheckpointError(f"{p}: a training run without a complete snapshot yet (snapshots are written "
                                  "every --snap ticks and at the end)")
    return p


def load(path: str | os.PathLike, which: str = "G_ema", device: str | torch.device = "cpu",
         missing_ok: bool = False) -> torch.nn.Module | None:
    """Load a model ready for inference (eval mode, no grad).

    path: an op3d checkpoint directory (config.json + model.safetensors), a training run directory (its latest
    snapshot), or an original OP3D/EG3D `network-snapshot-*.pkl` (read safely: nothing in it is imported or
    executed). `which` picks G_ema (default), G or D: in an op3d snapshot directory G_ema is the directory itself
    (so `op3d.load(dir)` works), G and D its `G/` and `D/` subdirectories; in a pickle, the entries of those
    names. missing_ok: None instead of an error when the checkpoint holds no such network.
    """
    if which not in WHICH:
        raise ValueError(f"which must be one of {WHICH}, got {which!r}")
    p = resolve_checkpoint(path)
    if p.is_dir():
        target = p if which == "G_ema" else p / which
        if missing_ok and not (target / CONFIG_NAME).is_file():
            return None
        model = load_pretrained(target)
    elif p.is_file():
        from op3d.io.legacy import load_legacy

        model = load_legacy(p, which, missing_ok)
        if model is None:
            return None
    else:
        raise CheckpointError(f"{path}: no such checkpoint directory or snapshot file")
    return model.to(device)
