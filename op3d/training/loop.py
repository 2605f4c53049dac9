"""The training loop: alternating G and D phases with lazy regularization, EMA, ticks and snapshots."""
from __future__ import annotations

import copy
import json
import re
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from op3d.conditioning.posed import body_model_from_spec, check_body_model, condition_dim
from op3d.data.cameras import ray_range_problem
from op3d.metrics.run import append_result, check_metric_names, compute_metric
from op3d.networks.conditional import ConditionalGenerator
from op3d.networks.discriminator import DualDiscriminator
from op3d.networks.generator import Generator
from op3d.presets import discriminator_kwargs, generator_kwargs
from op3d.training.distributed import DistInfo, all_reduce_mean_, barrier, broadcast_module_
from op3d.training.loss import GANLoss, LossConfig, neural_rendering_resolution
from op3d.training.report import RunLog, depth_to_uint8, save_grid, to_uint8
from op3d.training.sampler import InfiniteSampler
from op3d.training.snapshots import (STATE_NAME, latest_snapshot, read_snapshot, remove_stale_temporaries,
                                     snapshot_stamp, write_snapshot)


@dataclass
class TrainConfig:
    outdir: str
    data: str
    cfg: str = "ffhq"
    size: str = "full"
    representation: str = "orthoplanes"
    plane_number: int = 8
    fourier_L: int = 10
    batch: int = 4
    batch_gpu: int | None = None
    glr: float = 0.0025
    dlr: float = 0.002
    map_depth: int | None = None
    mbstd_group: int = 4
    sr_num_fp16_res: int = 4  # fp16 layers (CUDA only; conv outputs clamped to 256), the original defaults
    g_num_fp16_res: int = 0
    d_num_fp16_res: int = 4
    G_reg_interval: int | None = 4
    D_reg_interval: int = 16
    ema_kimg: float | None = None  # default batch * 10 / 32
    ema_rampup: float | None = 0.05
    kimg: float = 25000
    tick: float = 4
    snap: int = 50
    seed: int = 0
    mirror: bool = False
    workers: int = 2
    gen_pose_cond: bool = False
    c_scale: float = 1.0
    cbase: int | None = None  # channel_base of G and D (default: the size preset's)
    cmax: int | None = None  # channel_max of G and D
    decoder_lr_mul: float = 1.0
    sr_noise_mode: str = "none"
    cudnn_benchmark: bool = True
    resume: str | None = None  # a run or snapshot directory (continue exactly) or a checkpoint/.pkl (fine-tune)
    resume_blur: bool = False  # fine-tuning keeps the blur and pose-swap fade-ins (EG3D's --resume_blur)
    metrics: list = field(default_factory=list)  # evaluated on G_ema at every snapshot (rank 0)
    metrics_num: int = 500
    detector: str | None = None  # Inception file for fid50k_full / kid50k_full / is50k
    vgg: str | None = None  # VGG16 file for pr50k3_full
    desc: str | None = None
    deterministic: bool = False  # fixed rendering jitter and constant layer noise (tests, exact comparisons)
    conditional: bool = False  # SMPL-pose-conditional: the dataset carries poses; G renders posed bodies
    body_model: str = "procedural"  # 'procedural' or a path to an SMPL-layout .pkl / .npz
    body_box_margin: float | None = 0.1  # rays sample inside each posed body's box grown by this (None: whole box)
    loss: LossConfig = field(default_factory=LossConfig)

    def validate(self, world_size: int) -> None:
        if self.batch <= 0:
            raise ValueError("--batch must be positive")
        if self.batch % world_size:
            raise ValueError(f"--batch ({self.batch}) must be a multiple of --gpus ({world_size})")
        per_rank = self.batch // world_size
        if self.batch_gpu is not None and (self.batch_gpu <= 0 or per_rank % self.batch_gpu):
            raise ValueError(f"--batch-gpu ({self.batch_gpu}) must divide --batch / --gpus ({per_rank})")
        check_metric_names(self.metrics, self.detector, self.vgg)
        if self.conditional and self.mirror:
            raise ValueError("--mirror is not supported for pose-conditional training (SMPL mirroring needs joint "
                             "swaps)")


def _new_run_dir(outdir: Path, desc: str) -> Path:
    outdir.mkdir(parents=True, exist_ok=True)
    ids = [int(m.group()) for p in outdir.iterdir() if (m := re.match(r"^\d+", p.name))]
    run_dir = outdir / f"{max(ids, default=-1) + 1:05d}-{desc}"
    run_dir.mkdir()
    return run_dir


def _open_dataset(cfg: TrainConfig):
    """The dataset, its camera labels [N, 25] and, for pose-conditional training, its pose parameters [N, 85]."""
    from op3d.data.dataset import ImageDataset

    dataset = ImageDataset(cfg.data, use_labels=True, xflip=cfg.mirror, use_poses=cfg.conditional)
    labels = torch.as_tensor(np.stack([dataset.get_label(i) for i in range(len(dataset))]), dtype=torch.float32)
    poses = None
    if cfg.conditional:
        check_body_model(dataset, cfg.body_model)
        poses = torch.as_tensor(dataset.poses, dtype=torch.float32)
    return dataset, labels, poses


def _bodies(G, poses: torch.Tensor | None, device):
    """PosedBody for pose parameters [B, 85] (None for unconditional training)."""
    return None if poses is None else G.pose_bodies(body_model_from_spec(G.body_model, device), poses.to(device))


def _fine_tune_start(cfg: TrainConfig, source: Path, resolution: int):
    """G, D, G_ema from a checkpoint without training state (an original snapshot .pkl or an op3d checkpoint
    directory): the checkpoint's own architecture and weights (a missing G is G_ema's copy; a missing D is built
    fresh from cfg), and cfg as EG3D fine-tunes: no EMA ramp-up and, unless --resume_blur, no blur or pose-swap
    fade-in."""
    import op3d

    from op3d.networks.conditional_legacy import LegacyConditionalGenerator

    G_ema = op3d.load(source, "G_ema").train()
    if isinstance(G_ema, LegacyConditionalGenerator):
        raise ValueError(f"{source}: the released pose-conditional OP3D generator is imported for sampling and "
                         "metrics only (its renderer's quirks are reproduced, its training losses are not); train "
                         "op3d's own with op3d train --conditional")
    G = op3d.load(source, "G", missing_ok=True)
    G = copy.deepcopy(G_ema) if G is None else G
    G.init_kwargs = getattr(G, "init_kwargs", G_ema.init_kwargs)
    D = op3d.load(source, "D", missing_ok=True)
    if D is None:
        torch.manual_seed(cfg.seed)
        D = build_networks(cfg, resolution)[1]
    loss = cfg.loss if cfg.resume_blur else replace(cfg.loss, blur_init_sigma=0, gpc_reg_fade_kimg=0)
    return G, D, G_ema, replace(cfg, ema_rampup=None, loss=loss)


def _architecture_of(cfg: TrainConfig, G, source: Path, note: bool) -> TrainConfig:
    """A resumed run trains the snapshot's networks: cfg's representation, plane number and Fourier L follow
    them, so training_options.json and the run directory's name tell the truth; options that asked for another
    architecture are named in a note (the networks cannot change shape mid-run)."""
    kw = getattr(G, "init_kwargs", {})
    facts = {"representation": kw.get("representation")}
    if facts["representation"] == "orthoplanes":
        facts.update(plane_number=kw.get("per_dir_plane_number"), fourier_L=kw.get("fourier_L"))
    changed = {k: v for k, v in facts.items() if v is not None and getattr(cfg, k) != v}
    if changed and note:
        print(f"note: resuming {source}: its networks' " + ", ".join(
            f"{k} {v} (not {getattr(cfg, k)})" for k, v in changed.items()) + " apply", file=sys.stderr)
    return replace(cfg, **changed)


def build_networks(cfg: TrainConfig, resolution: int) -> tuple[Generator, DualDiscriminator]:
    lc = cfg.loss
    gkw = generator_kwargs(cfg.cfg, resolution, cfg.size, representation=cfg.representation,
                           plane_number=cfg.plane_number, fourier_L=cfg.fourier_L,
                           neural_rendering_resolution=lc.neural_rendering_resolution_initial,
                           c_gen_conditioning_zero=not cfg.gen_pose_cond, c_scale=cfg.c_scale,
                           gpc_reg_prob=lc.gpc_reg_prob if cfg.gen_pose_cond else None,
                           density_reg=lc.density_reg, density_reg_p_dist=lc.density_reg_p_dist,
                           decoder_lr_mul=cfg.decoder_lr_mul, superresolution_noise_mode=cfg.sr_noise_mode)
    if cfg.map_depth is not None:
        gkw["mapping_kwargs"] = dict(num_layers=cfg.map_depth)
    gkw.update(sr_num_fp16_res=cfg.sr_num_fp16_res, num_fp16_res=cfg.g_num_fp16_res,
               conv_clamp=256 if cfg.g_num_fp16_res > 0 else None)
    dkw = discriminator_kwargs(resolution, cfg.size, mbstd_group=cfg.mbstd_group)
    for key, value in (("channel_base", cfg.cbase), ("channel_max", cfg.cmax)):  # EG3D: --cbase/--cmax for both
        if value is not None:
            gkw[key] = dkw[key] = value
    dkw.update(num_fp16_res=cfg.d_num_fp16_res, conv_clamp=256 if cfg.d_num_fp16_res > 0 else None)
    if cfg.conditional:
        gkw["body_model"] = cfg.body_model
        gkw["rendering_kwargs"]["body_box_margin"] = cfg.body_box_margin
        dkw["c_dim"] = condition_dim()
    G, D = (ConditionalGenerator if cfg.conditional else Generator)(**gkw), DualDiscriminator(**dkw)
    G.init_kwargs, D.init_kwargs = gkw, dkw
    return G, D


def _stop_workers(batches) -> None:
    """Stop the worker processes of a DataLoader iterator now. After an error the traceback holds the iterator,
    and torch's shutdown from the garbage collector then waits 5 s per worker; `_shutdown_workers` is torch's own
    (private, present since torch 1.x); other iterators have nothing to stop."""
    stop = getattr(batches, "_shutdown_workers", None)
    if stop is not None:
        stop()


def _adam_hyper(lr: float, reg_interval: int | None) -> dict:
    """Adam's lr and betas (0, 0.99) with lazy-regularization rescaling (StyleGAN2's mb_ratio)."""
    ratio = reg_interval / (reg_interval + 1) if reg_interval else 1.0
    return {"lr": lr * ratio, "betas": (0.0 ** ratio, 0.99 ** ratio)}


def _adam(module: torch.nn.Module, lr: float, reg_interval: int | None) -> torch.optim.Adam:
    return torch.optim.Adam(module.parameters(), eps=1e-8, **_adam_hyper(lr, reg_interval))


def restore_optimizers(opt_G, opt_D, state: dict, cfg: TrainConfig) -> None:
    """Load the saved Adam states of a resumed run, then set this run's --glr / --dlr (recorded in its
    training_options.json) with their lazy-regularization rescaling, not the saved ones."""
    for opt, key, lr, interval in ((opt_G, "opt_G", cfg.glr, cfg.G_reg_interval),
                                   (opt_D, "opt_D", cfg.dlr, cfg.D_reg_interval)):
        opt.load_state_dict(state[key])
        for group in opt.param_groups:
            group.update(_adam_hyper(lr, interval))


def _phases(G, D, opt_G, opt_D, cfg: TrainConfig) -> list[tuple[str, torch.nn.Module, torch.optim.Optimizer, int]]:
    phases = []
    for name, module, opt, interval in (("G", G, opt_G, cfg.G_reg_interval), ("D", D, opt_D, cfg.D_reg_interval)):
        if interval is None:
            phases.append((name + "both", module, opt, 1))
        else:
            phases += [(name + "main", module, opt, 1), (name + "reg", module, opt, interval)]
    return phases


def _step_phase(module, opt, world_size: int) -> None:
    """Average gradients over ranks, replace non-finite values (a guard against rare overflows), step."""
    params = [p for p in module.parameters() if p.grad is not None and p.numel() > 0]
    grads = [p.grad for p in params]
    all_reduce_mean_(grads, world_size)
    for g in grads:
        torch.nan_to_num_(g, nan=0.0, posinf=1e5, neginf=-1e5)
    opt.step()


def check_finite_weights(run_dir: Path, cur_nimg: int, **modules: torch.nn.Module) -> None:
    """Stop a diverged run (NaN/inf weights: every later tick and snapshot would be garbage) with one line saying
    where it stopped and which snapshot is the last good one. ValueError (the CLI prints it as one line)."""
    bad = [name for name, m in modules.items() if not all(bool(p.isfinite().all()) for p in m.parameters())]
    if bad:
        last = latest_snapshot(run_dir)
        raise ValueError(f"training diverged by kimg {cur_nimg / 1000:.3f}: {' and '.join(bad)} weights are NaN/inf; "
                         f"last good snapshot: {last or 'none'}; resume from it with a lower --glr / --dlr or a "
                         "higher --gamma")


def update_ema(G_ema: torch.nn.Module, G: torch.nn.Module, cur_nimg: int, batch: int, ema_kimg: float,
               ema_rampup: float | None) -> None:
    ema_nimg = ema_kimg * 1000
    if ema_rampup is not None:
        ema_nimg = min(ema_nimg, cur_nimg * ema_rampup)
    beta = 0.5 ** (batch / max(ema_nimg, 1e-8))
    with torch.no_grad():
        for p_ema, p in zip(G_ema.parameters(), G.parameters()):
            p_ema.copy_(p.detach().lerp(p_ema, beta))
        for b_ema, b in zip(G_ema.buffers(), G.buffers()):
            b_ema.copy_(b)
    if hasattr(G, "neural_rendering_resolution"):
        G_ema.neural_rendering_resolution = G.neural_rendering_resolution


def _rng_state(device: torch.device) -> dict:
    state = {"torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _set_rng_state(state: dict, device: torch.device) -> None:
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


@torch.no_grad()
def save_fakes(G_ema, grid_z, grid_c, path: Path, cfg: TrainConfig, cur_nimg: int,
               grid_pose: torch.Tensor | None = None) -> None:
    nrr = neural_rendering_resolution(cfg.loss, cur_nimg)
    images, raws, depths = [], [], []
    for i in range(0, len(grid_z), 8):
        z, c = grid_z[i:i + 8], grid_c[i:i + 8]
        body = _bodies(G_ema, None if grid_pose is None else grid_pose[i:i + 8], z.device)
        extra = {} if body is None else {"body": body}
        out = G_ema(z, c, noise_mode="const", neural_rendering_resolution=nrr, deterministic=True, **extra)
        images.append(out["image"])
        raws.append(torch.nn.functional.interpolate(out["image_raw"], size=out["image"].shape[-1], mode="nearest"))
        depths.append(torch.nn.functional.interpolate(out["image_depth"], size=out["image"].shape[-1],
                                                      mode="nearest"))
    n = grid_z.shape[0]
    cols = min(n, 8)
    rows = [to_uint8(torch.cat(images)), to_uint8(torch.cat(raws)), depth_to_uint8(torch.cat(depths))]
    stacked = np.concatenate([np.stack(r.reshape(-1, cols, *r.shape[1:])) for r in rows], axis=1)
    save_grid(stacked.reshape(-1, *rows[0].shape[1:]), path, cols)


def _progress_bar(cfg: TrainConfig, cur_nimg: int, enabled: bool):
    """A tqdm bar over images when tqdm is installed and stderr is a terminal."""
    if not enabled or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=int(cfg.kimg * 1000), initial=cur_nimg, unit="img", unit_scale=True, leave=False)


def training_loop(cfg: TrainConfig, dist_info: DistInfo | None = None, max_steps: int | None = None,
                  log: bool = True) -> dict:
    """Train; returns a summary dict (run_dir, cur_nimg, last tick's stats, networks). max_steps stops early;
    log=False keeps the run's files but prints no status lines."""
    info = dist_info or DistInfo()
    device = info.device
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = cfg.cudnn_benchmark  # fixed shapes: let cuDNN pick the fastest convs
    cfg.validate(info.world_size)
    batch_gpu = cfg.batch_gpu or cfg.batch // info.world_size
    dataset, labels, poses = _open_dataset(cfg)
    resolution = dataset.resolution

    state = None
    if cfg.resume is not None:
        resume = Path(cfg.resume)
        if resume.is_dir() and latest_snapshot(resume) is not None:  # a run directory
            remove_stale_temporaries(resume)  # what a process killed mid-snapshot left there
            resume = latest_snapshot(resume)
        if (resume / STATE_NAME).is_file():  # continue exactly: weights, optimizers, counters, RNG
            G, D, G_ema, state = read_snapshot(resume)
        else:  # fine-tune (EG3D's --resume of a released pickle): its weights, fresh optimizers and counters
            G, D, G_ema, cfg = _fine_tune_start(cfg, resume, resolution)
        cfg = _architecture_of(cfg, G, resume, note=info.is_main)
    else:
        torch.manual_seed(cfg.seed)
        G, D = build_networks(cfg, resolution)
        G_ema = copy.deepcopy(G)
        G_ema.init_kwargs = G.init_kwargs
    if G.img_resolution != resolution:
        raise ValueError(f"the dataset is {resolution}x{resolution} but the network makes {G.img_resolution}")
    problem = ray_range_problem(labels, G.render_options.ray_start, G.render_options.ray_end)
    if problem is not None:
        raise ValueError(f"{cfg.data}: {problem} (--cfg {cfg.cfg}); use a preset whose range contains the cameras "
                         "or one that derives it from the box (shhq, body)")
    G, D, G_ema = G.to(device).train().requires_grad_(False), D.to(device).train().requires_grad_(False), \
        G_ema.to(device).eval().requires_grad_(False)
    broadcast_module_(G, info.world_size)
    broadcast_module_(D, info.world_size)
    broadcast_module_(G_ema, info.world_size)

    opt_G = _adam(G, cfg.glr, cfg.G_reg_interval)
    opt_D = _adam(D, cfg.dlr, cfg.D_reg_interval)
    cur_nimg, batch_idx, tick = 0, 0, 0
    if state is not None:
        restore_optimizers(opt_G, opt_D, state, cfg)
        cur_nimg, batch_idx, tick = state["cur_nimg"], state["batch_idx"], state["tick"]
        if cur_nimg >= cfg.kimg * 1000:
            raise ValueError(f"--resume {cfg.resume}: the snapshot is at kimg {cur_nimg / 1000:g}, so --kimg "
                             f"{cfg.kimg:g} is already reached; raise --kimg to train on")
        _set_rng_state(state["rng"], device)
    else:
        torch.manual_seed(cfg.seed + 1)  # the same stream on every rank: full-batch draws are sliced per rank

    run_dir = None
    if info.is_main:
        run_dir = _new_run_dir(Path(cfg.outdir), cfg.desc or f"{cfg.cfg}-{cfg.representation}-gpus{info.world_size}"
                               f"-batch{cfg.batch}")
        (run_dir / "training_options.json").write_text(json.dumps(asdict(cfg), indent=1, default=str))
    runlog = RunLog(run_dir, enabled=info.is_main, verbose=log) if run_dir else RunLog(Path("."), enabled=False)

    sampler = InfiniteSampler(len(dataset), cfg.batch, seed=cfg.seed, rank=info.rank,
                              world_size=info.world_size, start=cur_nimg)
    loss = GANLoss(G, D, cfg.loss, noise_mode="const" if cfg.deterministic else "random")
    G.deterministic = cfg.deterministic
    phases = _phases(G, D, opt_G, opt_D, cfg)
    ema_kimg = cfg.ema_kimg if cfg.ema_kimg is not None else cfg.batch * 10 / 32

    grid_n = min(16, len(dataset))
    gg = torch.Generator().manual_seed(cfg.seed + 123)
    grid_z = torch.randn(grid_n, G.z_dim, generator=gg).to(device)
    grid_idx = torch.randint(len(labels), (grid_n,), generator=gg)
    grid_c = labels[grid_idx].to(device)
    grid_pose = None if poses is None else poses[grid_idx]
    if info.is_main and state is None:
        reals = torch.stack([dataset[i][0] for i in range(grid_n)]).float() / 127.5 - 1
        save_grid(to_uint8(reals), run_dir / "reals.png", min(grid_n, 8))
        save_fakes(G_ema, grid_z, grid_c, run_dir / "fakes_init.png", cfg, cur_nimg, grid_pose)

    progress = _progress_bar(cfg, cur_nimg, enabled=log and info.is_main)
    tick_start_nimg, tick_start_time, start_time = cur_nimg, time.time(), time.time()
    sums: dict[str, list[float]] = {}
    steps = 0
    last_stats: dict = {}
    per_rank = cfg.batch // info.world_size
    lo, hi = info.rank * per_rank, (info.rank + 1) * per_rank
    loader = iter(torch.utils.data.DataLoader(dataset, batch_size=cfg.batch // info.world_size, sampler=sampler,
                                              num_workers=cfg.workers, pin_memory=device.type == "cuda",
                                              persistent_workers=cfg.workers > 0,
                                              generator=torch.Generator().manual_seed(cfg.seed)))  # not the global RNG
    try:
        while True:
            real = next(loader)
            real_img = (real[0].to(device).float() / 127.5 - 1).split(batch_gpu)
            real_c = real[1].to(device).float().split(batch_gpu)
            real_pose = real[2].split(batch_gpu) if cfg.conditional else [None] * len(real_c)
            # Full-batch draws on every rank (identical streams), then this rank's slice. A generated sample takes
            # the camera (and pose) of one random dataset image.
            all_z = torch.randn(len(phases), cfg.batch, G.z_dim)[:, lo:hi].to(device)
            all_idx = torch.randint(len(labels), (len(phases) * cfg.batch,)).view(len(phases), cfg.batch)[:, lo:hi]
            G.neural_rendering_resolution = neural_rendering_resolution(cfg.loss, cur_nimg)
            for (name, module, opt, interval), zs, idx in zip(phases, all_z, all_idx):
                if batch_idx % interval:
                    continue
                module.requires_grad_(True)
                opt.zero_grad(set_to_none=True)
                for ri, rc, rp, z, i in zip(real_img, real_c, real_pose, zs.split(batch_gpu), idx.split(batch_gpu)):
                    gen_pose = None if poses is None else poses[i]
                    stats = loss.accumulate_gradients(name, ri, rc, z, labels[i].to(device), gain=interval,
                                                      cur_nimg=cur_nimg,
                                                      real_body=_bodies(G, rp, device), gen_body=_bodies(G, gen_pose,
                                                                                                         device))
                    for k, v in stats.items():
                        sums.setdefault(k, []).append(v)
                module.requires_grad_(False)
                _step_phase(module, opt, info.world_size)
            all_reduce_mean_([b for b in G.buffers() if b.is_floating_point()], info.world_size)  # w_avg
            update_ema(G_ema, G, cur_nimg, cfg.batch, ema_kimg, cfg.ema_rampup)
            cur_nimg += cfg.batch
            batch_idx += 1
            steps += 1
            if progress is not None:
                progress.update(cfg.batch)

            done = cur_nimg >= cfg.kimg * 1000 or (max_steps is not None and steps >= max_steps)
            if not done and cur_nimg < tick_start_nimg + cfg.tick * 1000:
                continue
            now = time.time()
            tick_stats = {k: float(np.mean(v)) for k, v in sums.items()}
            sec_per_kimg = (now - tick_start_time) / max((cur_nimg - tick_start_nimg) / 1000, 1e-9)
            mem = torch.cuda.max_memory_allocated(device) / 2 ** 30 if device.type == "cuda" else 0.0
            tick_stats.update({"Progress/tick": tick, "Progress/kimg": cur_nimg / 1000,
                               "Timing/sec_per_kimg": sec_per_kimg, "Timing/total_sec": now - start_time,
                               "Resources/peak_gpu_mem_gb": mem, "Progress/neural_rendering_resolution":
                               G.neural_rendering_resolution})
            runlog.log(tick_stats, cur_nimg / 1000)
            loss_text = " ".join(f"{k.split('/')[-1]} {v:.4f}" for k, v in tick_stats.items() if k.startswith("Loss/"))
            runlog.status(f"tick {tick:<4d} kimg {cur_nimg / 1000:<8.3f} time {now - start_time:<7.1f}s "
                          f"sec/kimg {sec_per_kimg:<8.2f} gpumem {mem:.2f}GB {loss_text}")
            last_stats = tick_stats
            sums = {}
            tick += 1
            check_finite_weights(run_dir, cur_nimg, G=G, D=D)  # before a snapshot could be written
            if done or tick % cfg.snap == 0:
                state_dict = {"opt_G": opt_G.state_dict(), "opt_D": opt_D.state_dict(), "cur_nimg": cur_nimg,
                              "batch_idx": batch_idx, "tick": tick, "rng": _rng_state(device)}
                if info.is_main:
                    stamp = snapshot_stamp(cur_nimg)
                    write_snapshot(run_dir, f"network-snapshot-{stamp}", G, D, G_ema, state_dict)
                    save_fakes(G_ema, grid_z, grid_c, run_dir / f"fakes{stamp}.png", cfg, cur_nimg, grid_pose)
                    for metric in cfg.metrics:
                        record = compute_metric(metric, G_ema, dataset, cfg.metrics_num, cfg.seed, device,
                                                cfg.detector, Path(cfg.outdir) / "metric-cache", cfg.vgg)
                        append_result(run_dir, dict(record, snapshot=f"network-snapshot-{stamp}", kimg=cur_nimg / 1000))
                        runlog.status(f"metric {metric}: {record['results']}")
                barrier(info.world_size)
            tick_start_nimg, tick_start_time = cur_nimg, time.time()
            if done:
                break
    finally:  # the DataLoader workers stop now, also on an error (its traceback would keep them alive)
        _stop_workers(loader)
    runlog.close()
    if progress is not None:
        progress.close()
    return {"run_dir": run_dir, "cur_nimg": cur_nimg, "stats": last_stats, "G": G, "G_ema": G_ema, "D": D}
