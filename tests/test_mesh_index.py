"""MeshIndex: Warp's BVH against the dense float64 reference (surface points, degenerate triangles, posed bodies,
gradients to second order), chunk independence, the fallback without Warp, one build per posed body, bad meshes."""
import pytest
import torch
from helpers import DEVICES
from test_mesh_sdf import box_mesh, box_sdf, lumpy_sphere, posed_procedural_body, probe_points

from op3d.conditioning import mesh_index
from op3d.conditioning.mesh_index import (MeshIndex, check_mesh, mesh_query_method, nearest_vertex, open_edges,
                                         resolve_method)
from op3d.conditioning.mesh_sdf import closest_point_on_triangles, mesh_sdf
from op3d.ops.dispatch import reference_ops

needs_warp = pytest.mark.skipif(not mesh_index.warp_available(), reason="needs warp-lang")
WARP_TOL = 1e-6  # Warp picks faces in float32; ties within float32 rounding may pick a neighbour (issue #13)


def surface_points(v, f):
    """Points exactly on the mesh: every vertex, face centroids and edge midpoints (float64)."""
    tri = v[f]
    return torch.cat([v, tri.mean(1), (tri[:, 0] + tri[:, 1]) / 2])


def with_degenerate_faces(v, f):
    """The same closed topology with degenerate faces: the two faces on one edge collapse to segments (the
    edge's end points coincide) and one face becomes a collinear sliver (a corner on its opposite edge)."""
    v = v.clone()
    i, j = f[0, 0], f[0, 1]
    v[j] = v[i]
    a, b, c = f[len(f) // 2]
    v[c] = (v[a] + v[b]) / 2
    return v, f


def assert_equal_to_reference(p, v, f, device="cpu"):
    fast = mesh_sdf(p[None].to(device), v[None].to(device), f.to(device), method="warp").cpu()[0]
    ref = mesh_sdf(p[None], v[None], f, method="brute")[0]
    torch.testing.assert_close(fast, ref, rtol=0, atol=WARP_TOL)
    clear = ref.abs() > WARP_TOL  # on the surface the sign is undefined: both are ~0 there
    assert torch.equal(fast[clear] < 0, ref[clear] < 0)
    # the face Warp picked is the nearest one or tied with it
    face, _ = MeshIndex(v[None].to(device), f.to(device), "warp").closest_faces(p[None].to(device))
    tri = v[f[face[0].cpu()]]
    picked = (p - closest_point_on_triangles(p, tri[:, 0], tri[:, 1], tri[:, 2])).norm(dim=-1)
    torch.testing.assert_close(picked, ref.abs(), rtol=0, atol=WARP_TOL)
    return fast, ref


@needs_warp
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("mesh", ["lumpy3", "lumpy4", "body1", "body2", "body3", "degenerate"])
def test_warp_equals_the_reference_near_far_and_on_the_surface(mesh, device):
    if mesh.startswith("body"):
        v, f = posed_procedural_body(int(mesh[-1]))
    elif mesh == "degenerate":
        v, f = with_degenerate_faces(*lumpy_sphere(5))
    else:
        v, f = lumpy_sphere(int(mesh[-1]))
    far = probe_points(v, 200, 3) * 20  # metres away
    on = surface_points(v, f)
    on = on[::max(12, len(on) // 600)]  # about 600 points on the surface (the dense reference costs P x F)
    p = torch.cat([probe_points(v, 600, 1), far, on])
    fast, ref = assert_equal_to_reference(p, v, f, device)
    assert (ref < 0).float().mean() > 0.05 and (ref > 0).float().mean() > 0.3
    assert fast[-len(on):].abs().max() < WARP_TOL


@needs_warp
@pytest.mark.parametrize("device", DEVICES)
def test_warp_float32_distances_without_a_graph_equal_the_reference(device):
    """float32 points without autograd: the distance Warp computes inside its query (no torch recomputation)
    equals the float64 dense reference to float32 rounding and the torch recomputation (points requiring grad);
    NaN points stay NaN."""
    v, f = posed_procedural_body(9)
    p = torch.cat([probe_points(v, 1000, 6), probe_points(v, 100, 7) * 20, surface_points(v, f)[::27]])
    p[5] = float("nan")
    ref = mesh_sdf(p[None], v[None], f, method="brute")[0]
    p32, v32 = p.float()[None].to(device), v.float()[None].to(device)
    index = MeshIndex(v32, f.to(device), "warp")
    fast = mesh_sdf(p32, v32, f.to(device), index=index)
    assert fast.dtype == torch.float32 and index.query_faces(p32)[2] is not None  # Warp's own distances
    graph = mesh_sdf(p32.clone().requires_grad_(True), v32, f.to(device), index=index).detach()
    fast, graph = fast.cpu()[0].double(), graph.cpu()[0].double()
    assert fast[5].isnan() and graph[5].isnan()
    keep = ~ref.isnan()
    tol = 1e-6 + 2e-7 * p[keep].abs().amax(-1)  # float32 rounding of coordinates up to 20 m
    assert ((fast[keep] - ref[keep]).abs() <= tol).all()
    assert ((fast[keep] - graph[keep]).abs() <= tol + 4e-6).all()  # torch's float32 region tests: ~4e-6 on the surface
    clear = ref.abs() > 1e-5
    assert torch.equal(fast[clear] < 0, ref[clear] < 0)


@needs_warp
def test_warp_gradients_equal_the_reference_to_second_order():
    v, f = posed_procedural_body(7)
    p0 = probe_points(v, 1500, 4)[None]
    w = torch.randn(p0.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))

    def derivatives(method):
        p = p0.clone().requires_grad_(True)
        sdf = mesh_sdf(p, v[None], f, method=method)
        grad, = torch.autograd.grad(sdf.sum(), p, create_graph=True)
        hess_w, = torch.autograd.grad((grad * w).sum(), p)  # Hessian-vector products
        return sdf.detach(), grad.detach(), hess_w
    s_fast, g_fast, h_fast = derivatives("warp")
    s_ref, g_ref, h_ref = derivatives("brute")
    torch.testing.assert_close(s_fast, s_ref, rtol=0, atol=WARP_TOL)
    # where two faces tie for nearest their closest points coincide (shared edge or vertex) to rounding
    torch.testing.assert_close(g_fast, g_ref, rtol=0, atol=1e-5)
    torch.testing.assert_close(h_fast, h_ref, rtol=0, atol=1e-3)
    assert h_ref.abs().max() > 1  # the Hessian of a distance is not trivially zero here
    torch.testing.assert_close(g_ref.norm(dim=-1), torch.ones_like(s_ref), rtol=0, atol=1e-9)


def ray_samples(v, rays, samples, seed):
    """Points along random rays through the mesh's box, in ray order (consecutive points ~1-4 cm apart, many
    crossing the surface): the order in which the renderer queries them."""
    g = torch.Generator().manual_seed(seed)
    lo, hi = v.min(0).values - 0.1, v.max(0).values + 0.1
    a = lo + (hi - lo) * torch.rand(rays, 1, 3, generator=g, dtype=torch.float64)
    b = lo + (hi - lo) * torch.rand(rays, 1, 3, generator=g, dtype=torch.float64)
    t = torch.linspace(0, 1, samples, dtype=torch.float64)[:, None]
    return (a + t * (b - a)).reshape(-1, 3)


@needs_warp
def test_warp_carried_bounds_and_signs_along_rays_change_no_answer(monkeypatch):
    """On the CPU each Warp thread walks RUN consecutive points, bounding each search by the previous closest point
    and reusing the previous sign across steps shorter than the distance to the surface: along rays (where both
    apply) the answers equal the dense reference and those of independent per-point queries (RUN = 1)."""
    from op3d.conditioning import warp_queries
    v, f = posed_procedural_body(5)
    p = ray_samples(v, 80, 40, 3)
    fast, ref = assert_equal_to_reference(p, v, f)
    assert ((ref[1:] < 0) != (ref[:-1] < 0)).sum() > 30  # many steps cross the surface
    # head-on through a box's face: a step slightly longer than the previous distance crosses the surface
    h = (0.5, 0.4, 0.3)
    bv, bf = box_mesh(h)
    d = torch.linspace(0.02, 0.2, 16, dtype=torch.float64)
    steps = torch.tensor([1.01, 1.05, 1.2, 2.0], dtype=torch.float64)
    z = torch.stack([0.3 + d[:, None].expand(-1, 4), 0.3 + d[:, None] * (1 - steps)], -1).reshape(-1)
    q = torch.stack([torch.full_like(z, 0.1), torch.full_like(z, -0.05), z], -1)  # pairs: outside, then inside
    _, _, sdf = MeshIndex(bv[None], bf, "warp").query_faces(q[None].float())
    torch.testing.assert_close(sdf[0].double(), box_sdf(q, h), rtol=0, atol=WARP_TOL)
    index = MeshIndex(v[None], f, "warp")
    chained = index.query_faces(p[None].float()) + (index.nearest_vertices(p[None].float(), 0.1),)
    monkeypatch.setattr(warp_queries, "RUN", 1)
    index = MeshIndex(v[None], f, "warp")
    single = index.query_faces(p[None].float()) + (index.nearest_vertices(p[None].float(), 0.1),)
    for a, b in zip(chained, single):
        assert torch.equal(a, b)
    idx, _ = nearest_vertex(p[None], v[None], "brute", max_distance=0.1)
    assert torch.equal(chained[-1], idx)


@needs_warp
@pytest.mark.parametrize("device", DEVICES)
def test_warp_meshes_of_dropped_bodies_are_refit_for_new_ones_never_while_in_use(monkeypatch, device):
    """A body's Warp meshes return to a pool once no index uses them (selections share them), also when they die
    in a collected reference cycle (their Warp meshes must stay alive then), and are refit for the next body of the
    same topology on the same device: its answers equal those of fresh builds and the dense reference."""
    import gc

    from op3d.conditioning import warp_queries
    gc.collect()  # meshes of earlier tests that wait in reference cycles go to the old pool, not this test's
    monkeypatch.setattr(warp_queries, "_FREE", {})
    pooled = lambda: sum(len(x) for x in warp_queries._FREE.values())
    (va, f), (vb, _), (vc, _) = (posed_procedural_body(s) for s in (1, 2, 3))
    pa, pc = (ray_samples(v, 40, 48, 4)[None].float().to(device) for v in (va, vc))
    fd = f.to(device)
    on = lambda v: v[None].to(device)
    a = MeshIndex(on(va), fd, "warp")
    answers_a = a.query_faces(pa) + (a.nearest_vertices(pa, 0.1),)
    kept = a.select(torch.tensor([0]))
    del a
    gc.collect()
    assert pooled() == 0  # the selection still uses body a's meshes
    b = MeshIndex(on(vb), fd, "warp")
    b.query_faces(pa), b.nearest_vertices(pa, 0.1)
    for x, y in zip(kept.query_faces(pa) + (kept.nearest_vertices(pa, 0.1),), answers_a):
        assert torch.equal(x, y)
    cycle = [b]
    cycle.append(cycle)  # b's meshes die with a reference cycle, in the garbage collector (not by refcount)
    del kept, b, cycle
    gc.collect()
    assert pooled() == 4  # faces and vertices of bodies a and b
    c = MeshIndex(on(vc), fd, "warp")
    refit = c.query_faces(pc) + (c.nearest_vertices(pc, 0.1),)
    assert pooled() == 2
    monkeypatch.setattr(warp_queries, "_FREE", {})
    fresh = MeshIndex(on(vc), fd, "warp")
    (face, inside, sdf, vertex), p = (x.cpu() for x in refit), pc[0].double().cpu()
    (face_f, inside_f, sdf_f, vertex_f) = (x.cpu() for x in fresh.query_faces(pc) + (fresh.nearest_vertices(pc, 0.1),))
    assert torch.equal(inside, inside_f) and torch.equal(vertex < 0, vertex_f < 0)
    torch.testing.assert_close(sdf, sdf_f, rtol=0, atol=WARP_TOL)
    # the BVHs differ (refit, not rebuilt), so where faces or vertices tie either may be picked
    face_distance = lambda i: (p - closest_point_on_triangles(p, *vc[f[i[0]]].unbind(1))).norm(dim=-1)
    torch.testing.assert_close(face_distance(face), face_distance(face_f), rtol=0, atol=WARP_TOL)
    vertex_distance = lambda i: (p - vc[i[0].clamp_min(0)]).norm(dim=-1)
    torch.testing.assert_close(vertex_distance(vertex), vertex_distance(vertex_f), rtol=0, atol=WARP_TOL)
    assert_equal_to_reference(p, vc, f)
    # the pool is bounded in triangles: with room for one body's faces, c's faces stay, its vertices do not
    monkeypatch.setattr(warp_queries, "_FREE_LIMIT", len(f))
    del c, fresh
    gc.collect()
    assert [len(x) for x in warp_queries._FREE.values()] == [1]
    assert [warp_queries._triangles(s) for x in warp_queries._FREE.values() for s in x] == [len(f)]


@needs_warp
def test_warp_results_do_not_depend_on_chunking_or_threads():
    v, f = posed_procedural_body(8)
    p = probe_points(v, 9000, 5)[None]
    index = MeshIndex(v[None], f, "warp")
    whole_faces, whole_inside = index.closest_faces(p)
    whole_vertices = index.nearest_vertices(p)
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        pieces = [index.closest_faces(c) for c in p.split(777, dim=1)]
        vertices = torch.cat([index.nearest_vertices(c) for c in p.split(777, dim=1)], 1)
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(torch.cat([x[0] for x in pieces], 1), whole_faces)
    assert torch.equal(torch.cat([x[1] for x in pieces], 1), whole_inside)
    assert torch.equal(vertices, whole_vertices)


def test_without_warp_auto_is_the_torch_path(monkeypatch):
    monkeypatch.setattr(mesh_index, "warp_available", lambda: False)
    assert resolve_method("auto") == "clusters"
    with pytest.raises(ImportError, match="pip install warp-lang"):
        resolve_method("warp")
    v, f = lumpy_sphere(6)
    p = probe_points(v, 500, 2)[None]
    torch.testing.assert_close(mesh_sdf(p, v[None], f), mesh_sdf(p, v[None], f, method="brute"), rtol=0,
                               atol=1e-12)


@needs_warp
def test_warp_without_a_usable_gpu_falls_back_on_cuda_tensors(monkeypatch):
    from op3d.conditioning import warp_queries

    monkeypatch.setattr(warp_queries, "cuda_available", lambda: False)
    with pytest.warns(UserWarning, match="Warp cannot run on cuda"):
        assert resolve_method("auto", "cuda") == "clusters"
    assert resolve_method("auto", "cpu") == ("warp" if warp_queries.cpu_available() else "clusters")
    with pytest.raises(ImportError, match="no usable CUDA driver"):
        resolve_method("warp", "cuda")


@needs_warp
def test_warp_without_its_cpu_compiler_falls_back_on_cpu_tensors(monkeypatch):
    """A Warp without warp-clang (built or shipped for CUDA only) runs CPU meshes through the torch path."""
    from op3d.conditioning import warp_queries

    monkeypatch.setattr(warp_queries, "cpu_available", lambda: False)
    with pytest.warns(UserWarning, match="Warp cannot run on cpu"):
        assert resolve_method("auto", "cpu") == "clusters"
    with pytest.raises(ImportError, match="no CPU compiler"):
        resolve_method("warp", "cpu")


def test_reference_ops_and_mesh_query_method_choose_the_path():
    with reference_ops():
        assert resolve_method("auto") == "clusters"
    with mesh_query_method("brute"):
        assert resolve_method("auto") == "brute" and resolve_method("clusters") == "clusters"
        assert MeshIndex(*(t[None] if i == 0 else t for i, t in enumerate(box_mesh((1, 1, 1))))).method == "brute"
    assert resolve_method("auto") == ("warp" if mesh_index.warp_available() else "clusters")
    with pytest.raises(ValueError, match="unknown mesh-query method 'bvh'"):
        resolve_method("bvh")


@pytest.mark.parametrize("method", ["clusters", pytest.param("warp", marks=needs_warp)])
def test_a_posed_body_builds_its_structures_once(method, monkeypatch):
    from test_conditional import params_for, tiny_conditional

    from op3d.conditioning.body_model import procedural_body
    from op3d.conditioning.posed import pose_bodies

    monkeypatch.setattr(mesh_index, "resolve_method", lambda m, device="cpu": method if m == "auto" else m)
    import op3d.conditioning.posed as posed
    monkeypatch.setattr(posed, "resolve_method", mesh_index.resolve_method)
    builds = []
    real = mesh_index.build_clusters
    monkeypatch.setattr(mesh_index, "build_clusters", lambda *a, **k: builds.append(1) or real(*a, **k))
    if method == "warp":
        from op3d.conditioning import warp_queries
        real_warp = warp_queries.WarpMesh.__init__
        monkeypatch.setattr(warp_queries.WarpMesh, "__init__", lambda self, *a: builds.append(1) or real_warp(self, *a))
    G = tiny_conditional()
    body = pose_bodies(procedural_body(num_betas=10), params_for(2, seed=3))
    ws = G.mapping(torch.randn(2, G.z_dim), torch.zeros(2, 25))
    with torch.no_grad():
        field = G.field(G.planes(ws), ws=ws, body=body)
        for chunk in torch.rand(2, 600, 3).split(100, dim=1):  # six chunks, as the renderer evaluates them
            field(chunk, None)
    assert len(builds) == 4  # per body: faces + vertices
    one = body.select(torch.tensor([1, 1, 1]))
    assert one.mesh_index()._built.keys() == {(k, i) for k in ("faces", "vertices") for i in range(3)}
    assert body.mesh_index() is body.mesh_index() and len(builds) == 4


def test_bad_meshes_get_one_clear_line():
    v, f = box_mesh((0.3, 0.5, 0.2))
    cases = {
        "not closed": (v, f[1:]),
        "zero area": (torch.zeros_like(v), f),
        "NaN or infinite": (torch.where(torch.arange(8)[:, None] == 3, float("nan"), v), f),
        "index vertices 0..9": (v, torch.where(f == 7, 9, f)),
        "faces must be \\[F, 3\\] with F > 0": (v, f[:0]),
        "integer vertex indices": (v, f.double()),
    }
    for message, (verts, faces) in cases.items():
        with pytest.raises(ValueError, match=message):
            check_mesh(verts[None], faces)
        with pytest.raises(ValueError, match=message):
            mesh_sdf(torch.zeros(1, 4, 3, dtype=torch.float64), verts[None], faces, method="brute")
    with pytest.raises(ValueError, match=r"points must be \[1, P, 3\]"):
        MeshIndex(v[None], f, "brute").closest_faces(torch.zeros(2, 4, 3))
    with pytest.raises(ValueError, match="vertices must be"):
        nearest_vertex(torch.zeros(1, 4, 3), torch.zeros(1, 0, 3))


def test_open_edges_counts_boundary_and_orientation():
    v, f = box_mesh((1, 1, 1))
    assert len(open_edges(f)) == 0
    assert len(open_edges(f[1:])) == 3  # one triangle removed: its three edges
    assert len(open_edges(f[(torch.arange(12) != 0) & (torch.arange(12) != 6)])) == 4  # a quad: its 4 sides
    assert len(open_edges(torch.cat([f, f]))) == 0  # a doubled closed surface is closed (winding number 2 inside)
