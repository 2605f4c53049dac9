"""The pose-conditional generator: canonical mapping, SDF density, rendering against ray casting, second-order
gradients for the eikonal term (against finite differences), and the pose-conditioned discriminator."""
import math

import pytest
import numpy as np
import torch
from helpers import DEVICES, record_calls

from op3d.conditioning.body_model import lbs, procedural_body
from op3d.conditioning.inverse_lbs import inverse_lbs, normalize_canonical
from op3d.conditioning.mesh_sdf import mesh_sdf
from op3d.conditioning.posed import condition_dim, pose_bodies, pose_condition, rotation_to_euler_xyz
from op3d.data.cameras import intrinsics, lookat_pose, make_label
from op3d.networks.conditional import ConditionalGenerator, SDFDensity
from op3d.networks.discriminator import DualDiscriminator
from op3d.presets import discriminator_kwargs, generator_kwargs
from op3d.rendering.rays import rays_from_cameras


def tiny_conditional(nrr=16, samples=8, seed=0, **kw):
    torch.manual_seed(seed)
    gkw = generator_kwargs("body", 32, "tiny", plane_number=4, fourier_L=2, neural_rendering_resolution=nrr)
    gkw["rendering_kwargs"].update(depth_resolution=samples, depth_resolution_importance=samples)
    gkw.update(kw)
    return ConditionalGenerator(**gkw).eval()


def params_for(B, seed=0, scale=0.3, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    betas = torch.randn(B, 10, generator=g) * 0.3
    pose = torch.randn(B, 24, 3, generator=g) * scale
    transl = torch.randn(B, 3, generator=g) * 0.05
    return torch.cat([betas, pose.reshape(B, 72), transl], dim=1).to(dtype)


def zero_residual_and_offset(G):
    with torch.no_grad():
        G.decoder.net[-1].weight[0].zero_()
        G.decoder.net[-1].bias[0].zero_()
        G.deformation.decoder[-1].weight.zero_()
        G.deformation.decoder[-1].bias.zero_()


def test_euler_angles_round_trip():
    g = torch.Generator().manual_seed(0)
    a = (torch.rand(50, 3, generator=g, dtype=torch.float64) * 2 - 1) * torch.tensor([3.0, 1.5, 3.0],
                                                                                    dtype=torch.float64)
    c, s = torch.cos(a), torch.sin(a)
    one, zero = torch.ones(50, dtype=torch.float64), torch.zeros(50, dtype=torch.float64)
    Rx = torch.stack([one, zero, zero, zero, c[:, 0], -s[:, 0], zero, s[:, 0], c[:, 0]], 1).reshape(50, 3, 3)
    Ry = torch.stack([c[:, 1], zero, s[:, 1], zero, one, zero, -s[:, 1], zero, c[:, 1]], 1).reshape(50, 3, 3)
    Rz = torch.stack([c[:, 2], -s[:, 2], zero, s[:, 2], c[:, 2], zero, zero, zero, one], 1).reshape(50, 3, 3)
    torch.testing.assert_close(rotation_to_euler_xyz(Rz @ Ry @ Rx), a, rtol=0, atol=1e-10)


def test_posed_body_matches_lbs_and_discriminator_label():
    model = procedural_body(num_betas=10)
    p = params_for(3)
    body = pose_bodies(model, p)
    ref = lbs(model, p[:, :10], p[:, 10:82].reshape(3, 24, 3), p[:, 82:])
    torch.testing.assert_close(body.vertices, ref["vertices"])
    # vertex transforms include the translation: they map rest-space posed vertices to the world vertices
    assert condition_dim() == 104
    c = torch.randn(3, 25)
    label = pose_condition(c, body)
    assert label.shape == (3, 104)
    torch.testing.assert_close(label[:, :25], c)
    torch.testing.assert_close(label[:, 25:35], p[:, :10])
    torch.testing.assert_close(label[:, 35:], rotation_to_euler_xyz(ref["rot"][:, 1:]).reshape(3, 69))


@pytest.mark.parametrize("num_betas", [4, 10, 16])
def test_deformation_condition_is_betas_joint_angles_and_the_last_w(num_betas):
    """OP3D's order: the body's first num_betas shape coefficients (a generator taking more than the body's 10 pads
    them with zeros after the body's own), the 23 joints' Euler angles, then the last w."""
    G = tiny_conditional(num_betas=num_betas)
    body = pose_bodies(procedural_body(num_betas=10), params_for(2, seed=4))
    ws = torch.randn(2, G.num_ws, G.w_dim)
    cond = G.deformation_condition(ws, body)
    n = min(10, num_betas)
    assert cond.shape == (2, num_betas + 69 + G.w_dim)
    torch.testing.assert_close(cond[:, :n], body.betas[:, :n])
    assert bool((cond[:, n:num_betas] == 0).all())
    torch.testing.assert_close(cond[:, num_betas:num_betas + 69], body.joint_angles())
    torch.testing.assert_close(cond[:, num_betas + 69:], ws[:, -1])


@pytest.mark.parametrize("max_offset", [0.05, None])
def test_deformation_offsets_are_bounded_by_deform_max_offset(max_offset):
    """OP3D's bound: offset = max_offset * sin(MLP output); an output of pi / 2 on every axis reaches it exactly.
    Without deform_max_offset the bound is OP3D's 0.3 (its renderer's deformation decoder)."""
    G = tiny_conditional(**({} if max_offset is None else {"deform_max_offset": max_offset}))
    max_offset = 0.3 if max_offset is None else max_offset
    last = G.deformation.decoder[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.fill_(math.pi / 2 / last.bias_gain)
    x, cond = torch.rand(2, 5, 3), torch.randn(2, G.num_betas + 69 + G.w_dim)
    torch.testing.assert_close(G.deformation(x, cond), torch.full((2, 5, 3), max_offset))


def test_sdf_density_formula():
    d = SDFDensity(beta_init=0.02, beta_min=1e-4)
    sdf = torch.linspace(-0.1, 0.1, 11, dtype=torch.float64)
    beta = 0.02 + 1e-4
    torch.testing.assert_close(d(sdf), torch.sigmoid(-sdf / beta) / beta)
    assert float(d(torch.zeros(())).detach()) == pytest.approx(0.5 / beta)


def test_field_without_residual_is_the_mesh_sdf_and_maps_vertices_to_rest():
    G = tiny_conditional()
    zero_residual_and_offset(G)
    model = procedural_body(num_betas=10)
    p = params_for(2, seed=1)
    body = pose_bodies(model, p)
    ws = G.mapping(torch.randn(2, G.z_dim), torch.zeros(2, 25))
    planes = G.planes(ws)
    pts = torch.rand(2, 300, 3) * 2.4 - 1.2
    with torch.no_grad():
        out = G.field(planes, ws=ws, body=body)(pts, None)
        ref = mesh_sdf(pts, body.vertices, body.faces)
    torch.testing.assert_close(out["sdf"][..., 0], ref, rtol=0, atol=1e-5)
    torch.testing.assert_close(out["sigma"], G.density(out["sdf"]))
    # with gradients (the eikonal term's path): the field's point gradient is the mesh distance's, unit length,
    # pointing away from the closest point (brute-force float64 reference)
    q = pts.double().clone().requires_grad_(True)
    want, = torch.autograd.grad(mesh_sdf(q, body.vertices.double(), body.faces, method="brute").sum(), q)
    x = pts.clone().requires_grad_(True)
    got, = torch.autograd.grad(G.field(planes, ws=ws, body=body)(x, None)["sdf"].sum(), x)
    torch.testing.assert_close(got.double(), want, rtol=0, atol=1e-3)
    torch.testing.assert_close(want.norm(dim=-1), torch.ones(2, 300, dtype=torch.float64), rtol=0, atol=1e-9)
    # posed vertices go back to their rest positions (shape + pose correctives), normalized into the plane box
    betas, pose = p[:, :10], p[:, 10:82].reshape(2, 24, 3)
    v_shaped = model.v_template + torch.einsum("bs,vcs->bvc", betas, model.shapedirs)
    pose_feature = (lbs(model, betas, pose)["rot"][:, 1:] - torch.eye(3)).reshape(2, -1)
    rest = v_shaped + (pose_feature @ model.posedirs).reshape(2, -1, 3)
    with torch.no_grad():
        x = G.canonical_points(body.vertices, ws, body)
    torch.testing.assert_close(x, normalize_canonical(rest, G.canonical_scale, G.canonical_offset), rtol=0,
                               atol=2e-5)


def test_deformation_is_conditioned_on_betas_joint_angles_and_the_last_w():
    """OP3D's kaolin_version.py hands ws[:, -1] to its renderer and deformation decoder: with style-mixed ws
    (every layer different) only the last w may change the canonical points."""
    G = tiny_conditional()
    body = pose_bodies(procedural_body(num_betas=10), params_for(2, seed=5))
    ws = torch.randn(2, G.num_ws, G.w_dim, generator=torch.Generator().manual_seed(6))
    cond = G.deformation_condition(ws, body)
    torch.testing.assert_close(cond, torch.cat([body.betas[:, :10], body.joint_angles(), ws[:, -1]], 1))
    pts = torch.rand(2, 50, 3, generator=torch.Generator().manual_seed(7)) * 1.6 - 0.8
    with torch.no_grad():
        x = G.canonical_points(pts, ws, body)
        other_first = ws.clone()
        other_first[:, :-1] = torch.randn(2, G.num_ws - 1, G.w_dim)
        other_last = ws.clone()
        other_last[:, -1] = torch.randn(2, G.w_dim)
        assert torch.equal(G.canonical_points(pts, other_first, body), x)
        assert (G.canonical_points(pts, other_last, body) - x).abs().max() > 1e-6
        # the deformation sees canonical coordinates: moving body (transl) and points together changes nothing,
        # while the offsets themselves are not negligible
        t = torch.tensor([0.5, -0.4, 0.9])
        moved_params = params_for(2, seed=5)
        moved_params[:, -3:] += t
        moved = pose_bodies(procedural_body(num_betas=10), moved_params)
        torch.testing.assert_close(G.canonical_points(pts + t, ws, moved), x, rtol=0, atol=1e-5)
        undeformed = normalize_canonical(inverse_lbs(pts, body.vertices, None, None, G.lbs_threshold,
                                                     table=body.inverse_transform_table())[0],
                                         G.canonical_scale, G.canonical_offset)
        assert (x - undeformed).abs().max() > 1e-3


def test_field_sdf_is_the_mesh_sdf_plus_the_scaled_residual():
    """With the untouched (random) decoder: sdf = mesh_sdf + residual_scale * residual, density from that sdf."""
    G = tiny_conditional()
    body = pose_bodies(procedural_body(num_betas=10), params_for(1, seed=4))
    ws = G.mapping(torch.randn(1, G.z_dim), torch.zeros(1, 25))
    pts = torch.rand(1, 200, 3) * 2.4 - 1.2
    with torch.no_grad():
        out = G.field(G.planes(ws), ws=ws, body=body)(pts, None)
        ref = mesh_sdf(pts, body.vertices, body.faces, method="brute")
    assert float(out["residual"].abs().mean()) > 1e-2  # the residual is not negligible here
    assert G.residual_scale == 0.05
    torch.testing.assert_close(out["sdf"][..., 0], ref + 0.05 * out["residual"][..., 0], rtol=0, atol=1e-5)


def test_field_samples_planes_with_the_asked_sampler(monkeypatch):
    """impl="auto": renders take grid_sample, points that need second derivatives (eikonal) the gather sampler;
    an explicit impl is used as given in both cases."""
    G = tiny_conditional()
    body = pose_bodies(procedural_body(num_betas=10), params_for(1, seed=4))
    ws = G.mapping(torch.randn(1, G.z_dim), torch.zeros(1, 25))
    planes = G.planes(ws).detach()
    used = []
    sample = G.sample_features
    monkeypatch.setattr(G, "sample_features", lambda *a, **k: used.append(a[2]) or sample(*a, **k))
    for impl in ("auto", "grid_sample", "gather"):
        with torch.no_grad():
            G.field(planes, impl, ws=ws, body=body)(torch.rand(1, 20, 3) - 0.5, None)
        G.field(planes, impl, ws=ws, body=body)((torch.rand(1, 20, 3) - 0.5).requires_grad_(True), None)
    assert used == ["grid_sample", "gather", "grid_sample", "grid_sample", "gather", "gather"]


def ray_cast_depth(origins, dirs, verts, faces, chunk=16):
    """Nearest ray-triangle hit (Moller-Trumbore) per ray, float64: origins/dirs [R, 3] -> t [R] (inf if none);
    `chunk` rays at a time against every face."""
    tri = verts[faces].double()
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    e1, e2 = b - a, c - a

    def nearest_hit(o, d):
        h = torch.linalg.cross(d.expand(-1, len(a), -1), e2[None].expand(len(o), -1, -1), dim=-1)
        det = (e1[None] * h).sum(-1)
        s = o - a[None]
        u = (s * h).sum(-1) / det
        q = torch.linalg.cross(s, e1[None].expand_as(s), dim=-1)
        v = (d * q).sum(-1) / det
        t = (e2[None] * q).sum(-1) / det
        hit = (det.abs() > 1e-12) & (u >= 0) & (v >= 0) & (u + v <= 1) & (t > 0)
        return torch.where(hit, t, torch.full_like(t, math.inf)).min(dim=1).values
    return torch.cat([nearest_hit(o[:, None], d[:, None])
                      for o, d in zip(origins.double().split(chunk), dirs.double().split(chunk))])


@pytest.mark.parametrize("device", DEVICES)
def test_cluster_ray_casting_equals_a_dense_ray_cast(device):
    from op3d.data.synthetic_body import ray_mesh_hits

    body = pose_bodies(procedural_body(num_betas=10, dtype=torch.float64), params_for(1, seed=4, scale=0.3))
    c = make_label(lookat_pose(torch.tensor([1.2]), torch.tensor([1.4]), 4.0), intrinsics(1.75)).double()
    origins, dirs = rays_from_cameras(c, 64)
    t, face = (x.cpu() for x in ray_mesh_hits(origins[0].to(device), dirs[0].to(device),
                                              body.vertices[0].to(device), body.faces.to(device)))
    ref = ray_cast_depth(origins[0], dirs[0], body.vertices[0], body.faces)
    assert torch.isfinite(ref).sum() > 200 and torch.equal(torch.isfinite(t), torch.isfinite(ref))
    hit = torch.isfinite(ref)
    torch.testing.assert_close(t[hit], ref[hit], rtol=0, atol=1e-12)
    assert (face[hit] >= 0).all() and (face[~hit] == -1).all()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("margin", [None, 0.1])
def test_render_matches_ray_casting_of_the_posed_mesh(device, margin):
    """Over the whole rendering box (margin None) or only inside the posed body's box grown by the margin (the
    "body" preset's default): depth = the ray-cast hit, rays clear of the body are background."""
    G = tiny_conditional(nrr=16, samples=64, beta_init=0.004)
    G.rendering_kwargs["body_box_margin"] = margin
    zero_residual_and_offset(G)
    model = procedural_body(num_betas=10)
    body = pose_bodies(model, params_for(1, seed=2, scale=0.15))
    c = make_label(lookat_pose(torch.tensor([math.pi / 2]), torch.tensor([math.pi / 2]), 4.0), intrinsics(1.75))
    z = torch.randn(1, G.z_dim)
    sampled = []
    field = G.field
    G.field = lambda *a, **k: (lambda f: lambda p, d: sampled.append(p.detach().cpu()) or f(p, d))(field(*a, **k))
    with torch.no_grad():
        out = G.to(device)(z.to(device), c.to(device), body=body.to(device), deterministic=True, noise_mode="const")
    out = {k: v.cpu() for k, v in out.items()}
    points = torch.cat(sampled, 1)[0]
    lo, hi = body.vertices[0].amin(0), body.vertices[0].amax(0)
    if margin is None:
        assert points.shape[0] == 256 * 128 and ((points < lo - 0.5) | (points > hi + 0.5)).any()
    else:  # only rays through the grown box, sampled inside it (EG3D's stratified depths reach up to one sample
        # interval, at most the box's diagonal / 63 here, past the exit)
        slack = float((hi - lo + 2 * margin).norm()) / 63
        out_by = torch.maximum(lo - margin - points, points - hi - margin).amax(1)
        assert points.shape[0] < 256 * 128 and out_by.max() < slack and (out_by > 1e-6).float().mean() < 0.05
    origins, dirs = rays_from_cameras(c, 16)
    t = ray_cast_depth(origins[0], dirs[0], body.vertices[0], body.faces).reshape(16, 16)
    depth = out["image_depth"][0, 0].double()
    hit = torch.isfinite(t)
    assert hit.sum() > 20 and (~hit).sum() > 20
    # where a pixel's ray hits the body, the volume-rendered depth is within 2 cm of the ray-cast hit
    assert (depth[hit] - t[hit]).abs().max() < 0.02
    # rays that pass more than 5 cm from the body (samples 7.5 mm apart) see the white background
    ts = torch.linspace(2.5, 5.5, 400)
    pts = origins[0, :, None] + ts[:, None] * dirs[0, :, None]  # [R, 800, 3]
    clearance = mesh_sdf(pts.reshape(1, -1, 3), body.vertices, body.faces).reshape(256, -1)
    far = (clearance.min(1).values > 0.05).reshape(16, 16)
    assert far.sum() > 100
    assert (out["image_raw"][0][:, far] - 1).abs().max() < 1e-3


@pytest.mark.parametrize("device", DEVICES)
def test_eikonal_gradients_match_finite_differences(device):
    G = tiny_conditional(samples=4).double().to(device)
    body = pose_bodies(procedural_body(num_betas=10, dtype=torch.float64), params_for(1, seed=3,
                                                                                      dtype=torch.float64))
    body = body.to(device)
    z = torch.randn(1, G.z_dim, dtype=torch.float64).to(device)
    g = torch.Generator().manual_seed(4)
    pts = (torch.rand(1, 40, 3, generator=g, dtype=torch.float64) * 1.6 - 0.8).to(device)

    def eikonal():
        ws = G.mapping(z, torch.zeros(1, 25, dtype=torch.float64, device=device))
        p = pts.clone().requires_grad_(True)
        sdf = G.sample_density(p, ws, body=body, noise_mode="const")["sdf"]
        grad, = torch.autograd.grad(sdf.sum(), p, create_graph=True)
        return (grad.norm(dim=-1) - 1).square().mean()

    params = [(G.decoder.net[0].weight, (3, 5)), (G.deformation.net_c[0].weight, (7, 1)),
              (G.backbone.synthesis.b4.conv1.weight, (0, 0, 1, 1))]
    G.zero_grad()
    eikonal().backward()
    for param, index in params:
        analytic = float(param.grad[index])
        eps = 1e-6
        with torch.no_grad():
            param[index] += eps
        up = float(eikonal().detach())
        with torch.no_grad():
            param[index] -= 2 * eps
        down = float(eikonal().detach())
        with torch.no_grad():
            param[index] += eps
        numeric = (up - down) / (2 * eps)
        assert analytic == pytest.approx(numeric, rel=1e-4, abs=1e-9), (param.shape, index)
    assert float(G.backbone.synthesis.b4.conv1.weight.grad.abs().sum()) > 0  # reaches the plane backbone


@pytest.mark.parametrize("device", DEVICES)
def test_conditional_generator_and_discriminator_backward(device):
    G = tiny_conditional().train().to(device)
    dkw = discriminator_kwargs(32, "tiny")
    dkw["c_dim"] = condition_dim()
    D = DualDiscriminator(**dkw).to(device)
    body = pose_bodies(procedural_body(num_betas=10), params_for(2, seed=5)).to(device)
    c = make_label(lookat_pose(torch.full((2,), math.pi / 2), torch.full((2,), math.pi / 2), 4.0),
                   intrinsics(1.75)).to(device)
    out = G(torch.randn(2, G.z_dim, device=device), c, body=body)
    logits = D(out, pose_condition(c, body))
    logits.sum().backward()
    for name in ("deformation.net_c.0.weight", "density.beta", "backbone.synthesis.b4.conv1.weight",
                 "decoder.net.0.weight"):
        grad = dict(G.named_parameters())[name].grad
        assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0, name
    assert D.mapping.embed.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("margin", [-0.1, float("nan"), float("inf"), "0.1", True])
def test_body_box_margin_is_validated(margin):
    with pytest.raises(ValueError, match="body_box_margin"):
        tiny_conditional(rendering_kwargs={**generator_kwargs("body", 32, "tiny")["rendering_kwargs"],
                                           "body_box_margin": margin})


@pytest.mark.parametrize("margin", [None, 0, 0.0, 0.25])
def test_body_box_margin_accepts_none_zero_and_positive_metres(margin):
    """0 is the bare body box (--body-margin 0), a valid choice, as are None (the whole box) and any margin > 0."""
    G = tiny_conditional(rendering_kwargs={**generator_kwargs("body", 32, "tiny")["rendering_kwargs"],
                                           "body_box_margin": margin})
    assert G.rendering_kwargs["body_box_margin"] == margin


def test_unconditional_generator_rejects_a_body():
    from helpers import tiny_generator

    G = tiny_generator()
    with pytest.raises(ValueError, match="not pose-conditional"):
        G.field(torch.zeros(1), body=object())


@pytest.mark.parametrize("missing", ["ws", "body", "both"])
def test_conditional_field_needs_both_ws_and_a_body(missing):
    """The pose-conditional field is defined only for a posed body and its ws: either one missing is a ValueError
    naming both (not an AttributeError deep inside inverse LBS)."""
    G = tiny_conditional()
    ws = G.mapping(torch.randn(1, G.z_dim), torch.zeros(1, 25))
    body = pose_bodies(procedural_body(num_betas=10), params_for(1))
    given = {"ws": None if missing in ("ws", "both") else ws, "body": None if missing in ("body", "both") else body}
    with pytest.raises(ValueError, match="needs ws and a posed body"):
        G.field(G.planes(ws), **given)


def test_two_conditional_training_steps_then_sampling_writes_images_and_mrc(tmp_path, capsys, monkeypatch):
    import mrcfile

    from helpers import run_cli
    from op3d.data.synthetic_body import make_body_dataset
    from op3d.training.loop import TrainConfig, training_loop
    from op3d.training.loss import LossConfig

    from op3d import presets

    monkeypatch.setitem(presets.RENDERING_PRESETS, "body", dict(presets.RENDERING_PRESETS["body"], depth_resolution=6,
                                                                 depth_resolution_importance=6))
    data = make_body_dataset(tmp_path / "bodies.zip", 4, 32, seed=0)
    loss = LossConfig(neural_rendering_resolution_initial=16, blur_fade_kimg=0, gpc_reg_prob=None,
                      sdf_reg_points=200)
    cfg = TrainConfig(outdir=str(tmp_path / "runs"), data=str(data), cfg="body", size="tiny", plane_number=4,
                      fourier_L=2, batch=2, workers=0, kimg=1, snap=1, tick=1, conditional=True,
                      G_reg_interval=1, D_reg_interval=1, loss=loss, sr_num_fp16_res=0, d_num_fp16_res=0)
    summary = training_loop(cfg, max_steps=2, log=False)
    G = summary["G"]
    stats = summary["stats"]
    for key in ("Loss/G/loss", "Loss/D/loss_real", "Loss/G/eikonal", "Loss/G/sdf_prior", "Loss/r1_penalty"):
        assert key in stats and math.isfinite(stats[key]), key
    assert type(G).__name__ == "ConditionalGenerator"
    snap = sorted(summary["run_dir"].glob("network-snapshot-*"))[-1]
    out = tmp_path / "samples"
    code, _, err = run_cli(["sample", "--network", str(snap), "--seeds", "0", "--outdir", str(out), "--views",
                            "-30,0,30", "--pose-id", "3", "--data", str(data), "--shapes", "--shape-res", "12"], capsys)
    assert code == 0, err
    from PIL import Image

    strip = Image.open(out / "seed0000.png")
    assert strip.size == (3 * 32, 32)
    with mrcfile.open(out / "seed0000.mrc") as m:
        assert m.data.shape == (12, 12, 12) and float(m.voxel_size.x) == pytest.approx(2.4 / 11, rel=1e-4)
    # an unconditional request on a conditional network is refused with a one-line error
    code, _, err = run_cli(["sample", "--network", str(snap), "--seeds", "0", "--outdir", str(out)], capsys)
    assert code != 0 and "pose-conditional" in err and "Traceback" not in err
    # meshes of a pose-conditional network: at its surface, -sdf = 0 (not the density level 10 of unconditional
    # networks), unless --mesh-level says otherwise
    import op3d.sampling.render as rendering

    levels = []

    def stop_at_the_grid(G, planes, res, level, **k):  # (two training steps leave no surface to mesh)
        levels.append(level)
        raise ValueError("stop")
    with monkeypatch.context() as mp:
        mp.setattr(rendering, "mesh_grid", stop_at_the_grid)
        for extra in ([], ["--mesh-level", "0.05"]):
            code, _, err = run_cli(["sample", "--network", str(snap), "--seeds", "0", "--outdir", str(tmp_path / "m"),
                                    "--views", "0", "--pose-id", "3", "--data", str(data), "--shapes", "--shape-res",
                                    "12", "--shape-format", "ply", *extra], capsys)
            assert code == 1 and "stop" in err, err
    assert levels == [0.0, 0.05]
    # the mesh's vertex colours come from the field of the posed body (a sphere's -sdf stands in for the grid)
    from op3d.shapes.grid import evaluate_grid

    sphere = lambda p: 0.5 - p.norm(dim=-1, keepdim=True)
    with monkeypatch.context() as mp:
        mp.setattr(rendering, "mesh_grid", lambda G, planes, res, level, **k: evaluate_grid(sphere, res, 2.4))
        calls = record_calls(mp, rendering, "vertex_colors")
        code, _, err = run_cli(["sample", "--network", str(snap), "--seeds", "0", "--outdir", str(tmp_path / "c"),
                                "--views", "0", "--pose-id", "3", "--data", str(data), "--shapes", "--shape-res",
                                "12", "--shape-format", "ply"], capsys)
    assert code == 0, err
    (args, _), = calls["vertex_colors"]
    assert args[4] is not None and args[4].vertices.shape[0] == 1  # the posed body of --pose-id 3
    assert (tmp_path / "c" / "seed0000.ply").is_file()
    # the dataset's first and last image, then one past either end
    for pose_id, code_want, message in (("0", 0, ""), ("3", 0, ""), ("4", 2, "4 >= 4 images"),
                                        ("-1", 2, "-1 is not in the range x>=0")):
        code, _, err = run_cli(["sample", "--network", str(snap), "--seeds", "0", "--outdir", str(out), "--views",
                                "0", "--pose-id", pose_id, "--data", str(data)], capsys)
        assert code == code_want and (code == 0 or message in err and err.count("\n") <= 2), err
    # orbit videos render the given pose: frame 0 matches a direct render of that pose (up to H.264 loss), and
    # another pose gives other frames
    imageio = pytest.importorskip("imageio.v2")
    pytest.importorskip("imageio_ffmpeg")
    import op3d
    from op3d.conditioning.posed import body_model_from_spec, pose_bodies
    from op3d.data.dataset import ImageDataset
    from op3d.sampling.render import seed_ws
    from op3d.sampling.video import orbit_label
    from op3d.training.report import depth_to_uint8

    frames = {}
    for pose_id in (1, 3):
        path = tmp_path / f"v{pose_id}.mp4"
        code, _, err = run_cli(["video", "--network", str(snap), "--seeds", "0", "--w-frames", "2", "--mode", "depth",
                                "--pose-id", str(pose_id), "--data", str(data), "--output", str(path)], capsys)
        assert code == 0, err
        frames[pose_id] = np.stack(list(imageio.get_reader(str(path)).iter_data())).astype(np.float64)
    assert frames[1].shape == (2, 32, 32, 3)
    path = tmp_path / "grid.mp4"  # a grid with two rows: the pose is repeated for every cell
    code, _, err = run_cli(["video", "--network", str(snap), "--seeds", "0-1", "--grid", "1x2", "--w-frames", "2",
                            "--mode", "depth", "--pose-id", "1", "--data", str(data), "--output", str(path)], capsys)
    assert code == 0, err
    assert np.stack(list(imageio.get_reader(str(path)).iter_data())).shape == (2, 64, 32, 3)
    G1 = op3d.load(snap)
    body = pose_bodies(body_model_from_spec("procedural"),
                       torch.as_tensor(ImageDataset(data, use_poses=True).get_pose(3))[None])
    with torch.no_grad():
        out = G1.synthesis(seed_ws(G1, [0], 1.0, None, None), orbit_label(G1, 0.0), body=body, noise_mode="const",
                           deterministic=True)
    depth = torch.nn.functional.interpolate(out["image_depth"], size=(32, 32), mode="nearest")
    direct = depth_to_uint8(depth)[0].astype(np.float64)
    assert np.abs(frames[3][0] - direct).mean() < 6
    assert np.abs(frames[1][0] - frames[3][0]).mean() > 3 * np.abs(frames[3][0] - direct).mean()


def test_pose_file_and_random_poses(tmp_path):
    import json

    from op3d.conditioning.body_model import random_body_poses, split_pose_params
    from op3d.conditioning.posed import load_pose_file

    path = tmp_path / "pose.json"
    path.write_text(json.dumps({"betas": [0.5, -0.2], "pose": [0.1] * 72, "transl": [0, 0.2, 0]}))
    betas, pose, transl = split_pose_params(load_pose_file(path))
    assert betas.tolist()[:3] == pytest.approx([0.5, -0.2, 0.0]) and pose.shape == (24, 3)
    assert transl.tolist() == pytest.approx([0, 0.2, 0])
    path.write_text(json.dumps({"betas": [0.1 * i for i in range(10)], "pose": [0] * 72}))  # all 10 betas
    assert split_pose_params(load_pose_file(path))[0].tolist() == pytest.approx([0.1 * i for i in range(10)])
    for bad, message in (({"pose": [0.1] * 71}, "71 values"), ({"betas": [1] * 11, "pose": [0] * 72}, "at most 10"),
                         ([1, 2], "JSON object"), ({"params": [0] * 84}, "84 values"),
                         ({"pose": [1e39] + [0] * 71}, "beyond float32"), ({"pose": [1e30] + [0] * 71}, "1e\\+30")):
        path.write_text(json.dumps(bad))
        with pytest.raises(ValueError, match=message):
            load_pose_file(path)
    poses = random_body_poses(500, torch.Generator().manual_seed(0))
    assert poses[:, 0].abs().max() == 0  # the caller sets the global orientation
    knees = poses[:, [4, 5], 0]
    assert knees.min() >= 0 and knees.max() <= 1.2 and poses[:, [4, 5], 1:].abs().max() == 0


def test_dataset_cli_writes_a_posed_dataset(tmp_path, capsys):
    from helpers import run_cli

    out = tmp_path / "bodies.zip"
    code, stdout, err = run_cli(["dataset", "synthetic-body", "--out", str(out), "--count", "3", "--resolution", "16"],
                                capsys)
    assert code == 0, err
    code, stdout, err = run_cli(["dataset", "check", str(out)], capsys)
    assert code == 0 and "poses 85-d (procedural)" in stdout


def test_canonical_points_read_the_planes_at_their_own_coordinates():
    """The planes span the canonical box [-1, 1]^3 (normalize_canonical puts the rest body there): the decoder's
    input at a point is the orthoplanes' mean feature at its canonical coordinates, unscaled (box_warp 2)."""
    from op3d.planes.sampling import aggregate_mean, sample_orthoplanes

    G = tiny_conditional()
    body = pose_bodies(procedural_body(num_betas=10), params_for(1, seed=2))
    ws = G.mapping(torch.randn(1, G.z_dim), torch.zeros(1, 25))
    pts = torch.rand(1, 300, 3) * 2.4 - 1.2
    seen = []
    hook = G.decoder.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    with torch.no_grad():
        planes = G.planes(ws)
        G.field(planes, ws=ws, body=body)(pts, None)
        canonical = G.canonical_points(pts, ws, body)
    hook.remove()
    assert float(canonical.abs().amax()) > 0.7  # some points sit where a doubled coordinate leaves the planes
    want = aggregate_mean(sample_orthoplanes(planes, canonical, 2.0))
    torch.testing.assert_close(seen[0], want, rtol=1e-5, atol=1e-6)
    # canonical point = normalized inverse-LBS point + the deformation MLP's offset there (added, not subtracted)
    from op3d.conditioning.inverse_lbs import inverse_lbs, normalize_canonical

    with torch.no_grad():
        rest, _ = inverse_lbs(pts, body.vertices, None, None, G.lbs_threshold, index=body.mesh_index(),
                              table=body.inverse_transform_table())
        x = normalize_canonical(rest, G.canonical_scale, G.canonical_offset)
        offset = G.deformation(x, G.deformation_condition(ws, body))
    assert float(offset.abs().amax()) > 1e-3
    torch.testing.assert_close(canonical, x + offset, rtol=0, atol=1e-6)


def test_training_poses_real_images_with_their_own_poses(tmp_path, monkeypatch):
    """The loop hands D's real branch the bodies of the real images' own poses (dataset.json) and the generated
    samples their drawn poses: each real body's betas are those stored for that very image."""
    from op3d.data.dataset import ImageDataset
    from op3d.data.synthetic_body import make_body_dataset
    from op3d.training.loop import TrainConfig, training_loop
    from op3d.training.loss import GANLoss, LossConfig

    data = make_body_dataset(tmp_path / "bodies.zip", 6, 32, seed=0)
    dataset = ImageDataset(data, use_poses=True)
    images = torch.stack([torch.from_numpy(dataset.load_image(i).transpose(2, 0, 1).copy()) for i in range(6)])
    seen = []
    monkeypatch.setattr(GANLoss, "accumulate_gradients", lambda self, phase, real_img, real_c, gen_z, gen_c, *a,
                        real_body=None, gen_body=None, **k: seen.append((real_img, real_body, gen_body, gen_c)) or {})
    loss = LossConfig(neural_rendering_resolution_initial=16, blur_fade_kimg=0, gpc_reg_prob=None)
    cfg = TrainConfig(outdir=str(tmp_path / "runs"), data=str(data), cfg="body", size="tiny", plane_number=4,
                      fourier_L=2, batch=3, workers=0, kimg=1, tick=1, conditional=True, loss=loss, seed=1)
    import op3d.training.loop as loop

    grids = []
    monkeypatch.setattr(loop, "save_fakes", lambda G, z, c, path, cfg, nimg, pose=None: grids.append((c, pose)))
    training_loop(cfg, max_steps=1, log=False)
    # the fakes grid renders each drawn dataset camera with that same image's pose
    labels = np.stack([dataset.get_label(i) for i in range(6)])
    for grid_c, grid_pose in grids:
        for c, pose in zip(grid_c.cpu().numpy(), grid_pose.cpu().numpy()):
            j = int(np.flatnonzero((labels == c).all(1))[0])
            np.testing.assert_array_equal(pose, dataset.get_pose(j))
    assert grids and len({tuple(c) for c in grids[0][0].tolist()}) > 1
    assert seen
    for real_img, real_body, gen_body, gen_c in seen:
        as_uint8 = ((real_img + 1) * 127.5).round().to(torch.uint8)
        index = [int((images == img).flatten(1).all(1).nonzero()[0]) for img in as_uint8]
        want = torch.stack([torch.as_tensor(dataset.get_pose(i)[:10], dtype=torch.float32) for i in index])
        torch.testing.assert_close(real_body.betas, want)
        # a generated sample takes the pose of the dataset image whose camera it takes
        drawn = [int(np.flatnonzero((labels == c).all(1))[0]) for c in gen_c.cpu().numpy()]
        want = torch.stack([torch.as_tensor(dataset.get_pose(i)[:10], dtype=torch.float32) for i in drawn])
        torch.testing.assert_close(gen_body.betas, want)


def test_points_within_ten_centimetres_follow_their_nearest_vertex():
    """OP3D's inverse LBS in the generator: a point within lbs_threshold = 0.1 m of the posed body takes the inverse
    transform of its nearest vertex, a farther one the root's (brute-force nearest vertex, float64 inverses)."""
    G = tiny_conditional()
    zero_residual_and_offset(G)
    assert G.lbs_threshold == 0.1
    body = pose_bodies(procedural_body(num_betas=10), params_for(1, seed=3))
    g = torch.Generator().manual_seed(0)
    verts = body.vertices[0]
    offsets = torch.nn.functional.normalize(torch.randn(400, 3, generator=g), dim=-1)
    offsets = offsets * (0.02 + 0.38 * torch.rand(400, 1, generator=g))  # 2-40 cm off a vertex
    pts = verts[torch.randint(len(verts), (400,), generator=g)] + offsets
    ws = G.mapping(torch.randn(1, G.z_dim), torch.zeros(1, 25))
    with torch.no_grad():
        got = G.canonical_points(pts[None], ws, body)[0]
    dist, nearest = torch.cdist(pts.double(), verts.double()).min(dim=1)
    inv_vertex = torch.linalg.inv(body.vertex_transforms[0].double())[nearest]
    inv_root = torch.linalg.inv(body.root_transform[0].double()).expand(len(pts), 4, 4)
    M = torch.where((dist <= 0.1)[:, None, None], inv_vertex, inv_root)
    rest = (M[:, :3, :3] @ pts.double()[:, :, None])[..., 0] + M[:, :3, 3]
    want = normalize_canonical(rest, G.canonical_scale, G.canonical_offset)
    assert 0.2 < float((dist <= 0.1).double().mean()) < 0.9 and int(((dist > 0.02) & (dist <= 0.1)).sum()) > 50
    torch.testing.assert_close(got.double(), want, rtol=0, atol=2e-5)


def test_metrics_of_a_pose_conditional_network_read_the_datasets_poses(tmp_path, capsys, monkeypatch):
    """op3d metrics on a pose-conditional network opens the dataset with its poses (each fake is rendered with a
    dataset pose); for an unconditional network, without. (compute_metric is a stand-in that records them.)"""
    from helpers import run_cli, tiny_generator, tiny_generator_kwargs

    import op3d.metrics.run as metric_run
    from op3d.data.synthetic_body import make_body_dataset
    from op3d.io.checkpoint import save_pretrained

    gkw = generator_kwargs("body", 32, "tiny", plane_number=4, fourier_L=2, neural_rendering_resolution=16)
    networks = {"conditional": save_pretrained(ConditionalGenerator(**gkw), tmp_path / "cond", gkw),
                "plain": save_pretrained(tiny_generator(), tmp_path / "plain", tiny_generator_kwargs())}
    data = make_body_dataset(tmp_path / "bodies.zip", 3, 32, seed=0)
    seen = []
    monkeypatch.setattr(metric_run, "compute_metric", lambda name, G, dataset, *a, **k: seen.append(
        (dataset.poses, getattr(G, "body_model", None))) or {"metric": name, "results": {"value": 1.0},
                                                              "total_time": 0.0})
    for name, network in networks.items():
        code, _, err = run_cli(["metrics", "--network", str(network), "--data", str(data), "--metrics", "swd",
                                "--outdir", str(tmp_path / name)], capsys)
        assert code == 0, err
    (poses, model), (none, _) = seen
    assert none is None and np.asarray(poses).shape == (3, 85) and model == "procedural"
    # --body-model names the body model of the dataset's poses for this evaluation (it replaces the network's)
    smpl = tmp_path / "SMPL_NEUTRAL.npz"
    code, _, err = run_cli(["metrics", "--network", str(networks["conditional"]), "--data", str(data),
                            "--metrics", "swd", "--body-model", str(smpl), "--outdir", str(tmp_path / "c2")], capsys)
    assert code == 0, err
    assert seen[-1][1] == str(smpl)
