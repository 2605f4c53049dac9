"""Inverse LBS maps skinned vertices back to their canonical positions; far points follow the root."""
import pytest
import torch
from helpers import DEVICES

from op3d.conditioning.body_model import lbs, procedural_body
from op3d.conditioning.inverse_lbs import inverse_lbs
from op3d.conditioning.mesh_index import nearest_vertex, warp_available


def posed(seed=0):
    model = procedural_body(num_betas=3, seed=0, dtype=torch.float64)
    g = torch.Generator().manual_seed(seed)
    betas = torch.randn(2, 3, generator=g, dtype=torch.float64)
    pose = torch.randn(2, 24, 3, generator=g, dtype=torch.float64) * 0.3
    return model, betas, lbs(model, betas, pose)


@pytest.mark.parametrize("device", DEVICES)
def test_skinned_vertices_map_back_to_rest_positions(device):
    model, betas, out = posed()
    args = (out["vertices"], out["vertices"], out["T"], out["transforms"][:, 0])
    canonical, dist = (t.cpu() for t in inverse_lbs(*(a.to(device) for a in args)))
    # rest positions of each vertex: the shaped template plus its pose corrective, before skinning
    v_shaped = model.v_template + torch.einsum("bs,vcs->bvc", betas, model.shapedirs)
    eye = torch.eye(3, dtype=torch.float64)
    v_rest = v_shaped + ((out["rot"][:, 1:] - eye).reshape(2, -1) @ model.posedirs).reshape(2, -1, 3)
    assert dist.abs().max() < 1e-6  # cdist computes distances through a matrix product
    # overlapping parts make some vertices coincide with another part's vertex; check the vertices whose
    # nearest posed vertex is themselves
    idx, _ = nearest_vertex(out["vertices"], out["vertices"])
    own = idx == torch.arange(idx.shape[1])
    torch.testing.assert_close(canonical[own], v_rest[own], rtol=0, atol=1e-9)
    assert own.float().mean() > 0.95


def test_far_points_use_the_root_transform():
    model, _, out = posed(1)
    far = torch.tensor([[[5.0, 5.0, 5.0]], [[-4.0, 2.0, 0.5]]], dtype=torch.float64)
    canonical, dist = inverse_lbs(far, out["vertices"], out["T"], out["transforms"][:, 0], threshold=0.1)
    root = out["transforms"][:, 0]
    want = (torch.linalg.inv(root)[:, None, :3, :3] @ far.unsqueeze(-1)).squeeze(-1) + \
        torch.linalg.inv(root)[:, None, :3, 3]
    assert (dist > 0.1).all()
    torch.testing.assert_close(canonical, want)


def test_posed_body_inverse_table_is_cached_and_follows_selections():
    from op3d.conditioning.posed import pose_bodies

    model = procedural_body(num_betas=10)
    params = torch.randn(3, 85, generator=torch.Generator().manual_seed(3)) * 0.2
    body = pose_bodies(model, params)
    table = body.inverse_transform_table()
    assert body.inverse_transform_table() is table  # built once
    picked = body.select(torch.tensor([2, 0]))
    fresh = pose_bodies(model, params[[2, 0]]).inverse_transform_table()
    torch.testing.assert_close(picked.inverse_transform_table(), fresh)
    # the root's row (last) is the inverse of the root transform
    want = torch.linalg.inv(body.root_transform)[:, :3].flatten(1)
    torch.testing.assert_close(table[:, -1], want)


@pytest.mark.parametrize("method", ["brute", "clusters", pytest.param("warp", marks=pytest.mark.skipif(
    not warp_available(), reason="needs warp-lang"))])
def test_every_method_sends_points_beyond_the_threshold_to_the_root(method):
    """The full-search torch paths find a nearest vertex for every point; beyond the threshold it must still be
    dropped (index -1, distance inf) and the root's inverse transform used, as with Warp's bounded search."""
    model, _, out = posed(2)
    g = torch.Generator().manual_seed(4)
    verts = out["vertices"]
    near = verts[:, ::97] + torch.randn(verts[:, ::97].shape, generator=g, dtype=torch.float64) * 0.02
    far = verts[:, ::89] + torch.nn.functional.normalize(
        torch.randn(verts[:, ::89].shape, generator=g, dtype=torch.float64), dim=-1) * 0.5
    points = torch.cat([near, far], 1)
    idx, dist = nearest_vertex(points, verts, method, max_distance=0.1)
    _, full_dist = nearest_vertex(points, verts, "brute")
    beyond = full_dist > 0.1
    assert beyond.sum() > 20 and (~beyond).sum() > 20
    assert (idx[beyond] == -1).all() and torch.isinf(dist[beyond]).all()
    torch.testing.assert_close(dist[~beyond], full_dist[~beyond])
    canonical, _ = inverse_lbs(points, verts, out["T"], out["transforms"][:, 0], threshold=0.1, method=method)
    root_inv = torch.linalg.inv(out["transforms"][:, 0])
    want_far = (root_inv[:, None, :3, :3] @ points.unsqueeze(-1)).squeeze(-1) + root_inv[:, None, :3, 3]
    torch.testing.assert_close(canonical[beyond], want_far[beyond])


def test_canonical_points_are_shifted_then_scaled_into_the_planes():
    """OP3D's placement of canonical body coordinates in the planes' box, by hand: shift by (0, 0.3, 0), then
    divide by 1.2 (the defaults); other offsets and scales the same way."""
    from op3d.conditioning.inverse_lbs import normalize_canonical

    p = torch.tensor([[0.0, -0.3, 0.0], [1.2, 0.9, -0.6], [-0.6, -1.5, 0.24]], dtype=torch.float64)
    want = torch.tensor([[0.0, 0.0, 0.0], [1.0, 1.0, -0.5], [-0.5, -1.0, 0.2]], dtype=torch.float64)
    torch.testing.assert_close(normalize_canonical(p), want, rtol=0, atol=1e-15)
    torch.testing.assert_close(normalize_canonical(p, 2.0, (1.0, 0.0, -1.0)), (p + torch.tensor([1.0, 0, -1])) / 2)


def test_a_translated_body_maps_translated_points_to_the_same_canonical_points():
    """pose_bodies puts transl into every transform: inverse LBS of (p + t) against the body posed with transl t
    equals inverse LBS of p against the same pose without it, near the body (vertex transforms) and far from it
    (the root transform)."""
    from op3d.conditioning.body_model import join_pose_params
    from op3d.conditioning.posed import pose_bodies

    model = procedural_body(num_betas=10).to(dtype=torch.float64)
    g = torch.Generator().manual_seed(5)
    betas, pose, t = torch.randn(10, generator=g) * 0.3, torch.randn(24, 3, generator=g) * 0.2, torch.tensor(
        [0.4, -0.7, 1.3])
    moved, still = (pose_bodies(model, join_pose_params(betas, pose, tr)[None].double())
                    for tr in (t, torch.zeros(3)))
    near = still.vertices[:, ::50]
    near = near + 0.02 * torch.randn(near.shape, generator=g, dtype=torch.float64)
    far = torch.tensor([[[3.0, 1.0, -2.0], [-2.5, 4.0, 0.5]]], dtype=torch.float64)
    p = torch.cat([near, far], dim=1)

    def canonical(body, points):
        return inverse_lbs(points, body.vertices, None, None, 0.1, index=body.mesh_index(),
                           table=body.inverse_transform_table())

    (c_moved, d_moved), (c_still, d_still) = canonical(moved, p + t.double()), canonical(still, p)
    assert (d_still[:, -2:] > 0.1).all() and (d_still[:, :-2] < 0.1).all()
    torch.testing.assert_close(d_moved, d_still, rtol=0, atol=1e-5)
    torch.testing.assert_close(c_moved, c_still, rtol=0, atol=1e-5)
