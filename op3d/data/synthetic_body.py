"""A built-in pose-conditional dataset: the procedural SMPL-layout body in random plausible poses, ray cast
from known cameras onto a white background, with its pose parameters (docs/conditional.md#data-format).

World frame = the camera labels' frame (y up, metres); each body is centred at the origin through `transl`.
Images are exact ray casts (first triangle hit per pixel-centre ray) with Lambert shading and a colour per body
part. Every image depends only on (seed, index).
"""
from __future__ import annotations

import io
import json
import math
import os
import zipfile

import torch
from PIL import Image

from op3d.conditioning.body_model import BodyModel, join_pose_params, lbs, procedural_body, random_body_poses
from op3d.conditioning.nearest import build_clusters
from op3d.data.cameras import intrinsics, lookat_pose, make_label
from op3d.data.synthetic import _zipinfo
from op3d.io.atomic import atomic_path
from op3d.progress import with_progress
from op3d.rendering.rays import rays_from_cameras

BODY_CAMERA_RADIUS = 4.0
BODY_FOCAL = 1.75  # normalized: about 2.3 m visible at the camera radius
LIGHT = (0.3, 0.6, 0.75)


def _ray_triangle(o: torch.Tensor, d: torch.Tensor, tri: torch.Tensor) -> torch.Tensor:
    """Moller-Trumbore: rays o, d [Q, 3] against triangles tri [Q, G, 3, 3] -> hit distance t [Q, G] (inf on a
    miss)."""
    a, e1, e2 = tri[..., 0, :], tri[..., 1, :] - tri[..., 0, :], tri[..., 2, :] - tri[..., 0, :]
    o, d = o[:, None].expand_as(a), d[:, None].expand_as(a)
    h = torch.linalg.cross(d, e2, dim=-1)
    det = (e1 * h).sum(-1)
    valid = det.abs() > 1e-12
    inv = 1 / torch.where(valid, det, torch.ones_like(det))
    sv = o - a
    u = (sv * h).sum(-1) * inv
    q = torch.linalg.cross(sv, e1, dim=-1)
    v = (d * q).sum(-1) * inv
    t = (e2 * q).sum(-1) * inv
    ok = valid & (u >= 0) & (v >= 0) & (u + v <= 1) & (t > 0)
    return torch.where(ok, t, torch.full_like(t, math.inf))


def ray_mesh_hits(origins: torch.Tensor, dirs: torch.Tensor, verts: torch.Tensor, faces: torch.Tensor,
                  method: str = "clusters", chunk: int = 1 << 20) -> tuple[torch.Tensor, torch.Tensor]:
    """Nearest hit of rays [R, 3] (unit directions) on a triangle mesh: distance t [R] (inf on a miss) and the hit
    face index [R] (-1 on a miss). method "clusters" tests only the faces of the face clusters
    (`op3d.conditioning.nearest`) whose bounding sphere the ray meets; "brute" tests every face."""
    tri = verts[faces]  # [F, 3, 3]
    R = len(origins)
    if method == "brute":
        every = torch.arange(len(tri), device=tri.device).expand(R, -1)
        pairs = torch.arange(R, device=tri.device), every
    elif method == "clusters":
        cl = build_clusters(tri, 8)
        rays, clusters = [], []
        for s in range(0, R, 4096):
            rel = cl.center[None] - origins[s:s + 4096, None]  # [r, C, 3]
            along = (rel * dirs[s:s + 4096, None]).sum(-1)
            miss2 = rel.square().sum(-1) - along.square()  # squared distance of the centre from the ray's line
            hit = (miss2 <= cl.radius.square() * (1 + 1e-5) + 1e-12) & (along + cl.radius > 0)
            ray, cluster = torch.nonzero(hit, as_tuple=True)
            rays.append(ray + s)
            clusters.append(cluster)
        pairs = torch.cat(rays), cl.members[torch.cat(clusters)]
    else:
        raise ValueError(f"unknown ray casting method {method!r} (clusters | brute)")
    t_best = torch.full((R,), math.inf, dtype=verts.dtype, device=verts.device)
    face = torch.full((R,), -1, dtype=torch.long, device=verts.device)
    ray, members = pairs
    step = max(1, chunk // members.shape[1])
    for s in range(0, len(ray), step):
        r, m = ray[s:s + step], members[s:s + step]
        t, arg = _ray_triangle(origins[r], dirs[r], tri[m]).min(1)
        t_best = t_best.scatter_reduce(0, r, t, reduce="amin")
        win = torch.isfinite(t) & (t <= t_best[r])
        face[r[win]] = torch.gather(m, 1, arg[:, None])[win, 0]
    return t_best, face


def part_colors(model: BodyModel) -> torch.Tensor:
    """An RGB colour in [0, 1] per face [F, 3]: a fixed palette over the dominant joint of its first vertex."""
    g = torch.Generator().manual_seed(1234)
    palette = 0.25 + 0.7 * torch.rand(model.num_joints, 3, generator=g)
    return palette[model.weights.argmax(dim=1)[model.faces[:, 0]]]


def render_body(verts: torch.Tensor, faces: torch.Tensor, colors: torch.Tensor, label: torch.Tensor,
                resolution: int) -> torch.Tensor:
    """One posed mesh verts [V, 3] seen from label [25] -> uint8 image [R, R, 3] on white."""
    origins, dirs = rays_from_cameras(label[None].to(verts.dtype), resolution)
    t, face = ray_mesh_hits(origins[0], dirs[0], verts, faces)
    tri = verts[faces]
    normals = torch.nn.functional.normalize(torch.linalg.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0],
                                                               dim=-1), dim=-1)
    hit = face >= 0
    n = normals[face.clamp_min(0)]
    light = torch.nn.functional.normalize(torch.tensor(LIGHT, dtype=verts.dtype, device=verts.device), dim=0)
    shade = 0.35 + 0.65 * (n * light).sum(-1).abs()
    rgb = torch.where(hit[:, None], colors[face.clamp_min(0)].to(verts.dtype) * shade[:, None],
                      torch.ones(len(t), 3, dtype=verts.dtype, device=verts.device))
    return (rgb.reshape(resolution, resolution, 3) * 255).round().clamp(0, 255).to(torch.uint8)


def sample_body(model: BodyModel, seed: int, index: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Pose parameters [85] (centred at the origin) and a camera label [25] for image `index` of `seed`."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + index)
    pose = random_body_poses(1, g)
    yaw = (torch.rand(1, generator=g) * 2 - 1) * math.pi
    tilt = (torch.rand(2, generator=g) * 2 - 1) * 0.1
    pose[0, 0] = torch.tensor([float(tilt[0]), float(yaw), float(tilt[1])])
    betas = torch.zeros(1, 10)
    betas[0, :3] = torch.randn(3, generator=g) * 0.5
    verts = lbs(model, betas, pose)["vertices"][0]
    transl = -(verts.min(0).values + verts.max(0).values) / 2
    cam_yaw = math.pi / 2 + (float(torch.rand(1, generator=g)) * 2 - 1) * 0.6
    cam_pitch = math.pi / 2 + (float(torch.rand(1, generator=g)) * 2 - 1) * 0.25
    label = make_label(lookat_pose(cam_yaw, cam_pitch, BODY_CAMERA_RADIUS)[None], intrinsics(BODY_FOCAL))[0]
    return join_pose_params(betas[0], pose[0], transl), label


def make_body_dataset(out_zip: str | os.PathLike, count: int, resolution: int = 64, seed: int = 0,
                      progress: bool = False) -> str | os.PathLike:
    """Render `count` posed procedural bodies into a pose-conditional zip (written atomically)."""
    model = procedural_body(num_betas=10)
    colors = part_colors(model)
    items = range(count)
    items = with_progress(items, progress, "synthetic bodies", "img")
    labels_json, poses_json = [], []
    with atomic_path(out_zip) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as z:
        for i in items:
            params, label = sample_body(model, seed, i)
            verts = lbs(model, params[None, :10], params[None, 10:82].reshape(1, 24, 3), params[None, 82:])
            with torch.no_grad():
                image = render_body(verts["vertices"][0], model.faces, colors, label, resolution)
            name = f"{i // 1000:05d}/img{i:08d}.png"
            buf = io.BytesIO()
            Image.fromarray(image.numpy()).save(buf, format="png", compress_level=1)
            z.writestr(_zipinfo(name), buf.getvalue())
            labels_json.append([name, [float(v) for v in label.tolist()]])
            poses_json.append([name, [float(v) for v in params.tolist()]])
        meta = {"labels": labels_json, "poses": poses_json, "body_model": "procedural"}
        z.writestr(_zipinfo("dataset.json"), json.dumps(meta))
    return out_zip
