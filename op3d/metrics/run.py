"""Metric registry shared by `op3d metrics` and training's --metrics; results go to metric-<name>.jsonl.

Weight-free: `swd` (sliced Wasserstein distance on Laplacian pyramids between dataset images and fakes rendered
with dataset cameras) and `reproj` (multi-view reprojection error of the raw renderings). `fid50k_full` and
`kid50k_full` (EG3D's protocol: all real images, 50,000 fakes each rendered with and conditioned on the camera of
a random dataset image, no truncation) need the Inception detector file (op3d.metrics.inception); the number of
fakes can be lowered with `num`. Real-image statistics are cached by a hash of the dataset and detector files.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import time
from pathlib import Path

import numpy as np
import torch

from op3d.io.atomic import atomic_path
from op3d.metrics.frechet import feature_stats, frechet_distance, kernel_inception_distance
from op3d.metrics.inception import ENV_VAR, SOURCE, load_detector
from op3d.metrics.reprojection import generator_reprojection_error
from op3d.metrics.swd import swd
from op3d.sampling.views import conditioning_label, seed_latent, view_labels

WEIGHT_FREE = ("swd", "reproj")
NEEDS_DETECTOR = ("fid50k_full", "kid50k_full")


def check_metric_names(names: list[str], detector=None) -> None:
    """Unknown names, and detector metrics without a detector file, fail before any work is done."""
    for name in names:
        if name not in WEIGHT_FREE + NEEDS_DETECTOR:
            raise ValueError(f"unknown metric {name!r}; available: {', '.join(WEIGHT_FREE + NEEDS_DETECTOR)}")
        if name in NEEDS_DETECTOR and detector is None and not os.environ.get(ENV_VAR):
            raise ValueError(f"metric {name!r} needs the Inception detector: pass --detector PATH or set "
                             f"{ENV_VAR} ({SOURCE})")


@torch.no_grad()
def fakes_like_dataset(G, dataset, num: int, seed: int, device, batch: int = 8, with_reals: bool = True
                       ) -> tuple[torch.Tensor | None, torch.Tensor]:
    """num real images and num fakes rendered with (and conditioned on) random dataset cameras, in [-1, 1]."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(len(dataset), size=num)
    reals = None
    if with_reals:
        reals = torch.stack([dataset[int(i)][0] for i in rng.integers(len(dataset), size=num)]).float() / 127.5 - 1
    fakes = []
    with torch.random.fork_rng(devices=[device] if torch.device(device).type == "cuda" else []):
        torch.manual_seed(seed)  # ray jitter as in training, but the same for every evaluation
        for s in range(0, num, batch):
            fakes.append(_render_fakes(G, dataset, idx[s:s + batch], seed * 1_000_003 + s, device))
    return reals, torch.cat(fakes)


def _render_fakes(G, dataset, idx, first_seed: int, device) -> torch.Tensor:
    """Fakes with the cameras (and, for pose-conditional networks, the body poses) of dataset images idx."""
    c = torch.from_numpy(np.stack([dataset.get_label(int(i)) for i in idx])).to(device)
    z = torch.cat([seed_latent(first_seed + j, G.z_dim) for j in range(len(idx))]).to(device)
    extra = {}
    if hasattr(G, "body_model"):
        from op3d.conditioning.posed import body_model_from_spec, pose_bodies

        if getattr(dataset, "poses", None) is None:
            raise ValueError(f"{dataset.path}: a pose-conditional network needs a dataset with poses")
        params = torch.from_numpy(np.stack([dataset.get_pose(int(i)) for i in idx]))
        extra["body"] = pose_bodies(body_model_from_spec(G.body_model, device), params.to(device))
    return G(z, c, noise_mode="const", **extra)["image"].clamp(-1, 1).cpu()


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] float -> uint8, as StyleGAN's metrics quantize generated images."""
    return (images * 127.5 + 128).clamp(0, 255).to(torch.uint8)


@torch.no_grad()
def detector_features(detector, images_u8: torch.Tensor, device, batch: int = 32) -> np.ndarray:
    return torch.cat([detector(x.to(device)).double().cpu() for x in images_u8.split(batch)]).numpy()


def _file_key(path: Path) -> str:
    """Identity of a file, or of a folder's contents (every file's name, size and modification time): replacing
    an image in a folder dataset changes the key, as rewriting a zip does."""
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        listing = "".join(f"{p.relative_to(path)}:{p.stat().st_size}:{p.stat().st_mtime_ns}|" for p in files)
        return f"{path.resolve()}:{hashlib.sha1(listing.encode()).hexdigest()}"
    st = path.stat()
    return f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}"


def real_features(dataset, detector, detector_key: str, device, cache_dir: Path | None) -> np.ndarray:
    """Detector features of every dataset image (not x-flipped), cached by (dataset file, detector file)."""
    key = hashlib.sha1(f"{_file_key(dataset.path)}|{detector_key}|{len(dataset.image_names)}".encode()).hexdigest()
    cache = Path(cache_dir) / f"real-features-{key}.npy" if cache_dir else None
    if cache is not None and cache.is_file():
        return np.load(cache)
    feats = []
    for s in range(0, len(dataset.image_names), 64):
        images = torch.stack([torch.from_numpy(dataset.load_image(i).transpose(2, 0, 1).copy())
                              for i in range(s, min(s + 64, len(dataset.image_names)))])
        feats.append(detector_features(detector, images, device))
    feats = np.concatenate(feats)
    if cache is not None:
        with atomic_path(cache) as tmp:
            with open(tmp, "wb") as f:
                np.save(f, feats)
    return feats


def compute_metric(name: str, G, dataset=None, num: int = 1000, seed: int = 0, device="cpu", detector=None,
                   cache_dir: str | Path | None = None) -> dict:
    """detector: a path to the Inception file, or a loaded feature network (tests pass a small one)."""
    check_metric_names([name], detector)
    if dataset is not None and dataset.resolution != G.img_resolution:
        raise ValueError(f"{dataset.path}: the images are {dataset.resolution}x{dataset.resolution} but the network "
                         f"makes {G.img_resolution}x{G.img_resolution}; metrics compare like with like")
    t0 = time.time()
    if name in NEEDS_DETECTOR:
        if dataset is None:
            raise ValueError(f"metric {name!r} needs --data (the real images)")
        if detector is None or isinstance(detector, (str, os.PathLike)):
            path = Path(detector or os.environ[ENV_VAR])
            detector, detector_key = load_detector(path, device), _file_key(path)
        else:
            detector_key = type(detector).__name__ + str(sum(float(p.sum()) for p in detector.parameters()))
        real = real_features(dataset, detector, detector_key, device, cache_dir)
        _, fakes = fakes_like_dataset(G, dataset, num, seed, device, with_reals=False)
        fake = detector_features(detector, to_uint8(fakes), device)
        if name == "fid50k_full":
            results = {"fid": frechet_distance(*feature_stats(fake), *feature_stats(real))}
        else:
            results = {"kid": kernel_inception_distance(real, fake, seed=seed)}
        return {"metric": name, "results": results, "num": num, "num_real": len(real),
                "total_time": time.time() - t0}
    if name == "swd":
        if dataset is None:
            raise ValueError("metric 'swd' needs --data (the real images)")
        reals, fakes = fakes_like_dataset(G, dataset, num, seed, device)
        levels = max(1, int(math.log2(reals.shape[-1])) - 3)
        per_level = swd(reals, fakes, levels=levels, seed=seed)
        results = {"swd_mean": float(np.mean(per_level)), "swd_levels": per_level}
    else:
        if hasattr(G, "body_model"):
            raise ValueError("metric 'reproj' is not implemented for pose-conditional networks")
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
