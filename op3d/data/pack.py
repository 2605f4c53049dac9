"""`op3d dataset pack`: a folder of images + a camera file -> a validated EG3D-format dataset zip.

Camera files:
- JSON in dataset.json form: {"labels": [["name.png", [25 floats]], ...]};
- CSV with a header: name,yaw,pitch[,radius][,fov|focal]. yaw/pitch are degrees from frontal, i.e. EG3D's
  LookAt with h = 90 + yaw, v = 90 + pitch (yaw > 0 moves the camera towards +x, pitch > 0 below the subject,
  towards -y); radius defaults to 2.7 and focal to 4.2647 (a fov in degrees is converted).
Images are center-cropped to a square (crop='center') or must already be square (crop='none'), then resized.
"""
from __future__ import annotations

import csv
import io
import json
import math
import os
import zipfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from op3d.data.cameras import FFHQ_FOCAL, fov_to_focal, intrinsics, lookat_pose, make_label
from op3d.data.dataset import IMAGE_EXTENSIONS, DatasetError, ImageDataset, rgb_image
from op3d.io.atomic import atomic_path


def read_cameras(camera_file: Path, lookat=(0.0, 0.0, 0.0)) -> dict[str, list[float]]:
    """name -> 25-d label from a dataset.json-style JSON or a yaw/pitch CSV."""
    if not camera_file.is_file():
        raise DatasetError(f"{camera_file}: camera file not found")
    if camera_file.suffix.lower() == ".json":
        try:
            meta = json.loads(camera_file.read_text())
            return {str(n): list(map(float, v)) for n, v in meta["labels"]}
        except (json.JSONDecodeError, KeyError, TypeError, ValueError, RecursionError) as e:
            raise DatasetError(f"{camera_file}: expected {{\"labels\": [[name, [25 floats]], ...]}} ({e})") from None
    out = {}
    with open(camera_file, newline="") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {"name", "yaw", "pitch"} <= set(reader.fieldnames):
            raise DatasetError(f"{camera_file}: CSV needs a header with name,yaw,pitch[,radius][,fov|focal]")
        for line, row in enumerate(reader, start=2):
            try:
                yaw, pitch = math.radians(float(row["yaw"])), math.radians(float(row["pitch"]))
                radius = float(row.get("radius") or 2.7)
                focal = fov_to_focal(float(row["fov"])) if row.get("fov") else float(row.get("focal") or FFHQ_FOCAL)
            except ValueError as e:
                raise DatasetError(f"{camera_file}:{line}: bad number ({e})") from None
            if not all(map(math.isfinite, (yaw, pitch, radius, focal))) or radius <= 0 or focal <= 0:
                raise DatasetError(f"{camera_file}:{line}: yaw/pitch must be finite, radius and focal positive")
            pose = lookat_pose(math.pi / 2 + yaw, math.pi / 2 + pitch, radius, lookat)
            out[row["name"]] = make_label(pose[None], intrinsics(focal))[0].tolist()
    return out


def _square(im: Image.Image, crop: str, name: str) -> Image.Image:
    w, h = im.size
    if w == h:
        return im
    if crop != "center":
        raise DatasetError(f"{name}: image is {w}x{h}; use --crop center or square images")
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    return im.crop((left, top, left + s, top + s))


def list_images(source_dir: Path) -> list[str]:
    """Relative POSIX names of the images under source_dir, sorted (a one-line error if there are none)."""
    if not source_dir.is_dir():
        raise DatasetError(f"{source_dir}: not a folder of images")
    images = sorted(p.relative_to(source_dir).as_posix() for p in source_dir.rglob("*")
                    if p.suffix.lower() in IMAGE_EXTENSIONS)
    if not images:
        raise DatasetError(f"{source_dir}: no images found")
    return images


def pack_dataset(source_dir: str | os.PathLike, camera_file: str | os.PathLike, out_zip: str | os.PathLike,
                 resolution: int, crop: str = "center") -> Path:
    source_dir, camera_file = Path(source_dir), Path(camera_file)
    check_resolution(resolution)
    images = list_images(source_dir)
    cameras = read_cameras(camera_file)
    missing = [n for n in images if n not in cameras]
    if missing:
        raise DatasetError(f"{camera_file}: no camera for {len(missing)} image(s), e.g. {missing[0]}")
    extra = sorted(set(cameras) - set(images))
    if extra:
        raise DatasetError(f"{camera_file}: {len(extra)} camera(s) without an image, e.g. {extra[0]}")
    for name in images:
        label = np.asarray(cameras[name], dtype=np.float64)
        if label.shape != (25,) or not np.isfinite(label).all():
            raise DatasetError(f"{camera_file}: camera of {name} must be 25 finite numbers")
    return write_dataset(source_dir, images, cameras, out_zip, resolution, crop)


def check_resolution(resolution: int) -> None:
    if resolution < 4 or resolution & (resolution - 1):
        raise DatasetError(f"--resolution must be a power of two, got {resolution}")


def write_dataset(source_dir: Path, images: list[str], cameras: dict, out_zip: str | os.PathLike, resolution: int,
                  crop: str = "center", poses: dict | None = None, body_model: str | None = None) -> Path:
    """Square-crop and resize source_dir/name for each name in images into a dataset zip with its camera (and
    pose parameters, with the body-model spec, when given); written atomically and validated before it replaces
    anything."""
    out_zip = Path(out_zip)
    labels, pose_rows = [], []
    with atomic_path(out_zip) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as z:
            for i, name in enumerate(images):
                try:
                    with Image.open(source_dir / name) as im:
                        im = _square(rgb_image(im), crop, name)
                        im = im.resize((resolution, resolution), Image.LANCZOS)
                except DatasetError:
                    raise
                except Exception as e:
                    raise DatasetError(f"{source_dir / name}: unreadable image ({e})") from None
                arcname = f"{i // 1000:05d}/img{i:08d}.png"
                buf = io.BytesIO()
                im.save(buf, format="png")
                z.writestr(arcname, buf.getvalue())
                labels.append([arcname, [float(v) for v in cameras[name]]])
                if poses is not None:
                    pose_rows.append([arcname, [float(v) for v in poses[name]]])
            meta = {"labels": labels}
            if poses is not None:
                meta.update(poses=pose_rows, body_model=body_model)
            z.writestr("dataset.json", json.dumps(meta))
        ImageDataset(tmp, use_poses=poses is not None, check_images="all")  # validate before replacing anything
    return out_zip


def summary(dataset: ImageDataset) -> str:
    from op3d.data.cameras import ray_range_problem
    from op3d.presets import RENDERING_PRESETS

    c = torch.from_numpy(dataset.labels)
    radius = c[:, [3, 7, 11]].norm(dim=1) if len(c) else torch.zeros(0)
    fits = [name for name, p in RENDERING_PRESETS.items()
            if len(c) and ray_range_problem(c, p["ray_start"], p["ray_end"]) is None]
    return (f"{dataset.path}: {len(dataset.image_names)} images, {dataset.resolution}x{dataset.resolution}, "
            f"labels {dataset.label_dim}-d, camera distance {radius.min():.3f}-{radius.max():.3f}, "
            f"focal {c[:, 16].mean():.4f}"
            + (f", poses {dataset.poses.shape[1]}-d ({dataset.body_model or 'body model unspecified'})"
               if dataset.poses is not None else "")
            + (f"; ray ranges that contain the cameras: --cfg {' / '.join(fits)}" if len(c) else ""))
