"""`op3d train` (and train_scripts/train_unconditional.py): the original OP3D flags, op3d defaults.

With no --data, a built-in synthetic dataset is generated into the output directory and a small model
trains on it, so a newcomer sees something work on a CPU in minutes.
"""
from __future__ import annotations

from pathlib import Path

import click

from op3d.cli_types import Device, Finite, FiniteOrNone

from op3d.training.loss import LossConfig


def _csv(value: str | None) -> list[str]:
    if value is None or value.strip().lower() in ("", "none"):
        return []
    return [v.strip() for v in value.split(",") if v.strip()]


# original flag -> (its value that means the feature is off, why op3d cannot do otherwise)
UNSUPPORTED = {
    "aug": ("noaug", "op3d has no adaptive/fixed augmentation (ADA); train with --aug=noaug"),
    "cond": (True, "op3d always conditions the mapping on cameras (set --c_scale=0 to silence it)"),
    "c_noise": (0.0, "noise on the generator's pose conditioning is not implemented"),
    "disc_c_noise": (0.0, "noise on the discriminator's pose conditioning is not implemented"),
    "freezed": (0, "freezing discriminator layers is not implemented"),
    "reg_type": ("l1", "only the L1 density regularizer is implemented"),
    "sr_module": (None, "the super-resolution module follows the output resolution"),
    "sr_first_cutoff": (2, "alias-free super-resolution modules are not implemented"),
    "sr_first_stopband": (2 ** 2.1, "alias-free super-resolution modules are not implemented"),
}


def _refuse_unsupported(opts: dict) -> None:
    for name, (off, why) in UNSUPPORTED.items():
        if opts[name] != off:
            raise click.UsageError(f"--{name}={opts[name]}: {why}")
    if opts["aug"] == "noaug" and (opts["aug_p"] != 0.2 or opts["aug_target"] != 0.6):
        raise click.UsageError("--p / --target: only meaningful with --aug, which op3d does not implement")


@click.command(context_settings={"show_default": True})
@click.option("--outdir", required=True, type=click.Path(file_okay=False), help="Where to make the run directory.")
@click.option("--cfg", type=click.Choice(["ffhq", "afhq", "shhq", "shapenet", "synthetic", "body"]), default=None,
              help="Rendering preset [default: synthetic without --data, body with --conditional, else ffhq].")
@click.option("--data", type=click.Path(exists=True), default=None,
              help="Dataset zip or folder (EG3D format); omitted = make the built-in synthetic dataset.")
@click.option("--gpus", type=click.IntRange(min=1), default=1, help="Processes expected (launch >1 with torchrun).")
@click.option("--batch", type=click.IntRange(min=1), default=None, help="Total batch size [default: 32, or 4 on CPU].")
@click.option("--batch-gpu", type=click.IntRange(min=1), default=None, help="Limit batch size per process.")
@click.option("--gamma", type=Finite(min=0), default=1.0, help="R1 regularization weight.")
@click.option("--size", type=click.Choice(["tiny", "small", "full", "op3d"]), default=None,
              help="Network size [default: tiny for the synthetic data, else full].")
@click.option("--representation", type=click.Choice(["orthoplanes", "triplane"]), default="orthoplanes")
@click.option("--plane_number", "--plane-number", type=click.IntRange(min=1), default=8, help="K planes per axis.")
@click.option("--fourier_L", "--fourier-l", "fourier_L", type=click.IntRange(min=0), default=10,
              help="Fourier frequencies of the plane-position encoding.")
@click.option("--conditional", is_flag=True,
              help="SMPL-pose-conditional training: the dataset carries poses (docs/conditional.md#data-format).")
@click.option("--body-model", "--body_model", default="procedural",
              help="Body model of the poses: 'procedural' (built in) or an SMPL-layout .pkl / .npz path.")
@click.option("--eikonal", type=Finite(min=0), default=1e-3, help="Eikonal weight (--conditional).")
@click.option("--sdf-prior", "--sdf_prior", type=Finite(min=0), default=1.0,
              help="SDF-residual prior weight (--conditional).")
@click.option("--body-margin", "--body_margin", type=FiniteOrNone(min=0), default=0.1, show_default=True,
              help="--conditional: rays sample only inside each posed body's box grown by this many metres "
                   "('none': the whole rendering box).")
@click.option("--gen_pose_cond", "--gen-pose-cond", type=bool, default=False, help="Generator pose conditioning.")
@click.option("--c-scale", "--c_scale", type=Finite(min=0), default=1.0, help="Scale of the GPC camera.")
@click.option("--gpc_reg_prob", "--gpc-reg-prob", type=Finite(min=0, max=1), default=0.5)
@click.option("--gpc_reg_fade_kimg", type=Finite(min=0), default=1000)
@click.option("--density_reg", "--density-reg", type=Finite(min=0), default=0.25)
@click.option("--density_reg_every", type=click.IntRange(min=1), default=4)
@click.option("--density_reg_p_dist", type=Finite(min=0), default=0.004)
@click.option("--style_mixing_prob", type=Finite(min=0, max=1), default=0.0)
@click.option("--neural_rendering_resolution_initial", type=click.IntRange(min=4), default=None,
              help="[default: 64, 32 for the synthetic preset]")
@click.option("--neural_rendering_resolution_final", type=click.IntRange(min=4), default=None)
@click.option("--neural_rendering_resolution_fade_kimg", type=Finite(min=0), default=1000)
@click.option("--blur_fade_kimg", type=Finite(min=0), default=200)
@click.option("--glr", type=Finite(min=0), default=0.0025)
@click.option("--dlr", type=Finite(min=0), default=0.002)
@click.option("--map-depth", type=click.IntRange(min=1), default=None)
@click.option("--mbstd-group", type=click.IntRange(min=1), default=4)
@click.option("--sr_num_fp16_res", type=click.IntRange(min=0), default=4, help="fp16 layers in super-resolution (GPU).")
@click.option("--g_num_fp16_res", type=click.IntRange(min=0), default=0, help="fp16 layers in the backbone (GPU).")
@click.option("--d_num_fp16_res", type=click.IntRange(min=0), default=4, help="fp16 layers in D (GPU).")
@click.option("--kimg", type=Finite(min=0, min_open=True), default=None,
              help="Training length in thousands of images [default: 25000, 2 for the synthetic demo].")
@click.option("--tick", type=Finite(min=0, min_open=True), default=None, help="kimg per status line.")
@click.option("--snap", type=click.IntRange(min=1), default=None, help="Ticks between snapshots.")
@click.option("--seed", type=click.IntRange(min=0), default=0)
@click.option("--mirror", type=bool, default=False, help="x-flip augmentation (flips the camera too).")
@click.option("--workers", type=click.IntRange(min=0), default=2)
@click.option("--cbase", type=click.IntRange(min=1), default=None, help="Capacity multiplier (G and D channel_base).")
@click.option("--cmax", type=click.IntRange(min=1), default=None, help="Max. feature maps (G and D channel_max).")
@click.option("--decoder_lr_mul", "--decoder-lr-mul", type=Finite(min=0), default=1.0,
              help="Decoder learning-rate multiplier.")
@click.option("--sr_noise_mode", "--sr-noise-mode", type=click.Choice(["random", "none"]), default="none",
              help="Super-resolution noise.")
@click.option("--nobench", type=bool, default=False, help="Disable cuDNN benchmarking.")
# The original flags for features op3d does not have: accepted at the values that mean "off", refused otherwise.
@click.option("--aug", type=click.Choice(["noaug", "ada", "fixed"]), default="noaug",
              help="Augmentation: only noaug (op3d has no ADA).")
@click.option("--p", "aug_p", type=Finite(min=0, max=1), default=0.2, help="With --aug=fixed only (unsupported).")
@click.option("--target", "aug_target", type=Finite(min=0, max=1), default=0.6, help="With --aug=ada only.")
@click.option("--cond", type=bool, default=True, help="Condition the mapping on cameras (must stay true).")
@click.option("--c-noise", "c_noise", type=Finite(min=0), default=0.0, help="Pose-conditioning noise (must be 0).")
@click.option("--disc_c_noise", "--disc-c-noise", type=Finite(min=0), default=0.0,
              help="D's pose-conditioning noise (must be 0).")
@click.option("--freezed", type=click.IntRange(min=0), default=0, help="Frozen D layers (must be 0).")
@click.option("--reg_type", "--reg-type", type=click.Choice(["l1", "l1-alt", "monotonic-detach", "monotonic-fixed",
                                                              "total-variation"]), default="l1",
              help="Density regularization: only l1.")
@click.option("--sr-module", "--sr_module", "sr_module", default=None, help="Super-resolution module override "
              "(unsupported: the module follows the resolution).")
@click.option("--sr_first_cutoff", "--sr-first-cutoff", type=click.IntRange(min=2), default=2,
              help="Alias-free SR only (unsupported).")
@click.option("--sr_first_stopband", "--sr-first-stopband", type=Finite(min=2), default=2 ** 2.1,
              help="Alias-free SR only (unsupported).")
@click.option("--resume", type=click.Path(exists=True), default=None,
              help="A run or snapshot directory to continue exactly, or a checkpoint without training state (an "
                   "original network-snapshot .pkl, an op3d checkpoint) to fine-tune from.")
@click.option("--resume_blur", "--resume-blur", type=bool, default=False,
              help="Fine-tuning: keep the blur and pose-swap fade-ins (EG3D's --resume_blur).")
@click.option("--metrics", default="none", help="Metrics at each snapshot: swd, reproj, fid50k_full, kid50k_full.")
@click.option("--detector", type=click.Path(), default=None, help="Inception detector file for FID/KID/IS.")
@click.option("--vgg", type=click.Path(), default=None, help="VGG16 detector file for pr50k3_full.")
@click.option("--metrics-num", type=click.IntRange(min=2), default=500, help="Fakes per metric evaluation.")
@click.option("--desc", default=None, help="Run directory name suffix.")
@click.option("--device", type=Device(), default=None, help="cpu or cuda [default: cuda when available].")
@click.option("--synthetic-count", type=click.IntRange(min=8), default=None,
              help="Images in the generated synthetic dataset (no --data) [default: 1000 heads, 200 bodies].")
@click.option("-n", "--dry-run", is_flag=True, help="Print the resolved options and exit.")
def train(**opts) -> None:
    """Train a 3D-aware generator (OrthoPlanes or tri-plane), unconditional or SMPL-pose-conditional."""
    import dataclasses
    import json

    import torch

    from op3d.training.distributed import init_distributed
    from op3d.training.loop import TrainConfig, training_loop

    _refuse_unsupported(opts)
    info = init_distributed(opts["device"])
    if info.world_size != opts["gpus"]:
        raise click.UsageError(f"--gpus {opts['gpus']} but {info.world_size} processes are running; "
                               f"launch with: torchrun --nproc_per_node {opts['gpus']} -m op3d train ...")
    synthetic = opts["data"] is None
    cpu = info.device.type == "cpu"
    conditional = opts["conditional"]
    if not conditional and opts["body_model"] != "procedural":
        raise click.UsageError("--body-model: pose-conditional training only (add --conditional)")
    if conditional and opts["body_model"] != "procedural":  # validate the file before any work
        from op3d.conditioning.posed import body_model_from_spec

        body_model_from_spec(opts["body_model"])
        if synthetic:
            raise click.UsageError("the built-in synthetic bodies are posed procedural bodies: pass --data (a posed "
                                   "dataset for this body model) or use --body-model procedural")
    opts["synthetic_count"] = opts["synthetic_count"] or (200 if conditional else 1000)
    cfg_name = opts["cfg"] or ("body" if conditional else "synthetic" if synthetic else "ffhq")
    data = opts["data"]
    if synthetic:
        kind = "synthetic-body" if conditional else "synthetic"
        data = str(Path(opts["outdir"]) / f"{kind}-{opts['synthetic_count']}-64-seed{opts['seed']}.zip")
    nrr = opts["neural_rendering_resolution_initial"] or (64 if not synthetic else 16 if conditional else 32)
    batch = opts["batch"] or (4 if cpu else 32)
    loss = LossConfig(
        r1_gamma=opts["gamma"], style_mixing_prob=opts["style_mixing_prob"], blur_init_sigma=10,
        blur_fade_kimg=batch * opts["blur_fade_kimg"] / 32,
        gpc_reg_prob=opts["gpc_reg_prob"] if opts["gen_pose_cond"] else None,
        gpc_reg_fade_kimg=opts["gpc_reg_fade_kimg"], neural_rendering_resolution_initial=nrr,
        neural_rendering_resolution_final=opts["neural_rendering_resolution_final"],
        neural_rendering_resolution_fade_kimg=opts["neural_rendering_resolution_fade_kimg"],
        density_reg=opts["density_reg"], density_reg_p_dist=opts["density_reg_p_dist"],
        eikonal_weight=opts["eikonal"], sdf_prior_weight=opts["sdf_prior"])
    reg_on = (opts["eikonal"] + opts["sdf_prior"] if conditional else opts["density_reg"]) > 0
    cfg = TrainConfig(
        outdir=opts["outdir"], data=data, cfg=cfg_name, size=opts["size"] or ("tiny" if synthetic else "full"),
        representation=opts["representation"], plane_number=opts["plane_number"], fourier_L=opts["fourier_L"],
        batch=batch, batch_gpu=opts["batch_gpu"], glr=opts["glr"], dlr=opts["dlr"], map_depth=opts["map_depth"],
        mbstd_group=opts["mbstd_group"], sr_num_fp16_res=opts["sr_num_fp16_res"],
        g_num_fp16_res=opts["g_num_fp16_res"], d_num_fp16_res=opts["d_num_fp16_res"],
        G_reg_interval=opts["density_reg_every"] if reg_on else None,
        kimg=opts["kimg"] or (2 if synthetic else 25000), tick=opts["tick"] or (0.1 if synthetic else 4),
        snap=opts["snap"] or (5 if synthetic else 50), seed=opts["seed"], mirror=opts["mirror"],
        workers=opts["workers"], gen_pose_cond=opts["gen_pose_cond"], c_scale=opts["c_scale"],
        cbase=opts["cbase"], cmax=opts["cmax"], decoder_lr_mul=opts["decoder_lr_mul"],
        sr_noise_mode=opts["sr_noise_mode"], cudnn_benchmark=not opts["nobench"],
        resume=opts["resume"], resume_blur=opts["resume_blur"], metrics=_csv(opts["metrics"]),
        metrics_num=opts["metrics_num"], detector=opts["detector"], vgg=opts["vgg"], desc=opts["desc"],
        conditional=conditional, body_model=opts["body_model"], body_box_margin=opts["body_margin"],
        loss=loss)
    cfg.validate(info.world_size)
    if opts["dry_run"]:
        click.echo(json.dumps(dataclasses.asdict(cfg), indent=1, default=str))
        return
    if synthetic and not Path(data).exists() and info.is_main:
        click.echo(f"making the built-in synthetic dataset: {data}")
        if conditional:
            from op3d.data.synthetic_body import make_body_dataset

            make_body_dataset(data, count=opts["synthetic_count"], resolution=64, seed=opts["seed"], progress=True)
        else:
            from op3d.data.synthetic import make_synthetic_dataset

            make_synthetic_dataset(data, count=opts["synthetic_count"], resolution=64, seed=opts["seed"])
    if info.world_size > 1:
        torch.distributed.barrier()
    if cpu:
        torch.set_num_threads(max(1, torch.get_num_threads()))
    summary = training_loop(cfg, info)
    if info.is_main:
        click.echo(f"done: {summary['run_dir']}")
