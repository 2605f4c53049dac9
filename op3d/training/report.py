"""Run outputs: status lines, stats.jsonl, optional TensorBoard, image grids."""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from op3d.io.atomic import atomic_path


def to_uint8(images: torch.Tensor, lo: float = -1.0, hi: float = 1.0) -> np.ndarray:
    """[N, C, H, W] in [lo, hi] -> uint8 [N, H, W, C]."""
    x = (images.detach().float().cpu() - lo) * (255 / (hi - lo))
    return x.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def depth_to_uint8(depth: torch.Tensor) -> np.ndarray:
    """[N, 1, H, W] depths -> grey uint8 [N, H, W, 3], near = white, per-image min/max normalized."""
    d = depth.detach().float().cpu()
    lo = d.amin(dim=(1, 2, 3), keepdim=True)
    hi = d.amax(dim=(1, 2, 3), keepdim=True)
    d = 1 - (d - lo) / (hi - lo).clamp_min(1e-8)
    return to_uint8(d.repeat(1, 3, 1, 1), 0.0, 1.0)


def save_grid(images: np.ndarray, path: Path, cols: int) -> None:
    """uint8 [N, H, W, C] -> one PNG with `cols` columns."""
    n, h, w, c = images.shape
    rows = (n + cols - 1) // cols
    grid = np.full((rows * h, cols * w, c), 255, dtype=np.uint8)
    for i, img in enumerate(images):
        r, q = divmod(i, cols)
        grid[r * h:(r + 1) * h, q * w:(q + 1) * w] = img
    with atomic_path(path) as tmp:
        Image.fromarray(grid[..., 0] if c == 1 else grid).save(tmp, format="png")


class RunLog:
    """stats.jsonl (always), TensorBoard (when installed), status lines on stdout."""

    def __init__(self, run_dir: Path, enabled: bool = True, verbose: bool = True):
        self.run_dir = run_dir
        self.enabled = enabled
        self.verbose = verbose
        self.writer = None
        if enabled:
            try:
                from torch.utils.tensorboard import SummaryWriter

                self.writer = SummaryWriter(str(run_dir))
            except Exception:  # tensorboard not installed: stats.jsonl only
                self.writer = None
        self.start = time.time()

    def log(self, stats: dict, kimg: float) -> None:
        if not self.enabled:
            return
        record = dict(stats, kimg=kimg, timestamp=time.time())
        with open(self.run_dir / "stats.jsonl", "a") as f:
            f.write(json.dumps(record) + "\n")
        if self.writer is not None:
            for key, value in stats.items():
                if isinstance(value, (int, float)):
                    self.writer.add_scalar(key, value, global_step=int(kimg * 1000))
            self.writer.flush()

    def status(self, text: str) -> None:
        if self.enabled and self.verbose:
            print(text, flush=True)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
