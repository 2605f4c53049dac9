"""`op3d train` through the real entry point: dry run, and one-line errors with a non-zero exit."""
import functools
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
    assert cfg["snap"] == 5  # the built-in demo snapshots every 5 ticks (EG3D: 50)


@pytest.mark.parametrize("device,extra,want", [
    ("cpu", [], dict(cfg="synthetic", batch=4, data="synthetic-1000-64-seed0.zip", nrr=32, gpc=None, G_reg=4)),
    ("cpu", ["--conditional"], dict(cfg="body", batch=4, data="synthetic-body-200-64-seed0.zip", nrr=16, gpc=None,
                                    G_reg=4)),
    ("cpu", ["--gen_pose_cond", "true"], dict(cfg="synthetic", batch=4, data="synthetic-1000-64-seed0.zip", nrr=32,
                                              gpc=0.5, G_reg=4)),
    ("cuda", [], dict(cfg="synthetic", batch=32, data="synthetic-1000-64-seed0.zip", nrr=32, gpc=None, G_reg=4)),
])
def test_defaults_of_the_built_in_demos(tmp_path, capsys, monkeypatch, device, extra, want):
    """Without options: the head demo (synthetic preset, batch 4 on a CPU, 32 on a GPU as EG3D's), the body demo
    with --conditional (the body preset and 16 px neural rendering), and G conditioned on zero cameras unless
    --gen_pose_cond (EG3D's default; then the camera swap's probability 0.5)."""
    import torch

    from op3d.training import distributed

    # a dry run only resolves options: the process's device is all it asks for (no GPU is touched)
    monkeypatch.setattr(distributed, "init_distributed", lambda _: distributed.DistInfo(device=torch.device(device)))
    code, out, err = run_cli(["train", "--outdir", str(tmp_path), "--dry-run", *extra], capsys)
    assert code == 0, err
    cfg = json.loads(out)
    got = dict(cfg=cfg["cfg"], batch=cfg["batch"], data=cfg["data"].rsplit("/", 1)[-1],
               nrr=cfg["loss"]["neural_rendering_resolution_initial"], gpc=cfg["loss"]["gpc_reg_prob"],
               G_reg=cfg["G_reg_interval"])
    assert got == want


def test_sdf_regularizer_weights_reach_the_conditional_loss(tmp_path, capsys):
    """--eikonal and --sdf-prior (pose-conditional only, so not in the all-at-once check) land in their own
    weights; the defaults are 1e-3 and 1."""
    code, out, err = run_cli(["train", "--outdir", str(tmp_path), "--conditional", "--dry-run", "--eikonal", "0.3",
                              "--sdf-prior", "2.5"], capsys)
    assert code == 0, err
    loss = json.loads(out)["loss"]
    assert (loss["eikonal_weight"], loss["sdf_prior_weight"]) == (0.3, 2.5)
    loss = json.loads(run_cli(["train", "--outdir", str(tmp_path), "--conditional", "--dry-run"], capsys)[1])["loss"]
    assert (loss["eikonal_weight"], loss["sdf_prior_weight"]) == (1e-3, 1.0)


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
    (["--p", "0.5"], "--p / --target: only meaningful with --aug"),
    (["--body-model", "SMPL_NEUTRAL.npz"], "--body-model: pose-conditional training only (add --conditional)"),
    (["--target", "0.7"], "--p / --target: only meaningful with --aug"),
])
def test_bad_options(tmp_path, capsys, args, message):
    code, _, err = run_cli(["train", "--outdir", str(tmp_path), "--dry-run", *args], capsys)
    assert code != 0 and message in err and "Traceback" not in err


def test_bad_dataset_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    code, _, err = run_cli(["train", "--outdir", str(tmp_path / "runs"), "--data", str(bad), "--kimg", "0.004"], capsys)
    assert code == 1 and "corrupt or unreadable zip" in err and err.count("\n") == 1


# option, value, where the resolved configuration holds it, the value it must hold there
FORWARDED = [
    ("--gamma", "3", "loss.r1_gamma", 3.0), ("--glr", "0.001", "glr", 0.001), ("--dlr", "0.003", "dlr", 0.003),
    ("--map-depth", "3", "map_depth", 3), ("--mbstd-group", "2", "mbstd_group", 2),
    ("--sr_num_fp16_res", "1", "sr_num_fp16_res", 1), ("--g_num_fp16_res", "2", "g_num_fp16_res", 2),
    ("--d_num_fp16_res", "3", "d_num_fp16_res", 3), ("--tick", "0.5", "tick", 0.5), ("--snap", "7", "snap", 7),
    ("--kimg", "3", "kimg", 3.0), ("--seed", "9", "seed", 9), ("--mirror", "true", "mirror", True),
    ("--workers", "1", "workers", 1), ("--gen_pose_cond", "true", "gen_pose_cond", True),
    ("--c-scale", "0.5", "c_scale", 0.5), ("--gpc_reg_prob", "0.3", "loss.gpc_reg_prob", 0.3),
    ("--gpc_reg_fade_kimg", "7", "loss.gpc_reg_fade_kimg", 7.0), ("--density_reg", "0.5", "loss.density_reg", 0.5),
    ("--density_reg_every", "3", "G_reg_interval", 3),
    ("--density_reg_p_dist", "0.01", "loss.density_reg_p_dist", 0.01),
    ("--style_mixing_prob", "0.9", "loss.style_mixing_prob", 0.9),
    ("--neural_rendering_resolution_initial", "16", "loss.neural_rendering_resolution_initial", 16),
    ("--neural_rendering_resolution_final", "48", "loss.neural_rendering_resolution_final", 48),
    ("--neural_rendering_resolution_fade_kimg", "5", "loss.neural_rendering_resolution_fade_kimg", 5.0),
    ("--cbase", "4096", "cbase", 4096), ("--cmax", "64", "cmax", 64), ("--decoder_lr_mul", "2", "decoder_lr_mul", 2.0),
    ("--sr_noise_mode", "random", "sr_noise_mode", "random"), ("--resume_blur", "true", "resume_blur", True),
    ("--metrics-num", "10", "metrics_num", 10), ("--desc", "mine", "desc", "mine"),
    ("--metrics", " swd, reproj ", "metrics", ["swd", "reproj"]),
    ("--representation", "triplane", "representation", "triplane"), ("--plane_number", "5", "plane_number", 5),
    ("--fourier_L", "3", "fourier_L", 3), ("--batch", "8", "batch", 8), ("--batch-gpu", "2", "batch_gpu", 2),
]

CONFIG_KEYS = {option: key for option, _, key, _ in FORWARDED}  # option -> where it lands ("loss.r1_gamma")


def config_value(tree: dict, key: str):
    """The value at a dotted key of a resolved configuration: config_value(cfg, "loss.r1_gamma")."""
    return functools.reduce(lambda node, part: node[part], key.split("."), tree)


def test_every_training_option_reaches_the_configuration(tmp_path, capsys):
    """All options given at once, each with a non-default value: the resolved configuration holds each one."""
    args = [a for option, value, _, _ in FORWARDED for a in (option, value)]
    code, out, err = run_cli(["train", "--outdir", str(tmp_path), "--dry-run", *args], capsys)
    assert code == 0, err
    cfg = json.loads(out)
    defaults = json.loads(run_cli(["train", "--outdir", str(tmp_path), "--dry-run"], capsys)[1])
    for option, _, key, want in FORWARDED:
        got = config_value(cfg, key)
        assert got == pytest.approx(want) if isinstance(want, float) else got == want, option
        assert config_value(defaults, key) != want, \
            f"{option}: its test value is the default, so this check proves nothing"


def test_size_overrides_and_the_minibatch_group_reach_both_networks(tmp_path):
    """--cbase / --cmax resize G and D alike (EG3D applies them to both); --mbstd-group reaches D, --map-depth G's
    mapping network."""
    from op3d.training.loop import TrainConfig, build_networks

    cfg = TrainConfig(outdir=str(tmp_path), data="x", cfg="synthetic", size="tiny", cbase=4096, cmax=64,
                      mbstd_group=2, decoder_lr_mul=0.25, map_depth=3, plane_number=5, fourier_L=3,
                      sr_num_fp16_res=2, g_num_fp16_res=1, d_num_fp16_res=3)
    G, D = build_networks(cfg, 32)
    # fp16 layers per network, each with EG3D's conv clamp 256 when it has any
    got = (G.init_kwargs["sr_num_fp16_res"], G.init_kwargs["num_fp16_res"], D.init_kwargs["num_fp16_res"])
    assert got == (2, 1, 3) and G.init_kwargs["conv_clamp"] == D.init_kwargs["conv_clamp"] == 256
    # EG3D's defaults (sr 4, G 0, D 4): only the networks with fp16 layers clamp (the backbone does not)
    G0, D0 = build_networks(TrainConfig(outdir=str(tmp_path), data="x", cfg="synthetic", size="tiny"), 32)
    got = (G0.init_kwargs["sr_num_fp16_res"], G0.init_kwargs["num_fp16_res"], D0.init_kwargs["num_fp16_res"])
    assert got == (4, 0, 4) and (G0.init_kwargs["conv_clamp"], D0.init_kwargs["conv_clamp"]) == (None, 256)
    for n, clamp in ((0, None), (1, 256)):  # --d_num_fp16_res 0: D in float32, unclamped; 1: one fp16 block
        _, D1 = build_networks(TrainConfig(outdir=str(tmp_path), data="x", cfg="synthetic", size="tiny",
                                           d_num_fp16_res=n), 32)
        assert (D1.init_kwargs["num_fp16_res"], D1.init_kwargs["conv_clamp"]) == (n, clamp)
    # --plane_number / --fourier_L: K planes per axis, each plane head's style input w + 2L + 1 wide (OP3D)
    heads = [p for n, p in G.backbone.synthesis.named_parameters() if n.endswith("to_depth_feature.affine.weight")]
    assert G.K == 5 and G.L == 3 and heads and all(p.shape[1] == G.w_dim + 2 * 3 + 1 for p in heads)
    assert G.backbone.mapping.num_layers == 3 and hasattr(G.backbone.mapping, "fc2")  # --map-depth: G's mapping
    assert G.init_kwargs["channel_base"] == D.init_kwargs["channel_base"] == 4096
    assert G.init_kwargs["channel_max"] == D.init_kwargs["channel_max"] == 64
    assert D.init_kwargs["epilogue_kwargs"]["mbstd_group_size"] == 2
    # --decoder_lr_mul: the decoder's layers train at that learning-rate multiplier (EG3D's equalized-lr gains)
    layers = [m for m in G.decoder.modules() if hasattr(m, "bias_gain")]
    assert layers and all(m.bias_gain == 0.25 for m in layers)
    assert all(m.weight_gain == pytest.approx(0.25 / m.weight.shape[1] ** 0.5) for m in layers)


# EG3D's train.py defaults (NVlabs/eg3d) that op3d keeps, by the original flag; --glr: EG3D's value for its own
# configs (0.002 is for plain StyleGAN2), --p / --target: the augmentation probability and ADA target
EG3D_DEFAULTS = {
    "--glr": 0.0025, "--dlr": 0.002, "--mbstd-group": 4, "--sr_num_fp16_res": 4, "--g_num_fp16_res": 0,
    "--d_num_fp16_res": 4, "--seed": 0, "--mirror": False, "--gen_pose_cond": False, "--c-scale": 1.0,
    "--c-noise": 0.0, "--gpc_reg_prob": 0.5, "--gpc_reg_fade_kimg": 1000, "--density_reg": 0.25,
    "--density_reg_every": 4, "--density_reg_p_dist": 0.004, "--style_mixing_prob": 0.0,
    "--neural_rendering_resolution_fade_kimg": 1000, "--blur_fade_kimg": 200, "--decoder_lr_mul": 1.0,
    "--sr_noise_mode": "none", "--resume_blur": False, "--disc_c_noise": 0.0, "--aug": "noaug", "--p": 0.2,
    "--target": 0.6, "--cond": True, "--freezed": 0, "--reg_type": "l1", "--sr_first_cutoff": 2,
    "--sr_first_stopband": 2 ** 2.1, "--nobench": False,
}


def test_training_defaults_are_eg3ds(tmp_path, capsys):
    """Without options, each option EG3D's train.py also has takes EG3D's default: as the default of its original
    flag and, where it lands in the configuration, in the resolved one (the swap probability only with
    --gen_pose_cond, as EG3D: None otherwise; the density regularizer every 4 steps)."""
    import click

    from op3d.cli import cli

    command = cli.get_command(click.Context(cli), "train")
    by_flag = {flag: p for p in command.params for flag in p.opts}
    resolved = json.loads(run_cli(["train", "--outdir", str(tmp_path), "--dry-run"], capsys)[1])
    for flag, want in EG3D_DEFAULTS.items():
        assert by_flag[flag].default == pytest.approx(want), flag
        if flag in CONFIG_KEYS and flag != "--gpc_reg_prob":
            assert config_value(resolved, CONFIG_KEYS[flag]) == pytest.approx(want), flag
    assert resolved["loss"]["gpc_reg_prob"] is None
    # what EG3D's train.py fixes without a flag (R1 every 16 minibatches, 1000 density-regularizer points per sample,
    # the blur's initial sigma 10 pixels) and op3d's documented K = 8 planes per axis with L = 10 frequencies
    # (README's usage line)
    assert (resolved["D_reg_interval"], resolved["loss"]["density_reg_points"]) == (16, 1000)
    assert resolved["loss"]["blur_init_sigma"] == 10
    # EG3D benchmarks cuDNN's convolution algorithms unless --nobench
    assert resolved["cudnn_benchmark"] is True
    nobench = json.loads(run_cli(["train", "--outdir", str(tmp_path), "--dry-run", "--nobench", "true"], capsys)[1])
    assert nobench["cudnn_benchmark"] is False
    assert (resolved["plane_number"], resolved["fourier_L"]) == (8, 10)
    assert resolved["metrics_num"] == 500  # snapshot metrics for tracking (README); op3d metrics uses 50,000


def test_the_python_apis_training_defaults_are_eg3ds():
    """TrainConfig / LossConfig (training_loop called from Python, without the CLI's CPU-demo defaults) default to
    EG3D's train.py: each flag of EG3D_DEFAULTS that lands in the configuration, its --kimg 25000, --tick 4, --snap
    50, the density regularizer every 4 minibatches on 1000 points, R1 every 16, the blur from sigma 10 over 200
    kimg (EG3D's value for its batch of 32; the CLI scales it by batch / 32) and the initial neural rendering
    resolution 64."""
    import dataclasses

    from op3d.training.loop import TrainConfig

    config = dataclasses.asdict(TrainConfig(outdir="runs", data="data.zip"))
    checked = [flag for flag in EG3D_DEFAULTS if flag in CONFIG_KEYS]
    assert len(checked) >= 15
    for flag in checked:
        assert config_value(config, CONFIG_KEYS[flag]) == pytest.approx(EG3D_DEFAULTS[flag]), flag
    assert (config["kimg"], config["tick"], config["snap"]) == (25000, 4, 50)
    assert (config["G_reg_interval"], config["D_reg_interval"], config["loss"]["density_reg_points"]) == (4, 16, 1000)
    assert (config["loss"]["blur_fade_kimg"], config["loss"]["blur_init_sigma"]) == (200, 10)
    assert (config["plane_number"], config["fourier_L"], config["cudnn_benchmark"]) == (8, 10, True)
    # random rendering jitter and layer noise (deterministic only when asked), the CLI's 500 snapshot-metric
    # images, and the SDF regularizer's 1000 points per body (half uniform, half near the surface)
    assert (config["deterministic"], config["metrics_num"], config["loss"]["sdf_reg_points"]) == (False, 500, 1000)
    assert config["loss"]["neural_rendering_resolution_initial"] == 64


@pytest.mark.parametrize("extra,module,maker", [([], "op3d.data.synthetic", "make_synthetic_dataset"),
                                                (["--conditional"], "op3d.data.synthetic_body", "make_body_dataset")])
def test_the_built_in_dataset_is_made_with_the_runs_seed(tmp_path, capsys, monkeypatch, extra, module, maker):
    """Without --data the built-in dataset (named ...-seed<N>.zip) is rendered with --seed N, --synthetic-count
    images at 64 px, before the loop starts on it, showing its progress."""
    import importlib

    import op3d.training.loop as loop

    from pathlib import Path

    import inspect

    made, trained = [], []
    shown = inspect.signature(getattr(importlib.import_module(module), maker)).parameters["progress"].default
    monkeypatch.setattr(importlib.import_module(module), maker, lambda path, count, resolution, seed, **kw:
                        made.append((str(path), count, resolution, seed, kw.get("progress", shown)))
                        or Path(path).write_bytes(b"zip"))
    monkeypatch.setattr(loop, "training_loop", lambda cfg, info=None: trained.append(cfg.data) or {"run_dir": "x"})
    for _ in range(2):  # the second run finds the dataset made by the first and reuses it
        code, _, err = run_cli(["train", "--outdir", str(tmp_path), "--seed", "3", "--synthetic-count", "9", *extra],
                               capsys)
        assert code == 0, err
    # (with a progress bar: rendering the built-in data takes a while on a CPU)
    assert len(made) == 1 and made[0][1:] == (9, 64, 3, True) and made[0][0].endswith("-9-64-seed3.zip")
    assert trained == [made[0][0]] * 2


def test_defaults_with_a_dataset_are_eg3ds_full_networks(tmp_path, capsys):
    """With --data and no other option: the full-size networks, the ffhq preset, 64 px neural rendering and
    EG3D's 25,000 kimg, ticks of 4 kimg and a snapshot every 50 ticks (the tiny networks, the synthetic preset and
    the short ticks belong to the built-in demo only)."""
    from test_dataset import good_files, write_zip

    data = tmp_path / "d.zip"
    write_zip(data, good_files(4, size=64))
    code, out, err = run_cli(["train", "--outdir", str(tmp_path), "--data", str(data), "--dry-run"], capsys)
    assert code == 0, err
    cfg = json.loads(out)
    got = (cfg["size"], cfg["cfg"], cfg["loss"]["neural_rendering_resolution_initial"], cfg["kimg"], cfg["tick"],
           cfg["snap"])
    assert got == ("full", "ffhq", 64, 25000, 4, 50)  # EG3D's --tick 4 and --snap 50 too


@pytest.mark.parametrize("value", ["None", "none", "", " NONE "])
def test_metrics_none_as_the_original_scripts_spell_it(tmp_path, capsys, value):
    """--metrics None (EG3D's and OP3D's spelling of "no metrics"), in any case, or empty: no metrics."""
    code, out, err = run_cli(["train", "--outdir", str(tmp_path), "--dry-run", "--metrics", value], capsys)
    assert code == 0, err
    assert json.loads(out)["metrics"] == []


@pytest.mark.parametrize("rank", [0, 1])
def test_only_rank_zero_makes_the_built_in_dataset_and_every_rank_waits_for_it(tmp_path, capsys, monkeypatch, rank):
    """torchrun with 2 processes and no --data: rank 0 renders the built-in dataset, and both ranks meet at a
    barrier before training, so rank 1 never opens a half-written zip."""
    import torch

    import op3d.data.synthetic as synthetic
    import op3d.training.loop as loop
    from op3d.training import distributed

    events = []
    monkeypatch.setattr(distributed, "init_distributed", lambda _: distributed.DistInfo(rank=rank, world_size=2))
    monkeypatch.setattr(torch.distributed, "barrier", lambda *a, **k: events.append("barrier"))
    monkeypatch.setattr(synthetic, "make_synthetic_dataset", lambda path, *a, **k: events.append("made"))
    monkeypatch.setattr(loop, "training_loop", lambda cfg, info=None: events.append(("train", info.rank)) or
                        {"run_dir": "x"})
    code, _, err = run_cli(["train", "--outdir", str(tmp_path), "--gpus", "2", "--batch", "4"], capsys)
    assert code == 0, err
    assert events == (["made"] if rank == 0 else []) + ["barrier", ("train", rank)]
