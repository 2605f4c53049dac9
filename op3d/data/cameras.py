"""Cameras in the EG3D convention: OpenCV cam2world (x right, y down, z forward), world y-up, and 25-d labels
[cam2world (16, row-major) ; normalized intrinsics (9)]."""
from __future__ import annotations

import math

import torch

FFHQ_FOCAL = 4.2647  # 2985.29 / 700, normalized by the image width


def fov_to_focal(fov_deg: float) -> float:
    """Normalized focal length for a field of view in degrees: 1 / (tan(fov / 2) * 1.414), as EG3D's helper."""
    fov_deg = float(fov_deg)
    if not 0 < fov_deg < 180:
        raise ValueError(f"field of view must be in (0, 180) degrees, got {fov_deg}")
    return 1 / (math.tan(math.radians(fov_deg) / 2) * 1.414)


def intrinsics(focal: float = FFHQ_FOCAL, cx: float = 0.5, cy: float = 0.5) -> torch.Tensor:
    return torch.tensor([[focal, 0, cx], [0, focal, cy], [0, 0, 1]], dtype=torch.float32)


def lookat_pose(yaw: torch.Tensor | float, pitch: torch.Tensor | float, radius: float = 2.7,
                lookat=(0.0, 0.0, 0.0)) -> torch.Tensor:
    """LookAtPoseSampler without noise: yaw = h, pitch = v in radians, frontal = (pi/2, pi/2).

    phi = arccos(1 - 2 v / pi); position = r (sin(phi) cos(pi - h), cos(phi), sin(phi) sin(pi - h)) on the sphere
    of radius r around the ORIGIN, looking at `lookat` (EG3D's camera_utils.LookAtPoseSampler: the look-at point
    turns the camera but does not move it, so with FFHQ's pivot (0, 0, 0.2) the frontal camera is at z = 2.7).
    Returns cam2world [..., 4, 4] (float32).
    """
    yaw = torch.as_tensor(yaw, dtype=torch.float64)
    pitch = torch.as_tensor(pitch, dtype=torch.float64)
    yaw, pitch = torch.broadcast_tensors(yaw, pitch)
    eps = 1e-5
    phi = torch.arccos((1 - 2 * pitch / math.pi).clamp(-1 + eps, 1 - eps))
    target = torch.tensor(lookat, dtype=torch.float64)
    origin = torch.stack([radius * torch.sin(phi) * torch.cos(math.pi - yaw), radius * torch.cos(phi),
                          radius * torch.sin(phi) * torch.sin(math.pi - yaw)], dim=-1)
    forward = torch.nn.functional.normalize(target - origin, dim=-1)
    up = torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64).expand_as(forward)
    right = -torch.nn.functional.normalize(torch.linalg.cross(up, forward, dim=-1), dim=-1)
    down = torch.nn.functional.normalize(torch.linalg.cross(forward, right, dim=-1), dim=-1)
    m = torch.zeros(*forward.shape[:-1], 4, 4, dtype=torch.float64)
    m[..., :3, 0], m[..., :3, 1], m[..., :3, 2], m[..., :3, 3] = right, down, forward, origin
    m[..., 3, 3] = 1
    return m.float()


def make_label(cam2world: torch.Tensor, K: torch.Tensor) -> torch.Tensor:
    """cam2world [B, 4, 4], K [3, 3] or [B, 3, 3] -> labels [B, 25]."""
    B = cam2world.shape[0]
    return torch.cat([cam2world.reshape(B, 16), K.expand(B, 3, 3).reshape(B, 9)], dim=1).float()


def flip_label(c: torch.Tensor) -> torch.Tensor:
    """Horizontal image flip: cam2world conjugated by diag(-1, 1, 1, 1); intrinsics unchanged. c: [..., 25]."""
    flip = torch.diag(torch.tensor([-1.0, 1.0, 1.0, 1.0], dtype=c.dtype))
    m = c[..., :16].reshape(*c.shape[:-1], 4, 4)
    return torch.cat([(flip @ m @ flip).reshape(*c.shape[:-1], 16), c[..., 16:]], dim=-1)


def sample_cameras(n: int, generator: torch.Generator, yaw_std: float = 0.3, pitch_std: float = 0.15,
                   radius: float = 2.7, focal: float = FFHQ_FOCAL, lookat=(0.0, 0.0, 0.0),
                   max_yaw: float = 0.8) -> torch.Tensor:
    """FFHQ-like cameras: Gaussian yaw/pitch around frontal (clipped), fixed radius and focal. -> [n, 25]."""
    yaw = math.pi / 2 + (torch.randn(n, generator=generator, dtype=torch.float64) * yaw_std).clamp(-max_yaw, max_yaw)
    pitch = math.pi / 2 + (torch.randn(n, generator=generator, dtype=torch.float64) * pitch_std).clamp(-0.5, 0.5)
    return make_label(lookat_pose(yaw, pitch, radius, lookat), intrinsics(focal))


def camera_problems(labels: torch.Tensor) -> list[tuple[int, str]]:
    """Why labels [N, 25] are not EG3D cameras: [(index of the first offending label, what is wrong)], one entry
    per kind of problem; empty when all are fine. Checked: cam2world's rotation is orthonormal with det +1 (every
    entry of R^T R - I within 1e-3: labels rounded to 4 decimals pass, an axis scaled by 0.1% does not) and its
    bottom row is 0 0 0 1 (within 1e-4); intrinsics are normalized by the image size (EG3D's convention: focal
    about 1-10, principal point in [0, 1], last row 0 0 1)."""
    c = torch.as_tensor(labels, dtype=torch.float64).reshape(-1, 25)
    M, K = c[:, :16].reshape(-1, 4, 4), c[:, 16:].reshape(-1, 3, 3)
    R = M[:, :3, :3]
    eye = torch.eye(3, dtype=torch.float64)
    fx, fy, cx, cy = K[:, 0, 0], K[:, 1, 1], K[:, 0, 2], K[:, 1, 2]
    checks = [
        ((R.transpose(1, 2) @ R - eye).abs().amax((1, 2)) > 1e-3,
         "cam2world's rotation is not orthonormal (an all-zero, scaled or sheared matrix)"),
        (torch.linalg.det(R) < 0, "cam2world's rotation is a reflection (det -1)"),
        ((M[:, 3] - torch.tensor([0, 0, 0, 1.0], dtype=torch.float64)).abs().amax(1) > 1e-4,
         "cam2world's bottom row is not 0 0 0 1"),
        ((fx > 50) | (fy > 50), "intrinsics look like pixels (focal > 50); EG3D labels divide fx, fy, cx, cy by "
                                "the image size (FFHQ: 2985.29 / 700 = 4.2647)"),
        ((fx <= 0) | (fy <= 0), "focal lengths must be positive"),
        ((cx < 0) | (cx > 1) | (cy < 0) | (cy > 1), "principal point outside [0, 1] (intrinsics must be normalized)"),
        ((K[:, 2] - torch.tensor([0, 0, 1.0], dtype=torch.float64)).abs().amax(1) > 1e-4,
         "intrinsics' last row is not 0 0 1"),
    ]
    return [(int(bad.nonzero()[0, 0]), what) for bad, what in checks if bool(bad.any())]


def camera_distances(labels: torch.Tensor) -> torch.Tensor:
    """Distance of each camera centre from the world origin (the centre of the rendering box): [N]."""
    c = torch.as_tensor(labels, dtype=torch.float64).reshape(-1, 25)
    return c[:, [3, 7, 11]].norm(dim=1)


def ray_range_problem(labels: torch.Tensor, ray_start, ray_end) -> str | None:
    """Why a fixed ray range misses the rendering box's centre from some cameras (None if it does not, or the
    range is 'auto', i.e. derived from the box)."""
    if ray_start == "auto":
        return None
    r = camera_distances(labels)
    if float(r.min()) <= float(ray_start) or float(r.max()) >= float(ray_end):
        return (f"cameras are {float(r.min()):.3g}-{float(r.max()):.3g} from the origin but rays are sampled from "
                f"{ray_start} to {ray_end} only: the object would lie outside the sampled range")
    return None
