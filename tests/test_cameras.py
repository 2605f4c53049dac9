import math

import pytest
import torch
from helpers import lookat_labels

from op3d.data.cameras import flip_label, fov_to_focal, intrinsics, lookat_pose, make_label, sample_cameras
from op3d.rendering.rays import rays_from_cameras


def test_frontal_camera():
    m = lookat_pose(math.pi / 2, math.pi / 2, 2.7)
    torch.testing.assert_close(m[:3, 3], torch.tensor([0.0, 0.0, 2.7]), atol=1e-5, rtol=0)
    torch.testing.assert_close(m[:3, 2], torch.tensor([0.0, 0.0, -1.0]), atol=1e-5, rtol=0)  # looks along -z
    torch.testing.assert_close(m[:3, 0], torch.tensor([1.0, 0.0, 0.0]), atol=1e-5, rtol=0)  # x right
    torch.testing.assert_close(m[:3, 1], torch.tensor([0.0, -1.0, 0.0]), atol=1e-5, rtol=0)  # y down (OpenCV)


def test_rotation_orthonormal_and_hand_case():
    yaws = torch.tensor([0.3, 1.2, 2.0])
    m = lookat_pose(yaws, torch.tensor([1.0, 1.5, 2.2]), 1.7, lookat=(0.0, 0.1, 0.2))
    R = m[:, :3, :3]
    torch.testing.assert_close(R.transpose(1, 2) @ R, torch.eye(3).expand(3, 3, 3), atol=1e-5, rtol=0)
    assert torch.allclose(torch.linalg.det(R), torch.ones(3), atol=1e-5)
    # yaw 0, pitch pi/2: phi = pi/2 -> position (r cos(pi), 0, r sin(pi)) = (-r, 0, 0) + lookat
    m0 = lookat_pose(0.0, math.pi / 2, 2.0, lookat=(0.0, 0.0, 0.0))
    torch.testing.assert_close(m0[:3, 3], torch.tensor([-2.0, 0.0, 0.0]), atol=1e-5, rtol=0)
    torch.testing.assert_close(m0[:3, 2], torch.tensor([1.0, 0.0, 0.0]), atol=1e-5, rtol=0)
    # the look-at point turns the camera but does not move it (EG3D's LookAtPoseSampler)
    m1 = lookat_pose(math.pi / 2, math.pi / 2, 2.7, lookat=(0.0, 0.0, 0.2))
    torch.testing.assert_close(m1[:3, 3], torch.tensor([0.0, 0.0, 2.7]), atol=1e-5, rtol=0)
    m2 = lookat_pose(math.pi / 2, math.pi / 2, 2.7, lookat=(0.0, 0.3, 0.0))
    torch.testing.assert_close(m2[:3, 2], torch.nn.functional.normalize(torch.tensor([0.0, 0.3, -2.7]), dim=0),
                               atol=1e-5, rtol=0)
    # the test helper builds the same labels independently
    c = make_label(lookat_pose(torch.tensor([1.4]), math.pi / 2, 2.7, (0.0, 0.0, 0.2)), intrinsics())
    torch.testing.assert_close(c, lookat_labels([1.4]), atol=1e-5, rtol=0)


def test_fov_to_focal():
    assert fov_to_focal(18.837) == pytest.approx(4.263, abs=1e-3)
    assert fov_to_focal(18.5) != fov_to_focal(18)  # a float, unlike OP3D's int --fov-deg
    with pytest.raises(ValueError, match="field of view"):
        fov_to_focal(0)


def test_flip_label():
    c = sample_cameras(5, torch.Generator().manual_seed(0))
    torch.testing.assert_close(flip_label(flip_label(c)), c)
    f = flip_label(c)
    torch.testing.assert_close(f[:, 3], -c[:, 3])  # camera x position mirrored
    torch.testing.assert_close(f[:, [7, 11]], c[:, [7, 11]])
    # the flipped camera's rays are the mirror images of the original rays, in mirrored pixel order
    o, d = rays_from_cameras(c.double(), 4)
    of, df = rays_from_cameras(f.double(), 4)
    mirror = torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64)
    idx = torch.arange(16).reshape(4, 4).flip(1).reshape(-1)
    torch.testing.assert_close(df, d[:, idx] * mirror, atol=1e-6, rtol=0)


def _broken(change):
    """Four good FFHQ-like labels; label 2 with one entry changed."""
    c = sample_cameras(4, torch.Generator().manual_seed(1))
    c[2, change[0]] = change[1]
    return c


@pytest.mark.parametrize("change,problem", [
    ((16, 2985.0), "intrinsics look like pixels"), ((20, 2985.0), "intrinsics look like pixels"),
    ((18, 1.3), "principal point outside [0, 1]"), ((21, 1.3), "principal point outside [0, 1]"),
    ((18, -0.1), "principal point outside [0, 1]"), ((21, -0.1), "principal point outside [0, 1]"),
    ((20, -4.0), "focal lengths must be positive"), ((24, 2.0), "intrinsics' last row is not 0 0 1"),
    ((15, 2.0), "cam2world's bottom row is not 0 0 0 1"),
    ((0, 0.98), "rotation is not orthonormal"),  # one axis scaled by 2%: a few percent is far beyond rounding
])
def test_camera_problems_name_each_kind_in_each_entry(change, problem):
    """camera_problems finds a problem in any one entry of any one label (fx or fy in pixels, cx or cy outside
    [0, 1], ...) and names the first label that has it; good labels have none."""
    from op3d.data.cameras import camera_problems

    assert camera_problems(sample_cameras(4, torch.Generator().manual_seed(1))) == []
    found = camera_problems(_broken(change))
    assert [i for i, _ in found] == [2] and problem in found[0][1], found


def test_rotation_tolerance_passes_rounded_labels_and_refuses_scaled_axes():
    """Orthonormal to 1e-3 (the largest entry of R^T R - I): labels written with 4 decimals pass, a camera whose
    first axis is scaled by 1.0004 (R^T R off by 8e-4) passes and by 1.0008 (1.6e-3) does not."""
    from op3d.data.cameras import camera_problems

    c = sample_cameras(64, torch.Generator().manual_seed(2))
    assert camera_problems(torch.round(c * 1e4) / 1e4) == []
    for scale, refused in ((1.0004, False), (1.0008, True)):
        scaled = c.clone()
        scaled[5, [0, 4, 8]] *= scale
        found = [i for i, what in camera_problems(scaled) if "not orthonormal" in what]
        assert found == ([5] if refused else []), scale


def test_ray_range_problem_when_any_camera_is_outside_the_range():
    """A fixed ray range must contain every camera's distance to the box centre (one camera nearer than
    ray_start or farther than ray_end is enough to warn); 'auto' ranges never warn."""
    from op3d.data.cameras import camera_distances, ray_range_problem

    near, far = (sample_cameras(3, torch.Generator().manual_seed(0), radius=r) for r in (2.7, 3.5))
    mixed = torch.cat([near, far[:1]])
    assert ray_range_problem(near, 2.25, 3.3) is None and ray_range_problem(mixed, "auto", "auto") is None
    assert "2.7-3.5 from the origin" in ray_range_problem(mixed, 2.25, 3.3)
    assert ray_range_problem(near, 2.8, 3.3) is not None
    # the ends themselves count as outside: a centre on the last (or first) sample leaves half the object out
    r = camera_distances(near)
    assert ray_range_problem(near, 2.0, float(r.max())) is not None
    assert ray_range_problem(near, float(r.min()), 3.3) is not None


def test_sample_cameras_spread_yaw_and_pitch_by_their_own_deviations():
    """Yaw and pitch (read back from the camera positions through LookAtPoseSampler's angles) spread with yaw_std
    and pitch_std respectively."""
    c = sample_cameras(4000, torch.Generator().manual_seed(0), yaw_std=0.3, pitch_std=0.05, radius=2.0)
    x, y, z = c[:, 3].double(), c[:, 7].double(), c[:, 11].double()
    pitch = math.pi / 2 * (1 - y / 2.0)  # EG3D's phi = arccos(1 - 2 pitch / pi), cos(phi) = y / r
    yaw = math.pi - torch.atan2(z, x)
    assert float((pitch - math.pi / 2).std()) == pytest.approx(0.05, rel=0.1)
    assert float((yaw - math.pi / 2).std()) == pytest.approx(0.3, rel=0.1)
    # the clips: yaw within +-0.8 rad of frontal, pitch within +-0.5 (wide spreads pile up at the bounds)
    c = sample_cameras(400, torch.Generator().manual_seed(0), yaw_std=2.0, pitch_std=2.0, radius=2.0)
    x, y, z = c[:, 3].double(), c[:, 7].double(), c[:, 11].double()
    yaw, pitch = math.pi - torch.atan2(z, x) - math.pi / 2, math.pi / 2 * (1 - y / 2.0) - math.pi / 2
    for angle, bound in ((yaw, 0.8), (pitch, 0.5)):
        assert float(angle.abs().max()) == pytest.approx(bound, abs=1e-5)
        assert int((angle.abs() > bound - 1e-5).sum()) > 100


def test_an_off_centre_principal_point_is_the_pixel_on_the_optical_axis():
    """intrinsics(focal, cx, cy) = [[f, 0, cx], [0, f, cy], [0, 0, 1]] (normalized image coordinates): with cx 0.25
    and cy 0.65 on a 10 x 10 image, the ray of the pixel in column 2, row 6 (centre (0.25, 0.65)) runs along the
    camera's forward axis."""
    K = intrinsics(2.0, 0.25, 0.65)
    torch.testing.assert_close(K, torch.tensor([[2.0, 0.0, 0.25], [0.0, 2.0, 0.65], [0.0, 0.0, 1.0]]), rtol=0, atol=0)
    pose = lookat_pose(torch.tensor([1.3]), torch.tensor([1.7]), 2.7)
    _, dirs = rays_from_cameras(make_label(pose, K), 10)
    along = dirs[0] @ pose[0, :3, 2]
    assert int(along.argmax()) == 6 * 10 + 2 and float(along.max()) == pytest.approx(1.0, abs=1e-6)


def test_wide_angle_focals_below_one_are_cameras_and_zero_is_not():
    """A normalized focal of 0.8 (a 64 degree field of view) is a valid camera; a focal of 0 is refused."""
    from op3d.data.cameras import camera_problems

    wide = sample_cameras(3, torch.Generator().manual_seed(4), focal=0.8)
    assert camera_problems(wide) == []
    for entry in (16, 20):  # fx, fy
        flat = wide.clone()
        flat[1, entry] = 0.0
        assert camera_problems(flat) == [(1, "focal lengths must be positive")]
