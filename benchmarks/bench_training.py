"""Training speed and memory per configuration: sec/kimg and peak GPU memory of the full G+D step
(lazy R1 and density regularization included), on the built-in synthetic data at the requested resolution.
--conditional: the SMPL-pose-conditional step on the built-in posed bodies (inverse LBS, mesh SDF, lazy eikonal
and SDF prior instead of the density regularizer), preset "body"; with --profile-mesh, wall-clock timers around
the mesh queries inside the training phases give their share of the step (inverse LBS and mesh SDF in full,
index builds included, plus the per-batch mesh checks and inverse-transform tables; the Warp closest-face and
nearest-vertex launches and the index builds separately; on a GPU each timer synchronizes, which slows the step
a little).

    python benchmarks/bench_training.py --device cuda --resolution 512 --batch 4 --steps 12 \
        --out benchmarks/results/training_cuda.json
    python benchmarks/bench_training.py --device cuda --conditional --resolution 64 --nrr 32 --batch 32 \
        --cases orthoplanes:8 --out benchmarks/results/training_conditional_cuda.json
"""
from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import torch

from op3d.conditioning.mesh_index import mesh_query_method, resolve_method
from op3d.data.synthetic import make_synthetic_dataset
from op3d.data.synthetic_body import make_body_dataset
from op3d.training.distributed import DistInfo
from op3d.training.loop import TrainConfig, training_loop
from op3d.training.loss import LossConfig


@contextlib.contextmanager
def mesh_timers():
    """Yield a dict that fills with seconds spent in the mesh queries and in the training phases (the timers count
    only inside `accumulate_gradients`: set-up and image grids are left out)."""
    import op3d.networks.conditional as conditional
    from op3d.conditioning.mesh_index import MeshIndex, warp_available
    from op3d.conditioning.posed import PosedBody
    from op3d.training.loss import GANLoss

    seconds: dict[str, float] = defaultdict(float)
    inside = [False]
    # the first four add up to all mesh-query work; index_builds is part of the first two
    targets = [(conditional, "mesh_sdf", "mesh_sdf"), (conditional, "inverse_lbs", "inverse_lbs"),
               (PosedBody, "mesh_index", "index_checks"), (PosedBody, "inverse_transform_table", "lbs_table"),
               (MeshIndex, "_build_all", "index_builds")]
    if warp_available():
        from op3d.conditioning.warp_queries import WarpMesh
        targets += [(WarpMesh, "closest_face", "warp_closest_face"),
                    (WarpMesh, "closest_vertex", "warp_nearest_vertex")]
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in targets]
    saved.append((GANLoss, "accumulate_gradients", GANLoss.accumulate_gradients))

    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)  # GPU work ends in the timer

    def timed(fn, key, phase=False):
        def wrapper(*args, **kwargs):
            if phase:
                inside[0] = True
            sync()
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                sync()
                if inside[0]:
                    seconds[key] += time.perf_counter() - t
                if phase:
                    inside[0] = False
        return wrapper
    for (owner, name, key), (_, _, fn) in zip(targets, saved):
        setattr(owner, name, timed(fn, key))
    GANLoss.accumulate_gradients = timed(saved[-1][2], "phases", phase=True)
    try:
        yield seconds
    finally:
        for owner, name, fn in saved:
            setattr(owner, name, fn)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--resolution", type=int, default=128)
    ap.add_argument("--nrr", type=int, default=64, help="neural rendering resolution")
    ap.add_argument("--cfg", default="ffhq")
    ap.add_argument("--size", default="full")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--steps", type=int, default=12, help="timed steps (after 4 warm-up steps)")
    ap.add_argument("--cases", default="triplane:1,orthoplanes:4,orthoplanes:8,orthoplanes:12")
    ap.add_argument("--conditional", action="store_true", help="pose-conditional training (preset body)")
    ap.add_argument("--mesh-method", default="auto", choices=["auto", "warp", "clusters"],
                    help="--conditional: mesh queries through Warp or op3d's torch cluster search (the reference)")
    ap.add_argument("--body-margin", default="0.1",
                    help="--conditional: metres around each posed body's box that rays sample, or 'none' (whole box)")
    ap.add_argument("--profile-mesh", action="store_true", help="--conditional: the mesh queries' share of the step")
    ap.add_argument("--fp32", action="store_true", help="no fp16 layers (default: the original's SR 4, D 4)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    device = torch.device(args.device)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        make = make_body_dataset if args.conditional else make_synthetic_dataset
        data = make(Path(tmp) / "data.zip", max(2 * args.batch, 16), args.resolution, seed=0, progress=False)
        for case in args.cases.split(","):
            rep, K = case.split(":")
            cfg = TrainConfig(outdir=str(Path(tmp) / "runs"), data=str(data), size=args.size,
                              cfg="body" if args.conditional else args.cfg, conditional=args.conditional,
                              representation=rep, plane_number=int(K), fourier_L=10, batch=args.batch,
                              workers=2, kimg=1e9, tick=1e9, snap=10 ** 6,
                              sr_num_fp16_res=0 if args.fp32 else 4, d_num_fp16_res=0 if args.fp32 else 4,
                              body_box_margin=None if args.body_margin == "none" else float(args.body_margin),
                              loss=LossConfig(neural_rendering_resolution_initial=args.nrr))
            info = DistInfo(device=device)
            with mesh_query_method(args.mesh_method):
                training_loop(cfg, info, max_steps=4, log=False)  # warm-up (kernels, allocator)
                if device.type == "cuda":
                    torch.cuda.synchronize()
                    torch.cuda.reset_peak_memory_stats()
                with mesh_timers() if args.profile_mesh else contextlib.nullcontext() as seconds:
                    result = training_loop(cfg, info, max_steps=args.steps, log=False)
            row = {"conditional": args.conditional, "representation": rep, "K": int(K),
                   "resolution": args.resolution, "nrr": args.nrr, "batch": args.batch,
                   "size": args.size, "fp16_sr_d": not args.fp32,
                   "mesh_method": resolve_method(args.mesh_method, device) if args.conditional else None,
                   "body_margin": args.body_margin if args.conditional else None,
                   "sec_per_kimg": result["stats"]["Timing/sec_per_kimg"]}  # steps only, not the run's set-up
            if seconds:
                row["profile_seconds"] = dict(seconds)
                row["mesh_share_of_phases"] = {k: v / seconds["phases"] for k, v in seconds.items() if k != "phases"}
                row["mesh_share_of_phases"]["all_mesh_queries"] = sum(
                    seconds[k] for k in ("mesh_sdf", "inverse_lbs", "index_checks", "lbs_table")) / seconds["phases"]
            if device.type == "cuda":
                row["peak_mem_gib"] = torch.cuda.max_memory_allocated() / 2 ** 30
            rows.append(row)
            print(f"{rep:12s} K={K:<3s} res {args.resolution} nrr {args.nrr} batch {args.batch}: "
                  f"{row['sec_per_kimg']:8.1f} sec/kimg" + (f"  peak {row['peak_mem_gib']:.1f} GiB"
                                                            if "peak_mem_gib" in row else ""), flush=True)
            for key, share in row.get("mesh_share_of_phases", {}).items():
                print(f"    {key:22s} {100 * share:5.1f}% of the step", flush=True)
    report = {"benchmark": "training step (G+D, lazy regularization)", "device": str(device),
              "device_name": torch.cuda.get_device_name() if device.type == "cuda" else "cpu",
              "torch": torch.__version__, "config": vars(args), "rows": rows}
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
