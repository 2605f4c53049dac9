"""Atomic training snapshots: networks in op3d's checkpoint format plus a separate training-state file.

A snapshot directory holds G_ema (config.json + model.safetensors, so `op3d.load(dir)` works), `G/`, `D/`
and `training-state.pt` (optimizers, counters, RNG states; loaded with weights_only=True). It is written in
a temporary directory and renamed into place, so an interrupted write never damages an earlier snapshot.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import torch

from op3d.io.atomic import atomic_path
from op3d.io.checkpoint import CheckpointError, load_pretrained, load_tensors, save_pretrained

STATE_NAME = "training-state.pt"
LATEST = "latest-snapshot.txt"


def remove_stale_temporaries(run_dir: Path) -> list[Path]:
    """Delete what an interrupted write_snapshot left behind (hidden .network-snapshot-* directories from a
    killed process); returns them."""
    stale = [p for p in Path(run_dir).glob(".network-snapshot-*") if p.is_dir()]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return stale


def _umask_permissions(path: Path) -> None:
    """mkdtemp makes directories 0700; a finished snapshot gets the permissions of any other output."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, 0o777 & ~umask)


def write_snapshot(run_dir: Path, name: str, G, D, G_ema, state: dict) -> Path:
    final = run_dir / name
    remove_stale_temporaries(run_dir)  # from an earlier process killed mid-write (this one writes one at a time)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.", dir=run_dir))
    _umask_permissions(tmp)
    try:
        save_pretrained(G_ema, tmp, G_ema.init_kwargs)
        save_pretrained(G, tmp / "G", G.init_kwargs)
        save_pretrained(D, tmp / "D", D.init_kwargs)
        torch.save(state, tmp / STATE_NAME)
        if final.exists():  # re-writing the same kimg: move the old one aside first
            old = Path(tempfile.mkdtemp(prefix=f".{name}.old.", dir=run_dir))
            os.replace(final, old / name)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    with atomic_path(run_dir / LATEST) as tmp_pointer:
        Path(tmp_pointer).write_text(name + "\n")
    return final


def snapshot_stamp(cur_nimg: int) -> str:
    """The name part of a snapshot (and its fakes image) after cur_nimg images: whole kimg as 000004, otherwise the
    image count as 000004096img (so snapshots at non-whole kimg never share a name)."""
    return f"{cur_nimg // 1000:06d}" if cur_nimg % 1000 == 0 else f"{cur_nimg:09d}img"


def _snapshot_nimg(path: Path) -> int | None:
    """Images trained by a snapshot, from its name (the inverse of snapshot_stamp); None for other names."""
    m = re.fullmatch(r"network-snapshot-(\d+)(img)?", path.name)
    return None if m is None else int(m.group(1)) * (1 if m.group(2) else 1000)


def latest_snapshot(run_dir: Path) -> Path | None:
    """The snapshot latest-snapshot.txt names; when it is missing or names no complete snapshot (a snapshot deleted
    to roll back, a partial copy), the complete snapshot that trained the most images; None without any."""
    run_dir = Path(run_dir)
    pointer = run_dir / LATEST
    if pointer.is_file():
        name = pointer.read_text().strip()
        if name and (run_dir / name / STATE_NAME).is_file():
            return run_dir / name
    done = [p for p in run_dir.glob("network-snapshot-*") if _snapshot_nimg(p) is not None
            and (p / STATE_NAME).is_file()]
    return max(done, key=_snapshot_nimg, default=None)


def read_snapshot(path: Path) -> tuple[torch.nn.Module, torch.nn.Module, torch.nn.Module, dict | None]:
    """(G, D, G_ema, state) from a snapshot directory; state is None for a weights-only checkpoint."""
    path = Path(path)
    if (path / STATE_NAME).is_file():
        state = load_tensors(path / STATE_NAME, "training state")
        problem = training_state_problem(state)
        if problem is not None:
            raise CheckpointError(f"{path / STATE_NAME}: {problem}")
        return load_pretrained(path / "G"), load_pretrained(path / "D"), load_pretrained(path), state
    raise CheckpointError(f"{path}: not a training snapshot (no {STATE_NAME})")


def training_state_problem(state) -> str | None:
    """What is wrong with a loaded training state (None if nothing): the counters, optimizer states and RNG
    state the training loop resumes from."""
    if not isinstance(state, dict):
        return f"expected a dict of training state, got {type(state).__name__}"
    for key in ("cur_nimg", "batch_idx", "tick"):
        value = state.get(key)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return f"{key} must be a non-negative integer, got {value!r}"
    for key in ("opt_G", "opt_D"):
        value = state.get(key)
        if not (isinstance(value, dict) and isinstance(value.get("state"), dict)
                and isinstance(value.get("param_groups"), list)):
            return f"{key} is not an optimizer state"
    rng = state.get("rng")
    if not (isinstance(rng, dict) and isinstance(rng.get("torch"), torch.Tensor) and rng["torch"].dtype == torch.uint8):
        return "rng is not a saved random-number-generator state"
    return None
