"""The released pose-conditional OP3D generator against the ORIGINAL code (tests/fixtures/op3d_conditional, made by
tools/make_conditional_fixture.py: the original kaolin_version.TriMultiPlaneGenerator run on small random weights
with exact torch stand-ins for kaolin/pytorch3d, real_conditions computed in float64 numpy as export_pose.py)."""
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from helpers import REPO_FIXTURES, load_original_fixture, rel_l2
from legacy_pickles import EasyDict, dumps, records_from_module

import op3d
from op3d.cli import cli
from op3d.conditioning.body_model import procedural_body
from op3d.networks.conditional_legacy import LegacyConditionalGenerator, legacy_body

FIXTURE = REPO_FIXTURES / "op3d_conditional"
FLIP = torch.tensor([1.0, -1.0, -1.0])  # the released renderer turns rays by pi about x; G.sample does not


@pytest.fixture(scope="module")
def fixture():
    return load_original_fixture(FIXTURE)


def original_kwargs(config: dict) -> dict:
    return {k: v for k, v in config.items() if k not in ("class_name", "neural_rendering_resolution")}


def fixture_generator(fixture) -> LegacyConditionalGenerator:
    config, state, _ = fixture
    G = LegacyConditionalGenerator(**original_kwargs(config), body_model="procedural",
                                   neural_rendering_resolution=config["neural_rendering_resolution"])
    G.load_state_dict(state)
    return G.eval().requires_grad_(False)


def fixture_inputs(out, n: int | None = None):
    """The fixture's posed bodies (the procedural body in its recorded poses), ws and cameras: the first n."""
    body = legacy_body(procedural_body(), torch.from_numpy(out["pose_params"][:n]))
    return body, torch.from_numpy(out["ws"][:n]), torch.from_numpy(out["c"][:n])


def check_matches_original(G, out) -> None:
    body, ws, c = fixture_inputs(out)
    assert torch.equal(G.mapping(torch.from_numpy(out["z"]), c), ws)
    got = G.synthesis(ws, c, body=body, deterministic=True, noise_mode="const")
    for key in ("image", "image_raw", "image_depth", "sdf"):
        assert rel_l2(got[key], out[key]) < 1e-5, key
    # G.sample at points given in the original's frame: op3d's field takes world points (rays unturned)
    sampled = G.sample_density(torch.from_numpy(out["points"]) * FLIP, ws=ws, body=body, noise_mode="const")
    assert rel_l2(sampled["sigma"], out["sigma"]) < 1e-5 and rel_l2(sampled["rgb"], out["rgb"]) < 1e-5


def test_real_conditions_match_export_pose(fixture):
    """legacy_body == the float64 numpy re-computation of export_pose.py stored with the fixture."""
    out = fixture[2]
    model = procedural_body()
    assert np.array_equal(model.faces.numpy(), out["faces"]), "the procedural body changed: rebuild the fixture"
    body = legacy_body(model, torch.from_numpy(out["pose_params"]))
    for key in ("vertices", "fk_matrices", "full_pose", "body_shape"):
        assert np.abs(getattr(body, key).numpy() - out[f"cond_{key}"]).max() < 1e-5, key
    # the poses are not trivial: the root turn is removed, so the bodies face the same way but differ in shape
    assert not np.allclose(out["cond_vertices"][0], out["cond_vertices"][1], atol=1e-2)


@pytest.mark.parametrize("method", ["auto", "clusters"])  # Warp when installed; the torch twin
def test_generator_matches_original_code(fixture, method):
    from op3d.conditioning.mesh_index import mesh_query_method

    with mesh_query_method(method):
        check_matches_original(fixture_generator(fixture), fixture[2])


def test_fixture_exercises_both_lbs_branches_and_both_signs(fixture):
    """A parity check only proves what its samples reach: render samples lie both near the body (nearest-vertex
    inverse LBS) and far (root transform), some inside the mesh."""
    out = fixture[2]
    body = legacy_body(procedural_body(), torch.from_numpy(out["pose_params"]))
    q = torch.from_numpy(out["points"]) * 2  # box_warp 1: the scaled frame, before the y shift
    q[..., 1] -= 0.15
    d2 = torch.cdist(q.double(), body.vertices.double()).min(-1).values ** 2
    near = (d2 < 0.1).float().mean()
    from op3d.conditioning.mesh_sdf import mesh_sdf
    inside = (mesh_sdf(q, body.vertices, body.faces, method="brute") < 0).float().mean()
    assert 0.1 < near < 0.9 and inside > 0.005


def snapshot_of(G: LegacyConditionalGenerator, config: dict, path: Path) -> Path:
    src = "raise SystemExit('never executed')\n"
    record = records_from_module(G, src, init_kwargs=EasyDict(original_kwargs(config)),
                                 class_name="TriMultiPlaneGenerator", rendering_kwargs=G.rendering_kwargs,
                                 neural_rendering_resolution=config["neural_rendering_resolution"])
    path.write_bytes(dumps({"G": record, "G_ema": record, "D": None, "augment_pipe": None,
                            "training_set_kwargs": EasyDict(resolution=128)}))
    return path


def test_original_conditional_snapshot_imports_with_its_quirks(fixture, tmp_path):
    config, _, out = fixture
    path = snapshot_of(fixture_generator(fixture), config, tmp_path / "network-snapshot-shhq.pkl")
    H = op3d.load(path)
    assert isinstance(H, LegacyConditionalGenerator) and H.body_model == "smpl" and H.K == config["planes"]
    check_matches_original(H, out)
    # and through op3d's own format (op3d convert): same class, same weights
    result = CliRunner().invoke(cli, ["convert", str(path), str(tmp_path / "converted")])
    assert result.exit_code == 0, result.output
    C = op3d.load(tmp_path / "converted")
    assert isinstance(C, LegacyConditionalGenerator) and C.neural_rendering_resolution == 16
    assert all(torch.equal(v, H.state_dict()[k]) for k, v in C.state_dict().items())


def one_line_failure(argv, capsys) -> str:
    from op3d.cli import main

    with pytest.raises(SystemExit) as info:
        main(argv)
    err = capsys.readouterr().err.strip()
    assert info.value.code == 1 and err.startswith("Error: ") and "\n" not in err, err
    return err


def test_sample_cli_renders_an_imported_conditional_snapshot(fixture, tmp_path, capsys):
    config, _, out = fixture
    path = snapshot_of(fixture_generator(fixture), config, tmp_path / "shhq.pkl")
    pose = tmp_path / "pose.json"
    pose.write_text(json.dumps({"params": out["pose_params"][0].tolist()}))
    base = ["sample", "--network", str(path), "--seeds", "3", "--pose", str(pose), "--outdir", str(tmp_path / "o"),
            "--views", "0", "--device", "cpu"]
    assert "--body-model PATH/TO/SMPL_NEUTRAL.pkl" in one_line_failure(base, capsys)
    result = CliRunner().invoke(cli, base + ["--body-model", "procedural"])
    assert result.exit_code == 0, result.output
    images = sorted((tmp_path / "o").glob("*.png"))
    assert images
    from PIL import Image

    pixels = np.asarray(Image.open(images[0]))
    assert pixels.std() > 1  # a rendered body, not a blank frame


def test_fine_tuning_refuses_the_released_conditional_generator(fixture, tmp_path):
    from op3d.training.loop import TrainConfig, _fine_tune_start

    config, _, _ = fixture
    path = snapshot_of(fixture_generator(fixture), config, tmp_path / "shhq.pkl")
    with pytest.raises(ValueError, match="sampling and metrics only"):
        _fine_tune_start(TrainConfig(outdir=str(tmp_path), data=None), path, 128)


def test_legacy_marcher_against_a_hand_computation():
    """ray_march_samples on one ray of two samples: alpha_i = 1 - exp(-sigma_i delta_i), last delta 1e9."""
    from op3d.rendering.marcher import ray_march_samples

    depths = torch.tensor([2.0, 2.5]).reshape(1, 1, 2, 1)
    dens = torch.tensor([0.8, 3.0]).reshape(1, 1, 2, 1)
    colors = torch.tensor([[0.2], [0.6]]).reshape(1, 1, 2, 1)
    rgb, depth, w = ray_march_samples(colors, dens, depths)
    a0 = 1 - math.exp(-0.8 * 0.5)
    a1 = 1.0  # 1 - exp(-3e9)
    w0, w1 = a0, a1 * (1 - a0 + 1e-10)
    assert torch.allclose(w.flatten(), torch.tensor([w0, w1]), atol=1e-6)
    total = w0 + w1
    assert math.isclose(float(rgb), (0.2 * w0 + 0.6 * w1 + 1 - total) * 2 - 1, abs_tol=1e-6)
    assert math.isclose(float(depth), (2.0 * w0 + 2.5 * (w1 + 1 - total)) / total, abs_tol=1e-6)
    # an almost empty ray: the leftover weight 1 - sum w sits on the last sample, so the depth runs far past the
    # last sample and is clamped there (averaging the weights alone would give about 2.0), colour goes white
    dens = torch.tensor([1e-3, 1e-20]).reshape(1, 1, 2, 1)
    rgb, depth, w = ray_march_samples(colors, dens, depths)
    w0 = 1 - math.exp(-1e-3 * 0.5)
    assert math.isclose(float(w.sum()), w0, rel_tol=1e-4)
    assert math.isclose(float(depth), 2.5, abs_tol=1e-6)
    assert math.isclose(float(rgb), (0.2 * w0 + 1 - w0) * 2 - 1, abs_tol=1e-6)


def test_stochastic_renders_draw_only_from_the_given_generator(fixture):
    """deterministic=False: stratified jitter and importance samples come from `generator` alone, so the same
    generator seed renders the same image whatever the global RNG did, and another seed renders another."""
    G, out = fixture_generator(fixture), fixture[2]
    body, ws, c = fixture_inputs(out)
    render = lambda seed: G.synthesis(ws, c, body=body, deterministic=False, noise_mode="const",
                                      generator=torch.Generator().manual_seed(seed))["image_raw"]
    torch.manual_seed(1)
    a = render(5)
    torch.manual_seed(2)
    assert torch.equal(render(5), a) and not torch.equal(render(6), a)


def test_random_importance_samples_come_from_the_generators_uniforms(fixture, monkeypatch):
    """deterministic=False: the released renderer inverts its importance CDF at uniforms drawn from `generator`
    right after the stratified jitter ([B, R, S, 1], then [B * R, N]), as the original's sample_pdf(det=False)."""
    import op3d.networks.conditional_legacy as legacy

    G = fixture_generator(fixture)
    B, R = 2, 5
    S, N = G.render_options.depth_resolution, G.render_options.depth_resolution_importance
    seen = []
    real = legacy.importance_depths
    monkeypatch.setattr(legacy, "importance_depths", lambda d, w, n, u: seen.append(u) or real(d, w, n, u))
    origins = torch.tensor([0.0, 0.0, 2.7]).expand(B, R, 3)
    dirs = torch.nn.functional.normalize(torch.randn(B, R, 3, generator=torch.Generator().manual_seed(0)) * 0.1
                                         + torch.tensor([0.0, 0.0, -1.0]), dim=-1)

    def field(points, _):  # a sphere of radius 0.5: body term d |d|, no residual
        d = points.norm(dim=-1, keepdim=True) - 0.5
        return {"rgb": points, "residual": torch.zeros_like(d), "mesh_sdf": d * d.abs()}
    G._render(field, origins, dirs, deterministic=False, generator=torch.Generator().manual_seed(7))
    draws = torch.Generator().manual_seed(7)
    torch.rand((B, R, S, 1), generator=draws)
    assert N > 0 and len(seen) == 1 and torch.equal(seen[0], torch.rand((B * R, N), generator=draws))


def test_the_released_conditional_generator_returns_the_originals_aliased_raw_image(fixture):
    """Like the unconditional imports, the released conditional generator keeps the original's image_raw quirk:
    at a neural rendering resolution equal to Hybrid2X's input (64; its first block does not upsample) image_raw
    is the raw image after the block's in-place skip addition. Switching the quirk off changes image_raw only."""
    G, out = fixture_generator(fixture), fixture[2]
    assert G.legacy_raw_alias
    body, ws, c = fixture_inputs(out, 1)
    render = lambda: G.synthesis(ws, c, body=body, deterministic=True, noise_mode="const",
                                 neural_rendering_resolution=64)
    aliased = render()
    G.legacy_raw_alias = False
    clean = render()
    assert torch.equal(aliased["image"], clean["image"])
    assert rel_l2(aliased["image_raw"], clean["image_raw"]) > 1e-3


def test_the_released_conditional_renderer_gives_the_same_images_in_ray_chunks(fixture):
    """Rendering the 16 x 16 rays in chunks of 37 (the last one shorter) gives the same image, depth and
    composited sdf as all at once (deterministic mode: the same samples per ray)."""
    G, out = fixture_generator(fixture), fixture[2]
    body, ws, c = fixture_inputs(out)
    render = lambda **kw: G.synthesis(ws, c, body=body, deterministic=True, noise_mode="const", **kw)
    whole, chunked = render(), render(chunk=37)
    for key in ("image_raw", "image_depth", "sdf"):
        torch.testing.assert_close(chunked[key], whole[key], rtol=1e-5, atol=1e-6, msg=key)


def test_the_released_conditional_field_scales_points_by_two_over_box_warp(fixture):
    """The released field reads world points scaled by 2 / box_warp (the fixture has box_warp 1): with box_warp 2
    it gives at p exactly what box_warp 1 gives at p / 2."""
    import dataclasses

    G, out = fixture_generator(fixture), fixture[2]
    body, ws, _ = fixture_inputs(out)
    planes = G.planes(ws, noise_mode="const")
    p = torch.from_numpy(out["points"]).float()
    want = G.field(planes, ws=ws, body=body)(p / 2, None)
    G.render_options = dataclasses.replace(G.render_options, box_warp=2.0)
    got = G.field(planes, ws=ws, body=body)(p, None)
    assert float(want["mesh_sdf"].abs().max()) > 0.1
    for key in ("rgb", "sigma", "sdf", "mesh_sdf"):
        torch.testing.assert_close(got[key], want[key], rtol=0, atol=1e-6, msg=key)


def test_the_released_renderer_without_importance_samples_evaluates_the_coarse_samples_once(fixture):
    """depth_resolution_importance 0: one field evaluation at the S coarse samples of every ray, and the composited
    sdf is the field's residual + body term there, once (the released double body term comes with fine samples
    only)."""
    import dataclasses

    G, out = fixture_generator(fixture), fixture[2]
    body, ws, c = fixture_inputs(out)
    G.render_options = dataclasses.replace(G.render_options, depth_resolution_importance=0)
    seen, field = [], G.field

    def recording_field(*args, **kwargs):
        evaluate = field(*args, **kwargs)
        return lambda points, dirs: seen.append(evaluate(points, dirs)) or seen[-1]

    G.field = recording_field
    got = G.synthesis(ws, c, body=body, deterministic=True, noise_mode="const")
    S, R = G.render_options.depth_resolution, 16 * 16
    assert [f["residual"].shape[1] for f in seen] == [R * S]
    want = (seen[0]["residual"] + seen[0]["mesh_sdf"]).reshape(got["sdf"].shape)
    assert float(seen[0]["mesh_sdf"].abs().max()) > 0.1
    torch.testing.assert_close(got["sdf"], want, rtol=0, atol=0)


def test_omitted_image_channels_default_to_rgb(fixture):
    """Without img_channels the released generator makes RGB images: the fixture's weights (img_channels 3) load
    into it and its images have 3 channels."""
    config, state, _ = fixture
    kwargs = {k: v for k, v in original_kwargs(config).items() if k != "img_channels"}
    G = LegacyConditionalGenerator(**kwargs, body_model="procedural",
                                   neural_rendering_resolution=config["neural_rendering_resolution"])
    G.load_state_dict(state)
    assert G.img_channels == 3
