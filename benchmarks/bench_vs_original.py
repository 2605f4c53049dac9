"""op3d against the original OrthoPlanes code (github.com/OrthoPlanes/op3d): the same weights and inputs, timed in
alternating fresh subprocesses, with a correctness check per case.

Cases (all by default, `--cases` picks some):
  g_fwd_bwd  training step: B=2, out = G(z, c); loss = mean(image^2) + mean(image_raw^2); backward (train mode)
  g_fwd      one image: B=1 under no_grad (eval mode)
  gridN      raw density on an N^3 grid for one latent (e.g. grid128, grid256), as a shape export does:
             op3d computes the planes once and calls density_grid; the original does what its gen_samples.py does,
             G.sample over chunks of 1,000,000 points (rebuilding the planes for every chunk), then flips and pads.
Every (side, case) runs in its own process, which builds the model, runs one warm-up iteration, times --repeats
iterations and reports min/median seconds and peak RSS. Sides alternate within a round and swap order on odd
rounds. Both sides use noise_mode='const' and deterministic ray sampling (stratified jitter 0.5, importance
u = linspace(0, 1, N)), so the outputs can be compared: relative L2 of the image or of the raw sigma grid (and of
the parameter gradients for g_fwd_bwd, JSON only).

Weights: the original generator's parameters plus 0.1 * N(0, 1) (seeded; buffers such as the resampling filters
kept), loaded into op3d under the original names. The original code is never vendored: clone it and pass its
`op3d` folder (it needs `pip install requests`; on CPU its CUDA plugins fall back to reference ops):

    git clone https://github.com/OrthoPlanes/op3d /tmp/orig
    python benchmarks/bench_vs_original.py --original /tmp/orig/op3d [--cases g_fwd_bwd,g_fwd,grid128,grid256]
        [--rounds 2] [--repeats 3] [--K 8] [--L 10] [--cbase 8192] [--cmax 128] [--resolution 128] [--nrr 32]
        [--samples 24] [--mapping-layers 2] [--threads N] [--out benchmarks/results/vs_original_cpu.json]

OP3D_ORIGINAL may stand in for --original.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
from original_runs import deterministic_sampling  # noqa: E402  (shared with the fixture builders)

DEFAULT_CASES = "g_fwd_bwd,g_fwd,grid128,grid256"
SR_MODULES = {128: "training.superresolution.SuperresolutionHybrid2X",
              256: "training.superresolution.SuperresolutionHybrid4X",
              512: "training.superresolution.SuperresolutionHybrid8XDC"}
ORIGINAL_GRID_CHUNK = 1_000_000  # gen_samples.py's max_batch
REL_L2_OK = 1e-4
# The released FFHQ-style rendering settings (as in the shared parity fixtures); samples and resolution come from flags.
RENDERING_KWARGS = {"disparity_space_sampling": False, "clamp_mode": "softplus", "c_gen_conditioning_zero": False,
                    "gpc_reg_prob": 0.5, "c_scale": 1.0, "superresolution_noise_mode": "none", "density_reg": 0.25,
                    "density_reg_p_dist": 0.004, "reg_type": "l1", "decoder_lr_mul": 1.0, "sr_antialias": True,
                    "ray_start": 2.25, "ray_end": 3.3, "box_warp": 1, "avg_camera_radius": 2.7,
                    "avg_camera_pivot": [0, 0, 0.2]}


# ---------------------------------------------------------------------------------------------- configuration
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--original", default=os.environ.get("OP3D_ORIGINAL"),
                    help="the op3d folder of a checkout of github.com/OrthoPlanes/op3d (default: $OP3D_ORIGINAL)")
    ap.add_argument("--cases", default=DEFAULT_CASES)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--K", type=int, default=8, help="planes per axis (per_dir_plane_number)")
    ap.add_argument("--L", type=int, default=10, help="Fourier frequencies (fourier_L)")
    ap.add_argument("--cbase", type=int, default=8192)
    ap.add_argument("--cmax", type=int, default=128)
    ap.add_argument("--resolution", type=int, default=128, choices=sorted(SR_MODULES))
    ap.add_argument("--nrr", type=int, default=32, help="neural rendering resolution")
    ap.add_argument("--samples", type=int, default=24, help="uniform = importance samples per ray")
    ap.add_argument("--mapping-layers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--device", default="cpu", help="cpu or cuda (the original compiles its CUDA plugins there)")
    ap.add_argument("--batch", type=int, default=2, help="batch of the g_fwd_bwd case")
    ap.add_argument("--representation", default="orthoplanes", choices=["orthoplanes", "triplane"],
                    help="triplane: EG3D's TriPlaneGenerator (training/triplane.py of the same checkout)")
    ap.add_argument("--fp16-res", type=int, default=0, help="num_fp16_res and sr_num_fp16_res (the original's "
                    "GPU training default is 4; CPUs run fp32)")
    ap.add_argument("--out", default="benchmarks/results/vs_original_cpu.json")
    ap.add_argument("--op3d-paths", action="append", default=[], metavar="NAME:OP=PATH,...",
                    help="also time op3d with these op paths (op3d.ops.dispatch.op_paths), as the side op3d:NAME; "
                    "e.g. gpu:plane_sampling=reference,upsample2x=reference (repeatable); the item compile runs that "
                    "side's G.synthesis through torch.compile, e.g. compiled:compile,upsample2x=reference")
    ap.add_argument("--profile", metavar="DIR", help="also write each side's operator profile of two steps "
                    "(torch.profiler, top 30 by self device time) to DIR/profile_<representation>_<side>_<case>.txt")
    # Internal: a child process measuring one (side, case), or preparing the shared weights and inputs.
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--scratch", help=argparse.SUPPRESS)
    return ap.parse_args(argv)


def config_flags(args: argparse.Namespace) -> list[str]:
    """The flags that define the model and inputs, passed on to every child so both sides build the same thing."""
    return ["--original", args.original, "--K", str(args.K), "--L", str(args.L), "--cbase", str(args.cbase),
            "--cmax", str(args.cmax), "--resolution", str(args.resolution), "--nrr", str(args.nrr),
            "--samples", str(args.samples), "--mapping-layers", str(args.mapping_layers), "--seed", str(args.seed),
            "--repeats", str(args.repeats), "--threads", str(args.threads), "--device", args.device,
            "--batch", str(args.batch), "--representation", args.representation, "--fp16-res", str(args.fp16_res),
            *(["--profile", args.profile] if args.profile else []),
            *(flag for paths in args.op3d_paths for flag in ("--op3d-paths", paths))]


def op3d_specs(args: argparse.Namespace) -> dict[str, tuple[str, bool]]:
    """{side "op3d:NAME": (its op paths text, compiled)} from --op3d-paths NAME:ITEM,...; the item "compile" is
    not an op path but runs that side's G.synthesis through torch.compile (default mode; the warm-up step
    compiles, its time is reported as warmup_s)."""
    out = {}
    for spec in args.op3d_paths:
        name, sep, paths = spec.partition(":")
        if not sep or not name:
            sys.exit(f"--op3d-paths: expected NAME:OP=PATH,..., got {spec!r}")
        items = [p.strip() for p in paths.split(",")]
        out[f"op3d:{name}"] = (",".join(p for p in items if p != "compile"), "compile" in items)
    return out


def variants(args: argparse.Namespace) -> dict[str, dict[str, str]]:
    """{side: op paths} for op3d's sides: "op3d" with the defaults, one "op3d:NAME" per --op3d-paths."""
    from op3d.ops.dispatch import parse_op_paths
    out = {"op3d": {}}
    for side, (paths, _) in op3d_specs(args).items():
        try:
            out[side] = parse_op_paths(paths)
        except ValueError as err:
            sys.exit(f"--op3d-paths of side {side}: {err}")
    return out


def compiled_sides(args: argparse.Namespace) -> set[str]:
    """op3d sides whose --op3d-paths spec holds the item "compile"."""
    return {side for side, (_, compiled) in op3d_specs(args).items() if compiled}


def sides(args: argparse.Namespace) -> list[str]:
    return ["original", *variants(args)]


def generator_kwargs(args: argparse.Namespace) -> dict:
    """TriMultiPlaneGenerator's constructor arguments (op3d's Generator takes the same names)."""
    rendering = dict(RENDERING_KWARGS, image_resolution=args.resolution, depth_resolution=args.samples,
                     depth_resolution_importance=args.samples, superresolution_module=SR_MODULES[args.resolution])
    planes = {"per_dir_plane_number": args.K, "fourier_L": args.L} if args.representation == "orthoplanes" else {}
    return {**planes, "z_dim": 512, "w_dim": 512, "c_dim": 25,
            "img_resolution": args.resolution, "img_channels": 3, "sr_num_fp16_res": args.fp16_res,
            "rendering_kwargs": rendering,
            "sr_kwargs": {"channel_base": args.cbase, "channel_max": args.cmax,
                          "fused_modconv_default": "inference_only"},
            "channel_base": args.cbase, "channel_max": args.cmax, "num_fp16_res": args.fp16_res,
            # EG3D's train.py: conv_clamp 256 with fp16 layers, none without
            "conv_clamp": 256 if args.fp16_res > 0 else None,
            "mapping_kwargs": {"num_layers": args.mapping_layers}, "fused_modconv_default": "inference_only"}


# The generator's module in the original checkout. The tri-plane comes from EG3D itself: OP3D's copy of
# training/triplane.py was changed to 128-channel planes and decoder.
ORIGINAL_MODULES = {"orthoplanes": "orthoplanes.py", "triplane": "triplane.py"}


def original_dir(args: argparse.Namespace) -> Path:
    if not args.original:
        sys.exit("pass --original DIR (or set OP3D_ORIGINAL): the op3d folder of a checkout of "
                 "github.com/OrthoPlanes/op3d")
    path = Path(args.original).resolve()
    module = ORIGINAL_MODULES[getattr(args, "representation", "orthoplanes")]
    if not (path / "training" / module).is_file():
        sys.exit(f"--original {path} has no training/{module}; pass the op3d folder of an OrthoPlanes/op3d checkout "
                 "(orthoplanes) or the eg3d folder of an NVlabs/eg3d checkout (triplane)")
    return path


# ---------------------------------------------------------------------------------------------- models and inputs
def register_loaded_plugins() -> None:
    """Let the original's CUDA plugins load under today's PyTorch, leaving its code unchanged: its
    custom_ops.get_plugin builds with torch.utils.cpp_extension.load and then imports the plugin by name
    (importlib.import_module), but recent PyTorch loads the built module without entering it in sys.modules
    (`_import_module_from_library`), so that import fails with "No module named 'bias_act_plugin'". Enter it."""
    import torch.utils.cpp_extension as cpp_extension
    if getattr(cpp_extension.load, "registers_module", False):
        return
    load = cpp_extension.load

    def load_and_register(name, *args, **kwargs):
        module = load(name, *args, **kwargs)
        sys.modules.setdefault(name, module)
        return module
    load_and_register.registers_module = True
    cpp_extension.load = load_and_register


def compile_plugin(name: str, args: argparse.Namespace) -> None:
    """Child job: build (or load from the extension cache) one of the original's CUDA plugins and say whether it
    loaded, so the timed workers later find it built."""
    register_loaded_plugins()
    sys.path.insert(0, str(original_dir(args)))
    t0 = time.perf_counter()
    module = __import__(f"torch_utils.ops.{name}", fromlist=["_init"])
    print(f"original plugin {name}: loaded {module._init()} after {time.perf_counter() - t0:.0f} s", flush=True)


def import_original(path: Path, representation: str = "orthoplanes") -> type:
    register_loaded_plugins()
    sys.path.insert(0, str(path))  # the original imports its packages (training, torch_utils, dnnlib) top-level
    if representation == "triplane":
        from training.triplane import TriPlaneGenerator
        return TriPlaneGenerator
    from training.orthoplanes import TriMultiPlaneGenerator
    return TriMultiPlaneGenerator


def camera_labels(n: int = 2) -> torch.Tensor:
    """n FFHQ-like LookAt cameras (yaw within +-0.25 rad of frontal, radius 2.7, looking at (0, 0, 0.2), focal
    4.2647): [n, 25]."""
    from op3d.data.cameras import intrinsics, lookat_pose, make_label
    yaw = math.pi / 2 + torch.linspace(0.25, -0.25, n)
    return make_label(lookat_pose(yaw, math.pi / 2, radius=2.7, lookat=(0.0, 0.0, 0.2)), intrinsics())


def original_plugins_ran() -> bool | None:
    """Whether the original's compiled CUDA ops ran (None where it did not try: on the CPU it uses its
    reference ops)."""
    try:
        from torch_utils.ops import bias_act, upfirdn2d
    except ImportError:
        return None
    return bool(getattr(bias_act, "_plugin", None)) and bool(getattr(upfirdn2d, "_plugin", None))


def perturbed_state_dict(G: torch.nn.Module, seed: int) -> dict[str, torch.Tensor]:
    """Every parameter + 0.1 * N(0, 1), so no bias is zero and no path is trivially linear (as the parity fixtures
    were made). Buffers stay: the resampling filters must remain the [1, 3, 3, 1] filters every real model has."""
    gen = torch.Generator().manual_seed(seed)
    params = dict(G.named_parameters())
    return {k: v + 0.1 * torch.randn(v.shape, generator=gen) if k in params else v
            for k, v in G.state_dict().items()}


def prepare(args: argparse.Namespace, payload: Path) -> None:
    """Child job: build the original generator, perturb it and save its state dict with the inputs z, c."""
    torch.manual_seed(args.seed)
    G = import_original(original_dir(args), args.representation)(**generator_kwargs(args))
    n = max(2, args.batch)
    z = torch.randn(n, 512, generator=torch.Generator().manual_seed(args.seed + 1))
    torch.save({"state_dict": perturbed_state_dict(G, args.seed), "z": z, "c": camera_labels(n)}, payload)


def build(side: str, args: argparse.Namespace, state_dict: dict[str, torch.Tensor], train: bool) -> torch.nn.Module:
    kw = generator_kwargs(args)
    if side == "original":
        G = import_original(original_dir(args), args.representation)(**kw)
        G.load_state_dict(state_dict)
        deterministic_sampling(G.renderer)  # jitter 0.5, det=True: op3d's deterministic=True
    else:
        from op3d.networks.generator import Generator
        G = Generator(representation=args.representation, legacy_axes=True, **kw)
        G.load_state_dict({k: v for k, v in state_dict.items() if k != "dataset_label_std"})
    G = G.to(args.device)
    return G.train() if train else G.eval().requires_grad_(False)


# ---------------------------------------------------------------------------------------------- work items
def image_step(side: str, G: torch.nn.Module, z: torch.Tensor, c: torch.Tensor, nrr: int,
               backward: bool) -> Callable[[], torch.Tensor]:
    """One G(z, c): with backward, a training-style step on mean(image^2) + mean(image_raw^2). Returns the image."""
    extra = {} if side == "original" else {"deterministic": True}  # the original is made deterministic by patching

    def step() -> torch.Tensor:
        G.zero_grad(set_to_none=True)
        with torch.set_grad_enabled(backward):
            out = G(z, c, neural_rendering_resolution=nrr, noise_mode="const", **extra)
            if backward:
                (out["image"].square().mean() + out["image_raw"].square().mean()).backward()
        return out["image"].detach()

    return step


def original_grid_step(G: torch.nn.Module, ws: torch.Tensor, c: torch.Tensor, N: int) -> Callable[[], np.ndarray]:
    """gen_samples.py's shape export at op3d's grid points (same count, order and extent; gen_samples' own points
    are off the lattice, see `grid_points_note`): G.sample per 1e6-point chunk, then flip and pad."""
    from op3d.shapes.grid import grid_points

    def step() -> np.ndarray:
        with torch.no_grad():
            points = grid_points(N, float(G.rendering_kwargs["box_warp"]))[0].unsqueeze(0).to(ws.device)  # [1, P, 3]
            directions = torch.zeros(1, ORIGINAL_GRID_CHUNK, 3, device=ws.device)
            directions[..., -1] = -1
            sigma = torch.zeros(1, points.shape[1], 1, device=ws.device)
            for head in range(0, points.shape[1], ORIGINAL_GRID_CHUNK):
                chunk = points[:, head:head + ORIGINAL_GRID_CHUNK]
                sigma[:, head:head + ORIGINAL_GRID_CHUNK] = G.sample(
                    chunk, directions[:, :chunk.shape[1]], ws, c, noise_mode="const")["sigma"]
        raw = sigma.reshape(N, N, N).cpu().numpy()
        trimmed = np.flip(raw, 0).copy()  # one copy, as op3d's trim_border makes
        pad = int(30 * N / 256)
        for axis in range(3):
            view = np.moveaxis(trimmed, axis, 0)
            view[:pad], view[-pad:] = -1000, -1000
        return raw

    return step


def op3d_grid_step(G: torch.nn.Module, ws: torch.Tensor, N: int) -> Callable[[], np.ndarray]:
    """op3d's shape export: planes once, density_grid (chunks of 2^20 points), then the border trimming."""
    from op3d.sampling.render import density_grid
    from op3d.shapes.grid import trim_border

    def step() -> np.ndarray:
        with torch.no_grad():
            grid = density_grid(G, G.planes(ws, noise_mode="const"), N, trim=False)
        trim_border(grid)
        return grid.values

    return step


def workload(side: str, case: str, args: argparse.Namespace, payload: dict) -> tuple[torch.nn.Module, Callable]:
    z, c = payload["z"].to(args.device), payload["c"].to(args.device)
    train = case == "g_fwd_bwd"
    G = build(side, args, payload["state_dict"], train)
    if case in ("g_fwd_bwd", "g_fwd"):
        B = args.batch if train else 1
        return G, image_step(side, G, z[:B], c[:B], args.nrr, backward=train)
    N = grid_resolution(case)
    with torch.no_grad():
        ws = G.mapping(z[:1], c[:1])
    return G, original_grid_step(G, ws, c[:1], N) if side == "original" else op3d_grid_step(G, ws, N)


def grid_resolution(case: str) -> int:
    if not (case.startswith("grid") and case[4:].isdigit()):
        raise ValueError(f"--cases: unknown case {case!r}; use g_fwd_bwd, g_fwd or gridN (e.g. grid128)")
    return int(case[4:])


# ---------------------------------------------------------------------------------------------- child process
def run_worker(side: str, case: str, args: argparse.Namespace) -> None:
    """Child job: time one (side, case), save its output for the check, print one JSON line."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    payload = torch.load(Path(args.scratch) / "payload.pt", weights_only=True)
    G, step = workload(side, case, args, payload)
    del payload
    if side in compiled_sides(args):
        G.synthesis = torch.compile(G.synthesis)
    cuda = torch.device(args.device).type == "cuda"
    t0 = time.perf_counter()
    step()  # warm-up: allocator, thread pool, lazily built filters (the original's CUDA plugins, torch.compile)
    if cuda:
        torch.cuda.synchronize()
    warmup_s = time.perf_counter() - t0
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        result = step()
        if cuda:
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    save_outputs(Path(args.scratch), side, case, G, result)
    if args.profile:
        write_profile(step, cuda, Path(args.profile) / f"profile_{args.representation}_{side}_{case}.txt")
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    report = {"side": side, "case": case, "times_s": times, "min_s": min(times),
              "median_s": statistics.median(times), "peak_rss_kib": rss_kib, "warmup_s": warmup_s}
    if cuda:
        report["peak_gpu_gib"] = torch.cuda.max_memory_allocated() / 2 ** 30
        if side == "original":
            report["original_cuda_plugins"] = original_plugins_ran()
    print(json.dumps(report), flush=True)


def write_profile(step: Callable, cuda: bool, path: Path) -> None:
    """Two more steps under torch.profiler; the operator table sorted by self time on the device that ran them."""
    from torch.profiler import ProfilerActivity, profile
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if cuda else [])
    with profile(activities=activities) as prof:
        for _ in range(2):
            step()
        if cuda:
            torch.cuda.synchronize()
    table = prof.key_averages().table(sort_by="self_cuda_time_total" if cuda else "self_cpu_time_total",
                                      row_limit=30)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(table)


def save_outputs(scratch: Path, side: str, case: str, G: torch.nn.Module, result) -> None:
    """The compared output, and for the training step the gradients under the (shared) original names."""
    result = result.cpu().numpy() if isinstance(result, torch.Tensor) else result
    np.save(scratch / f"{side}_{case}.npy", np.asarray(result, dtype=np.float32))
    if case == "g_fwd_bwd":
        grads = {n: p.grad.cpu().numpy() for n, p in G.named_parameters() if p.grad is not None}
        np.savez(scratch / f"{side}_{case}_grads.npz", **grads)


# ---------------------------------------------------------------------------------------------- parent
def spawn(args: argparse.Namespace, scratch: Path, worker: list[str]) -> str:
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    cmd = [sys.executable, str(Path(__file__).resolve()), *config_flags(args), "--scratch", str(scratch),
           "--worker", *worker]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"worker {' '.join(worker)} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return proc.stdout


def measure(args: argparse.Namespace, scratch: Path, side: str, case: str) -> dict:
    stdout = spawn(args, scratch, [side, case])
    # The original prints its own messages; the worker's report is the last line.
    result = json.loads(stdout.strip().splitlines()[-1])
    gpu = f"  peak GPU {result['peak_gpu_gib']:6.2f} GiB" if "peak_gpu_gib" in result else ""
    print(f"  {case:10s} {side:24s} median {result['median_s']:8.3f} s  "
          f"peak RSS {result['peak_rss_kib'] / 2 ** 20:6.2f} GiB{gpu}", flush=True)
    return result


def rel_l2(a: np.ndarray, b: np.ndarray) -> float:
    """||a - b|| / ||b|| in float64 (b: the original's output)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def check(scratch: Path, case: str, side: str = "op3d") -> dict:
    """Relative L2 of op3d's output (side: "op3d" or "op3d:NAME") against the original's (and of the gradients for
    the training step)."""
    ours, theirs = np.load(scratch / f"{side}_{case}.npy"), np.load(scratch / f"original_{case}.npy")
    out = {"compared": "image" if case.startswith("g_") else "raw sigma before flip/trim",
           "rel_l2": rel_l2(ours, theirs)}
    if case.startswith("grid"):
        out["points"] = grid_points_note()
    if case == "g_fwd_bwd":
        ga, gb = np.load(scratch / f"{side}_{case}_grads.npz"), np.load(scratch / f"original_{case}_grads.npz")
        names = sorted(set(ga.files) & set(gb.files))
        out["grad_rel_l2"] = rel_l2(np.concatenate([ga[n].ravel() for n in names]),
                                    np.concatenate([gb[n].ravel() for n in names]))
        out["grad_params_compared"], out["grad_params_unmatched"] = len(names), len(set(ga.files) ^ set(gb.files))
    out["ok"] = out["rel_l2"] < REL_L2_OK
    return out


def grid_points_note() -> str:
    return ("the original is evaluated at op3d's grid points (x-major lattice over the box_warp cube, the same count "
            "and order as gen_samples.py's create_samples), because create_samples computes its y and x indices "
            "with a float division, (i / N) % N, which moves them off the lattice by up to one voxel")


def machine() -> dict:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        model = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                      if line.startswith("model name")), "")
    return {"platform": platform.platform(), "cpu": model or platform.processor(), "cpu_count": os.cpu_count(),
            "python": platform.python_version()}


def summarize(case: str, runs: dict[str, list[dict]], correctness: dict, side: str = "op3d") -> dict:
    """The original against one op3d side (its columns named op3d_*): median over every timed iteration of every
    round, peak RSS the largest of the rounds."""
    row: dict = {"case": case, "op3d_side": side}
    for name, column in (("original", "original"), (side, "op3d")):
        row[f"{column}_median_s"] = statistics.median(t for r in runs[name] for t in r["times_s"])
        row[f"{column}_min_s"] = min(r["min_s"] for r in runs[name])
        row[f"{column}_peak_rss_gib"] = max(r["peak_rss_kib"] for r in runs[name]) / 2 ** 20
        row[f"{column}_warmup_s"] = max(r["warmup_s"] for r in runs[name])  # torch.compile's time for compiled sides
        if "peak_gpu_gib" in runs[name][0]:
            row[f"{column}_peak_gpu_gib"] = max(r["peak_gpu_gib"] for r in runs[name])
    if "original_cuda_plugins" in runs["original"][0]:
        row["original_cuda_plugins"] = runs["original"][0]["original_cuda_plugins"]
    row["speedup"] = row["original_median_s"] / row["op3d_median_s"]
    row["rss_ratio"] = row["original_peak_rss_gib"] / row["op3d_peak_rss_gib"]
    row.update(correctness)
    return row


def print_table(rows: list[dict]) -> None:
    head = (f"{'case':10s} {'op3d side':24s} {'original s':>11s} {'op3d s':>9s} {'speed-up':>9s} {'orig RSS GiB':>13s} "
            f"{'op3d RSS GiB':>13s} {'RSS ratio':>10s} {'rel L2':>9s}")
    print(head)
    print("-" * len(head))
    for r in rows:
        print(f"{r['case']:10s} {r['op3d_side']:24s} {r['original_median_s']:11.3f} "
              f"{r['op3d_median_s']:9.3f} {r['speedup']:8.2f}x "
              f"{r['original_peak_rss_gib']:13.2f} {r['op3d_peak_rss_gib']:13.2f} {r['rss_ratio']:9.2f}x "
              f"{r['rel_l2']:9.1e}")
    print("(medians over all timed iterations; speed-up and RSS ratio are original / op3d)")


def main() -> None:
    args = parse_args()
    if args.worker:
        if args.worker == ["prepare"]:
            prepare(args, Path(args.scratch) / "payload.pt")
        elif args.worker[0] == "plugin":  # --worker plugin bias_act: see compile_plugin
            compile_plugin(args.worker[1], args)
        else:
            from op3d.ops.dispatch import op_paths
            with op_paths(**variants(args).get(args.worker[0], {})):
                run_worker(*args.worker, args)
        return
    original_dir(args)  # fail early with the one-line message
    all_sides = sides(args)
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    try:  # reject a bad case name before minutes of work
        for case in cases:
            if case not in ("g_fwd_bwd", "g_fwd"):
                grid_resolution(case)
    except ValueError as err:
        sys.exit(str(err))
    with tempfile.TemporaryDirectory(prefix="op3d_vs_original_") as tmp:
        scratch = Path(tmp)
        spawn(args, scratch, ["prepare"])
        runs = {case: {side: [] for side in all_sides} for case in cases}
        for r in range(args.rounds):
            print(f"round {r + 1}/{args.rounds}", flush=True)
            for case in cases:
                for side in all_sides if r % 2 == 0 else all_sides[::-1]:  # alternate who runs first
                    runs[case][side].append(measure(args, scratch, side, case))
                    write_report(args, {"partial": True, "raw": runs})  # kept if a time limit stops the run
        rows = [summarize(case, runs[case], check(scratch, case, side), side) for case in cases
                for side in all_sides[1:]]
    print_table(rows)
    report = {"benchmark": "op3d vs the original OrthoPlanes generator (same weights, same inputs)",
              "torch": torch.__version__, "threads": args.threads, "machine": machine(),
              "config": {k: v for k, v in vars(args).items() if k not in ("worker", "scratch")},
              "generator_kwargs": generator_kwargs(args),
              "grid_chunk_points": {"original": ORIGINAL_GRID_CHUNK, "op3d": 1 << 20},
              "rows": rows, "raw": runs}
    write_report(args, report)
    print(f"wrote {args.out}")


def write_report(args: argparse.Namespace, report: dict) -> None:
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=1))
    tmp.replace(out)


if __name__ == "__main__":
    main()
