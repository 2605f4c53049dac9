"""The command lines of OP3D's and EG3D's READMEs, run through the scripts with the original names (#16). Only
sizes are made tiny (seeds, frames, shape resolution, batch, kimg, a tiny network); flags, spellings and value
syntax are the READMEs'. Flags for features op3d lacks are refused in one line saying why."""
import json
import runpy
import sys
from pathlib import Path

import pytest
from test_legacy_import import make_snapshot

ROOT = Path(__file__).resolve().parents[1]


def run_script(script: str, args: list[str], capsys) -> tuple[int, str, str]:
    """Run ROOT/script as `python script args...` in this process: (exit code, stdout, stderr)."""
    argv = sys.argv
    sys.argv = [str(ROOT / script), *args]
    try:
        runpy.run_path(str(ROOT / script), run_name="__main__")
        code = 0
    except SystemExit as e:
        code = e.code or 0
    finally:
        sys.argv = argv
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    path, _, _ = make_snapshot(tmp_path_factory.mktemp("net"), "TriMultiPlaneGenerator", per_dir_plane_number=4,
                               fourier_L=6)
    return str(path)


def test_gen_samples_readme_lines(network, tmp_path, capsys):
    # OP3D: --outdir=out --trunc=0.5 --shapes=true --seeds=0-3 --network=/path/to/*pkl   (EG3D: --trunc=0.7)
    out = tmp_path / "out"
    code, _, err = run_script("gen_samples/gen_samples.py", [
        f"--outdir={out}", "--trunc=0.5", "--shapes=true", "--seeds=0-1", f"--network={network}",
        "--shape-res=16"], capsys)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["seed0000.mrc", "seed0000.png", "seed0001.mrc", "seed0001.png"]
    code, _, err = run_script("gen_samples/gen_samples.py", [
        f"--outdir={out}", "--shapes=true", "--shape-format=.ply", "--seeds=2", f"--network={network}",
        "--shape-res=16", "--reload_modules=true", "--mesh-level=0"], capsys)  # a random network's densities are small
    assert code == 0, err
    assert (out / "seed0002.ply").is_file() and "--reload_modules has no meaning here" in err
    code, _, err = run_script("gen_samples/gen_samples.py", [f"--outdir={out}", "--seeds=0", f"--network={network}",
                                                             "--class=3"], capsys)
    assert code == 2 and err.count("\n") == 1 and "--class=3: class-conditional generation" in err


def test_gen_videos_readme_lines(network, tmp_path, capsys):
    # EG3D: --outdir=out --trunc=0.7 --seeds=0-3 --grid=2x2 --network=... (and --grid=1x1)
    for grid in ("2x2", "1x1"):
        out = tmp_path / grid
        code, _, err = run_script("gen_samples/gen_videos.py", [
            f"--outdir={out}", "--trunc=0.7", "--seeds=0-3", f"--grid={grid}", f"--network={network}",
            "--w-frames=2", "--sample_mult=1", "--nrr=16"], capsys)
        assert code == 0, err
        assert (out / "interpolation.mp4").stat().st_size > 0
    out = tmp_path / "per_seed"
    code, _, err = run_script("gen_samples/gen_videos.py", [
        f"--outdir={out}", "--seeds=0-1", f"--network={network}", "--w-frames=2", "--image_mode=image_depth",
        "--interpolate=false", "--sample_mult=1", "--nrr=16"], capsys)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["0.mp4", "1.mp4"]
    code, _, err = run_script("gen_samples/gen_videos.py", [f"--outdir={out}", "--seeds=0", f"--network={network}",
                                                            "--shapes=true"], capsys)
    assert code == 2 and "per-frame shapes" in err and err.count("\n") == 1
    # as the original: seeds that do not fill whole grids need --num-keyframes (which cycles them); bad values
    # are one line, before any rendering
    for flags, message in ((["--seeds=0-1", "--grid=2x2"], "2 seeds do not fill whole 2x2 grids"),
                           (["--seeds=0", "--num-keyframes=0"], "--num-keyframes=0: expected a whole number"),
                           (["--seeds=0", "--grid=2by2"], "--grid: cannot read '2by2'"),
                           (["--seeds=x"], "--seeds: cannot read 'x'")):
        code, _, err = run_script("gen_samples/gen_videos.py", [f"--outdir={out}", f"--network={network}", *flags],
                                  capsys)
        assert code in (1, 2) and message in err and err.count("\n") == 1, err


def test_calc_metrics_readme_lines(network, tmp_path, capsys):
    from op3d.data.synthetic import make_synthetic_dataset

    data = make_synthetic_dataset(tmp_path / "d.zip", 4, 128, seed=0, progress=False)
    # EG3D/OP3D: --metrics=fid50k_full --data=... --network=... (--gpus=4): FID needs the Inception file
    code, _, err = run_script("test_scripts/calc_metrics.py", [
        f"--network={network}", "--gpus=4", "--metrics=fid50k_full", f"--data={data}"], capsys)
    assert code == 1 and "inception" in err.lower() and err.strip().count("\n") <= 1
    code, out, err = run_script("test_scripts/calc_metrics.py", [
        f"--network={network}", "--metrics=swd", f"--data={data}", "--num=4"], capsys)
    assert code == 0, err
    assert "swd" in out
    code, _, err = run_script("test_scripts/calc_metrics.py", [f"--network={network}", "--gpus=abc"], capsys)
    assert code == 2 and err == "Error: --gpus=abc: expected a whole number >= 1\n"


def test_train_readme_lines(tmp_path, capsys):
    from op3d.data.synthetic import make_synthetic_dataset

    data = make_synthetic_dataset(tmp_path / "d.zip", 8, 32, seed=0, progress=False)
    # EG3D: --outdir=... --cfg=ffhq --data=... --gpus=8 --batch=32 --gamma=1 --gen_pose_cond=True
    # OP3D: ... --plane_number=8 --fourier_L=10 --metrics=none
    args = [f"--outdir={tmp_path / 'runs'}", "--cfg=ffhq", f"--data={data}", "--gpus=1", "--batch=4", "--gamma=1",
            "--gen_pose_cond=True", "--plane_number=2", "--fourier_L=2", "--metrics=none", "--size=tiny",
            "--kimg=0.004", "--snap=1", "--neural_rendering_resolution_initial=16"]
    code, _, err = run_script("train_scripts/train_unconditional.py", args, capsys)
    assert code == 0, err
    # EG3D's AFHQ line fine-tunes with ADA, which op3d does not have: refused, saying so
    code, _, err = run_script("train_scripts/train_unconditional.py", args + ["--aug=ada", "--gpc_reg_prob=0.8"],
                              capsys)
    assert code == 2 and "--aug=ada: op3d has no adaptive" in err and err.count("\n") == 1
    # EG3D's capacity and noise flags map to op3d's options (test_train_cli checks that they reach the networks)
    code, out, err = run_script("train_scripts/train_unconditional.py", args + [
        "--cbase=512", "--cmax=16", "--decoder_lr_mul=2", "--sr_noise_mode=random", "--dry-run"], capsys)
    assert code == 0, err
    resolved = json.loads(out)
    assert (resolved["cbase"], resolved["cmax"], resolved["decoder_lr_mul"], resolved["sr_noise_mode"]) == (
        512, 16, 2.0, "random")


def test_export_scripts_say_what_to_run(tmp_path, capsys):
    code, _, err = run_script("train_scripts/export_pose.py", ["--smpl_folder", "./pose_pare", "--output_folder",
                                                               "./out", "--n_poses", "40000"], capsys)
    assert code == 2 and "op3d keeps each pose with its image" in err and err.count("\n") == 1
    code, _, err = run_script("train_scripts/export_data.py", ["--image_folder", "./raw", "--smpl_folder",
                                                               "./pose_pare", "--output_folder", "./out",
                                                               "--n_images", "40000"], capsys)
    assert code == 2 and "--n_images=40000" in err


def test_calc_metrics_finds_the_dataset_of_a_training_run(tmp_path, capsys):
    """EG3D's `calc_metrics.py --metrics=fid50k_full --network=RUN/network-snapshot-...` looks the dataset up."""
    from train_config import tiny_train_config

    from op3d.data.synthetic import make_synthetic_dataset
    from op3d.training.loop import training_loop

    data = make_synthetic_dataset(tmp_path / "d.zip", 8, 32, seed=0, progress=False)
    run = training_loop(tiny_train_config(data, tmp_path), max_steps=1, log=False)["run_dir"]
    snapshot = next(run.glob("network-snapshot-*"))
    code, out, err = run_script("test_scripts/calc_metrics.py", ["--metrics=swd", f"--network={snapshot}",
                                                                 "--num=4"], capsys)
    assert code == 0, err
    assert f"dataset from {run / 'training_options.json'}" in err and "swd" in out
