"""Orbit videos with latent interpolation across seeds in a W x H grid (EG3D's gen_videos)."""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from op3d.data.cameras import intrinsics, lookat_pose, make_label
from op3d.io.atomic import atomic_path
from op3d.progress import with_progress
from op3d.sampling.views import camera_focal, camera_setup
from op3d.training.report import depth_to_uint8, to_uint8


def catmull_rom(keys: torch.Tensor, t: float) -> torch.Tensor:
    """Closed (wrap-around) Catmull-Rom interpolation of keys [N, ...] at t in [0, N)."""
    n = keys.shape[0]
    i = int(math.floor(t)) % n
    f = t - math.floor(t)
    p0, p1, p2, p3 = keys[(i - 1) % n], keys[i], keys[(i + 1) % n], keys[(i + 2) % n]
    return 0.5 * ((2 * p1) + (-p0 + p2) * f + (2 * p0 - 5 * p1 + 4 * p2 - p3) * f ** 2
                  + (-p0 + 3 * p1 - 3 * p2 + p3) * f ** 3)


def orbit_label(G, phase: float, yaw_range: float = 0.35, pitch_range: float = 0.25,
                fov_deg: float | None = None) -> torch.Tensor:
    """Camera on EG3D's video orbit at phase in [0, 1): [1, 25]."""
    radius, pivot = camera_setup(G)
    yaw = math.pi / 2 + yaw_range * math.sin(2 * math.pi * phase)
    pitch = math.pi / 2 - 0.05 + pitch_range * math.cos(2 * math.pi * phase)
    return make_label(lookat_pose(torch.tensor([yaw]), torch.tensor([pitch]), radius, pivot),
                      intrinsics(camera_focal(G, fov_deg)))


def tile_cells(img: np.ndarray, H: int, W: int) -> np.ndarray:
    """Cells [H * W, R, R, C] (row by row) -> one frame [H * R, W * R, C], cell (h, w) at rows h R.., columns w R.."""
    R = img.shape[1]
    return img.reshape(H, W, R, R, -1).transpose(0, 2, 1, 3, 4).reshape(H * R, W * R, -1)


@torch.no_grad()
def render_video(G, ws_grid: torch.Tensor, path: str | os.PathLike, frames_per_key: int = 60, mode: str = "image",
                 fps: int = 30, fov_deg: float | None = None, progress: bool = False, body=None) -> Path:
    """ws_grid [keys, H, W, num_ws, w_dim]: every grid cell interpolates through its keys while the camera
    orbits; mode image | raw | depth; body: the PosedBody (batch 1) every cell of a pose-conditional network
    renders. Writes an H.264 mp4 atomically."""
    try:
        import imageio.v2 as imageio
    except ImportError:
        raise ImportError("videos need imageio and imageio-ffmpeg: pip install 'op3d[video]'") from None
    if mode not in ("image", "raw", "depth"):
        raise ValueError(f"--mode must be image, raw or depth, got {mode!r}")
    keys, H, W = ws_grid.shape[:3]
    total = keys * frames_per_key
    cells = None if body is None else body.select(torch.zeros(H * W, dtype=torch.long, device=ws_grid.device))
    path = Path(path)
    frames = range(total)
    frames = with_progress(frames, progress, "video", "frame")
    with atomic_path(path.with_suffix(".mp4")) as tmp:
        writer = imageio.get_writer(tmp, fps=fps, codec="libx264", quality=8, macro_block_size=1)
        try:
            for f in frames:
                c = orbit_label(G, f / total, fov_deg=fov_deg).to(ws_grid.device)
                ws = catmull_rom(ws_grid, f / frames_per_key).reshape(H * W, *ws_grid.shape[3:])
                kwargs = {} if cells is None else {"body": cells}
                out = G.synthesis(ws, c.expand(H * W, -1), noise_mode="const", deterministic=True, **kwargs)
                key = {"image": "image", "raw": "image_raw", "depth": "image_depth"}[mode]
                frame = F.interpolate(out[key], size=out["image"].shape[-2:], mode="nearest")  # raw/depth upscaled
                img = depth_to_uint8(frame) if mode == "depth" else to_uint8(frame)
                writer.append_data(np.ascontiguousarray(tile_cells(img, H, W)))
        finally:
            writer.close()
    return path.with_suffix(".mp4")
