"""`op3d dataset` commands through the real entry point: outputs, and one-line errors with exit code 1."""
import csv

import pytest
from PIL import Image

from helpers import run_cli
from op3d.data.dataset import ImageDataset


def test_synthetic_and_check(tmp_path, capsys):
    out = tmp_path / "syn.zip"
    code, stdout, _ = run_cli(["dataset", "synthetic", "--out", str(out), "--count", "5", "--resolution", "16"], capsys)
    assert code == 0 and out.is_file()
    code, stdout, _ = run_cli(["dataset", "check", str(out)], capsys)
    assert code == 0 and "5 images, 16x16" in stdout


def test_pack_from_yaw_pitch_csv(tmp_path, capsys):
    src = tmp_path / "photos"
    src.mkdir()
    for i in range(3):
        Image.new("RGB", (40, 30), (i * 50, 0, 0)).save(src / f"p{i}.jpg")
    cams = tmp_path / "cams.csv"
    with open(cams, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "yaw", "pitch", "radius", "fov"])
        for i in range(3):
            w.writerow([f"p{i}.jpg", 10 * i, -5, 2.7, 18.837])
    out = tmp_path / "packed.zip"
    args = ["dataset", "pack", str(src), str(cams), "--out", str(out), "--resolution", "16"]
    code, stdout, err = run_cli(args, capsys)
    assert code == 0, err
    ds = ImageDataset(out)
    assert len(ds) == 3 and ds.resolution == 16
    assert abs(ds.labels[0, 16] - 4.263) < 1e-3  # fov 18.837 deg -> focal 4.263
    assert abs(ds.labels[0, 3]) < 1e-5 and ds.labels[2, 3] > 0.5  # yaw 0 frontal, yaw 20 deg towards +x


@pytest.mark.parametrize("problem,message", [("missing_camera", "no camera for 1 image"),
                                             ("bad_number", "bad number"),
                                             ("no_header", "needs a header")])
def test_pack_errors(tmp_path, capsys, problem, message):
    src = tmp_path / "photos"
    src.mkdir()
    for i in range(2):
        Image.new("RGB", (8, 8)).save(src / f"p{i}.png")
    cams = tmp_path / "cams.csv"
    rows = [["name", "yaw", "pitch"], ["p0.png", "0", "0"], ["p1.png", "5", "0"]]
    if problem == "missing_camera":
        rows.pop()
    if problem == "bad_number":
        rows[2][1] = "left"
    if problem == "no_header":
        rows.pop(0)
    with open(cams, "w", newline="") as f:
        csv.writer(f).writerows(rows)
    out = tmp_path / "packed.zip"
    code, _, err = run_cli(["dataset", "pack", str(src), str(cams), "--out", str(out), "--resolution", "8"], capsys)
    assert code == 1 and message in err and err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()


def test_check_bad_dataset_exits_nonzero(tmp_path, capsys):
    bad = tmp_path / "empty"
    bad.mkdir()
    code, _, err = run_cli(["dataset", "check", str(bad)], capsys)
    assert code == 1 and "no images found" in err


def test_check_decodes_every_image(tmp_path, capsys):
    """A PNG cut in half passes a header check; `op3d dataset check` decodes and names it in one line."""
    from test_dataset import good_files, truncated_png, write_zip

    files = good_files(6)
    files["img4.png"] = truncated_png()
    path = write_zip(tmp_path / "d.zip", files)
    code, out, err = run_cli(["dataset", "check", str(path)], capsys)
    assert code == 1 and err.startswith("Error: ") and err.count("\n") == 1
    assert "img4.png: unreadable image" in err
