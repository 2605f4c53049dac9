"""Posed bodies as the pose-conditional generator and discriminator read them.

Per-image pose parameters (the dataset format, docs/conditional.md#data-format) are posed through a body model once per
batch into a `PosedBody`: world-space vertices and faces (for the mesh signed distance), the per-vertex blended
transforms and the root transform (for inverse LBS), betas and joint angles (for the deformation field and the
discriminator's conditioning). Shapes: B bodies, V vertices, F faces, J joints, S betas.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, fields
from pathlib import Path

import torch

from op3d.conditioning.body_model import BodyModel, lbs, split_pose_params
from op3d.conditioning.inverse_lbs import inverse_transform_table
from op3d.conditioning.mesh_index import MeshIndex, resolve_method

CAMERA_DIM = 25


@dataclass
class PosedBody:
    """vertices [B, V, 3] (world), faces [F, 3], vertex_transforms [B, V, 4, 4] (rest -> world, incl. transl),
    root_transform [B, 4, 4] (the root joint's rest -> world), betas [B, S], rot [B, J, 3, 3] local rotations."""

    vertices: torch.Tensor
    faces: torch.Tensor
    vertex_transforms: torch.Tensor
    root_transform: torch.Tensor
    betas: torch.Tensor
    rot: torch.Tensor

    def __len__(self) -> int:
        return self.vertices.shape[0]

    def select(self, index) -> PosedBody:
        """The bodies at `index` (int, slice or index tensor) along the batch; faces and the mesh structures
        already built for the selected bodies are shared."""
        pick = (lambda t: t[index:index + 1]) if isinstance(index, int) else (lambda t: t[index])
        out = PosedBody(**{f.name: getattr(self, f.name) if f.name == "faces" else pick(getattr(self, f.name))
                           for f in fields(self)})
        built = self.__dict__.get("_mesh_index")
        if built is not None:
            rows = pick(torch.arange(len(self), device=self.vertices.device))
            out.__dict__["_mesh_index"] = built.select(rows)
        if "_inverse_table" in self.__dict__:
            out.__dict__["_inverse_table"] = pick(self.__dict__["_inverse_table"])
        return out

    def to(self, device) -> PosedBody:
        return PosedBody(**{f.name: getattr(self, f.name).to(device) for f in fields(self)})

    def mesh_index(self) -> MeshIndex:
        """The bodies' mesh-query structures (`MeshIndex`, method "auto"), validated and built once and then
        shared by every query on these bodies (render chunks, regularization points, selections)."""
        built = self.__dict__.get("_mesh_index")
        if built is None or built.method != resolve_method("auto", self.vertices.device):
            built = MeshIndex(self.vertices, self.faces)
            self.__dict__["_mesh_index"] = built
        return built

    def inverse_transform_table(self) -> torch.Tensor:
        """[B, V + 1, 12]: the inverse blended transforms of the vertices and the root's (3 x 4 rows), computed
        once per bodies (`op3d.conditioning.inverse_lbs.inverse_transform_table`) for every inverse-LBS query."""
        built = self.__dict__.get("_inverse_table")
        if built is None:
            built = inverse_transform_table(self.vertex_transforms, self.root_transform)
            self.__dict__["_inverse_table"] = built
        return built

    def joint_angles(self) -> torch.Tensor:
        """[B, 3 (J - 1)]: x-y-z Euler angles of the non-root joints' local rotations, OP3D's pose features."""
        return rotation_to_euler_xyz(self.rot[:, 1:]).reshape(len(self), -1)


def rotation_to_euler_xyz(R: torch.Tensor) -> torch.Tensor:
    """[..., 3, 3] -> [..., 3] angles (a, b, c) with R = Rz(c) Ry(b) Rx(a) (OP3D's atan2 formulas)."""
    a = torch.atan2(R[..., 2, 1], R[..., 2, 2])
    b = torch.atan2(-R[..., 2, 0], torch.sqrt(R[..., 2, 1] ** 2 + R[..., 2, 2] ** 2))
    c = torch.atan2(R[..., 1, 0], R[..., 0, 0])
    return torch.stack([a, b, c], dim=-1)


def _translate(T: torch.Tensor, transl: torch.Tensor) -> torch.Tensor:
    """Prepend a translation to transforms T [B, ..., 4, 4]: transl [B, 3]."""
    out = T.clone()
    shape = (transl.shape[0],) + (1,) * (T.dim() - 3) + (3,)
    out[..., :3, 3] = out[..., :3, 3] + transl.reshape(shape)
    return out


def pose_bodies(model: BodyModel, params: torch.Tensor) -> PosedBody:
    """Pose parameters [B, 85] (betas 10 | pose 72 axis-angle | transl 3) -> PosedBody in world coordinates."""
    betas, pose, transl = split_pose_params(params.to(model.v_template.dtype))
    out = lbs(model, betas, pose, transl)
    return PosedBody(vertices=out["vertices"], faces=model.faces,
                     vertex_transforms=_translate(out["T"], transl),
                     root_transform=_translate(out["transforms"][:, 0], transl), betas=betas, rot=out["rot"])


def pose_condition(c: torch.Tensor, body: PosedBody) -> torch.Tensor:
    """The pose-conditional discriminator's label: camera [B, 25] + betas [B, S] + joint angles [B, 3 (J-1)]
    (OP3D: 25 + 10 + 69 = 104)."""
    return torch.cat([c, body.betas.to(c.dtype), body.joint_angles().to(c.dtype)], dim=1)


def condition_dim(num_betas: int = 10, num_joints: int = 24) -> int:
    return CAMERA_DIM + num_betas + 3 * (num_joints - 1)


SMPL_HINT = ("SMPL model files are licensed and not bundled: register at https://smpl.is.tue.mpg.de, download "
             "SMPL_NEUTRAL.pkl (or a converted .npz) and pass its path, or use the built-in 'procedural' body")


@functools.lru_cache(maxsize=4)
def _cached_body_model(spec: str, device: str) -> BodyModel:
    from op3d.conditioning.body_model import load_body_model, procedural_body

    if spec == "procedural":
        return procedural_body(num_betas=10).to(device=torch.device(device))
    if spec == "smpl":
        raise FileNotFoundError(f"this network's poses are SMPL poses: pass --body-model PATH/TO/SMPL_NEUTRAL.pkl. "
                                f"{SMPL_HINT}")
    path = Path(spec).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"body model {spec}: no such file. {SMPL_HINT}")
    return load_body_model(path).to(device=torch.device(device))


def body_model_from_spec(spec: str, device="cpu") -> BodyModel:
    """'procedural' (the built-in body) or a path to an SMPL-layout .pkl / .npz; cached per (spec, device)."""
    return _cached_body_model(str(spec), str(torch.device(device)))


def check_body_model(dataset, spec: str) -> None:
    """Poses made for the procedural body cannot drive SMPL and vice versa (dataset.json's "body_model")."""
    declared = getattr(dataset, "body_model", None)
    if declared == "procedural" and spec != "procedural":
        raise ValueError(f"{dataset.path}: poses are for the built-in procedural body; use --body-model procedural")
    if declared == "smpl" and spec == "procedural":
        raise ValueError(f"{dataset.path}: poses are for SMPL; pass --body-model PATH/TO/SMPL_NEUTRAL.pkl. {SMPL_HINT}")


def load_pose_file(path) -> torch.Tensor:
    """A pose JSON file -> pose parameters [85]: {"betas": [<= 10], "pose": [72] (or 24 x 3) axis-angle,
    "transl": [3]} (betas and transl optional, zeros when absent), or {"params": [85]}."""
    import json

    from op3d.conditioning.body_model import NUM_BETAS, POSE_PARAMS_DIM, join_pose_params

    try:
        spec = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise ValueError(f"{path}: unreadable pose file ({str(e)[:80] or 'nested too deeply'})") from None
    if not isinstance(spec, dict):
        raise ValueError(f"{path}: expected a JSON object with 'pose' (72 values) or 'params' (85 values)")
    try:
        if "params" in spec:
            params = torch.as_tensor(spec["params"], dtype=torch.float64).reshape(-1)
            if params.numel() != POSE_PARAMS_DIM:
                raise ValueError(f"'params' has {params.numel()} values, expected {POSE_PARAMS_DIM}")
        else:
            if "pose" not in spec:
                raise ValueError("missing 'pose' (72 axis-angle values, root first)")
            pose = torch.as_tensor(spec["pose"], dtype=torch.float64).reshape(-1)
            if pose.numel() != 72:
                raise ValueError(f"'pose' has {pose.numel()} values, expected 72 (24 joints x 3)")
            betas = torch.zeros(NUM_BETAS, dtype=torch.float64)
            given = torch.as_tensor(spec.get("betas", []), dtype=torch.float64).reshape(-1)
            if given.numel() > NUM_BETAS:
                raise ValueError(f"'betas' has {given.numel()} values, at most {NUM_BETAS} are used")
            betas[:given.numel()] = given
            transl = torch.as_tensor(spec.get("transl", [0.0, 0.0, 0.0]), dtype=torch.float64).reshape(-1)
            if transl.numel() != 3:
                raise ValueError(f"'transl' has {transl.numel()} values, expected 3")
            params = join_pose_params(betas, pose.reshape(24, 3), transl)
    except (TypeError, RuntimeError) as e:
        raise ValueError(f"{path}: pose values must be numbers ({str(e).splitlines()[0]})") from None
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    from op3d.data.dataset import MAX_VALUE

    if not torch.isfinite(params.float()).all():  # after the cast: 1e39 is inf in float32
        raise ValueError(f"{path}: pose contains NaN, inf or a value beyond float32's range")
    if params.abs().max() > MAX_VALUE:
        raise ValueError(f"{path}: pose has a value of {float(params.abs().max()):.3g} (more than {MAX_VALUE:g} in "
                         "magnitude: not a pose)")
    return params.float()
