"""Geometry pinned by analytic expectations computed here in plain float64 math / numpy: which pixel a LookAt
camera sees a world point at, where a density feature lands in a written .mrc (read back with mrcfile itself),
and what truncation does to a seed's w.

Camera convention (EG3D): LookAtPoseSampler puts the camera at r (sin(phi) cos(pi - yaw), cos(phi),
sin(phi) sin(pi - yaw)), phi = arccos(1 - 2 pitch / pi), frontal = (pi/2, pi/2) on +z; cam2world columns are
OpenCV axes: right = forward x world_up, down = forward x right, forward. Normalized intrinsics: pixel (row i,
col j) of an N x N image has centre u = (j + 0.5) / N, v = (i + 0.5) / N and sees the camera-space direction
((u - cx) / fx, (v - cy) / fy, 1). So world +y (up) appears toward smaller row indices.

The camera position is pinned with lookat = 0 only. op3d's lookat_pose documents position = ... + lookat,
whereas EG3D's/OrthoPlanes' LookAtPoseSampler leaves the origin unshifted (only the forward vector uses the
lookat point); with a non-zero lookat the tests below check only what both agree on: the ray through the
principal point passes through the lookat point, and every ray projects back onto its own pixel.
"""
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from helpers import tiny_generator

from op3d.data.cameras import lookat_pose, make_label, sample_cameras
from op3d.rendering.rays import rays_from_cameras
from op3d.sampling.views import view_labels

# ---------------------------------------------------------------------------------------------------------------
# Cameras and rays
# ---------------------------------------------------------------------------------------------------------------

N = 25
FX, FY, CX, CY = 4.0, 3.1, 0.42, 0.58  # fx != fy, principal point off-centre and at a pixel centre:
PRINCIPAL = (14, 10)  # (row, col): (14 + 0.5) / 25 = 0.58 = cy, (10 + 0.5) / 25 = 0.42 = cx


def hand_position(yaw, pitch, radius):
    """EG3D LookAtPoseSampler's camera centre for a camera looking at the world origin."""
    phi = math.acos(1 - 2 * pitch / math.pi)
    return np.array([radius * math.sin(phi) * math.cos(math.pi - yaw), radius * math.cos(phi),
                     radius * math.sin(phi) * math.sin(math.pi - yaw)])


def hand_axes(position, lookat):
    """OpenCV camera axes in world coordinates (no roll, world y up): right, down, forward."""
    forward = np.asarray(lookat, float) - position
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, [0.0, 1.0, 0.0])
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    return right, down, forward


def hand_project(points, position, axes):
    """World points [P, 3] -> continuous (row, col) pixel coordinates [P, 2] (pixel centres at integers)."""
    right, down, forward = axes
    d = np.asarray(points, float) - position
    x, y, z = d @ right, d @ down, d @ forward
    u, v = FX * x / z + CX, FY * y / z + CY
    return np.stack([v * N - 0.5, u * N - 0.5], axis=-1)


def label(cam2world):
    K = torch.tensor([[FX, 0, CX], [0, FY, CY], [0, 0, 1]], dtype=torch.float32)
    return make_label(cam2world.reshape(-1, 4, 4), K).double()


def rays(c):
    o, d = rays_from_cameras(c, N)
    return o[0].numpy(), d[0].numpy()


def nearest_pixel(origin, dirs, point):
    """The pixel (row, col) whose ray points most nearly at a world point."""
    want = (np.asarray(point) - origin) / np.linalg.norm(np.asarray(point) - origin)
    k = int(np.argmax(dirs @ want))
    return divmod(k, N)


@pytest.mark.parametrize("yaw,pitch,radius", [(1.1, 1.9, 2.3), (2.2, 1.2, 3.1), (math.pi / 2, math.pi / 2, 2.7)])
def test_lookat_rays_pass_through_hand_projected_points(yaw, pitch, radius):
    position = hand_position(yaw, pitch, radius)
    origins, dirs = rays(label(lookat_pose(yaw, pitch, radius)))
    np.testing.assert_allclose(origins, np.broadcast_to(position, origins.shape), atol=1e-5)

    # a world point in front of every pixel, built from the pinhole model: it lies on that pixel's ray
    axes = hand_axes(position, (0.0, 0.0, 0.0))
    rows, cols = np.meshgrid(np.arange(N), np.arange(N), indexing="ij")
    u, v = (cols.reshape(-1) + 0.5) / N, (rows.reshape(-1) + 0.5) / N
    cam = np.stack([(u - CX) / FX, (v - CY) / FY, np.ones_like(u)], axis=-1) * 1.7  # depth 1.7
    world = position + cam @ np.stack(axes)
    want = (world - position) / np.linalg.norm(world - position, axis=-1, keepdims=True)
    np.testing.assert_allclose(dirs, want, atol=2e-6)  # rays are row-major: ray = row * N + col

    # and the other way: points along each ray project back onto that ray's own pixel centre
    along = origins + 2.0 * dirs
    np.testing.assert_allclose(hand_project(along, position, axes), np.stack([rows, cols], -1).reshape(-1, 2),
                               atol=1e-4)


def test_yaw_and_pitch_are_not_interchangeable():
    """(yaw, pitch) = (1.1, 1.9): the camera is on the -x side (yaw < pi/2) and below the target (pitch > pi/2)."""
    m = lookat_pose(1.1, 1.9, 2.3).double()
    x, y, z = m[:3, 3].tolist()
    assert x < -0.5 or x > 0.5
    phi = math.acos(1 - 2 * 1.9 / math.pi)
    assert y == pytest.approx(2.3 * math.cos(phi), abs=1e-5) and y < 0  # below: pitch > pi/2 looks up
    assert x == pytest.approx(2.3 * math.sin(phi) * math.cos(math.pi - 1.1), abs=1e-5) and x < 0
    assert z > 0


@pytest.mark.parametrize("yaw,pitch,lookat", [(1.1, 1.9, (0.1, -0.2, 0.3)), (1.9, 1.3, (0.0, 0.0, 0.2)),
                                              (math.pi / 2, math.pi / 2, (0.0, 0.0, 0.0))])
def test_principal_point_ray_hits_the_lookat_point_and_world_up_is_image_up(yaw, pitch, lookat):
    c = label(lookat_pose(yaw, pitch, 2.5, lookat))
    origins, dirs = rays(c)
    o = origins[0]
    target = np.asarray(lookat, float)
    want = (target - o) / np.linalg.norm(target - o)
    i, j = PRINCIPAL
    np.testing.assert_allclose(dirs[i * N + j], want, atol=1e-6)  # exactly the principal point's pixel

    axes = hand_axes(o, target)
    # world up (+y) above the target: smaller row, same column (no roll); 0.1 up is 0.1 * fy * N / depth rows
    up_point = target + np.array([0.0, 0.1, 0.0])
    row, col = nearest_pixel(o, dirs, up_point)
    assert row < i and col == j
    assert (row, col) == tuple(np.round(hand_project(up_point[None], o, axes)[0]).astype(int))
    # the horizontal right (forward x up) to the right: larger column, same row
    right_point = target + 0.1 * axes[0]
    row, col = nearest_pixel(o, dirs, right_point)
    assert row == i and col > j
    assert (row, col) == tuple(np.round(hand_project(right_point[None], o, axes)[0]).astype(int))


def test_frontal_camera_sees_world_x_right_and_y_up():
    """Frontal (pi/2, pi/2) camera on +z: world +x to the right of the image, world +y at the top."""
    origins, dirs = rays(label(lookat_pose(math.pi / 2, math.pi / 2, 2.7)))
    o = origins[0]
    i, j = PRINCIPAL
    # 0.2 along x at depth 2.7: 0.2 / 2.7 * fx * N = 7.4 columns; 0.2 along y: 0.2 / 2.7 * fy * N = 5.7 rows
    assert nearest_pixel(o, dirs, (0.2, 0.0, 0.0)) == (i, j + 7)
    assert nearest_pixel(o, dirs, (-0.2, 0.0, 0.0)) == (i, j - 7)
    assert nearest_pixel(o, dirs, (0.0, 0.2, 0.0)) == (i - 6, j)
    assert nearest_pixel(o, dirs, (0.0, -0.2, 0.0)) == (i + 6, j)


def test_view_labels_put_yaw_and_pitch_offsets_where_eg3d_does():
    G = SimpleNamespace(rendering_kwargs=dict(avg_camera_radius=2.3, avg_camera_pivot=[0, 0, 0],
                                              avg_camera_focal=3.3))
    views = [(0.4, -0.3), (-0.25, 0.2), (0.0, 0.0)]
    c = view_labels(G, views).double()
    for k, (dyaw, dpitch) in enumerate(views):
        np.testing.assert_allclose(c[k, [3, 7, 11]].numpy(),
                                   hand_position(math.pi / 2 + dyaw, math.pi / 2 + dpitch, 2.3), atol=1e-5)
    np.testing.assert_allclose(c[:, 16:].numpy(), np.tile([3.3, 0, 0.5, 0, 3.3, 0.5, 0, 0, 1], (3, 1)), atol=1e-6)
    # a positive yaw offset moves the camera to +x, a positive pitch offset below the pivot (EG3D)
    assert c[0, 3] > 0.5 and c[0, 7] > 0.3 and c[1, 3] < -0.3 and c[1, 7] < -0.2
    # with a pivot, the image centre (pixel 12, 12 of 25 for cx = cy = 0.5) looks at it
    G.rendering_kwargs["avg_camera_pivot"] = [0.05, -0.1, 0.2]
    c = view_labels(G, views).double()
    o, d = rays_from_cameras(c, N)
    want = torch.tensor([0.05, -0.1, 0.2], dtype=torch.float64) - o[:, 0]
    torch.testing.assert_close(d[:, 12 * N + 12], want / want.norm(dim=-1, keepdim=True), atol=1e-6, rtol=0)


def test_sample_cameras_vary_yaw_and_pitch_separately():
    """Yaw spread alone keeps cameras on the horizontal circle (y = 0); pitch spread alone keeps them in the
    x = 0 plane; both within their clips."""
    g = torch.Generator().manual_seed(0)
    yaw_only = sample_cameras(64, g, yaw_std=0.5, pitch_std=0.0, radius=2.0)[:, [3, 7, 11]].double()
    assert yaw_only[:, 1].abs().max() < 1e-5 and yaw_only[:, 0].abs().max() > 0.5
    yaw = torch.atan2(yaw_only[:, 2], -yaw_only[:, 0])  # x = -r cos(yaw), z = r sin(yaw) at pitch pi/2
    assert (yaw - math.pi / 2).abs().max() <= 0.8 + 1e-5
    pitch_only = sample_cameras(64, g, yaw_std=0.0, pitch_std=0.3, radius=2.0)[:, [3, 7, 11]].double()
    assert pitch_only[:, 0].abs().max() < 1e-5 and pitch_only[:, 1].abs().max() > 0.2
    pitch = math.pi / 2 * (1 - pitch_only[:, 1] / 2.0)  # y = r cos(phi) = r (1 - 2 pitch / pi)
    assert (pitch - math.pi / 2).abs().max() <= 0.5 + 1e-5


# ---------------------------------------------------------------------------------------------------------------
# .mrc placement
# ---------------------------------------------------------------------------------------------------------------

BUMP = np.array([0.1, -0.05, 0.2])  # world position of the density peak
BUMP_SIGMA = 0.06


def bump(points: torch.Tensor) -> torch.Tensor:
    """A Gaussian bump at BUMP: [..., 3] -> [...]; its log is separable and quadratic per axis."""
    d2 = ((points.double() - torch.as_tensor(BUMP)) ** 2).sum(-1)
    return torch.exp(-d2 / (2 * BUMP_SIGMA ** 2)).to(points.dtype)


class FieldGenerator:
    """Just enough of a Generator for op3d.sampling.render.density_grid: a known sigma on both of its paths (the
    lattice slabs: grid_features + decoder.sigma; the reference points: sample_density)."""

    def __init__(self, field, box=1.0):
        self.render_options = SimpleNamespace(box_warp=box)
        self.decoder = SimpleNamespace(sigma=lambda feats: field(feats)[..., None])
        self._field = field

    def grid_features(self, planes, ticks, cache=None):  # the "feature" of a lattice point is its position
        return torch.stack(torch.meshgrid(*ticks, indexing="ij"), dim=-1)

    def sample_density(self, points, ws=None, planes=None, body=None):
        return {"sigma": self._field(points)[..., None]}


def read_mrc_header_world(path):
    """Read with mrcfile directly: data as stored, and a map from data indices (section, row, column) to world
    coordinates built only from the header (map axes, sampling, cell size, origin)."""
    mrcfile = pytest.importorskip("mrcfile")
    with mrcfile.open(path, permissive=False) as mrc:
        h = mrc.header
        data = np.array(mrc.data, dtype=np.float64)
        assert (int(h.nxstart), int(h.nystart), int(h.nzstart)) == (0, 0, 0)
        world_axis = (int(h.mapc) - 1, int(h.mapr) - 1, int(h.maps) - 1)  # of columns, rows, sections
        sampling = np.array([int(h.mx), int(h.my), int(h.mz)], float)
        voxel = np.array([float(h.cella.x), float(h.cella.y), float(h.cella.z)]) / sampling
        origin = np.array([float(h.origin.x), float(h.origin.y), float(h.origin.z)])

    def to_world(idx):  # idx = (section, row, column), may be fractional
        xyz = np.zeros(3)
        xyz[world_axis[0]], xyz[world_axis[1]], xyz[world_axis[2]] = idx[2], idx[1], idx[0]
        return origin + xyz * voxel

    return data, to_world, voxel, origin


def subvoxel_peak(data):
    """Index of the maximum refined per axis by the parabola through the log values (exact for a Gaussian)."""
    peak = np.array(np.unravel_index(np.argmax(data), data.shape))
    refined = peak.astype(float)
    for axis in range(3):
        step = np.eye(3, dtype=int)[axis]
        lm, l0, lp = (np.log(data[tuple(peak + s * step)]) for s in (-1, 0, 1))
        refined[axis] += 0.5 * (lm - lp) / (lm - 2 * l0 + lp)
    return peak, refined


@pytest.mark.parametrize("reference", [False, True], ids=["lattice-slabs", "reference-points"])
def test_density_grid_mrc_puts_the_peak_at_its_world_position(tmp_path, reference):
    """The path of `op3d sample --shapes`: density_grid (with OP3D's border trimming) -> write_mrc."""
    from op3d.ops.dispatch import reference_ops
    from op3d.sampling.render import density_grid
    from op3d.shapes.export import write_mrc

    n, box = 41, 1.0
    G = FieldGenerator(bump, box)
    with reference_ops(reference):
        grid = density_grid(G, torch.zeros(1, 1, 3, 1, 2, 2), n, chunk=3 * n * n + 7)
    data, to_world, voxel, origin = read_mrc_header_world(write_mrc(grid, tmp_path / "bump.mrc"))
    assert data.shape == (n, n, n)
    # EG3D's grid: voxel centres from -box/2 to +box/2 inclusive, spacing box / (n - 1)
    np.testing.assert_allclose(voxel, box / (n - 1), rtol=1e-6)
    np.testing.assert_allclose(origin, -box / 2, atol=1e-6)
    np.testing.assert_allclose(to_world((n - 1,) * 3), box / 2, atol=1e-5)
    peak, refined = subvoxel_peak(data)
    assert np.abs(to_world(peak) - BUMP).max() <= voxel[0]  # the peak voxel: within one voxel
    np.testing.assert_allclose(to_world(refined), BUMP, atol=0.05 * voxel[0])  # sub-voxel: within 1/20 voxel
    assert data.min() == -1000  # trimmed border, as sample writes it


def test_mrc_header_places_an_off_centre_grid(tmp_path):
    """A grid whose cube is not centred at 0 (asymmetric origin) and whose axes have different lengths in
    world units around the peak: the header alone must place every axis."""
    from op3d.shapes.export import write_mrc
    from op3d.shapes.grid import evaluate_grid

    n, cube, center = 33, 0.8, (0.3, -0.2, 0.1)
    grid = evaluate_grid(lambda p: bump(p)[..., None], n, cube, center=center, chunk=5000)
    data, to_world, voxel, origin = read_mrc_header_world(write_mrc(grid, tmp_path / "off.mrc"))
    np.testing.assert_allclose(origin, np.array(center) - cube / 2, atol=1e-6)
    np.testing.assert_allclose(voxel, cube / (n - 1), rtol=1e-6)
    peak, refined = subvoxel_peak(data)
    assert np.abs(to_world(peak) - BUMP).max() <= voxel[0]
    np.testing.assert_allclose(to_world(refined), BUMP, atol=0.05 * voxel[0])
    # every stored value is the field at the header's world position of its voxel
    rng = np.random.default_rng(0)
    for idx in rng.integers(0, n, size=(20, 3)):
        want = float(bump(torch.tensor(to_world(idx))))
        assert data[tuple(idx)] == pytest.approx(want, rel=1e-4, abs=1e-6)


def test_generator_density_mrc_values_are_the_field_at_header_positions(tmp_path):
    """A real (tiny) generator through density_grid -> write_mrc: each stored voxel equals sample_density at the
    world point the header assigns to it."""
    from op3d.sampling.render import density_grid
    from op3d.shapes.export import write_mrc

    G = tiny_generator(representation="triplane").double().eval()
    with torch.no_grad():
        for p in G.parameters():
            p.add_(0.1 * torch.randn_like(p))
        planes = G.planes(G.mapping(torch.randn(1, G.z_dim, dtype=torch.float64),
                                    torch.zeros(1, 25, dtype=torch.float64)), noise_mode="const")
    n = 19
    data, to_world, _, _ = read_mrc_header_world(write_mrc(density_grid(G, planes, n), tmp_path / "g.mrc"))
    pad = int(30 / 256 * n)
    rng = np.random.default_rng(1)
    idx = rng.integers(pad, n - pad, size=(24, 3))
    pts = torch.tensor(np.stack([to_world(i) for i in idx]))[None]
    with torch.no_grad():
        want = G.sample_density(pts, planes=planes)["sigma"][0, :, 0].numpy()
    got = np.array([data[tuple(i)] for i in idx])
    assert want.std() > 0.01  # the field varies, so a transposed or shifted volume cannot match
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-4)


# ---------------------------------------------------------------------------------------------------------------
# Seeds with truncation
# ---------------------------------------------------------------------------------------------------------------

def test_seed_ws_truncate_toward_w_avg_on_the_first_layers():
    from op3d.sampling.render import seed_ws

    G = tiny_generator().eval()
    G.rendering_kwargs["avg_camera_pivot"] = [0, 0, 0]  # the frontal camera is then (0, 0, r) in every convention
    torch.manual_seed(1)
    w_avg = torch.randn(G.backbone.mapping.w_dim) * 2
    G.backbone.mapping.w_avg.copy_(w_avg)

    seed = 7
    z = torch.from_numpy(np.random.RandomState(seed).randn(1, G.z_dim)).float()
    r = float(G.rendering_kwargs["avg_camera_radius"])
    focal = 1 / (math.tan(math.radians(18.837) / 2) * 1.414)  # EG3D's FOV_to_intrinsics(18.837)
    cam2world = [[1, 0, 0, 0], [0, -1, 0, 0], [0, 0, -1, r], [0, 0, 0, 1]]  # frontal, looking along -z
    K = [[focal, 0, 0.5], [0, focal, 0.5], [0, 0, 1]]
    c = torch.tensor([sum(cam2world, []) + sum(K, [])], dtype=torch.float32)
    with torch.no_grad():
        w = G.mapping(z, c)[0]  # [num_ws, w_dim], untruncated
    assert (w - w_avg).abs().mean() > 0.5  # w_avg is far from w, so 0 and w_avg differ as truncation centres

    torch.testing.assert_close(seed_ws(G, [seed])[0], w, atol=1e-5, rtol=1e-5)
    got = seed_ws(G, [seed], truncation_psi=0.6)[0]
    torch.testing.assert_close(got, w_avg + 0.6 * (w - w_avg), atol=1e-5, rtol=1e-5)
    got = seed_ws(G, [3, seed], truncation_psi=0.6, truncation_cutoff=2)[1]
    torch.testing.assert_close(got[:2], w_avg + 0.6 * (w[:2] - w_avg), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(got[2:], w[2:], atol=1e-5, rtol=1e-5)
