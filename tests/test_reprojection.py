"""Reprojection error: ~0 for a consistent analytic scene, clearly larger for a view-dependent one."""
import math

import torch

from op3d.data.cameras import intrinsics, lookat_pose, make_label
from op3d.metrics.reprojection import backproject, project, reprojection_error
from op3d.rendering.rays import rays_from_cameras
from op3d.rendering.renderer import RenderOptions, render


def cams(yaws):
    return make_label(lookat_pose(torch.tensor(yaws), torch.full((len(yaws),), math.pi / 2), 2.7),
                      intrinsics(3.0)).double()


def test_project_inverts_backproject():
    c = cams([1.3, 1.9])
    depth = 2.0 + torch.rand(2, 1, 8, 8, dtype=torch.float64)
    uv, z = project(backproject(depth, c), c)
    ticks = (torch.arange(8, dtype=torch.float64) + 0.5) / 8
    v, u = torch.meshgrid(ticks, ticks, indexing="ij")
    torch.testing.assert_close(uv, torch.stack([u, v], -1).reshape(1, -1, 2).expand(2, -1, -1))
    assert (z > 0).all()


def textured_sphere(view_dependent: bool):
    def field(points, dirs):
        d = points.norm(dim=-1, keepdim=True)
        sigma = torch.where(d < 0.5, torch.full_like(d, 80.0), torch.full_like(d, -30.0))
        source = dirs if view_dependent else points
        rgb = 0.5 + 0.5 * torch.sin(6 * source)  # colour from position (consistent) or ray direction
        return {"rgb": rgb, "sigma": sigma}
    return field


def render_view(field, c, res=48):
    o, d = rays_from_cameras(c, res)
    opts = RenderOptions(depth_resolution=48, depth_resolution_importance=48, ray_start=2.0, ray_end=3.4)
    rgb, depth, _ = render(field, o, d, opts, deterministic=True)
    B = c.shape[0]
    return rgb.permute(0, 2, 1).reshape(B, 3, res, res), depth.permute(0, 2, 1).reshape(B, 1, res, res)


def test_consistent_scene_scores_near_zero_and_view_dependent_scene_does_not():
    ca, cb = cams([math.pi / 2]), cams([math.pi / 2 + 0.25])
    errs = {}
    for name, vd in (("consistent", False), ("view_dependent", True)):
        field = textured_sphere(vd)
        ia, da = render_view(field, ca)
        ib, db = render_view(field, cb)
        err, frac = reprojection_error(ia, da, ca, ib, db, cb)
        assert frac.item() > 0.2  # a good part of A is visible in B
        errs[name] = err.item()
    assert errs["consistent"] < 0.03, errs
    assert errs["view_dependent"] > 5 * errs["consistent"], errs
