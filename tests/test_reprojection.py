"""Reprojection error: ~0 for a consistent analytic scene, clearly larger for a view-dependent one."""
import math

import pytest
import torch

from op3d.data.cameras import intrinsics, lookat_pose, make_label
from op3d.metrics.reprojection import backproject, generator_reprojection_error, project, reprojection_error
from op3d.rendering.rays import rays_from_cameras
from op3d.rendering.renderer import RenderOptions, render


def cams(yaws):
    return make_label(lookat_pose(torch.tensor(yaws), torch.full((len(yaws),), math.pi / 2), 2.7),
                      intrinsics(3.0)).double()


@pytest.mark.parametrize("skewed", [False, True])
def test_project_inverts_backproject(skewed):
    """Every pixel centre lifted with its depth projects back onto itself, also through a camera with skew
    (K[0, 1] = 0.3), fx != fy and an off-centre principal point (EG3D's ray sampler reads the skew too)."""
    c = cams([1.3, 1.9])
    if skewed:
        c[:, 16:25] = torch.tensor([3.0, 0.3, 0.46, 0.0, 2.6, 0.55, 0.0, 0.0, 1.0], dtype=torch.float64)
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


SPHERES = [((0.0, 0.0, 0.0), 0.45, (0.9, 0.2, 0.1)), ((0.35, 0.0, 0.75), 0.15, (0.1, 0.3, 0.9))]


def anisotropic_label(yaw, fx, fy, cx, cy):
    K = torch.tensor([[fx, 0, cx], [0, fy, cy], [0, 0, 1.0]])
    return make_label(lookat_pose(torch.tensor([yaw]), torch.tensor([math.pi / 2]), 2.7), K).double()


def ray_cast_spheres(c, res=64):
    """Exact images of two textured spheres (the small one in front of the big one for some views): colour
    [1, 3, res, res] from the world position of the nearest hit, distance along the ray [1, 1, res, res] (inf on
    the white background), by analytic ray-sphere intersection in float64."""
    o, d = rays_from_cameras(c, res)
    o, d = o[0].double(), d[0].double()
    best = torch.full((res * res,), math.inf, dtype=torch.float64)
    col = torch.ones(res * res, 3, dtype=torch.float64)
    for centre, r, rgb in SPHERES:
        oc = o - torch.tensor(centre, dtype=torch.float64)
        b = (oc * d).sum(-1)
        disc = b * b - ((oc * oc).sum(-1) - r * r)
        t = -b - disc.clamp_min(0).sqrt()
        hit = (disc > 0) & (t > 0) & (t < best)
        p = o + t[:, None] * d
        texture = 0.75 + 0.25 * torch.sin(8 * p[:, :1]) * torch.cos(7 * p[:, 1:2])
        shade = torch.tensor(rgb, dtype=torch.float64) * texture
        best = torch.where(hit, t, best)
        col = torch.where(hit[:, None], shade, col)
    return col.T.reshape(1, 3, res, res), best.reshape(1, 1, res, res)


def test_exact_views_with_anisotropic_intrinsics_and_occlusion_reproject_exactly():
    """Two exact views (fx != fy, off-centre principal points) of a scene where B sees the small sphere in front
    of part of the big one that A sees: the error is ~0 because the occluded pixels are left out; counting them
    (or projecting with the wrong focal length) costs far more."""
    ca = anisotropic_label(math.pi / 2 - 0.35, 3.2, 2.6, 0.47, 0.53)
    cb = anisotropic_label(math.pi / 2 + 0.3, 2.7, 3.4, 0.52, 0.45)
    ia, da = ray_cast_spheres(ca)
    ib, db = ray_cast_spheres(cb)
    err, frac = reprojection_error(ia, da, ca, ib, db, cb)
    assert 0.3 < float(frac) < 0.65 and float(err) < 2e-3
    # the error is a mean over the visible pixels only: a colour offset of B by 0.1 reads as 0.1
    err_offset, _ = reprojection_error(ia, da, ca, ib + 0.1, db, cb)
    assert abs(float(err_offset) - 0.1) < 3e-3
    # the occluded pixels exist: A's big-sphere pixels that land inside B's frame but on B's small sphere
    points = backproject(da, ca)
    uv, _ = project(points, cb)
    inside = (uv >= 0).all(-1) & (uv <= 1).all(-1) & torch.isfinite(da.flatten(1))
    assert float(inside.double().mean()) > float(frac) + 0.02
    # the occlusion test's tolerance is 2% of the distance from B: B's depths 1.5% too far still count, 3% none
    _, frac_near = reprojection_error(ia, da, ca, ib, db * 1.015, cb)
    _, frac_far = reprojection_error(ia, da, ca, ib, db * 1.03, cb)
    assert abs(float(frac_near) - float(frac)) < 0.02 and float(frac_far) < 0.01


class RayCastG:
    """A stand-in generator whose deterministic raw rendering from camera c is the exact view of the spheres."""

    def synthesis(self, ws, c, neural_rendering_resolution=None, noise_mode="const", deterministic=True):
        assert deterministic and noise_mode == "const"
        image, depth = ray_cast_spheres(c, neural_rendering_resolution)
        return {"image_raw": image, "image_depth": depth}


def test_generator_reprojection_renders_each_view_from_its_own_camera():
    """generator_reprojection_error renders view A from c_a and view B from c_b: on an exactly consistent
    generator it is ~0 with the visible fraction of the two exact views; the views swapped give the same."""
    ca = anisotropic_label(math.pi / 2 - 0.35, 3.2, 2.6, 0.47, 0.53)
    cb = anisotropic_label(math.pi / 2 + 0.3, 2.7, 3.4, 0.52, 0.45)
    err, frac = generator_reprojection_error(RayCastG(), torch.zeros(1, 14, 8), ca, cb, resolution=64)
    _, want_frac = reprojection_error(*ray_cast_spheres(ca), ca, *ray_cast_spheres(cb), cb)
    assert err < 2e-3 and frac == pytest.approx(float(want_frac)) and 0.3 < frac < 0.65


def test_points_outside_view_b_on_one_axis_are_not_visible():
    """A wall (the plane z = 0) seen from (0, 0, 2.7) and from 0.3 to either side along x, same orientation and
    focal 3: A's pixels land in B shifted by fx * 0.3 / 2.7 = 1/3 of the image width, so exactly 2/3 of them (32 of
    48 columns) are inside B's frame, all with consistent depth. The points beyond B's left or right edge stay out
    although their v is inside B's frame and B's border pixels hold a depth within the 2% tolerance of theirs."""
    res = 48

    def camera(x):
        return make_label(lookat_pose(torch.tensor([math.pi / 2]), torch.tensor([math.pi / 2]), 2.7, (x, 0.0, 0.0)),
                          intrinsics(3.0)).double()

    def wall(c):
        o, d = rays_from_cameras(c, res)
        t = -o[..., 2] / d[..., 2]  # distance along the (unit) ray to z = 0
        return torch.ones(1, 3, res, res, dtype=torch.float64), t.reshape(1, 1, res, res).double()
    ca = camera(0.0)
    for shift in (0.3, -0.3):
        cb = camera(shift)
        _, frac = reprojection_error(*wall(ca), ca, *wall(cb), cb)
        assert float(frac) == pytest.approx(2 / 3, abs=1e-6)
