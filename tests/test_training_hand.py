"""The training objective's pieces against independent hand computations on tiny inputs: the density
regularizer, style mixing, generator pose conditioning swaps, the blur fade and the EMA update.

Expected values are computed here with plain torch / numpy formulas (float64 where useful); random draws are
reproduced by re-seeding an identical torch.Generator and drawing in the documented order."""
import json
import copy
import math
import time

import numpy as np
import pytest
import torch
from helpers import lookat_labels, tiny_generator

from op3d.training.loop import update_ema
from op3d.training.loss import GANLoss, LossConfig, blur_sigma, conditioning_cameras, gaussian_blur, swapping_prob


def seeded(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def same_state(a: torch.Generator, b: torch.Generator) -> bool:
    return torch.equal(a.get_state(), b.get_state())


def assert_near(actual: torch.Tensor, expected: torch.Tensor, rtol: float, atol: float, msg: str = "") -> None:
    """|actual - expected| <= atol + rtol |expected| elementwise, compared in float64 (same shapes)."""
    assert actual.shape == expected.shape, (msg, actual.shape, expected.shape)
    a, e = actual.detach().double(), expected.detach().double()
    err = (a - e).abs() - (atol + rtol * e.abs())
    assert bool((err <= 0).all()), f"{msg}: max |diff| {float((a - e).abs().max()):.3g}"


def hand_swap(c: torch.Tensor, prob: float, draw: torch.Tensor) -> torch.Tensor:
    """Row i takes the previous sample's camera (i - 1 mod B) where draw[i] < prob, its own otherwise."""
    B = c.shape[0]
    return torch.stack([c[(i - 1) % B] if float(draw[i, 0]) < prob else c[i] for i in range(B)])


# ---------------------------------------------------------------------------------------------------
# 1. Density regularization


class StubG(torch.nn.Module):
    """Records what the loss hands it. mapping: ws = tanh(z A + c C) repeated over num_ws layers;
    sample_density: sigma = sin(3 <points, a> + mean(ws)) * s (per point, differentiable in a, s, A, C)."""

    num_ws = 4

    def __init__(self, z_dim=3):
        super().__init__()
        g = seeded(11)
        self.z_dim = z_dim
        self.A = torch.nn.Parameter(torch.randn(z_dim, 6, generator=g))
        self.C = torch.nn.Parameter(torch.randn(25, 6, generator=g) * 0.1)
        self.a = torch.nn.Parameter(torch.randn(3, generator=g))
        self.s = torch.nn.Parameter(torch.tensor(1.7))
        self.calls = []

    def mapping(self, z, c, update_emas=False):
        self.calls.append(("mapping", c.detach().clone()))
        return torch.tanh(z @ self.A + c @ self.C)[:, None].repeat(1, self.num_ws, 1)

    def sample_density(self, points, ws, noise_mode="random", **_):
        self.calls.append(("sample_density", points.detach().clone()))
        sigma = torch.sin(3 * (points * self.a).sum(-1, keepdim=True) + ws.mean([1, 2])[:, None, None]) * self.s
        return {"sigma": sigma}

    def synthesis(self, ws, c, **kw):
        self.calls.append(("synthesis", c.detach().clone()))
        return {"image": torch.zeros(ws.shape[0], 3, 4, 4)}


def stub_sigma_f64(G: StubG, points: torch.Tensor, ws: torch.Tensor) -> torch.Tensor:
    a, s = G.a.detach().double(), G.s.detach().double()
    return torch.sin(3 * (points.double() * a).sum(-1, keepdim=True) + ws.double().mean([1, 2])[:, None, None]) * s


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_density_reg_stub_points_cameras_and_value(seed):
    B, n, dist, weight = 3, 50, 0.03, 0.37
    cfg = LossConfig(density_reg=weight, density_reg_p_dist=dist, density_reg_points=n, gpc_reg_prob=0.5,
                     gpc_reg_fade_kimg=1, style_mixing_prob=0)
    G = StubG()
    z = torch.randn(B, G.z_dim, generator=seeded(100 + seed))
    c = torch.randn(B, 25, generator=seeded(200 + seed))
    gen = seeded(seed)
    loss = GANLoss(G, None, cfg, generator=gen).density_reg(z, c, cur_nimg=10 ** 6)  # swapping prob 0.5

    ref = seeded(seed)
    draw = float(torch.rand((1, 1), generator=ref))  # one draw for the whole batch
    initial = torch.rand((B, n, 3), generator=ref) * 2 - 1
    noise = torch.randn((B, n, 3), generator=ref)
    perturbed = initial + noise * dist
    assert same_state(gen, ref)  # nothing else was drawn

    c_cond = torch.stack([c[(i - 1) % B] for i in range(B)]) if draw < 0.5 else c
    kinds = [k for k, _ in G.calls]
    assert kinds == ["mapping", "sample_density"]
    assert_near(G.calls[0][1], c_cond, rtol=0, atol=0)
    points = G.calls[1][1]
    assert points.shape == (B, 2 * n, 3)
    assert_near(points[:, :n], initial, rtol=0, atol=0)
    assert_near(points[:, n:], perturbed, rtol=0, atol=0)
    assert points[:, :n].abs().max() <= 1
    assert_near(((points[:, n:] - points[:, :n]) / dist).double(), noise.double(), rtol=0, atol=1e-4)

    ws = torch.tanh(z.double() @ G.A.detach().double() + c_cond.double() @ G.C.detach().double())
    ws = ws[:, None].repeat(1, G.num_ws, 1)
    want = weight * (stub_sigma_f64(G, initial, ws) - stub_sigma_f64(G, perturbed, ws)).abs().mean()
    assert want > 1e-3  # the perturbation matters at this scale
    assert float(loss.detach()) == pytest.approx(float(want), rel=1e-4)


class StubBodyG(StubG):
    """StubG for the pose-conditional regularizer: sdf = s |p|^2 + <p, a> (gradient 2 s p + a, whose norm varies
    over the box) and residual = sin(<p, a>) s."""

    def __init__(self, box_warp=2.4):
        super().__init__()
        self.render_options = type("Options", (), {"box_warp": box_warp})()

    def sample_density(self, points, ws, noise_mode="random", body=None, **_):
        self.calls.append(("sample_density", points.detach().clone()))
        dot = (points * self.a).sum(-1, keepdim=True)
        return {"sdf": self.s * points.square().sum(-1, keepdim=True) + dot, "residual": torch.sin(dot) * self.s}


@pytest.mark.parametrize("seed", [0, 1])
def test_sdf_reg_points_and_values_by_hand(seed):
    """The eikonal and SDF-prior terms: half the points uniform in the whole rendering box, half at random posed
    vertices + N(0, 3 cm); eikonal = mean (|grad sdf| - 1)^2, prior = mean residual^2 (float64 by hand)."""
    B, n, V, box = 2, 40, 30, 2.4
    cfg = LossConfig(sdf_reg_points=2 * n, gpc_reg_prob=None, style_mixing_prob=0)
    G = StubBodyG(box)
    body = type("Body", (), {"vertices": torch.randn(B, V, 3, generator=seeded(7)) * 0.5})()
    z, c = torch.randn(B, G.z_dim, generator=seeded(8)), torch.randn(B, 25, generator=seeded(9))
    gen = seeded(seed)
    terms = GANLoss(G, None, cfg, generator=gen).sdf_reg(z, c, body, cur_nimg=0)
    ref = seeded(seed)
    uniform = (torch.rand((B, n, 3), generator=ref) * 2 - 1) * box / 2
    pick = torch.randint(V, (B, n), generator=ref)
    near = torch.stack([body.vertices[b, pick[b]] for b in range(B)])
    near = near + torch.randn((B, n, 3), generator=ref) * 0.03
    assert same_state(gen, ref)
    points = G.calls[-1][1]
    assert_near(points, torch.cat([uniform, near], 1), rtol=0, atol=1e-7)
    assert (points[:, :n] < 0).any() and (points[:, :n].abs() > 0.9 * box / 2).any()  # the whole box
    p = points.double()
    a, s = G.a.detach().double(), G.s.detach().double()
    grad = 2 * s * p + a
    eikonal = (grad.norm(dim=-1) - 1).square().mean()
    prior = (torch.sin((p * a).sum(-1)) * s).square().mean()
    assert float(terms["eikonal"]) == pytest.approx(float(eikonal), rel=1e-5)
    assert float(terms["sdf_prior"]) == pytest.approx(float(prior), rel=1e-5)
    assert abs(float((grad.norm(dim=-1) - 1).abs().mean()) - float(eikonal)) > 1e-2  # L1 would differ


def test_greg_weights_eikonal_and_prior_separately_and_scales_by_the_gain():
    """The pose-conditional Greg phase: gradient of gain * (eikonal_weight * eikonal + sdf_prior_weight * prior)
    in G's parameters, by hand in float64 at the points it drew (distinct weights, so a swap would show)."""
    B, n, V, box, w_eik, w_prior, gain = 2, 20, 30, 2.4, 0.3, 2.0, 1.5
    # density_reg 0: the pose-conditional phase is gated by its own weights, not by the density regularizer's
    cfg = LossConfig(sdf_reg_points=2 * n, gpc_reg_prob=None, style_mixing_prob=0, eikonal_weight=w_eik,
                     sdf_prior_weight=w_prior, density_reg=0.0)
    G = StubBodyG(box)
    body = type("Body", (), {"vertices": torch.randn(B, V, 3, generator=seeded(7)) * 0.5})()
    z, c = torch.randn(B, G.z_dim, generator=seeded(8)), torch.randn(B, 25, generator=seeded(9))
    stats = GANLoss(G, None, cfg, generator=seeded(3)).accumulate_gradients("Greg", None, None, z, c, gain=gain,
                                                                           cur_nimg=0, gen_body=body)
    p = G.calls[-1][1].double()
    a, s = (t.detach().double().requires_grad_(True) for t in (G.a, G.s))
    eikonal = ((2 * s * p + a).norm(dim=-1) - 1).square().mean()
    prior = (torch.sin((p * a).sum(-1)) * s).square().mean()
    (gain * (w_eik * eikonal + w_prior * prior)).backward()
    assert stats["Loss/G/eikonal"] == pytest.approx(float(eikonal), rel=1e-5)
    assert stats["Loss/G/sdf_prior"] == pytest.approx(float(prior), rel=1e-5)
    assert_near(G.a.grad.double(), a.grad, rtol=1e-4, atol=1e-7)
    assert_near(G.s.grad.double(), s.grad, rtol=1e-4, atol=1e-7)
    # both weights 0 (density_reg on): no pose-conditional regularization at all, G is not even called
    calls = len(G.calls)
    cfg_off = LossConfig(sdf_reg_points=2 * n, gpc_reg_prob=None, eikonal_weight=0.0, sdf_prior_weight=0.0,
                         density_reg=0.25)
    assert GANLoss(G, None, cfg_off).accumulate_gradients("Greg", None, None, z, c, gain=gain, cur_nimg=0,
                                                          gen_body=body) == {}
    assert len(G.calls) == calls


def test_dmain_scores_reals_with_their_own_bodies_and_fakes_with_the_generated_ones(monkeypatch):
    """Pose-conditional Dmain: D sees each real image with the body of its real pose and each fake with the body
    it was generated for (swapping them would teach D nothing about poses)."""
    real_body, gen_body, seen = object(), object(), []
    weight = torch.zeros((), requires_grad=True)

    def run_G(self, z, c, cur_nimg, update_emas=False, body=None):
        assert body is gen_body
        return {"image": torch.zeros(len(z), 3, 16, 16), "image_raw": torch.zeros(len(z), 3, 8, 8)}

    def run_D(self, img, c, cur_nimg, body=None):
        seen.append(("real" if float(img["image"].mean()) > 0 else "fake", body))
        return img["image"].mean((1, 2, 3))[:, None] + weight

    monkeypatch.setattr(GANLoss, "run_G", run_G)
    monkeypatch.setattr(GANLoss, "run_D", run_D)
    cfg = LossConfig(gpc_reg_prob=None, r1_gamma=0.0, neural_rendering_resolution_initial=8)
    GANLoss(None, None, cfg).accumulate_gradients("Dmain", torch.full((2, 3, 16, 16), 0.5), torch.zeros(2, 25),
                                                  torch.zeros(2, 4), torch.zeros(2, 25), gain=1.0, cur_nimg=0,
                                                  real_body=real_body, gen_body=gen_body)
    assert seen == [("fake", gen_body), ("real", real_body)]


def test_density_reg_without_pose_conditioning_feeds_zero_cameras_and_draws_nothing_for_them():
    B, n = 2, 20
    cfg = LossConfig(density_reg=1.0, density_reg_p_dist=0.1, density_reg_points=n, gpc_reg_prob=None)
    G = StubG()
    z, c = torch.randn(B, G.z_dim), torch.randn(B, 25)
    gen = seeded(5)
    GANLoss(G, None, cfg, generator=gen).density_reg(z, c, cur_nimg=0)
    ref = seeded(5)
    initial = torch.rand((B, n, 3), generator=ref) * 2 - 1  # no camera draw first
    perturbed = initial + torch.randn((B, n, 3), generator=ref) * 0.1
    assert torch.equal(G.calls[0][1], torch.zeros(B, 25))
    assert_near(G.calls[1][1], torch.cat([initial, perturbed], 1), rtol=0, atol=0)


def test_density_reg_with_tiny_generator_value_and_gradients():
    """The Greg phase of accumulate_gradients runs the regularizer: its logged value and the gradient in every
    parameter of G equal a hand evaluation of density_reg * mean |sigma(initial) - sigma(perturbed)|."""
    B, n, dist, weight, gain, seed = 2, 32, 0.05, 0.25, 3.0, 7
    cfg = LossConfig(density_reg=weight, density_reg_p_dist=dist, density_reg_points=n, gpc_reg_prob=0.5,
                     gpc_reg_fade_kimg=1, style_mixing_prob=0)
    G = tiny_generator(0)
    G_hand = copy.deepcopy(G)
    z = torch.randn(B, G.z_dim, generator=seeded(1))
    from helpers import lookat_labels
    c = lookat_labels([0.3, -0.4])
    gen = seeded(seed)
    stats = GANLoss(G, None, cfg, generator=gen, noise_mode="const").accumulate_gradients(
        "Greg", None, None, z, c, gain=gain, cur_nimg=10 ** 6)

    ref = seeded(seed)
    draw = float(torch.rand((1, 1), generator=ref))
    initial = torch.rand((B, n, 3), generator=ref) * 2 - 1
    perturbed = initial + torch.randn((B, n, 3), generator=ref) * dist
    c_cond = c[[B - 1] + list(range(B - 1))] if draw < 0.5 else c
    ws = G_hand.mapping(z, c_cond)
    s0 = G_hand.sample_density(initial, ws, noise_mode="const")["sigma"].double()
    s1 = G_hand.sample_density(perturbed, ws, noise_mode="const")["sigma"].double()
    want = weight * (s0 - s1).abs().mean()
    (want * gain).backward()

    assert float(want.detach()) > 0
    assert stats["Loss/G/density_reg"] == pytest.approx(float(want.detach()), rel=1e-4)
    hand = dict(G_hand.named_parameters())
    nonzero = set()
    for name, p in G.named_parameters():
        h = hand[name].grad
        if h is None or not h.abs().max() > 0:
            assert p.grad is None or not p.grad.abs().max() > 0, name
            continue
        assert p.grad is not None, name
        assert_near(p.grad, h, rtol=1e-3, atol=1e-4 * float(h.abs().max()), msg=name)
        nonzero.add(name.split(".")[0] + "." + name.split(".")[1] if name.startswith("backbone") else
                    name.split(".")[0])
    assert {"decoder", "backbone.synthesis", "backbone.mapping"} <= nonzero


# ---------------------------------------------------------------------------------------------------
# 2. Style mixing


@pytest.fixture(scope="module")
def G_tiny():
    G = tiny_generator(0)
    assert G.num_ws == 5
    return G


def test_style_mixing_prob_one_mixes_at_the_drawn_cutoff(G_tiny):
    G, B = G_tiny, 3
    z = torch.randn(B, G.z_dim, generator=seeded(3))
    c = torch.randn(B, 25, generator=seeded(4))
    w1 = G.mapping(z, c)[:, 0]  # [B, w_dim]: the first latent's w
    cutoffs = set()
    for seed in range(12):
        gen = seeded(seed)
        ws = GANLoss(G, None, LossConfig(style_mixing_prob=1.0), generator=gen).mapping(z, c)
        ref = seeded(seed)
        cutoff = int(torch.randint(1, G.num_ws, (), generator=ref))
        torch.rand((), generator=ref)  # the probability draw (< 1: always mixed)
        z2 = torch.randn(z.shape, generator=ref)
        assert same_state(gen, ref)
        w2 = G.mapping(z2, c)[:, 0]
        assert (w1 - w2).abs().min() > 0
        assert ws.shape == (B, G.num_ws, G.w_dim)
        for layer in range(G.num_ws):
            want = w1 if layer < cutoff else w2
            assert_near(ws[:, layer], want, rtol=1e-6, atol=1e-6, msg=f"seed {seed} layer {layer}")
        cutoffs.add(cutoff)
    assert cutoffs == {1, 2, 3, 4}  # every cutoff in [1, num_ws) was exercised


def test_style_mixing_updates_w_avg_from_the_main_latents_only():
    """EG3D's D-phase mapping (update_emas=True) with mixing: w_avg = lerp(batch mean of the main latents' w,
    w_avg, w_avg_beta), one update; the mixing latents are mapped with update_emas=False and never reach it."""
    G = tiny_generator(0)
    mapping = G.backbone.mapping
    z = torch.randn(3, G.z_dim, generator=seeded(3))
    c = torch.randn(3, 25, generator=seeded(4))
    with torch.no_grad():
        mapping.w_avg.normal_(generator=seeded(5))
        before = mapping.w_avg.clone()
        w_main = G.mapping(z, c)[:, 0]
        GANLoss(G, None, LossConfig(style_mixing_prob=1.0), generator=seeded(0)).mapping(z, c, update_emas=True)
    assert_near(mapping.w_avg, w_main.mean(0).lerp(before, mapping.w_avg_beta), rtol=1e-6, atol=1e-6)


class NarrowMapping:
    """A mapping with fewer w channels than ws (10 ws of 4 channels, each layer's w distinct), as style mixing
    sees a generator: the cutoff counts ws (dim 1), never channels."""
    z_dim, num_ws = 6, 10

    def mapping(self, z, c, update_emas=False):
        return z[:, None, :4] + torch.arange(10.0)[None, :, None] + c[:, :1, None]


@pytest.mark.parametrize("narrow", [False, True])
def test_style_mixing_probability_draw_and_prob_zero(G_tiny, narrow):
    G, B = NarrowMapping() if narrow else G_tiny, 2
    z = torch.randn(B, G.z_dim, generator=seeded(8))
    c = torch.randn(B, 25, generator=seeded(9))
    w1 = G.mapping(z, c)
    # prob 0: the first latent everywhere and no random draw at all
    gen = seeded(0)
    ws = GANLoss(G, None, LossConfig(style_mixing_prob=0.0), generator=gen).mapping(z, c)
    assert torch.equal(ws, w1) and same_state(gen, seeded(0))
    # prob 0.5: mixed exactly when the second draw is < 0.5; the second z is drawn only then
    branches = set()
    for seed in range(10):
        gen = seeded(seed)
        ws = GANLoss(G, None, LossConfig(style_mixing_prob=0.5), generator=gen).mapping(z, c)
        ref = seeded(seed)
        cutoff = int(torch.randint(1, G.num_ws, (), generator=ref))
        mixed = float(torch.rand((), generator=ref)) < 0.5
        if mixed:
            w2 = G.mapping(torch.randn(z.shape, generator=ref), c)
            want = torch.cat([w1[:, :cutoff], w2[:, cutoff:]], 1)
        else:
            want = w1
        assert same_state(gen, ref)
        assert_near(ws, want, rtol=1e-6, atol=1e-6)
        branches.add(mixed)
    assert branches == {True, False}


# ---------------------------------------------------------------------------------------------------
# 3. Generator pose conditioning swap


def test_conditioning_cameras_uses_the_rolled_camera_exactly_where_draw_below_prob():
    B, prob = 9, 0.6
    c = torch.randn(B, 25, generator=seeded(0))
    draw = torch.rand((B, 1), generator=seeded(1))
    draw[0, 0], draw[1, 0] = prob, prob - 1e-6  # the boundary: equal keeps its own camera
    out = conditioning_cameras(c, prob, draw)
    assert torch.equal(out, hand_swap(c, prob, draw))
    swapped = [i for i in range(B) if float(draw[i, 0]) < prob]
    assert 0 < len(swapped) < B and 1 in swapped and 0 not in swapped
    assert torch.equal(conditioning_cameras(c, 0.0, draw), c)
    assert torch.equal(conditioning_cameras(c, 1.0 + 1e-6, draw), c[[B - 1] + list(range(B - 1))])
    assert torch.equal(conditioning_cameras(c, None, draw), torch.zeros(B, 25))


@pytest.mark.parametrize("p, fade_kimg", [(0.2, 3.0), (0.5, 1.0), (0.0, 2.0)])
def test_swapping_prob_fades_linearly_from_one(p, fade_kimg):
    cfg = LossConfig(gpc_reg_prob=p, gpc_reg_fade_kimg=fade_kimg)
    full = int(fade_kimg * 1000)
    for nimg, want in [(0, 1.0), (full // 4, 1 - 0.25 * (1 - p)), (full // 2, (1 + p) / 2), (full, p),
                       (10 * full, p)]:
        assert swapping_prob(cfg, nimg) == pytest.approx(want, abs=1e-12), nimg
    assert swapping_prob(LossConfig(gpc_reg_prob=p, gpc_reg_fade_kimg=0), 0) == pytest.approx(p)
    assert swapping_prob(LossConfig(gpc_reg_prob=None), 123) is None


@pytest.mark.parametrize("gpc", [0.25, None])
def test_run_G_maps_the_swapped_cameras_and_renders_the_real_ones(gpc):
    B = 16
    cfg = LossConfig(gpc_reg_prob=gpc, gpc_reg_fade_kimg=2, style_mixing_prob=0)
    G = StubG()
    z = torch.randn(B, G.z_dim)
    c = torch.randn(B, 25, generator=seeded(2))
    gen = seeded(4)
    GANLoss(G, None, cfg, generator=gen).run_G(z, c, cur_nimg=1000)  # half way: prob (1 + 0.25) / 2
    ref = seeded(4)
    if gpc is None:
        want = torch.zeros(B, 25)
    else:
        prob = (1 + gpc) / 2
        draw = torch.rand((B, 1), generator=ref)
        want = hand_swap(c, prob, draw)
        n = int((draw < prob).sum())
        assert 0 < n < B
    assert same_state(gen, ref)
    (k0, mapped), (k1, rendered) = G.calls
    assert (k0, k1) == ("mapping", "synthesis")
    assert torch.equal(mapped, want)
    assert torch.equal(rendered, c)


@pytest.mark.parametrize("cur_nimg, want", [(0, 64), (250, 80), (500, 96), (5000, 128)])
def test_run_G_renders_at_the_faded_neural_rendering_resolution(cur_nimg, want):
    """--neural_rendering_resolution_final: generated images follow the fade initial -> final over fade_kimg
    (64 -> 128 over 1 kimg, rounded), as the reals' raw images do."""
    cfg = LossConfig(neural_rendering_resolution_initial=64, neural_rendering_resolution_final=128,
                     neural_rendering_resolution_fade_kimg=1, style_mixing_prob=0, gpc_reg_prob=None)
    G, seen = StubG(), []
    G.synthesis = lambda ws, c, **kw: seen.append(kw["neural_rendering_resolution"]) or {}
    GANLoss(G, None, cfg, generator=seeded(0)).run_G(torch.randn(2, G.z_dim), torch.zeros(2, 25), cur_nimg)
    assert seen == [want]


# ---------------------------------------------------------------------------------------------------
# 4. Blur fade


def blur_reference(img: torch.Tensor, sigma: float) -> np.ndarray:
    """Explicit 2-D zero-padded convolution with the outer product of the normalized taps
    2^-((t / sigma)^2), t in [-floor(3 sigma), floor(3 sigma)], in float64 numpy loops."""
    x = img.detach().double().numpy()
    r = int(math.floor(3 * sigma))
    taps = np.array([2.0 ** (-((t / sigma) ** 2)) for t in range(-r, r + 1)])
    taps /= taps.sum()
    B, C, H, W = x.shape
    out = np.zeros_like(x)
    for i in range(H):
        for j in range(W):
            acc = np.zeros((B, C))
            for a in range(-r, r + 1):
                for b in range(-r, r + 1):
                    if 0 <= i + a < H and 0 <= j + b < W:  # zero padding outside
                        acc += taps[a + r] * taps[b + r] * x[:, :, i + a, j + b]
            out[:, :, i, j] = acc
    return out


@pytest.mark.parametrize("sigma", [0.5, 1.0, 1.3, 2.2])
def test_gaussian_blur_equals_explicit_float64_convolution(sigma):
    img = torch.randn(2, 3, 7, 9, generator=seeded(int(sigma * 10)))
    out = gaussian_blur(img, sigma)
    assert out.shape == img.shape
    want = blur_reference(img, sigma)
    np.testing.assert_allclose(out.double().numpy(), want, rtol=1e-5, atol=1e-6)
    # border pixels (where the zero padding enters) get their own explicit check
    for i, j in [(0, 0), (0, 8), (6, 0), (6, 8), (3, 0), (0, 4)]:
        np.testing.assert_allclose(out[:, :, i, j].double().numpy(), want[:, :, i, j], rtol=1e-5, atol=1e-6)
    # the mass lost at a corner is what zero padding predicts (not renormalized per pixel)
    ones = gaussian_blur(torch.ones(1, 1, 7, 9), sigma)
    np.testing.assert_allclose(ones.double().numpy(), blur_reference(torch.ones(1, 1, 7, 9), sigma), rtol=1e-5)
    r = int(math.floor(3 * sigma))
    taps = [2.0 ** (-((t / sigma) ** 2)) for t in range(-r, r + 1)]
    corner = sum(taps[r:]) ** 2 / sum(taps) ** 2
    assert float(ones[0, 0, 0, 0]) == pytest.approx(corner, rel=1e-5)


def test_gaussian_blur_below_one_third_is_identity():
    img = torch.randn(1, 3, 5, 5)
    assert torch.equal(gaussian_blur(img, 0.33), img)


def test_blur_sigma_fade_hand_values():
    cfg = LossConfig(blur_init_sigma=4.0, blur_fade_kimg=0.5)
    for nimg, want in [(0, 4.0), (125, 3.0), (250, 2.0), (500, 0.0), (10 ** 6, 0.0)]:
        assert blur_sigma(cfg, nimg) == pytest.approx(want, abs=1e-12), nimg
    assert blur_sigma(LossConfig(blur_init_sigma=4.0, blur_fade_kimg=0), 0) == 0


class RecordingD(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, img, c):
        self.seen.append((img, c))
        return img["image"].sum([1, 2, 3])[:, None]


def test_run_D_blurs_only_the_final_image():
    cfg = LossConfig(blur_init_sigma=2.6, blur_fade_kimg=1.0)  # at 500 images: sigma 1.3, radius 3
    image = torch.randn(2, 3, 8, 8, generator=seeded(0))
    raw = torch.randn(2, 3, 4, 4, generator=seeded(1))
    c = torch.randn(2, 25)
    D = RecordingD()
    loss = GANLoss(None, D, cfg)
    loss.run_D({"image": image, "image_raw": raw}, c, cur_nimg=500)
    seen, seen_c = D.seen[-1]
    np.testing.assert_allclose(seen["image"].double().numpy(), blur_reference(image, 1.3), rtol=1e-5, atol=1e-6)
    assert torch.equal(seen["image_raw"], raw) and torch.equal(seen_c, c)
    loss.run_D({"image": image, "image_raw": raw}, c, cur_nimg=1000)  # faded out: nothing blurred
    assert torch.equal(D.seen[-1][0]["image"], image) and torch.equal(D.seen[-1][0]["image_raw"], raw)


# ---------------------------------------------------------------------------------------------------
# 5. EMA


@pytest.mark.parametrize("cur_nimg, batch, ema_kimg, rampup, ema_nimg", [
    (1000, 4, 10.0, 0.05, 50.0),  # ramp-up limits: min(10000, 1000 * 0.05)
    (10 ** 6, 8, 0.02, 0.05, 20.0),  # ema_kimg limits: min(20, 50000)
    (0, 4, 0.1, None, 100.0),  # no ramp-up
    (0, 4, 10.0, 0.05, 0.0),  # ramp-up at 0 images: beta = 0.5 ** (4 / 1e-8) = 0, a plain copy
])
def test_update_ema_parameters_and_every_buffer(cur_nimg, batch, ema_kimg, rampup, ema_nimg):
    G, G_ema = tiny_generator(0), tiny_generator(1)
    with torch.no_grad():
        for i, p in enumerate(G_ema.parameters()):
            p.add_(torch.randn(p.shape, generator=seeded(i)))  # every parameter differs from G's
        G.backbone.mapping.w_avg.copy_(torch.linspace(-3.0, 5.0, G.w_dim))
        for i, (name, b) in enumerate(G.named_buffers()):
            if name != "backbone.mapping.w_avg":
                b.add_(0.5 + i)  # distinctive: no G_ema buffer equals it before the update
    G.neural_rendering_resolution = 24
    before_p = {k: v.detach().double().clone() for k, v in G.named_parameters()}
    before_e = {k: v.detach().double().clone() for k, v in G_ema.named_parameters()}
    G_buffers = {k: v.clone() for k, v in G.named_buffers()}
    for k, b in G_ema.named_buffers():
        assert not torch.equal(b, G_buffers[k]), k

    update_ema(G_ema, G, cur_nimg=cur_nimg, batch=batch, ema_kimg=ema_kimg, ema_rampup=rampup)

    beta = 0.5 ** (batch / max(ema_nimg, 1e-8))
    assert 0 <= beta < 1
    for k, e in G_ema.named_parameters():
        want = before_p[k] + (before_e[k] - before_p[k]) * beta
        scale = float(before_p[k].abs().max() + before_e[k].abs().max())  # float32 rounding of the lerp's inputs
        assert_near(e.detach().double(), want, rtol=1e-6, atol=1e-6 * scale, msg=k)
    for k, p in G.named_parameters():
        assert torch.equal(p.detach().double(), before_p[k]), k  # G itself untouched
    ema_buffers = dict(G_ema.named_buffers())
    assert ema_buffers.keys() == G_buffers.keys() and "backbone.mapping.w_avg" in ema_buffers
    for k, b in G_buffers.items():
        assert torch.equal(ema_buffers[k], b), k
    assert torch.equal(ema_buffers["backbone.mapping.w_avg"], torch.linspace(-3.0, 5.0, G.w_dim))
    assert G_ema.neural_rendering_resolution == 24


def test_update_ema_beta_hand_value():
    """One scalar parameter: p_ema' = p + (p_ema - p) * 0.5 ** (batch / ema_nimg), written out."""
    G, E = torch.nn.Linear(1, 1, bias=False), torch.nn.Linear(1, 1, bias=False)
    with torch.no_grad():
        G.weight.fill_(2.0)
        E.weight.fill_(-1.0)
    update_ema(E, G, cur_nimg=2000, batch=6, ema_kimg=0.3, ema_rampup=0.1)  # ema_nimg = min(300, 200) = 200
    assert float(E.weight.detach()) == pytest.approx(2.0 - 3.0 * 0.5 ** (6 / 200), rel=1e-6)


def test_w_avg_tracks_the_batch_mean_with_momentum():
    """MappingNetwork(update_emas=True): w_avg <- mean_batch(w) + (w_avg - mean_batch(w)) * 0.998 (StyleGAN2),
    from the w before truncation; without update_emas it stays."""
    G = tiny_generator()
    m = G.backbone.mapping
    m.w_avg.copy_(torch.linspace(-1, 1, m.w_avg.numel()))
    before = m.w_avg.clone().double()
    z, c = torch.randn(5, G.z_dim, generator=seeded(3)), torch.zeros(5, 25)
    with torch.no_grad():
        w = m(z, c)[:, 0].double()  # no update
        assert torch.equal(m.w_avg.double(), before)
        m(z, c, truncation_psi=0.5, update_emas=True)
    expected = w.mean(0) + (before - w.mean(0)) * 0.998
    assert_near(m.w_avg, expected, rtol=1e-5, atol=1e-6, msg="w_avg")


class _MeanD(torch.nn.Module):
    """A stand-in discriminator: a scaled mean of both images (any resolution)."""

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.ones(()))

    def forward(self, img, c):
        return self.scale * (img["image"].mean([1, 2, 3]) + img["image_raw"].float().mean([1, 2, 3]))[:, None]


def test_fakes_are_scored_with_their_own_cameras_and_reals_with_theirs():
    """Gmain and Dmain's fake half hand D the cameras the fakes were rendered from (gen_c), Dmain's real half and
    Dreg the real images' own (real_c); a stand-in D records them."""
    class RecordingD(_MeanD):
        seen = []

        def forward(self, img, c):
            self.seen.append(c.clone())
            return super().forward(img, c)

    G = tiny_generator()
    G.deterministic = True
    cfg = LossConfig(gpc_reg_prob=None, style_mixing_prob=0.0, blur_fade_kimg=0, r1_gamma=1.0,
                     neural_rendering_resolution_initial=16)
    D = RecordingD()
    loss = GANLoss(G, D, cfg, generator=seeded(0), noise_mode="const")
    z = torch.randn(2, G.z_dim, generator=seeded(2))
    real_c, gen_c = lookat_labels([1.3, 1.9]), lookat_labels([1.5, 1.7])
    reals = torch.zeros(2, 3, 64, 64)
    for phase, want in (("Gmain", [gen_c]), ("Dmain", [gen_c, real_c]), ("Dreg", [real_c])):
        D.seen.clear()
        loss.accumulate_gradients(phase, reals, real_c, z, gen_c, gain=1.0, cur_nimg=0)
        assert len(D.seen) == len(want) and all(torch.equal(a, b) for a, b in zip(D.seen, want)), phase


def test_the_discriminator_phase_tracks_w_avg_of_the_fakes():
    """Dmain renders its fakes with update_emas=True, so G's w_avg moves toward the batch's mean w (the average
    truncation uses); the generator phase leaves it alone."""
    G = tiny_generator()
    m = G.backbone.mapping
    m.w_avg.copy_(torch.linspace(-1, 1, m.w_avg.numel()))
    cfg = LossConfig(gpc_reg_prob=None, style_mixing_prob=0.0, blur_fade_kimg=0, r1_gamma=0.0,
                     neural_rendering_resolution_initial=16)
    loss = GANLoss(G, _MeanD(), cfg, generator=seeded(0), noise_mode="const")
    z, c, real = torch.randn(3, G.z_dim, generator=seeded(1)), lookat_labels([1.4, 1.6, 1.8]), torch.zeros(3, 3, 64, 64)
    before = m.w_avg.clone()
    loss.accumulate_gradients("Gmain", real, c, z, c, gain=1.0, cur_nimg=0)
    assert torch.equal(m.w_avg, before)
    with torch.no_grad():
        w = m(z, torch.zeros_like(c))[:, 0].double()  # gpc_reg_prob None: the mapping sees zero cameras
    loss.accumulate_gradients("Dmain", real, c, z, c, gain=1.0, cur_nimg=0)
    expected = w.mean(0) + (before.double() - w.mean(0)) * 0.998
    assert_near(m.w_avg, expected, rtol=1e-5, atol=1e-6, msg="w_avg after Dmain")


def test_lazy_regularization_phases_and_gains():
    """StyleGAN2's lazy regularization: main phases every step with gain 1, Greg every G_reg_interval steps and Dreg
    every D_reg_interval steps with the interval as gain; no interval: one combined phase per step."""
    from op3d.training.loop import TrainConfig, _phases

    G, D = torch.nn.Linear(1, 1), torch.nn.Linear(1, 1)
    cfg = TrainConfig(outdir="x", data=None, G_reg_interval=4, D_reg_interval=16)
    got = [(name, interval) for name, _, _, interval in _phases(G, D, "optG", "optD", cfg)]
    assert got == [("Gmain", 1), ("Greg", 4), ("Dmain", 1), ("Dreg", 16)]
    cfg = TrainConfig(outdir="x", data=None, G_reg_interval=None, D_reg_interval=16)
    assert [(n, i) for n, _, _, i in _phases(G, D, "optG", "optD", cfg)][:1] == [("Gboth", 1)]


@pytest.mark.parametrize("r1_gamma", [0.0, 10.0])
def test_generator_and_fake_discriminator_losses_are_the_non_saturating_logistic_ones(r1_gamma):
    """Gmain: mean softplus(-D(G(z))) (G wants its fakes scored real); Dmain on fakes: mean softplus(D(G(z))).
    With a deterministic G and a linear stand-in D the logits are reproducible, so the logged values and the
    sign of D's gradient are checked by hand. Dmain never adds R1, whatever gamma (lazy: only Dreg does)."""
    G = tiny_generator()
    G.deterministic = True
    cfg = LossConfig(gpc_reg_prob=None, style_mixing_prob=0.0, blur_fade_kimg=0, r1_gamma=r1_gamma,
                     neural_rendering_resolution_initial=16)
    D = _MeanD()
    loss = GANLoss(G, D, cfg, generator=seeded(0), noise_mode="const")
    z, c = torch.randn(3, G.z_dim, generator=seeded(2)), lookat_labels([1.3, 1.57, 1.9])
    with torch.no_grad():
        logits = D(loss.run_G(z, c, cur_nimg=0), c).double()
    assert bool(torch.isfinite(logits).all()) and float(logits.std()) > 0
    stats = loss.accumulate_gradients("Gmain", torch.zeros(3, 3, 64, 64), c, z, c, gain=1.0, cur_nimg=0)
    assert stats["Loss/G/loss"] == pytest.approx(float(torch.nn.functional.softplus(-logits).mean()), rel=1e-5)
    assert stats["Loss/scores/fake"] == pytest.approx(float(logits.mean()), rel=1e-5)
    D.scale.grad = None
    v = torch.tensor([0.5, -0.3, 0.8], dtype=torch.float64)  # constant real images: image and raw both mean v
    reals = v.float().view(3, 1, 1, 1).expand(3, 3, 64, 64)
    stats = loss.accumulate_gradients("Dmain", reals, c, z, c, gain=1.0, cur_nimg=0)
    assert stats["Loss/D/loss_fake"] == pytest.approx(float(torch.nn.functional.softplus(logits).mean()), rel=1e-5)
    assert stats["Loss/D/loss_real"] == pytest.approx(float(torch.nn.functional.softplus(-2 * v).mean()), rel=1e-5)
    assert stats["Loss/scores/real"] == pytest.approx(float((2 * v).mean()), rel=1e-5)  # D's mean logit on reals
    # d/dscale of mean_i softplus(scale * m_i) + mean_i softplus(-scale * 2 v_i): both terms averaged over the batch
    m = logits[:, 0] / float(D.scale)
    want = (torch.sigmoid(logits[:, 0]) * m).mean() - (torch.sigmoid(-2 * v) * 2 * v).mean()
    assert float(D.scale.grad) == pytest.approx(float(want), rel=1e-4)


def test_training_loop_runs_each_phase_with_its_interval_as_gain(tmp_path, monkeypatch, capsys):
    """At batch 0 every phase runs, at batch 1 only the main ones; the loop hands each one its interval as the
    gain (Greg 4, Dreg 16: the lazy regularizers are scaled up by how rarely they run, StyleGAN2), the main phases
    gain 1; the real images in [-1, 1]; without --ema, G_ema's half-life is EG3D's default, batch * 10 / 32 kimg,
    ramped up over the first images (ema_rampup 0.05); a tick's logged losses are means over its steps."""
    from train_config import tiny_train_config

    import op3d.training.loop as loop
    from op3d.data.synthetic import make_synthetic_dataset
    from op3d.training.loop import training_loop

    ema_kimgs, update_ema = [], loop.update_ema
    monkeypatch.setattr(loop, "update_ema", lambda *a, **k: ema_kimgs.append(a[2:6]) or update_ema(*a, **k))

    data = make_synthetic_dataset(tmp_path / "d.zip", 8, 32, seed=0, progress=False)
    calls, reals, logged, accumulate = [], [], [], GANLoss.accumulate_gradients

    def spy(self, name, real_img, *args, gain, **kwargs):
        calls.append((name, gain, kwargs["cur_nimg"]))
        reals.append(real_img)
        logged.append(accumulate(self, name, real_img, *args, gain=gain, **kwargs))
        return logged[-1]

    monkeypatch.setattr(GANLoss, "accumulate_gradients", spy)
    started = time.time()
    result = training_loop(tiny_train_config(data, tmp_path / "runs", G_reg_interval=4, D_reg_interval=16, batch=2,
                                             mbstd_group=2, tick=0.004), max_steps=2, log=False)
    wall = time.time() - started
    # each phase sees the images shown so far (the blur, swap and resolution schedules run on it)
    assert calls == [("Gmain", 1, 0), ("Greg", 4, 0), ("Dmain", 1, 0), ("Dreg", 16, 0), ("Gmain", 1, 2),
                     ("Dmain", 1, 2)]
    # cur_nimg before the step, batch, half-life, EG3D's ramp-up
    assert ema_kimgs == [(0, 2, 2 * 10 / 32, 0.05), (2, 2, 2 * 10 / 32, 0.05)]
    assert capsys.readouterr().out == ""  # log=False: no status lines
    # both steps in one tick: stats.jsonl reports each loss averaged over the tick's calls (not summed, not the last)
    (record,) = [json.loads(line) for line in (result["run_dir"] / "stats.jsonl").read_text().splitlines()]
    for key in ("Loss/G/loss", "Loss/D/loss_real", "Loss/D/loss_fake"):
        values = [s[key] for s in logged if key in s]
        assert len(values) == 2 and values[0] != values[1]
        assert record[key] == pytest.approx(sum(values) / 2, rel=1e-6)
    # the tick's timing: seconds since the start (within this call), per 1000 images shown (4 images in the tick)
    assert record["Progress/kimg"] == 0.004 and 0 < record["Timing/total_sec"] <= wall
    assert 0 < record["Timing/sec_per_kimg"] * 0.004 <= wall
    # real images reach D as uint8 / 127.5 - 1, the range of G's images: white background 1, black -1
    levels = torch.cat(reals).mul(127.5).add(127.5)
    assert float((levels - levels.round()).abs().max()) < 1e-3 and float(levels.max()) == 255
    assert float(levels.min()) > -1e-3
    assert float(torch.cat(reals).min()) < -0.5


def test_each_phase_steps_only_the_parameters_it_gave_gradients(tmp_path, monkeypatch):
    """EG3D's loop: gradients are set to None before each phase and Adam steps only the parameters that got one.
    The density regularizer (Greg) reaches the planes and the decoder, never the super-resolution: after Gmain
    has given the super-resolution Adam moments, Greg must leave it where it is (zeroed gradients instead of None
    would let Adam's momentum move it). Every phase moves a subset of the parameters it gave gradients, and
    switches its network's requires_grad off before the step."""
    from train_config import tiny_train_config

    import op3d.training.loop as loop
    from op3d.data.synthetic import make_synthetic_dataset
    from op3d.training.loop import training_loop

    records, trainable, step = [], [], loop._step_phase

    def spy(module, opt, world_size):
        before = {n: p.detach().clone() for n, p in module.named_parameters()}
        with_grad = {n for n, p in module.named_parameters() if p.grad is not None}
        trainable.append(any(p.requires_grad for p in module.parameters()))
        step(module, opt, world_size)
        records.append((with_grad, {n for n, p in module.named_parameters() if not torch.equal(p, before[n])}))

    monkeypatch.setattr(loop, "_step_phase", spy)
    data = make_synthetic_dataset(tmp_path / "d.zip", 8, 32, seed=0, progress=False)
    loss = LossConfig(r1_gamma=1.0, blur_fade_kimg=0.1, gpc_reg_prob=None, neural_rendering_resolution_initial=16,
                      density_reg=0.25, density_reg_points=50)
    training_loop(tiny_train_config(data, tmp_path / "runs", G_reg_interval=4, D_reg_interval=16, batch=2,
                                    mbstd_group=2, loss=loss), max_steps=1, log=False)
    assert len(records) == 4  # Gmain, Greg, Dmain, Dreg
    assert trainable == [False] * 4  # each phase switches its network's gradients off again (the next one's
    # forward passes through it would otherwise build graphs and gradients for it)
    (gmain_grad, gmain_moved), (greg_grad, greg_moved) = records[:2]
    sr = lambda names: {n for n in names if n.startswith("superresolution.")}
    assert sr(gmain_moved) and not sr(greg_grad) and not sr(greg_moved)
    assert any(n.startswith("decoder.") for n in greg_moved)
    for with_grad, moved in records:
        assert moved and moved <= with_grad
