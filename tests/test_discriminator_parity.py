"""The dual discriminator against the ORIGINAL code (tests/fixtures/op3d_discriminator, made by
tools/make_discriminator_fixture.py: the original training.dual_discriminator.DualDiscriminator run on CPU with small
random weights, on batches of 2, 4 and 8 with minibatch-std group 4, image_raw both up- and downsampled to the image
size, and unnormalized labels)."""

import numpy as np
import pytest
import torch
from helpers import REPO_FIXTURES, load_original_fixture, rel_l2

from op3d.io.checkpoint import build_model

FIXTURE = REPO_FIXTURES / "op3d_discriminator"
BATCH_SIZES = (2, 4, 8)
RAW = ("up", "down")


@pytest.fixture(scope="module")
def fixture():
    return load_original_fixture(FIXTURE)


@pytest.fixture(scope="module")
def discriminator(fixture):
    """Built as op3d builds D from an original snapshot: the original's init kwargs, the original's key names."""
    config, state, _ = fixture
    kwargs = {k: v for k, v in config.items() if k != "class_name"}
    return build_model(config["class_name"], kwargs, state, str(FIXTURE))


def run(D, out, raw: str, n: int) -> np.ndarray:
    t = lambda k: torch.from_numpy(out[k][:n].astype(np.float32))
    with torch.no_grad():
        return D({"image": t("image"), "image_raw": t(f"image_raw_{raw}")}, t("c")).numpy()


@pytest.mark.parametrize("raw", RAW)
@pytest.mark.parametrize("n", BATCH_SIZES)
def test_discriminator_matches_original_code(fixture, discriminator, raw, n):
    out = fixture[2]
    got = run(discriminator, out, raw, n)
    want = out[f"logits_{raw}_b{n}"]
    assert got.shape == want.shape == (n, 1)
    assert rel_l2(got, want) < 1e-5, rel_l2(got, want)


def test_fixture_is_not_trivial(fixture):
    """Each thing the parity test is meant to watch moves the stored logits far above its 1e-5 tolerance."""
    out = fixture[2]
    size = out["image"].shape[-1]
    assert out["image_raw_up"].shape[-1] < size < out["image_raw_down"].shape[-1]
    resize = lambda x, aa: torch.nn.functional.interpolate(torch.from_numpy(x.astype(np.float32)), size=(size, size),
                                                           mode="bilinear", align_corners=False, antialias=aa)
    assert rel_l2(resize(out["image_raw_down"], False), resize(out["image_raw_down"], True)) > 0.1  # antialiasing on
    assert np.abs(out["c"].std(1) - 1).min() > 0.5  # labels far from unit 2nd moment
    for raw in RAW:
        logits = [out[f"logits_{raw}_b{n}"][:, 0] for n in BATCH_SIZES]
        assert logits[-1].std() > 0.2 * np.abs(logits[-1]).max()  # not constant over the batch
        # the same first images score differently in another batch: the minibatch-std groups differ
        assert rel_l2(logits[0], logits[1][:2]) > 5e-3 and rel_l2(logits[1], logits[2][:4]) > 5e-3
    assert rel_l2(out["logits_up_b8"], out["logits_down_b8"]) > 1e-2


def test_every_weight_is_trained(discriminator):
    """freeze_layers 0 (the original's default, the only value op3d trains with): every layer's weight and bias is
    a parameter the optimizer sees; the only buffers are the fixed resampling filters (StyleGAN2's
    DiscriminatorBlock registers frozen layers' weights as buffers instead)."""
    buffers = [n for n, _ in discriminator.named_buffers()]
    assert buffers and all(n.endswith("resample_filter") for n in buffers), buffers
    params = dict(discriminator.named_parameters())
    assert "b64.fromrgb.weight" in params and "b64.conv0.weight" in params and "b4.out.weight" in params


def test_freeze_layers_counts_layers_across_blocks():
    """StyleGAN2's freeze_layers = n (block_kwargs): the first n layers of D, counted from the top block on
    (fromrgb, conv0, conv1, skip per block), keep their weights as buffers; here n = 5: the 32 px block's four
    and the 16 px block's conv0."""
    from op3d.networks.discriminator import DualDiscriminator
    from op3d.presets import discriminator_kwargs

    D = DualDiscriminator(**dict(discriminator_kwargs(32, "tiny"), block_kwargs={"freeze_layers": 5}))
    frozen = {n.rsplit(".", 1)[0] for n, _ in D.named_buffers() if not n.endswith("resample_filter")}
    assert frozen == {"b32.fromrgb", "b32.conv0", "b32.conv1", "b32.skip", "b16.conv0"}
    assert "b16.conv1.weight" in dict(D.named_parameters())


def test_minibatch_std_group_comes_from_the_epilogue_options():
    """--mbstd-group 2 (epilogue_kwargs mbstd_group_size) with a batch of 4: StyleGAN2 groups images i and i + 2,
    so changing image 1 moves the logit of image 3 only; the default group 4 would move all four."""
    from op3d.networks.discriminator import DualDiscriminator
    from op3d.presets import discriminator_kwargs

    torch.manual_seed(0)
    D = DualDiscriminator(**discriminator_kwargs(32, "tiny", mbstd_group=2)).double()
    img = {"image": torch.randn(4, 3, 32, 32, dtype=torch.float64),
           "image_raw": torch.randn(4, 3, 16, 16, dtype=torch.float64)}
    c = torch.randn(4, 25, dtype=torch.float64)
    changed = {k: v.clone() for k, v in img.items()}
    changed["image"][1] += 1
    with torch.no_grad():
        moved = (D(changed, c) - D(img, c)).abs().flatten()
    assert moved[1] > 1e-6 and moved[3] > 1e-6 and moved[0] == 0 and moved[2] == 0


@pytest.mark.parametrize("c_dim", [0, 1, 3])
def test_labels_condition_d_through_the_projection_exactly_when_c_dim_is_positive(c_dim):
    """StyleGAN2's conditional D: with c_dim > 0 (one label value is enough) a mapping network embeds c and the
    epilogue projects onto it (logit = <out, cmap> / sqrt(cmap_dim)), so changing c changes the logit; with
    c_dim 0 there is no mapping, the epilogue outputs the logit itself and c is not read."""
    from op3d.networks.discriminator import DualDiscriminator

    torch.manual_seed(0)
    D = DualDiscriminator(c_dim=c_dim, img_resolution=16, img_channels=3, channel_base=64, channel_max=8,
                          num_fp16_res=0, conv_clamp=None).double()
    assert hasattr(D, "mapping") == (c_dim > 0)
    assert D.b4.out.weight.shape[0] == (D.b4.cmap_dim if c_dim else 1)
    img = {"image": torch.randn(2, 3, 16, 16, dtype=torch.float64),
           "image_raw": torch.randn(2, 3, 8, 8, dtype=torch.float64)}
    c = torch.randn(2, max(c_dim, 1), dtype=torch.float64)
    with torch.no_grad():
        moved = (D(img, c + 1) - D(img, c)).abs().max()
    assert (moved > 1e-6) == (c_dim > 0)


def test_conv_layer_clamp_scales_with_the_layer_gain():
    """StyleGAN2's Conv2dLayer: out = clamp(act(conv(x) + b) * act_gain * gain, +-conv_clamp * gain) (D's resnet
    blocks call conv1 with gain sqrt(0.5)). A 1 x 1 linear layer of weight 1 on the values 0.5, 1, 2, 3: with
    conv_clamp 1 and gain 0.5 they come out as 0.25, 0.5, 0.5, 0.5; without a clamp as 0.25, 0.5, 1, 1.5."""
    from op3d.networks.layers import Conv2dLayer

    x = torch.tensor([0.5, 1.0, 2.0, 3.0], dtype=torch.float64).reshape(1, 1, 2, 2)
    for clamp, want in ((1.0, [0.25, 0.5, 0.5, 0.5]), (None, [0.25, 0.5, 1.0, 1.5])):
        layer = Conv2dLayer(1, 1, 1, conv_clamp=clamp).double()
        with torch.no_grad():
            layer.weight.fill_(1.0)  # weight_gain 1 / sqrt(1 * 1) = 1
            got = layer(x, gain=0.5).flatten().tolist()
        assert got == pytest.approx(want)


def test_skip_architecture_adds_every_resolutions_image_features():
    """architecture='skip' (StyleGAN2's D option): each block adds fromrgb of the image downsampled to its
    resolution to the features before its convolutions, and the epilogue adds its own fromrgb at 4x4; composed
    here by hand from the layers."""
    import numpy as np
    from op3d.networks.discriminator import DualDiscriminator, resize_raw
    from op3d.ops.upfirdn2d import downsample2d
    from op3d.presets import discriminator_kwargs

    torch.manual_seed(1)
    D = DualDiscriminator(**dict(discriminator_kwargs(16, "tiny", mbstd_group=2), architecture="skip")).double()
    for p in D.parameters():  # biases away from zero, so every term shows
        p.data += 0.1 * torch.randn_like(p)
    img = {"image": torch.randn(2, 3, 16, 16, dtype=torch.float64),
           "image_raw": torch.randn(2, 3, 8, 8, dtype=torch.float64)}
    c = torch.randn(2, 25, dtype=torch.float64)
    with torch.no_grad():
        x_img = torch.cat([img["image"], resize_raw(img["image_raw"], 16)], 1)
        x = None
        for res in D.block_resolutions:
            block = getattr(D, f"b{res}")
            y = block.fromrgb(x_img)
            x = y if x is None else x + y
            x_img = downsample2d(x_img, block.resample_filter)
            x = block.conv1(block.conv0(x))
        e = D.b4
        x = e.mbstd(x + e.fromrgb(x_img))
        x = e.out(e.fc(e.conv(x).flatten(1)))
        want = (x * D.mapping(None, c)).sum(1, keepdim=True) / np.sqrt(e.cmap_dim)
        torch.testing.assert_close(D(img, c), want, rtol=1e-12, atol=1e-12)
