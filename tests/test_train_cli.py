"""`op3d train` through the real entry point: dry run, and one-line errors with a non-zero exit."""
import json

import pytest

from helpers import run_cli


def test_dry_run_resolves_original_flags(tmp_path, capsys):
    code, out, err = run_cli(["train", "--outdir", str(tmp_path), "--plane_number", "12", "--fourier_L", "6",
                          "--gen_pose_cond", "true", "--gpc_reg_prob", "0.7", "--batch", "8", "--dry-run"], capsys)
    assert code == 0, err
    cfg = json.loads(out)
    assert cfg["plane_number"] == 12 and cfg["fourier_L"] == 6 and cfg["batch"] == 8 and cfg["cfg"] == "synthetic"
    assert cfg["gen_pose_cond"] and cfg["loss"]["gpc_reg_prob"] == 0.7
    assert cfg["loss"]["blur_fade_kimg"] == pytest.approx(8 * 200 / 32)  # scaled by batch / 32 as the original
    assert not list(tmp_path.iterdir())  # a dry run writes nothing


@pytest.mark.parametrize("args,G_reg_interval,data_name", [
    ([], 4, "synthetic-1000-64-seed0.zip"),
    (["--density_reg", "0", "--seed", "3"], None, "synthetic-1000-64-seed3.zip"),
])
def test_density_reg_phases_and_the_built_in_dataset_per_seed(tmp_path, capsys, args, G_reg_interval, data_name):
    """--density_reg 0 trains G in one phase (Gboth, as EG3D with no G regularizer); the built-in dataset is
    generated per --seed (its file name carries the seed, so another seed never reuses it)."""
    code, out, err = run_cli(["train", "--outdir", str(tmp_path), "--dry-run", *args], capsys)
    assert code == 0, err
    cfg = json.loads(out)
    assert cfg["G_reg_interval"] == G_reg_interval and cfg["data"].endswith(data_name)


@pytest.mark.parametrize("value,want", [(None, 0.1), ("none", None), ("0.25", 0.25)])
def test_body_margin_reaches_the_conditional_generator(tmp_path, capsys, value, want):
    from op3d.training.loop import TrainConfig, build_networks

    extra = [] if value is None else ["--body-margin", value]
    code, out, err = run_cli(["train", "--outdir", str(tmp_path), "--conditional", "--dry-run", *extra], capsys)
    assert code == 0, err
    cfg = json.loads(out)
    assert cfg["body_box_margin"] == want
    G, _ = build_networks(TrainConfig(outdir=str(tmp_path), data="x", cfg="body", size="tiny", conditional=True,
                                      body_box_margin=cfg["body_box_margin"]), 64)
    assert G.rendering_kwargs["body_box_margin"] == want


@pytest.mark.parametrize("args,message", [
    (["--body-margin", "-1"], "--body-margin"),
    (["--body-margin", "nan"], "--body-margin"),
    (["--gpus", "2"], "launch with: torchrun"),
    (["--batch", "4", "--batch-gpu", "3"], "--batch-gpu (3) must divide"),
    (["--metrics", "fid50k_full"], "Inception detector"),
    (["--metrics", "bogus"], "unknown metric"),
])
def test_bad_options(tmp_path, capsys, args, message):
    code, _, err = run_cli(["train", "--outdir", str(tmp_path), "--dry-run", *args], capsys)
    assert code != 0 and message in err and "Traceback" not in err


def test_bad_dataset_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    code, _, err = run_cli(["train", "--outdir", str(tmp_path / "runs"), "--data", str(bad), "--kimg", "0.004"], capsys)
    assert code == 1 and "corrupt or unreadable zip" in err and err.count("\n") == 1
