"""Rays, depth sampling and compositing against hand-computed cases."""
import math

import pytest
import torch

from op3d.rendering.marcher import ray_march
from op3d.rendering.rays import ray_box_limits, rays_from_cameras
from op3d.rendering.renderer import RenderOptions, render, render_in_boxes
from op3d.rendering.samplers import importance_depths, merge_samples, sample_pdf, stratified_depths


def frontal_label(radius=2.7, focal=4.2647, dtype=torch.float64):
    """Camera at (0, 0, r) looking at the origin: OpenCV axes x right, y down, z forward (-world z)."""
    cam2world = torch.tensor([[1, 0, 0, 0], [0, -1, 0, 0], [0, 0, -1, radius], [0, 0, 0, 1]], dtype=dtype)
    K = torch.tensor([[focal, 0, 0.5], [0, focal, 0.5], [0, 0, 1]], dtype=dtype)
    return torch.cat([cam2world.reshape(-1), K.reshape(-1)])[None]


def test_rays_hand_computed():
    c = frontal_label(focal=2.0)
    origins, dirs = rays_from_cameras(c, 4)
    assert origins.shape == dirs.shape == (1, 16, 3)
    torch.testing.assert_close(origins[0, 0], torch.tensor([0, 0, 2.7], dtype=torch.float64))
    torch.testing.assert_close(dirs.norm(dim=-1), torch.ones(1, 16, dtype=torch.float64))
    # pixel (row 0, col 3): u = 3.5/4, v = 0.5/4 -> camera (0.1875, -0.1875, 1) -> world (0.1875, 0.1875, -1)
    want = torch.tensor([0.1875, 0.1875, -1.0], dtype=torch.float64)
    torch.testing.assert_close(dirs[0, 3], want / want.norm())
    # skew term: x = (u - cx + cy*sk/fy - sk*v/fy) / fx
    c2 = c.clone()
    c2[0, 17] = 0.3
    _, d2 = rays_from_cameras(c2, 4)
    u, v = 3.5 / 4, 0.5 / 4
    x = (u - 0.5 + 0.5 * 0.3 / 2 - 0.3 * v / 2) / 2
    want = torch.tensor([x, -(v - 0.5) / 2, -1.0], dtype=torch.float64)
    torch.testing.assert_close(d2[0, 3], want / want.norm())


def test_ray_box_limits():
    o = torch.tensor([[[0.0, 0.0, 3.0], [0.0, 2.0, 3.0], [0.2, 0.1, 3.0]]], dtype=torch.float64)
    d = torch.tensor([[[0.0, 0.0, -1.0], [0.0, 0.0, -1.0], [0.0, 0.0, -1.0]]], dtype=torch.float64)
    near, far = ray_box_limits(o, d, 2.0)
    assert near[0, :, 0].tolist() == [2.0, -1.0, 2.0] and far[0, :, 0].tolist() == [4.0, -2.0, 4.0]
    diag = torch.tensor([[[1.0, 1.0, 1.0]]], dtype=torch.float64) / math.sqrt(3)
    near, far = ray_box_limits(torch.tensor([[[-3.0, -3.0, -3.0]]], dtype=torch.float64), diag, 2.0)
    assert near.item() == pytest.approx(2 * math.sqrt(3)) and far.item() == pytest.approx(4 * math.sqrt(3))


def test_stratified_depths_deterministic_and_jittered():
    d = stratified_depths(2.0, 3.0, 1, 2, 5, 0.5)
    torch.testing.assert_close(d[0, 0, :, 0], torch.tensor([2.125, 2.375, 2.625, 2.875, 3.125]))
    start = torch.tensor([[[1.0], [2.0]]])
    end = torch.tensor([[[2.0], [4.0]]])
    jitter = torch.zeros(1, 2, 3, 1)
    d = stratified_depths(start, end, 1, 2, 3, jitter)
    torch.testing.assert_close(d[0, 1, :, 0], torch.tensor([2.0, 3.0, 4.0]))


def test_disparity_space_sampling_is_uniform_in_inverse_depth():
    """EG3D's disparity_space_sampling: S samples at t = k / (S - 1) + jitter / (S - 1) with depth
    1 / ((1 - t) / start + t / end): equally spaced in 1 / depth (hand values for start 2, end 4)."""
    d = stratified_depths(2.0, 4.0, 1, 1, 3, 0.0, disparity_space=True)[0, 0, :, 0]
    torch.testing.assert_close(d, torch.tensor([2.0, 1 / (0.5 / 2 + 0.5 / 4), 4.0]))
    inv = 1 / stratified_depths(2.0, 4.0, 1, 1, 5, 0.5, disparity_space=True)[0, 0, :, 0].double()
    steps = inv[1:] - inv[:-1]
    torch.testing.assert_close(steps, torch.full_like(steps, (1 / 4 - 1 / 2) / 4))  # uniform in 1 / depth
    assert abs(float(inv[0]) - (0.5 - 0.5 * 0.25 / 4)) < 1e-6  # jitter 0.5 moves t by half a step
    # every ray of a batch, with one range for all or per-ray ranges [B, R, 1] (ray_start "auto")
    assert torch.equal(stratified_depths(2.0, 4.0, 2, 3, 5, 0.5, disparity_space=True),
                       stratified_depths(2.0, 4.0, 1, 1, 5, 0.5, disparity_space=True).expand(2, 3, 5, 1))
    start, end = torch.rand(2, 3, 1) + 1, torch.rand(2, 3, 1) + 3
    jitter = torch.rand(2, 3, 4, 1)
    got = stratified_depths(start, end, 2, 3, 4, jitter, disparity_space=True).double()
    t = torch.arange(4, dtype=torch.float64).reshape(4, 1) / 3 + jitter.double() / 3
    want = 1 / ((1 - t) / start.double().unsqueeze(2) + t / end.double().unsqueeze(2))
    torch.testing.assert_close(got, want, rtol=1e-6, atol=0)
    # and the renderer uses it when asked
    opts = RenderOptions(depth_resolution=4, depth_resolution_importance=0, ray_start=2.0, ray_end=4.0,
                         disparity_space_sampling=True)
    seen = []

    def field(points, _dirs):
        seen.append(points)
        return {"rgb": torch.zeros(*points.shape[:2], 3), "sigma": torch.zeros(*points.shape[:2], 1)}

    origin, direction = torch.zeros(1, 2, 3), torch.tensor([[[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]])
    render(field, origin, direction, opts, deterministic=True)
    z = seen[0][0, :4, 2].double()
    assert torch.equal(seen[0][0, 4:], seen[0][0, :4])  # two rays, the same samples
    torch.testing.assert_close(1 / z[1:] - 1 / z[:-1], torch.full((3,), (1 / 4 - 1 / 2) / 3, dtype=torch.float64))


def test_rays_that_miss_the_box_borrow_eg3d_bounds():
    """ray_start = 'auto': a ray that misses the box is sampled between the smallest and the LARGEST ENTRY
    distance of the rays that hit (EG3D: ray_end[~valid] = ray_start[valid].max())."""
    opts = RenderOptions(depth_resolution=5, depth_resolution_importance=0, ray_start="auto", ray_end="auto",
                         box_warp=1.0)
    seen = []

    def field(points, _dirs):
        seen.append(points)
        return {"rgb": torch.zeros(*points.shape[:2], 3), "sigma": torch.zeros(*points.shape[:2], 1)}

    origins = torch.tensor([[[0.0, 0.0, 3.0], [0.2, 0.0, 2.0], [5.0, 0.0, 3.0]]])  # enters at 2.5, 1.5; misses
    dirs = torch.tensor([[[0.0, 0.0, -1.0], [0.0, 0.0, -1.0], [0.0, 0.0, -1.0]]])
    render(field, origins, dirs, opts, deterministic=True)
    t = 3.0 - seen[0].reshape(3, 5, 3)[2, :, 2]  # depths along the missing ray
    lo, hi = 1.5, 2.5
    torch.testing.assert_close(t, lo + (torch.arange(5) + 0.5) * (hi - lo) / 4)


def test_importance_samples_are_random_in_training_mode_and_fixed_when_deterministic():
    """Stochastic rendering draws the importance u ~ U[0, 1) (and the stratified jitter) from the generator: two
    seeds place the fine samples differently, the same seed identically; deterministic mode uses linspace."""
    opts = RenderOptions(depth_resolution=6, depth_resolution_importance=6, ray_start=2.0, ray_end=3.0)

    def depths_seen(**kw):
        seen = []

        def field(points, _dirs):
            seen.append(points[..., 2].clone())
            z = points[..., 2:3]
            return {"rgb": torch.zeros(*points.shape[:2], 3), "sigma": 50 * torch.exp(-((z + 0.5) / 0.1) ** 2)}

        render(field, torch.zeros(1, 1, 3), torch.tensor([[[0.0, 0.0, -1.0]]]), opts, **kw)
        return seen[1]  # the fine pass

    a = depths_seen(generator=torch.Generator().manual_seed(1))
    b = depths_seen(generator=torch.Generator().manual_seed(2))
    assert torch.equal(a, depths_seen(generator=torch.Generator().manual_seed(1)))
    assert not torch.allclose(a, b)
    fixed = depths_seen(deterministic=True)
    assert torch.equal(fixed, depths_seen(deterministic=True)) and not torch.allclose(a, fixed)


def test_density_noise_is_drawn_from_the_renders_generator():
    """density_noise > 0 (EG3D's training option) adds N(0, density_noise) to every density, drawn like the other
    random choices of a render from its generator: the same seed gives the same image whatever the global RNG did,
    another seed another image, and without noise the densities stay."""
    field = lambda points, _dirs: {"rgb": points.abs().clamp(max=1), "sigma": torch.ones(*points.shape[:2], 1)}
    origins, dirs = torch.zeros(1, 4, 3), torch.nn.functional.normalize(torch.randn(1, 4, 3), dim=-1)

    calls = []

    def image(seed, noise=0.5):
        calls.append(seed)
        torch.manual_seed(len(calls))  # the global RNG differs between calls
        opts = RenderOptions(depth_resolution=6, depth_resolution_importance=0, ray_start=0.5, ray_end=1.5,
                             density_noise=noise, clamp_mode="softplus")
        return render(field, origins, dirs, opts, deterministic=True, generator=torch.Generator().manual_seed(seed))[0]

    assert torch.equal(image(3), image(3)) and not torch.allclose(image(3), image(4))
    assert torch.equal(image(3, noise=0.0), image(4, noise=0.0))


def test_stochastic_importance_quantiles_are_uniform_draws(monkeypatch):
    """In training mode the inverse-CDF quantiles u handed to importance sampling are U[0, 1) draws from the
    generator (not linspace): over many rays their mean is 1/2 and variance 1/12."""
    import op3d.rendering.renderer as renderer

    drawn = []
    original = renderer.importance_depths
    monkeypatch.setattr(renderer, "importance_depths", lambda d, w, n, u=None: drawn.append(u) or original(d, w, n, u))
    opts = RenderOptions(depth_resolution=4, depth_resolution_importance=8, ray_start=2.0, ray_end=3.0)
    field = lambda p, _d: {"rgb": torch.zeros(*p.shape[:2], 3), "sigma": torch.ones(*p.shape[:2], 1)}
    render(field, torch.zeros(1, 500, 3), torch.tensor([0.0, 0.0, -1.0]).expand(1, 500, 3), opts,
           generator=torch.Generator().manual_seed(0))
    u = drawn[0]
    assert u is not None and u.shape == (500, 8) and 0 <= float(u.min()) and float(u.max()) < 1
    assert abs(float(u.mean()) - 0.5) < 0.01 and abs(float(u.var()) - 1 / 12) < 0.005


def naive_sample_pdf(bins, weights, u, eps=1e-5):
    w = [x + eps for x in weights]
    total = sum(w)
    cdf = [0.0]
    for x in w:
        cdf.append(cdf[-1] + x / total)
    out = []
    for uu in u:
        ind = sum(1 for c in cdf if c <= uu)  # searchsorted(right=True)
        below, above = max(ind - 1, 0), min(ind, len(w))
        denom = cdf[above] - cdf[below]
        denom = 1.0 if denom < eps else denom
        out.append(bins[below] + (uu - cdf[below]) / denom * (bins[above] - bins[below]))
    return out


def test_sample_pdf_matches_definition():
    g = torch.Generator().manual_seed(0)
    bins = torch.sort(torch.rand(3, 7, dtype=torch.float64, generator=g), dim=1).values
    weights = torch.rand(3, 6, dtype=torch.float64, generator=g)
    weights[1] = 0
    weights[2, 2] = 50
    u = torch.rand(3, 9, dtype=torch.float64, generator=g)
    got = sample_pdf(bins, weights, u)
    for r in range(3):
        assert got[r].tolist() == pytest.approx(naive_sample_pdf(bins[r].tolist(), weights[r].tolist(), u[r].tolist()))


def test_importance_samples_concentrate_at_weight_peak():
    depths = torch.linspace(2, 3, 11).reshape(1, 1, 11, 1)
    weights = torch.zeros(1, 1, 10, 1)
    weights[0, 0, 5] = 1.0
    fine = importance_depths(depths, weights, 32)
    mids = 0.5 * (depths[0, 0, :-1, 0] + depths[0, 0, 1:, 0])
    assert fine.shape == (1, 1, 32, 1)
    inside = ((fine >= mids[3]) & (fine <= mids[6])).float().mean()  # the smoothed peak spans 3 intervals
    assert inside > 0.75


def test_ray_march_hand_computed():
    # two intervals; densities chosen so softplus(sigma - 1) = s exactly: sigma = 1 + log(exp(s) - 1)
    s = torch.tensor([0.5, 2.0], dtype=torch.float64)
    raw = 1 + torch.log(torch.expm1(s))
    densities = torch.stack([raw[0], raw[0], raw[1]]).reshape(1, 1, 3, 1)  # midpoints: raw0, (raw0+raw1)/2
    depths = torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64).reshape(1, 1, 3, 1)
    colors = torch.tensor([[0.0], [1.0], [0.5]], dtype=torch.float64).reshape(1, 1, 3, 1)
    rgb, depth, w = ray_march(colors, densities, depths)
    s_mid = torch.nn.functional.softplus((raw[0] + raw[1]) / 2 - 1)
    a0 = 1 - math.exp(-0.5 * 1.0)
    a1 = 1 - math.exp(-s_mid.item() * 2.0)
    w0, w1 = a0, a1 * (1 - a0 + 1e-10)
    assert w[0, 0, :, 0].tolist() == pytest.approx([w0, w1])
    assert rgb.item() == pytest.approx((w0 * 0.5 + w1 * 0.75) * 2 - 1)
    assert depth.item() == pytest.approx((w0 * 1.5 + w1 * 3.0) / (w0 + w1))
    rgb_w, _, _ = ray_march(colors, densities, depths, white_back=True)
    assert rgb_w.item() == pytest.approx((w0 * 0.5 + w1 * 0.75 + 1 - w0 - w1) * 2 - 1)
    # activation "none" (densities from an SDF): the interval midpoints' densities as given, 0.5 and 1.25 here
    _, _, w = ray_march(colors, torch.tensor([0.5, 0.5, 2.0], dtype=torch.float64).reshape(1, 1, 3, 1), depths,
                        activation="none")
    a0, a1 = 1 - math.exp(-0.5 * 1.0), 1 - math.exp(-1.25 * 2.0)
    assert w[0, 0, :, 0].tolist() == pytest.approx([a0, a1 * (1 - a0 + 1e-10)])


def test_ray_march_empty_ray_depth_is_clamped():
    densities = torch.full((1, 1, 4, 1), -1e4)
    depths = torch.linspace(2, 3, 4).reshape(1, 1, 4, 1)
    _, depth, w = ray_march(torch.zeros(1, 1, 4, 3), densities, depths)
    assert w.abs().max() == 0 and depth.item() == pytest.approx(3.0)  # NaN -> inf -> clamped to the max depth


def test_merge_samples_sorts_everything_together():
    d1 = torch.tensor([1.0, 3.0]).reshape(1, 1, 2, 1)
    d2 = torch.tensor([2.0, 0.5]).reshape(1, 1, 2, 1)
    c1, c2 = d1.expand(1, 1, 2, 2) * 10, d2.expand(1, 1, 2, 2) * 10
    depths, colors, dens = merge_samples(d1, c1, d1 + 1, d2, c2, d2 + 1)
    assert depths.flatten().tolist() == [0.5, 1.0, 2.0, 3.0]
    assert colors[..., 0].flatten().tolist() == [5.0, 10.0, 20.0, 30.0]
    assert dens.flatten().tolist() == [1.5, 2.0, 3.0, 4.0]


def sphere_field(radius=0.5, inside=200.0):
    def field(points, _dirs):
        d = points.norm(dim=-1, keepdim=True)
        sigma = torch.where(d < radius, torch.full_like(d, inside), torch.full_like(d, -50.0))
        return {"rgb": torch.ones(*points.shape[:2], 3, dtype=points.dtype), "sigma": sigma}
    return field


@pytest.mark.parametrize("ray_range", [(2.0, 3.2), ("auto", "auto")])
def test_render_opaque_sphere_depth(ray_range):
    c = frontal_label(radius=2.7, focal=8.0)
    origins, dirs = rays_from_cameras(c, 8)
    opts = RenderOptions(depth_resolution=64, depth_resolution_importance=64, ray_start=ray_range[0],
                         ray_end=ray_range[1], box_warp=1.2)
    feats, depth, acc = render(sphere_field(), origins, dirs, opts, deterministic=True)
    # distance from the camera to the sphere along each ray, where the ray hits it
    b = (origins * dirs).sum(-1)
    disc = b ** 2 - (origins.square().sum(-1) - 0.25)
    hit = disc > 1e-3
    t_hit = -b - disc.clamp_min(0).sqrt()
    assert hit.any()
    err = (depth[..., 0] - t_hit)[hit].abs().max()
    assert err < 0.03, err
    assert (acc[..., 0][hit] > 0.99).all()


def test_render_chunked_equals_whole():
    c = frontal_label(focal=6.0)
    origins, dirs = rays_from_cameras(c, 6)
    opts = RenderOptions(depth_resolution=8, depth_resolution_importance=8, ray_start=2.0, ray_end=3.4)
    field = sphere_field(inside=5.0)
    whole = render(field, origins, dirs, opts, deterministic=True)
    chunked = render(field, origins, dirs, opts, deterministic=True, chunk=7)
    for a, b in zip(whole, chunked):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize("density_noise,importance", [(0.0, 6), (0.4, 6), (0.0, 0)])
def test_single_backward_render_gives_the_same_values_and_gradients(density_noise, importance):
    """Coarse samples re-evaluated with the fine ones in one differentiable pass == two passes (float64), in random
    mode from the same seed; with density noise (each evaluation draws its own) the two passes run either way, and
    without importance samples the only pass is the differentiable one."""
    c = frontal_label(focal=6.0).double()
    origins, dirs = rays_from_cameras(c, 5)
    opts = RenderOptions(depth_resolution=7, depth_resolution_importance=importance, ray_start=2.0, ray_end=3.4,
                         density_noise=density_noise)
    scale = torch.tensor(1.3, dtype=torch.float64, requires_grad=True)
    radius = torch.tensor(0.45, dtype=torch.float64, requires_grad=True)

    def field(points, _dirs):
        d = points.norm(dim=-1, keepdim=True)
        return {"sigma": scale * 20 * (radius - d), "rgb": torch.sin(points * scale)}
    results = []
    for single in (False, True):
        out = render(field, origins, dirs, opts, single_backward=single,
                     generator=torch.Generator().manual_seed(3))
        grads = torch.autograd.grad(sum((o * (1 + torch.arange(o.numel(), dtype=o.dtype).reshape(o.shape))).sum()
                                        for o in out), (scale, radius))
        results.append((out, grads))
    for a, b in zip(results[0][0] + results[0][1], results[1][0] + results[1][1]):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    assert results[0][1][1].abs() > 1e-3  # the radius gradient is real


def test_render_options_validation():
    with pytest.raises(ValueError, match="both be 'auto'"):
        RenderOptions.from_kwargs(dict(ray_start="auto", ray_end=3.0))
    # marching needs 2 coarse samples; importance sampling 3 (it draws from the third interval on)
    with pytest.raises(ValueError, match=r"depth_resolution must be an integer in \[3, 4096\], got 2"):
        RenderOptions.from_kwargs(dict(depth_resolution=2, depth_resolution_importance=4))
    assert RenderOptions.from_kwargs(dict(depth_resolution=2, depth_resolution_importance=0)).depth_resolution == 2
    assert RenderOptions.from_kwargs(dict(ray_start=0, ray_end=1.5)).ray_start == 0  # rays from the camera on
    with pytest.raises(ValueError, match=r"depth_resolution must be an integer in \[2, 4096\], got 1"):
        RenderOptions.from_kwargs(dict(depth_resolution=1, depth_resolution_importance=0))
    for box_warp in (0, -1.0):  # a mirrored or empty box
        with pytest.raises(ValueError, match="box_warp"):
            RenderOptions.from_kwargs(dict(box_warp=box_warp))


def four_cameras(res=6):
    """Frontal cameras at radius 2.7 and 3.0 (twice each), float64 rays [4, res^2, 3]."""
    c = torch.cat([frontal_label(focal=3.0), frontal_label(radius=3.0, focal=3.5)]).repeat(2, 1)
    return rays_from_cameras(c, res)


@pytest.mark.parametrize("white_back", [True, False])
def test_render_in_boxes_equals_each_hit_ray_rendered_alone(white_back):
    """Per-element boxes: a hit ray's features, depth and opacity equal `render` of that ray alone over its
    stretch through the box (computed here by the slab formula, from the camera on when the camera is inside);
    a ray that misses is empty (background, opacity 0, depth = the end of its range without boxes); elements
    whose box is off-screen or behind the camera hit nothing; gradients likewise."""
    origins, dirs = four_cameras()
    opts = RenderOptions(depth_resolution=9, depth_resolution_importance=7, ray_start=2.0, ray_end=3.4,
                         white_back=white_back)
    radius = torch.tensor(0.45, dtype=torch.float64, requires_grad=True)

    def field(points, _dirs):
        d = points.norm(dim=-1, keepdim=True)
        return {"sigma": 20 * (radius - d), "rgb": torch.sin(3 * points) * radius}
    # element 0: around the sphere; 1: off-screen; 2: around camera 2 (at z = 2.7); 3: behind camera 3 (z = 3)
    lo = torch.tensor([[-0.3, -0.2, -0.4], [5.0, 5.0, 5.0], [-0.3, -0.3, 0.3], [-1.0, -1.0, 3.5]],
                      dtype=torch.float64)
    hi = torch.tensor([[0.25, 0.35, 0.3], [6.0, 6.0, 6.0], [0.2, 0.3, 2.9], [1.0, 1.0, 4.5]], dtype=torch.float64)
    feats, depth, opacity = render_in_boxes(field, origins, dirs, opts, lo, hi, deterministic=True, chunk=5)
    g_box = torch.autograd.grad(feats.sum() + depth.sum() + opacity.sum(), radius)[0]
    g_alone = torch.zeros((), dtype=torch.float64)
    hits = [0] * 4
    for b in range(4):
        for r in range(origins.shape[1]):
            o, d = origins[b, r], dirs[b, r]
            t = [((lo[b] - o) / d), ((hi[b] - o) / d)]
            t0, t1 = float(torch.minimum(*t).max()), float(torch.maximum(*t).min())
            if t1 > max(t0, 0):  # the ray enters its box
                hits[b] += 1
                stretch = tuple(torch.tensor([[[v]]], dtype=torch.float64) for v in (max(t0, 0), t1))
                want = render(field, o[None, None], d[None, None], opts, deterministic=True, ray_range=stretch)
                for got, w in zip((feats[b, r], depth[b, r], opacity[b, r]), want):
                    torch.testing.assert_close(got, w[0, 0], rtol=1e-12, atol=1e-12)
                g_alone = g_alone + torch.autograd.grad(sum(w.sum() for w in want), radius)[0]
            else:
                assert feats[b, r].tolist() == [1.0 if white_back else -1.0] * 3 and opacity[b, r].item() == 0
                assert depth[b, r].item() == 3.4
    assert 0 < hits[0] < 30 and hits[1] == hits[3] == 0 and hits[2] == 36
    torch.testing.assert_close(g_box, g_alone, rtol=1e-10, atol=1e-12)  # padding adds no gradient
    assert g_box.abs() > 1e-3
    # like `render`, stochastic unless asked: the default draws its jitter from the generator
    with torch.no_grad():
        seeded = [render_in_boxes(field, origins, dirs, opts, lo, hi, generator=torch.Generator().manual_seed(s))[0]
                  for s in (1, 2)]
    assert not torch.equal(seeded[0], seeded[1]) and not torch.equal(seeded[0], feats.detach())


@pytest.mark.parametrize("shape", [(2, 16), (2, 24), (25,), (1, 5, 5)])
def test_camera_labels_short_of_25_values_are_refused_by_name(shape):
    """A label without its intrinsics (the 16 cam2world values only) or of another rank is one clear error."""
    with pytest.raises(ValueError, match=r"camera labels must be \[B, 25\]"):
        rays_from_cameras(torch.zeros(shape), 4)


def test_render_in_boxes_with_no_ray_in_any_box_is_all_background():
    """Bodies out of frame: no ray of the batch enters its box, so every ray is background (features -1 without
    white_back), opacity 0, depth ray_end, and the field is only asked for the padding ray's samples."""
    origins, dirs = four_cameras()
    opts = RenderOptions(depth_resolution=6, depth_resolution_importance=4, ray_start=2.0, ray_end=3.4,
                         box_warp=1.6, clamp_mode="none")
    field = lambda p, _d: {"sigma": torch.full_like(p[..., :1], 50.0), "rgb": torch.full_like(p, 0.3)}
    lo = torch.tensor([[5.0, 5.0, 5.0]], dtype=torch.float64).expand(4, 3)
    feats, depth, opacity = render_in_boxes(field, origins, dirs, opts, lo, lo + 1, deterministic=True)
    assert feats.shape == (4, origins.shape[1], 3) and (feats == -1).all()
    assert (opacity == 0).all() and torch.allclose(depth, torch.full_like(depth, 3.4))


@pytest.mark.parametrize("ray_range", [(2.0, 3.4), ("auto", "auto")])
def test_render_in_boxes_depth_of_empty_rays(ray_range):
    """An empty field: rays through the box and rays that miss it alike are background with depth = the end
    of their range without boxes, or the box exit where the box reaches farther (camera 1 at radius 3.0 sees
    the box's back face beyond ray_end 3.4)."""
    origins, dirs = four_cameras()
    opts = RenderOptions(depth_resolution=6, depth_resolution_importance=4, ray_start=ray_range[0],
                         ray_end=ray_range[1], box_warp=1.6, white_back=True, clamp_mode="none")
    empty = lambda p, _d: {"sigma": torch.zeros_like(p[..., :1]), "rgb": torch.zeros_like(p)}
    lo = torch.tensor([[-0.3, -0.2, -0.4]], dtype=torch.float64).expand(4, 3)
    hi = torch.tensor([[0.25, 0.35, 0.3]], dtype=torch.float64).expand(4, 3)
    feats, depth, opacity = render_in_boxes(empty, origins, dirs, opts, lo, hi, deterministic=True)
    if ray_range[0] == "auto":
        end = ray_box_limits(origins, dirs, 1.6)[1]  # every ray meets this rendering box
        assert (end > 0).all()
    else:
        end = torch.full_like(depth, 3.4)
    t1, t2 = (lo[:, None] - origins) / dirs, (hi[:, None] - origins) / dirs
    entry = torch.minimum(t1, t2).amax(-1, keepdim=True)
    exit_ = torch.maximum(t1, t2).amin(-1, keepdim=True)
    hit = exit_ > entry.clamp_min(0)
    assert hit.any() and (~hit).any() and (hit & (exit_ < end)).any()
    assert (hit & (exit_ > end)).any() == (ray_range[0] != "auto")
    torch.testing.assert_close(depth, torch.where(hit, torch.maximum(end, exit_), end), rtol=0, atol=1e-12)
    assert (feats == 1).all() and (opacity == 0).all()


def test_clamp_mode_none_renders_densities_as_softplus_mode_renders_their_preimage():
    """clamp_mode 'none' takes the field's sigma as the density in both passes (coarse weights for importance
    sampling and the final march). With a density constant along each ray (it depends on the direction only, so
    averaging before or after the activation agree), a density field d renders exactly as the 'softplus' mode
    renders softplus^-1(d) + 1, fine samples included; colours vary with depth, so misplaced fine samples show."""
    density = lambda d: 1 + 40 * d[..., :1].abs() + 20 * d[..., 1:2].abs()  # [B, P, 1] from directions
    colour = lambda p: torch.tanh(torch.cat([p[..., 2:] * 4 - 11, p[..., :1] * 3, p[..., 2:] ** 2 - 7], dim=-1))
    as_density = lambda p, d: {"rgb": colour(p), "sigma": density(d)}
    as_raw = lambda p, d: {"rgb": colour(p), "sigma": torch.log(torch.expm1(density(d))) + 1}
    g = torch.Generator().manual_seed(0)
    origins = torch.zeros(1, 20, 3, dtype=torch.float64)
    dirs = torch.nn.functional.normalize(torch.cat([0.1 * torch.randn(1, 20, 2, generator=g, dtype=torch.float64),
                                                    torch.ones(1, 20, 1, dtype=torch.float64)], -1), dim=-1)
    kw = dict(depth_resolution=10, depth_resolution_importance=10, ray_start=2.25, ray_end=3.3)
    a = render(as_density, origins, dirs, RenderOptions(clamp_mode="none", **kw), deterministic=True)
    b = render(as_raw, origins, dirs, RenderOptions(clamp_mode="softplus", **kw), deterministic=True)
    for x, y in zip(a, b):
        torch.testing.assert_close(x, y, rtol=1e-9, atol=1e-9)
    assert float(a[2].min()) > 0.5 and float(a[0].std()) > 0.05


def test_one_importance_sample_is_one_more_sample_per_ray():
    """depth_resolution_importance 1: a fine pass of one sample per ray after the coarse ones (S + 1 in all)."""
    c = frontal_label(focal=6.0)
    origins, dirs = rays_from_cameras(c, 3)
    seen = []

    def field(points, _dirs):
        seen.append(points.shape[1])
        d = points.norm(dim=-1, keepdim=True)
        return {"rgb": torch.zeros(*points.shape[:2], 3), "sigma": 10 * (0.5 - d)}
    for n, want in ((1, [9 * 4, 9 * 1]), (0, [9 * 4])):
        seen.clear()
        render(field, origins, dirs, RenderOptions(depth_resolution=4, depth_resolution_importance=n, ray_start=2.0,
                                                   ray_end=3.4), deterministic=True)
        assert seen == want, n


def test_render_in_boxes_keeps_depths_nearer_than_the_scene_range():
    """A box (a posed body's) nearer to the camera than the options' ray_start: its hit rays' depths are clamped
    to the scene range joined with their stretch through the box, so an opaque ball (radius 0.2) 1.2 from the
    camera keeps a depth of about 1.0-1.3 (not 2.25)."""
    origins, dirs = four_cameras()
    opts = RenderOptions(depth_resolution=24, depth_resolution_importance=24, ray_start=2.25, ray_end=3.3)
    centre = torch.tensor([0.0, 0.0, 1.5], dtype=torch.float64)

    def field(points, _dirs):
        d = (points - centre).norm(dim=-1, keepdim=True)
        return {"sigma": 200 * (0.2 - d), "rgb": torch.zeros_like(points)}
    lo, hi = ((centre + s * 0.3).expand(4, 3) for s in (-1, 1))
    feats, depth, opacity = render_in_boxes(field, origins[:1], dirs[:1], opts, lo[:1], hi[:1], deterministic=True)
    centre_ray = 3 * 6 + 3  # pixel (3, 3) of camera 0's 6 x 6 (at z = 2.7)
    assert float(opacity[0, centre_ray]) > 0.99
    assert 2.7 - 1.5 - 0.2 <= float(depth[0, centre_ray]) < 1.3  # the ball's near face (a pixel off the axis)
