"""Metric registry shared by `op3d metrics` and training's --metrics; results go to metric-<name>.jsonl.

Fakes are rendered in batches and reduced at once to what a metric keeps (detector features, patch descriptors,
error sums): memory does not grow with the number of images beyond those reductions, and nothing is written
before a metric has finished.

- `fid50k_full`, `kid50k_full` (EG3D's protocol: all real images, 50,000 fakes each rendered with and conditioned
  on the camera of a random dataset image, no truncation), `is50k` (Inception Score of 50,000 such fakes, 10
  splits): the Inception detector file (op3d.metrics.inception).
- `fid50k_full_random_cameras`, `kid50k_full_random_cameras`: the same with cameras drawn from the generator's
  own pose distribution around its average camera (yaw N(0, 0.3), pitch N(0, 0.15) radians, clipped; mmagic's
  second FID column) instead of dataset cameras.
- `pr50k3_full`: improved precision and recall (k = 3) of 50,000 fakes against all reals in NVIDIA's VGG16
  feature space (op3d.metrics.vgg).
- weight-free: `swd` (sliced Wasserstein distance on Laplacian pyramids between random dataset images and fakes)
  and `reproj` (multi-view reprojection error of the raw renderings).
Real-image features are cached by a hash of the dataset and detector files.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch

from op3d.io.atomic import atomic_path
from op3d.metrics.frechet import feature_stats, frechet_distance, kernel_inception_distance
from op3d.metrics.inception import ENV_VAR, SOURCE, load_detector
from op3d.metrics.inception_score import inception_score
from op3d.metrics.precision_recall import precision_recall
from op3d.metrics.reprojection import generator_reprojection_error
from op3d.metrics.swd import SWDAccumulator
from op3d.metrics.vgg import ENV_VAR as VGG_ENV_VAR
from op3d.metrics.vgg import SOURCE as VGG_SOURCE
from op3d.metrics.vgg import load_vgg16
from op3d.progress import with_progress
from op3d.sampling.views import camera_focal, camera_setup, conditioning_label, seed_latent, view_labels

INCEPTION = ("fid50k_full", "kid50k_full", "is50k", "fid50k_full_random_cameras", "kid50k_full_random_cameras")
VGG = ("pr50k3_full",)
WEIGHT_FREE = ("swd", "reproj")
METRICS = INCEPTION + VGG + WEIGHT_FREE
NEEDS_DETECTOR = INCEPTION  # kept for callers that ask which metrics need the Inception file


def default_num(name: str) -> int:
    """The original protocols' number of fakes (50,000), 1,000 for the weight-free metrics."""
    return 1000 if name in WEIGHT_FREE else 50000


def check_metric_names(names: list[str], detector=None, vgg=None) -> None:
    """Unknown names, and metrics without their detector file, fail before any work is done."""
    for name in names:
        if name not in METRICS:
            raise ValueError(f"unknown metric {name!r}; available: {', '.join(METRICS)}")
        if name in INCEPTION and detector is None and not os.environ.get(ENV_VAR):
            raise ValueError(f"metric {name!r} needs the Inception detector: pass --detector PATH or set "
                             f"{ENV_VAR} ({SOURCE})")
        if name in VGG and vgg is None and not os.environ.get(VGG_ENV_VAR):
            raise ValueError(f"metric {name!r} needs the VGG16 detector: pass --vgg PATH or set {VGG_ENV_VAR} "
                             f"({VGG_SOURCE})")


def random_cameras(G, n: int, generator: torch.Generator) -> torch.Tensor:
    """Cameras from the generator's pose distribution: yaw N(0, 0.3) and pitch N(0, 0.15) radians around its
    average camera (clipped to 0.8 and 0.5; `sample_cameras`), its average radius, pivot and focal -> [n, 25]."""
    from op3d.data.cameras import sample_cameras

    radius, pivot = camera_setup(G)
    return sample_cameras(n, generator, radius=radius, focal=camera_focal(G), lookat=pivot)


@torch.no_grad()
def fake_batches(G, dataset, num: int, seed: int, device, batch: int = 8, cameras: str = "dataset",
                 progress: bool = False) -> Iterator[torch.Tensor]:
    """num fakes as uint8 batches [b, 3, R, R], each rendered with (and conditioned on) the camera of a random
    dataset image (cameras="dataset") or a random camera of the generator's own distribution ("random"); a
    pose-conditional network takes the random image's pose either way. Latents from per-fake seeds."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(len(dataset), size=num) if dataset is not None else np.zeros(num, dtype=np.int64)
    labels = random_cameras(G, num, torch.Generator().manual_seed(seed)) if cameras == "random" else None
    starts = with_progress(range(0, num, batch), progress, "fakes", "batch")
    with torch.random.fork_rng(devices=[device] if torch.device(device).type == "cuda" else []):
        torch.manual_seed(seed)  # ray jitter as in training, but the same for every evaluation
        for s in starts:
            c = (labels[s:s + batch] if labels is not None else
                 torch.from_numpy(np.stack([dataset.get_label(int(i)) for i in idx[s:s + batch]])))
            yield to_uint8(_render_fakes(G, dataset, idx[s:s + batch], c, seed * 1_000_003 + s, device))


def _render_fakes(G, dataset, idx, c: torch.Tensor, first_seed: int, device) -> torch.Tensor:
    """Fakes [b, 3, R, R] in [-1, 1] for cameras c [b, 25] (and the poses of dataset images idx, for
    pose-conditional networks)."""
    z = torch.cat([seed_latent(first_seed + j, G.z_dim) for j in range(len(idx))]).to(device)
    extra = {}
    if hasattr(G, "body_model"):
        from op3d.conditioning.posed import body_model_from_spec

        if getattr(dataset, "poses", None) is None:
            raise ValueError(f"{dataset.path}: a pose-conditional network needs a dataset with poses")
        params = torch.from_numpy(np.stack([dataset.get_pose(int(i)) for i in idx]))
        extra["body"] = G.pose_bodies(body_model_from_spec(G.body_model, device), params.to(device))
    return G(z, c.to(device), noise_mode="const", **extra)["image"].clamp(-1, 1).cpu()


def real_batches(dataset, num: int | None, seed: int, batch: int = 64) -> Iterator[torch.Tensor]:
    """uint8 real images in batches: all of the dataset (num None, not x-flipped) or num random ones."""
    order = (range(len(dataset.image_names)) if num is None else
             np.random.default_rng(seed + 1).integers(len(dataset.image_names), size=num))
    order = list(order)
    for s in range(0, len(order), batch):
        yield torch.stack([torch.from_numpy(dataset.load_image(int(i)).transpose(2, 0, 1).copy())
                           for i in order[s:s + batch]])


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] float -> uint8, as StyleGAN's metrics quantize generated images."""
    return (images * 127.5 + 128).clamp(0, 255).to(torch.uint8)


@torch.no_grad()
def detector_features(detector: Callable, images_u8: torch.Tensor, device, batch: int = 32) -> np.ndarray:
    return torch.cat([detector(x.to(device)).double().cpu() for x in images_u8.split(batch)]).numpy()


def _features_of(batches: Iterator[torch.Tensor], detector: Callable, device) -> np.ndarray:
    """Detector outputs of streamed image batches, kept as float32 (the images are dropped batch by batch)."""
    return np.concatenate([detector_features(detector, b, device).astype(np.float32) for b in batches])


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
    feats = _features_of(real_batches(dataset, None, 0), detector, device).astype(np.float64)
    if cache is not None:
        with atomic_path(cache) as tmp:
            with open(tmp, "wb") as f:
                np.save(f, feats)
    return feats


def _detector(given, load: Callable, device) -> tuple[Callable, str]:
    """A loaded detector and its cache key, from a path (or None: the environment variable) or a network."""
    if given is None or isinstance(given, (str, os.PathLike)):
        net = load(given, device)
        path = given or os.environ.get(ENV_VAR if load is load_detector else VGG_ENV_VAR)
        return net, _file_key(Path(path))
    return given, type(given).__name__ + str(sum(float(p.detach().sum()) for p in given.parameters()))


def compute_metric(name: str, G, dataset=None, num: int = 1000, seed: int = 0, device="cpu", detector=None,
                   cache_dir: str | Path | None = None, vgg=None, progress: bool = False, batch: int = 8) -> dict:
    """One metric of G -> {"metric", "results", "num", ...}. detector / vgg: a path to the Inception / VGG16 file,
    or a loaded feature network (tests pass a small one)."""
    check_metric_names([name], detector, vgg)
    if dataset is not None and dataset.resolution != G.img_resolution:
        raise ValueError(f"{dataset.path}: the images are {dataset.resolution}x{dataset.resolution} but the network "
                         f"makes {G.img_resolution}x{G.img_resolution}; metrics compare like with like")
    if dataset is None and name != "reproj":
        raise ValueError(f"metric {name!r} needs --data (the real images and their cameras)")
    if name == "reproj" and hasattr(G, "body_model"):
        raise ValueError("metric 'reproj' is not implemented for pose-conditional networks")
    t0 = time.time()
    cameras = "random" if name.endswith("_random_cameras") else "dataset"
    fakes = lambda: fake_batches(G, dataset, num, seed, device, batch, cameras, progress)  # noqa: E731
    extra: dict = {}
    if name in INCEPTION:
        net, key = _detector(detector, load_detector, device)
        if name == "is50k":
            mean, std = inception_score(_features_of(fakes(), net.probabilities, device))
            results = {"is50k_mean": mean, "is50k_std": std}
        else:
            real = real_features(dataset, net, key, device, cache_dir)
            fake = _features_of(fakes(), net, device)
            results = ({"fid": frechet_distance(*feature_stats(fake), *feature_stats(real))} if name.startswith("fid")
                       else {"kid": kernel_inception_distance(real, fake, seed=seed)})
            extra["num_real"] = len(real)
    elif name in VGG:
        net, key = _detector(vgg, load_vgg16, device)
        real = real_features(dataset, net, key, device, cache_dir)
        precision, recall = precision_recall(real, _features_of(fakes(), net, device), k=3)
        results, extra["num_real"] = {"pr50k3_full_precision": precision, "pr50k3_full_recall": recall}, len(real)
    elif name == "swd":
        levels = max(1, int(math.log2(G.img_resolution)) - 3)
        real, fake = SWDAccumulator(levels, seed=seed), SWDAccumulator(levels, seed=seed + 1)
        for images in real_batches(dataset, num, seed, batch):
            real.add(images.double() / 127.5 - 1)
        for images in fakes():
            fake.add(images.double() / 127.5 - 1)
        per_level = real.distance(fake, seed=seed)
        results = {"swd_mean": float(np.mean(per_level)), "swd_levels": per_level}
    else:
        results = _reprojection(G, num, seed, device, batch, progress)
    return {"metric": name, "results": results, "num": num, **extra, "total_time": time.time() - t0}


@torch.no_grad()
def _reprojection(G, num: int, seed: int, device, batch: int, progress: bool) -> dict:
    """Mean multi-view reprojection error of num latents between views 30 degrees apart, batch by batch."""
    yaw = math.radians(15)
    c_a, c_b = view_labels(G, [(-yaw, 0.0)]).to(device), view_labels(G, [(yaw, 0.0)]).to(device)
    cond = conditioning_label(G).to(device)
    total_err = total_frac = 0.0
    for s in with_progress(range(0, num, batch), progress, "reproj", "batch"):
        n = min(batch, num - s)
        ws = torch.cat([G.mapping(seed_latent(seed * 1_000_003 + s + i, G.z_dim).to(device), cond) for i in range(n)])
        err, frac = generator_reprojection_error(G, ws, c_a.expand(n, -1), c_b.expand(n, -1))
        total_err, total_frac = total_err + err * n, total_frac + frac * n
    return {"reproj_error": total_err / num, "reproj_visible": total_frac / num}


def append_result(directory: str | Path, record: dict) -> Path:
    """Append a finished metric's record to metric-<name>.jsonl (one line, written at once)."""
    path = Path(directory) / f"metric-{record['metric']}.jsonl"
    with open(path, "a") as f:
        f.write(json.dumps(dict(record, timestamp=time.time())) + "\n")
    return path
