"""Build the data-only parity fixture of the ORIGINAL dual discriminator (tests/fixtures/op3d_discriminator).

Runs the ORIGINAL code (training/dual_discriminator.py of a checkout of github.com/OrthoPlanes/op3d, never vendored;
on CPU its custom ops fall back to their reference implementations) with small sizes: 64x64 images (blocks b64, b32,
b16, b8 and the 4x4 epilogue), channel_base 1024, channel_max 32, a 2-layer label mapping, minibatch-std group 4,
no fp16, no clamping. Weights: the original's initialization + 0.1 * N(0, 1) on every parameter, rounded to float16
values (stored losslessly as float16; the original runs with exactly those values); buffers (the resampling
filters) are kept as the original makes them.

Inputs are chosen so that the parts a re-implementation can get wrong show in the logits:
- batch sizes 2, 4 and 8 over the same first images: with group size 4 a batch of 2 makes one group of 2, a batch
  of 4 one group and a batch of 8 two groups, whose members are taken with stride 2 (x.reshape(G, -1, ...)), so
  the minibatch-std channel - and every logit - differs between the runs;
- image_raw at two sizes, both resized by the original's filtered_resizing (bilinear, antialiased) to 64: 40 (an
  upsampling, as in training, where the antialiasing is a no-op) and 80 (a downsampling, where it is not);
- images are white noise (high frequencies everywhere, so the antialiasing filter changes them) whose contrast
  differs from image to image (0.05 to 2, so the minibatch-std statistics differ strongly between groups), and
  image_raw has a different scale and offset from image (so swapping them in the 6-channel concatenation shows);
- labels c are random, not normalized (scale 3, offset 0.5), so the 2nd-moment normalization of D's label
  embedding matters.
The inputs are stored as float16 values (the original runs on exactly those values, in float32).

    python tools/make_discriminator_fixture.py --original /tmp/orig/op3d --out tests/fixtures/op3d_discriminator
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

INIT_KWARGS = {
    "c_dim": 25, "img_resolution": 64, "img_channels": 3, "architecture": "resnet", "channel_base": 1024,
    "channel_max": 32, "num_fp16_res": 0, "conv_clamp": None, "cmap_dim": None, "disc_c_noise": 0,
    "block_kwargs": {"freeze_layers": 0}, "mapping_kwargs": {"num_layers": 2},
    "epilogue_kwargs": {"mbstd_group_size": 4},
}
BATCH_SIZES = (2, 4, 8)
RAW_SIZES = {"up": 40, "down": 80}  # image_raw resolutions (image: 64)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--original", required=True, help="the op3d folder of a checkout of OrthoPlanes/op3d")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    sys.path.insert(0, str(Path(args.original).resolve()))
    from training.dual_discriminator import DualDiscriminator

    torch.manual_seed(args.seed)
    D = DualDiscriminator(**INIT_KWARGS).eval()
    gen = torch.Generator().manual_seed(args.seed)
    params = dict(D.named_parameters())
    state = {k: (v + 0.1 * torch.randn(v.shape, generator=gen)).half().float() if k in params else v
             for k, v in D.state_dict().items()}
    D.load_state_dict(state)

    B, R = max(BATCH_SIZES), INIT_KWARGS["img_resolution"]
    rng = np.random.default_rng(args.seed)
    f16 = lambda a: a.astype(np.float16)
    amp = rng.permutation(np.geomspace(0.05, 2.0, B))[:, None, None, None]  # per-image contrast
    inputs = {"image": f16(amp * rng.normal(0, 1, (B, 3, R, R))), "c": f16(rng.normal(0.5, 3.0, (B, 25)))}
    for name, r in RAW_SIZES.items():
        inputs[f"image_raw_{name}"] = f16(amp * rng.normal(-0.3, 0.8, (B, 3, r, r)))
    t = {k: torch.from_numpy(v).float() for k, v in inputs.items()}
    logits = {}
    with torch.no_grad():
        for name in RAW_SIZES:
            for n in BATCH_SIZES:
                img = {"image": t["image"][:n], "image_raw": t[f"image_raw_{name}"][:n]}
                logits[f"logits_{name}_b{n}"] = D(img, t["c"][:n]).numpy()
    root = Path(args.out)
    root.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(root / "state_dict.npz", **{k: v.numpy().astype(np.float16 if k in params else v.numpy().dtype)
                                                    for k, v in state.items()})
    (root / "init_kwargs.json").write_text(json.dumps(dict(INIT_KWARGS, class_name="DualDiscriminator"), indent=1))
    np.savez_compressed(root / "outputs.npz", **inputs, **logits)
    for k, v in logits.items():
        print(k, np.array2string(v[:, 0], precision=4))
    print(f"wrote {root}")


if __name__ == "__main__":
    main()
