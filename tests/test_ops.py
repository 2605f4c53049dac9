"""Reference ops against naive implementations written from their definitions (float64)."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from op3d.ops.bias_act import ACTIVATIONS, bias_act
from op3d.ops.conv2d_resample import conv2d_resample
from op3d.ops.dispatch import reference_ops
from op3d.ops.modulated_conv import modulated_conv1x1_multi, modulated_conv2d
from op3d.ops.upfirdn2d import downsample2d, is_bilinear_filter, setup_filter, upfirdn2d, upsample2d

NAIVE_ACT = {
    "linear": lambda v: v, "relu": lambda v: max(v, 0.0), "lrelu": lambda v: v if v >= 0 else 0.2 * v,
    "tanh": math.tanh, "sigmoid": lambda v: 1 / (1 + math.exp(-v)),
    "elu": lambda v: v if v > 0 else math.exp(v) - 1,
    "selu": lambda v: 1.0507009873554805 * (v if v > 0 else 1.6732632423543772 * (math.exp(v) - 1)),
    "softplus": lambda v: math.log1p(math.exp(v)), "swish": lambda v: v / (1 + math.exp(-v)),
}
GAINS = {"relu": math.sqrt(2), "lrelu": math.sqrt(2), "swish": math.sqrt(2)}


@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
def test_bias_act_matches_scalar_formula(act):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, 4, dtype=torch.float64, generator=g) * 2
    b = torch.randn(3, dtype=torch.float64, generator=g)
    out = bias_act(x, b, act=act, clamp=1.5)
    gain = GAINS.get(act, 1.0)
    for idx in np.ndindex(*x.shape):
        v = NAIVE_ACT[act](float(x[idx] + b[idx[1]])) * gain
        assert out[idx].item() == pytest.approx(min(max(v, -1.5), 1.5), abs=1e-12)


@pytest.mark.parametrize("reference", [False, True])
@pytest.mark.parametrize("act, clamp", [("lrelu", None), ("lrelu", 1.5), ("relu", 1.5), ("linear", 1.5)])
def test_bias_act_second_order(reference, act, clamp):
    """Numerical first and second derivatives (R1 differentiates D's layers twice) of both paths, values
    clamped included (float64; no value within gradcheck's step of a kink)."""
    g = torch.Generator().manual_seed(3)
    x = (torch.randn(2, 3, 5, dtype=torch.float64, generator=g) * 2).requires_grad_(True)
    b = torch.randn(3, dtype=torch.float64, generator=g).requires_grad_(True)
    with reference_ops(reference):
        f = lambda x, b: bias_act(x, b, act=act, clamp=clamp)
        if clamp is not None:
            assert bool((f(x, b).abs() == clamp).any())  # some elements clamped
        assert torch.autograd.gradcheck(f, (x, b)) and torch.autograd.gradgradcheck(f, (x, b))


@pytest.mark.parametrize("act", ["lrelu", "relu", "linear"])
@pytest.mark.parametrize("dim, bias, clamp", [(1, True, 256.0), (1, True, 0.5), (-1, True, None), (1, False, 0.5)])
def test_bias_act_fast_path_equals_its_reference_twin(act, dim, bias, clamp):
    """The in-place path that keeps only the output: the same values, gradients and R1-style second derivatives
    (of |dL/dx|^2 in the weights downstream) as the torch composition, on a channels-last batch (as fp16 blocks
    store it); the input is left as it was."""
    g = torch.Generator().manual_seed(4)
    x0 = torch.randn(2, 6, 5, 4, generator=g).contiguous(memory_format=torch.channels_last)
    b0 = torch.randn(x0.shape[dim], generator=g) if bias else None
    w0 = torch.randn(x0.shape, generator=g)
    results = []
    for reference in (False, True):
        x = x0.clone().requires_grad_(True)
        b = None if b0 is None else b0.clone().requires_grad_(True)
        w = w0.clone().requires_grad_(True)
        with reference_ops(reference):
            y = bias_act(x, b, dim=dim, act=act, gain=1.3, clamp=clamp)
            grads = torch.autograd.grad((y * w).square().sum(), [x] + ([b] if bias else []), create_graph=True)
            second = torch.autograd.grad(grads[0].square().sum(), [w])
        assert torch.equal(x, x0)
        results.append((y.detach(), [t.detach() for t in grads + second]))
    (y_fast, g_fast), (y_ref, g_ref) = results
    assert torch.equal(y_fast, y_ref)
    if clamp is not None and clamp < 1:
        assert bool((y_ref.abs() == clamp).any())
    for a, r in zip(g_fast, g_ref):
        torch.testing.assert_close(a, r, rtol=1e-5, atol=1e-5)


def test_bias_act_fast_path_keeps_only_its_output_for_backward():
    """What autograd keeps of a clamped lrelu layer: the output alone on the fast path (StyleGAN2's plugin keeps
    the same), the activation's and the clamp's inputs on the reference path; the bias adds nothing."""
    x = torch.randn(2, 4, 3, 3, requires_grad=True)
    b = torch.randn(4, requires_grad=True)
    for reference, kept in ((False, 1), (True, 2)):
        sizes = []
        with torch.autograd.graph.saved_tensors_hooks(lambda t: sizes.append(t.shape) or t, lambda t: t):
            with reference_ops(reference):
                bias_act(x, b, act="lrelu", clamp=0.5)
        assert sizes == [x.shape] * kept, (reference, sizes)


def naive_upfirdn2d(x, f, up, down, pad, gain, flip_filter=False):
    """Definition: zero-insert, pad/crop, correlate with the flipped filter, keep every down-th pixel."""
    x, f = x.numpy(), f.numpy() * gain
    if not flip_filter:
        f = f[::-1, ::-1]
    B, C, H, W = x.shape
    xu = np.zeros((B, C, H * up, W * up))
    xu[:, :, ::up, ::up] = x
    px0, px1, py0, py1 = pad
    big = np.zeros((B, C, H * up + max(py0, 0) + max(py1, 0), W * up + max(px0, 0) + max(px1, 0)))
    big[:, :, max(py0, 0): max(py0, 0) + H * up, max(px0, 0): max(px0, 0) + W * up] = xu
    big = big[:, :, max(-py0, 0): big.shape[2] - max(-py1, 0), max(-px0, 0): big.shape[3] - max(-px1, 0)]
    kh, kw = f.shape
    out = np.zeros((B, C, big.shape[2] - kh + 1, big.shape[3] - kw + 1))
    for i in range(out.shape[2]):
        for j in range(out.shape[3]):
            out[:, :, i, j] = (big[:, :, i:i + kh, j:j + kw] * f).sum((2, 3))
    return torch.from_numpy(out[:, :, ::down, ::down].copy())


CASES = [(1, 1, [0, 0, 0, 0], 1), (2, 1, [2, 1, 2, 1], 4), (1, 2, [1, 1, 1, 1], 1), (2, 1, [1, 1, 1, 1], 4),
         (1, 1, [-1, 2, 0, 3], 2), (3, 2, [1, 2, 0, 1], 3), (1, 1, [1, 1, 1, 1], 1)]


@pytest.mark.parametrize("H,W", [(5, 7), (8, 8), (9, 4)])
@pytest.mark.parametrize("up,down,pad,gain", CASES)
def test_upfirdn2d_matches_naive(H, W, up, down, pad, gain):
    g = torch.Generator().manual_seed(H * W + up)
    x = torch.randn(2, 3, H, W, dtype=torch.float64, generator=g)
    f = setup_filter([1, 3, 3, 1]).double()
    want = naive_upfirdn2d(x, f, up, down, pad, gain)
    torch.testing.assert_close(upfirdn2d(x, f, up, down, pad, gain=gain), want, rtol=0, atol=1e-12)


def test_upfirdn2d_asymmetric_filter_and_flip():
    x = torch.randn(1, 2, 6, 5, dtype=torch.float64)
    f = setup_filter([1, 2, 5], normalize=False).double()  # outer product, not symmetric
    for flip in (False, True):
        want = naive_upfirdn2d(x, f, 2, 1, [1, 2, 2, 1], 4, flip_filter=flip)
        got = upfirdn2d(x, f, 2, 1, [1, 2, 2, 1], flip_filter=flip, gain=4)
        torch.testing.assert_close(got, want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("with_bias", [False, True])
@pytest.mark.parametrize("H,W", [(7, 6), (1, 1), (1, 4), (2, 3), (16, 16), (31, 33)])
def test_fast_upsample_matches_naive_forward_and_backward(H, W, with_bias):
    f = setup_filter([1, 3, 3, 1]).double()
    assert is_bilinear_filter(f) and not is_bilinear_filter(setup_filter([1, 2, 1]))
    x = torch.randn(2, 3, H, W, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(3, dtype=torch.float64, requires_grad=True) if with_bias else None
    fast = upsample2d(x, f, bias=bias)
    with reference_ops():
        ref = upsample2d(x, f, bias=bias)
    naive = naive_upfirdn2d(x.detach(), f, 2, 1, [2, 1, 2, 1], 4)
    if with_bias:
        naive = naive + bias.detach().reshape(1, -1, 1, 1)
    torch.testing.assert_close(fast, naive, rtol=0, atol=1e-12)
    gy = torch.randn_like(ref)
    inputs = (x, bias) if with_bias else (x,)
    for g_fast, g_ref in zip(torch.autograd.grad(fast, inputs, gy), torch.autograd.grad(ref, inputs, gy)):
        torch.testing.assert_close(g_fast, g_ref, rtol=0, atol=1e-12)


@pytest.mark.parametrize("padding,gain", [(1, 1), (0, 3), ((1, 2, 0, 1), 1)])
def test_upsample_with_padding_or_gain_is_the_full_fir(padding, gain):
    """Only the plain case may take the bilinear fast path: extra padding or a gain go through the FIR."""
    f = setup_filter([1, 3, 3, 1]).double()
    x = torch.randn(1, 2, 5, 4, dtype=torch.float64)
    px0, px1, py0, py1 = (padding,) * 4 if isinstance(padding, int) else padding
    want = naive_upfirdn2d(x, f, 2, 1, [px0 + 2, px1 + 1, py0 + 2, py1 + 1], 4 * gain)
    torch.testing.assert_close(upsample2d(x, f, padding=padding, gain=gain), want, rtol=0, atol=1e-12)


def test_resampling_second_order():
    f = setup_filter([1, 3, 3, 1]).double()
    xs = torch.randn(1, 2, 4, 5, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradgradcheck(lambda v: downsample2d(v, f), (xs,))
    assert torch.autograd.gradgradcheck(lambda v: upsample2d(v, f), (xs,))
    assert torch.autograd.gradcheck(lambda v, b: upsample2d(v, f, bias=b), (xs, bias))
    assert torch.autograd.gradgradcheck(lambda v, b: upsample2d(v, f, bias=b), (xs, bias))


def test_resampling_shapes_and_constant_preservation():
    f = setup_filter([1, 3, 3, 1])
    x = torch.ones(1, 1, 8, 8)
    up = upsample2d(x, f)
    down = downsample2d(x, f)
    assert up.shape == (1, 1, 16, 16) and down.shape == (1, 1, 4, 4)
    # Away from the zero-padded border a normalized filter keeps a constant image constant.
    torch.testing.assert_close(up[..., 2:-2, 2:-2], torch.ones(1, 1, 12, 12))
    torch.testing.assert_close(down[..., 1:-1, 1:-1], torch.ones(1, 1, 2, 2))


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("groups", [1, 2])
def test_conv2d_resample_up_equals_upsample_then_convolve(k, groups):
    f = setup_filter([1, 3, 3, 1]).double()
    x = torch.randn(2, 4 * groups, 5, 6, dtype=torch.float64)
    w = torch.randn(3 * groups, 4, k, k, dtype=torch.float64)
    got = conv2d_resample(x, w, f, up=2, padding=k // 2, groups=groups, flip_weight=False)
    # Both stages are linear shift-invariant, so they commute on an input with a wide zero border;
    # cropping the centre removes the border effects of the intermediate result.
    P = 3
    wide = F.conv2d(upsample2d(F.pad(x, [P] * 4), f), w.flip([2, 3]), padding=k // 2, groups=groups)  # true conv
    want = wide[..., 2 * P:-2 * P, 2 * P:-2 * P]
    torch.testing.assert_close(got, want, rtol=0, atol=1e-10)


@pytest.mark.parametrize("k", [1, 3])
def test_conv2d_resample_down_equals_convolve_then_downsample(k):
    f = setup_filter([1, 3, 3, 1]).double()
    x = torch.randn(2, 4, 8, 10, dtype=torch.float64)
    w = torch.randn(3, 4, k, k, dtype=torch.float64)
    got = conv2d_resample(x, w, f, down=2, padding=k // 2)
    P = 4  # see the up test: commute on a zero-bordered input, then crop
    want = downsample2d(F.conv2d(F.pad(x, [P] * 4), w, padding=k // 2), f)[..., P // 2:-(P // 2), P // 2:-(P // 2)]
    torch.testing.assert_close(got, want, rtol=0, atol=1e-10)


def naive_modulated_conv(x, weight, styles, demodulate):
    outs = []
    for b in range(x.shape[0]):
        w = weight * styles[b].reshape(1, -1, 1, 1)
        if demodulate:
            w = w / torch.sqrt((w ** 2).sum(dim=[1, 2, 3], keepdim=True) + 1e-8)
        outs.append(F.conv2d(x[b:b + 1], w, padding=weight.shape[-1] // 2))
    return torch.cat(outs)


@pytest.mark.parametrize("demodulate", [True, False])
@pytest.mark.parametrize("fused", [True, False])
def test_modulated_conv2d_matches_per_sample_convolution(demodulate, fused):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(3, 4, 6, 6, dtype=torch.float64, generator=g)
    weight = torch.randn(5, 4, 3, 3, dtype=torch.float64, generator=g)
    styles = torch.randn(3, 4, dtype=torch.float64, generator=g)
    got = modulated_conv2d(x, weight, styles, padding=1, demodulate=demodulate, fused_modconv=fused)
    torch.testing.assert_close(got, naive_modulated_conv(x, weight, styles, demodulate), rtol=0, atol=1e-10)


def test_modulated_conv2d_fused_equals_unfused_with_upsampling():
    f = setup_filter([1, 3, 3, 1]).double()
    x = torch.randn(2, 4, 5, 5, dtype=torch.float64)
    weight = torch.randn(3, 4, 3, 3, dtype=torch.float64)
    styles = torch.randn(2, 4, dtype=torch.float64)
    noise = torch.randn(2, 1, 10, 10, dtype=torch.float64)
    a = modulated_conv2d(x, weight, styles, noise, up=2, padding=1, resample_filter=f, flip_weight=False)
    b = modulated_conv2d(x, weight, styles, noise, up=2, padding=1, resample_filter=f, flip_weight=False,
                         fused_modconv=False)
    torch.testing.assert_close(a, b, rtol=0, atol=1e-10)


@pytest.mark.parametrize("K", [1, 4, 7])
def test_k_batched_head_equals_replicated_feature_maps(K):
    """OP3D replicates x K times and runs a grouped 1x1 modulated conv; we never replicate."""
    g = torch.Generator().manual_seed(K)
    x = torch.randn(2, 6, 5, 4, dtype=torch.float64, generator=g)
    weight = torch.randn(9, 6, dtype=torch.float64, generator=g)
    styles = torch.randn(2, K, 6, dtype=torch.float64, generator=g)
    x_rep = x.unsqueeze(1).repeat(1, K, 1, 1, 1).reshape(2 * K, 6, 5, 4)
    want = modulated_conv2d(x_rep, weight[:, :, None, None], styles.reshape(2 * K, 6), demodulate=False)
    got = modulated_conv1x1_multi(x, weight, styles)
    torch.testing.assert_close(got, want.reshape(2, K, 9, 5, 4).transpose(1, 2), rtol=0, atol=1e-10)


def test_conv2d_resample_second_order():
    f = setup_filter([1, 3, 3, 1]).double()
    x = torch.randn(1, 2, 4, 4, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradgradcheck(lambda a, b: conv2d_resample(a, b, f, down=2, padding=1), (x, w))
    assert torch.autograd.gradgradcheck(lambda a, b: conv2d_resample(a, b, f, up=2, padding=1, flip_weight=False),
                                        (x, w))


def test_discriminator_r1_gradient_matches_finite_differences():
    """R1 differentiates D's logits w.r.t. the image, then the penalty w.r.t. D's weights (double backward).

    D is piecewise linear (lrelu), so gradgradcheck's finite differences across kinks are meaningless; instead
    the weight gradient of the penalty is compared with central differences of the penalty itself (float64).
    """
    from op3d.networks.discriminator import DualDiscriminator

    torch.manual_seed(0)
    D = DualDiscriminator(25, 16, 3, channel_base=64, channel_max=4, mapping_kwargs=dict(num_layers=1),
                          epilogue_kwargs=dict(mbstd_group_size=2)).double()
    img = torch.randn(2, 3, 16, 16, dtype=torch.float64)
    raw = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    c = torch.randn(2, 25, dtype=torch.float64)

    def penalty():
        x = img.clone().requires_grad_(True)
        (g,) = torch.autograd.grad(D({"image": x, "image_raw": raw}, c).sum(), x, create_graph=True)
        return g.square().sum()

    params = {"b16.conv0.weight": D.b16.conv0.weight, "b4.fc.weight": D.b4.fc.weight,
              "mapping.fc0.weight": D.mapping.fc0.weight}
    grads = torch.autograd.grad(penalty(), list(params.values()))
    for (name, p), g in zip(params.items(), grads):
        for idx in [(0,) * p.ndim, tuple(s - 1 for s in p.shape)]:
            eps = 1e-6
            with torch.no_grad():
                p[idx] += eps
            up = penalty().item()
            with torch.no_grad():
                p[idx] -= 2 * eps
            down = penalty().item()
            with torch.no_grad():
                p[idx] += eps
            assert g[idx].item() == pytest.approx((up - down) / (2 * eps), rel=1e-4, abs=1e-9), (name, idx)


def test_discriminator_label_noise_is_scaled_by_each_entrys_spread():
    """EG3D's disc_c_noise: D embeds c + N(0, 1) * c.std(0) * disc_c_noise (per label entry, over the batch), so
    entries equal across the batch get no noise."""
    from op3d.networks.discriminator import DualDiscriminator

    torch.manual_seed(0)
    D = DualDiscriminator(25, 16, 3, channel_base=64, channel_max=4, mapping_kwargs=dict(num_layers=1),
                          disc_c_noise=0.5)
    seen = []
    D.mapping.register_forward_pre_hook(lambda module, args: seen.append(args[1]))
    c = torch.randn(3, 25)
    c[:, :4] = 1.5  # the same in every sample: spread 0
    img = {"image": torch.randn(3, 3, 16, 16), "image_raw": torch.randn(3, 3, 8, 8)}
    torch.manual_seed(7)
    with torch.no_grad():
        D(img, c)
    torch.manual_seed(7)
    torch.testing.assert_close(seen[0], c + torch.randn(3, 25) * c.std(0) * 0.5)
    assert torch.equal(seen[0][:, :4], c[:, :4])
