"""Loss pieces, schedules, EMA and the sampler against hand-computed values."""

import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch

from op3d.training.loop import TrainConfig, _adam, restore_optimizers, update_ema
from op3d.training.loss import (
    GANLoss,
    LossConfig,
    blur_sigma,
    conditioning_cameras,
    gaussian_blur,
    neural_rendering_resolution,
    swapping_prob,
)
from op3d.training.sampler import InfiniteSampler


def test_schedules():
    cfg = LossConfig(blur_init_sigma=10, blur_fade_kimg=2, gpc_reg_prob=0.5, gpc_reg_fade_kimg=1,
                     neural_rendering_resolution_initial=64, neural_rendering_resolution_final=128,
                     neural_rendering_resolution_fade_kimg=4)
    assert blur_sigma(cfg, 0) == 10 and blur_sigma(cfg, 1000) == 5 and blur_sigma(cfg, 3000) == 0
    assert swapping_prob(cfg, 0) == 1 and swapping_prob(cfg, 500) == 0.75 and swapping_prob(cfg, 5000) == 0.5
    assert neural_rendering_resolution(cfg, 0) == 64 and neural_rendering_resolution(cfg, 1000) == 80
    assert neural_rendering_resolution(cfg, 10 ** 6) == 128
    assert neural_rendering_resolution(cfg, 100) == 66  # 64 + 64 * 0.025 = 65.6, rounded as the original
    assert swapping_prob(LossConfig(gpc_reg_prob=None), 0) is None


def test_conditioning_cameras_swap_and_zero():
    c = torch.arange(12.0).reshape(3, 4)
    draw = torch.tensor([[0.1], [0.9], [0.4]])
    out = conditioning_cameras(c, 0.5, draw)
    assert out.tolist() == [c[2].tolist(), c[1].tolist(), c[1].tolist()]  # rows 0, 2 take the rolled camera
    assert conditioning_cameras(c, None, draw).abs().sum() == 0


def test_gaussian_blur_matches_direct_sum():
    img = torch.zeros(1, 1, 9, 9, dtype=torch.float64)
    img[0, 0, 4, 4] = 1
    out = gaussian_blur(img, 1.0)
    taps = [2 ** (-(t ** 2)) for t in range(-3, 4)]
    total = sum(taps)
    for i in range(9):
        for j in range(9):
            di, dj = i - 4, j - 4
            want = taps[di + 3] * taps[dj + 3] / total ** 2 if abs(di) <= 3 and abs(dj) <= 3 else 0
            assert out[0, 0, i, j].item() == pytest.approx(want, rel=1e-6, abs=1e-12)  # float32 taps
    assert gaussian_blur(img, 0.2) is img  # radius floor(0.6) = 0: nothing to do


class LinearD(torch.nn.Module):
    """logits = <a, image> + <b, raw>: R1 penalty is |a|^2 + |b|^2 per sample."""

    def __init__(self):
        super().__init__()
        self.a = torch.nn.Parameter(torch.randn(1, 3, 8, 8, dtype=torch.float64))
        self.b = torch.nn.Parameter(torch.randn(1, 3, 4, 4, dtype=torch.float64))

    def forward(self, img, c):
        return ((img["image"] * self.a).sum([1, 2, 3]) + (img["image_raw"] * self.b).sum([1, 2, 3]))[:, None]


@pytest.mark.parametrize("gamma", [2.0, 10.0])
def test_r1_and_real_loss_against_closed_form(gamma):
    """R1 of a linear D: the logged penalty is the squared gradient norm itself (whatever --gamma), the gradient
    gain * gamma * a."""
    D = LinearD()
    cfg = LossConfig(r1_gamma=gamma, blur_fade_kimg=0, neural_rendering_resolution_initial=4)
    loss = GANLoss(None, D, cfg)
    real = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    want = D.a.square().sum() + D.b.square().sum()
    for gain in (1.0, 16.0):  # 16: the lazy Dreg phase's interval multiplies the whole gradient
        D.zero_grad()
        stats = loss.accumulate_gradients("Dreg", real, torch.zeros(2, 25), None, None, gain=gain, cur_nimg=0)
        assert stats["Loss/r1_penalty"] == pytest.approx(want.item())
        # d/da of gain * mean(gamma/2 * |a|^2 + |b|^2) = gain * gamma * a
        torch.testing.assert_close(D.a.grad, gain * gamma * D.a.detach())


def test_d_sees_unblurred_images_once_the_blur_has_faded():
    """Past --blur_fade_kimg the blur sigma is 0 and D gets the images untouched (a blur of width 0 would divide
    by zero); during the fade it gets them blurred."""
    seen = []
    D = lambda img, c: seen.append(img["image"]) or torch.zeros(len(c), 1)
    loss = GANLoss(None, D, LossConfig(blur_init_sigma=10, blur_fade_kimg=1, neural_rendering_resolution_initial=4))
    img = {"image": torch.randn(2, 3, 8, 8, dtype=torch.float64), "image_raw": torch.zeros(2, 3, 4, 4)}
    for cur_nimg in (1000, 5000, 500):
        loss.run_D(img, torch.zeros(2, 25), cur_nimg)
    assert seen[0] is img["image"] and seen[1] is img["image"]
    assert torch.isfinite(seen[2]).all() and not torch.allclose(seen[2], img["image"])


def test_ema_update_formula():
    G = torch.nn.Linear(2, 2)
    E = torch.nn.Linear(2, 2)
    with torch.no_grad():
        G.weight.fill_(1.0)
        E.weight.fill_(0.0)
    update_ema(E, G, cur_nimg=1000, batch=4, ema_kimg=10, ema_rampup=0.05)
    beta = 0.5 ** (4 / min(10000, 1000 * 0.05))
    torch.testing.assert_close(E.weight, torch.full((2, 2), 1 - beta))


def test_adam_lazy_regularization_rescaling():
    opt = _adam(torch.nn.Linear(2, 2), 0.0025, 4)
    group = opt.param_groups[0]
    assert group["lr"] == pytest.approx(0.0025 * 0.8)
    assert group["betas"] == pytest.approx((0.0, 0.99 ** 0.8))
    assert group["eps"] == 1e-8  # EG3D's train.py: Adam(betas=[0, 0.99], eps=1e-8)


def test_resume_sets_this_runs_learning_rates_and_keeps_adam_moments():
    """A resumed run keeps the saved Adam moments but takes its own --glr / --dlr (each rescaled by its own
    lazy-regularization interval: G none, D 16 -> 16/17)."""
    saved_G, saved_D = _adam(torch.nn.Linear(2, 2), 0.01, None), _adam(torch.nn.Linear(2, 2), 0.02, 16)
    for opt in (saved_G, saved_D):
        opt.param_groups[0]["params"][0].grad = torch.ones(2, 2)
        opt.param_groups[0]["params"][1].grad = torch.ones(2)
        opt.step()
    state = {"opt_G": saved_G.state_dict(), "opt_D": saved_D.state_dict()}
    cfg = TrainConfig(outdir="x", data="y", glr=0.001, dlr=0.003, G_reg_interval=None, D_reg_interval=16)
    opt_G, opt_D = _adam(torch.nn.Linear(2, 2), 0.5, None), _adam(torch.nn.Linear(2, 2), 0.5, 16)
    restore_optimizers(opt_G, opt_D, state, cfg)
    assert opt_G.param_groups[0]["lr"] == pytest.approx(0.001)
    assert opt_G.param_groups[0]["betas"] == pytest.approx((0.0, 0.99))
    assert opt_D.param_groups[0]["lr"] == pytest.approx(0.003 * 16 / 17)
    assert opt_D.param_groups[0]["betas"] == pytest.approx((0.0, 0.99 ** (16 / 17)))
    for opt, saved in ((opt_G, saved_G), (opt_D, saved_D)):
        moments, saved_moments = opt.state_dict()["state"][0], saved.state_dict()["state"][0]
        torch.testing.assert_close(moments["exp_avg_sq"], saved_moments["exp_avg_sq"], rtol=0, atol=0)
        assert float(moments["step"]) == 1


@pytest.mark.parametrize("mirror", [False, True])
def test_mirror_doubles_the_training_set_with_flipped_images_and_cameras(tmp_path, mirror):
    """--mirror: the loop's dataset and camera labels are twice as long; item N + i is image i flipped left-right
    with its own, mirrored camera (EG3D's xflip)."""
    from op3d.data.synthetic import make_synthetic_dataset
    from op3d.training.loop import _open_dataset

    data = make_synthetic_dataset(tmp_path / "d.zip", 3, 16, seed=0, progress=False)
    dataset, labels, poses = _open_dataset(TrainConfig(outdir=str(tmp_path), data=str(data), mirror=mirror))
    assert len(dataset) == len(labels) == (6 if mirror else 3) and poses is None
    if mirror:
        for i in range(3):
            assert np.array_equal(np.asarray(dataset[3 + i][0]), np.asarray(dataset[i][0])[..., ::-1])
            assert not torch.equal(labels[3 + i], labels[i])
            assert np.allclose(labels[3 + i].numpy(), dataset.get_label(3 + i))


def test_a_fresh_run_starts_from_the_networks_of_its_seed(tmp_path, monkeypatch):
    """--seed fixes a fresh run's initial G and D (the same seed, the same weights; another seed, others), whatever
    the global RNG did before, and the order in which it reads the dataset (the sampler's seed)."""
    from train_config import tiny_train_config

    import op3d.training.loop as loop
    from op3d.data.synthetic import make_synthetic_dataset

    class Stop(Exception):
        pass

    def stop(*args, **kwargs):
        raise Stop

    built, build = [], loop.build_networks
    monkeypatch.setattr(loop, "build_networks", lambda *a, **k: built.append(build(*a, **k)) or built[-1])
    orders, sampler = [], loop.InfiniteSampler
    monkeypatch.setattr(loop, "InfiniteSampler", lambda *a, **k: orders.append(
        [i for i, _ in zip(iter(sampler(*a, **k)), range(12))]) or sampler(*a, **k))
    data = make_synthetic_dataset(tmp_path / "d.zip", 4, 32, seed=0, progress=False)
    streams = []  # the global RNG when training starts drawing: seed + 1, never the draws that built the weights
    monkeypatch.setattr(loop, "GANLoss", lambda *a, **k: streams.append(torch.randn(8)) or stop())
    for seed in (5, 5, 6):
        torch.manual_seed(100 + len(built))
        with pytest.raises(Stop):
            loop.training_loop(tiny_train_config(data, tmp_path / "runs", seed=seed), log=False)
    for seed, drawn in zip((5, 5, 6), streams):
        assert torch.equal(drawn, torch.randn(8, generator=torch.Generator().manual_seed(seed + 1)))
    same = [[torch.equal(a, b) for a, b in zip(built[0][k].state_dict().values(), built[1][k].state_dict().values())]
            for k in (0, 1)]
    other = [[torch.equal(a, b) for a, b in zip(built[0][k].state_dict().values(), built[2][k].state_dict().values())]
             for k in (0, 1)]
    assert all(same[0]) and all(same[1])
    assert not all(other[0]) and not all(other[1])
    assert orders[0] == orders[1] and orders[0] != orders[2]


@pytest.mark.parametrize("metric, files", [("fid50k_full", {"detector": "inception.pth"}),
                                            ("pr50k3_full", {"vgg": "vgg16.pt"})])
def test_training_metrics_take_their_own_detector_file(tmp_path, monkeypatch, metric, files):
    """--metrics fid50k_full needs --detector (not --vgg), pr50k3_full needs --vgg (not --detector): each is
    accepted with its own file and refused with only the other one."""
    monkeypatch.delenv("OP3D_INCEPTION", raising=False)
    monkeypatch.delenv("OP3D_VGG16", raising=False)
    TrainConfig(outdir=str(tmp_path), data="x", metrics=[metric], **files).validate(1)
    other = {"vgg" if "detector" in files else "detector": "file"}
    with pytest.raises(ValueError, match="needs the"):
        TrainConfig(outdir=str(tmp_path), data="x", metrics=[metric], **other).validate(1)


def test_sampler_resume_and_rank_slices():
    full = InfiniteSampler(10, 4, seed=3)
    stream = [i for _, i in zip(range(40), iter(full))]
    passes = [stream[k:k + 10] for k in range(0, 40, 10)]
    assert all(sorted(p) == list(range(10)) for p in passes)  # each pass is a permutation
    assert len({tuple(p) for p in passes}) == 4  # reshuffled every pass (fixed seed; by chance equal: ~2e-6)
    assert passes[0] != list(range(10))
    resumed = InfiniteSampler(10, 4, seed=3, start=8)
    assert [i for _, i in zip(range(32), iter(resumed))] == stream[8:]
    r0 = InfiniteSampler(10, 4, seed=3, rank=0, world_size=2)
    r1 = InfiniteSampler(10, 4, seed=3, rank=1, world_size=2)
    a = [i for _, i in zip(range(20), iter(r0))]
    b = [i for _, i in zip(range(20), iter(r1))]
    for step in range(10):
        assert a[2 * step:2 * step + 2] + b[2 * step:2 * step + 2] == stream[4 * step:4 * step + 4]
    with pytest.raises(ValueError, match="multiple"):
        InfiniteSampler(10, 3, world_size=2)


def test_depth_images_show_near_as_white_per_image():
    """depth_to_uint8: per image, the nearest depth is white (255), the farthest black (0), linear between; a
    constant depth gives one grey level rather than NaN."""
    from op3d.training.report import depth_to_uint8

    depth = torch.tensor([[[[2.0, 2.5], [3.0, 2.25]]], [[[10.0, 12.0], [11.0, 10.0]]], [[[4.0, 4.0], [4.0, 4.0]]]])
    img = depth_to_uint8(depth).astype(np.int64)
    assert img.shape == (3, 2, 2, 3) and (img == img[..., :1]).all()
    expected = np.round(255 * (1 - (depth[:2, 0].numpy() - [[[2.0]], [[10.0]]]) / [[[1.0]], [[2.0]]]))
    assert np.abs(img[:2, ..., 0] - expected).max() <= 1
    assert len(np.unique(img[2])) == 1


def test_image_grids_keep_a_partial_last_row():
    """save_grid: 5 images in 2 columns -> 3 rows, the fifth image top-left of the last row, white beside it."""
    from PIL import Image

    from op3d.training.report import save_grid

    images = np.stack([np.full((4, 6, 3), 10 * (i + 1), dtype=np.uint8) for i in range(5)])
    with tempfile.TemporaryDirectory() as tmp:
        save_grid(images, Path(tmp) / "g.png", cols=2)
        grid = np.asarray(Image.open(Path(tmp) / "g.png"))
    assert grid.shape == (12, 12, 3)
    for i in range(5):
        r, c = divmod(i, 2)
        assert (grid[4 * r:4 * r + 4, 6 * c:6 * c + 6] == 10 * (i + 1)).all()
    assert (grid[8:, 6:] == 255).all()


def test_snapshots_read_back_g_d_and_g_ema_in_their_places(tmp_path):
    """write_snapshot / read_snapshot keep G, D and G_ema apart (a swap would resume from the EMA weights)."""
    import copy

    from op3d.training.loop import TrainConfig, _rng_state, build_networks
    from op3d.training.snapshots import read_snapshot, write_snapshot

    G, D = build_networks(TrainConfig(outdir=str(tmp_path), data="x", cfg="synthetic", size="tiny"), 32)
    G_ema = copy.deepcopy(G)
    with torch.no_grad():
        for p in G_ema.parameters():
            p.add_(1.0)
    state = {"opt_G": torch.optim.Adam(G.parameters()).state_dict(), "opt_D": torch.optim.Adam(D.parameters())
             .state_dict(), "cur_nimg": 8, "batch_idx": 2, "tick": 1, "rng": _rng_state(torch.device("cpu"))}
    path = write_snapshot(tmp_path, "network-snapshot-000001", G, D, G_ema, state)
    G2, D2, G_ema2, state = read_snapshot(path)
    for want, got in ((G, G2), (D, D2), (G_ema, G_ema2)):
        assert type(got) is type(want)
        for (k, v), (k2, v2) in zip(want.state_dict().items(), got.state_dict().items()):
            assert k == k2 and torch.equal(v, v2), k
    assert state["cur_nimg"] == 8 and (path / "training-state.pt").is_file()  # the documented file name
    import op3d  # op3d.load picks the same networks out of a snapshot directory

    for which, want in (("G_ema", G_ema), ("G", G), ("D", D)):
        got = op3d.load(path, which=which)
        assert all(torch.equal(got.state_dict()[k], v) for k, v in want.state_dict().items()), which
    # a process killed mid-write (no cleanup ran) leaves a hidden temporary directory; the next write removes it
    import op3d.training.snapshots as snapshots

    def killed(*_, **__):
        raise KeyboardInterrupt

    before = set(tmp_path.iterdir())
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(snapshots.torch, "save", killed)
        mp.setattr(snapshots.shutil, "rmtree", lambda *a, **k: None)
        with pytest.raises(KeyboardInterrupt):
            write_snapshot(tmp_path, "network-snapshot-000002", G, D, G_ema, state)
    (left,) = set(tmp_path.iterdir()) - before
    assert left.name.startswith(".network-snapshot-000002.") and left.is_dir()
    write_snapshot(tmp_path, "network-snapshot-000003", G, D, G_ema, state)
    assert not left.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    # writing the same snapshot again replaces it whole (the new weights, nothing of the old one left behind)
    with torch.no_grad():
        for p in G_ema.parameters():
            p.add_(1.0)
    write_snapshot(tmp_path, "network-snapshot-000003", G, D, G_ema, dict(state, cur_nimg=12))
    _, _, G_ema3, state3 = read_snapshot(tmp_path / "network-snapshot-000003")
    assert state3["cur_nimg"] == 12 and all(torch.equal(G_ema3.state_dict()[k], v)
                                            for k, v in G_ema.state_dict().items())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    # an old copy that cannot be deleted (e.g. NFS's busy .nfs files) leaves a hidden directory, not a failed run
    # (the next write removes it as a stale temporary)
    def busy(path, ignore_errors=False, **_):
        if not ignore_errors:
            raise OSError(16, "Device or resource busy", str(path))

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(snapshots.shutil, "rmtree", busy)
        write_snapshot(tmp_path, "network-snapshot-000003", G, D, G_ema, dict(state, cur_nimg=13))
    assert read_snapshot(tmp_path / "network-snapshot-000003")[3]["cur_nimg"] == 13


def test_latest_snapshot_falls_back_to_the_most_trained_complete_one(tmp_path):
    """latest-snapshot.txt wins while it names a complete snapshot; when it is missing, empty or names a deleted
    one, the complete snapshot with the most images (kimg names count 1000 images; incomplete ones never)."""
    from op3d.training.snapshots import LATEST, STATE_NAME, latest_snapshot

    assert latest_snapshot(tmp_path) is None
    for name, complete in (("network-snapshot-000000020img", True), ("network-snapshot-000001", True),
                           ("network-snapshot-000000999img", True), ("network-snapshot-000002", False)):
        (tmp_path / name).mkdir()
        if complete:
            (tmp_path / name / STATE_NAME).write_bytes(b"x")
    assert latest_snapshot(tmp_path) == tmp_path / "network-snapshot-000001"
    (tmp_path / LATEST).write_text("network-snapshot-000000020img\n")
    assert latest_snapshot(tmp_path) == tmp_path / "network-snapshot-000000020img"
    for pointer in ("network-snapshot-000003\n", "", "network-snapshot-000002\n"):
        (tmp_path / LATEST).write_text(pointer)
        assert latest_snapshot(tmp_path) == tmp_path / "network-snapshot-000001", pointer


def test_uint8_images_map_the_range_ends_to_0_and_255():
    """to_uint8: lo -> 0, hi -> 255, linear and rounded between, clipped outside; [N, C, H, W] -> [N, H, W, C]."""
    from op3d.training.report import to_uint8

    x = torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0, 1.5, -3.0, 0.999]).view(1, 1, 1, 8).repeat(1, 3, 1, 1)
    got = to_uint8(x)
    assert got.shape == (1, 1, 8, 3) and got.dtype == np.uint8
    np.testing.assert_array_equal(got[0, 0, :, 0], [0, 64, 128, 191, 255, 255, 0, 255])
    np.testing.assert_array_equal(to_uint8(torch.full((1, 1, 1, 1), 2.0), 0.0, 4.0)[0, 0, 0], [128])


def test_run_directories_are_numbered_from_00000(tmp_path):
    from op3d.training.loop import _new_run_dir

    assert _new_run_dir(tmp_path, "a").name == "00000-a"
    assert _new_run_dir(tmp_path, "b").name == "00001-b"
    (tmp_path / "00007-old").mkdir()
    assert _new_run_dir(tmp_path, "c").name == "00008-c"


@pytest.mark.parametrize("resume_blur", [False, True])
def test_fine_tuning_skips_the_blur_and_pose_swap_fade_ins_unless_resume_blur(tmp_path, resume_blur):
    """EG3D's fine-tuning from a released model: no EMA ramp-up, and without --resume_blur no blur and no pose-swap
    fade-in (the model is past them); with it, both as configured."""
    from helpers import tiny_generator_kwargs

    from op3d.io.checkpoint import save_pretrained
    from op3d.networks.generator import Generator
    from op3d.training.loop import TrainConfig, _fine_tune_start

    kw = tiny_generator_kwargs()
    save_pretrained(Generator(**kw), tmp_path / "ckpt", kw)
    loss = LossConfig(blur_init_sigma=10, gpc_reg_fade_kimg=1000)
    cfg = TrainConfig(outdir=str(tmp_path), data="x", cfg="synthetic", size="tiny", loss=loss, resume_blur=resume_blur)
    G, _, G_ema, tuned = _fine_tune_start(cfg, tmp_path / "ckpt", 64)
    # a checkpoint without G (an op3d checkpoint holds G_ema only): G starts as a separate copy of G_ema
    assert G is not G_ema and G.state_dict().keys() == G_ema.state_dict().keys()
    assert all(torch.equal(v, G_ema.state_dict()[k]) for k, v in G.state_dict().items())
    assert all(a.data_ptr() != b.data_ptr() for a, b in zip(G.parameters(), G_ema.parameters()))
    assert tuned.ema_rampup is None
    want = (10, 1000) if resume_blur else (0, 0)
    assert (tuned.loss.blur_init_sigma, tuned.loss.gpc_reg_fade_kimg) == want


@pytest.mark.parametrize("gen_pose_cond", [False, True])
def test_generator_pose_conditioning_follows_gen_pose_cond(tmp_path, gen_pose_cond):
    """--gen_pose_cond: G's mapping sees the camera label; without it the label is zeroed (EG3D's
    c_gen_conditioning_zero), so two cameras map a latent to the same w."""
    from op3d.training.loop import TrainConfig, build_networks

    torch.manual_seed(0)
    G, _ = build_networks(TrainConfig(outdir=str(tmp_path), data="x", cfg="synthetic", size="tiny",
                                      gen_pose_cond=gen_pose_cond), 32)
    z = torch.randn(1, G.z_dim)
    c1, c2 = torch.randn(2, 1, 25, generator=torch.Generator().manual_seed(1))
    same = torch.equal(G.mapping(z, c1), G.mapping(z, c2))
    assert same != gen_pose_cond


def test_fakes_grids_render_each_camera_with_its_own_pose_in_rows_of_8(tmp_path):
    """save_fakes renders the grid 8 latents at a time: latent k takes camera k and pose k for all 16 (a stand-in
    G_ema records what each call received; image grids of 8 columns, one strip of image / raw / depth rows)."""
    from PIL import Image

    from op3d.training.loop import save_fakes

    class Recorder:
        body_model = "procedural"

        def __init__(self):
            self.calls = []

        def pose_bodies(self, model, poses):
            return poses

        def __call__(self, z, c, body=None, **_):
            self.calls.append((z, c, body))
            n = len(z)
            return {"image": torch.zeros(n, 3, 8, 8), "image_raw": RAW[:n], "image_depth": torch.ones(n, 1, 4, 4)}

    g = torch.Generator().manual_seed(0)
    z, c, poses = torch.randn(16, 4, generator=g), torch.randn(16, 25, generator=g), torch.randn(16, 85, generator=g)
    RAW = torch.rand(8, 3, 4, 4, generator=g) * 2 - 1  # a raw rendering with a different value in every texel
    G = Recorder()
    cfg = TrainConfig(outdir=str(tmp_path), data="x", loss=LossConfig(neural_rendering_resolution_initial=4))
    save_fakes(G, z, c, tmp_path / "fakes.png", cfg, 0, poses)
    assert [len(call[0]) for call in G.calls] == [8, 8]
    for name, i in (("z", 0), ("c", 1), ("poses", 2)):
        assert torch.equal(torch.cat([call[i] for call in G.calls]), {"z": z, "c": c, "poses": poses}[name]), name
    grid = np.asarray(Image.open(tmp_path / "fakes.png"))
    assert grid.shape == (2 * 3 * 8, 8 * 8, 3)
    # the second row shows each raw rendering enlarged to the image size by repeating its texels (nearest)
    raw = np.round((RAW[1].permute(1, 2, 0).numpy() + 1) * 127.5).astype(np.uint8)
    assert np.array_equal(grid[8:16, 8:16], raw.repeat(2, 0).repeat(2, 1))


def test_stats_lines_and_tensorboard_steps_count_images(tmp_path):
    """Each logged tick appends one stats.jsonl line with its kimg; TensorBoard scalars (a recording stand-in
    writer) are stepped by images, so the ticks of a short run stay apart (EG3D steps by whole kimg)."""
    import json

    from op3d.training.report import RunLog

    log = RunLog(tmp_path, verbose=False)
    scalars = []
    log.writer = type("W", (), {"add_scalar": lambda self, *a, **k: scalars.append((a, k["global_step"])),
                                "flush": lambda self: None, "close": lambda self: None})()
    log.log({"Loss/G/loss": 0.5, "note": "x"}, kimg=0.012)
    log.log({"Loss/G/loss": 0.25}, kimg=0.016)
    assert scalars == [(("Loss/G/loss", 0.5), 12), (("Loss/G/loss", 0.25), 16)]
    lines = [json.loads(line) for line in (tmp_path / "stats.jsonl").read_text().splitlines()]
    assert [(r["kimg"], r["Loss/G/loss"]) for r in lines] == [(0.012, 0.5), (0.016, 0.25)]


def test_a_phase_step_clamps_overflowed_gradients_keeping_their_sign():
    """_step_phase (one process): NaN gradient entries become 0, +inf 1e5 and -inf -1e5 (StyleGAN2's guard,
    nan_to_num(nan=0, posinf=1e5, neginf=-1e5)), then the optimizer steps with them (plain SGD, lr 1e-6)."""
    from op3d.training.loop import _step_phase

    layer = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        layer.weight.zero_()
    layer.weight.grad = torch.tensor([[float("nan"), float("-inf")]])
    _step_phase(layer, torch.optim.SGD(layer.parameters(), lr=1e-6), world_size=1)
    assert layer.weight.grad.tolist() == [[0.0, -1e5]]
    torch.testing.assert_close(layer.weight.detach(), torch.tensor([[0.0, 0.1]]))
    layer.weight.grad = torch.tensor([[float("inf"), 1.0]])
    _step_phase(layer, torch.optim.SGD(layer.parameters(), lr=1e-6), world_size=1)
    assert layer.weight.grad.tolist() == [[1e5, 1.0]]


def _collectives_worker(rank: int, init_file: str, out_dir: str) -> None:
    import torch.distributed as dist

    from op3d.training.distributed import all_reduce_mean_, broadcast_module_

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=2)
    module = torch.nn.BatchNorm1d(3)  # parameters and buffers (running_mean)
    with torch.no_grad():
        for t in list(module.parameters()) + list(module.buffers()):
            t.fill_(10 * (rank + 1) if t.is_floating_point() else rank + 1)
    values = [torch.full((2,), float(rank + 1)), torch.full((1, 3), 3.0 * rank)]
    all_reduce_mean_(values, 2)
    broadcast_module_(module, 2)
    torch.save({"module": module.state_dict(), "values": values}, Path(out_dir) / f"rank{rank}.pt")
    dist.destroy_process_group()


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed unavailable")
def test_collectives_average_and_copy_rank_zeros_module(tmp_path):
    """Two gloo processes: all_reduce_mean_ leaves every rank the mean of the ranks' tensors (1, 2 -> 1.5; 0, 3 ->
    1.5); broadcast_module_ gives every rank rank 0's parameters and buffers (10, and its count 1)."""
    torch.multiprocessing.spawn(_collectives_worker, args=(str(tmp_path / "init"), str(tmp_path)), nprocs=2)
    for rank in range(2):
        got = torch.load(tmp_path / f"rank{rank}.pt")
        assert [v.tolist() for v in got["values"]] == [[1.5, 1.5], [[1.5, 1.5, 1.5]]]
        for name, t in got["module"].items():
            assert bool((t == (1 if name == "num_batches_tracked" else 10)).all()), (rank, name)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
def test_resume_restores_the_cuda_generator_only_on_cuda(monkeypatch, device):
    """A training state from a GPU run holds the CUDA generator's state beside the CPU one: resumed on the CPU only
    the CPU generator is restored (CUDA is never touched), on a GPU both. torch.cuda.set_rng_state is recorded,
    so no GPU is needed."""
    from op3d.training import loop

    calls = []
    monkeypatch.setattr(torch.cuda, "set_rng_state", lambda state, dev: calls.append((state, dev)))
    torch.manual_seed(7)
    state = {"torch": torch.get_rng_state(), "cuda": torch.arange(16, dtype=torch.uint8)}
    want = torch.rand(3)
    torch.manual_seed(0)
    loop._set_rng_state(state, torch.device(device))
    assert torch.equal(torch.rand(3), want)
    assert [(s.tolist(), str(d)) for s, d in calls] == ([] if device == "cpu" else [(list(range(16)), "cuda")])


@pytest.mark.parametrize("tty,enabled,shown", [(True, True, True), (False, True, False), (True, False, False)])
def test_training_progress_bar_only_on_a_terminal(monkeypatch, tty, enabled, shown):
    """The training loop's tqdm bar (images of --kimg, from where a resumed run stands) appears only when asked for
    and stderr is a terminal: logs redirected to a file get the status lines, not bar redraws."""
    import io
    import sys

    from op3d.training.loop import _progress_bar

    stream = io.StringIO()
    stream.isatty = lambda: tty
    monkeypatch.setattr(sys, "stderr", stream)
    bar = _progress_bar(TrainConfig(outdir="x", data="y", kimg=0.5), 120, enabled)
    assert (bar is not None) == shown
    if bar is not None:
        assert (bar.total, bar.n) == (500, 120)
        bar.close()


def test_resume_note_names_only_the_options_that_differ(capsys):
    """A resumed run's note lists the options its snapshot overrides, and nothing when none differ."""
    from dataclasses import replace
    from types import SimpleNamespace

    from op3d.training.loop import _architecture_of

    G = SimpleNamespace(init_kwargs={"representation": "orthoplanes", "per_dir_plane_number": 3, "fourier_L": 2})
    cfg = TrainConfig(outdir="x", data="y", representation="orthoplanes", plane_number=3, fourier_L=2)
    assert _architecture_of(cfg, G, Path("run"), note=True) == cfg
    assert capsys.readouterr().err == ""
    assert _architecture_of(replace(cfg, fourier_L=6), G, Path("run"), note=True) == cfg
    assert capsys.readouterr().err == "note: resuming run: its networks' fourier_L 2 (not 6) apply\n"
    assert _architecture_of(replace(cfg, fourier_L=6), G, Path("run"), note=False) == cfg  # other ranks
    assert capsys.readouterr().err == ""
