"""Metric registry shared by `op3d metrics` and training's --metrics; results go to metric-<name>.jsonl.

Available: `swd` (sliced Wasserstein distance on Laplacian pyramids between dataset images and fakes rendered
with dataset cameras) and `reproj` (multi-view reprojection error of the raw renderings). Both need no
downloaded weights. FID/KID need the Inception detector, which op3d does not provide yet.
"""
from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from op3d.metrics.reprojection import generator_reprojection_error
from op3d.metrics.swd import swd
from op3d.sampling.views import conditioning_label, seed_latent, view_labels

WEIGHT_FREE = ("swd", "reproj")
NEEDS_DETECTOR = ("fid50k_full", "fid", "kid50k_full", "kid")


def check_metric_names(names: list[str]) -> None:
    for name in names:
        if name in NEEDS_DETECTOR:
            raise ValueError(f"metric {name!r} needs the Inception detector (inception-2015-12-05), which op3d does "
                             f"not implement yet; available: {', '.join(WEIGHT_FREE)}")
        if name not in WEIGHT_FREE:
            raise ValueError(f"unknown metric {name!r}; available: {', '.join(WEIGHT_FREE)}")


@torch.no_grad()
def fakes_like_dataset(G, dataset, num: int, seed: int, device, batch: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    """num real images and num fakes rendered with (and conditioned on) random dataset cameras, in [-1, 1]."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(len(dataset), size=num)
    reals = torch.stack([dataset[int(i)][0] for i in rng.integers(len(dataset), size=num)]).float() / 127.5 - 1
    fakes = []
    for s in range(0, num, batch):
        chunk = idx[s:s + batch]
        c = torch.from_numpy(np.stack([dataset.get_label(int(i)) for i in chunk])).to(device)
        z = torch.cat([seed_latent(seed * 1_000_003 + s + j, G.z_dim) for j in range(len(chunk))]).to(device)
        fakes.append(G(z, c, noise_mode="const")["image"].clamp(-1, 1).cpu())
    return reals, torch.cat(fakes)


def compute_metric(name: str, G, dataset=None, num: int = 1000, seed: int = 0, device="cpu") -> dict:
    check_metric_names([name])
    t0 = time.time()
    if name == "swd":
        if dataset is None:
            raise ValueError("metric 'swd' needs --data (the real images)")
        reals, fakes = fakes_like_dataset(G, dataset, num, seed, device)
        levels = max(1, int(math.log2(reals.shape[-1])) - 3)
        per_level = swd(reals, fakes, levels=levels, seed=seed)
        results = {"swd_mean": float(np.mean(per_level)), "swd_levels": per_level}
    else:
        yaw = math.radians(15)
        ws = torch.cat([G.mapping(seed_latent(seed * 1_000_003 + i, G.z_dim).to(device),
                                  conditioning_label(G).to(device)) for i in range(num)])
        c_a = view_labels(G, [(-yaw, 0.0)]).to(device).expand(num, -1)
        c_b = view_labels(G, [(yaw, 0.0)]).to(device).expand(num, -1)
        err, frac = generator_reprojection_error(G, ws, c_a, c_b)
        results = {"reproj_error": err, "reproj_visible": frac}
    return {"metric": name, "results": results, "num": num, "total_time": time.time() - t0}


def append_result(directory: str | Path, record: dict) -> Path:
    path = Path(directory) / f"metric-{record['metric']}.jsonl"
    with open(path, "a") as f:
        f.write(json.dumps(dict(record, timestamp=time.time())) + "\n")
    return path
