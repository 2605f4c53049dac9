"""EG3D's super-resolution modules: the 32-channel feature image -> the final RGB image."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from op3d.networks.synthesis import SynthesisBlock
from op3d.ops.upfirdn2d import setup_filter

# name -> (output resolution, input resolution, [(in, out, block resolution, up)], resize only when smaller,
#          has the module-level resample_filter buffer)
SR_LAYOUTS = {
    "SuperresolutionHybrid2X": (128, 64, [(None, 128, 64, 1), (128, 64, 128, 2)], False, True),
    "SuperresolutionHybrid4X": (256, 128, [(None, 128, 128, 1), (128, 64, 256, 2)], True, True),
    "SuperresolutionHybrid8X": (512, 128, [(None, 128, 256, 2), (128, 64, 512, 2)], False, True),
    "SuperresolutionHybrid8XDC": (512, 128, [(None, 256, 256, 2), (256, 128, 512, 2)], False, False),
}
SR_FOR_RESOLUTION = {128: "SuperresolutionHybrid2X", 256: "SuperresolutionHybrid4X", 512: "SuperresolutionHybrid8XDC"}
# op3d's own small module for CPU-sized models: Hybrid2X's layout at any output resolution and channel count.
GENERIC_2X = "Superresolution2X"


def sr_layout(name: str, img_resolution: int, sr_channels: tuple[int, int] = (128, 64)):
    """(input resolution, blocks, resize only when smaller, has filter buffer) for a module name."""
    if name == GENERIC_2X:
        c0, c1 = sr_channels
        return img_resolution // 2, [(None, c0, img_resolution // 2, 1), (c0, c1, img_resolution, 2)], False, True
    out_res, in_res, blocks, smaller, has_filter = SR_LAYOUTS[name]
    if img_resolution != out_res:
        raise ValueError(f"{name} produces {out_res}x{out_res} images, not {img_resolution}")
    return in_res, blocks, smaller, has_filter


def sr_module_name(name: str) -> str:
    """Accept 'SuperresolutionHybrid2X' or the original dotted path 'training.superresolution.X'."""
    short = name.rsplit(".", 1)[-1]
    if short not in SR_LAYOUTS and short != GENERIC_2X:
        raise ValueError(f"unknown super-resolution module {name!r}; expected one of "
                         f"{sorted(SR_LAYOUTS) + [GENERIC_2X]}")
    return short


class SuperResolution(nn.Module):
    """Resize (antialiased bilinear) the feature image to the module's input size, then two synthesis
    blocks that all use the last w. forward(rgb [B,3,h,w], x [B,C,h,w], ws [B,num_ws,w_dim]) -> [B,3,R,R]."""

    def __init__(self, name: str, channels: int, img_resolution: int, sr_num_fp16_res: int = 0,
                 sr_antialias: bool = True, w_dim: int = 512, sr_channels: tuple[int, int] = (128, 64),
                 **block_kwargs):
        super().__init__()
        self.name = sr_module_name(name)
        self.input_resolution, blocks, self.resize_only_smaller, has_filter = sr_layout(
            self.name, img_resolution, tuple(sr_channels))
        for key in ("num_fp16_res", "conv_clamp", "channel_base", "channel_max"):  # ignored, as in the original
            block_kwargs.pop(key, None)
        use_fp16 = sr_num_fp16_res > 0
        self.sr_antialias = sr_antialias
        for i, (cin, cout, res, up) in enumerate(blocks):
            setattr(self, f"block{i}", SynthesisBlock(
                channels if cin is None else cin, cout, w_dim=w_dim, resolution=res, img_channels=3,
                is_last=(i == len(blocks) - 1), use_fp16=use_fp16, conv_clamp=(256 if use_fp16 else None), up=up,
                **block_kwargs))
        self.num_blocks = len(blocks)
        if has_filter:
            self.register_buffer("resample_filter", setup_filter([1, 3, 3, 1]))

    def forward(self, rgb: torch.Tensor, x: torch.Tensor, ws: torch.Tensor, **block_kwargs
                ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Returns the image and, when the original code would have modified the caller's raw image in place
        (no resize and a first block without upsampling: its skip sum is `rgb.add_(...)` on the raw image itself),
        that modified raw image; otherwise None."""
        ws = ws[:, -1:, :].repeat(1, 3, 1)
        size = x.shape[-1]
        resized = (size < self.input_resolution) if self.resize_only_smaller else (size != self.input_resolution)
        if resized:
            shape = (self.input_resolution, self.input_resolution)
            x = F.interpolate(x, size=shape, mode="bilinear", align_corners=False, antialias=self.sr_antialias)
            rgb = F.interpolate(rgb, size=shape, mode="bilinear", align_corners=False, antialias=self.sr_antialias)
        aliased_raw = None
        for i in range(self.num_blocks):
            block = getattr(self, f"block{i}")
            x, rgb = block(x, rgb, ws, **block_kwargs)
            if i == 0 and not resized and block.up == 1:
                aliased_raw = rgb
        return rgb, aliased_raw
