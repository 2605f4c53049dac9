"""SMPL-layout body models: loading (.npz, or SMPL .pkl files read without chumpy), linear blend skinning,
and a procedural body in SMPL layout so the pose-conditional branch runs without licensed files.

Shapes: V vertices, F faces, J joints (24 for SMPL), S shape coefficients, P = 9 (J - 1) pose features.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

# SMPL's kinematic tree: parent of each of the 24 joints (pelvis is the root).
SMPL_PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)


@dataclass
class BodyModel:
    """v_template [V, 3], faces [F, 3], shapedirs [V, 3, S], posedirs [P, V*3] (smplx's layout), J_regressor
    [J, V], parents [J] (root -1), weights [V, J]."""

    v_template: torch.Tensor
    faces: torch.Tensor
    shapedirs: torch.Tensor
    posedirs: torch.Tensor
    J_regressor: torch.Tensor
    parents: torch.Tensor
    weights: torch.Tensor

    @property
    def num_joints(self) -> int:
        return self.J_regressor.shape[0]

    def to(self, *args, **kwargs) -> "BodyModel":
        conv = {k: (v.to(*args, **kwargs) if v.is_floating_point() else v.to(kwargs.get("device", v.device)))
                for k, v in self.__dict__.items()}
        return BodyModel(**conv)


def axis_angle_to_matrix(rotvec: torch.Tensor) -> torch.Tensor:
    """Rodrigues' formula: [..., 3] -> [..., 3, 3] (same epsilon handling as smplx)."""
    angle = torch.norm(rotvec + 1e-8, dim=-1, keepdim=True)  # [..., 1]
    axis = rotvec / angle
    x, y, z = axis.unbind(-1)
    zero = torch.zeros_like(x)
    K = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], dim=-1).reshape(*rotvec.shape[:-1], 3, 3)
    eye = torch.eye(3, dtype=rotvec.dtype, device=rotvec.device)
    s, c = torch.sin(angle)[..., None], torch.cos(angle)[..., None]
    return eye + s * K + (1 - c) * (K @ K)


def skinning_transforms(rot: torch.Tensor, joints: torch.Tensor, parents: torch.Tensor
                        ) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward kinematics. rot [B, J, 3, 3] local rotations, joints [B, J, 3] rest joints ->
    posed joints [B, J, 3] and skinning transforms A [B, J, 4, 4] (world transform with the rest joint removed)."""
    B, J = joints.shape[:2]
    rel = joints.clone()
    rel[:, 1:] = joints[:, 1:] - joints[:, parents[1:]]
    local = torch.zeros(B, J, 4, 4, dtype=rot.dtype, device=rot.device)
    local[..., :3, :3] = rot
    local[..., :3, 3] = rel
    local[..., 3, 3] = 1
    chain = [local[:, 0]]
    for j in range(1, J):
        chain.append(chain[int(parents[j])] @ local[:, j])
    world = torch.stack(chain, dim=1)  # [B, J, 4, 4]
    posed_joints = world[..., :3, 3]
    A = world.clone()
    A[..., :3, 3] = world[..., :3, 3] - (world[..., :3, :3] @ joints.unsqueeze(-1)).squeeze(-1)
    return posed_joints, A


def lbs(model: BodyModel, betas: torch.Tensor, pose: torch.Tensor, transl: torch.Tensor | None = None
        ) -> dict[str, torch.Tensor]:
    """Linear blend skinning as SMPL/smplx: betas [B, S], pose [B, J, 3] axis-angle (or [B, J, 3, 3]).

    Returns vertices [B, V, 3], joints [B, J, 3], transforms [B, J, 4, 4] (A), rot [B, J, 3, 3] and the
    per-vertex blended transforms T [B, V, 4, 4].
    """
    B = betas.shape[0]
    S = min(betas.shape[1], model.shapedirs.shape[-1])
    v_shaped = model.v_template + torch.einsum("bs,vcs->bvc", betas[:, :S], model.shapedirs[..., :S])
    joints = torch.einsum("jv,bvc->bjc", model.J_regressor, v_shaped)
    rot = pose if pose.shape[-2:] == (3, 3) else axis_angle_to_matrix(pose.reshape(B, -1, 3))
    eye = torch.eye(3, dtype=rot.dtype, device=rot.device)
    pose_feature = (rot[:, 1:] - eye).reshape(B, -1)  # [B, P]
    v_posed = v_shaped + (pose_feature @ model.posedirs).reshape(B, -1, 3)
    posed_joints, A = skinning_transforms(rot, joints, model.parents)
    T = torch.einsum("vj,bjkl->bvkl", model.weights, A)  # [B, V, 4, 4]
    verts = (T[..., :3, :3] @ v_posed.unsqueeze(-1)).squeeze(-1) + T[..., :3, 3]
    if transl is not None:
        verts, posed_joints = verts + transl[:, None], posed_joints + transl[:, None]
    return {"vertices": verts, "joints": posed_joints, "transforms": A, "rot": rot, "T": T}


def _dense(value) -> np.ndarray:
    """Arrays as stored in SMPL files: numpy, chumpy objects (their `x`), or scipy sparse matrices."""
    from op3d.io.legacy_pickle import LegacyObject

    if isinstance(value, LegacyObject):
        state = value.state if isinstance(value.state, dict) else {}
        if "x" in state:  # chumpy.ch.Ch
            return np.asarray(_dense(state["x"]))
        if {"data", "indices", "indptr"} <= set(state):  # scipy.sparse csc/csr
            shape = tuple(state.get("_shape") or state.get("shape"))
            dense = np.zeros(shape)
            indptr, indices, data = (np.asarray(state[k]) for k in ("indptr", "indices", "data"))
            compressed_rows = "csr" in type(value).legacy_name
            for i in range(len(indptr) - 1):
                for k in range(indptr[i], indptr[i + 1]):
                    if compressed_rows:
                        dense[i, indices[k]] = data[k]
                    else:
                        dense[indices[k], i] = data[k]
            return dense
        raise ValueError(f"cannot read a {type(value).legacy_name} array from the body model file")
    return np.asarray(value)


def load_body_model(path: str | os.PathLike, dtype: torch.dtype = torch.float32) -> BodyModel:
    """Read an SMPL-layout model from .npz or .pkl (chumpy/scipy objects are read as data, never imported)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: body model not found; pass an SMPL .pkl/.npz (from smpl.is.tue.mpg.de, "
                                "licensed) or use op3d's procedural body")
    if path.suffix == ".npz":
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    else:
        from op3d.io.legacy_pickle import read_legacy_pickle

        data = read_legacy_pickle(path)
        if not isinstance(data, dict):
            raise ValueError(f"{path}: not an SMPL model file (expected a dict of arrays)")
    missing = [k for k in ("v_template", "f", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table")
               if k not in data]
    if missing:
        raise ValueError(f"{path}: not an SMPL-layout model, missing {', '.join(missing)}")
    arr = {k: _dense(data[k]) for k in ("v_template", "f", "shapedirs", "posedirs", "J_regressor", "weights",
                                        "kintree_table")}
    posedirs = arr["posedirs"].reshape(-1, arr["posedirs"].shape[-1]).T  # [P, V*3]
    parents = arr["kintree_table"][0].astype(np.int64)
    parents[0] = -1
    t = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float64), dtype=dtype)  # noqa: E731
    return BodyModel(t(arr["v_template"]), torch.as_tensor(arr["f"].astype(np.int64)), t(arr["shapedirs"]),
                     t(posedirs), t(arr["J_regressor"]), torch.as_tensor(parents), t(arr["weights"]))


# Rest joint positions of the procedural body (metres, y up), loosely SMPL's T-pose.
NUM_BETAS_DEFAULT = 10

_JOINTS = np.array([
    [0, 0, 0], [0.06, -0.09, 0], [-0.06, -0.09, 0], [0, 0.11, -0.02], [0.11, -0.48, 0], [-0.11, -0.48, 0],
    [0, 0.24, -0.01], [0.1, -0.88, -0.04], [-0.1, -0.88, -0.04], [0, 0.29, 0.01], [0.12, -0.93, 0.1],
    [-0.12, -0.93, 0.1], [0, 0.5, -0.01], [0.08, 0.41, -0.01], [-0.08, 0.41, -0.01], [0, 0.6, 0.04],
    [0.18, 0.45, -0.02], [-0.18, 0.45, -0.02], [0.43, 0.44, -0.03], [-0.43, 0.44, -0.03], [0.68, 0.45, -0.03],
    [-0.68, 0.45, -0.03], [0.76, 0.44, -0.04], [-0.76, 0.44, -0.04]], dtype=np.float64)


def _uv_sphere(center, radii, n_lat: int = 6, n_lon: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """A closed ellipsoid mesh: vertices [n, 3], outward faces [m, 3]."""
    verts = [[0, radii[1], 0]]
    for i in range(1, n_lat):
        theta = math.pi * i / n_lat
        for j in range(n_lon):
            phi = 2 * math.pi * j / n_lon
            verts.append([radii[0] * math.sin(theta) * math.cos(phi), radii[1] * math.cos(theta),
                          radii[2] * math.sin(theta) * math.sin(phi)])
    verts.append([0, -radii[1], 0])
    faces = []
    ring = lambda i, j: 1 + (i - 1) * n_lon + j % n_lon  # noqa: E731
    for j in range(n_lon):
        faces.append([0, ring(1, j + 1), ring(1, j)])
        faces.append([len(verts) - 1, ring(n_lat - 1, j), ring(n_lat - 1, j + 1)])
    for i in range(1, n_lat - 1):
        for j in range(n_lon):
            a, b, c, d = ring(i, j), ring(i, j + 1), ring(i + 1, j), ring(i + 1, j + 1)
            faces += [[a, b, d], [a, d, c]]
    return np.asarray(verts) + np.asarray(center), np.asarray(faces, dtype=np.int64)


def procedural_body(num_betas: int = NUM_BETAS_DEFAULT, seed: int = 0, dtype: torch.dtype = torch.float32) -> BodyModel:
    """A body in SMPL layout built from one ellipsoid per bone (24 joints, SMPL's tree): skinning weights fall
    off with distance to the joints, the joint regressor averages each part's vertices, a few smooth shape
    directions (height, girth, limb length, ...) and small pose correctives. Deterministic per seed."""
    rng = np.random.default_rng(seed)
    parts_v, parts_f, owner, offset = [], [], [], 0
    for j, p in enumerate(SMPL_PARENTS):
        a = _JOINTS[j]
        b = _JOINTS[j] if p < 0 else _JOINTS[p]
        center = (a + b) / 2 if p >= 0 else a
        length = float(np.linalg.norm(a - b)) if p >= 0 else 0.1
        thick = 0.11 if j in (0, 3, 6, 9) else (0.09 if j in (12, 15) else 0.05)
        v, f = _uv_sphere(center, (thick, max(length / 2 + 0.03, thick), thick))
        parts_v.append(v)
        parts_f.append(f + offset)
        owner += [j] * len(v)
        offset += len(v)
    v_template = np.concatenate(parts_v)
    faces = np.concatenate(parts_f)
    owner = np.asarray(owner)
    V, J = len(v_template), len(SMPL_PARENTS)
    J_regressor = np.zeros((J, V))
    for j in range(J):
        J_regressor[j, owner == j] = 1.0 / (owner == j).sum()
    joints = J_regressor @ v_template
    d2 = ((v_template[:, None] - joints[None]) ** 2).sum(-1)
    weights = np.exp(-d2 / 0.01)
    weights[np.arange(V), owner] += 1.0  # each part follows its own joint most
    weights /= weights.sum(1, keepdims=True)
    y = v_template[:, 1:2]
    dirs = [np.concatenate([np.zeros_like(y), y, np.zeros_like(y)], 1),  # height
            np.concatenate([v_template[:, :1], np.zeros_like(y), v_template[:, 2:]], 1) * 0.3]  # girth
    while len(dirs) < num_betas:
        dirs.append(rng.normal(size=(V, 3)) * 0.005)
    shapedirs = np.stack(dirs[:num_betas], axis=-1)  # [V, 3, S]
    posedirs = rng.normal(size=(9 * (J - 1), V * 3)) * 1e-3
    t = lambda a: torch.as_tensor(a, dtype=dtype)  # noqa: E731
    return BodyModel(t(v_template), torch.as_tensor(faces), t(shapedirs), t(posedirs), t(J_regressor),
                     torch.as_tensor(SMPL_PARENTS), t(weights))


# Per-image pose parameters (the pose-conditional dataset format): betas | 24 axis-angle rotations | translation.
NUM_BETAS = 10
POSE_PARAMS_DIM = NUM_BETAS + 72 + 3


def split_pose_params(params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """[..., 85] -> betas [..., 10], pose [..., 24, 3] (axis-angle, root first), transl [..., 3]."""
    if params.shape[-1] != POSE_PARAMS_DIM:
        raise ValueError(f"pose parameters must have {POSE_PARAMS_DIM} values, got {params.shape[-1]}")
    lead = params.shape[:-1]
    return params[..., :NUM_BETAS], params[..., NUM_BETAS:NUM_BETAS + 72].reshape(*lead, 24, 3), params[..., -3:]


def join_pose_params(betas: torch.Tensor, pose: torch.Tensor, transl: torch.Tensor) -> torch.Tensor:
    """The inverse of split_pose_params: betas [..., 10], pose [..., 24, 3], transl [..., 3] -> [..., 85]."""
    return torch.cat([betas, pose.reshape(*pose.shape[:-2], 72), transl], dim=-1)


# Plausible joint ranges (radians) per SMPL joint for random poses: (axis, low, high) triples.
_POSE_RANGES = {
    1: [(0, -0.9, 0.4), (2, 0.0, 0.3)], 2: [(0, -0.9, 0.4), (2, -0.3, 0.0)],  # hips: swing fore/aft, outwards
    4: [(0, 0.0, 1.2)], 5: [(0, 0.0, 1.2)],  # knees bend backwards only
    3: [(0, -0.2, 0.3)], 6: [(0, -0.1, 0.2)], 9: [(0, -0.1, 0.2)],  # spine
    12: [(0, -0.3, 0.3), (1, -0.4, 0.4)], 15: [(0, -0.2, 0.2)],  # neck, head
    16: [(2, -1.2, 0.3), (1, -0.5, 0.5)], 17: [(2, -0.3, 1.2), (1, -0.5, 0.5)],  # shoulders: arms down .. raised
    18: [(1, -1.5, 0.0)], 19: [(1, 0.0, 1.5)],  # elbows bend one way
}


def random_body_poses(n: int, generator: torch.Generator) -> torch.Tensor:
    """n plausible random poses [n, 24, 3] (axis-angle; root identity: the caller adds the global rotation)."""
    pose = torch.zeros(n, 24, 3, dtype=torch.float64)
    for joint, ranges in _POSE_RANGES.items():
        for axis, lo, hi in ranges:
            pose[:, joint, axis] = lo + (hi - lo) * torch.rand(n, generator=generator, dtype=torch.float64)
    return pose.float()
