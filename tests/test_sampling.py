"""Sampling seeds, shapes and videos through the command line on a tiny checkpoint."""
import json
import math
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from helpers import near_level, record_calls, run_cli, tiny_generator, tiny_generator_kwargs
from PIL import Image

import op3d
from op3d.io.checkpoint import save_pretrained
from op3d.networks.generator import Generator
from op3d.sampling.render import seed_ws
from op3d.sampling.video import catmull_rom
from op3d.sampling.views import parse_seeds, parse_views, view_labels
from op3d.shapes.export import read_mrc


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    kw = tiny_generator_kwargs()
    torch.manual_seed(0)
    G = Generator(**kw).eval()
    return save_pretrained(G, tmp_path_factory.mktemp("ckpt") / "G", kw)


def test_parse_seeds_and_views():
    assert parse_seeds("0-3,7") == [0, 1, 2, 3, 7] and parse_seeds("5") == [5] and parse_seeds(" 0, 2-3 ") == [0, 2, 3]
    for bad in ("3-1", "a", "1,,2"):
        with pytest.raises(ValueError, match="--seeds"):
            parse_seeds(bad)
    assert parse_seeds("4294967295") == [2 ** 32 - 1]  # numpy RandomState takes seeds below 2^32
    with pytest.raises(ValueError, match="--seeds"):
        parse_seeds("4294967296")
    # at most a million seeds per command, counted over all ranges together
    assert len(parse_seeds("0-999999")) == 1_000_000
    for bad in ("0-1000000", "0-599999,1000000-1499999", "0-999999,5"):
        with pytest.raises(ValueError, match="more than 1,000,000 seeds"):
            parse_seeds(bad)
    views = parse_views("-90,0/45")
    assert [v for view in views for v in view] == pytest.approx([-np.pi / 2, 0.0, 0.0, np.pi / 4])
    with pytest.raises(ValueError, match="--views"):
        parse_views("left")
    from op3d.sampling.views import parse_grid
    assert parse_grid("3x2") == (3, 2) and parse_grid("1X1") == (1, 1)
    for bad in ("0x2", "2x0", "-1x-1", "0x0"):  # each side at least 1
        with pytest.raises(ValueError, match="--grid"):
            parse_grid(bad)


def test_seed_latents_do_not_depend_on_the_batch(checkpoint):
    import op3d

    G = op3d.load(checkpoint)
    together = seed_ws(G, [4, 9, 11])
    assert torch.equal(together[1:2], seed_ws(G, [9]))
    assert not torch.equal(together[0], together[1])


def test_render_views_renders_each_latent_as_its_own_synthesis(checkpoint):
    """render_views of two latents from two views == G.synthesis of each latent from each view alone (constant
    noise, deterministic sampling): a latent's planes and its super-resolution styles are its own."""
    import op3d
    from op3d.sampling.render import render_views
    from op3d.sampling.views import view_labels

    G = op3d.load(checkpoint)
    with torch.no_grad():
        ws = seed_ws(G, [3, 8])
        cams = view_labels(G, [(-0.3, 0.1), (0.2, 0.0)])
        got = render_views(G, ws, cams, batch=1)
        for s in range(2):
            for v in range(2):
                want = G.synthesis(ws[s:s + 1], cams[v:v + 1], noise_mode="const", deterministic=True)
                for key in ("image", "image_raw", "image_depth"):
                    torch.testing.assert_close(got[key][s, v], want[key][0], rtol=1e-5, atol=1e-6, msg=key)


def test_sample_cli_writes_images_depth_and_mrc(checkpoint, tmp_path, capsys):
    code, _, err = run_cli(["sample", "--network", str(checkpoint), "--seeds", "1-2", "--outdir", str(tmp_path),
                     "--views", "-20,0,20", "--shapes", "--shape-res", "24", "--grid"], capsys)
    assert code == 0, err
    strip = np.asarray(Image.open(tmp_path / "seed0001.png"))
    assert strip.shape == (64, 3 * 64, 3)
    assert np.asarray(Image.open(tmp_path / "seed0002_depth.png")).shape == (64, 192, 3)
    assert np.asarray(Image.open(tmp_path / "grid.png")).shape == (128, 192, 3)
    grid = read_mrc(tmp_path / "seed0001.mrc")
    assert grid.values.shape == (24, 24, 24) and grid.voxel_size == pytest.approx(1.0 / 23, rel=1e-6)
    assert (grid.values[:2] == -1000).all()  # OP3D's border trimming


def test_sample_cli_errors_are_one_line(checkpoint, tmp_path, capsys):
    args = ["sample", "--network", str(checkpoint), "--seeds", "1-x", "--outdir", str(tmp_path)]
    code, _, err = run_cli(args, capsys)
    assert code == 1 and "--seeds" in err and err.count("\n") == 1
    code, _, err = run_cli(["sample", "--network", str(checkpoint), "--seeds", "1", "--outdir", str(tmp_path),
                     "--shapes", "--shape-res", "8", "--shape-format", "ply", "--mesh-level", "1e9"], capsys)
    assert code == 1 and "outside the density range" in err
    # pose options on an unconditional network are refused (they were silently ignored), nothing is written
    code, _, err = run_cli(["sample", "--network", str(checkpoint), "--seeds", "1", "--outdir", str(tmp_path / "p"),
                            "--data", str(tmp_path)], capsys)
    assert code == 2 and "--data: pose-conditional networks only" in err and not (tmp_path / "p").exists()
    # a video grid takes a whole number of grids' worth of seeds: 6 seeds for 2x2 cells is refused up front
    code, _, err = run_cli(["video", "--network", str(checkpoint), "--seeds", "0-5", "--grid", "2x2", "--output",
                            str(tmp_path / "v.mp4")], capsys)
    assert code == 2 and "6 seeds is not a multiple of the grid size 4" in err and not (tmp_path / "v.mp4").exists()


def test_catmull_rom_passes_through_keys():
    keys = torch.randn(4, 3)
    for i in range(4):
        torch.testing.assert_close(catmull_rom(keys, float(i)), keys[i])


def test_catmull_rom_between_keys_is_the_uniform_cubic():
    """Closed uniform Catmull-Rom: on [i, i+1] the cubic with p(i) = P_i, p(i+1) = P_{i+1} and tangents
    (P_{i+1} - P_{i-1}) / 2, (P_{i+2} - P_i) / 2 (cubic Hermite form, float64, wrap-around indices)."""
    keys = torch.randn(5, 3, dtype=torch.float64)
    for t in (0.3, 1.5, 4.75):
        i, f = int(t), t - int(t)
        p0, p1, p2, p3 = (keys[(i + d) % 5] for d in (-1, 0, 1, 2))
        m1, m2 = (p2 - p0) / 2, (p3 - p1) / 2
        h00, h10, h01, h11 = 2 * f**3 - 3 * f**2 + 1, f**3 - 2 * f**2 + f, -2 * f**3 + 3 * f**2, f**3 - f**2
        torch.testing.assert_close(catmull_rom(keys, t), h00 * p1 + h10 * m1 + h01 * p2 + h11 * m2)


def test_video_orbits_once_over_the_whole_video(monkeypatch, tmp_path):
    """render_video: frame f of keys * frames_per_key is at orbit phase f / total (one orbit per video, as
    gen_videos.py) and at latent position f / frames_per_key."""
    pytest.importorskip("imageio.v2")
    pytest.importorskip("imageio_ffmpeg")
    import op3d.sampling.video as video

    G = tiny_generator().eval()
    phases, positions = [], []
    orbit, interp = video.orbit_label, video.catmull_rom
    monkeypatch.setattr(video, "orbit_label", lambda G, phase, **kw: phases.append(phase) or orbit(G, phase, **kw))
    monkeypatch.setattr(video, "catmull_rom", lambda keys, t: positions.append(t) or interp(keys, t))
    grad_modes, modes, synthesis = [], set(), G.synthesis
    monkeypatch.setattr(G, "synthesis", lambda *a, **k: grad_modes.append(torch.is_grad_enabled()) or
                        modes.add((k.get("noise_mode"), k.get("deterministic"))) or synthesis(*a, **k))
    ws = G.mapping(torch.randn(3, G.z_dim), torch.zeros(3, 25)).reshape(3, 1, 1, G.num_ws, -1)
    video.render_video(G, ws, tmp_path / "v.mp4", frames_per_key=2)
    assert phases == pytest.approx([f / 6 for f in range(6)]) and positions == pytest.approx([f / 2 for f in range(6)])
    assert grad_modes == [False] * 6  # frames render without autograd (no graph kept per frame)
    assert modes == {("const", True)}  # constant noise and fixed ray samples: no flicker between frames or runs


def test_sample_views_use_the_constant_noise(checkpoint):
    """Seeds render the same image every time: the per-layer noise is the stored constant (noise_mode 'const'),
    visible here because the noise strengths are non-zero."""
    from op3d.sampling.render import render_views

    torch.manual_seed(0)
    G = Generator(**tiny_generator_kwargs()).eval()
    with torch.no_grad():
        for name, p in G.named_parameters():
            if name.endswith("noise_strength"):
                p.fill_(0.5)
    from op3d.sampling.views import view_labels

    ws, cams = seed_ws(G, [1]), view_labels(G, [(0.0, 0.0)])
    a = render_views(G, ws, cams)["image"]
    b = render_views(G, ws, cams)["image"]
    assert torch.equal(a, b)
    with torch.no_grad():
        want = G.synthesis(ws, cams, noise_mode="const", deterministic=True)["image"]
    torch.testing.assert_close(a[0], want)


def test_video_is_written_and_readable(checkpoint, tmp_path, capsys):
    imageio = pytest.importorskip("imageio.v2")
    pytest.importorskip("imageio_ffmpeg")
    path = tmp_path / "v.mp4"  # --output without the .mp4 suffix: written (and reported) with it
    code, out, err = run_cli(["video", "--network", str(checkpoint), "--seeds", "0-3", "--grid", "2x1", "--w-frames",
                              "3", "--mode", "depth", "--output", str(tmp_path / "v")], capsys)
    assert code == 0, err
    assert str(path) in out and sorted(p.name for p in tmp_path.iterdir()) == ["v.mp4"]
    frames = list(imageio.get_reader(str(path)).iter_data())  # (len() of an ffmpeg reader is inf)
    assert len(frames) == 6 and frames[0].shape == (64, 128, 3)


def test_metrics_cli(checkpoint, tmp_path, capsys):
    from op3d.data.synthetic import make_synthetic_dataset

    data = make_synthetic_dataset(tmp_path / "d.zip", 6, 64, seed=0, progress=False)
    code, _, err = run_cli(["metrics", "--network", str(checkpoint), "--metrics", "swd,reproj", "--data", str(data),
                     "--num", "4", "--outdir", str(tmp_path)], capsys)
    assert code == 0, err
    assert (tmp_path / "metric-swd.jsonl").is_file() and (tmp_path / "metric-reproj.jsonl").is_file()
    record = json.loads((tmp_path / "metric-swd.jsonl").read_text())  # the evaluated network, as calc_metrics
    assert record["network"] == str(checkpoint) and record["metric"] == "swd", record
    code, _, err = run_cli(["metrics", "--network", str(checkpoint), "--metrics", "fid50k_full"], capsys)
    assert code == 1 and "Inception detector" in err
    # --body-model is for pose-conditional networks: a usage error here, before any work
    code, _, err = run_cli(["metrics", "--network", str(checkpoint), "--metrics", "swd", "--data", str(data),
                            "--num", "4", "--body-model", "procedural"], capsys)
    assert code == 2 and "pose-conditional networks only" in err, err
    # without --outdir, results go beside the network: into a checkpoint directory, not its parent; and the
    # dataset is the run's (training_options.json of the snapshot's run directory), as calc_metrics.py finds it
    snap = Path(shutil.copytree(checkpoint, tmp_path / "run" / "network-snapshot-000000004img"))
    (snap.parent / "training_options.json").write_text(json.dumps({"data": str(data)}))
    code, _, err = run_cli(["metrics", "--network", str(snap), "--metrics", "reproj,swd", "--num", "4", "--seed", "1"],
                           capsys)
    assert code == 0, err
    assert (snap / "metric-reproj.jsonl").is_file() and not (snap.parent / "metric-reproj.jsonl").exists()
    # --seed reaches the metric: the same network and --num give other latents
    read = lambda path: json.loads(path.read_text().splitlines()[-1])["results"]
    assert read(snap / "metric-reproj.jsonl") != read(tmp_path / "metric-reproj.jsonl")
    assert read(snap / "metric-swd.jsonl") != read(tmp_path / "metric-swd.jsonl")
    # an explicit --data wins over the run's dataset; a run whose dataset has moved asks for --data
    code, _, err = run_cli(["metrics", "--network", str(snap), "--metrics", "reproj", "--num", "2", "--data",
                            str(data)], capsys)
    assert code == 0 and "dataset from" not in err, err
    (snap.parent / "training_options.json").write_text(json.dumps({"data": str(tmp_path / "moved.zip")}))
    code, _, err = run_cli(["metrics", "--network", str(snap), "--metrics", "swd", "--num", "2"], capsys)
    assert code != 0 and "needs --data" in err and "Traceback" not in err, err


def test_video_orbit_follows_gen_videos():
    """EG3D's gen_videos.py orbit: yaw pi/2 + 0.35 sin(2 pi t), pitch pi/2 - 0.05 + 0.25 cos(2 pi t) on the
    radius around the origin, looking at the pivot; camera positions from the LookAt formula written out."""
    import math

    from op3d.sampling.video import orbit_label

    G = tiny_generator()
    radius = G.rendering_kwargs["avg_camera_radius"]
    for t in (0.0, 0.25, 0.6):
        yaw = math.pi / 2 + 0.35 * math.sin(2 * math.pi * t)
        pitch = math.pi / 2 - 0.05 + 0.25 * math.cos(2 * math.pi * t)
        phi = math.acos(1 - 2 * pitch / math.pi)
        want = torch.tensor([radius * math.sin(phi) * math.cos(math.pi - yaw), radius * math.cos(phi),
                             radius * math.sin(phi) * math.sin(math.pi - yaw)])
        got = orbit_label(G, t)[0, :16].reshape(4, 4)[:3, 3]
        torch.testing.assert_close(got, want, atol=1e-5, rtol=0)


def test_video_cells_are_tiled_row_by_row():
    """tile_cells: cell k of an H x W grid (row by row) lands at row k // W, column k % W of the frame."""
    from op3d.sampling.video import tile_cells

    H, W, R = 2, 3, 4
    cells = np.stack([np.full((R, R, 3), k, dtype=np.uint8) for k in range(H * W)])
    cells[:, 0, 1] += 100  # one marked pixel per cell: orientation inside the cell survives too
    frame = tile_cells(cells, H, W)
    assert frame.shape == (H * R, W * R, 3)
    for k in range(H * W):
        block = frame[(k // W) * R:(k // W + 1) * R, (k % W) * R:(k % W + 1) * R]
        np.testing.assert_array_equal(block, cells[k])


class _SphereBodyG:
    """A stand-in pose-conditional generator: the exact signed distance of an off-centre sphere (negative inside;
    off-centre so that swapped axes show) and colours linear in the point, partly outside [0, 1]."""

    centre, radius = torch.tensor([0.4, -0.35, 0.05]), 0.3

    def __init__(self):
        self.render_options = SimpleNamespace(box_warp=2.0)

    def sample_density(self, pts, ws=None, planes=None, body=None):
        assert body == "body" and ws is not None  # the pose-conditional path gets the latent and the body
        sdf = (pts - self.centre).norm(dim=-1, keepdim=True) - self.radius
        return {"sdf": sdf, "rgb": torch.cat([pts * 2 + 0.5, 1 - pts[..., :1] * 3, pts[..., :1] ** 2], dim=-1)}


def test_pose_conditional_grids_hold_minus_sdf_at_the_voxel_positions():
    """density_grid of a pose-conditional generator: -sdf (positive inside) at origin + index * voxel, not trimmed;
    mesh_grid (coarse to fine through the point path) equals it where the surface passes; vertex colours are the
    decoder's first three channels clamped to [0, 1]."""
    from op3d.sampling.render import density_grid, mesh_grid, vertex_colors

    G, planes, ws, n = _SphereBodyG(), torch.zeros(1, 1), torch.zeros(1, 1, 1), 33
    dense = density_grid(G, planes, n, ws=ws, body="body")
    axis = -1 + np.arange(n) * 2 / (n - 1)
    x, y, z = np.meshgrid(axis, axis, axis, indexing="ij")
    c = G.centre.double().numpy()
    want = G.radius - np.sqrt((x - c[0]) ** 2 + (y - c[1]) ** 2 + (z - c[2]) ** 2)
    np.testing.assert_allclose(dense.values, want, rtol=0, atol=2e-6)
    assert dense.values.max() > 0.25 and dense.voxel_size == pytest.approx(2 / (n - 1))
    np.testing.assert_allclose(dense.origin, [-1, -1, -1])

    near = near_level(dense.values, 0.0)
    assert near.sum() > 300
    for chunk in (1 << 17, 200):  # the coarse 9^3 lattice in one slab, or in slabs of 2 x planes
        fine = mesh_grid(G, planes, n, 0.0, ws=ws, body="body", chunk=chunk)
        np.testing.assert_allclose(fine.values[near], dense.values[near], rtol=0, atol=2e-6)

    verts = torch.tensor([[0.1, -0.4, 0.2], [-0.3, 0.3, -0.1], [0.6, 0.0, 0.5]])
    want_rgb = torch.stack([verts[:, 0] * 2 + 0.5, verts[:, 1] * 2 + 0.5, verts[:, 2] * 2 + 0.5], dim=1)
    got = vertex_colors(G, planes, verts.numpy(), ws=ws, body="body")
    torch.testing.assert_close(got, want_rgb.clamp(0, 1))
    assert bool((want_rgb < 0).any() and (want_rgb > 1).any())


def test_fov_deg_is_the_full_field_of_view():
    """--fov-deg F: normalized focal 1 / (1.414 tan(F / 2)) (EG3D's FOV_to_intrinsics); EG3D's FFHQ focal 4.2647
    is a field of view of 18.837 degrees."""
    from op3d.sampling.views import camera_focal

    G = tiny_generator()
    assert camera_focal(G, 18.837) == pytest.approx(4.2647, rel=1e-3)
    assert camera_focal(G, 90.0) == pytest.approx(1 / 1.414, rel=1e-9)


def test_sampling_cameras_without_the_preset_camera_keys_are_eg3ds_ffhq_ones():
    """A network whose rendering_kwargs lack avg_camera_radius / avg_camera_pivot / avg_camera_focal (older
    checkpoints) orbits as EG3D's FFHQ sampling scripts do: radius 2.7 around the origin, 18.837 degrees."""
    from op3d.sampling.views import DEFAULT_FOV, camera_focal, camera_setup

    G = tiny_generator()
    for key in ("avg_camera_radius", "avg_camera_pivot", "avg_camera_focal"):
        G.rendering_kwargs.pop(key, None)
    assert camera_setup(G) == (2.7, (0.0, 0.0, 0.0)) and DEFAULT_FOV == 18.837
    assert camera_focal(G) == pytest.approx(4.2647, rel=1e-3)


class _RecordingWriter:
    """Stands in for imageio's ffmpeg writer: keeps the frames and the fps it was opened with."""

    opened: list = []

    def __init__(self, path, fps, **kw):
        self.path, self.fps, self.frames = path, fps, []
        _RecordingWriter.opened.append(self)

    def append_data(self, frame):
        self.frames.append(frame)

    def close(self):
        open(self.path, "wb").close()


@pytest.mark.parametrize("mode", ["raw", "depth"])
def test_video_frames_upscale_raw_and_depth_by_nearest_at_the_given_fps(monkeypatch, tmp_path, mode):
    """Raw and depth frames are the neural rendering upscaled to the image size by pixel repetition (nearest),
    written at --fps."""
    imageio = pytest.importorskip("imageio.v2")
    import op3d.sampling.video as video
    from op3d.training.report import depth_to_uint8, to_uint8

    G = tiny_generator().eval()
    R, r = G.img_resolution, G.neural_rendering_resolution
    low = torch.rand(1, 3 if mode == "raw" else 1, r, r, generator=torch.Generator().manual_seed(0)) * 2 - 1
    if mode == "depth":
        low = low + 3
    out = {"image": torch.zeros(1, 3, R, R), "image_raw": low, "image_depth": low}
    monkeypatch.setattr(G, "synthesis", lambda *a, **k: out)
    monkeypatch.setattr(imageio, "get_writer", _RecordingWriter)
    _RecordingWriter.opened = []
    ws = torch.zeros(2, 1, 1, G.num_ws, G.w_dim)
    video.render_video(G, ws, tmp_path / "v.mp4", frames_per_key=1, mode=mode, fps=12)
    writer, = _RecordingWriter.opened
    assert writer.fps == 12 and len(writer.frames) == 2
    k = R // r
    up = low.repeat_interleave(k, dim=2).repeat_interleave(k, dim=3)  # pixel repetition by hand
    want = (depth_to_uint8(up) if mode == "depth" else to_uint8(up))[0]
    assert want.shape == (R, R, 3) and len(np.unique(want)) > 10
    np.testing.assert_array_equal(writer.frames[0], want)


def test_video_sample_mult_scales_coarse_and_importance_samples(checkpoint, tmp_path, capsys, monkeypatch):
    import op3d
    import op3d.sampling.video as video

    loaded, load = [], op3d.load
    monkeypatch.setattr(op3d, "load", lambda *a, **k: loaded.append(load(*a, **k)) or loaded[-1])
    monkeypatch.setattr(video, "render_video", lambda G, *a, **k: tmp_path / "v.mp4")
    base = load(checkpoint).render_options
    code, _, err = run_cli(["video", "--network", str(checkpoint), "--seeds", "0", "--grid", "1x1",
                            "--sample-mult", "2", "--output", str(tmp_path / "v.mp4")], capsys)
    assert code == 0, err
    options = loaded[0].render_options
    assert options.depth_resolution == 2 * base.depth_resolution
    assert options.depth_resolution_importance == 2 * base.depth_resolution_importance > 0


def test_fov_deg_reaches_the_sample_and_video_cameras(checkpoint, tmp_path, capsys, monkeypatch):
    """op3d sample --fov-deg 30 renders with focal 1 / (1.414 tan 15 deg) (label entries 16 and 20, fx and fy),
    and so does the video orbit."""
    import math

    import op3d.sampling.render as rendering
    from op3d.sampling.video import orbit_label

    focal = 1 / (1.414 * math.tan(math.radians(15)))
    calls = record_calls(monkeypatch, rendering, "render_views")
    code, _, err = run_cli(["sample", "--network", str(checkpoint), "--seeds", "1", "--outdir", str(tmp_path),
                            "--fov-deg", "30"], capsys)
    assert code == 0, err
    (args, _), = calls["render_views"]
    cams = args[2]
    assert torch.allclose(cams[:, [16, 20]], torch.full((len(cams), 2), focal))
    G = tiny_generator()
    assert orbit_label(G, 0.3, fov_deg=30)[0, [16, 20]].tolist() == pytest.approx([focal, focal], rel=1e-6)
    assert orbit_label(G, 0.3)[0, 16] != pytest.approx(focal, rel=1e-3)  # the preset's own differs
    assert not list(tmp_path.glob("*.mrc"))  # shapes only with --shapes
    # without --fov-deg: the network's own focal (a preset's avg_camera_focal, as the body preset has), not 18.837 deg
    kw = tiny_generator_kwargs()
    kw["rendering_kwargs"]["avg_camera_focal"] = 2.0
    torch.manual_seed(0)
    own = save_pretrained(Generator(**kw), tmp_path / "own", kw)
    calls["render_views"].clear()
    code, _, err = run_cli(["sample", "--network", str(own), "--seeds", "1", "--outdir", str(tmp_path / "o")], capsys)
    assert code == 0, err
    (args, _), = calls["render_views"]
    assert torch.allclose(args[2][:, [16, 20]], torch.full((len(args[2]), 2), 2.0))


def test_unconditional_meshes_default_to_level_10(checkpoint, tmp_path, capsys):
    """--mesh-level defaults to 10 (OP3D's density level) for unconditional networks (0 is the SDF level of
    pose-conditional ones): the default mesh is the --mesh-level 10 one, and another level gives another mesh."""
    import op3d

    G = op3d.load(checkpoint)
    last = G.decoder.net[-1]
    with torch.no_grad():  # raw densities of this tiny network lie in about [-1, 0]: shift them around 10
        last.bias[0] += 10.4 / last.bias_gain
    shifted = save_pretrained(G, tmp_path / "G", G.init_kwargs)
    outs = {}
    for name, extra in (("default", []), ("ten", ["--mesh-level", "10"]), ("other", ["--mesh-level", "10.2"]),
                        ("zero", ["--mesh-level", "0"])):
        code, _, err = run_cli(["sample", "--network", str(shifted), "--seeds", "3", "--outdir", str(tmp_path / name),
                                "--views", "0", "--shapes", "--shape-res", "20", "--shape-format", "ply", *extra],
                               capsys)
        assert code == 0, err
        outs[name] = (tmp_path / name / "seed0003.ply").read_bytes()
    assert outs["default"] == outs["ten"] != outs["other"]
    assert outs["default"] != outs["zero"]  # 0 is in range here too (the trimmed border holds -1000)
    # vertex colours from the decoder by default (--shape-colors), none with --no-shape-colors: the same mesh
    from test_shapes import read_binary_ply
    code, _, err = run_cli(["sample", "--network", str(shifted), "--seeds", "3", "--outdir", str(tmp_path / "plain"),
                            "--views", "0", "--shapes", "--shape-res", "20", "--shape-format", "ply",
                            "--no-shape-colors"], capsys)
    assert code == 0, err
    plain_bytes = (tmp_path / "plain" / "seed0003.ply").read_bytes()
    (coloured, faces), (plain, faces_plain) = (read_binary_ply(b) for b in (outs["default"], plain_bytes))
    assert {"red", "green", "blue"} <= set(coloured.dtype.names) and "red" not in plain.dtype.names
    assert np.array_equal(coloured["x"], plain["x"]) and np.array_equal(faces["i"], faces_plain["i"])
    assert len(np.unique(coloured["red"])) > 1  # decoded colours, not a constant


def test_sample_and_video_options_reach_the_renderers(checkpoint, tmp_path, capsys, monkeypatch):
    """Each option of op3d sample / op3d video, given a non-default value, arrives where it acts: truncation psi
    and cutoff in seed_ws, --chunk in render_views, --shape-res and --mesh-grid dense in density_grid; --w-frames,
    --mode, --fps and --nrr in render_video."""
    import op3d.sampling.render as rendering
    import op3d.sampling.video as video

    calls = record_calls(monkeypatch, rendering, "seed_ws", "render_views", "density_grid", "mesh_grid")
    code, _, err = run_cli(["sample", "--network", str(checkpoint), "--seeds", "2", "--outdir", str(tmp_path / "s"),
                            "--views", "0", "--trunc", "0.6", "--trunc-cutoff", "3", "--chunk", "300", "--shapes",
                            "--shape-res", "12", "--shape-format", "obj", "--mesh-grid", "dense",
                            "--mesh-level", "-0.4"], capsys)
    assert code == 0, err
    (a, k), = calls["seed_ws"]
    assert a[1:4] == ([2], 0.6, 3)
    assert calls["render_views"][0][1]["chunk"] == 300
    (a, k), = calls["density_grid"]
    assert a[2] == 12 and "mesh_grid" not in calls and k.get("trim", True)  # trimmed as OP3D's meshes
    calls.clear()  # the default coarse-to-fine mesh grid refines around the --mesh-level it extracts at
    code, _, err = run_cli(["sample", "--network", str(checkpoint), "--seeds", "2", "--outdir", str(tmp_path / "m"),
                            "--shapes", "--shape-res", "12", "--shape-format", "obj", "--mesh-level", "-0.4"], capsys)
    assert code == 0, err
    (a, k), = calls["mesh_grid"]
    assert a[2:4] == (12, -0.4)
    # without --trunc / --views: untruncated latents (EG3D's gen_samples default psi 1), yaws of -23, 0, 23 degrees
    (a, k), = calls["seed_ws"]
    assert a[2:4] == (1.0, None)
    G = op3d.load(checkpoint)
    yaw = math.radians(23)
    torch.testing.assert_close(calls["render_views"][0][0][2], view_labels(G, [(-yaw, 0.0), (0.0, 0.0), (yaw, 0.0)]))

    recorded = {}
    monkeypatch.setattr(video, "render_video", lambda G, ws, path, **k:
                        recorded.update(k, nrr=G.neural_rendering_resolution, ws=ws,
                                        samples=(G.render_options.depth_resolution,
                                                 G.render_options.depth_resolution_importance)) or path)
    calls.clear()
    code, _, err = run_cli(["video", "--network", str(checkpoint), "--seeds", "0-1", "--grid", "1x1", "--trunc", "0.7",
                            "--trunc-cutoff", "2", "--w-frames", "5", "--mode", "depth", "--fps", "12", "--nrr", "8",
                            "--output", str(tmp_path / "v.mp4")], capsys)
    assert code == 0, err
    (a, k), = calls["seed_ws"]
    assert a[1:4] == ([0, 1], 0.7, 2)
    assert (recorded["frames_per_key"], recorded["mode"], recorded["fps"], recorded["nrr"]) == (5, "depth", 12, 8)
    assert recorded["ws"].shape[:3] == (2, 1, 1)
    # without options: untruncated, the network's own samples per ray (--sample-mult 1)
    calls.clear()
    code, _, err = run_cli(["video", "--network", str(checkpoint), "--seeds", "0", "--output",
                            str(tmp_path / "d.mp4")], capsys)
    assert code == 0, err
    (a, k), = calls["seed_ws"]
    assert a[2:4] == (1.0, None)
    options = op3d.load(checkpoint).render_options
    assert recorded["samples"] == (options.depth_resolution, options.depth_resolution_importance)
    # 60 frames per keyframe at 30 fps: 2 s per keyframe as EG3D's 120 at 60 fps, with half the renders
    assert (recorded["frames_per_key"], recorded["fps"]) == (60, 30)
    assert recorded["mode"] == "image"  # the final super-resolved images, as gen_videos' --image_mode default


def test_the_conditioning_camera_follows_the_field_of_view():
    """conditioning_label(G, fov_deg): the frontal camera with EG3D's FOV_to_intrinsics focal,
    1 / (tan(fov * 3.14159 / 360) * 1.414) (a diagonal field of view); without one, the 18.837 degrees of EG3D's
    gen_samples.py (focal 4.2634). Label layout: 16 cam2world entries, then the 3x3 intrinsics."""
    import math

    from op3d.sampling.views import conditioning_label

    G = tiny_generator()
    focal = lambda deg: 1 / (math.tan(deg * 3.14159 / 360) * 1.414)
    for fov, want in ((30.0, focal(30.0)), (None, focal(18.837))):
        label = conditioning_label(G, fov)
        assert label.shape == (1, 25)
        K = label[0, 16:].reshape(3, 3)
        assert K[0, 0].item() == pytest.approx(want, rel=1e-4) and K[1, 1].item() == pytest.approx(want, rel=1e-4)
        torch.testing.assert_close(K[:2, 2], torch.tensor([0.5, 0.5]))
    # seed_ws conditions the mapping on that camera (EG3D's gen_samples passes its FOV to both)
    from op3d.sampling.views import seed_latent
    with torch.no_grad():
        want = G.mapping(seed_latent(3, G.z_dim), conditioning_label(G, 30.0))
    torch.testing.assert_close(seed_ws(G, [3], fov_deg=30.0), want, rtol=0, atol=0)
    assert not torch.equal(seed_ws(G, [3]), want)  # the camera matters to this mapping


def test_sample_shapes_default_to_256_cubed(checkpoint, tmp_path, capsys, monkeypatch):
    """Without --shape-res, op3d sample --shapes evaluates 256^3 grids (the README's usage line; EG3D's
    gen_samples.py uses 512) for .mrc volumes, and meshes at level 10. The grids themselves are not computed
    here: the stand-ins stop the command."""
    import op3d.sampling.render as rendering

    seen = []

    def stop(G, planes, resolution, *args, **kwargs):
        seen.append(resolution)
        raise ValueError("stand-in: stop here")

    monkeypatch.setattr(rendering, "density_grid", stop)
    code, _, err = run_cli(["sample", "--network", str(checkpoint), "--seeds", "0", "--outdir", str(tmp_path),
                            "--views", "0", "--shapes"], capsys)
    assert code == 1 and "stand-in: stop here" in err and seen == [256]  # an .mrc volume by default
    # meshes come from the coarse-to-fine grid at OP3D's level 10 unless --mesh-level says otherwise
    monkeypatch.setattr(rendering, "mesh_grid", lambda G, planes, resolution, level, **k: stop(G, planes, level))
    code, _, err = run_cli(["sample", "--network", str(checkpoint), "--seeds", "0", "--outdir", str(tmp_path),
                            "--views", "0", "--shapes", "--shape-format", "ply"], capsys)
    assert code == 1 and seen == [256, 10.0]


def test_density_grid_defaults_to_256_cubed(monkeypatch):
    """density_grid(G, planes) without a resolution evaluates a 256^3 grid over the preset's box (as the CLI's
    --shape-res default); stand-ins for the grid evaluators record what they are asked and stop."""
    import op3d.sampling.render as rendering

    asked = []

    def stop(field, resolution, cube, **kwargs):
        asked.append((resolution, cube))
        raise StopIteration

    monkeypatch.setattr(rendering, "evaluate_grid_slabs", stop)
    monkeypatch.setattr(rendering, "evaluate_grid", stop)
    G = tiny_generator()
    with pytest.raises(StopIteration):
        rendering.density_grid(G, torch.zeros(1, 4, 3, 32, 16, 16))
    assert asked == [(256, float(G.render_options.box_warp))]


@pytest.mark.parametrize("command", ["sample", "video"])
def test_a_missing_pose_file_is_refused_before_the_network_loads(tmp_path, capsys, command):
    """--pose FILE must exist: a usage error (exit 2) naming the file, given before the (here unreadable) network
    would be opened."""
    network = tmp_path / "net.safetensors"
    network.write_bytes(b"not a checkpoint")
    output = ["--outdir", str(tmp_path / "out")] if command == "sample" else ["--output", str(tmp_path / "v.mp4")]
    code, _, err = run_cli([command, "--network", str(network), "--pose", str(tmp_path / "pose.json"), *output],
                           capsys)
    assert code == 2 and "pose.json" in err and "does not exist" in err
    assert len(err.strip().splitlines()) == 1
