"""Generator forward+backward time and peak memory: tri-plane and OrthoPlanes K in {4, 8, 12}.

Compares op3d's fast paths (K-batched plane head, separable FIR resampling) with its reference ops
(OP3D's K-replicated head, 2-D FIR after zero insertion). On CPU report the ratio; absolute times
and memory are meaningful on a GPU only.

    python benchmarks/bench_generator.py [--device cuda] [--batch 2] [--repeats 3]
        [--out benchmarks/results/generator_cpu.json]
"""
from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from pathlib import Path

import torch

from op3d.networks.generator import Generator
from op3d.ops.dispatch import reference_ops
from op3d.presets import generator_kwargs


def config(representation: str, K: int, args) -> dict:
    kw = generator_kwargs("ffhq", args.resolution, "full", representation=representation, plane_number=K,
                          fourier_L=10, neural_rendering_resolution=args.nrr,
                          depth_resolution=args.samples, depth_resolution_importance=args.samples)
    kw.update(channel_base=args.cbase, channel_max=args.cmax, plane_resolution=args.plane_res)
    return kw


def labels(B: int, device) -> torch.Tensor:
    cam = torch.tensor([[1, 0, 0, 0], [0, -1, 0, 0], [0, 0, -1, 2.7], [0, 0, 0, 1.0]])
    K = torch.tensor([[4.2647, 0, 0.5], [0, 4.2647, 0.5], [0, 0, 1]])
    return torch.cat([cam.reshape(-1), K.reshape(-1)]).repeat(B, 1).to(device)


def measure(G: Generator, args, device) -> dict:
    z = torch.randn(args.batch, G.z_dim, device=device)
    c = labels(args.batch, device)
    times = []
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    for i in range(args.repeats + 1):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        out = G(z, c)
        (out["image"].square().mean() + out["image_raw"].square().mean()).backward()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if i > 0:  # the first run warms up allocators and kernels
            times.append(time.perf_counter() - t0)
        G.zero_grad(set_to_none=True)
    result = {"seconds": sorted(times)[len(times) // 2]}
    if device.type == "cuda":
        result["peak_mem_gib"] = torch.cuda.max_memory_allocated() / 2 ** 30
    else:
        result["max_rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--resolution", type=int, default=128)
    ap.add_argument("--nrr", type=int, default=32, help="neural rendering resolution")
    ap.add_argument("--samples", type=int, default=24, help="uniform = importance samples per ray")
    ap.add_argument("--cbase", type=int, default=8192)
    ap.add_argument("--cmax", type=int, default=128)
    ap.add_argument("--plane-res", type=int, default=256)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--ks", default="4,8,12")
    ap.add_argument("--skip-reference", action="store_true")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    device = torch.device(args.device)
    cases = [("triplane", 1)] + [("orthoplanes", int(k)) for k in args.ks.split(",")]
    rows = []
    for rep, K in cases:
        torch.manual_seed(0)
        G = Generator(**config(rep, K, args)).to(device).train()
        row = {"representation": rep, "K": K, "fast": measure(G, args, device)}
        if not args.skip_reference:
            with reference_ops():
                row["reference"] = measure(G, args, device)
            row["speedup"] = row["reference"]["seconds"] / row["fast"]["seconds"]
        rows.append(row)
        ref = f"{row['reference']['seconds']:8.3f}  {row['speedup']:6.2f}x" if "reference" in row else ""
        mem = row["fast"].get("peak_mem_gib")
        print(f"{rep:12s} K={K:<3d} fast {row['fast']['seconds']:8.3f} s  ref {ref}"
              + (f"  peak {mem:.2f} GiB" if mem is not None else ""), flush=True)
    report = {"benchmark": "generator forward+backward", "device": str(device),
              "device_name": torch.cuda.get_device_name() if device.type == "cuda" else platform.processor(),
              "torch": torch.__version__, "threads": torch.get_num_threads(), "config": vars(args), "rows": rows}
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=1))
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
