"""PARE import: rotation matrices <-> axis-angle, the weak-perspective -> perspective camera conversion (posed
dataset bodies reproject where PARE's camera put them), safe joblib reading and one-line errors."""
import math
import os

import numpy as np
import pytest
import torch
from PIL import Image

from helpers import run_cli
from op3d.conditioning.body_model import (axis_angle_to_matrix, lbs, matrix_to_axis_angle, procedural_body,
                                          random_body_poses)
from op3d.conditioning.posed import pose_bodies
from op3d.data.dataset import ImageDataset

joblib = pytest.importorskip("joblib")
FLIP = torch.diag(torch.tensor([1.0, -1.0, -1.0], dtype=torch.float64))


def test_matrix_to_axis_angle_round_trip_at_every_angle():
    g = torch.Generator().manual_seed(0)
    axis = torch.nn.functional.normalize(torch.randn(3000, 3, generator=g, dtype=torch.float64), dim=-1)
    angle = torch.rand(3000, 1, generator=g, dtype=torch.float64) * math.pi
    angle[:20], angle[20:40], angle[40:60] = math.pi, 0.0, math.pi - 1e-7
    R = axis_angle_to_matrix(axis * angle)
    back = matrix_to_axis_angle(R)
    # axis_angle_to_matrix adds smplx's 1e-8 to the angle, hence the tolerance
    torch.testing.assert_close(axis_angle_to_matrix(back), R, rtol=0, atol=1e-7)
    generic = slice(60, None)
    torch.testing.assert_close(back[generic], (axis * angle)[generic], rtol=0, atol=1e-7)
    assert back.norm(dim=-1).max() <= math.pi + 1e-12


def fake_pare(tmp_path, model, n=3, size=(80, 64)):
    """PARE-like outputs for known bodies: SMPL output in PARE's frame (y down) + weak-perspective cameras."""
    images, pare = tmp_path / "images", tmp_path / "pare"
    images.mkdir()
    pare.mkdir()
    g = torch.Generator().manual_seed(1)
    truth = []
    for i in range(n):
        betas = torch.randn(1, 10, generator=g, dtype=torch.float64) * 0.5
        pose = random_body_poses(1, g).double()
        yaw = float(torch.rand(1, generator=g)) * 2 - 1
        R_world = axis_angle_to_matrix(torch.tensor([0.0, yaw, 0.0], dtype=torch.float64))
        pose[0, 0] = matrix_to_axis_angle(FLIP @ R_world)  # PARE's root orientation (image y down)
        rot = axis_angle_to_matrix(pose)
        verts = lbs(model, betas, pose)["vertices"][0]  # SMPL output, no translation
        s, tx, ty = 0.75 + 0.1 * i, 0.05 * i - 0.05, 0.1 - 0.05 * i  # scale of the square crop
        W, H = size
        m = min(W, H)
        entry = {"betas": betas.numpy(), "orig_cam": np.array([[s * m / W, s * m / H, tx, ty]])}
        if i == 0:
            entry["pose"] = pose.reshape(1, 72).numpy()  # axis-angle
        else:
            entry["pred_pose"] = rot.float().numpy()  # rotation matrices, as PARE's model output
            entry["pred_shape"] = entry.pop("betas")
        joblib.dump(entry, pare / f"im{i}.pkl")
        Image.new("RGB", size, (40 * i, 100, 200)).save(images / f"im{i}.png")
        truth.append((verts, s, tx, ty))
    return images, pare, truth


def project(label, points):
    """Pinhole projection with a 25-d label: points [N, 3] -> ndc [N, 2] (x right, y down) of the square image."""
    c2w = label[:16].reshape(4, 4).double()
    K = label[16:].reshape(3, 3).double()
    cam = (points - c2w[:3, 3]) @ c2w[:3, :3]  # world -> camera (rotation transposed)
    uv = (cam[:, :2] / cam[:, 2:]) * torch.stack([K[0, 0], K[1, 1]]) + K[:2, 2]
    return uv * 2 - 1


def test_pare_import_reprojects_bodies_where_pare_put_them(tmp_path, capsys):
    model = procedural_body(num_betas=10, dtype=torch.float64)
    images, pare, truth = fake_pare(tmp_path, model)
    out = tmp_path / "posed.zip"
    code, stdout, err = run_cli(["dataset", "pare", str(images), str(pare), "--out", str(out), "--resolution", "32",
                                 "--body-model", "procedural"], capsys)
    assert code == 0, err
    ds = ImageDataset(out, use_poses=True)
    assert len(ds) == 3 and ds.body_model == "procedural"
    focal = 1 / (2 * math.tan(math.radians(12) / 2))
    for i, (verts, s, tx, ty) in enumerate(truth):
        label = torch.as_tensor(ds.get_label(i))
        body = pose_bodies(model, torch.as_tensor(ds.get_pose(i))[None].double())
        world = body.vertices[0]
        # exact: a pinhole at depth 2 f / s in front of PARE's frame, with the body at (X + tx, Y + ty, z)
        depth = 2 * focal / s
        cam = verts + torch.tensor([tx, ty, depth], dtype=torch.float64)
        want = 2 * focal * cam[:, :2] / cam[:, 2:]
        torch.testing.assert_close(project(label, world), want, rtol=0, atol=2e-5)
        # PARE's own weak-perspective projection differs only by the perspective term s (X + tx) z / (Z + z)
        weak = s * (verts[:, :2] + torch.tensor([tx, ty], dtype=torch.float64))
        bound = s * (verts[:, :2] + torch.tensor([tx, ty], dtype=torch.float64)).abs() * (verts[:, 2:].abs() /
                                                                                          (depth - verts[:, 2:].abs()))
        assert ((project(label, world) - weak).abs() <= bound + 2e-5).all() and bound.max() < 0.05
        # world frame: y up with the pelvis at the origin
        joints = lbs(model, body.betas, axis_angle_to_matrix(torch.as_tensor(ds.get_pose(i))[10:82].reshape(1, 24, 3)
                                                             .double()))["joints"][0] + torch.as_tensor(
            ds.get_pose(i)[82:]).double()
        assert joints[0].abs().max() < 1e-5 and joints[15, 1] > joints[0, 1] + 0.4


def test_pare_import_errors_are_one_line(tmp_path, capsys):
    model = procedural_body(num_betas=10, dtype=torch.float64)
    images, pare, _ = fake_pare(tmp_path, model, n=2)
    args = ["dataset", "pare", str(images), str(pare), "--out", str(tmp_path / "x.zip"), "--resolution", "32",
            "--body-model", "procedural"]
    os.remove(pare / "im1.pkl")
    code, _, err = run_cli(args, capsys)
    assert code == 1 and "no PARE output for 1 image" in err and len(err.strip().splitlines()) == 1

    class Hostile:
        def __reduce__(self):
            return (os.system, ("echo should-not-run",))

    joblib.dump({"pose": Hostile()}, pare / "im1.pkl")
    code, out, err = run_cli(args, capsys)
    assert code == 1 and "refusing to load" in err and "should-not-run" not in out + err
    joblib.dump({"betas": np.zeros(10)}, pare / "im1.pkl")
    code, _, err = run_cli(args, capsys)
    assert code == 1 and "no pose / pred_pose / full_pose entry" in err
    assert not (tmp_path / "x.zip").exists()


def test_pare_pose_layouts_are_decided_by_shape_and_rotations_validated():
    """[3 people, 72] axis-angle is 216 values but not rotation matrices; zeros and 5*I are not rotations."""
    from op3d.conditioning.body_model import axis_angle_to_matrix
    from op3d.conditioning.pare import read_pare_entry
    from op3d.data.dataset import DatasetError

    g = torch.Generator().manual_seed(0)
    aa = torch.randn(3, 72, generator=g, dtype=torch.float64) * 0.3
    entry = {"pose": aa.numpy(), "betas": np.zeros((3, 10)), "orig_cam": np.tile([1.0, 1.0, 0, 0], (3, 1))}
    _, rot, _ = read_pare_entry(entry, "three.pkl", person=1)
    torch.testing.assert_close(rot, axis_angle_to_matrix(aa[1].reshape(24, 3)))
    matrices = axis_angle_to_matrix(aa.reshape(3, 24, 3))
    for layout in (matrices.numpy(), matrices.reshape(3, 216).numpy()):
        _, rot, _ = read_pare_entry(dict(entry, pose=layout), "m.pkl", person=2)
        torch.testing.assert_close(rot, matrices[2])
    for bad, what in ((np.zeros((1, 24, 3, 3)), "joint 0 is not a rotation matrix"),
                      (np.tile(5 * np.eye(3), (1, 24, 1, 1)), "joint 0 is not a rotation matrix"),
                      (np.zeros((1, 70)), "got shape \\(1, 70\\)")):
        with pytest.raises(DatasetError, match="bad.pkl: .*" + what):
            read_pare_entry(dict(entry, pose=bad), "bad.pkl")


def test_pare_import_reads_photos_upright(tmp_path, capsys):
    """A portrait stored sideways with an EXIF orientation is what PARE saw upright: the import must give the same
    cameras and pixels as for the upright file (it used the stored size)."""
    model = procedural_body(num_betas=10, dtype=torch.float64)
    images, pare, _ = fake_pare(tmp_path, model, n=2, size=(80, 64))
    upright = np.array(Image.open(images / "im1.png"))
    upright[:20, :30] = 255  # a corner marker
    Image.fromarray(upright).save(images / "im1.png")
    args = ["dataset", "pare", str(images), str(pare), "--resolution", "32", "--body-model", "procedural"]
    assert run_cli(args + ["--out", str(tmp_path / "a.zip")], capsys)[0] == 0
    exif = Image.Exif()
    exif[0x0112] = 8  # stored rotated 90 degrees clockwise; displayed after turning it back
    Image.fromarray(np.rot90(upright, -1).copy()).save(images / "im1.png", exif=exif)
    assert run_cli(args + ["--out", str(tmp_path / "b.zip")], capsys)[0] == 0
    a, b = ImageDataset(tmp_path / "a.zip", use_poses=True), ImageDataset(tmp_path / "b.zip", use_poses=True)
    np.testing.assert_array_equal(a.get_label(1), b.get_label(1))
    assert torch.equal(a[1][0], b[1][0])
