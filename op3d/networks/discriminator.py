"""EG3D's dual discriminator: a camera-conditioned ResNet StyleGAN2 discriminator on 6-channel input
(the final image concatenated with the upsampled raw neural rendering)."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from op3d.networks.layers import Conv2dLayer, FullyConnectedLayer, MappingNetwork, block_dtype
from op3d.ops.upfirdn2d import downsample2d, setup_filter


class DiscriminatorBlock(nn.Module):
    """[fromrgb] -> conv 3x3 -> conv 3x3 down 2, with a 1x1 down-2 residual skip ('resnet')."""

    def __init__(self, in_channels: int, tmp_channels: int, out_channels: int, resolution: int, img_channels: int,
                 first_layer_idx: int = 0, architecture: str = "resnet", activation: str = "lrelu",
                 resample_filter=(1, 3, 3, 1), conv_clamp: float | None = None, use_fp16: bool = False,
                 fp16_channels_last: bool = False, freeze_layers: int = 0):
        super().__init__()
        if architecture not in ("resnet", "skip", "orig"):
            raise ValueError(f"unknown discriminator architecture {architecture!r}")
        self.in_channels = in_channels
        self.resolution = resolution
        self.architecture = architecture
        self.use_fp16 = use_fp16
        self.channels_last = use_fp16 and fp16_channels_last
        self.register_buffer("resample_filter", setup_filter(resample_filter))
        self.num_layers = 0

        def trainable() -> bool:  # layers below freeze_layers (counted across blocks) are frozen
            self.num_layers += 1
            return first_layer_idx + self.num_layers - 1 >= freeze_layers

        cl = self.channels_last
        if in_channels == 0 or architecture == "skip":
            self.fromrgb = Conv2dLayer(img_channels, tmp_channels, kernel_size=1, activation=activation,
                                       trainable=trainable(), conv_clamp=conv_clamp, channels_last=cl)
        self.conv0 = Conv2dLayer(tmp_channels, tmp_channels, kernel_size=3, activation=activation,
                                 trainable=trainable(), conv_clamp=conv_clamp, channels_last=cl)
        self.conv1 = Conv2dLayer(tmp_channels, out_channels, kernel_size=3, activation=activation, down=2,
                                 trainable=trainable(), resample_filter=resample_filter, conv_clamp=conv_clamp,
                                 channels_last=cl)
        if architecture == "resnet":
            self.skip = Conv2dLayer(tmp_channels, out_channels, kernel_size=1, bias=False, down=2,
                                    trainable=trainable(), resample_filter=resample_filter, channels_last=cl)

    def forward(self, x: torch.Tensor | None, img: torch.Tensor | None, force_fp32: bool = False):
        dtype = block_dtype(self.use_fp16, force_fp32, img if x is None else x)
        if x is not None:
            x = x.to(dtype)
        if self.in_channels == 0 or self.architecture == "skip":
            y = self.fromrgb(img.to(dtype))
            x = x + y if x is not None else y
            img = downsample2d(img, self.resample_filter) if self.architecture == "skip" else None
        if self.architecture == "resnet":
            y = self.skip(x, gain=np.sqrt(0.5))
            x = self.conv0(x)
            x = self.conv1(x, gain=np.sqrt(0.5))
            x = y + x
        else:
            x = self.conv1(self.conv0(x))
        return x, img


class MinibatchStdLayer(nn.Module):
    """Appends the per-group standard deviation of features as extra channels."""

    def __init__(self, group_size: int | None, num_channels: int = 1):
        super().__init__()
        self.group_size = group_size
        self.num_channels = num_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        N, C, H, W = x.shape
        G = min(self.group_size, N) if self.group_size is not None else N
        if N % G:
            raise ValueError(f"batch size {N} must be divisible by the minibatch-std group size {G}")
        F_ = self.num_channels
        y = x.reshape(G, -1, F_, C // F_, H, W)
        y = (y - y.mean(dim=0)).square().mean(dim=0)
        y = (y + 1e-8).sqrt().mean(dim=[2, 3, 4]).reshape(-1, F_, 1, 1).repeat(G, 1, H, W)
        return torch.cat([x, y], dim=1)


class DiscriminatorEpilogue(nn.Module):
    """4x4 head: minibatch std -> conv -> fc -> out, projected onto the camera embedding (cmap)."""

    def __init__(self, in_channels: int, cmap_dim: int, resolution: int, img_channels: int,
                 architecture: str = "resnet", mbstd_group_size: int | None = 4, mbstd_num_channels: int = 1,
                 activation: str = "lrelu", conv_clamp: float | None = None):
        super().__init__()
        self.cmap_dim = cmap_dim
        self.architecture = architecture
        if architecture == "skip":
            self.fromrgb = Conv2dLayer(img_channels, in_channels, kernel_size=1, activation=activation)
        self.mbstd = MinibatchStdLayer(mbstd_group_size, mbstd_num_channels) if mbstd_num_channels > 0 else None
        self.conv = Conv2dLayer(in_channels + mbstd_num_channels, in_channels, kernel_size=3, activation=activation,
                                conv_clamp=conv_clamp)
        self.fc = FullyConnectedLayer(in_channels * resolution ** 2, in_channels, activation=activation)
        self.out = FullyConnectedLayer(in_channels, 1 if cmap_dim == 0 else cmap_dim)

    def forward(self, x: torch.Tensor, img: torch.Tensor | None, cmap: torch.Tensor | None) -> torch.Tensor:
        x = x.to(torch.promote_types(x.dtype, torch.float32))  # fp16 blocks -> fp32 (float64 stays float64)
        if self.architecture == "skip":
            x = x + self.fromrgb(img.to(x.dtype))
        if self.mbstd is not None:
            x = self.mbstd(x)
        x = self.out(self.fc(self.conv(x).flatten(1)))
        if self.cmap_dim > 0:
            x = (x * cmap).sum(dim=1, keepdim=True) * (1 / np.sqrt(self.cmap_dim))
        return x


def resize_raw(image_raw: torch.Tensor, size: int) -> torch.Tensor:
    """Antialiased bilinear resize of the raw rendering to the final image size."""
    return F.interpolate(image_raw, size=(size, size), mode="bilinear", align_corners=False, antialias=True)


class DualDiscriminator(nn.Module):
    """D({"image": [B, 3, R, R], "image_raw": [B, 3, r, r]}, c [B, c_dim]) -> logits [B, 1]."""

    def __init__(self, c_dim: int, img_resolution: int, img_channels: int = 3, architecture: str = "resnet",
                 channel_base: int = 32768, channel_max: int = 512, num_fp16_res: int = 4,
                 conv_clamp: float | None = 256, cmap_dim: int | None = None, disc_c_noise: float = 0,
                 block_kwargs: dict | None = None, mapping_kwargs: dict | None = None,
                 epilogue_kwargs: dict | None = None):
        super().__init__()
        img_channels *= 2
        self.c_dim = c_dim
        self.img_resolution = img_resolution
        log2 = int(np.log2(img_resolution))
        self.block_resolutions = [2 ** i for i in range(log2, 2, -1)]
        channels = {res: min(channel_base // res, channel_max) for res in self.block_resolutions + [4]}
        fp16_resolution = max(2 ** (log2 + 1 - num_fp16_res), 8)
        if cmap_dim is None:
            cmap_dim = channels[4]
        if c_dim == 0:
            cmap_dim = 0
        common = dict(img_channels=img_channels, architecture=architecture, conv_clamp=conv_clamp)
        layer_idx = 0
        for res in self.block_resolutions:
            block = DiscriminatorBlock(channels[res] if res < img_resolution else 0, channels[res], channels[res // 2],
                                       resolution=res, first_layer_idx=layer_idx, use_fp16=res >= fp16_resolution,
                                       **dict(block_kwargs or {}), **common)
            setattr(self, f"b{res}", block)
            layer_idx += block.num_layers
        if c_dim > 0:
            self.mapping = MappingNetwork(z_dim=0, c_dim=c_dim, w_dim=cmap_dim, num_ws=None, w_avg_beta=None,
                                          **dict(mapping_kwargs or {}))
        self.b4 = DiscriminatorEpilogue(channels[4], cmap_dim=cmap_dim, resolution=4, **dict(epilogue_kwargs or {}),
                                        **common)
        self.register_buffer("resample_filter", setup_filter([1, 3, 3, 1]))
        self.disc_c_noise = disc_c_noise

    def forward(self, img: dict, c: torch.Tensor, update_emas: bool = False, **block_kwargs) -> torch.Tensor:
        image = img["image"]
        x_img = torch.cat([image, resize_raw(img["image_raw"], image.shape[-1])], 1)
        x = None
        for res in self.block_resolutions:
            x, x_img = getattr(self, f"b{res}")(x, x_img, **block_kwargs)
        cmap = None
        if self.c_dim > 0:
            if self.disc_c_noise > 0:
                c = c + torch.randn_like(c) * c.std(0) * self.disc_c_noise
            cmap = self.mapping(None, c)
        return self.b4(x, x_img, cmap)
