"""Import PARE outputs (per-image SMPL estimates) into a pose-conditional dataset (docs/conditional.md).

PARE writes one joblib pickle per image with the SMPL rotations (`pose`/`pred_pose`/`full_pose`: 24 rotation
matrices or 72 axis-angle values, root first), the shape (`betas`/`pred_shape`, 10) and a weak-perspective camera:
`orig_cam` [sx, sy, tx, ty] for the whole image (or `pred_cam` [s, tx, ty], used as is when no orig_cam exists):
    x_ndc = sx (X + tx),  y_ndc = sy (Y + ty)    (ndc in [-1, 1] across the image, y down)
where (X, Y, Z) are the SMPL vertices posed with the predicted root orientation and no translation. The root
orientation is axis-angle / a rotation matrix (OP3D's export wrongly reads it as Euler angles).

Conversion (exact for points at the depth of the SMPL origin, perspective elsewhere): the image is center-cropped
to a square (scales become s = sx W / m = sy H / m for side m), a pinhole camera with the given field of view
(normalized focal f = 1 / (2 tan(fov / 2))) sits at depth Z = 2 f / s, so the camera-frame body is
(X + tx, Y + ty, Z + z). World = the camera frame turned by pi about x (y up, the camera looking down -z) and
shifted to put the pelvis at the origin: root orientation W R (W = diag(1, -1, -1)), translation -J0 (the shaped
rest pelvis), camera at -W (J0 + t).
"""
from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from op3d.conditioning.body_model import BodyModel, join_pose_params, lbs, matrix_to_axis_angle
from op3d.data.cameras import intrinsics, make_label
from op3d.data.dataset import DatasetError

_FLIP = torch.diag(torch.tensor([1.0, -1.0, -1.0], dtype=torch.float64))
_KEYS = {"pose": ("pose", "pred_pose", "full_pose"), "betas": ("betas", "pred_shape")}


def _pick(data: dict, keys: tuple[str, ...], name: str) -> np.ndarray:
    for k in keys:
        if k in data:
            return np.asarray(data[k], dtype=np.float64)
    raise DatasetError(f"{name}: no {' / '.join(keys)} entry (keys: {', '.join(sorted(map(str, data)))})")


def read_pare_entry(data, name: str, person: int = 0) -> tuple[torch.Tensor, torch.Tensor, tuple]:
    """A PARE output dict -> betas [10], rotations [24, 3, 3] and (sx, sy, tx, ty) for the whole image; camera
    scales are None when only pred_cam [s, tx, ty] is present (s for both axes). `person` picks a row when the
    arrays hold several people."""
    if not isinstance(data, dict):
        raise DatasetError(f"{name}: expected a dict of PARE outputs, got {type(data).__name__}")
    pose = _pick(data, _KEYS["pose"], name)
    betas = _pick(data, _KEYS["betas"], name)
    if "orig_cam" in data:
        cam = np.asarray(data["orig_cam"], dtype=np.float64).reshape(-1, 4)
    elif "pred_cam" in data:
        c3 = np.asarray(data["pred_cam"], dtype=np.float64).reshape(-1, 3)
        cam = np.concatenate([c3[:, :1], c3], axis=1)
    else:
        raise DatasetError(f"{name}: no orig_cam or pred_cam entry")
    shape = pose.shape  # decided by the trailing dims, never by the total size ([3, 72] is 216 values too)
    if shape[-3:] == (24, 3, 3) or (len(shape) >= 1 and shape[-1] == 216):
        pose = pose.reshape(-1, 24, 3, 3)
    elif shape[-2:] == (24, 3) or (len(shape) >= 1 and shape[-1] == 72):
        pose = pose.reshape(-1, 24, 3)
    else:
        raise DatasetError(f"{name}: pose must be 24 rotation matrices ([..., 24, 3, 3] or [..., 216]) or 72 "
                           f"axis-angle values ([..., 72] or [..., 24, 3]), got shape {shape}")
    rows = [pose, betas.reshape(-1, betas.shape[-1] if betas.ndim else 1), cam]
    if not all(person < len(r) for r in rows):
        raise DatasetError(f"{name}: no person {person} (the file has {min(len(r) for r in rows)})")
    pose, betas, cam = (torch.from_numpy(np.ascontiguousarray(r[person])) for r in rows)
    if not all(torch.isfinite(t).all() for t in (pose, betas, cam)) or betas.numel() > 10 or cam[0] <= 0:
        raise DatasetError(f"{name}: non-finite values, more than 10 betas or a non-positive camera scale")
    if pose.dim() == 2:
        from op3d.conditioning.body_model import axis_angle_to_matrix

        pose = axis_angle_to_matrix(pose)
    else:
        error = (pose.transpose(-1, -2) @ pose - torch.eye(3, dtype=pose.dtype)).abs().amax((1, 2))
        bad = (error > 1e-2) | (torch.linalg.det(pose) <= 0)
        if bool(bad.any()):
            joint = int(bad.nonzero()[0, 0])
            raise DatasetError(f"{name}: pose of joint {joint} is not a rotation matrix (R^T R - I up to "
                               f"{float(error[joint]):.3g}, det {float(torch.linalg.det(pose[joint])):.3g})")
    return torch.nn.functional.pad(betas, (0, 10 - betas.numel())), pose, tuple(float(v) for v in cam)


def pare_to_dataset_entry(model: BodyModel, betas: torch.Tensor, rot: torch.Tensor, cam: tuple,
                          image_size: tuple[int, int], fov_deg: float) -> tuple[torch.Tensor, torch.Tensor]:
    """-> pose parameters [85] (world: y up, pelvis at the origin) and the 25-d camera label of the image
    center-cropped to a square (see the module docstring)."""
    sx, sy, tx, ty = cam
    W, H = image_size
    side = min(W, H)
    s = sx * W / side
    focal = 1 / (2 * math.tan(math.radians(fov_deg) / 2))
    depth = 2 * focal / s
    rot = rot.to(torch.float64).clone()
    rot[0] = _FLIP @ rot[0]
    betas64 = betas.to(torch.float64)[None]
    rest = lbs(model.to(torch.float64), betas64, torch.zeros(1, 24, 3, dtype=torch.float64))
    J0 = rest["joints"][0, 0]
    params = join_pose_params(betas64[0], matrix_to_axis_angle(rot), -J0)
    cam2world = torch.eye(4, dtype=torch.float64)
    cam2world[:3, :3] = _FLIP
    cam2world[:3, 3] = -_FLIP @ (J0 + torch.tensor([tx, ty, depth], dtype=torch.float64))
    return params.float(), make_label(cam2world[None].float(), intrinsics(focal))[0]


def import_pare(images_dir: str | os.PathLike, pare_dir: str | os.PathLike, out_zip: str | os.PathLike,
                resolution: int, body_model: str, fov_deg: float = 12.0, person: int = 0) -> Path:
    """Images + PARE outputs (PARE_DIR/<image stem>.pkl, joblib) -> a pose-conditional dataset zip."""
    from op3d.conditioning.posed import body_model_from_spec
    from op3d.data.pack import check_resolution, list_images, write_dataset
    from op3d.io.legacy_pickle import read_joblib_pickle

    images_dir, pare_dir = Path(images_dir), Path(pare_dir)
    check_resolution(resolution)
    if not 0 < fov_deg < 180:
        raise DatasetError(f"--fov-deg must be in (0, 180), got {fov_deg}")
    if not pare_dir.is_dir():
        raise DatasetError(f"{pare_dir}: not a folder of PARE outputs")
    images = list_images(images_dir)
    files = {name: pare_dir / Path(name).with_suffix(".pkl") for name in images}
    missing = [str(f) for f in files.values() if not f.is_file()]
    if missing:
        raise DatasetError(f"no PARE output for {len(missing)} image(s), e.g. {missing[0]}")
    model = body_model_from_spec(body_model)
    cameras, poses = {}, {}
    for name in images:
        with Image.open(images_dir / name) as im:
            size = ImageOps.exif_transpose(im).size  # the photo as PARE saw it (upright)
        betas, rot, cam = read_pare_entry(read_joblib_pickle(files[name]), str(files[name]), person)
        poses[name], cameras[name] = pare_to_dataset_entry(model, betas, rot, cam, size, fov_deg)
    spec = "procedural" if body_model == "procedural" else "smpl"
    return write_dataset(images_dir, images, cameras, out_zip, resolution, "center", poses, spec)
