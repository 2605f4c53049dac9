"""Training end to end on CPU: steps run, resume is exact, interrupted snapshots are harmless, and two
gloo processes match one process with the same total batch."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from train_config import tiny_train_config

import op3d
from op3d.data.synthetic import make_synthetic_dataset
from op3d.training import snapshots
from op3d.training.loop import training_loop

TESTS = Path(__file__).parent


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return make_synthetic_dataset(tmp_path_factory.mktemp("data") / "syn.zip", 8, 32, seed=0, progress=False)


def assert_reals_grid(path, data, n):
    """reals.png shows the first n dataset images as they are, 8 per row."""
    from op3d.data.dataset import ImageDataset

    reals, dataset = np.asarray(Image.open(path)), ImageDataset(data)
    assert reals.shape == ((n + 7) // 8 * 32, min(n, 8) * 32, 3)
    for i in (0, n - 1):
        tile = reals[32 * (i // 8):32 * (i // 8 + 1), 32 * (i % 8):32 * (i % 8 + 1)]
        assert np.array_equal(tile, dataset.load_image(i)), i


def read_stats(run_dir):
    return [json.loads(line) for line in (Path(run_dir) / "stats.jsonl").read_text().splitlines()]


def test_steps_run_and_write_outputs(data, tmp_path, monkeypatch):
    from op3d.training import loop

    evaluated = []  # (metric, network, arguments) per snapshot: G_ema's metrics (a stand-in metric, for time)
    monkeypatch.setattr(loop, "compute_metric", lambda metric, G, *a, **k: evaluated.append((metric, G, a)) or
                        {"metric": metric, "results": {"value": float(len(evaluated))}})
    # the networks the fakes grids show, and whether any weight of them required gradients then (G_ema is only
    # ever evaluated and moved by the EMA: it never builds graphs)
    drawn, trainable, save_fakes = [], [], loop.save_fakes
    monkeypatch.setattr(loop, "save_fakes", lambda G, *a, **k: drawn.append(G) or
                        trainable.append(any(p.requires_grad for p in G.parameters())) or save_fakes(G, *a, **k))
    # --kimg 0.012 is exactly 3 batches of 4: training stops there, not a batch later
    result = training_loop(tiny_train_config(data, tmp_path, snap=2, kimg=0.012, metrics=["reproj"], metrics_num=2,
                                             desc="mine"), log=False)
    run = result["run_dir"]
    assert run.name == "00000-mine"
    # G_ema is its own network, moved by the EMA: not G itself
    assert result["G_ema"] is not result["G"] and len(drawn) == 3 and all(G is result["G_ema"] for G in drawn)
    assert trainable == [False] * 3
    assert not torch.equal(result["G_ema"].state_dict()["decoder.net.0.weight"],
                           result["G"].state_dict()["decoder.net.0.weight"])
    # the optimizers run at --glr / --dlr, each rescaled by its lazy-regularization interval (G none, D 2: 2/3)
    state = snapshots.read_snapshot(run / "network-snapshot-000000012img")[3]
    (g,), (d,) = state["opt_G"]["param_groups"], state["opt_D"]["param_groups"]
    assert (g["lr"], *g["betas"]) == pytest.approx((0.0025, 0.0, 0.99))
    assert (d["lr"], *d["betas"]) == pytest.approx((0.002 * 2 / 3, 0.0, 0.99 ** (2 / 3)))
    # one tick per step (--tick 0.004 kimg, batch 4): snapshots and fakes every 2nd tick and at the end
    assert sorted(p.name for p in run.glob("network-snapshot-*")) == ["network-snapshot-000000008img",
                                                                     "network-snapshot-000000012img"]
    assert sorted(p.name for p in run.glob("fakes0*.png")) == ["fakes000000008img.png", "fakes000000012img.png"]
    stats = read_stats(run)
    assert len(stats) == 3 and stats[-1]["Progress/kimg"] == pytest.approx(0.012)
    assert [s["kimg"] for s in stats] == pytest.approx([0.004, 0.008, 0.012])  # each line says where it was
    assert [s["timestamp"] for s in stats] == sorted(s["timestamp"] for s in stats)
    assert all(torch.isfinite(torch.tensor(s["Loss/G/loss"])) for s in stats)
    assert "Loss/r1_penalty" in stats[0]  # D_reg_interval 2: R1 at steps 0 and 2
    for name in ("reals.png", "fakes_init.png", "fakes000000012img.png", "training_options.json"):
        assert (run / name).is_file(), name
    G_ema = op3d.load(run / "network-snapshot-000000012img")
    assert G_ema.img_resolution == 32
    assert [(m, G is result["G_ema"]) for m, G, _ in evaluated] == [("reproj", True)] * 2
    # --metrics_num fakes, the run's seed, no detector files, and one real-feature cache for every run in --outdir
    assert [a[1:] for _, _, a in evaluated] == [(2, 5, torch.device("cpu"), None, tmp_path / "metric-cache", None)] * 2
    # the pointer a resume follows names the last snapshot
    assert (run / "latest-snapshot.txt").read_text().strip() == "network-snapshot-000000012img"
    assert_reals_grid(run / "reals.png", data, 8)
    records = [json.loads(line) for line in (run / "metric-reproj.jsonl").read_text().splitlines()]
    assert [(r["snapshot"], r["kimg"], r["results"]["value"]) for r in records] == [
        ("network-snapshot-000000008img", 0.008, 1.0), ("network-snapshot-000000012img", 0.012, 2.0)]
    torch.testing.assert_close(G_ema.state_dict()["decoder.net.0.weight"],
                               result["G_ema"].state_dict()["decoder.net.0.weight"])


def test_batch_gpu_splits_every_phase_of_a_batch_into_rounds(data, tmp_path, monkeypatch):
    """--batch 4 --batch-gpu 2: each phase accumulates two rounds of 2 reals and 2 latents (EG3D's gradient
    accumulation), so a batch still sees 4 real images."""
    from op3d.training.loss import GANLoss

    seen, cameras = [], []
    monkeypatch.setattr(GANLoss, "accumulate_gradients", lambda self, phase, real_img, real_c, z, gen_c, *a, **k:
                        seen.append((phase, len(real_img), len(real_c), len(z))) or cameras.append((real_c, gen_c))
                        or {})
    result = training_loop(tiny_train_config(data, tmp_path, batch_gpu=2), max_steps=1, log=False)
    assert seen == [(phase, 2, 2, 2) for phase in ("Gboth", "Dmain", "Dreg") for _ in range(2)]
    assert result["cur_nimg"] == 4  # one step is the whole batch, however many rounds it took
    # each generated sample takes the camera of a dataset image drawn for it, not the camera of a real of the round
    from op3d.data.dataset import ImageDataset

    dataset = ImageDataset(data)
    labels = torch.stack([torch.as_tensor(dataset.get_label(i)) for i in range(len(dataset))])
    assert all((gen_c[:, None] == labels).all(-1).any(1).all() for _, gen_c in cameras)
    assert not all(torch.equal(real_c, gen_c) for real_c, gen_c in cameras)


@pytest.mark.parametrize("deterministic", [True, False])
def test_deterministic_training_renders_with_fixed_jitter(data, tmp_path, monkeypatch, deterministic):
    """--deterministic (the tests' runs): every render of the training phases uses fixed jitter and linspace
    importance samples; otherwise they are random. The fakes grids render deterministically either way."""
    from op3d.networks import generator

    flags, render = [], generator.render
    monkeypatch.setattr(generator, "render", lambda *a, deterministic, **k: flags.append(deterministic) or
                        render(*a, deterministic=deterministic, **k))
    modes, synthesis = [], generator.Generator.synthesis  # the noise mode G's layers get in the training phases
    monkeypatch.setattr(generator.Generator, "synthesis", lambda self, *a, **k: modes.append(k.get("noise_mode")) or
                        synthesis(self, *a, **k))
    monkeypatch.setattr("op3d.training.loop.save_fakes", lambda *a, **k: None)
    training_loop(tiny_train_config(data, tmp_path, deterministic=deterministic), max_steps=1, log=False)
    assert len(flags) >= 2 and set(flags) == {deterministic}
    assert modes and set(modes) == {"const" if deterministic else "random"}


def test_snapshot_names_follow_eg3d():
    """EG3D's network-snapshot-000004 (six-digit kimg) at whole kimg; otherwise the image count, nine digits and
    'img', so snapshots at non-whole kimg never share a name."""
    assert [snapshots.snapshot_stamp(n) for n in (0, 4000, 1_234_000, 4096, 12)] == [
        "000000", "000004", "001234", "000004096img", "000000012img"]


def test_resume_continues_as_if_never_stopped(data, tmp_path):
    """4 steps in one run == 2 steps, snapshot, resume, 2 steps: the same statistics, G, G_ema and D. Two steps
    per tick (--tick 0.008), so the saved batch and tick counters differ (2 and 1) and the resumed run must keep
    each in its place, and the reals must continue where the snapshot stopped. A short EMA half-life without
    ramp-up keeps G_ema well apart from G, so the two cannot stand in for each other."""
    config = lambda out, **kw: tiny_train_config(data, tmp_path / out, tick=0.008, ema_kimg=0.01, ema_rampup=None,
                                                 **kw)
    full = training_loop(config("a"), max_steps=4)
    half = training_loop(config("b"), max_steps=2)
    rest = training_loop(config("c", resume=str(half["run_dir"])), max_steps=2)
    # a snapshot directory itself resumes as its run directory does
    snap = training_loop(config("d", resume=str(half["run_dir"] / "network-snapshot-000000008img")), max_steps=1)
    assert snap["cur_nimg"] == 12
    # the resumed run's directory gets the fakes of its snapshots, not reals.png or a fakes_init.png of the
    # resumed networks (those are in the run it continues)
    assert sorted(p.name for p in rest["run_dir"].glob("*.png")) == ["fakes000000016img.png"]
    a, c = read_stats(full["run_dir"]), read_stats(rest["run_dir"])
    assert [s["Progress/kimg"] for s in a] == [0.008, 0.016] and [s["Progress/kimg"] for s in c] == [0.016]
    for key in ("Loss/G/loss", "Loss/D/loss_real", "Loss/D/loss_fake", "Loss/r1_penalty"):
        assert c[0][key] == pytest.approx(a[1][key], rel=1e-5, abs=1e-6), key
    gap = (full["G"].state_dict()["decoder.net.0.weight"] - full["G_ema"].state_dict()["decoder.net.0.weight"]).abs()
    assert float(gap.max()) > 1e-4
    for name in ("G", "G_ema", "D"):
        for k, v in full[name].state_dict().items():
            torch.testing.assert_close(rest[name].state_dict()[k], v, rtol=1e-5, atol=1e-6, msg=f"{name}.{k}")


def test_resume_records_the_snapshots_architecture_not_conflicting_options(data, tmp_path, capsys, monkeypatch):
    """Resuming trains the snapshot's networks: options asking for another representation / plane number / L are
    named in a note, and training_options.json and the run name record what is really trained. (log=False: no
    progress bar is even asked for.)"""
    from op3d.training import loop

    asked = []
    bar = loop._progress_bar
    monkeypatch.setattr(loop, "_progress_bar", lambda cfg, nimg, enabled: asked.append(enabled) or bar(cfg, nimg,
                                                                                                       enabled))
    first = training_loop(tiny_train_config(data, tmp_path / "a"), max_steps=1, log=False)
    capsys.readouterr()
    rest = training_loop(tiny_train_config(data, tmp_path / "b", resume=str(first["run_dir"]),
                                           representation="triplane", fourier_L=6, plane_number=4), max_steps=1,
                                           log=False)
    err = capsys.readouterr().err
    assert "representation orthoplanes (not triplane)" in err and "fourier_L 2 (not 6)" in err
    assert "plane_number 3 (not 4)" in err
    options = json.loads((rest["run_dir"] / "training_options.json").read_text())
    assert (options["representation"], options["plane_number"], options["fourier_L"]) == ("orthoplanes", 3, 2)
    assert "orthoplanes" in rest["run_dir"].name and rest["G"].init_kwargs["representation"] == "orthoplanes"
    assert asked == [False, False]
    # a target the snapshot has already reached or passed: nothing to train, no new run directory
    for kimg in (0.004, 0.008):
        with pytest.raises(ValueError, match=rf"the snapshot is at kimg 0.008, so --kimg {kimg} is already reached"):
            training_loop(tiny_train_config(data, tmp_path / "c", resume=str(rest["run_dir"]), kimg=kimg))
        assert not (tmp_path / "c").exists()


def test_interrupted_snapshot_leaves_previous_loadable(data, tmp_path, monkeypatch):
    first = training_loop(tiny_train_config(data, tmp_path), max_steps=1)
    run = first["run_dir"]
    previous = snapshots.latest_snapshot(run)
    original_save = torch.save

    def crash(obj, f, *a, **k):
        raise KeyboardInterrupt("killed while writing the snapshot")

    monkeypatch.setattr(snapshots.torch, "save", crash)
    G, D, G_ema, _ = snapshots.read_snapshot(previous)
    with pytest.raises(KeyboardInterrupt):
        snapshots.write_snapshot(run, "network-snapshot-999999", G, D, G_ema, {"x": 1})
    monkeypatch.setattr(snapshots.torch, "save", original_save)
    assert snapshots.latest_snapshot(run) == previous
    assert not (run / "network-snapshot-999999").exists()
    assert not [p for p in run.iterdir() if p.name.startswith(".")]  # no temporary leftovers
    op3d.load(previous)
    snapshots.read_snapshot(previous)


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed unavailable")
def test_two_gloo_processes_match_one(data, tmp_path):
    one_tick = {"tick": 1.0}  # one snapshot, at the end
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
               OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517",
           str(TESTS / "train_worker.py"), str(data), str(tmp_path / "multi"), "2", json.dumps(one_tick)]
    multi = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    single = training_loop(tiny_train_config(data, tmp_path / "single", **one_tick), max_steps=2)  # meanwhile
    log = multi.communicate(timeout=600)[0].decode(errors="replace")
    assert multi.returncode == 0, log[-2000:]
    r0 = torch.load(tmp_path / "multi" / "G_rank0.pt")
    r1 = torch.load(tmp_path / "multi" / "G_rank1.pt")
    for k in r0:
        assert torch.equal(r0[k], r1[k]), k  # ranks stay in lockstep
        torch.testing.assert_close(r0[k], single["G"].state_dict()[k], rtol=1e-4, atol=1e-5)


def test_metrics_during_training_are_appended(data, tmp_path):
    cfg = tiny_train_config(data, tmp_path, metrics=["swd", "reproj"], metrics_num=4)
    run = training_loop(cfg, max_steps=1)["run_dir"]
    for name in ("swd", "reproj"):
        records = [json.loads(line) for line in (run / f"metric-{name}.jsonl").read_text().splitlines()]
        assert len(records) == 1 and records[0]["snapshot"].startswith("network-snapshot-")
    with pytest.raises(ValueError, match="needs the Inception detector"):
        tiny_train_config(data, tmp_path, metrics=["fid50k_full"]).validate(1)


def test_cameras_outside_the_presets_ray_range_are_refused(tmp_path, capsys):
    """Cameras at radius 4 with the 'synthetic' preset's fixed 2.25-3.3 ray range would put the object outside
    every sampled ray segment; training says so before the first step, and dataset check lists presets that fit."""
    from helpers import run_cli
    from test_dataset import good_files, write_zip

    from op3d.data.cameras import sample_cameras

    files = good_files(8, size=32)
    far = sample_cameras(8, torch.Generator().manual_seed(1), radius=4.0).tolist()
    files["dataset.json"] = {"labels": [[f"img{i}.png", far[i]] for i in range(8)]}
    path = write_zip(tmp_path / "far.zip", files)
    with pytest.raises(ValueError, match=r"cameras are 4-4 from the origin but rays are sampled from 2.25 to 3.3"):
        training_loop(tiny_train_config(path, tmp_path), max_steps=1, log=False)
    code, out, _ = run_cli(["dataset", "check", str(path)], capsys)
    assert code == 0 and out.rstrip().endswith("ray ranges that contain the cameras: --cfg shhq / body")


def test_killed_snapshot_leftovers_are_removed_and_snapshots_have_ordinary_permissions(data, tmp_path):
    """A process killed with -9 mid-write leaves a hidden temporary directory (no finally runs); the next snapshot
    write or a resume from that run directory removes it. Snapshot directories follow the umask like other
    outputs (mkdtemp made them 0700)."""
    first = training_loop(tiny_train_config(data, tmp_path), max_steps=1, log=False)
    run = first["run_dir"]
    snap = snapshots.latest_snapshot(run)
    umask = os.umask(0)
    os.umask(umask)
    assert (snap.stat().st_mode & 0o777) == 0o777 & ~umask
    leftover = run / ".network-snapshot-000008.abc123"
    (leftover / "G").mkdir(parents=True)
    (leftover / "G" / "model.safetensors").write_bytes(b"partial")
    training_loop(tiny_train_config(data, tmp_path, resume=str(run)), max_steps=1, log=False)
    assert not leftover.exists()


def test_os_errors_reach_the_cli_as_one_line(tmp_path, capsys):
    from helpers import run_cli

    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    code, _, err = run_cli(["dataset", "synthetic", "--out", str(blocked / "x.zip"), "--count", "2",
                            "--resolution", "8"], capsys)
    last = err.replace("\r", "\n").strip().splitlines()[-1]
    assert code == 1 and last.startswith(f"Error: {blocked}") and "Traceback" not in err
    assert err.endswith(f"{last}\n") and "\n" not in last  # the interrupted progress bar does not share its line


def test_resume_uses_this_runs_learning_rates(data, tmp_path):
    first = training_loop(tiny_train_config(data, tmp_path / "a", glr=0.0025), max_steps=1, log=False)
    rest = training_loop(tiny_train_config(data, tmp_path / "b", resume=str(first["run_dir"]), glr=0.001),
                         max_steps=1, log=False)
    state = snapshots.read_snapshot(snapshots.latest_snapshot(rest["run_dir"]))[3]
    assert {g["lr"] for g in state["opt_G"]["param_groups"]} == {0.001}  # G_reg_interval None: no rescaling
    saved = json.loads((rest["run_dir"] / "training_options.json").read_text())
    assert saved["glr"] == 0.001


def test_fine_tuning_from_an_original_pickle_starts_from_its_weights(data, tmp_path, monkeypatch):
    """--resume of a released snapshot .pkl (no training state): G, D and G_ema start from the pickle's exact
    weights (the first step's images before any update equal the pickle's own G_ema), optimizers and counters
    start fresh, blur and EMA ramp-up are off as EG3D fine-tunes."""
    from legacy_pickles import dumps, records_from_module

    from op3d.training import loop

    trained = training_loop(tiny_train_config(data, tmp_path / "a"), max_steps=2, log=False)
    src = "raise SystemExit('never executed')\n"
    records = {}
    for name in ("G", "D", "G_ema"):
        module = trained[name]
        kwargs = dict(module.init_kwargs)
        if name != "D":
            cls = "TriMultiPlaneGenerator"
            kwargs.pop("representation")
            records[name] = records_from_module(module, src, init_kwargs=kwargs, class_name=cls,
                                                rendering_kwargs=kwargs["rendering_kwargs"])
        else:
            records[name] = records_from_module(module, src, init_kwargs=kwargs, class_name="DualDiscriminator")
    pkl = tmp_path / "network-snapshot-000008.pkl"
    pkl.write_bytes(dumps(records))
    seen = {}
    real_start = loop._fine_tune_start

    def spy(cfg, source, resolution):
        G, D, G_ema, cfg = real_start(cfg, source, resolution)
        seen.update(G={k: v.clone() for k, v in G.state_dict().items()}, D={k: v.clone() for k, v in
                                                                            D.state_dict().items()}, cfg=cfg)
        return G, D, G_ema, cfg
    monkeypatch.setattr(loop, "_fine_tune_start", spy)
    tuned = training_loop(tiny_train_config(data, tmp_path / "b", resume=str(pkl)), max_steps=1, log=False)
    for name in ("G", "D"):
        ref = trained[name].state_dict()
        assert all(torch.equal(seen[name][k], ref[k]) for k in ref), name
    assert seen["cfg"].ema_rampup is None and seen["cfg"].loss.blur_init_sigma == 0
    stats = read_stats(tuned["run_dir"])
    assert stats[0]["Progress/kimg"] == pytest.approx(0.004)  # counters start at 0
    assert not torch.equal(tuned["G"].state_dict()["decoder.net.0.weight"], trained["G"].state_dict()[
        "decoder.net.0.weight"])  # and it trains


def test_a_run_directory_loads_as_its_latest_snapshot(data, tmp_path):
    run = training_loop(tiny_train_config(data, tmp_path), max_steps=2, log=False)["run_dir"]
    latest = snapshots.latest_snapshot(run)
    for which in ("G_ema", "G", "D"):
        a, b = op3d.load(run, which), op3d.load(latest, which)
        assert all(torch.equal(a.state_dict()[k], v) for k, v in b.state_dict().items()), which
    (tmp_path / "fresh").mkdir()
    (tmp_path / "fresh" / "training_options.json").write_text("{}")
    with pytest.raises(ValueError, match="a training run without a complete snapshot yet"):
        op3d.load(tmp_path / "fresh")
    # a file of a snapshot (as a user may pick it) names the directory to pass instead of failing to unpickle it
    for part in ("config.json", "model.safetensors", "training-state.pt", "G/config.json"):
        with pytest.raises(ValueError, match=rf"{latest / part}: a file of the checkpoint directory "
                                             rf"{(latest / part).parent}; pass the directory"):
            op3d.load(latest / part)


def test_a_bad_image_stops_training_without_leaving_worker_processes(tmp_path):
    """A bad image met by a DataLoader worker raises DatasetError naming it; the worker processes are gone at
    once, although the caller still holds the exception (whose traceback references the loader). The image grid
    of the run reads images 0-15 first, so the bad one is image 16."""
    import multiprocessing

    from test_dataset import good_files, truncated_png, write_zip

    from op3d.data.dataset import DatasetError

    files = good_files(17, size=32)
    files["img16.png"] = truncated_png()
    bad = write_zip(tmp_path / "bad.zip", files)
    before = set(multiprocessing.active_children())
    with pytest.raises(DatasetError, match="img16.png: unreadable image") as info:
        training_loop(tiny_train_config(bad, tmp_path / "runs", workers=2, kimg=0.2), log=False)
    assert info.value.__traceback__ is not None
    assert set(multiprocessing.active_children()) <= before


def test_a_diverged_run_stops_at_the_tick_and_keeps_its_good_snapshots(data, tmp_path, monkeypatch):
    """Weights that became NaN stop training at the next tick with one line naming the last good snapshot; no
    snapshot of the diverged weights is written (tick 0.004 kimg = every step, snap 1 = a snapshot every tick)."""
    from op3d.training import loop

    step_phase, steps = loop._step_phase, []

    def poisoned(module, opt, world_size):
        step_phase(module, opt, world_size)
        steps.append(module)
        if module is not steps[0] and steps.count(steps[0]) == 2:  # D's phases of the second step (G's is first)
            next(module.parameters()).data.fill_(float("nan"))

    monkeypatch.setattr(loop, "_step_phase", poisoned)
    with pytest.raises(ValueError, match=r"training diverged by kimg 0\.008: D weights are NaN/inf; last good "
                                         r"snapshot: .*network-snapshot-000000004img") as e:
        training_loop(tiny_train_config(data, tmp_path), max_steps=4)
    assert "\n" not in str(e.value)
    run = next(tmp_path.glob("0*"))
    assert sorted(p.name for p in run.glob("network-snapshot-*")) == ["network-snapshot-000000004img"]


def test_the_image_grids_show_sixteen_images_of_a_larger_dataset(tmp_path, monkeypatch):
    """reals.png and the fakes grids hold 16 images (2 rows of 8) whatever the dataset's size beyond that."""
    import op3d.training.loop as loop

    data = make_synthetic_dataset(tmp_path / "syn20.zip", 20, 32, seed=1, progress=False)
    grids = []
    monkeypatch.setattr(loop, "save_fakes", lambda G, grid_z, grid_c, *a, **k: grids.append(len(grid_z)))
    result = training_loop(tiny_train_config(data, tmp_path / "runs", snap=100), max_steps=1)
    assert grids and set(grids) == {16}
    assert_reals_grid(Path(result["run_dir"]) / "reals.png", data, 16)
