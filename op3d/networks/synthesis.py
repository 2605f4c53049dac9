"""StyleGAN2 synthesis layers and the plane backbone (EG3D tri-plane or OrthoPlanes K-plane heads)."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from op3d.networks.layers import FullyConnectedLayer, block_dtype
from op3d.ops.bias_act import ACTIVATIONS, bias_act
from op3d.ops.dispatch import fast_path
from op3d.ops.modulated_conv import modulated_conv1x1_multi, modulated_conv2d
from op3d.ops.upfirdn2d import channels_last, setup_filter, upsample2d
from op3d.planes.encoding import plane_head_inputs


class SynthesisLayer(nn.Module):
    """Modulated 3x3 convolution (optionally 2x upsampling) + noise + bias + lrelu."""

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, kernel_size: int = 3,
                 up: int = 1, use_noise: bool = True, activation: str = "lrelu", resample_filter=(1, 3, 3, 1),
                 conv_clamp: float | None = None, channels_last: bool = False):
        super().__init__()
        self.in_channels, self.out_channels = in_channels, out_channels
        self.resolution = resolution
        self.up = up
        self.use_noise = use_noise
        self.activation = activation
        self.conv_clamp = conv_clamp
        self.register_buffer("resample_filter", setup_filter(resample_filter))
        self.padding = kernel_size // 2
        self.act_gain = ACTIVATIONS[activation].def_gain
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        memory_format = torch.channels_last if channels_last else torch.contiguous_format
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, kernel_size, kernel_size]).to(
            memory_format=memory_format))
        if use_noise:
            self.register_buffer("noise_const", torch.randn([resolution, resolution]))
            self.noise_strength = nn.Parameter(torch.zeros([]))
        self.bias = nn.Parameter(torch.zeros([out_channels]))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise_mode: str = "random",
                fused_modconv: bool = True) -> torch.Tensor:
        """x: [B, I, r, r] (r = resolution / up), w: [B, w_dim] -> [B, O, resolution, resolution]."""
        if noise_mode not in ("random", "const", "none"):
            raise ValueError(f"noise_mode must be 'random', 'const' or 'none', got {noise_mode!r}")
        styles = self.affine(w)
        noise = None
        if self.use_noise and noise_mode == "random":
            shape = [x.shape[0], 1, self.resolution, self.resolution]
            noise = torch.randn(shape, device=x.device) * self.noise_strength
        if self.use_noise and noise_mode == "const":
            noise = self.noise_const * self.noise_strength
        x = modulated_conv2d(x, self.weight, styles, noise=noise, up=self.up, padding=self.padding,
                             resample_filter=self.resample_filter, flip_weight=(self.up == 1),
                             fused_modconv=fused_modconv)
        return bias_act(x, self.bias.to(x.dtype), act=self.activation, gain=self.act_gain, clamp=self.conv_clamp)


class ToRGBLayer(nn.Module):
    """Modulated 1x1 convolution without demodulation (ToRGB; in OrthoPlanes the K-plane head).

    With w [B, w_dim] it returns [B, O, H, W]; with w [B, K, w_dim] it returns K differently modulated
    outputs [B, O, K, H, W] computed as one batched matmul, never replicating x K times.
    """

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, kernel_size: int = 1,
                 conv_clamp: float | None = None, channels_last: bool = False):
        super().__init__()
        if kernel_size != 1:
            raise ValueError("ToRGBLayer supports kernel_size 1 only")
        self.conv_clamp = conv_clamp
        self.affine = FullyConnectedLayer(w_dim, in_channels, bias_init=1)
        self.weight = nn.Parameter(torch.randn([out_channels, in_channels, 1, 1]))
        self.bias = nn.Parameter(torch.zeros([out_channels]))
        self.weight_gain = 1 / np.sqrt(in_channels)

    def styles(self, w: torch.Tensor) -> torch.Tensor:
        """w [B, w_dim] or [B, K, w_dim] -> styles [B, K, I] (K = 1 for a single w)."""
        B = w.shape[0]
        w = w.reshape(B, 1 if w.ndim == 2 else w.shape[1], w.shape[-1])
        return self.affine(w.reshape(-1, w.shape[-1])).reshape(B, w.shape[1], -1) * self.weight_gain

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        y = modulated_conv1x1_multi(x, self.weight[:, :, 0, 0], self.styles(w))  # [B, O, K, H, W]
        y = bias_act(y, self.bias.to(y.dtype), dim=1, clamp=self.conv_clamp)
        return y.squeeze(2) if w.ndim == 2 else y

    def skip_sum(self, x: torch.Tensor, w: torch.Tensor, img: torch.Tensor | None,
                 resample_filter: torch.Tensor) -> torch.Tensor:
        """upsample2d(img) + head(x, w) (no clamp) in channels-last storage [B, H, W, K, O]: one upsampling pass
        that also adds the bias, then one batched matmul-add; memory-bound passes over the big skip image are
        the cost here, and channels-last upsampling and matmuls are the fast ones on CPUs.

        x [B, I, H, W]; w [B, w_dim] or [B, K, w_dim]; img None or the previous skip image (logical [B, O, r, r]
        or [B, O, K, r, r], any layout). Returns the logical [B, O, H, W] / [B, O, K, H, W] view.
        """
        styles = self.styles(w)  # [B, K, I]
        B, K, I = styles.shape
        O = self.weight.shape[0]
        H, W = x.shape[-2:]
        wmod = (styles.unsqueeze(2) * self.weight[:, :, 0, 0]).reshape(B, K * O, I).transpose(1, 2)  # [B, I, K*O]
        wmod = wmod.to(x.dtype)
        xt = x.reshape(B, I, H * W).transpose(1, 2)  # [B, HW, I]
        bias = self.bias.to(x.dtype).repeat(K)  # channel k * O + o has bias[o]
        if img is None:
            out = torch.baddbmm(bias, xt, wmod)  # [B, HW, K*O]
        else:
            planar = (img.unsqueeze(2) if img.ndim == 4 else img).transpose(1, 2)  # [B, K, O, r, r]
            up = upsample2d(channels_last(planar.reshape(B, K * O, *img.shape[-2:])), resample_filter, bias=bias)
            base = up.permute(0, 2, 3, 1).reshape(B, H * W, K * O)  # a view of the channels-last result
            if torch.is_grad_enabled() and (base.requires_grad or wmod.requires_grad or xt.requires_grad):
                out = torch.baddbmm(base, xt, wmod)  # in place on a view would make autograd copy the gradient
            else:
                out = base.baddbmm_(xt, wmod)  # inference: no fresh (page-faulting) allocation
        out = out.view(B, H, W, K, O).permute(0, 4, 3, 1, 2)  # [B, O, K, H, W]
        return out[:, :, 0] if w.ndim == 2 else out


class SynthesisBlock(nn.Module):
    """Two synthesis layers (the first upsampling unless `up=1`) and a ToRGB/plane head on a skip path.

    The head is stored as `head_name` ("torgb" in StyleGAN2/EG3D, "to_depth_feature" in OrthoPlanes) so
    parameter names match the original checkpoints.
    """

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, resolution: int, img_channels: int,
                 is_last: bool, architecture: str = "skip", resample_filter=(1, 3, 3, 1),
                 conv_clamp: float | None = 256, use_fp16: bool = False, fp16_channels_last: bool = False,
                 fused_modconv_default: bool | str = True, up: int = 2, head_name: str = "torgb",
                 head_w_dim: int | None = None, **layer_kwargs):
        super().__init__()
        if architecture != "skip":
            raise ValueError(f"only the 'skip' synthesis architecture is supported, got {architecture!r}")
        self.in_channels = in_channels
        self.resolution = resolution
        self.img_channels = img_channels
        self.is_last = is_last
        self.use_fp16 = use_fp16
        self.channels_last = use_fp16 and fp16_channels_last
        self.fused_modconv_default = fused_modconv_default
        self.up = up
        self.head_name = head_name
        self.register_buffer("resample_filter", setup_filter(resample_filter))
        self.num_conv = 0
        if in_channels == 0:
            self.const = nn.Parameter(torch.randn([out_channels, resolution, resolution]))
        else:
            self.conv0 = SynthesisLayer(in_channels, out_channels, w_dim=w_dim, resolution=resolution, up=up,
                                        resample_filter=resample_filter, conv_clamp=conv_clamp,
                                        channels_last=self.channels_last, **layer_kwargs)
            self.num_conv += 1
        self.conv1 = SynthesisLayer(out_channels, out_channels, w_dim=w_dim, resolution=resolution,
                                    conv_clamp=conv_clamp, channels_last=self.channels_last, **layer_kwargs)
        self.num_conv += 1
        setattr(self, head_name, ToRGBLayer(out_channels, img_channels, w_dim=head_w_dim or w_dim,
                                            conv_clamp=conv_clamp, channels_last=self.channels_last))

    def forward(self, x: torch.Tensor | None, img: torch.Tensor | None, ws: torch.Tensor,
                head_w: torch.Tensor | None = None, force_fp32: bool = False, fused_modconv: bool | str | None = None,
                noise_mode: str = "random", **_: object) -> tuple[torch.Tensor, torch.Tensor]:
        """x: [B, I, r, r]; img: skip image [B, (K,) O, r', r']; ws: [B, num_conv (+1), w_dim].

        head_w: the head's style input, [B, w_dim'] or [B, K, w_dim']; default ws[:, num_conv].
        Returns x [B, O, res, res] and the updated skip image (float32, or float64 for float64 ws).
        """
        dtype = block_dtype(self.use_fp16, force_fp32, ws)
        fp16_cl = self.channels_last and dtype == torch.float16
        memory_format = torch.channels_last if fp16_cl else torch.contiguous_format
        if fused_modconv is None:
            fused_modconv = self.fused_modconv_default
        if fused_modconv == "inference_only":
            fused_modconv = not self.training
        if self.in_channels == 0:
            x = self.const.to(dtype=dtype, memory_format=memory_format).unsqueeze(0).repeat([ws.shape[0], 1, 1, 1])
            x = self.conv1(x, ws[:, 0], fused_modconv=fused_modconv, noise_mode=noise_mode)
        else:
            x = x.to(dtype=dtype, memory_format=memory_format)
            x = self.conv0(x, ws[:, 0], fused_modconv=fused_modconv, noise_mode=noise_mode)
            x = self.conv1(x, ws[:, 1], fused_modconv=fused_modconv, noise_mode=noise_mode)
        head = getattr(self, self.head_name)
        head_w = ws[:, self.num_conv] if head_w is None else head_w
        img_dtype = torch.promote_types(ws.dtype, torch.float32)
        if (img is None or self.up > 1) and head.conv_clamp is None and x.dtype == img_dtype \
                and fast_path("skip_sum", x.device):
            return x, head.skip_sum(x, head_w, img, self.resample_filter)
        if img is not None and self.up > 1:
            shape = img.shape
            img = upsample2d(img.reshape(-1, *shape[-3:]), self.resample_filter)
            img = img.reshape(*shape[:-2], *img.shape[-2:])
        y = head(x, head_w)
        y = y.to(dtype=img_dtype, memory_format=torch.contiguous_format)
        img = y if img is None else img + y
        return x, img


class PlaneSynthesisNetwork(nn.Module):
    """StyleGAN2 skip-architecture backbone that outputs feature planes.

    planes_per_axis=None: the EG3D tri-plane backbone (ToRGB "torgb" uses the w after each block's convs;
    num_ws counts the last ToRGB). planes_per_axis=K: the OrthoPlanes backbone, whose heads
    "to_depth_feature" take [w ; gamma(p_k)] with the block's first w (num_ws counts convs only).
    forward(ws [B, num_ws, w_dim]) -> [B, img_channels, K, H, W] (K = 1 for the tri-plane).
    """

    def __init__(self, w_dim: int, img_resolution: int, img_channels: int, channel_base: int = 32768,
                 channel_max: int = 512, num_fp16_res: int = 4, planes_per_axis: int | None = None,
                 fourier_L: int = 10, **block_kwargs):
        super().__init__()
        if img_resolution < 4 or img_resolution & (img_resolution - 1):
            raise ValueError(f"plane resolution must be a power of two >= 4, got {img_resolution}")
        self.w_dim = w_dim
        self.img_resolution = img_resolution
        self.img_channels = img_channels
        self.planes_per_axis = planes_per_axis
        self.fourier_L = fourier_L
        log2 = int(np.log2(img_resolution))
        self.block_resolutions = [2 ** i for i in range(2, log2 + 1)]
        channels = {res: min(channel_base // res, channel_max) for res in self.block_resolutions}
        fp16_resolution = max(2 ** (log2 + 1 - num_fp16_res), 8)
        orthoplanes = planes_per_axis is not None
        self.num_ws = 0
        for res in self.block_resolutions:
            block = SynthesisBlock(
                channels[res // 2] if res > 4 else 0, channels[res], w_dim=w_dim, resolution=res,
                img_channels=img_channels, is_last=(res == img_resolution), use_fp16=(res >= fp16_resolution),
                head_name="to_depth_feature" if orthoplanes else "torgb",
                head_w_dim=w_dim + 2 * fourier_L + 1 if orthoplanes else w_dim, **block_kwargs)
            self.num_ws += block.num_conv
            setattr(self, f"b{res}", block)
        if not orthoplanes:
            self.num_ws += 1  # the last block's ToRGB takes its own w

    def forward(self, ws: torch.Tensor, **block_kwargs) -> torch.Tensor:
        if ws.ndim != 3 or ws.shape[1:] != (self.num_ws, self.w_dim):
            raise ValueError(f"ws must be [B, {self.num_ws}, {self.w_dim}], got {tuple(ws.shape)}")
        ws = ws.to(torch.promote_types(ws.dtype, torch.float32))
        x = img = None
        w_idx = 0
        for res in self.block_resolutions:
            block = getattr(self, f"b{res}")
            if self.planes_per_axis is None:
                x, img = block(x, img, ws.narrow(1, w_idx, block.num_conv + 1), **block_kwargs)
            else:
                head_w = plane_head_inputs(ws[:, w_idx], self.planes_per_axis, self.fourier_L)  # [B, K, w+2L+1]
                x, img = block(x, img, ws.narrow(1, w_idx, block.num_conv), head_w=head_w, **block_kwargs)
            w_idx += block.num_conv
        return img if self.planes_per_axis is not None else img.unsqueeze(2)
