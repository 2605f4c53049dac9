"""The 3-D-aware generator: mapping -> plane backbone -> decoder + volume rendering -> super-resolution."""
from __future__ import annotations

import copy

import torch
from torch import nn

from op3d.networks.decoder import OSGDecoder
from op3d.networks.layers import MappingNetwork
from op3d.networks.superresolution import SR_FOR_RESOLUTION, SuperResolution
from op3d.networks.synthesis import PlaneSynthesisNetwork
from op3d.planes.sampling import (aggregate_mean, orthoplanes_on_grid, sample_orthoplanes, sample_triplane,
                                  triplane_on_grid)
from op3d.rendering.rays import check_labels, rays_from_cameras
from op3d.rendering.renderer import RenderOptions, render

REPRESENTATIONS = ("orthoplanes", "triplane")


class PlaneBackbone(nn.Module):
    """Holds `mapping` and `synthesis` under the original names (state-dict prefix `backbone.`)."""

    def __init__(self, z_dim: int, c_dim: int, w_dim: int, plane_resolution: int, img_channels: int,
                 mapping_kwargs: dict, **synthesis_kwargs):
        super().__init__()
        self.synthesis = PlaneSynthesisNetwork(w_dim=w_dim, img_resolution=plane_resolution,
                                               img_channels=img_channels, **synthesis_kwargs)
        self.num_ws = self.synthesis.num_ws
        self.mapping = MappingNetwork(z_dim=z_dim, c_dim=c_dim, w_dim=w_dim, num_ws=self.num_ws, **mapping_kwargs)


def check_sizes(**sizes: tuple) -> None:
    """name=(value, lowest, highest): each value an int within its bounds, else a ValueError naming it (a
    config.json asking for z_dim 1e12 is refused instead of exhausting memory)."""
    for name, (value, lo, hi) in sizes.items():
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            raise ValueError(f"{name} must be an integer in [{lo}, {hi}], got {value!r}")


class Generator(nn.Module):
    """OrthoPlanes (K planes per axis, L Fourier frequencies) or EG3D tri-plane generator.

    G(z [B, z_dim], c [B, 25]) -> {"image": [B, 3, R, R], "image_raw": [B, 3, r, r], "image_depth": [B, 1, r, r]}
    with images in [-1, 1] and depth in world units along the ray. Keyword names follow the original
    TriMultiPlaneGenerator / TriPlaneGenerator so their `_init_kwargs` can be passed through.
    legacy_axes reproduces the released code's plane-axis quirks (OP3D: axes 1-2 unscaled by box_warp;
    EG3D: planes projected onto (x,y), (x,z), (z,x)); new models default to the corrected axes.
    legacy_raw_alias reproduces what the original returns as image_raw when the neural rendering resolution equals
    the super-resolution input and its first block does not upsample (2X at 64, 4X at 128): the raw image after
    that block's in-place skip addition. The final image is the same either way.
    """

    # Training renders evaluate the field once more on the coarse samples so the planes get one backward pass
    # (see render(single_backward=...)): cheap for plane sampling + decoder, not for the pose-conditional field.
    single_backward_render = True

    def __init__(self, z_dim: int = 512, c_dim: int = 25, w_dim: int = 512, img_resolution: int = 512,
                 img_channels: int = 3, representation: str = "orthoplanes", per_dir_plane_number: int = 8,
                 fourier_L: int = 10, plane_resolution: int = 256, plane_channels: int = 32,
                 legacy_axes: bool = False, legacy_raw_alias: bool = False, neural_rendering_resolution: int = 64,
                 sr_num_fp16_res: int = 0,
                 mapping_kwargs: dict | None = None,
                 rendering_kwargs: dict | None = None, sr_kwargs: dict | None = None, **synthesis_kwargs):
        super().__init__()
        if representation not in REPRESENTATIONS:
            raise ValueError(f"representation must be one of {REPRESENTATIONS}, got {representation!r}")
        check_sizes(z_dim=(z_dim, 1, 8192), c_dim=(c_dim, 0, 4096), w_dim=(w_dim, 1, 8192),
                    img_resolution=(img_resolution, 8, 4096), plane_resolution=(plane_resolution, 4, 4096),
                    per_dir_plane_number=(per_dir_plane_number, 1, 256), fourier_L=(fourier_L, 0, 64),
                    plane_channels=(plane_channels, 1, 1024), img_channels=(img_channels, 1, 16),
                    neural_rendering_resolution=(neural_rendering_resolution, 1, 4096))
        rendering_kwargs = copy.deepcopy(dict(rendering_kwargs or {}))
        rendering_kwargs.setdefault("superresolution_module", SR_FOR_RESOLUTION.get(img_resolution, ""))
        rendering_kwargs.setdefault("sr_antialias", True)
        self.z_dim, self.c_dim, self.w_dim = z_dim, c_dim, w_dim
        self.img_resolution, self.img_channels = img_resolution, img_channels
        self.representation = representation
        self.K = per_dir_plane_number if representation == "orthoplanes" else 1
        self.L = fourier_L
        self.plane_channels = plane_channels
        self.legacy_axes = legacy_axes
        self.legacy_raw_alias = legacy_raw_alias
        self.rendering_kwargs = rendering_kwargs
        self.render_options = RenderOptions.from_kwargs(rendering_kwargs)
        synthesis_kwargs.pop("plane_resolution", None)
        self.backbone = PlaneBackbone(
            z_dim, c_dim, w_dim, plane_resolution, 3 * plane_channels, dict(mapping_kwargs or {}),
            planes_per_axis=self.K if representation == "orthoplanes" else None, fourier_L=fourier_L,
            **synthesis_kwargs)
        self.superresolution = SuperResolution(
            rendering_kwargs["superresolution_module"], channels=plane_channels, img_resolution=img_resolution,
            sr_num_fp16_res=sr_num_fp16_res, sr_antialias=rendering_kwargs["sr_antialias"], w_dim=w_dim,
            **dict(sr_kwargs or {}))
        self.decoder = OSGDecoder(plane_channels, out_dim=plane_channels,
                                  lr_multiplier=rendering_kwargs.get("decoder_lr_mul", 1))
        self.neural_rendering_resolution = neural_rendering_resolution
        self.deterministic = False  # default for synthesis(deterministic=None): fixed jitter, linspace importance

    # ----------------------------------------------------------------------------------------------
    @property
    def num_ws(self) -> int:
        return self.backbone.num_ws

    def mapping(self, z: torch.Tensor, c: torch.Tensor, truncation_psi: float = 1,
                truncation_cutoff: int | None = None, update_emas: bool = False) -> torch.Tensor:
        """z [B, z_dim], c [B, 25] -> ws [B, num_ws, w_dim]; c is scaled by rendering_kwargs['c_scale']."""
        if self.rendering_kwargs.get("c_gen_conditioning_zero", False):
            c = torch.zeros_like(c)
        return self.backbone.mapping(z, c * self.rendering_kwargs.get("c_scale", 0), truncation_psi=truncation_psi,
                                     truncation_cutoff=truncation_cutoff, update_emas=update_emas)

    def planes(self, ws: torch.Tensor, **synthesis_kwargs) -> torch.Tensor:
        """ws [B, num_ws, w_dim] -> planes [B, K, 3, C, H, W] (K = 1 for the tri-plane).

        The tensor is a permuted view of [B, 3, C, K, H, W] storage, the layout the samplers read.
        """
        p = self.backbone.synthesis(ws, **synthesis_kwargs)  # [B, 3C, K, H, W]
        p = p.reshape(p.shape[0], 3, self.plane_channels, *p.shape[2:])
        return p.permute(0, 3, 1, 2, 4, 5)

    def sample_features(self, planes: torch.Tensor, points: torch.Tensor, impl: str = "auto",
                        box_warp: float | None = None) -> torch.Tensor:
        """Aggregated plane features at points: planes [B, K, 3, C, H, W], points [B, P, 3] -> [B, P, C].

        Points are world points scaled by 2 / box_warp (default: the rendering box) into the planes' [-1, 1]^3.
        """
        box_warp = self.render_options.box_warp if box_warp is None else box_warp
        if self.representation == "triplane":
            feats = sample_triplane(planes.squeeze(1), points, box_warp, legacy_eg3d_axes=self.legacy_axes, impl=impl)
        else:
            feats = sample_orthoplanes(planes, points, box_warp, legacy_unscaled_axes=self.legacy_axes, impl=impl)
        return aggregate_mean(feats)

    def grid_features(self, planes: torch.Tensor, ticks: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
                      cache: dict | None = None) -> torch.Tensor:
        """sample_features of one latent's planes [1, K, 3, C, H, W] at every point of the lattice
        ticks_x x ticks_y x ticks_z (world coordinates) -> [n_x, n_y, n_z, C], computed separably (cache: see
        op3d.planes.sampling.orthoplanes_on_grid)."""
        box_warp = self.render_options.box_warp
        if self.representation == "triplane":
            return triplane_on_grid(planes.squeeze(1), ticks, box_warp, legacy_eg3d_axes=self.legacy_axes, cache=cache)
        return orthoplanes_on_grid(planes, ticks, box_warp, legacy_unscaled_axes=self.legacy_axes, cache=cache)

    def field(self, planes: torch.Tensor, impl: str = "auto", ws: torch.Tensor | None = None, body=None):
        """The radiance field of given planes, as the renderer calls it (ws and body: see subclasses)."""
        if body is not None:
            raise ValueError("this generator is not pose-conditional; it takes no body")
        return lambda points, _directions: self.decoder(self.sample_features(planes, points, impl))

    def sample_density(self, points: torch.Tensor, ws: torch.Tensor | None = None,
                       planes: torch.Tensor | None = None, body=None, **synthesis_kwargs) -> dict[str, torch.Tensor]:
        """Raw sigma [B, P, 1] and colour features [B, P, C] at points [B, P, 3]; planes computed once from ws."""
        if planes is None:
            if ws is None:
                raise ValueError("sample_density needs ws or planes")
            planes = self.planes(ws, **synthesis_kwargs)
        return self.field(planes, ws=ws, body=body)(points, None)

    def render_rays(self, field, origins: torch.Tensor, dirs: torch.Tensor, deterministic: bool,
                    generator: torch.Generator | None, chunk: int | None, body=None
                    ) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """Volume rendering of the rays [B, R, 3]: features [B, R, C], depth [B, R, 1] and extra outputs (none
        here; subclasses with other renderers add theirs). body: the posed bodies of pose-conditional subclasses."""
        feats, depth, _ = render(field, origins, dirs, self.render_options, deterministic=deterministic,
                                 generator=generator, chunk=chunk, single_backward=self.single_backward_render)
        return feats, depth, {}

    def synthesis(self, ws: torch.Tensor, c: torch.Tensor, neural_rendering_resolution: int | None = None,
                  deterministic: bool | None = None, generator: torch.Generator | None = None, chunk: int | None = None,
                  return_planes: bool = False, planes: torch.Tensor | None = None, body=None, **synthesis_kwargs
                  ) -> dict[str, torch.Tensor]:
        """Render ws [B, num_ws, w_dim] from cameras c [B, 25]; see the class docstring for outputs."""
        check_labels(c)
        deterministic = self.deterministic if deterministic is None else deterministic
        res = neural_rendering_resolution or self.neural_rendering_resolution
        synthesis_kwargs.pop("update_emas", None)
        origins, dirs = rays_from_cameras(c, res)
        if planes is None:
            planes = self.planes(ws, **synthesis_kwargs)
        feats, depth, extra = self.render_rays(self.field(planes, ws=ws, body=body), origins, dirs, deterministic,
                                               generator, chunk, body=body)
        B = ws.shape[0]
        feature_image = feats.permute(0, 2, 1).reshape(B, feats.shape[-1], res, res).contiguous()
        depth_image = depth.permute(0, 2, 1).reshape(B, 1, res, res)
        rgb_image = feature_image[:, :3]
        sr_kwargs = {k: v for k, v in synthesis_kwargs.items() if k != "noise_mode"}
        image, aliased_raw = self.superresolution(rgb_image, feature_image, ws,
                                     noise_mode=self.rendering_kwargs.get("superresolution_noise_mode", "none"),
                                     **sr_kwargs)
        if self.legacy_raw_alias and aliased_raw is not None:
            rgb_image = aliased_raw
        out = {"image": image, "image_raw": rgb_image, "image_depth": depth_image, **extra}
        if return_planes:
            out["planes"] = planes
        return out

    def forward(self, z: torch.Tensor, c: torch.Tensor, truncation_psi: float = 1,
                truncation_cutoff: int | None = None, neural_rendering_resolution: int | None = None,
                update_emas: bool = False, **synthesis_kwargs) -> dict[str, torch.Tensor]:
        ws = self.mapping(z, c, truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff,
                          update_emas=update_emas)
        return self.synthesis(ws, c, neural_rendering_resolution=neural_rendering_resolution, **synthesis_kwargs)
