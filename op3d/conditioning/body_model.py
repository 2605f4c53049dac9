"""SMPL-layout body models: loading (.npz, or SMPL .pkl files read without chumpy), linear blend skinning,
and a procedural body in SMPL layout so the pose-conditional branch runs without licensed files.

Shapes: V vertices, F faces, J joints (24 for SMPL), S shape coefficients, P = 9 (J - 1) pose features.
"""
from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from op3d.conditioning.mesh_index import check_mesh

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


def matrix_to_axis_angle(R: torch.Tensor) -> torch.Tensor:
    """Rotation matrices [..., 3, 3] -> axis-angle [..., 3] (angle in [0, pi]), through the quaternion built
    from the largest of its four components (Shepperd): accurate at every angle, pi included."""
    m = R
    tr = m[..., 0, 0] + m[..., 1, 1] + m[..., 2, 2]
    diag = torch.stack([1 + tr, 1 + 2 * m[..., 0, 0] - tr, 1 + 2 * m[..., 1, 1] - tr, 1 + 2 * m[..., 2, 2] - tr], -1)
    k = diag.argmax(-1, keepdim=True)  # [..., 1]: which of w, x, y, z is largest
    big = diag.clamp_min(0).sqrt().gather(-1, k) / 2  # [..., 1]
    s1, s2, s3 = m[..., 2, 1] - m[..., 1, 2], m[..., 0, 2] - m[..., 2, 0], m[..., 1, 0] - m[..., 0, 1]
    a1, a2, a3 = m[..., 0, 1] + m[..., 1, 0], m[..., 0, 2] + m[..., 2, 0], m[..., 1, 2] + m[..., 2, 1]
    # 4 x (the quaternion times its largest component), for each choice of that component
    cand = torch.stack([torch.stack([diag[..., 0], s1, s2, s3], -1), torch.stack([s1, diag[..., 1], a1, a2], -1),
                        torch.stack([s2, a1, diag[..., 2], a3], -1), torch.stack([s3, a2, a3, diag[..., 3]], -1)], -2)
    q = cand.gather(-2, k[..., None].expand(*k.shape[:-1], 1, 4)).squeeze(-2) / (4 * big)
    q = q * torch.where(q[..., :1] < 0, -1.0, 1.0)  # w >= 0: the angle is in [0, pi]
    vec_norm = q[..., 1:].norm(dim=-1, keepdim=True)
    angle = 2 * torch.atan2(vec_norm, q[..., :1])
    scale = torch.where(vec_norm > 1e-12, angle / vec_norm.clamp_min(1e-12), 2 / q[..., :1].clamp_min(1e-12))
    return q[..., 1:] * scale


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

    Returns vertices [B, V, 3], joints [B, J, 3], transforms [B, J, 4, 4] (A), rot [B, J, 3, 3], the
    per-vertex blended transforms T [B, V, 4, 4] and the shaped rest vertices v_shaped [B, V, 3].
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
    return {"vertices": verts, "joints": posed_joints, "transforms": A, "rot": rot, "T": T, "v_shaped": v_shaped}


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


SMPL_JOINTS = 24


def _layout_problem(arr: dict[str, np.ndarray]) -> str | None:
    """What is wrong with SMPL arrays (None if nothing): names the field and the expected shape."""
    V = arr["v_template"].shape[0] if arr["v_template"].ndim == 2 else -1
    if arr["v_template"].ndim != 2 or arr["v_template"].shape[1] != 3 or V == 0:
        return f"v_template must be [V, 3] with V > 0, got {arr['v_template'].shape}"
    kintree = arr["kintree_table"]
    if kintree.ndim != 2 or kintree.shape[0] != 2:
        return f"kintree_table must be [2, J], got {kintree.shape}"
    J = kintree.shape[1]
    if J != SMPL_JOINTS:
        return (f"kintree_table has {J} joints; op3d reads SMPL's {SMPL_JOINTS}-joint layout (SMPL-H has 52, "
                "SMPL-X 55): use SMPL_NEUTRAL/MALE/FEMALE.pkl")
    expected = {"f": (None, 3), "shapedirs": (V, 3, None), "posedirs": (V, 3, 9 * (J - 1)),
                "J_regressor": (J, V), "weights": (V, J)}
    for key, shape in expected.items():
        a = arr[key]
        if a.ndim != len(shape) or any(e is not None and e != n for e, n in zip(shape, a.shape)) or a.size == 0:
            want = ", ".join("*" if e is None else str(e) for e in shape)
            return f"{key} must be [{want}] for {V} vertices and {J} joints, got {a.shape}"
    for key in ("v_template", "shapedirs", "posedirs", "J_regressor", "weights"):
        if not np.isfinite(arr[key]).all():
            return f"{key} contains NaN or inf"
    parents = kintree[0].astype(np.int64)
    if any(not (-1 <= int(p) < j) for j, p in enumerate(parents[1:], start=1)):
        return "kintree_table: every joint's parent must come before it"
    return None


def load_body_model(path: str | os.PathLike, dtype: torch.dtype = torch.float32) -> BodyModel:
    """Read an SMPL-layout model from .npz or .pkl (chumpy/scipy objects are read as data, never imported).
    The whole layout is validated once here: ValueError naming the file and the field."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: body model not found; pass an SMPL .pkl/.npz (from smpl.is.tue.mpg.de, "
                                "licensed) or use op3d's procedural body")
    try:
        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as z:
                data = {k: z[k] for k in z.files}
        else:
            from op3d.io.legacy_pickle import read_legacy_pickle

            data = read_legacy_pickle(path)
    except (OSError, EOFError, ValueError, zipfile.BadZipFile) as e:  # EOFError would reach click as "Aborted."
        raise ValueError(f"{path}: not a readable body model file ({str(e).splitlines()[0][:80] or 'empty'})") \
            from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not an SMPL model file (expected a dict of arrays)")
    missing = [k for k in ("v_template", "f", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table")
               if k not in data]
    if missing:
        raise ValueError(f"{path}: not an SMPL-layout model, missing {', '.join(missing)}")
    arr = {}
    for k in ("v_template", "f", "shapedirs", "posedirs", "J_regressor", "weights", "kintree_table"):
        try:
            arr[k] = np.asarray(_dense(data[k]), dtype=np.float64)
        except (TypeError, ValueError, IndexError) as e:
            raise ValueError(f"{path}: {k} is not a numeric array ({str(e).splitlines()[0][:80]})") from None
    problem = _layout_problem(arr)
    if problem is not None:
        raise ValueError(f"{path}: {problem}")
    posedirs = arr["posedirs"].reshape(-1, arr["posedirs"].shape[-1]).T  # [P, V*3]
    parents = arr["kintree_table"][0].astype(np.int64)
    parents[0] = -1
    t = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float64), dtype=dtype)  # noqa: E731
    faces = torch.as_tensor(arr["f"].astype(np.int64))
    try:  # the mesh signed distance needs a closed mesh: say so at load, naming the file
        check_mesh(t(arr["v_template"])[None], faces)
    except ValueError as e:
        raise ValueError(f"{path}: template mesh: {e}") from None
    return BodyModel(t(arr["v_template"]), faces, t(arr["shapedirs"]),
                     t(posedirs), t(arr["J_regressor"]), torch.as_tensor(parents), t(arr["weights"]))


# Rest joint positions of the procedural body (metres, y up), loosely SMPL's T-pose.
NUM_BETAS_DEFAULT = 10

_JOINTS = np.array([
    [0, 0, 0], [0.06, -0.09, 0], [-0.06, -0.09, 0], [0, 0.11, -0.02], [0.11, -0.48, 0], [-0.11, -0.48, 0],
    [0, 0.24, -0.01], [0.1, -0.88, -0.04], [-0.1, -0.88, -0.04], [0, 0.29, 0.01], [0.12, -0.93, 0.1],
    [-0.12, -0.93, 0.1], [0, 0.5, -0.01], [0.08, 0.41, -0.01], [-0.08, 0.41, -0.01], [0, 0.6, 0.04],
    [0.18, 0.45, -0.02], [-0.18, 0.45, -0.02], [0.43, 0.44, -0.03], [-0.43, 0.44, -0.03], [0.68, 0.45, -0.03],
    [-0.68, 0.45, -0.03], [0.76, 0.44, -0.04], [-0.76, 0.44, -0.04]], dtype=np.float64)


# The procedural body's bones: (joint, end point, radius at the joint, radius at the end). A joint's bone runs
# to its child (its rotation moves that segment, as in SMPL); leaf bones extend past the joint; extra rows widen
# the hips and shoulders.
def _bones() -> list[tuple[int, np.ndarray, float, float]]:
    J = _JOINTS
    return [(0, J[3], 0.12, 0.12), (0, J[1], 0.1, 0.09), (0, J[2], 0.1, 0.09), (3, J[6], 0.12, 0.12),
            (6, J[9], 0.12, 0.13), (9, J[12], 0.1, 0.06), (9, J[13], 0.09, 0.07), (9, J[14], 0.09, 0.07),
            (1, J[4], 0.08, 0.055), (2, J[5], 0.08, 0.055), (4, J[7], 0.055, 0.045), (5, J[8], 0.055, 0.045),
            (7, J[10], 0.045, 0.04), (8, J[11], 0.045, 0.04), (10, J[10] + [0, 0, 0.06], 0.04, 0.035),
            (11, J[11] + [0, 0, 0.06], 0.04, 0.035), (12, J[15], 0.055, 0.055),
            (15, J[15] + [0, 0.14, 0.01], 0.1, 0.09), (13, J[16], 0.07, 0.065), (14, J[17], 0.07, 0.065),
            (16, J[18], 0.06, 0.045), (17, J[19], 0.06, 0.045), (18, J[20], 0.045, 0.038),
            (19, J[21], 0.045, 0.038), (20, J[22], 0.038, 0.035), (21, J[23], 0.038, 0.035),
            (22, J[22] + [0.09, 0, 0], 0.04, 0.03), (23, J[23] - [0.09, 0, 0], 0.04, 0.03)]


def _segment_distance(x: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance [N] from points x [N, 3] to the segment a-b and the position t [N] in [0, 1] along it."""
    ab = b - a
    t = np.clip(((x - a) @ ab) / max(float(ab @ ab), 1e-12), 0.0, 1.0)
    return np.linalg.norm(x - (a + t[:, None] * ab), axis=1), t


def _body_field(x: np.ndarray, blend: float = 0.03) -> np.ndarray:
    """Implicit body [N]: smooth union (polynomial smooth minimum) of tapered capsules, negative inside."""
    out = None
    for j, end, r0, r1 in _bones():
        d, t = _segment_distance(x, _JOINTS[j], np.asarray(end, dtype=np.float64))
        f = d - (r0 + (r1 - r0) * t)
        if out is None:
            out = f
        else:
            h = np.clip(0.5 + 0.5 * (f - out) / blend, 0.0, 1.0)
            out = f * (1 - h) + out * h - blend * h * (1 - h)
    return out


def _surface(spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Marching cubes of the implicit body: a closed, consistently outward-wound manifold (vertices, faces)."""
    try:
        from skimage.measure import marching_cubes
    except ImportError as e:
        raise ImportError("the procedural body needs scikit-image: pip install 'op3d[body]'") from e
    lo, hi = np.array([-1.0, -1.1, -0.3]), np.array([1.0, 0.9, 0.35])
    axes = [np.arange(lo[i], hi[i] + spacing, spacing) for i in range(3)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), -1)
    field = _body_field(grid.reshape(-1, 3)).reshape(grid.shape[:3])
    verts, faces, _, _ = marching_cubes(field, level=0.0, spacing=(spacing,) * 3)
    verts = verts + lo
    tri = verts[faces]
    volume = np.einsum("fi,fi->f", tri[:, 0], np.cross(tri[:, 1], tri[:, 2])).sum() / 6
    return verts, (faces if volume > 0 else faces[:, ::-1]).astype(np.int64)


def procedural_body(num_betas: int = NUM_BETAS_DEFAULT, seed: int = 0, dtype: torch.dtype = torch.float32,
                    spacing: float = 0.03) -> BodyModel:
    """A body in SMPL layout (24 joints, SMPL's tree): one closed surface (marching cubes of a smooth union of
    tapered capsules, `spacing` metres apart), skinning weights falling off with distance to each joint's bone,
    a joint regressor averaging the vertices nearest each joint, shape directions (height, girth, smooth random
    local girths) and small smooth pose correctives. Deterministic per seed."""
    rng = np.random.default_rng(seed)
    v_template, faces = _surface(spacing)
    V, J = len(v_template), len(SMPL_PARENTS)
    dist = np.full((V, J), np.inf)
    radial = np.zeros((V, 3))
    best = np.full(V, np.inf)
    for j, end, _, _ in _bones():
        a, b = _JOINTS[j], np.asarray(end, dtype=np.float64)
        d, t = _segment_distance(v_template, a, b)
        dist[:, j] = np.minimum(dist[:, j], d)
        closer = d < best
        radial[closer] = (v_template - (a + t[:, None] * (b - a)))[closer]
        best = np.minimum(best, d)
    weights = np.exp(-(dist - dist.min(1, keepdims=True)) / 0.015)
    weights[weights < 1e-3] = 0
    weights /= weights.sum(1, keepdims=True)
    J_regressor = np.zeros((J, V))
    near = np.argsort(np.linalg.norm(v_template[None] - _JOINTS[:, None], axis=2), axis=1)[:, :20]
    np.put_along_axis(J_regressor, near, 1.0 / 20, axis=1)
    y = v_template[:, 1:2]
    # per unit coefficient (SMPL's betas are roughly standard normal): 6% height, 15% girth, ~10% local girths
    dirs = [np.concatenate([np.zeros_like(y), y * 0.06, np.zeros_like(y)], 1), radial * 0.15]
    while len(dirs) < num_betas:
        dirs.append(radial * (weights @ rng.normal(size=J))[:, None] * 0.1)
    shapedirs = np.stack(dirs[:num_betas], axis=-1)  # [V, 3, S]
    corrective = weights @ rng.normal(size=(J, 9 * (J - 1))) * 0.02  # [V, P]
    posedirs = (radial[None] * corrective.T[..., None]).reshape(9 * (J - 1), V * 3)
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
