"""Build data-only parity fixtures of the ORIGINAL unconditional generators that break the symmetries of the shared
fixtures (tests/fixtures/op3d_K3_L3_bw1.4 and tests/fixtures/eg3d_triplane_bw1.6).

The shared fixtures (../shared/fixtures) use box_warp 1, fx == fy, centred principal points, psi 1 and one latent
per image; plausible bugs (fy read as fx, cx and cy swapped, the tri-plane ignoring box_warp, truncation around
zero, ws layers misassigned) pass them. These runs use: K = 3 planes per axis with L = 3 frequencies (OP3D) and the
EG3D tri-plane, box_warp 1.4 / 1.6, cameras with fx != fy and an off-centre principal point, truncation psi 0.7
around a non-zero w_avg (the buffer is perturbed too), style mixing (ws = the first latent's first 4 layers + the
second latent's other layers), and rendering from ws that differ at every layer (the mixed ws + 0.3 N(0, 1) per
layer, so each layer reading the wrong w shows).

Run with the original code (OrthoPlanes/op3d's training/orthoplanes.py; NVlabs/eg3d's training/triplane.py, whose
TriPlaneGenerator differs from the one in OP3D's tree), on CPU with reference ops, never vendored; small random
weights stored losslessly as float16, deterministic sampling. One checkout per run (both name their package
`training`):

    python tools/make_generator_fixtures.py --original /tmp/orig/op3d --out tests/fixtures
    python tools/make_generator_fixtures.py --eg3d /tmp/eg3d/eg3d --out tests/fixtures
"""
from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
import torch
from original_runs import add_original_to_path, deterministic_sampling, perturbed_float16_state

RENDERING = {
    "image_resolution": 128, "disparity_space_sampling": False, "clamp_mode": "softplus",
    "superresolution_module": "training.superresolution.SuperresolutionHybrid2X", "c_gen_conditioning_zero": False,
    "gpc_reg_prob": 0.5, "c_scale": 1.0, "superresolution_noise_mode": "none", "density_reg": 0.25,
    "density_reg_p_dist": 0.004, "reg_type": "l1", "decoder_lr_mul": 1.0, "sr_antialias": True,
    "depth_resolution": 8, "depth_resolution_importance": 8, "ray_start": 2.25, "ray_end": 3.3,
    "avg_camera_radius": 2.7, "avg_camera_pivot": [0, 0, 0.2]}
COMMON = {"z_dim": 32, "w_dim": 512, "c_dim": 25, "img_resolution": 128, "img_channels": 3, "sr_num_fp16_res": 0,
          "sr_kwargs": {"channel_base": 512, "channel_max": 16, "fused_modconv_default": "inference_only"},
          "channel_base": 512, "channel_max": 16, "num_fp16_res": 0, "conv_clamp": None,
          "mapping_kwargs": {"num_layers": 1}, "fused_modconv_default": "inference_only"}
CASES = {
    "op3d_K3_L3_bw1.4": ("TriMultiPlaneGenerator", dict(per_dir_plane_number=3, fourier_L=3), 1.4),
    "eg3d_triplane_bw1.6": ("TriPlaneGenerator", {}, 1.6),
}
NEURAL_RES, PSI, MIX_CUTOFF = 16, 0.7, 4


def cameras() -> torch.Tensor:
    """Two cameras [2, 25] looking at (0, 0, 0.2) from yaw/pitch off the frontal view, fx != fy, off-centre
    principal point: cam2world built here (EG3D LookAt, OpenCV axes), intrinsics normalized by image size."""
    rows = []
    for yaw, pitch, K in ((math.pi / 2 + 0.35, math.pi / 2 - 0.2, (4.6, 3.9, 0.46, 0.55)),
                          (math.pi / 2 - 0.25, math.pi / 2 + 0.15, (3.8, 4.4, 0.53, 0.47))):
        target = np.array([0.0, 0.0, 0.2])
        pos = target + 2.7 * np.array([math.sin(pitch) * math.cos(math.pi - yaw), math.cos(pitch),
                                       math.sin(pitch) * math.sin(math.pi - yaw)])
        forward = (target - pos) / np.linalg.norm(target - pos)
        right = -np.cross([0.0, 1.0, 0.0], forward)
        right /= np.linalg.norm(right)
        up = np.cross(forward, right)
        m = np.eye(4)
        m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = right, up, forward, pos
        fx, fy, cx, cy = K
        rows.append(np.concatenate([m.reshape(-1), [fx, 0, cx, 0, fy, cy, 0, 0, 1]]))
    return torch.tensor(np.stack(rows), dtype=torch.float32)


def build_case(name: str, original_class, extra: dict, box_warp: float, seed: int, out: Path) -> None:
    init_kwargs = dict(COMMON, **extra, rendering_kwargs=dict(RENDERING, box_warp=box_warp))
    torch.manual_seed(seed)
    G = original_class(**init_kwargs).eval()
    G.neural_rendering_resolution = NEURAL_RES
    params = dict(G.named_parameters())
    state = perturbed_float16_state(G, seed, buffers=("backbone.mapping.w_avg",))
    G.load_state_dict(state)
    deterministic_sampling(G.renderer)
    gen = torch.Generator().manual_seed(seed + 1)
    z = torch.randn(2, G.z_dim, generator=gen)
    z_mix = torch.randn(2, G.z_dim, generator=gen)
    c = cameras()
    points = (torch.rand(2, 1024, 3, generator=gen) - 0.5) * box_warp
    with torch.no_grad():
        ws = G.mapping(z, c, truncation_psi=PSI)
        ws_cut = G.mapping(z, c, truncation_psi=PSI, truncation_cutoff=3)
        ws_mixed = torch.cat([ws[:, :MIX_CUTOFF], G.mapping(z_mix, c, truncation_psi=PSI)[:, MIX_CUTOFF:]], dim=1)
        ws_layers = ws_mixed + 0.3 * torch.randn(ws_mixed.shape, generator=gen)
        img = G.synthesis(ws_layers, c, neural_rendering_resolution=NEURAL_RES, noise_mode="const")
        dirs = torch.zeros_like(points)  # as the shared fixtures: OP3D's sample takes ws, EG3D's sample_mixed does
        sampled = (G.sample(points, dirs, ws_layers, c, noise_mode="const") if "per_dir_plane_number" in extra
                   else G.sample_mixed(points, dirs, ws_layers, noise_mode="const"))
    root = out / name
    root.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(root / "state_dict.npz", **{
        k: v.numpy().astype(np.float16) if k in params or k == "backbone.mapping.w_avg" else v.numpy()
        for k, v in state.items()})
    (root / "init_kwargs.json").write_text(json.dumps(dict(init_kwargs, class_name=original_class.__name__,
                                                           neural_rendering_resolution=NEURAL_RES), indent=1))
    np.savez_compressed(root / "outputs.npz", z=z.numpy(), z_mix=z_mix.numpy(), c=c.numpy(), psi=PSI,
                        mix_cutoff=MIX_CUTOFF, ws=ws.numpy(), ws_cutoff3=ws_cut.numpy(), ws_mixed=ws_mixed.numpy(),
                        ws_layers=ws_layers.numpy(),
                        image=img["image"].numpy(), image_raw=img["image_raw"].numpy(),
                        image_depth=img["image_depth"].numpy(), points=points.numpy(),
                        sigma=sampled["sigma"].numpy(), rgb=sampled["rgb"].numpy())
    print(f"wrote {root}: depth {float(img['image_depth'].min()):.3f}-{float(img['image_depth'].max()):.3f}, "
          f"image std {float(img['image'].std()):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = ap.add_mutually_exclusive_group(required=True)
    source.add_argument("--original", help="the op3d folder of a checkout of OrthoPlanes/op3d (the OP3D case)")
    source.add_argument("--eg3d", help="the eg3d folder of a checkout of NVlabs/eg3d (the tri-plane case)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    add_original_to_path(args.original or args.eg3d)
    if args.original:
        from training.orthoplanes import TriMultiPlaneGenerator as cls
    else:
        from training.triplane import TriPlaneGenerator as cls
    for name, (class_name, extra, box_warp) in CASES.items():
        if class_name == cls.__name__:
            build_case(name, cls, extra, box_warp, args.seed, Path(args.out))


if __name__ == "__main__":
    main()
