"""Mesh signed distance against analytic boxes and spheres, sign included, and its gradient."""
import numpy as np
import torch

from op3d.conditioning.body_model import _uv_sphere
from op3d.conditioning.mesh_sdf import closest_point_on_triangles, mesh_sdf


def box_mesh(h):
    v = torch.tensor([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)], dtype=torch.float64) * \
        torch.tensor(h, dtype=torch.float64)
    # outward-wound quads split into triangles (vertex index = 4 x + 2 y + z with 0/1 coordinates)
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    faces = [[q[0], q[1], q[2]] for q in quads] + [[q[0], q[2], q[3]] for q in quads]
    return v, torch.tensor(faces)


def box_sdf(p, h):
    q = p.abs() - torch.tensor(h, dtype=p.dtype)
    return q.clamp_min(0).norm(dim=-1) + q.max(dim=-1).values.clamp_max(0)


def test_box_sdf_exact_inside_and_outside():
    h = (0.3, 0.5, 0.2)
    v, f = box_mesh(h)
    g = torch.Generator().manual_seed(0)
    p = (torch.rand(1, 3000, 3, generator=g, dtype=torch.float64) * 2 - 1) * 0.9
    got = mesh_sdf(p, v[None], f, chunk=700)
    torch.testing.assert_close(got[0], box_sdf(p[0], h), rtol=0, atol=1e-9)
    assert (got < 0).any() and (got > 0).any()


def test_sphere_sdf_approximates_analytic_and_gradient_is_unit():
    v, f = _uv_sphere((0.1, 0, 0), (0.4, 0.4, 0.4), n_lat=24, n_lon=48)
    v = torch.tensor(v, dtype=torch.float64)
    f = torch.tensor(f)
    g = torch.Generator().manual_seed(1)
    p = ((torch.rand(1, 500, 3, generator=g, dtype=torch.float64) * 2 - 1) * 0.8).requires_grad_(True)
    sdf = mesh_sdf(p, v[None], f)
    exact = (p[0] - torch.tensor([0.1, 0, 0], dtype=torch.float64)).norm(dim=-1) - 0.4
    assert (sdf[0] - exact).abs().max() < 0.01  # polygonization error of a 24x48 sphere
    mismatch = (sdf[0] < 0) != (exact < 0)
    assert (exact[mismatch].abs() < 0.01).all()  # signs agree except within the polygonization error
    (grad,) = torch.autograd.grad(sdf.sum(), p)
    np.testing.assert_allclose(grad[0].norm(dim=-1).numpy(), 1.0, atol=1e-6)  # |grad sdf| = 1 (eikonal)


def test_closest_point_regions_against_dense_sampling():
    g = torch.Generator().manual_seed(2)
    tri = torch.randn(3, 3, generator=g, dtype=torch.float64)
    pts = torch.randn(200, 3, generator=g, dtype=torch.float64) * 2
    q = closest_point_on_triangles(pts, tri[0], tri[1], tri[2])
    # dense barycentric sampling of the triangle is never closer than the computed closest point
    s = torch.linspace(0, 1, 120, dtype=torch.float64)
    u, w = torch.meshgrid(s, s, indexing="ij")
    keep = (u + w) <= 1
    samples = tri[0] + u[keep, None] * (tri[1] - tri[0]) + w[keep, None] * (tri[2] - tri[0])
    dense = torch.cdist(pts, samples).min(dim=1).values
    exact = (pts - q).norm(dim=-1)
    assert (exact <= dense + 1e-12).all() and (dense - exact).max() < 0.03
