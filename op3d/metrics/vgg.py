"""The VGG16 feature detector of StyleGAN's precision/recall metric: NVIDIA's TorchScript file, run as is."""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

ENV_VAR = "OP3D_VGG16"
SOURCE = ("vgg16.pt, the TorchScript VGG16 feature network of stylegan2-ada-pytorch "
          "(nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/vgg16.pt)")


class VGG16Features(nn.Module):
    """uint8 images [B, 3, H, W] -> [B, 4096] (NVIDIA's calling convention: module(images, return_features=True))."""

    def __init__(self, module: torch.jit.ScriptModule):
        super().__init__()
        self.module = module

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.module(images, return_features=True)


def load_vgg16(path: str | os.PathLike | None = None, device="cpu") -> nn.Module:
    """The VGG16 detector from a local file (path, or the OP3D_VGG16 environment variable)."""
    path = path or os.environ.get(ENV_VAR)
    if not path:
        raise FileNotFoundError(f"precision/recall needs {SOURCE}; download it once and pass --vgg PATH or set "
                                f"{ENV_VAR}=PATH")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: VGG16 detector not found; it should be {SOURCE}")
    try:
        module = torch.jit.load(str(path), map_location="cpu")
    except Exception as e:
        raise ValueError(f"{path}: not a readable TorchScript detector ({str(e).splitlines()[0][:100]})") from None
    return VGG16Features(module).eval().requires_grad_(False).to(device)
