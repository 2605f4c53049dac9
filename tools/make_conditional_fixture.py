"""Build the data-only parity fixture of the released pose-conditional OP3D generator (tests/fixtures/op3d_conditional).

Runs the ORIGINAL code (training/kaolin_version.py of a checkout of github.com/OrthoPlanes/op3d, never vendored)
on CPU with small random weights. The few functions it takes from kaolin and pytorch3d are replaced by exact
float64 brute-force stand-ins written here (independent of op3d's mesh code):

- pytorch3d.ops.knn_points (K = 1: squared distance and index of the nearest point), knn_gather;
- pytorch3d.io.load_obj (returns the body's faces: the original reads them from a hard-coded smpl_uv.obj path);
- kaolin.ops.mesh.index_vertices_by_faces; kaolin.metrics.trianglemesh.point_to_mesh_distance (squared distance
  to the closest triangle, Ericson's region tests over every triangle); kaolin.ops.mesh.check_sign (inside where
  the generalized winding number, a sum of Van Oosterom-Strackee solid angles over every triangle, exceeds 1/2).

The per-image pose inputs ("real_conditions") are computed here in float64 numpy as OP3D's export_pose.py does
from SMPL's outputs (Rodrigues, forward kinematics with the rest joints removed, the canonical turn
R_x(pi) R_root^T, linear blend skinning of the shaped rest vertices), for op3d's procedural body in SMPL layout.
Weights: the original's initialization + 0.1 * N(0, 1), rounded to float16 values (stored losslessly as float16;
the original runs with exactly those values). Sampling is deterministic (stratified jitter 0.5, importance
u = linspace(0, 1, N)).

    python tools/make_conditional_fixture.py --original /tmp/orig/op3d --out tests/fixtures/op3d_conditional
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import types
from collections import namedtuple
from pathlib import Path

import numpy as np
import torch
from original_runs import add_original_to_path, deterministic_sampling, perturbed_float16_state

INIT_KWARGS = {
    "z_dim": 64, "c_dim": 25, "w_dim": 512, "img_resolution": 128, "img_channels": 3, "sr_num_fp16_res": 0,
    "planes": 4, "channel_base": 1024, "channel_max": 32, "num_fp16_res": 0, "conv_clamp": None,
    "fused_modconv_default": "inference_only", "mapping_kwargs": {"num_layers": 1},
    "sr_kwargs": {"channel_base": 1024, "channel_max": 32, "fused_modconv_default": "inference_only"},
    "rendering_kwargs": {
        "image_resolution": 128, "disparity_space_sampling": False, "clamp_mode": "softplus",
        "superresolution_module": "training.superresolution.SuperresolutionHybrid2X",
        "c_gen_conditioning_zero": False, "c_scale": 1.0, "superresolution_noise_mode": "none",
        "decoder_lr_mul": 1.0, "sr_antialias": True, "depth_resolution": 10, "depth_resolution_importance": 10,
        "ray_start": "auto", "ray_end": "auto", "box_warp": 1, "white_back": True,
        "avg_camera_radius": 2.7, "avg_camera_pivot": [0, 0, 0]},
}
NEURAL_RES = 16
FACES: torch.Tensor | None = None  # what the load_obj stand-in returns


# ---- exact stand-ins -------------------------------------------------------------------------------------------
def knn_points(p1, p2, K=1, **_):
    d2 = ((p1.double()[:, :, None] - p2.double()[:, None]) ** 2).sum(-1)
    dist, idx = d2.topk(K, dim=-1, largest=False)
    return dist.to(p1.dtype), idx, None


def knn_gather(x, idx):
    B, P, K = idx.shape
    return torch.gather(x, 1, idx.reshape(B, P * K, 1).expand(-1, -1, x.shape[-1])).reshape(B, P, K, -1)


def load_obj(_path, **_):
    return None, namedtuple("Faces", "verts_idx")(FACES), None


def index_vertices_by_faces(vertices, faces):
    return vertices[:, faces.long()]


def _closest_sq_distance(p, a, b, c):
    """Squared distance from points p [P, 3] to triangles a, b, c [F, 3] -> [P, F] (Ericson, Real-Time Collision
    Detection 5.1.5), float64."""
    p, a, b, c = p[:, None], a[None], b[None], c[None]
    ab, ac, ap = b - a, c - a, p - a
    d1, d2 = (ab * ap).sum(-1), (ac * ap).sum(-1)
    bp = p - b
    d3, d4 = (ab * bp).sum(-1), (ac * bp).sum(-1)
    cp = p - c
    d5, d6 = (ab * cp).sum(-1), (ac * cp).sum(-1)
    va, vb, vc = d3 * d6 - d5 * d4, d5 * d2 - d1 * d6, d1 * d4 - d3 * d2
    denom = va + vb + vc
    v = vb / torch.where(denom == 0, torch.ones_like(denom), denom)
    w = vc / torch.where(denom == 0, torch.ones_like(denom), denom)
    q = a + ab * v[..., None] + ac * w[..., None]  # interior
    safe = lambda x: torch.where(x == 0, torch.ones_like(x), x)
    t_bc = (d4 - d3) / safe((d4 - d3) + (d5 - d6))
    q = torch.where(((va <= 0) & (d4 - d3 >= 0) & (d5 - d6 >= 0))[..., None], b + (c - b) * t_bc[..., None], q)
    q = torch.where(((vb <= 0) & (d2 >= 0) & (d6 <= 0))[..., None], a + ac * (d2 / safe(d2 - d6))[..., None], q)
    q = torch.where(((vc <= 0) & (d1 >= 0) & (d3 <= 0))[..., None], a + ab * (d1 / safe(d1 - d3))[..., None], q)
    q = torch.where(((d6 >= 0) & (d5 <= d6))[..., None], c.expand_as(q), q)
    q = torch.where(((d3 >= 0) & (d4 <= d3))[..., None], b.expand_as(q), q)
    q = torch.where(((d1 <= 0) & (d2 <= 0))[..., None], a.expand_as(q), q)
    return ((p - q) ** 2).sum(-1)


def point_to_mesh_distance(points, face_vertices):
    out = []
    for p, tri in zip(points.double(), face_vertices.double()):
        best = torch.cat([_closest_sq_distance(p[s:s + 512], tri[:, 0], tri[:, 1], tri[:, 2]).min(1).values
                          for s in range(0, len(p), 512)])
        out.append(best)
    return torch.stack(out).to(points.dtype), None, None


def check_sign(vertices, faces, points):
    out = []
    for v, p in zip(vertices.double(), points.double()):
        a, b, c = (v[faces[:, i].long()] for i in range(3))
        wn = []
        for s in range(0, len(p), 512):
            x, y, z = a[None] - p[s:s + 512, None], b[None] - p[s:s + 512, None], c[None] - p[s:s + 512, None]
            lx, ly, lz = x.norm(dim=-1), y.norm(dim=-1), z.norm(dim=-1)
            det = (x * torch.cross(y, z, dim=-1)).sum(-1)
            den = lx * ly * lz + (x * y).sum(-1) * lz + (y * z).sum(-1) * lx + (z * x).sum(-1) * ly
            wn.append((2 * torch.atan2(det, den)).sum(1) / (4 * math.pi))
        out.append(torch.cat(wn) > 0.5)
    return torch.stack(out)


def install_standins() -> None:
    def module(name, **attrs):
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        sys.modules[name] = m
        return m

    module("pytorch3d")
    module("pytorch3d.ops", knn_points=knn_points, knn_gather=knn_gather)
    module("pytorch3d.io", load_obj=load_obj)
    module("kaolin")
    module("kaolin.ops")
    module("kaolin.ops.mesh", index_vertices_by_faces=index_vertices_by_faces, check_sign=check_sign)
    module("kaolin.metrics")
    module("kaolin.metrics.trianglemesh", point_to_mesh_distance=point_to_mesh_distance)


# ---- real_conditions as export_pose.py makes them ------------------------------------------------------------
def rodrigues(r: np.ndarray) -> np.ndarray:
    angle = np.linalg.norm(r)
    if angle < 1e-12:
        return np.eye(3)
    k = r / angle
    K = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(angle) * K + (1 - math.cos(angle)) * K @ K


def real_conditions(model: dict, params: np.ndarray) -> dict:
    """model: v_template, shapedirs, J_regressor, weights, parents (numpy float64); params [85]."""
    betas, pose = params[:10], params[10:82].reshape(24, 3)
    v_shaped = model["v_template"] + np.einsum("vcs,s->vc", model["shapedirs"][..., :10], betas)
    joints = model["J_regressor"] @ v_shaped
    rot = np.stack([rodrigues(r) for r in pose])
    world = []
    for j, parent in enumerate(model["parents"]):
        local = np.eye(4)
        local[:3, :3] = rot[j]
        local[:3, 3] = joints[j] - (joints[parent] if parent >= 0 else 0)
        world.append(local if parent < 0 else world[parent] @ local)
    A = np.stack(world)
    A[:, :3, 3] -= np.einsum("jab,jb->ja", A[:, :3, :3], joints)
    cano = np.eye(4)
    cano[:3, :3] = np.diag([1.0, -1.0, -1.0]) @ np.linalg.inv(rot[0])  # Rotation.from_euler('xyz', [pi, 0, 0])
    fk = np.einsum("ij,bjk->bik", cano, A)
    T = np.einsum("vj,jkl->vkl", model["weights"], fk)
    vertices = np.einsum("vij,vj->vi", T, np.pad(v_shaped, [[0, 0], [0, 1]], constant_values=1.0))[:, :3]
    return {"vertices": vertices, "fk_matrices": fk, "lbs_weights": model["weights"], "full_pose": rot,
            "body_shape": betas}


# ---- the run ---------------------------------------------------------------------------------------------------
def main() -> None:
    global FACES
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--original", required=True, help="the op3d folder of a checkout of OrthoPlanes/op3d")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    from op3d.conditioning.body_model import procedural_body  # data only: the body model's arrays
    from op3d.data.cameras import intrinsics, lookat_pose, make_label  # inputs only: the same c goes to both

    body = procedural_body()
    model = {k: getattr(body, k).double().numpy() for k in ("v_template", "shapedirs", "J_regressor", "weights")}
    model["parents"] = body.parents.numpy()
    FACES = body.faces.int()
    install_standins()
    add_original_to_path(args.original)
    from training.kaolin_version import TriMultiPlaneGenerator

    torch.manual_seed(args.seed)
    G = TriMultiPlaneGenerator(**INIT_KWARGS).eval()
    G.neural_rendering_resolution = NEURAL_RES
    params = dict(G.named_parameters())
    state = perturbed_float16_state(G, args.seed)
    G.load_state_dict(state)
    deterministic_sampling(G.renderer)

    rng = np.random.default_rng(args.seed)
    poses = np.zeros((2, 85))
    poses[:, :10] = rng.normal(0, 1, (2, 10))
    poses[:, 10:82] = rng.normal(0, 0.25, (2, 72))
    poses[:, 10:13] = [[0.1, 0.4, -0.05], [-0.2, -0.6, 0.1]]
    poses[:, 82:] = rng.normal(0, 0.1, (2, 3))  # unused by the released code
    conds = [real_conditions(model, p) for p in poses]
    real = {k: torch.from_numpy(np.stack([c[k] for c in conds])).float() for k in conds[0]}
    z = torch.from_numpy(rng.normal(size=(2, INIT_KWARGS["z_dim"]))).float()
    c = make_label(lookat_pose(torch.tensor([math.pi / 2 + 0.3, math.pi / 2 - 0.8]),
                               torch.tensor([math.pi / 2 - 0.1, math.pi / 2 + 0.15]), radius=2.7), intrinsics())
    points = torch.from_numpy(rng.uniform(-0.45, 0.45, (2, 512, 3))).float()
    with torch.no_grad():
        ws = G.mapping(z, c)
        out = G.synthesis(ws, c, real, neural_rendering_resolution=NEURAL_RES, noise_mode="const")
        sampled = G.sample(points, torch.zeros_like(points), ws, c, real, noise_mode="const")
    root = Path(args.out)
    root.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(root / "state_dict.npz", **{k: v.numpy().astype(np.float16 if k in params else v.numpy().dtype)
                                                    for k, v in state.items()})
    (root / "init_kwargs.json").write_text(json.dumps(dict(INIT_KWARGS, class_name="TriMultiPlaneGenerator",
                                                           neural_rendering_resolution=NEURAL_RES), indent=1))
    np.savez_compressed(root / "outputs.npz", z=z.numpy(), c=c.numpy(), ws=ws.numpy(),
                        pose_params=poses.astype(np.float32), faces=FACES.numpy(), points=points.numpy(),
                        **{f"cond_{k}": v.numpy() for k, v in real.items() if k != "lbs_weights"},
                        image=out["image"].numpy(), image_raw=out["image_raw"].numpy(),
                        image_depth=out["image_depth"].numpy(), sdf=out["sdf"]["sdf"].numpy(),
                        sigma=sampled["sigma"].numpy(), rgb=sampled["rgb"].numpy())
    frac = float((out["image_depth"] < out["image_depth"].max() - 1e-4).float().mean())
    print(f"wrote {root}: depth range {float(out['image_depth'].min()):.4f}-{float(out['image_depth'].max()):.4f} "
          f"({frac:.0%} of pixels before the far clamp), image std {float(out['image'].std()):.3f}")


if __name__ == "__main__":
    main()
