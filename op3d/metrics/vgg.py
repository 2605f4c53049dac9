"""The VGG16 feature detector of StyleGAN's precision/recall metric: NVIDIA's TorchScript file, run as is."""
from __future__ import annotations

import os

import torch
from torch import nn

from op3d.metrics.inception import detector_file, read_torchscript

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
    path = detector_file(path, ENV_VAR, "precision/recall needs", "--vgg", "VGG16 detector", SOURCE)
    module = read_torchscript(path)
    return VGG16Features(module).eval().requires_grad_(False).to(device)
