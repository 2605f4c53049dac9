"""Density grids, .mrc round trip and marching-cubes meshes on analytic fields."""
import numpy as np
import pytest
import torch

from op3d.shapes.export import extract_mesh, read_mrc, write_mesh, write_mrc
from op3d.shapes.grid import evaluate_grid, grid_points, trim_border


def sphere_density(center=(0.1, -0.05, 0.0), radius=0.3):
    c = torch.tensor(center)
    return lambda p: (radius - (p - c).norm(dim=-1, keepdim=True)) * 100  # > 0 inside


def test_grid_points_layout():
    pts, origin, voxel = grid_points(3, 2.0)
    assert voxel == 1.0 and origin.tolist() == [-1, -1, -1]
    assert pts[1].tolist() == [-1, -1, 0] and pts[3].tolist() == [-1, 0, -1] and pts[9].tolist() == [0, -1, -1]
    assert pts.shape == (27, 3) and pts[-1].tolist() == [1, 1, 1]  # every lattice point, the last corner too
    pts, _, voxel = grid_points(2, 2.0)  # the smallest grid: the cube's 8 corners
    assert voxel == 2.0 and sorted(map(tuple, pts.tolist())) == [(x, y, z) for x in (-1, 1) for y in (-1, 1)
                                                                  for z in (-1, 1)]
    pts, origin, voxel = grid_points(3, 2.0, center=(1.0, 2.0, -3.0))  # an off-centre cube moves every point
    assert origin.tolist() == [0, 1, -4] and pts[0].tolist() == [0, 1, -4] and pts[-1].tolist() == [2, 3, -2]


def test_chunking_does_not_change_values():
    f = sphere_density()
    a = evaluate_grid(f, 17, 1.0, chunk=1000)
    b = evaluate_grid(f, 17, 1.0, chunk=17 ** 3)
    assert np.array_equal(a.values, b.values)
    i, j, k = 10, 7, 8  # value at a voxel equals the field at its world position
    world = a.origin + a.voxel_size * np.array([i, j, k])
    assert a.values[i, j, k] == pytest.approx(float(f(torch.tensor(world, dtype=torch.float32)[None, None])[0, 0, 0]),
                                              rel=1e-5)


def test_mrc_round_trip_keeps_voxel_size_and_origin(tmp_path):
    g = evaluate_grid(sphere_density(), 20, 1.2, center=(0.3, -0.2, 0.1))  # a different origin on every axis
    path = write_mrc(g, tmp_path / "s.mrc")
    back = read_mrc(path)
    assert np.array_equal(back.values, g.values)
    assert back.voxel_size == pytest.approx(1.2 / 19, rel=1e-6)
    np.testing.assert_allclose(g.origin, [-0.3, -0.8, -0.5], rtol=1e-6)
    np.testing.assert_allclose(back.origin, g.origin, rtol=1e-6)
    assert not list(tmp_path.glob(".*"))  # no temporary files left
    # a file whose header is not an MRC2014 map (bytes 208-211 are not "MAP ") is refused, not read with a warning
    data = bytearray(path.read_bytes())
    data[208:212] = b"XXXX"
    (tmp_path / "bad.mrc").write_bytes(bytes(data))
    with pytest.raises(ValueError, match="Map ID"):
        read_mrc(tmp_path / "bad.mrc")


def test_sphere_mesh_has_the_right_radius(tmp_path):
    center = np.array([0.1, -0.05, 0.0])
    g = evaluate_grid(sphere_density(tuple(center), 0.3), 48, 1.0)
    verts, faces = extract_mesh(g, level=0.0)
    r = np.linalg.norm(verts - center, axis=1)
    assert abs(r.mean() - 0.3) < 0.01 and r.std() < 0.005
    # outward orientation: face normals point away from the centre
    tri = verts[faces]
    normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    assert (np.einsum("ij,ij->i", normals, tri.mean(1) - center) > 0).mean() > 0.99
    colors = np.stack([np.full(len(verts), 0.5), np.linspace(0, 1, len(verts)), np.full(len(verts), 0.1)], 1)
    for name in ("m.ply", "m.obj"):
        write_mesh(tmp_path / name, verts, faces, colors=colors)
    ply = (tmp_path / "m.ply").read_bytes()
    assert ply.startswith(b"ply\nformat binary_little_endian 1.0\nelement vertex %d" % len(verts))
    # read back by the formats' specifications: .obj indices are 1-based; binary .ply after its header
    obj = [line.split() for line in (tmp_path / "m.obj").read_text().splitlines()]
    obj_v = np.array([[float(x) for x in line[1:]] for line in obj if line[0] == "v"])
    obj_f = np.array([[int(x) - 1 for x in line[1:]] for line in obj if line[0] == "f"])
    np.testing.assert_allclose(obj_v[:, :3], verts, atol=1e-6)
    np.testing.assert_allclose(obj_v[:, 3:], colors, atol=1e-4)
    np.testing.assert_array_equal(obj_f, faces)
    vertex, face = read_binary_ply(ply)
    np.testing.assert_array_equal(np.stack([vertex[a] for a in "xyz"], 1), verts.astype(np.float32))
    np.testing.assert_array_equal(np.stack([vertex[c] for c in ("red", "green", "blue")], 1),
                                  np.round(colors * 255).astype(np.uint8))
    # colours outside [0, 1] (decoder outputs are widened slightly past them) are clipped, never wrapped around
    write_mesh(tmp_path / "c.ply", verts[:2], faces[:0], colors=np.array([[1.2, -0.1, 0.5], [1.0, 0.0, 2.0]]))
    vertex, _ = read_binary_ply((tmp_path / "c.ply").read_bytes())
    assert np.stack([vertex[c] for c in ("red", "green", "blue")], 1).tolist() == [[255, 0, 128], [255, 0, 255]]
    assert (face["n"] == 3).all()
    np.testing.assert_array_equal(face["i"], faces)
    # the format follows the suffix whatever its case; other suffixes are refused
    write_mesh(tmp_path / "upper.PLY", verts, faces, colors=colors)
    write_mesh(tmp_path / "upper.OBJ", verts, faces)
    assert (tmp_path / "upper.PLY").read_bytes() == ply
    assert (tmp_path / "upper.OBJ").read_text().startswith(f"v {verts[0, 0]:.6f} {verts[0, 1]:.6f}")
    with pytest.raises(ValueError, match="mesh format"):
        write_mesh(tmp_path / "m.stl", verts, faces)


def read_binary_ply(data: bytes):
    """A binary little-endian .ply read by its header, as the format specifies (Turk 1994): each element's
    properties in the declared order and types, faces as 'list <count type> <index type>' of triangles."""
    types = {"char": "i1", "uchar": "u1", "short": "<i2", "ushort": "<u2", "int": "<i4", "uint": "<u4",
             "float": "<f4", "double": "<f8"}
    head, body = data.split(b"end_header\n", 1)
    lines = head.decode("ascii").splitlines()
    assert lines[0] == "ply" and lines[1] == "format binary_little_endian 1.0"
    elements = []
    for line in lines[2:]:
        words = line.split()
        if words[0] == "element":
            elements.append((words[1], int(words[2]), []))
        elif words[0] == "property" and words[1] == "list":
            elements[-1][2].extend([("n", types[words[2]]), ("i", types[words[3]], 3)])
        elif words[0] == "property":
            elements[-1][2].append((words[2], types[words[1]]))
    out, offset = {}, 0
    for name, count, dtype in elements:
        out[name] = np.frombuffer(body, dtype=dtype, count=count, offset=offset)
        offset += out[name].nbytes
    assert offset == len(body)
    return out["vertex"], out["face"]


def test_mesh_level_outside_range_is_a_clear_error():
    """A level at or beyond the grid's extreme values has no surface: refused by name (the grid's min and max
    themselves included), while any level strictly between them meshes."""
    g = evaluate_grid(sphere_density(), 8, 1.0)
    lo, hi = float(g.values.min()), float(g.values.max())
    for level in (1e6, hi, lo, lo - 1):
        with pytest.raises(ValueError, match="outside the density range"):
            extract_mesh(g, level=level)
    assert len(extract_mesh(g, level=(lo + hi) / 2)[1]) > 0


def test_trim_border():
    g = evaluate_grid(sphere_density(), 32, 1.0)
    t = trim_border(g)
    pad = int(30 / 256 * 32)
    inner = np.zeros((32,) * 3, dtype=bool)
    inner[pad:-pad, pad:-pad, pad:-pad] = True
    assert (t.values[~inner] == -1000).all()  # all six faces
    assert np.array_equal(t.values[inner], g.values[inner]) and (g.values[~inner] != -1000).all()  # g untouched
    small = evaluate_grid(sphere_density(), 8, 1.0)  # int(8 * 30 / 256) = 0: no margin, nothing trimmed
    assert np.array_equal(trim_border(small).values, small.values)


@pytest.mark.parametrize("representation,legacy", [("orthoplanes", False), ("orthoplanes", True),
                                                   ("triplane", False), ("triplane", True)])
def test_density_grid_fast_path_equals_point_sampling(representation, legacy):
    """Separable lattice sampling + density-only decoder == sample_density at every voxel (reference_ops()),
    float64, on a box that is not the unit cube and slabs that do not divide the grid."""
    from helpers import tiny_generator

    from op3d.ops.dispatch import reference_ops
    from op3d.sampling.render import density_grid

    G = tiny_generator(representation=representation, legacy_axes=legacy).double().eval()
    G.render_options.box_warp = 1.7
    with torch.no_grad():
        for p in G.parameters():
            p.add_(0.1 * torch.randn_like(p))
        planes = G.planes(G.mapping(torch.randn(1, G.z_dim, dtype=torch.float64),
                                    torch.zeros(1, 25, dtype=torch.float64)), noise_mode="const")
    fast = density_grid(G, planes, 13, chunk=3 * 13 * 13 + 5, trim=False)
    with reference_ops():
        ref = density_grid(G, planes, 13, chunk=1000, trim=False)
    assert fast.values.std() > 0.01
    np.testing.assert_allclose(fast.values, ref.values, rtol=0, atol=1e-5)  # the grid is stored as float32
    assert np.array_equal(fast.origin, ref.origin) and fast.voxel_size == ref.voxel_size
    # trim=False keeps the border; the default trims exactly it (OP3D's -1000 in the outer planes), nothing else
    assert (fast.values != -1000).all()
    trimmed = density_grid(G, planes, 13, chunk=3 * 13 * 13 + 5)
    np.testing.assert_array_equal(trimmed.values, trim_border(fast).values)


def test_slab_evaluation_equals_point_evaluation_on_an_off_centre_box():
    """evaluate_grid_slabs (the lattice path) gives evaluate_grid's values on a cube that is not centred at 0, so the
    three axes have different ticks (a field that tells the axes apart, slabs that do not divide the grid)."""
    from op3d.shapes.grid import evaluate_grid_slabs

    f = lambda p: (p * torch.tensor([1.0, 2.0, -3.0], dtype=p.dtype)).sum(-1, keepdim=True) + p[..., :1] * p[..., 2:]
    slab = lambda t: f(torch.stack(torch.meshgrid(*t, indexing="ij"), -1))[..., 0]
    center = (0.3, -0.2, 0.1)
    dense = evaluate_grid(f, 11, 0.8, center=center)
    slabs = evaluate_grid_slabs(slab, 11, 0.8, center=center, chunk=3 * 11 * 11 + 4)
    np.testing.assert_allclose(slabs.values, dense.values, rtol=0, atol=1e-6)
    assert np.array_equal(slabs.origin, dense.origin) and slabs.voxel_size == dense.voxel_size


def _sphere_fields(center=(0.1, -0.05, 0.0), radius=0.3):
    f = sphere_density(center, radius)
    slab = lambda t: f(torch.stack(torch.meshgrid(*t, indexing="ij"), -1))[..., 0]
    return slab, f


@pytest.mark.parametrize("resolution,factor,center", [(49, 4, (0.1, -0.05, 0.0)), (50, 4, (0.1, -0.05, 0.0)),
                                                       (37, 3, (0.1, -0.05, 0.0)), (50, 4, (0.3, 0.32, 0.35))])
def test_coarse_to_fine_grid_gives_the_dense_mesh(resolution, factor, center):
    """Where the level set passes, the coarse-to-fine grid holds the dense grid's exact values, so marching cubes
    returns the same mesh; most of the grid is never evaluated exactly. The last case's sphere crosses the box's
    last grid planes (index N - 1, not a multiple of the factor)."""
    from op3d.shapes.grid import surface_grid

    slab, points = _sphere_fields(center=center)
    dense = evaluate_grid(points, resolution, 1.0)
    fine, exact_fraction = surface_grid(slab, points, resolution, 1.0, level=0.0, factor=factor)
    v_dense, f_dense = extract_mesh(dense, level=0.0)
    v_fine, f_fine = extract_mesh(fine, level=0.0)
    np.testing.assert_allclose(v_fine, v_dense, rtol=0, atol=1e-6)
    assert np.array_equal(f_fine, f_dense)
    assert exact_fraction < 0.5
    near = np.abs(dense.values) < 100 * 0.3 / resolution  # within about a voxel of the surface: exact
    np.testing.assert_allclose(fine.values[near], dense.values[near], rtol=0, atol=1e-5)
    far = ~(np.abs(dense.values) < 100 * 4 * 1.0 / resolution * factor)
    assert np.array_equal(np.sign(fine.values[far]), np.sign(dense.values[far]))  # interpolated, same side


def test_coarse_to_fine_grid_follows_an_off_centre_box():
    """surface_grid(center=...) covers the cube around that centre, as the dense grid does: same origin, the
    same mesh of a sphere that lies outside the centred cube."""
    from op3d.shapes.grid import surface_grid

    center = (0.9, -0.7, 0.8)
    slab, points = _sphere_fields(center=center)
    dense = evaluate_grid(points, 33, 1.0, center=center)
    fine, _ = surface_grid(slab, points, 33, 1.0, level=0.0, factor=4, center=center)
    np.testing.assert_allclose(fine.origin, dense.origin, rtol=0, atol=1e-12)
    v_dense, f_dense = extract_mesh(dense, level=0.0)
    v_fine, f_fine = extract_mesh(fine, level=0.0)
    assert len(f_dense) > 100 and np.array_equal(f_fine, f_dense)
    np.testing.assert_allclose(v_fine, v_dense, rtol=0, atol=1e-6)


def test_coarse_to_fine_finds_a_surface_only_some_cell_corners_straddle():
    """The level set y - z = half a coarse cell (41^3 grid, factor 4: coarse nodes 0.1 apart, y - z = 0.1 (j - k)
    there): in every coarse cell the four corners with j = k lie on one side of it, only the other four straddle,
    so a cell is found only by looking at all eight. The field is a cubic of the plane distance, which the coarse
    interpolation would get wrong: near the surface the values must be the exact ones."""
    from op3d.shapes.grid import surface_grid

    points = lambda p: (lambda s: s + 20 * s ** 3)(p[..., 1:2] - p[..., 2:3] - 0.05)
    slab = lambda t: points(torch.stack(torch.meshgrid(*t, indexing="ij"), -1))[..., 0]
    dense = evaluate_grid(points, 41, 1.0)
    fine, _ = surface_grid(slab, points, 41, 1.0, level=0.0, factor=4)
    near = np.abs(dense.values) < 0.03
    assert near.sum() > 1000
    np.testing.assert_allclose(fine.values[near], dense.values[near], rtol=0, atol=1e-6)


def test_coarse_to_fine_needs_a_margin():
    from op3d.shapes.grid import surface_grid

    slab, points = _sphere_fields()
    with pytest.raises(ValueError, match="margin >= 1"):
        surface_grid(slab, points, 17, 1.0, level=0.0, margin=0)


def test_mesh_grid_of_a_generator_matches_the_dense_grid_near_the_surface():
    from helpers import near_level, tiny_generator

    from op3d.sampling.render import density_grid, mesh_grid

    G = tiny_generator().eval()
    with torch.no_grad():
        planes = G.planes(G.mapping(torch.randn(1, G.z_dim), torch.zeros(1, 25)), noise_mode="const")
    dense = density_grid(G, planes, 33)
    level = float(np.median(dense.values[dense.values > -1000]))
    fine = mesh_grid(G, planes, 33, level)
    straddle = near_level(dense.values, level)  # grid points of fine cells the dense surface crosses
    assert straddle.sum() > 100
    agree = np.isclose(fine.values, dense.values, rtol=0, atol=1e-4)
    assert agree[straddle].mean() > 0.95  # a tiny random generator has features thinner than a coarse cell
    assert (fine.values[:3] == -1000).all()  # trimmed like the dense grid
    # factor: the coarse pass evaluates every factor-th point exactly; with 2 that is every even index
    even = (slice(None, None, 2),) * 3
    finer = mesh_grid(G, planes, 33, level, factor=2)
    np.testing.assert_allclose(finer.values[even], dense.values[even], rtol=0, atol=1e-5)
    assert not np.allclose(fine.values[even], dense.values[even], rtol=0, atol=1e-5)


def test_coarse_grid_upsampling_reproduces_trilinear_fields_exactly():
    """Between coarse samples (every 4th index and the last) the coarse-to-fine pass fills in values by linear
    interpolation per axis: a trilinear field (a + b x)(c + d y)(e + f z) comes back exactly at every fine index."""
    from op3d.shapes.grid import _coarse_indices, _upsample_linear

    n = 15  # coarse 0, 4, 8, 12, 14: a shorter last interval
    coarse = _coarse_indices(n, 4)
    assert list(coarse) == [0, 4, 8, 12, 14]
    i = np.arange(n, dtype=np.float64)
    field = lambda x, y, z: (1 + 0.3 * x)[:, None, None] * (2 - 0.1 * y)[None, :, None] * (0.5 + 0.2 * z)[None, None]
    got = _upsample_linear(field(*(i[coarse],) * 3).astype(np.float32), coarse, n)
    np.testing.assert_allclose(got, field(i, i, i), rtol=1e-5, atol=0)


@pytest.mark.parametrize("chunk", [1, 5, 12, 13, 1000])
def test_lattice_slabs_cover_every_x_whatever_the_chunk(chunk):
    """lattice_values evaluates slabs of about `chunk` points along x, at least one x plane each (a y-z plane of
    12 points with chunk 1 or 5 still goes one plane at a time): every value equals f(x, y, z) = x + 10 y + 100 z."""
    from op3d.shapes.grid import lattice_values

    ticks = (torch.arange(5.0), torch.arange(3.0), torch.arange(4.0))
    calls = []

    def f(t):
        calls.append(len(t[0]))
        return t[0][:, None, None] + 10 * t[1][None, :, None] + 100 * t[2][None, None, :]
    got = lattice_values(f, ticks, chunk=chunk)
    x, y, z = np.meshgrid(np.arange(5), np.arange(3), np.arange(4), indexing="ij")
    np.testing.assert_array_equal(got, x + 10 * y + 100 * z)
    assert sum(calls) == 5 and max(calls) == min(5, max(1, chunk // 12))


def test_grid_functions_are_silent_unless_asked_for_progress(capsys):
    """Library calls print nothing by default (the CLIs ask for bars with progress=True): the dense point grid,
    the slab lattice and the coarse-to-fine grid; with progress=True each one shows a bar on stderr."""
    from op3d.shapes.grid import evaluate_grid_slabs, surface_grid

    slab, points = _sphere_fields()
    calls = (lambda **kw: evaluate_grid(points, 8, 1.0, **kw), lambda **kw: evaluate_grid_slabs(slab, 8, 1.0, **kw),
             lambda **kw: surface_grid(slab, points, 9, 1.0, level=0.0, factor=4, **kw))
    for call in calls:
        call()
        assert capsys.readouterr() == ("", "")
        call(progress=True)
        assert capsys.readouterr().err


def test_lattice_points_of_an_uneven_lattice_in_x_major_order():
    """lattice_points over ticks of 2, 3 and 4 values: point i of the x-major order is meshgrid's (indexing 'ij')
    i-th, for the whole lattice and for a range starting mid-row."""
    from op3d.shapes.grid import lattice_points

    ticks = (torch.tensor([0.0, 1.0]), torch.tensor([10.0, 20.0, 30.0]), torch.tensor([100.0, 200.0, 300.0, 400.0]))
    want = torch.stack(torch.meshgrid(*ticks, indexing="ij"), dim=-1).reshape(-1, 3)
    assert torch.equal(lattice_points(ticks, 0, 24), want)
    assert torch.equal(lattice_points(ticks, 5, 19), want[5:19])
