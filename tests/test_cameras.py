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
