"""Plane encoding and samplers against per-point float64 loops; double backward for the eikonal term."""
import math

import pytest
import torch

from op3d.networks.synthesis import ToRGBLayer
from op3d.ops.modulated_conv import modulated_conv2d
from op3d.planes.encoding import fourier_encode, plane_head_inputs, plane_positions
from op3d.planes.sampling import aggregate_mean, sample_orthoplanes, sample_triplane


def test_fourier_encoding_formula():
    p = plane_positions(5, dtype=torch.float64)
    assert p.tolist() == pytest.approx([-1, -0.5, 0, 0.5, 1])
    enc = fourier_encode(p, 3)
    assert enc.shape == (5, 7)
    for k, pk in enumerate(p.tolist()):
        want = [pk]
        for i in range(3):
            want += [math.cos(2 ** i * math.pi * pk), math.sin(2 ** i * math.pi * pk)]
        assert enc[k].tolist() == pytest.approx(want, abs=1e-12)
    assert fourier_encode(p, 0).squeeze(-1).tolist() == pytest.approx(p.tolist())


def test_the_smallest_plane_settings_build_and_encode_as_defined():
    """One plane per axis (K = 1: p = linspace(-1, 1, 1) = [-1]) and no frequencies (L = 0: gamma(p) = [p]) are the
    lower bounds of OrthoPlanes' settings, as are an unconditional mapping (c_dim 0) and 4x4 planes: each builds,
    and a K = 1, L = 0 generator's plane head sees [w ; -1]."""
    from helpers import tiny_generator

    assert plane_positions(1).tolist() == [-1.0]
    w = torch.randn(2, 6, dtype=torch.float64)
    torch.testing.assert_close(plane_head_inputs(w, 1, 0), torch.cat([w, -torch.ones(2, 1, dtype=w.dtype)], 1)[:, None])
    G = tiny_generator(K=1, L=0, c_dim=0, plane_resolution=4)
    from helpers import lookat_labels

    c = lookat_labels([0.0, 0.4])
    z = torch.randn(1, G.z_dim).expand(2, -1)
    with torch.no_grad():
        out = G(z, c, return_planes=True, noise_mode="const")
    assert out["planes"].shape[:3] == (2, 1, 3) and out["planes"].shape[-2:] == (4, 4)
    torch.testing.assert_close(out["planes"][0], out["planes"][1])  # c_dim 0: the camera does not reach the planes
    assert torch.isfinite(out["image"]).all() and not torch.equal(out["image"][0], out["image"][1])


def test_plane_head_inputs_concatenate_w_and_code():
    w = torch.randn(2, 6, dtype=torch.float64)
    x = plane_head_inputs(w, 4, 2)
    assert x.shape == (2, 4, 11)
    torch.testing.assert_close(x[:, :, :6], w[:, None].expand(2, 4, 6))
    torch.testing.assert_close(x[1, :, 6:], fourier_encode(plane_positions(4, dtype=torch.float64), 2))


def naive_sample(volume, coords):
    """Zero-padded multilinear interpolation of volume [C, *S] at one point (grid order x->last dim)."""
    sizes = volume.shape[1:]
    n = len(sizes)
    t = [(coords[n - 1 - d] + 1) * sizes[d] / 2 - 0.5 for d in range(n)]
    base = [math.floor(v) for v in t]
    out = torch.zeros(volume.shape[0], dtype=volume.dtype)
    for corner in range(2 ** n):
        idx, weight = [], 1.0
        for d in range(n):
            bit = (corner >> d) & 1
            i = base[d] + bit
            weight *= (t[d] - base[d]) if bit else (1 - (t[d] - base[d]))
            idx.append(i)
        if all(0 <= i < s for i, s in zip(idx, sizes)):
            out += weight * volume[(slice(None), *idx)]
    return out


def random_points(B, P, scale, seed):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(B, P, 3, dtype=torch.float64, generator=g) * 2 - 1) * scale


@pytest.mark.parametrize("K,H,W", [(4, 5, 6), (1, 3, 3), (7, 8, 4)])
@pytest.mark.parametrize("legacy", [False, True])
@pytest.mark.parametrize("impl", ["grid_sample", "gather"])
@pytest.mark.parametrize("storage", ["contiguous", "channels_last"])
def test_orthoplanes_match_naive_trilinear(K, H, W, legacy, impl, storage):
    g = torch.Generator().manual_seed(K * H)
    planes = torch.randn(2, K, 3, 3, H, W, dtype=torch.float64, generator=g)
    if storage == "channels_last":  # [B, H, W, K, 3, C] storage, as the backbone writes it (the gather reads a view)
        planes = planes.permute(0, 4, 5, 1, 2, 3).contiguous().permute(0, 3, 4, 5, 1, 2)
    pts = random_points(2, 20, 0.9, K)  # box_warp 1.6: some points fall outside [-1, 1] after scaling
    box_warp = 1.6
    got = sample_orthoplanes(planes, pts, box_warp, legacy_unscaled_axes=legacy, impl=impl)
    for b in range(2):
        for p in range(20):
            x = pts[b, p]
            s = x * 2 / box_warp
            for axis, order in enumerate(([0, 1, 2], [1, 2, 0], [2, 0, 1])):
                c = (s if (axis == 0 or not legacy) else x)[order]
                want = naive_sample(planes[b, :, axis].permute(1, 0, 2, 3), c)
                torch.testing.assert_close(got[b, axis, p], want, rtol=0, atol=1e-12)
    if not legacy:  # new models scale every axis unless asked otherwise
        torch.testing.assert_close(sample_orthoplanes(planes, pts, box_warp, impl=impl), got, rtol=0, atol=0)


@pytest.mark.parametrize("legacy", [False, True])
@pytest.mark.parametrize("impl", ["grid_sample", "gather"])
def test_triplane_matches_naive_bilinear(legacy, impl):
    g = torch.Generator().manual_seed(5)
    planes = torch.randn(2, 3, 4, 6, 5, dtype=torch.float64, generator=g)
    pts = random_points(2, 15, 0.6, 2)
    got = sample_triplane(planes, pts, 1.0, legacy_eg3d_axes=legacy, impl=impl)
    axes = ([0, 1], [0, 2], [2, 0]) if legacy else ([0, 1], [1, 2], [2, 0])
    for b in range(2):
        for p in range(15):
            for a, dims in enumerate(axes):
                want = naive_sample(planes[b, a], pts[b, p, dims] * 2)
                torch.testing.assert_close(got[b, a, p], want, rtol=0, atol=1e-12)
    if not legacy:  # EG3D's projection only when asked for
        torch.testing.assert_close(sample_triplane(planes, pts, 1.0, impl=impl), got, rtol=0, atol=0)
    assert aggregate_mean(got).shape == (2, 15, 4)


def test_samplers_are_twice_differentiable_in_points():
    g = torch.Generator().manual_seed(0)
    planes = torch.randn(1, 3, 3, 2, 4, 4, dtype=torch.float64, generator=g, requires_grad=True)
    pts = random_points(1, 6, 0.45, 9).requires_grad_(True)
    assert torch.autograd.gradgradcheck(lambda p, q: sample_orthoplanes(q, p), (pts, planes))
    tri = torch.randn(1, 3, 2, 4, 4, dtype=torch.float64, generator=g, requires_grad=True)
    assert torch.autograd.gradgradcheck(lambda p, q: sample_triplane(q, p), (pts, tri))


def test_auto_impl_picks_gather_for_points_with_grad():
    planes = torch.randn(1, 2, 3, 2, 4, 4, dtype=torch.float64)
    pts = random_points(1, 5, 0.4, 1).requires_grad_(True)
    y = sample_orthoplanes(planes, pts).sum()
    (grad,) = torch.autograd.grad(y, pts, create_graph=True)
    (second,) = torch.autograd.grad(grad.square().sum(), pts)  # would raise with 3-D grid_sample's backward
    assert torch.isfinite(second).all()


def test_sampler_input_errors():
    with pytest.raises(ValueError, match=r"planes must be \[B, K, 3, C, H, W\]"):
        sample_orthoplanes(torch.zeros(1, 2, 4, 3, 3), torch.zeros(1, 5, 3))
    with pytest.raises(ValueError, match="points must be"):
        sample_triplane(torch.zeros(1, 3, 2, 4, 4), torch.zeros(2, 5, 3))
    # each half of a planes check alone: the right rank with the wrong plane count, a wrong rank
    for bad in (torch.zeros(1, 4, 2, 4, 4), torch.zeros(1, 3, 2, 4)):
        with pytest.raises(ValueError, match=r"planes must be \[B, 3, C, H, W\]"):
            sample_triplane(bad, torch.zeros(1, 5, 3))
    for bad in (torch.zeros(1, 2, 4, 2, 4, 4), torch.zeros(2, 3, 2, 4, 4)):
        with pytest.raises(ValueError, match=r"planes must be \[B, K, 3, C, H, W\]"):
            sample_orthoplanes(bad, torch.zeros(1, 5, 3))


@pytest.mark.parametrize("K", [1, 4, 12])
def test_plane_head_equals_k_separate_heads(K):
    torch.manual_seed(K)
    head = ToRGBLayer(8, 6, w_dim=10).double()
    with torch.no_grad():
        head.bias.normal_()
    x = torch.randn(2, 8, 5, 5, dtype=torch.float64)
    w = torch.randn(2, K, 10, dtype=torch.float64)
    got = head(x, w)
    for k in range(K):  # the original's per-sample ToRGB: demodulation off, styles scaled by 1/sqrt(I)
        styles = head.affine(w[:, k]) * head.weight_gain
        want = modulated_conv2d(x, head.weight, styles, demodulate=False) + head.bias.reshape(1, -1, 1, 1)
        torch.testing.assert_close(got[:, :, k], want, rtol=0, atol=1e-12)


@pytest.mark.parametrize("legacy", [False, True])
@pytest.mark.parametrize("box_warp", [None, 1.6])
def test_lattice_sampling_equals_point_sampling_at_every_lattice_point(legacy, box_warp):
    """orthoplanes_on_grid / triplane_on_grid (separable: each plane dim interpolated once per lattice line)
    against aggregate_mean of the point samplers at every point of the lattice, in float64: uneven, off-centre
    ticks per axis (some beyond the planes, read as zero padding), box_warp at its default or 1.6, ordinary and
    legacy axes. Evaluating the lattice in two slabs along x with one shared cache gives the same numbers."""
    from op3d.planes.sampling import orthoplanes_on_grid, triplane_on_grid

    torch.manual_seed(0)
    f64 = torch.float64
    ticks = (torch.linspace(-0.6, 0.5, 5, dtype=f64), torch.linspace(-0.45, 0.55, 4, dtype=f64),
             torch.linspace(-0.5, 0.3, 6, dtype=f64))
    points = torch.stack(torch.meshgrid(*ticks, indexing="ij"), dim=-1).reshape(1, -1, 3)
    kw = {} if box_warp is None else {"box_warp": box_warp}
    cases = ((torch.randn(1, 3, 3, 4, 8, 6, dtype=f64), sample_orthoplanes, orthoplanes_on_grid,
              "legacy_unscaled_axes"),
             (torch.randn(1, 3, 4, 8, 6, dtype=f64), sample_triplane, triplane_on_grid, "legacy_eg3d_axes"))
    for planes, point_sampler, lattice_sampler, flag in cases:
        want = aggregate_mean(point_sampler(planes, points, **kw, **{flag: legacy})).reshape(5, 4, 6, 4)
        got = lattice_sampler(planes, ticks, **kw, **{flag: legacy})
        torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
        cache = {}
        slabs = [lattice_sampler(planes, (ticks[0][s], ticks[1], ticks[2]), **kw, **{flag: legacy}, cache=cache)
                 for s in (slice(0, 2), slice(2, 5))]
        # kept: the planes that read neither lattice dim 0 (none for EG3D's tri-plane axes, which all read x)
        assert bool(cache) != (legacy and lattice_sampler is triplane_on_grid), lattice_sampler.__name__
        torch.testing.assert_close(torch.cat(slabs), want, rtol=1e-12, atol=1e-12)
