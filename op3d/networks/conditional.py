"""The SMPL-pose-conditional generator (OP3D's human branch, as intended).

A world point p near a posed body goes: inverse LBS (nearest posed vertex's inverse blended transform, the root
transform far from the body) -> canonical point, normalized into the planes' [-1, 1]^3 -> + deformation offset
(an MLP conditioned on betas, joint angles and w) -> orthoplane / tri-plane features -> decoder -> colour
features and a residual r. The signed distance is sdf(p) = mesh_sdf(p, posed body) + residual_scale * r (true
point-to-mesh distance, negative inside; the released code added a squared distance, and twice for the coarse
samples), and the renderer's density is (1 / beta) sigmoid(-sdf / beta) with a learnable beta.

Shapes: B bodies, P points, C plane channels, S betas, A = 3 (J - 1) joint angles, w_dim W.
"""
from __future__ import annotations

import torch
from torch import nn

from op3d.conditioning.inverse_lbs import inverse_lbs, normalize_canonical
from op3d.conditioning.mesh_sdf import mesh_sdf
from op3d.conditioning.body_model import BodyModel
from op3d.conditioning.posed import PosedBody, pose_bodies
from op3d.networks.generator import Generator
from op3d.networks.layers import FullyConnectedLayer
from op3d.rendering.renderer import render_in_boxes


class DeformationField(nn.Module):
    """Canonical offsets: points [B, P, 3] (normalized canonical) and a condition [B, S + A + W] -> [B, P, 3].

    OP3D's DeformationDecoder: a point MLP whose features pass three FiLM-modulated sine layers
    (f <- sin(W_i(cond) * f + b_i(cond))), then an MLP to 3 values, bounded by max_offset * sin(.).
    """

    def __init__(self, cond_dim: int, hidden: int = 128, max_offset: float = 0.3, lr_multiplier: float = 1.0):
        super().__init__()
        fc = lambda i, o: FullyConnectedLayer(i, o, lr_multiplier=lr_multiplier)
        two = lambda i: nn.Sequential(fc(i, hidden), nn.LeakyReLU(0.2), fc(hidden, hidden))
        self.max_offset = max_offset
        self.net_c = two(3)
        self.net_W = nn.ModuleList([two(cond_dim) for _ in range(3)])
        self.net_b = nn.ModuleList([two(cond_dim) for _ in range(3)])
        self.decoder = nn.Sequential(fc(hidden, hidden // 2), nn.LeakyReLU(0.2), fc(hidden // 2, hidden // 2),
                                     nn.LeakyReLU(0.2), fc(hidden // 2, 3))

    def forward(self, points: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        B, P, _ = points.shape
        f = self.net_c(points.reshape(B * P, 3)).reshape(B, P, -1)
        for net_W, net_b in zip(self.net_W, self.net_b):
            f = torch.sin(net_W(cond).unsqueeze(1) * f + net_b(cond).unsqueeze(1))
        return torch.sin(self.decoder(f.reshape(B * P, -1))).reshape(B, P, 3) * self.max_offset


class SDFDensity(nn.Module):
    """density = (1 / beta) sigmoid(-sdf / beta), beta = |beta_param| + beta_min (OP3D's 'LaplaceDensity')."""

    def __init__(self, beta_init: float = 0.01, beta_min: float = 1e-4):
        super().__init__()
        self.beta = nn.Parameter(torch.tensor(float(beta_init)))
        self.beta_min = beta_min

    def get_beta(self) -> torch.Tensor:
        return self.beta.abs() + self.beta_min

    def forward(self, sdf: torch.Tensor) -> torch.Tensor:
        beta = self.get_beta().to(sdf.dtype)
        return torch.sigmoid(-sdf / beta) / beta


class ConditionalGenerator(Generator):
    """G(z, c, body=PosedBody) -> image, image_raw, image_depth, like Generator, for a posed body.

    Extra keywords: canonical_offset / canonical_scale (normalized canonical = (x + offset) / scale; OP3D:
    (0, 0.3, 0) and 1.2 for SMPL's rest pose), lbs_threshold (metres; farther points use the root transform),
    residual_scale, beta_init / beta_min, num_betas and num_joints (the deformation condition), deform_hidden,
    deform_max_offset, body_model (metadata: which body model the poses belong to; sampling uses it).
    `sample_density` returns the density as "sigma" plus "sdf" and "residual".
    """

    single_backward_render = False  # a second evaluation of the coarse samples would repeat their mesh queries

    def __init__(self, *args, canonical_offset=(0.0, 0.3, 0.0), canonical_scale: float = 1.2,
                 lbs_threshold: float = 0.1, residual_scale: float = 0.05, beta_init: float = 0.01,
                 beta_min: float = 1e-4, num_betas: int = 10, num_joints: int = 24, deform_hidden: int = 128,
                 deform_max_offset: float = 0.3, body_model: str = "procedural", **kwargs):
        rendering_kwargs = dict(kwargs.pop("rendering_kwargs", None) or {})
        rendering_kwargs["clamp_mode"] = "none"  # the field returns densities
        margin = rendering_kwargs.get("body_box_margin")
        if margin is not None and not (isinstance(margin, (int, float)) and not isinstance(margin, bool)
                                       and 0 <= margin < float("inf")):
            raise ValueError(f"body_box_margin must be None or a number of metres >= 0, got {margin!r}")
        super().__init__(*args, rendering_kwargs=rendering_kwargs, **kwargs)
        self.canonical_offset = tuple(float(v) for v in canonical_offset)
        self.canonical_scale = float(canonical_scale)
        self.lbs_threshold = float(lbs_threshold)
        self.residual_scale = float(residual_scale)
        self.num_betas, self.num_joints = num_betas, num_joints
        self.body_model = body_model
        self.deformation = DeformationField(num_betas + 3 * (num_joints - 1) + self.w_dim, hidden=deform_hidden,
                                            max_offset=deform_max_offset)
        self.density = SDFDensity(beta_init, beta_min)

    def render_rays(self, field, origins: torch.Tensor, dirs: torch.Tensor, deterministic: bool,
                    generator: torch.Generator | None, chunk: int | None, body=None
                    ) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """With rendering_kwargs["body_box_margin"] = m (metres; the "body" preset's), rays are sampled only
        inside each posed body's axis-aligned box grown by m (`render_in_boxes`); rays that miss it are
        background. Without it (None, checkpoints made before it existed), over the preset's ray range."""
        margin = self.rendering_kwargs.get("body_box_margin")
        if margin is None or body is None:
            return super().render_rays(field, origins, dirs, deterministic, generator, chunk, body)
        verts = body.vertices.detach().to(origins.dtype)
        feats, depth, _ = render_in_boxes(field, origins, dirs, self.render_options, verts.amin(1) - margin,
                                          verts.amax(1) + margin, deterministic=deterministic, generator=generator,
                                          chunk=chunk, single_backward=self.single_backward_render)
        return feats, depth, {}

    def pose_bodies(self, model: BodyModel, params: torch.Tensor) -> PosedBody:
        """Pose parameters [B, 85] -> the bodies this generator renders (`pose_bodies`)."""
        return pose_bodies(model, params)

    def deformation_condition(self, ws: torch.Tensor, body: PosedBody) -> torch.Tensor:
        """[B, S + A + W]: betas, joint angles and the last w (OP3D's order)."""
        betas = body.betas[:, :self.num_betas].to(ws.dtype)
        if betas.shape[1] < self.num_betas:
            betas = torch.nn.functional.pad(betas, (0, self.num_betas - betas.shape[1]))
        return torch.cat([betas, body.joint_angles().to(ws.dtype), ws[:, -1]], dim=1)

    def canonical_points(self, points: torch.Tensor, ws: torch.Tensor, body: PosedBody) -> torch.Tensor:
        """World points [B, P, 3] -> deformed, normalized canonical points [B, P, 3] (plane coordinates)."""
        canonical, _ = inverse_lbs(points, body.vertices.to(points.dtype), None, None, self.lbs_threshold,
                                   index=body.mesh_index(), table=body.inverse_transform_table())
        x = normalize_canonical(canonical, self.canonical_scale, self.canonical_offset)
        return x + self.deformation(x, self.deformation_condition(ws, body))

    def field(self, planes: torch.Tensor, impl: str = "auto", ws: torch.Tensor | None = None,
              body: PosedBody | None = None):
        if ws is None or body is None:
            raise ValueError("the pose-conditional generator needs ws and a posed body (body=...)")

        def evaluate(points: torch.Tensor, _directions) -> dict[str, torch.Tensor]:
            # Second derivatives in the points (eikonal) need the gather sampler; renders use grid_sample.
            eikonal = points.requires_grad and torch.is_grad_enabled()
            chosen = impl if impl != "auto" else ("gather" if eikonal else "grid_sample")
            x = self.canonical_points(points, ws, body)
            out = self.decoder(self.sample_features(planes, x, chosen, box_warp=2.0))
            with torch.set_grad_enabled(eikonal):
                base = mesh_sdf(points, body.vertices, body.faces, index=body.mesh_index()).unsqueeze(-1)
            residual = out["sigma"]
            sdf = base + self.residual_scale * residual
            return {"rgb": out["rgb"], "sigma": self.density(sdf), "sdf": sdf, "residual": residual}

        return evaluate
