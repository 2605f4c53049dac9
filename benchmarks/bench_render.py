"""Inference cost: one image and one density volume from a full-size generator, op3d's fast paths vs its
reference ops. Prints a table and writes JSON.

    python benchmarks/bench_render.py [--device cuda] [--resolution 512] [--nrr 128] [--samples 96] [--shape-res 256]
"""
from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from op3d.networks.generator import Generator
from op3d.ops.dispatch import reference_ops
from op3d.presets import generator_kwargs
from op3d.sampling.render import density_grid
from op3d.sampling.views import conditioning_label, view_labels


def timed(fn, device, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--resolution", type=int, default=512)
    ap.add_argument("--nrr", type=int, default=128)
    ap.add_argument("--samples", type=int, default=96)
    ap.add_argument("--shape-res", type=int, default=128)
    ap.add_argument("--K", type=int, default=12)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    kw = generator_kwargs("ffhq", args.resolution, "full", plane_number=args.K, fourier_L=10,
                          neural_rendering_resolution=args.nrr, depth_resolution=args.samples,
                          depth_resolution_importance=args.samples)
    G = Generator(**kw).to(device).eval().requires_grad_(False)
    c = conditioning_label(G).to(device)
    cam = view_labels(G, [(0.3, 0.0)]).to(device)
    z = torch.randn(1, G.z_dim, device=device)
    ws = G.mapping(z, c)
    chunk = None if device.type == "cuda" else 4096
    rows = {}
    for name, ctx in (("fast", lambda: reference_ops(False)), ("reference", reference_ops)):
        with ctx(), torch.no_grad():
            image = timed(lambda: G.synthesis(ws, cam, noise_mode="const", chunk=chunk), device, args.repeats)
            shape = timed(lambda: density_grid(G, G.planes(ws, noise_mode="const"), args.shape_res), device,
                          max(1, args.repeats // 2))
        rows[name] = {"image_s": image, "shape_s": shape}
        print(f"{name:9s} image {args.resolution}px (K={args.K}, {args.nrr}^2 rays, {args.samples}+{args.samples} "
              f"samples): {image:8.3f} s   shape {args.shape_res}^3: {shape:8.3f} s", flush=True)
    report = {"benchmark": "inference: one image and one density volume", "device": str(device),
              "device_name": torch.cuda.get_device_name() if device.type == "cuda" else platform.processor(),
              "torch": torch.__version__, "config": vars(args), "rows": rows,
              "speedup_image": rows["reference"]["image_s"] / rows["fast"]["image_s"],
              "speedup_shape": rows["reference"]["shape_s"] / rows["fast"]["shape_s"]}
    print(f"speed-up of the fast paths: image {report['speedup_image']:.2f}x, shape {report['speedup_shape']:.2f}x")
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
