"""op3d's FID Inception against an independent functional float64 model (tests/inception_reference.py), and the
FID / KID formulas against float64 definitions written out here.

The network is compared on seeded random weights (the real file is not needed): every conv/BN tensor of the
pt_inception-2015-12-05 layout plus the 1008-way classifier, saved as a .pth and read back through
load_detector, on two small uint8 images of an odd size so the resize to 299x299 is part of the comparison.
"""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import inception_reference as R
from op3d.metrics.frechet import feature_stats, frechet_distance, kernel_inception_distance
from op3d.metrics.inception import load_detector

# The input convention of op3d's .pth detector: pytorch-fid's InceptionV3 (half-pixel bilinear resize, x/255*2-1).
# NVIDIA's TorchScript detector (EG3D's metrics) resizes as TF1 and scales (x - 128) / 128; op3d runs that file
# as is (docs: which detector file gives which numbers).
CONVENTION = "pytorch_fid"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One forward of op3d's detector (input, features and probabilities captured) and of the reference."""
    weights = R.random_weights(seed=0)
    path = tmp_path_factory.mktemp("inception") / "pt_inception-2015-12-05-6726825d.pth"
    torch.save(weights, path)
    net = load_detector(path)
    images = torch.randint(0, 256, (2, 3, 64, 48), generator=torch.Generator().manual_seed(1), dtype=torch.uint8)

    seen = {}
    hooks = [net.Conv2d_1a_3x3.register_forward_pre_hook(lambda m, args: seen.__setitem__("input", args[0])),
             net.register_forward_hook(lambda m, args, out: seen.__setitem__("features", out))]
    with torch.no_grad():
        probs = net.probabilities(images)  # runs the feature network once; the hooks keep its input and output
    for h in hooks:
        h.remove()

    ref_features = R.network(weights, R.preprocess(images, CONVENTION))
    return dict(weights=weights, net=net, images=images, input=seen["input"], features=seen["features"],
                probs=probs, ref_features=ref_features,
                ref_log_probs=torch.log_softmax(R.logits(weights, ref_features), dim=1))


def test_reference_resize_matches_pytorch_and_nvidia_resamplers():
    """The reference's hand-written resizes against the ops they describe (float64, no op3d involved):
    F.interpolate(bilinear, align_corners=False) and NVIDIA's affine_grid/grid_sample with its shifted theta."""
    images = torch.randint(0, 256, (1, 3, 37, 53), generator=torch.Generator().manual_seed(2), dtype=torch.uint8)
    x = images.double()
    torch_fid = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False) / 255 * 2 - 1
    torch.testing.assert_close(R.preprocess(images, "pytorch_fid"), torch_fid, rtol=0, atol=1e-12)
    theta = torch.eye(2, 3, dtype=torch.float64)
    theta[0, 2] += 1 / x.shape[3] - 1 / 299
    theta[1, 2] += 1 / x.shape[2] - 1 / 299
    grid = F.affine_grid(theta[None], [1, 3, 299, 299], align_corners=False)
    nvidia = (F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False) - 128) / 128
    torch.testing.assert_close(R.preprocess(images, "nvidia"), nvidia, rtol=0, atol=1e-9)


def test_state_dict_layout_matches_the_reference_table(run):
    keys = {k for k in run["net"].state_dict() if not k.endswith("num_batches_tracked")}
    assert keys == {k for k in run["weights"] if not k.startswith("fc.")}
    assert run["net"].fc_weight is not None and torch.equal(run["net"].fc_weight, run["weights"]["fc.weight"])


def test_network_input_is_resized_and_scaled_as_the_reference(run):
    x = run["input"]
    assert x.shape == (2, 3, 299, 299) and x.dtype == torch.float32
    # float32 resampling coordinates cost ~1e-5; a half-pixel shift or 127.5 vs 128 costs > 1e-3
    torch.testing.assert_close(x.double(), R.preprocess(run["images"], CONVENTION), rtol=0, atol=5e-5)


def test_features_match_reference(run):
    ref, got = run["ref_features"], run["features"].double()
    assert got.shape == ref.shape == (2, 2048)
    # the random weights must keep the comparison meaningful: O(1) features, most of them active
    assert 0.3 < ref.square().mean().sqrt() < 5 and (ref > 0).double().mean() > 0.7
    scale = ref.abs().max()
    err = (got - ref).abs().max() / scale
    assert err < 1e-5, f"max |op3d - reference| / max |reference| = {err:.2e}"
    torch.testing.assert_close(got, ref, rtol=1e-4, atol=1e-5 * float(scale))


def test_probabilities_match_reference(run):
    """Bias-free softmax of the 1008-way classifier (the Inception Score convention)."""
    ref = run["ref_log_probs"]
    got = run["probs"]
    assert got.shape == (2, 1008)
    assert ref.exp().max() < 0.9  # not saturated: the comparison sees every logit
    torch.testing.assert_close(got.double().sum(1), torch.ones(2, dtype=torch.float64), rtol=0, atol=1e-5)
    # |log p - log p_ref| is the relative error of p
    err = (got.double().log() - ref).abs().max()
    assert err < 2e-5, f"max relative error of the probabilities = {err:.2e}"


# ----------------------------------------------------------------------------------------------------------
# FID and KID from features, against float64 definitions.


def _mean_cov(x):
    """Mean and the unbiased (N - 1) covariance, written out (numpy.cov's default, which EG3D's FID uses)."""
    x = np.asarray(x, dtype=np.float64)
    mu = x.sum(0) / x.shape[0]
    d = x - mu
    return mu, d.T @ d / (x.shape[0] - 1)


def _fid_definition(a, b):
    import scipy.linalg

    mu1, s1 = _mean_cov(a)
    mu2, s2 = _mean_cov(b)
    root = scipy.linalg.sqrtm(s1 @ s2)
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(root).real)


def _features(seed, n, d, shift=0.0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) @ rng.normal(size=(d, d)) * 0.4 + shift + rng.uniform(-1, 1, size=d)


def test_feature_stats_are_mean_and_unbiased_covariance():
    x = _features(0, 7, 5)  # few samples: N vs N - 1 is a 17% difference
    mu, cov = feature_stats(x)
    ref_mu, ref_cov = _mean_cov(x)
    np.testing.assert_allclose(mu, ref_mu, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(cov, ref_cov, rtol=1e-12, atol=1e-13)
    # two vectors are the fewest with a covariance (N - 1 > 0); one, or a flat array, is refused rather than NaN
    np.testing.assert_allclose(feature_stats(x[:2])[1], _mean_cov(x[:2])[1], rtol=1e-12, atol=1e-13)
    for bad in (x[:1], x[0]):
        with pytest.raises(ValueError, match="at least two feature vectors"):
            feature_stats(bad)


@pytest.mark.parametrize("n1, n2, d", [(60, 45, 12), (30, 25, 8)])
def test_fid_from_features_matches_definition(n1, n2, d):
    pytest.importorskip("scipy.linalg")
    a, b = _features(1, n1, d), _features(2, n2, d, shift=0.3)
    got = frechet_distance(*feature_stats(a), *feature_stats(b))
    assert got == pytest.approx(_fid_definition(a, b), rel=1e-9)


def _kernel(x, y):
    return (x @ y.T / x.shape[1] + 1) ** 3


def _kid_definition(x, y):
    """Unbiased MMD^2 with the cubic kernel, as stylegan2-ada's KID per subset: within-set terms over i != j,
    the cross term over all pairs."""
    m = x.shape[0]
    off = ~np.eye(m, dtype=bool)
    return float(_kernel(x, x)[off].mean() + _kernel(y, y)[off].mean() - 2 * _kernel(x, y).mean())


def test_kid_with_whole_sets_as_subsets_is_the_unbiased_mmd():
    """max_subset_size >= N: every subset is a permutation of the whole set, so each subset's estimate and their
    mean equal the unbiased MMD^2 of the two sets exactly, whatever the sampling."""
    real, fake = _features(3, 40, 16), _features(4, 40, 16, shift=0.2)
    want = _kid_definition(fake, real)
    assert kernel_inception_distance(real, fake, num_subsets=3, max_subset_size=1000) == pytest.approx(want, rel=1e-10)
    same = _features(5, 40, 16)  # two halves of one sample: a small value, still exact
    want = _kid_definition(same[:20], same[20:])
    assert kernel_inception_distance(same[20:], same[:20], num_subsets=2, max_subset_size=20) == pytest.approx(
        want, rel=1e-10)


def test_kid_subsets_have_max_subset_size_elements():
    """Sets larger than max_subset_size: with one subset of 2, KID is the unbiased MMD^2 of some pair of fakes
    against some pair of reals (all 36 candidates of 4 + 4 vectors enumerated), not the whole sets' value."""
    import itertools

    real, fake = _features(8, 4, 6), _features(9, 4, 6, shift=0.3)
    pairs = list(itertools.combinations(range(4), 2))
    candidates = np.array([_kid_definition(fake[list(i)], real[list(j)]) for i in pairs for j in pairs])
    drawn = []
    for seed in range(3):
        got = kernel_inception_distance(real, fake, num_subsets=1, max_subset_size=2, seed=seed)
        assert np.abs(candidates - got).min() <= 1e-12 * np.abs(candidates).max(), seed
        assert got == kernel_inception_distance(real, fake, num_subsets=1, max_subset_size=2, seed=seed)
        drawn.append(got)
    assert len(set(drawn)) > 1  # the subsets follow the seed
    # StyleGAN's 100 subsets by default
    default = kernel_inception_distance(real, fake, max_subset_size=2, seed=1)
    assert default == kernel_inception_distance(real, fake, num_subsets=100, max_subset_size=2, seed=1)
    assert default != kernel_inception_distance(real, fake, num_subsets=50, max_subset_size=2, seed=1)
    assert np.abs(candidates - _kid_definition(fake, real)).min() > 1e-6  # the whole sets' value is not one


def test_kid_on_random_subsets_is_centred_on_the_all_pairs_statistic():
    """Subsets of m < N drawn without replacement: the subset estimates average to the all-pairs U-statistic of
    the full sets; a biased estimator (diagonal kept, here +35%) or sampling with replacement would shift the mean
    by far more than its sampling error (~1.5% over 8 x 50 subsets)."""
    real, fake = _features(6, 120, 8), _features(7, 90, 8, shift=0.15)

    def off_diagonal_mean(k):
        return k[~np.eye(k.shape[0], dtype=bool)].mean()

    want = off_diagonal_mean(_kernel(fake, fake)) + off_diagonal_mean(_kernel(real, real)) \
        - 2 * _kernel(fake, real).mean()
    got = np.array([kernel_inception_distance(real, fake, num_subsets=50, max_subset_size=30, seed=s)
                    for s in range(8)])
    stderr = got.std(ddof=1) / np.sqrt(len(got))
    assert abs(got.mean() - want) < 5 * stderr, (got.mean(), want, stderr)
