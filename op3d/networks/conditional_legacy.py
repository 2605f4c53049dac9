"""The released pose-conditional OP3D generator, reproduced as shipped (`training/kaolin_version.py`'s
TriMultiPlaneGenerator, the class of OP3D's SHHQ model), so its checkpoint renders as it did for its authors.

op3d's own `ConditionalGenerator` is what that code intended; this class keeps every quirk the released weights
were trained with:

- rays are turned by pi about x (`ray @ Rotation.from_euler('xyz', [pi, 0, 0])`, i.e. y and z negated) and sampled
  between the fixed depths 2.55 and 2.95 whatever the rendering_kwargs say; the colour is always composited on
  white, at the samples (not interval midpoints; `ray_march_samples`);
- a point p becomes x = (2 / box_warp) R p - (0, 0.15, 0); inverse LBS blends the *inverted* joint transforms
  with the nearest posed vertex's skinning weights (sum_j w_j A_j^-1) and falls back to the root's inverse when
  the nearest vertex's *squared* distance is 0.1 or more; the canonical point is scaled as (x / 1.2,
  (y + 0.3) / 1.2, z) (z unscaled);
- the body term of the SDF is the *squared* point-to-mesh distance with the inside sign (kaolin's
  point_to_mesh_distance returns squared distances), without gradient; sdf = decoder sigma + that term, and the
  coarse samples carry it twice in the final composite (added before the coarse weights and again after merging);
- the deformation offset (`DeformationField`, FiLM-sine) is conditioned on betas, x-y-z Euler angles of the 23
  non-root joint rotations and the last w; features are trilinear samples of the K planes per axis with
  align_corners=True and border padding; the decoder has three hidden Softplus layers;
- density = sigmoid(-sdf / beta) / beta with beta = |beta| + 1e-4 (`SDFDensity`).

Per-image pose inputs are the released code's "real_conditions" (`LegacyBody`), built from pose parameters as
OP3D's train_scripts/export_pose.py builds them (`legacy_body`). Shapes: B bodies, V vertices, J joints.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import torch
import torch.nn.functional as F
from torch import nn

from op3d.conditioning.body_model import BodyModel, lbs, split_pose_params
from op3d.conditioning.inverse_lbs import apply_table_rows, transform_table
from op3d.conditioning.mesh_index import MeshIndex
from op3d.conditioning.mesh_sdf import mesh_sdf
from op3d.conditioning.posed import rotation_to_euler_xyz
from op3d.networks.conditional import DeformationField, SDFDensity
from op3d.networks.decoder import OSGDecoder
from op3d.networks.generator import Generator
from op3d.rendering.marcher import ray_march_samples
from op3d.rendering.samplers import importance_depths, merge_samples, stratified_depths

RAY_RANGE = (2.55, 2.95)  # kaolin_version.TriImportanceRenderer.forward, both branches
RAY_FLIP = (1.0, -1.0, -1.0)  # Rotation.from_euler('xyz', [pi, 0, 0]) applied to row vectors
Y_SHIFT = 0.15  # coordinates[..., 1] -= 0.15 after scaling by 2 / box_warp
LBS_THRESHOLD2 = 0.1  # on pytorch3d knn_points' squared distance
CANONICAL_SCALE, CANONICAL_Y = 1.2, 0.3  # x / 1.2, (y + 0.3) / 1.2, z as is
FEATURES = 32  # _Feature_dim
NUM_BETAS = 10


@dataclass
class LegacyBody:
    """The released code's real_conditions for B bodies: vertices [B, V, 3] (its canonical-turned frame), faces
    [F, 3], fk_matrices [B, J, 4, 4] (cano @ A), lbs_weights [V, J], full_pose [B, J, 3, 3] local rotations,
    body_shape [B, 10] betas."""

    vertices: torch.Tensor
    faces: torch.Tensor
    fk_matrices: torch.Tensor
    lbs_weights: torch.Tensor
    full_pose: torch.Tensor
    body_shape: torch.Tensor

    SHARED = ("faces", "lbs_weights")

    def __len__(self) -> int:
        return self.vertices.shape[0]

    def select(self, index) -> LegacyBody:
        """The bodies at `index` (int, slice or index tensor)."""
        pick = (lambda t: t[index:index + 1]) if isinstance(index, int) else (lambda t: t[index])
        return LegacyBody(**{f.name: getattr(self, f.name) if f.name in self.SHARED else pick(getattr(self, f.name))
                             for f in fields(self)})

    def to(self, device) -> LegacyBody:
        return LegacyBody(**{f.name: getattr(self, f.name).to(device) for f in fields(self)})

    def mesh_index(self) -> MeshIndex:
        """Nearest-vertex and closest-face structures of the posed vertices, built once."""
        built = self.__dict__.get("_mesh_index")
        if built is None:
            built = self.__dict__["_mesh_index"] = MeshIndex(self.vertices, self.faces)
        return built

    def inverse_transform_table(self) -> torch.Tensor:
        """[B, V + 1, 12]: sum_j w_vj fk_j^-1 per vertex and the root's fk^-1 last (3 x 4 rows, float32; the table
        of `op3d.conditioning.inverse_lbs.apply_table_rows`), as the released inverse LBS blends the *inverted*
        joint transforms; computed once per bodies, not per chunk of points."""
        built = self.__dict__.get("_inverse_table")
        if built is None:
            inv_fk = torch.linalg.inv(self.fk_matrices.float())
            blended = torch.einsum("vj,bjkl->bvkl", self.lbs_weights.float(), inv_fk)
            built = transform_table(blended, inv_fk[:, 0])
            self.__dict__["_inverse_table"] = built
        return built


def legacy_body(model: BodyModel, params: torch.Tensor) -> LegacyBody:
    """Pose parameters [B, 85] (betas | 72 axis-angle | transl) -> the released code's real_conditions, as
    OP3D's export_pose.py makes them from SMPL's outputs: cano = [R_x(pi) R_root^T | 0], fk = cano A (A: the
    skinning transforms, rest joints removed), vertices = sum_j w_j fk_j applied to the shaped rest vertices
    (no pose correctives, transl unused: the root's rotation and position are removed)."""
    betas, pose, _ = split_pose_params(params.to(model.v_template.dtype))
    out = lbs(model, betas, pose)
    flip = torch.tensor(RAY_FLIP, dtype=betas.dtype, device=betas.device)
    cano = torch.zeros(len(betas), 4, 4, dtype=betas.dtype, device=betas.device)
    cano[:, :3, :3] = flip[:, None] * out["rot"][:, 0].transpose(1, 2)
    cano[:, 3, 3] = 1
    fk = cano[:, None] @ out["transforms"]
    T = torch.einsum("vj,bjkl->bvkl", model.weights, fk)
    vertices = (T[..., :3, :3] @ out["v_shaped"].unsqueeze(-1)).squeeze(-1) + T[..., :3, 3]
    return LegacyBody(vertices=vertices, faces=model.faces, fk_matrices=fk, lbs_weights=model.weights,
                      full_pose=out["rot"], body_shape=betas[:, :NUM_BETAS])


def _to_plane_box(x: torch.Tensor) -> torch.Tensor:
    scale = torch.tensor((1 / CANONICAL_SCALE, 1 / CANONICAL_SCALE, 1.0), dtype=x.dtype, device=x.device)
    return (x + torch.tensor((0.0, CANONICAL_Y, 0.0), dtype=x.dtype, device=x.device)) * scale


def legacy_canonical(x: torch.Tensor, body: LegacyBody) -> torch.Tensor:
    """Released inverse LBS: points x [B, P, 3] (scaled frame) -> canonical plane coordinates [B, P, 3]."""
    with torch.no_grad():
        near = body.mesh_index().nearest_vertices(x, max_distance=LBS_THRESHOLD2 ** 0.5)  # -1: none within
        v = torch.gather(body.vertices.to(x.dtype), 1, near.clamp_min(0).unsqueeze(-1).expand(-1, -1, 3))
        far = (near < 0) | ((x - v).square().sum(-1) >= LBS_THRESHOLD2)
    return _to_plane_box(apply_table_rows(body.inverse_transform_table(), near.masked_fill(far, -1), x))


def sample_planes_border(planes: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """planes [B, K, 3, C, H, W] (op3d's layout), x [B, P, 3] in [-1, 1]^3 -> mean over the three axes of
    trilinear samples [B, P, C]: axis 0 read at (x, y, z), axis 1 at (y, z, x), axis 2 at (z, x, y) as
    (width, height, plane index), align_corners=True, border padding (the released grid_sample_3d)."""
    stacks = planes.permute(0, 2, 3, 1, 4, 5)  # [B, 3, C, K, H, W]
    out = 0
    for axis, order in enumerate(((0, 1, 2), (1, 2, 0), (2, 0, 1))):
        grid = x[..., order].unsqueeze(1).unsqueeze(1).to(stacks.dtype)  # [B, 1, 1, P, 3]
        s = F.grid_sample(stacks[:, axis], grid, mode="bilinear", padding_mode="border", align_corners=True)
        out = out + s[:, :, 0, 0].transpose(1, 2)
    return out / 3


class LegacyConditionalGenerator(Generator):
    """G(z, c, body=LegacyBody) -> image, image_raw, image_depth and "sdf" [B, R, S, 1] (the composited field): the
    released pose-conditional OP3D generator (see the module docstring). Constructor arguments are the original
    class's (`planes` = K planes per axis; L = 10 and 256 x 256 planes fixed as there); body_model says which
    body model the poses belong to ("smpl" for the released SHHQ model). Not trainable in op3d.
    """

    def __init__(self, z_dim: int = 512, c_dim: int = 25, w_dim: int = 512, img_resolution: int = 512,
                 img_channels: int = 3, sr_num_fp16_res: int = 0, mapping_kwargs: dict | None = None,
                 rendering_kwargs: dict | None = None, sr_kwargs: dict | None = None, planes: int = 9,
                 body_model: str = "smpl", neural_rendering_resolution: int = 64, **synthesis_kwargs):
        for name in ("representation", "per_dir_plane_number", "fourier_L", "plane_resolution", "plane_channels"):
            synthesis_kwargs.pop(name, None)
        super().__init__(z_dim, c_dim, w_dim, img_resolution, img_channels, representation="orthoplanes",
                         per_dir_plane_number=planes, fourier_L=10, plane_resolution=256, plane_channels=FEATURES,
                         legacy_raw_alias=True, neural_rendering_resolution=neural_rendering_resolution,
                         sr_num_fp16_res=sr_num_fp16_res, mapping_kwargs=mapping_kwargs,
                         rendering_kwargs=rendering_kwargs, sr_kwargs=sr_kwargs, **synthesis_kwargs)
        self.body_model = body_model
        self.decoder = OSGDecoder(FEATURES, out_dim=FEATURES, hidden_layers=3,
                                  lr_multiplier=self.rendering_kwargs.get("decoder_lr_mul", 1))
        self.renderer = nn.Module()  # holds the deformation MLP under the original name renderer.deformation_decoder
        self.renderer.deformation_decoder = DeformationField(NUM_BETAS + 69 + w_dim, hidden=128, max_offset=0.3)
        self.density_func = SDFDensity(beta_init=0.01, beta_min=1e-4)

    def pose_bodies(self, model: BodyModel, params: torch.Tensor) -> LegacyBody:
        return legacy_body(model, params)

    def field(self, planes: torch.Tensor, impl: str = "auto", ws: torch.Tensor | None = None,
              body: LegacyBody | None = None):
        """points [B, P, 3] (op3d's world frame) -> rgb, sigma (density), sdf, residual (the decoder's sigma) and
        mesh_sdf (the signed squared distance term)."""
        if ws is None or not isinstance(body, LegacyBody):
            raise ValueError("the released pose-conditional generator needs ws and a LegacyBody (body=...)")
        box_warp = self.render_options.box_warp
        cond = torch.cat([body.body_shape.to(ws.dtype),
                          rotation_to_euler_xyz(body.full_pose[:, 1:, :3, :3]).reshape(len(body), -1).to(ws.dtype),
                          ws[:, -1]], dim=1)

        def evaluate(points: torch.Tensor, _directions) -> dict[str, torch.Tensor]:
            flip = torch.tensor(RAY_FLIP, dtype=points.dtype, device=points.device) * (2 / box_warp)
            x = points * flip - torch.tensor((0.0, Y_SHIFT, 0.0), dtype=points.dtype, device=points.device)
            with torch.no_grad():
                d = mesh_sdf(x, body.vertices.to(x.dtype), body.faces, index=body.mesh_index()).unsqueeze(-1)
            canonical = legacy_canonical(x, body)
            canonical = canonical + self.renderer.deformation_decoder(canonical, cond)
            out = self.decoder(sample_planes_border(planes, canonical))
            body_term = d * d.abs()
            sdf = out["sigma"] + body_term
            return {"rgb": out["rgb"], "sigma": self.density_func(sdf), "sdf": sdf, "residual": out["sigma"],
                    "mesh_sdf": body_term}

        return evaluate

    def _render(self, field, origins: torch.Tensor, dirs: torch.Tensor, deterministic: bool,
                generator: torch.Generator | None):
        """The released TriImportanceRenderer: features [B, R, C], depth [B, R, 1], sdf [B, R, S, 1]."""
        B, R, _ = origins.shape
        S, N = self.render_options.depth_resolution, self.render_options.depth_resolution_importance
        jitter = 0.5 if deterministic else torch.rand((B, R, S, 1), device=origins.device, generator=generator)
        depths = stratified_depths(*RAY_RANGE, B, R, S, jitter, device=origins.device,
                                   disparity_space=self.render_options.disparity_space_sampling)

        def run(d: torch.Tensor):  # -> colours, decoder sigma, body term, each [B, R, n, *]
            points = (origins.unsqueeze(-2) + d * dirs.unsqueeze(-2)).reshape(B, -1, 3)
            out = field(points, None)
            return tuple(out[k].reshape(B, R, d.shape[2], -1) for k in ("rgb", "residual", "mesh_sdf"))

        colors, residual, body_term = run(depths)
        sdf = residual + body_term
        if N > 0:
            _, _, weights = ray_march_samples(colors, self.density_func(sdf), depths)
            u = None if deterministic else torch.rand((B * R, N), device=origins.device, generator=generator)
            fine = importance_depths(depths, weights, N, u)
            colors_f, residual_f, body_f = run(fine)
            # as released: the coarse densities already hold their body term, and every merged sample gets its
            # body term added (again, for the coarse ones)
            depths, packed, sdf = merge_samples(depths, torch.cat([colors, body_term], -1), sdf,
                                                fine, torch.cat([colors_f, body_f], -1), residual_f)
            colors, sdf = packed[..., :-1], sdf + packed[..., -1:]
        rgb, depth, _ = ray_march_samples(colors, self.density_func(sdf), depths)
        return rgb, depth, sdf

    def render_rays(self, field, origins: torch.Tensor, dirs: torch.Tensor, deterministic: bool,
                    generator: torch.Generator | None, chunk: int | None, body=None
                    ) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """The released renderer over ray chunks; the extra output "sdf" [B, R, S, 1] is the composited field."""
        step = chunk or origins.shape[1]
        parts = [self._render(field, origins[:, i:i + step], dirs[:, i:i + step], deterministic, generator)
                 for i in range(0, origins.shape[1], step)]
        feats, depth, sdf = (torch.cat(p, dim=1) for p in zip(*parts))
        return feats, depth, {"sdf": sdf}
