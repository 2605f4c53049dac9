"""FID/KID against float64 references and SWD on known distributions."""
import numpy as np
import pytest
import torch

from op3d.metrics.frechet import feature_stats, frechet_distance, kernel_inception_distance
from op3d.metrics.swd import sliced_wasserstein, swd


def reference_fid(mu1, s1, mu2, s2):
    """Straight from the definition with a general eigen-decomposition of S1 S2 (numpy, float64)."""
    eig = np.linalg.eigvals(s1 @ s2)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.sum(np.sqrt(eig.real.clip(0))))


def test_frechet_distance_matches_reference():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(400, 16))
    b = rng.normal(size=(300, 16)) @ rng.normal(size=(16, 16)) * 0.5 + 0.3
    mu1, s1 = feature_stats(a)
    mu2, s2 = feature_stats(b)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(reference_fid(mu1, s1, mu2, s2), rel=1e-9)
    assert frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_gaussians_closed_form():
    # N(m1, a^2 I) vs N(m2, b^2 I): |m1 - m2|^2 + D (a - b)^2
    D = 8
    d = frechet_distance(np.zeros(D), 4 * np.eye(D), np.ones(D), 9 * np.eye(D))
    assert d == pytest.approx(D + D * (2 - 3) ** 2)


@pytest.mark.parametrize("which", ["mean", "covariance", "both", "non-square"])
def test_frechet_distance_refuses_statistics_of_different_sizes(which):
    """Statistics of two feature sizes (e.g. a cache from another detector) are an error, not a broadcast: each
    mismatch alone (mean [4] vs [5]; covariance [4, 4] vs [5, 5]; both; a covariance that is not [D, D])."""
    m, s = np.zeros(4), np.eye(4)
    m2 = {"mean": np.zeros(5), "both": np.zeros(5)}.get(which, m)
    s2 = {"covariance": np.eye(5), "both": np.eye(5), "non-square": np.eye(4)[:, :3]}.get(which, s)
    s1 = s2 if which == "non-square" else s
    with pytest.raises(ValueError, match="mismatched statistics"):
        frechet_distance(m, s1, m2, s2)


def test_kid_is_near_zero_for_same_distribution_and_positive_otherwise():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(600, 32)), rng.normal(size=(600, 32))
    assert abs(kernel_inception_distance(x, y, num_subsets=20, max_subset_size=300)) < 0.02
    assert kernel_inception_distance(x, y + 1.0, num_subsets=20, max_subset_size=300) > 0.5


def test_sliced_wasserstein_of_shifted_points():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(5000, 1, generator=g, dtype=torch.float64)
    # in 1-D every projection is +-identity, so SW-1 = W-1 = the shift
    assert sliced_wasserstein(a, a + 0.5, 16, g) == pytest.approx(0.5, rel=1e-9)
    # in D dimensions a shift t gives E|<u, t>| over uniform unit directions u: |t| Gamma(D/2) / (sqrt(pi)
    # Gamma((D+1)/2)) (0.4244 |t| for D = 4), whatever the signs of t's components
    import math

    b = torch.randn(10, 4, generator=g, dtype=torch.float64)  # a shift moves every projection by <u, t>
    for shift in ([1.0, -1.0, 0.5, -2.0], [1.0, 1.0, 0.5, 2.0]):
        t = torch.tensor(shift, dtype=torch.float64)
        want = float(t.norm()) * math.gamma(2) / (math.sqrt(math.pi) * math.gamma(2.5))
        assert sliced_wasserstein(b, b + t, 20000, g) == pytest.approx(want, rel=0.02), shift


def test_swd_same_distribution_small_different_structure_large():
    g = torch.Generator().manual_seed(0)

    def smooth(n):  # spatially correlated images: blurred noise
        x = torch.randn(n, 3, 32, 32, generator=g)
        return torch.nn.functional.avg_pool2d(x, 5, 1, 2)

    real, same = smooth(64), smooth(64)
    white = torch.randn(64, 3, 32, 32, generator=g)  # same per-pixel statistics after normalization, no structure
    d_same = swd(real, same, levels=2, per_image=128, num_projections=128)
    d_other = swd(real, white, levels=2, per_image=128, num_projections=128)
    assert len(d_same) == 2
    # the finest band carries the spatial correlation; sampling noise sets the floor of d_same
    assert d_other[0] > 2 * d_same[0] and sum(d_other) > sum(d_same), (d_same, d_other)
    # the number of projection directions is the caller's (fewer directions, another estimate)
    assert swd(real, same, levels=2, per_image=128, num_projections=16) != d_same


def test_swd_descriptors_are_normalized_per_set_and_channel():
    """ProGAN normalizes each set's descriptors per channel (mean 0, std 1 over all patches and positions), so a
    global contrast and brightness change of one set leaves every level's SWD at 0 (same patch positions: same
    seed); without the normalization the change is measured."""
    from op3d.metrics.swd import SWDAccumulator

    images = torch.nn.functional.avg_pool2d(torch.randn(8, 3, 32, 32, generator=torch.Generator().manual_seed(1)),
                                            3, 1, 1)
    a, b = SWDAccumulator(levels=3, per_image=64, seed=5), SWDAccumulator(levels=3, per_image=64, seed=5)
    a.add(images)
    b.add(images * 3 + 0.5)
    level = a.level(0).reshape(-1, 49, 3)
    torch.testing.assert_close(level.mean((0, 1)), torch.zeros(3, dtype=torch.float64), atol=1e-9, rtol=0)
    torch.testing.assert_close(level.std((0, 1)), torch.ones(3, dtype=torch.float64), atol=1e-9, rtol=0)
    assert max(a.distance(b, num_projections=64)) < 1e-3
    # reported per level, finest first, x 1e3 as ProGAN's sliced_wasserstein.py; one generator draws every level's
    # directions in turn
    c = SWDAccumulator(levels=3, per_image=64, seed=6)
    c.add(torch.flip(images, dims=[3]) ** 2)
    g = torch.Generator().manual_seed(4)
    want = [1e3 * sliced_wasserstein(a.level(i), c.level(i), 64, g) for i in range(3)]
    assert a.distance(c, num_projections=64, seed=4) == pytest.approx(want, rel=1e-12)
    assert min(want) > 10


def test_folder_dataset_cache_key_follows_file_contents(tmp_path):
    """Replacing an image in a folder dataset must invalidate cached real statistics (the key used to be the
    folder's own size and time)."""
    import os

    from op3d.metrics.run import _file_key

    (tmp_path / "a.png").write_bytes(b"one")
    (tmp_path / "b.png").write_bytes(b"two")
    before = _file_key(tmp_path)
    os.utime(tmp_path / "b.png", ns=(1, 1))
    assert _file_key(tmp_path) != before
    changed = _file_key(tmp_path)
    (tmp_path / "c.png").write_bytes(b"three")
    assert _file_key(tmp_path) != changed
    # EG3D's datasets keep their images in sub-folders (00000/img00000000.png): those count too
    (tmp_path / "00000").mkdir()
    (tmp_path / "00000" / "d.png").write_bytes(b"four")
    nested = _file_key(tmp_path)
    os.utime(tmp_path / "00000" / "d.png", ns=(1, 1))
    assert _file_key(tmp_path) != nested
    # a zip dataset rewritten with other images of the same size: its modification time tells
    zipped = tmp_path / "data.zip"
    zipped.write_bytes(b"1234")
    first = _file_key(zipped)
    zipped.write_bytes(b"5678")
    os.utime(zipped, ns=(zipped.stat().st_atime_ns, zipped.stat().st_mtime_ns + 10**9))
    assert _file_key(zipped) != first and _file_key(zipped) == _file_key(zipped)


def test_metrics_refuse_a_dataset_of_another_resolution(tmp_path):
    import pytest
    from helpers import tiny_generator
    from test_dataset import good_files, write_zip

    from op3d.data.dataset import ImageDataset
    from op3d.metrics.run import compute_metric

    ds = ImageDataset(write_zip(tmp_path / "d.zip", good_files(4, size=8)))
    with pytest.raises(ValueError, match="images are 8x8 but the network makes 64x64"):
        compute_metric("swd", tiny_generator(), ds, num=4)


def test_laplacian_pyramid_is_band_pass_and_collapses_back_to_the_image():
    """Each band is the level minus its blurred, downsampled and re-upsampled self: a constant image has zero
    bands (all its energy in the low-pass residual), and collapsing the pyramid (upsample, add the band, coarse to
    fine) gives the image back exactly."""
    import torch.nn.functional as F

    from op3d.metrics.swd import laplacian_pyramid

    images = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    bands = laplacian_pyramid(images, 4)
    assert [b.shape[-1] for b in bands] == [32, 16, 8, 4]
    flat = laplacian_pyramid(torch.full((1, 3, 16, 16), 0.25, dtype=torch.float64), 3)
    assert all(float(b.abs().max()) < 1e-12 for b in flat[:-1]) and torch.allclose(flat[-1], torch.tensor(0.25,
                                                                                   dtype=torch.float64))
    x = bands[-1]
    for band in reversed(bands[:-1]):
        x = band + F.interpolate(x, size=band.shape[-2:], mode="bilinear", align_corners=False)
    torch.testing.assert_close(x, images, atol=1e-12, rtol=0)


def test_reprojection_metric_is_the_mean_over_latents_whatever_the_batch():
    """`reproj` averages per-latent errors: batches of 2 over 3 latents (the last one short) give what one latent
    at a time gives, and that is the mean of the per-latent errors computed directly."""
    from helpers import tiny_generator

    from op3d.metrics.reprojection import generator_reprojection_error
    from op3d.metrics.run import _reprojection, compute_metric
    from op3d.sampling.views import conditioning_label, seed_latent, view_labels

    G = tiny_generator()
    by_two = compute_metric("reproj", G, num=3, batch=2)["results"]
    by_one = _reprojection(G, 3, 0, "cpu", 1, False)
    assert by_two["reproj_error"] == pytest.approx(by_one["reproj_error"], rel=1e-5)
    assert by_two["reproj_visible"] == pytest.approx(by_one["reproj_visible"], rel=1e-5)
    yaw = np.radians(15)
    c_a, c_b = view_labels(G, [(-yaw, 0.0)]), view_labels(G, [(yaw, 0.0)])
    direct = [generator_reprojection_error(G, G.mapping(seed_latent(i, G.z_dim), conditioning_label(G)), c_a, c_b)
              for i in range(3)]
    errs = [e for e, _ in direct]
    assert by_two["reproj_error"] == pytest.approx(np.mean(errs), rel=1e-5)
    assert by_two["reproj_visible"] == pytest.approx(np.mean([v for _, v in direct]), rel=1e-5)
    assert 0 < by_two["reproj_visible"] <= 1
    assert np.std(errs) > 1e-3 * np.mean(errs)  # distinct latents: a wrong weighting would show


def test_swd_metric_uses_progans_pyramid_down_to_16_pixels(tmp_path, monkeypatch):
    """ProGAN's SWD pyramid ends at 16 x 16: a 64 px generator gets levels 64, 32, 16 (log2(64) - 3 = 3)."""
    from helpers import tiny_generator
    from test_dataset import good_files, write_zip

    from op3d.data.dataset import ImageDataset
    from op3d.metrics.run import compute_metric

    import op3d.metrics.run as metric_run

    seeds = []

    class Recording(metric_run.SWDAccumulator):
        def distance(self, other, num_projections=512, seed=0):
            seeds.append(("projections", seed))
            return super().distance(other, num_projections, seed)

    monkeypatch.setattr(metric_run, "SWDAccumulator", lambda levels, seed: seeds.append(seed) or
                        Recording(levels, seed=seed))
    G = tiny_generator()
    ds = ImageDataset(write_zip(tmp_path / "d.zip", good_files(4, size=G.img_resolution)))
    result = compute_metric("swd", G, ds, num=4, seed=7)["results"]
    assert G.img_resolution == 64 and len(result["swd_levels"]) == 3
    # reals' and fakes' patch positions drawn independently, as ProGAN draws them; the projections from --seed
    assert seeds == [7, 8, ("projections", 7)]
    assert result["swd_mean"] == pytest.approx(np.mean(result["swd_levels"]))


def test_laplacian_pyramid_blurs_with_mirrored_borders_as_progan():
    """ProGAN's sliced_wasserstein.py blurs each level with the 5-tap binomial filter through
    scipy.ndimage.convolve(mode='mirror') before taking every second pixel: the same numbers, borders included."""
    from scipy import ndimage

    from op3d.metrics.swd import laplacian_pyramid

    x = torch.randn(2, 3, 12, 10, dtype=torch.float64)
    k = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16
    want = ndimage.convolve(x.numpy(), np.outer(k, k)[None, None], mode="mirror")[..., ::2, ::2]
    torch.testing.assert_close(laplacian_pyramid(x, 2)[1], torch.from_numpy(want), rtol=0, atol=1e-12)


def test_swd_patch_positions_and_projections_follow_their_seeds():
    """An accumulator's patch positions come from its seed, the distance's projection directions from the
    distance's seed: the same seeds give the same numbers, other seeds other ones."""
    from op3d.metrics.swd import SWDAccumulator

    images = torch.randn(3, 3, 16, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(0))

    def filled(seed):
        acc = SWDAccumulator(levels=2, per_image=8, seed=seed)
        acc.add(images)
        return acc

    assert torch.equal(filled(1).level(0), filled(1).level(0))
    assert not torch.equal(filled(1).level(0), filled(2).level(0))
    a, b = filled(1), filled(2)
    assert a.distance(b, 16, seed=3) == a.distance(b, 16, seed=3) != a.distance(b, 16, seed=4)


def test_swd_patches_reach_every_position_of_a_level():
    """ProGAN draws patch corners uniformly over every position a patch fits in: a 9 x 9 level with 7 x 7 patches
    has 3 x 3 corners, all drawn among 200 patches; a level exactly one patch tall has just the one."""
    from op3d.metrics.swd import _descriptors

    rows, cols = torch.meshgrid(torch.arange(9.0), torch.arange(9.0), indexing="ij")
    level = (100 * rows + cols).reshape(1, 1, 9, 9)
    corners = _descriptors(level, 200, 7, torch.Generator().manual_seed(0))[:, 0, 0]  # each patch's top-left value
    assert set(corners.tolist()) == {100.0 * r + c for r in range(3) for c in range(3)}
    whole = _descriptors(level[..., :7, :7], 5, 7, torch.Generator().manual_seed(0))
    torch.testing.assert_close(whole, level[0, 0, :7, :7].reshape(1, 49, 1).expand(5, -1, -1))


def test_swd_accumulators_default_to_progans_settings_as_swd_does():
    """The streaming accumulators the swd metric uses, with their defaults, give swd()'s values: ProGAN's 128
    descriptors per image of 7 x 7 patches, 512 projections (independent reals / fakes seeds as in swd())."""
    from op3d.metrics.swd import SWDAccumulator, swd

    g = torch.Generator().manual_seed(0)
    real, fake = torch.rand(3, 3, 32, 32, generator=g) * 2 - 1, torch.rand(3, 3, 32, 32, generator=g) * 2 - 1
    a, b = SWDAccumulator(levels=3, seed=4), SWDAccumulator(levels=3, seed=5)
    a.add(real)
    b.add(fake)
    assert [a.level(i).shape for i in range(3)] == [(3 * 128, 7 * 7 * 3)] * 3
    assert a.distance(b, seed=4) == swd(real, fake, levels=3, seed=4)


class StandInData:
    """A dataset of n images whose image i has camera i and pose i (all entries), recording what was read."""
    path, poses = "stand-in", True

    def __init__(self, n: int = 50):
        self.image_names, self.reads, self.labels = [f"{i}.png" for i in range(n)], [], []

    def __len__(self):
        return len(self.image_names)

    def load_image(self, i):
        self.reads.append(i)
        return np.zeros((4, 4, 3), dtype=np.uint8)

    def get_label(self, i):
        self.labels.append(i)
        return np.full(25, float(i), dtype=np.float32)

    def get_pose(self, i):
        return np.full(85, float(i), dtype=np.float32)


class StandInG:
    """Records each call's cameras and bodies and draws 3 numbers from the global RNG; black 4 x 4 images.
    conditional: has a body_model (what makes fake_batches pose it)."""
    z_dim = 4

    def __init__(self, conditional: bool = False):
        self.seen, self.draws = [], []
        if conditional:
            self.body_model = "procedural"

    def pose_bodies(self, model, params):
        return params

    def __call__(self, z, c, body=None, **_):
        self.seen.append((c, body))
        self.draws.append(torch.rand(3))
        return {"image": torch.zeros(len(z), 3, 4, 4)}


def test_fake_batches_are_silent_unless_asked_for_progress(capsys):
    """A library call draws no progress bar by default (`op3d metrics` asks for one); progress=True shows it."""
    from op3d.metrics.run import fake_batches

    list(fake_batches(StandInG(), StandInData(), 6, seed=0, device="cpu", batch=4))
    assert capsys.readouterr() == ("", "")
    list(fake_batches(StandInG(), StandInData(), 6, seed=0, device="cpu", batch=4, progress=True))
    assert capsys.readouterr().err


def test_pose_conditional_fakes_take_camera_and_pose_of_the_same_dataset_image(monkeypatch):
    """fake_batches for a pose-conditional network: each fake is rendered with the camera and the pose of one and
    the same random dataset image (a stand-in dataset whose image i has camera i and pose i; G records them)."""
    import op3d.conditioning.posed as posed
    from op3d.metrics.run import fake_batches

    monkeypatch.setattr(posed, "body_model_from_spec", lambda spec, device: spec)
    g = StandInG(conditional=True)
    assert sum(len(b) for b in fake_batches(g, StandInData(), 11, seed=2, device="cpu", batch=4)) == 11
    cameras, poses = (torch.cat([s[k][:, 0] for s in g.seen]) for k in (0, 1))
    assert torch.equal(cameras, poses) and len(set(cameras.tolist())) > 5


def test_swd_reals_are_drawn_independently_of_the_fakes_cameras():
    """The swd metric's num random reals (with replacement) and the dataset images whose cameras the fakes take are
    independent draws from --seed, not the same images (a stand-in dataset records which images were read)."""
    from op3d.metrics.run import fake_batches, real_batches

    data = StandInData()
    list(real_batches(data, 20, seed=3, batch=8))
    list(fake_batches(StandInG(), data, 20, seed=3, device="cpu", batch=8))
    assert len(data.reads) == len(data.labels) == 20 and len(set(data.reads)) > 10
    assert data.reads != data.labels


def test_detector_cache_keys_follow_the_file_each_metric_loads(tmp_path, monkeypatch):
    """Without an explicit path, FID/KID/IS read $OP3D_INCEPTION and pr50k3 reads $OP3D_VGG16: each real-feature
    cache is keyed by the file that metric's detector came from."""
    import op3d.metrics.run as run

    inception, vgg = tmp_path / "inception.pth", tmp_path / "vgg16.pt"
    inception.write_bytes(b"i")
    vgg.write_bytes(b"vv")
    monkeypatch.setenv("OP3D_INCEPTION", str(inception))
    monkeypatch.setenv("OP3D_VGG16", str(vgg))
    loaded = []
    monkeypatch.setattr(run, "load_vgg16", lambda path, device: loaded.append(("vgg", path)) or "vgg-net")
    monkeypatch.setattr(run, "load_detector", lambda path, device: loaded.append(("inception", path)) or "i-net")
    assert run._detector(None, run.load_vgg16, "cpu") == ("vgg-net", run._file_key(vgg))
    assert run._detector(None, run.load_detector, "cpu") == ("i-net", run._file_key(inception))
    assert run._file_key(vgg) != run._file_key(inception) and loaded == [("vgg", None), ("inception", None)]


def test_real_features_read_every_image_once_without_the_mirror(tmp_path):
    """The reals of FID / KID / PR are every dataset image once, not x-flipped, even when the training dataset was
    opened with --mirror (which doubles it)."""
    from test_dataset import good_files, write_zip

    from op3d.data.dataset import ImageDataset
    from op3d.metrics.run import real_batches

    ds = ImageDataset(write_zip(tmp_path / "d.zip", good_files(5)), xflip=True)
    assert len(ds) == 10
    images = torch.cat(list(real_batches(ds, None, 0, batch=3)))
    want = torch.stack([torch.from_numpy(ds.load_image(i).transpose(2, 0, 1).copy()) for i in range(5)])
    assert torch.equal(images, want)


def test_fakes_ray_jitter_follows_the_seed_and_leaves_the_global_rng_alone():
    """fake_batches renders with ray jitter from --seed (the same seed, the same draws; another, others) inside a
    forked RNG, so the caller's global RNG state is unchanged (a stand-in G draws from the global RNG)."""
    from op3d.metrics.run import fake_batches

    g = StandInG()
    before = torch.get_rng_state()
    for seed in (1, 1, 2):
        list(fake_batches(g, StandInData(5), 2, seed=seed, device="cpu"))
    assert torch.equal(torch.get_rng_state(), before)
    assert torch.equal(g.draws[0], g.draws[1]) and not torch.equal(g.draws[0], g.draws[2])
