"""Planted one-line bugs ("mutants") in networks / rendering / metrics / training / shapes / sampling, each run
against the tests that should catch it: the kill rate says how much of the library the suite really pins.

Each mutant replaces one exact line fragment (it must occur exactly once in its file) in a scratch copy of the
repository (never in the checkout); the mapped test files run with -x; a mutant is killed when they fail. Only
the mapped files run (the whole suite per mutant would take hours), so the rate is a lower bound; --confirm
runs each survivor once more against the whole suite, which makes the rate exact.

    python tools/mutation_check.py [--only SUBSTRING] [--mutants OTHER_LIST.py] [--confirm] [--out RESULTS.json]

--mutants takes a Python file defining its own MUTANTS list in the same format (the group names NET, COND,
REND, MET, TRAIN, SHAPES, SAMP are available to it), e.g. a second, independently written set.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NET = ["test_generator.py", "test_discriminator_parity.py", "test_legacy_import.py", "test_planes.py", "test_ops.py",
       "test_dispatch.py", "test_legacy_pickle.py", "test_checkpoint_validation.py"]
COND = ["test_conditional.py", "test_conditional_legacy.py", "test_mesh_index.py", "test_mesh_sdf.py",
        "test_inverse_lbs.py", "test_body_model.py", "test_pare.py"]
REND = ["test_rendering.py", "test_known_geometry.py", "test_generator.py", "test_conditional_legacy.py"]
MET = ["test_metrics_math.py", "test_fid.py", "test_metrics_pr_is.py", "test_inception_reference.py",
       "test_reprojection.py", "test_sampling.py::test_metrics_cli"]
# test files, or single tests (file::name) of the slower end-to-end files
TRAIN = ["test_training_hand.py", "test_training_units.py", "test_train_cli.py",
         "test_training.py::test_steps_run_and_write_outputs",
         "test_training.py::test_resume_continues_as_if_never_stopped",
         "test_training.py::test_resume_records_the_snapshots_architecture_not_conflicting_options",
         "test_training.py::test_batch_gpu_splits_every_phase_of_a_batch_into_rounds",
         "test_training.py::test_deterministic_training_renders_with_fixed_jitter",
         "test_training.py::test_snapshot_names_follow_eg3d", "test_checkpoint_validation.py",
         "test_training.py::test_a_diverged_run_stops_at_the_tick_and_keeps_its_good_snapshots",
         "test_conditional.py::test_training_poses_real_images_with_their_own_poses", "test_cameras.py",
         "test_dataset.py", "test_data_cli.py"]
SHAPES = ["test_shapes.py", "test_known_geometry.py"]
SAMP = ["test_sampling.py", "test_known_geometry.py", "test_shapes.py", "test_cameras.py",
        "test_generator.py::test_rendering_presets_match_the_original_table_and_the_built_in_datasets",
        "test_training.py::test_a_run_directory_loads_as_its_latest_snapshot"]

# (file under op3d/, exact fragment, replacement, test group, what a user would see)
MUTANTS = [
    # networks
    ("networks/layers.py", "self.weight_gain = lr_multiplier / np.sqrt(in_features)",
     "self.weight_gain = 1 / np.sqrt(in_features)", NET, "FC gain ignores lr_multiplier"),
    ("networks/layers.py", "return x * (x.square().mean(dim=dim, keepdim=True) + eps).rsqrt()",
     "return x * (x.square().sum(dim=dim, keepdim=True) + eps).rsqrt()", NET, "2nd-moment normalization by sum"),
    ("networks/layers.py", "self.w_avg.copy_(x.detach().mean(dim=0).lerp(self.w_avg, self.w_avg_beta))",
     "self.w_avg.copy_(x.detach().mean(dim=0))", TRAIN + NET, "w_avg tracking without momentum"),
    ("networks/layers.py", "x = self.w_avg.lerp(x, truncation_psi)", "x = x.lerp(self.w_avg, truncation_psi)",
     NET + SAMP, "truncation psi inverted"),
    ("networks/layers.py", "self.weight_gain = 1 / np.sqrt(in_channels * (kernel_size ** 2))",
     "self.weight_gain = 1 / np.sqrt(in_channels * kernel_size)", NET, "D conv gain"),
    ("networks/synthesis.py", "noise = self.noise_const * self.noise_strength", "noise = self.noise_const",
     NET, "const noise unscaled"),
    ("networks/synthesis.py", "self.weight_gain = 1 / np.sqrt(in_channels)", "self.weight_gain = 1 / in_channels",
     NET, "ToRGB / plane head gain"),
    ("networks/decoder.py", "rgb = torch.sigmoid(x[..., 1:]) * (1 + 2 * 0.001) - 0.001",
     "rgb = torch.sigmoid(x[..., 1:])", NET, "decoder colour without MipNeRF widening"),
    ("networks/decoder.py", "torch.ops.aten.softplus.out(h, 1, 20, out=h)",
     "torch.ops.aten.softplus.out(h, 2, 20, out=h)", SHAPES + NET, "density-only decoder path with another softplus"),
    ("networks/conditional.py", "return torch.sigmoid(-sdf / beta) / beta", "return torch.sigmoid(sdf / beta) / beta",
     COND, "SDF density sign"),
    ("networks/conditional.py", "sdf = base + self.residual_scale * residual", "sdf = base + residual", COND,
     "residual scale dropped"),
    ("networks/conditional_legacy.py", "colors, sdf = packed[..., :-1], sdf + packed[..., -1:]",
     "colors, sdf = packed[..., :-1], sdf", COND, "released double-counted body term not reproduced"),
    ("planes/encoding.py", "angle = p * (2 ** i * math.pi)", "angle = p * (2 ** i)", NET, "Fourier frequencies"),
    ("planes/encoding.py", "return torch.linspace(-1, 1, K, device=device, dtype=dtype)",
     "return (torch.arange(K, device=device, dtype=dtype) * 2 + 1) / K - 1", NET, "plane positions at texel centres"),
    # rendering
    ("rendering/marcher.py", "sigma = F.softplus(densities_mid - 1)", "sigma = F.softplus(densities_mid)", REND,
     "softplus bias"),
    ("rendering/marcher.py", "depths_mid = (depths[:, :, :-1] + depths[:, :, 1:]) / 2", "depths_mid = depths[:, :, 1:]",
     REND, "depth at interval ends"),
    ("rendering/samplers.py", "return (1.0 / (1.0 / start * (1.0 - t) + 1.0 / end * t)).expand(B, R, S, 1)",
     "return (start * (1.0 - t) + end * t).expand(B, R, S, 1)", REND, "disparity-space sampling linear in depth"),
    ("rendering/samplers.py", "w = F.avg_pool1d(F.max_pool1d(w, 2, 1, padding=1), 2, 1).squeeze(1) + 0.01",
     "w = F.avg_pool1d(F.max_pool1d(w, 2, 1, padding=1), 2, 1).squeeze(1) + 0.1", REND, "importance weight floor"),
    ("rendering/samplers.py", "below = torch.clamp_min(inds - 1, 0)", "below = torch.clamp_min(inds - 2, 0)", REND,
     "inverse CDF bracket"),
    ("rendering/samplers.py", "return depths + jitter * delta", "return depths + jitter * delta * 0.5", REND,
     "stratified jitter half width"),
    ("rendering/rays.py", "ticks = (torch.arange(resolution, dtype=c.dtype, device=c.device) + 0.5) / resolution",
     "ticks = torch.arange(resolution, dtype=c.dtype, device=c.device) / resolution", REND, "pixel centre offset"),
    ("rendering/rays.py", "y = (v - cy) / fy\n", "y = (v - cy) / fx\n", REND, "fx used for y"),
    ("rendering/renderer.py", "end = torch.where(valid, end, start[valid].max())",
     "end = torch.where(valid, end, end[valid].max())", REND, "rays that miss the box: EG3D's far bound"),
    ("rendering/marcher.py", "depth_weights = torch.cat([weights[:, :, :-1], weights[:, :, -1:] + (1 - weight_total)"
     ".unsqueeze(2)], dim=2)", "depth_weights = weights", COND, "released marcher's leftover depth weight"),
    # metrics
    ("metrics/frechet.py", "return x.mean(0), np.cov(x, rowvar=False)", "return x.mean(0), np.cov(x, rowvar=False, "
     "bias=True)", MET, "biased covariance"),
    ("metrics/frechet.py", "torch.trace(s2) - 2 * tr_sqrt)", "torch.trace(s2) - tr_sqrt)", MET, "FID cross term"),
    ("metrics/frechet.py", "t += (a.sum() - np.diag(a).sum()) / (m - 1) - b.sum() * 2 / m",
     "t += a.sum() / (m - 1) - b.sum() * 2 / m", MET, "biased KID"),
    ("metrics/frechet.py", "a = (x @ x.T / n + 1) ** 3 + (y @ y.T / n + 1) ** 3",
     "a = (x @ x.T / n + 1) ** 2 + (y @ y.T / n + 1) ** 2", MET, "KID kernel degree"),
    ("metrics/inception_score.py", "scores.append(np.exp(kl.sum(1).mean()))", "scores.append(kl.sum(1).mean())", MET,
     "IS without exp"),
    ("metrics/precision_recall.py", ".kthvalue(k + 1, dim=1).values)", ".kthvalue(k, dim=1).values)", MET,
     "k-NN radius counts the point itself"),
    ("metrics/precision_recall.py", "precision = _coverage(r, _manifold_radii(r, k, batch), f, batch)",
     "precision = _coverage(f, _manifold_radii(f, k, batch), r, batch)", MET, "precision/recall swapped"),
    ("metrics/swd.py", "return float((pa - pb).abs().mean())", "return float((pa - pb).square().mean())", MET,
     "SWD W2 instead of W1"),
    ("metrics/swd.py", "patches = (patches - patches.mean((0, 1))) / patches.std((0, 1)).clamp_min(1e-8)",
     "patches = patches - patches.mean((0, 1))", MET, "SWD descriptors not normalized"),
    ("metrics/reprojection.py", "v = K[:, None, 1, 1] * y + K[:, None, 1, 2]",
     "v = K[:, None, 0, 0] * y + K[:, None, 1, 2]", MET, "reprojection fx for v"),
    ("metrics/reprojection.py", "visible = inside & ((seen - dist_b).abs() <= depth_tol * dist_b)", "visible = inside",
     MET, "occlusion test dropped"),
    ("metrics/run.py", "return sample_cameras(n, generator, radius=radius, focal=camera_focal(G), lookat=pivot)",
     "return sample_cameras(n, generator, yaw_std=0.15, radius=radius, focal=camera_focal(G), lookat=pivot)", MET,
     "random-camera yaw spread"),
    # training
    ("training/loss.py", "total = total + (penalty * (self.cfg.r1_gamma / 2)).mean()",
     "total = total + (penalty * self.cfg.r1_gamma).mean()", TRAIN, "R1 weight gamma instead of gamma/2"),
    ("training/loss.py", "penalty = g_img.square().sum([1, 2, 3]) + g_raw.square().sum([1, 2, 3])",
     "penalty = g_img.square().sum([1, 2, 3])", TRAIN, "R1 ignores the raw image"),
    ("training/loss.py", "gen = self.run_G(gen_z, gen_c, cur_nimg, update_emas=True, body=gen_body)",
     "gen = self.run_G(gen_z, gen_c, cur_nimg, update_emas=False, body=gen_body)", TRAIN, "w_avg never tracked"),
    ("training/loss.py", "f = torch.arange(-size, size + 1, device=image.device, dtype=torch.float32).div(sigma)"
     ".square().neg().exp2()", "f = torch.arange(-size, size + 1, device=image.device, dtype=torch.float32)"
     ".div(sigma).square().neg().exp()", TRAIN, "blur kernel base e"),
    ("training/loss.py", "return torch.where(draw < prob, torch.roll(c, 1, 0), c)",
     "return torch.where(draw > prob, torch.roll(c, 1, 0), c)", TRAIN, "pose swap inverted"),
    ("training/loss.py", "ws = torch.cat([ws[:, :cutoff], other[:, cutoff:]], dim=1)",
     "ws = torch.cat([other[:, :cutoff], ws[:, cutoff:]], dim=1)", TRAIN, "style mixing reversed"),
    ("training/loss.py", "perturbed = initial + self._randn_like(initial) * self.cfg.density_reg_p_dist",
     "perturbed = initial + self._randn_like(initial)", TRAIN, "density reg perturbation scale"),
    ("training/loss.py", "return F.l1_loss(sigma[:, :n], sigma[:, n:]) * self.cfg.density_reg",
     "return F.mse_loss(sigma[:, :n], sigma[:, n:]) * self.cfg.density_reg", TRAIN, "density reg L2"),
    ("training/loss.py", "return (1 - a) * 1 + a * cfg.gpc_reg_prob", "return a * 1 + (1 - a) * cfg.gpc_reg_prob",
     TRAIN, "GPC fade reversed"),
    ("training/loop.py", "b_ema.copy_(b)", "pass", TRAIN, "EMA skips buffers"),
    ("training/loop.py", "beta = 0.5 ** (batch / max(ema_nimg, 1e-8))", "beta = 0.5 ** (max(ema_nimg, 1e-8) / batch)",
     TRAIN, "EMA half-life inverted"),
    ("training/loop.py", 'return {"lr": lr * ratio, "betas": (0.0 ** ratio, 0.99 ** ratio)}',
     'return {"lr": lr, "betas": (0.0 ** ratio, 0.99 ** ratio)}', TRAIN, "lazy-reg lr not rescaled"),
    ("training/loop.py", 'phases += [(name + "main", module, opt, 1), (name + "reg", module, opt, interval)]',
     'phases += [(name + "main", module, opt, 1), (name + "reg", module, opt, 1)]', TRAIN, "reg every step"),
    # shapes
    ("shapes/grid.py", "voxel = cube_length / (resolution - 1)", "voxel = cube_length / resolution", SHAPES,
     "voxel size edge convention"),
    ("shapes/grid.py", "origin = np.asarray(center, dtype=np.float64) - cube_length / 2",
     "origin = np.asarray(center, dtype=np.float64)", SHAPES, "grid origin at the centre"),
    ("shapes/export.py", "mrc.set_data(np.ascontiguousarray(grid.values.transpose(2, 1, 0), dtype=np.float32))",
     "mrc.set_data(np.ascontiguousarray(grid.values, dtype=np.float32))", SHAPES, ".mrc axes not [z, y, x]"),
    ("shapes/export.py", "mrc.header.origin = tuple(float(o) for o in grid.origin)",
     "mrc.header.origin = tuple(float(o) for o in grid.origin[::-1])", SHAPES, ".mrc origin reversed"),
    ("shapes/grid.py", "return torch.stack([ticks[0][flat // (ny * nz)], ticks[1][(flat // nz) % ny], "
     "ticks[2][flat % nz]], dim=-1)", "return torch.stack([ticks[0][flat % nz], ticks[1][(flat // nz) % ny], "
     "ticks[2][flat // (ny * nz)]], dim=-1)", SHAPES, "lattice order z-major"),
    # sampling
    ("sampling/views.py", "return torch.from_numpy(np.random.RandomState(seed).randn(1, z_dim)).float()",
     "return torch.randn(1, z_dim, generator=torch.Generator().manual_seed(seed))", SAMP, "seed -> z not EG3D's"),
    ("sampling/views.py", "pitches = torch.tensor([math.pi / 2 + v[1] for v in views])",
     "pitches = torch.tensor([math.pi / 2 - v[1] for v in views])", SAMP, "pitch offset sign"),
    ("sampling/views.py", "yaws = torch.tensor([math.pi / 2 + v[0] for v in views])",
     "yaws = torch.tensor([math.pi / 2 + v[1] for v in views])", SAMP, "yaw read from pitch"),
    ("sampling/render.py", "truncation_cutoff=truncation_cutoff) for s in seeds])",
     "truncation_cutoff=None) for s in seeds])", SAMP, "seed_ws ignores the cutoff"),
    ("sampling/video.py", "f = t - math.floor(t)", "f = 0.5", SAMP, "no interpolation between keys"),
    ("sampling/video.py", "pitch = math.pi / 2 - 0.05 + pitch_range * math.cos(2 * math.pi * phase)",
     "pitch = math.pi / 2 - 0.05 + pitch_range * math.sin(2 * math.pi * phase)", SAMP, "orbit phase"),
    ("sampling/video.py", "return make_label(lookat_pose(torch.tensor([yaw]), torch.tensor([pitch]), radius, pivot),",
     "return make_label(lookat_pose(torch.tensor([pitch]), torch.tensor([yaw]), radius, pivot),", SAMP,
     "orbit yaw and pitch swapped"),
]


def scratch_copy(work: Path) -> Path:
    """The repository without .git and the virtual environment, at work/repo."""
    repo = work / "repo"
    shutil.copytree(ROOT, repo, ignore=shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.egg-info"))
    if (ROOT.parent / "shared").is_dir():  # ../shared beside the copy too (fixtures, SPEC.md), as beside the checkout
        (work / "shared").symlink_to(ROOT.parent / "shared")
    return repo


def run_mutant(repo: Path, pristine: Path, mutant: tuple, timeout: int, whole_suite: bool = False) -> dict:
    """Plant one mutant (old == new: the unmutated control), run its tests (or all of tests/), restore the file."""
    rel, old, new, tests, note = mutant
    target = repo / "op3d" / rel
    source = (pristine / rel).read_text()
    if source.count(old) != 1:
        return {"file": rel, "note": note, "status": f"fragment found {source.count(old)} times"}
    target.write_text(source.replace(old, new))
    files = ["tests"] if whole_suite else [
        f"tests/{t}" for t in dict.fromkeys(tests) if (repo / "tests" / t.split("::")[0]).is_file()]
    start = time.time()
    try:
        proc = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *files],
                              cwd=repo, capture_output=True, text=True, timeout=timeout)
        status = "survived" if proc.returncode == 0 else "killed"
        last = (proc.stdout.strip().splitlines() or [""])[-1]
    except subprocess.TimeoutExpired:
        status, last = "killed (timeout)", ""
    finally:
        target.write_text(source)
    return {"file": rel, "note": note, "status": status, "seconds": round(time.time() - start, 1), "pytest": last,
            "old": old, "new": new}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=None, help="run mutants whose file or note contains this")
    ap.add_argument("--mutants", default=None, help="a .py file defining another MUTANTS list")
    ap.add_argument("--confirm", action="store_true", help="re-run each survivor against the whole suite")
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "mutation_check.json"))
    args = ap.parse_args()
    mutants = MUTANTS
    if args.mutants:
        scope = {k: v for k, v in globals().items() if k in ("NET", "COND", "REND", "MET", "TRAIN", "SHAPES", "SAMP")}
        exec(compile(Path(args.mutants).read_text(), args.mutants, "exec"), scope)  # a list written by us
        mutants = scope["MUTANTS"]
    chosen = [m for m in mutants if args.only is None or args.only in m[0] or args.only in m[4]]
    with tempfile.TemporaryDirectory(prefix="op3d-mutants-") as tmp:
        repo = scratch_copy(Path(tmp))
        pristine = Path(tmp) / "pristine"
        shutil.copytree(repo / "op3d", pristine)
        # control: the unmutated library must pass every mapped test file, else "killed" would mean nothing
        every = sorted({t for m in chosen for t in m[3]})
        control = run_mutant(repo, pristine, ("networks/decoder.py", "class OSGDecoder", "class OSGDecoder", every,
                                              "control"), args.timeout)
        print(f"control (no change, {len(every)} test files): {control['pytest']}", flush=True)
        if control["status"] != "survived":
            sys.exit("the tests fail without any mutation; fix them first")
        results = []
        for i, m in enumerate(chosen):
            r = run_mutant(repo, pristine, m, args.timeout)
            if args.confirm and r["status"] == "survived":  # the mapping may have missed a covering test
                whole = run_mutant(repo, pristine, m, args.timeout, whole_suite=True)
                r["status"] = "killed (whole suite)" if whole["status"].startswith("killed") else "survived"
                r["pytest"] = whole["pytest"]
            results.append(r)
            print(f"[{i + 1}/{len(chosen)}] {r['status']:>16s}  {r['file']}: {r['note']}  {r.get('pytest', '')}",
                  flush=True)
    killed = sum(r["status"].startswith("killed") for r in results)
    valid = sum(r["status"] == "survived" or r["status"].startswith("killed") for r in results)
    print(f"killed {killed} of {valid} mutants ({100 * killed / max(valid, 1):.0f}%)")
    for r in results:
        if r["status"] == "survived":
            print(f"  survived: {r['file']}: {r['note']}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"killed": killed, "mutants": valid, "control": control["pytest"],
                                          "results": results}, indent=1))


if __name__ == "__main__":
    main()
