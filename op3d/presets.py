"""Named configurations: the original `--cfg` rendering presets and generator sizes, plus tiny ones."""
from __future__ import annotations

import copy

# SPEC section 4 / the original train script's rendering options per --cfg.
RENDERING_PRESETS: dict[str, dict] = {
    "ffhq": dict(depth_resolution=48, depth_resolution_importance=48, ray_start=2.25, ray_end=3.3, box_warp=1,
                 avg_camera_radius=2.7, avg_camera_pivot=[0, 0, 0.2]),
    "afhq": dict(depth_resolution=48, depth_resolution_importance=48, ray_start=2.25, ray_end=3.3, box_warp=1,
                 avg_camera_radius=2.7, avg_camera_pivot=[0, 0, -0.06]),
    "shhq": dict(depth_resolution=64, depth_resolution_importance=64, ray_start="auto", ray_end="auto", box_warp=1.0,
                 white_back=True, avg_camera_radius=2.7, avg_camera_pivot=[0, 0, 0]),
    "shapenet": dict(depth_resolution=64, depth_resolution_importance=64, ray_start=0.1, ray_end=2.6, box_warp=1.6,
                     white_back=True, avg_camera_radius=1.7, avg_camera_pivot=[0, 0, 0]),
    # The built-in synthetic heads (op3d.data.synthetic): cameras at radius 2.7 like FFHQ.
    "synthetic": dict(depth_resolution=24, depth_resolution_importance=24, ray_start=2.25, ray_end=3.3, box_warp=1,
                      white_back=True, avg_camera_radius=2.7, avg_camera_pivot=[0, 0, 0]),
    # Pose-conditional bodies (op3d.data.synthetic_body and PARE imports): metres, body centred at the origin.
    # Rays are sampled only inside each posed body's box grown by body_box_margin metres (ConditionalGenerator).
    "body": dict(depth_resolution=32, depth_resolution_importance=32, ray_start="auto", ray_end="auto", box_warp=2.4,
                 white_back=True, avg_camera_radius=4.0, avg_camera_pivot=[0, 0, 0], avg_camera_focal=1.75,
                 body_box_margin=0.1),
}

COMMON_RENDERING = dict(disparity_space_sampling=False, clamp_mode="softplus", c_gen_conditioning_zero=False,
                        gpc_reg_prob=0.5, c_scale=1.0, superresolution_noise_mode="none", density_reg=0.25,
                        density_reg_p_dist=0.004, reg_type="l1", decoder_lr_mul=1.0, sr_antialias=True)

# Network sizes: (channel_base, channel_max, mapping layers, plane resolution, w_dim, sr module, sr channels)
SIZES: dict[str, dict] = {
    "full": dict(channel_base=32768, channel_max=512, mapping_kwargs=dict(num_layers=2), plane_resolution=256,
                 w_dim=512, z_dim=512),
    "op3d": dict(channel_base=24576, channel_max=384, mapping_kwargs=dict(num_layers=8), plane_resolution=256,
                 w_dim=512, z_dim=512),
    "small": dict(channel_base=4096, channel_max=128, mapping_kwargs=dict(num_layers=2), plane_resolution=64,
                  w_dim=128, z_dim=128, sr_kwargs=dict(sr_channels=(64, 32))),
    "tiny": dict(channel_base=256, channel_max=16, mapping_kwargs=dict(num_layers=2), plane_resolution=16,
                 w_dim=32, z_dim=32, sr_kwargs=dict(sr_channels=(16, 8))),
}


def rendering_kwargs(cfg: str, **overrides) -> dict:
    if cfg not in RENDERING_PRESETS:
        raise ValueError(f"unknown --cfg {cfg!r}; expected one of {sorted(RENDERING_PRESETS)}")
    out = copy.deepcopy(COMMON_RENDERING)
    out.update(copy.deepcopy(RENDERING_PRESETS[cfg]))
    out.update(overrides)
    return out


def generator_kwargs(cfg: str = "ffhq", resolution: int = 512, size: str = "full", representation: str = "orthoplanes",
                     plane_number: int = 8, fourier_L: int = 10, neural_rendering_resolution: int = 64,
                     **rendering_overrides) -> dict:
    """Constructor kwargs for op3d.networks.Generator. Resolutions without an original SR module
    (e.g. 64 for the synthetic data) use op3d's Superresolution2X from half the output resolution. The networks are
    float32 throughout (num_fp16_res = sr_num_fp16_res = 0, no conv clamp); `op3d train` sets EG3D's fp16 options
    (--g_num_fp16_res, --sr_num_fp16_res) itself."""
    if size not in SIZES:
        raise ValueError(f"unknown model size {size!r}; expected one of {sorted(SIZES)}")
    from op3d.networks.superresolution import GENERIC_2X, SR_FOR_RESOLUTION

    kw = copy.deepcopy(SIZES[size])
    sr = SR_FOR_RESOLUTION.get(resolution) if size in ("full", "op3d") else None
    rk = rendering_kwargs(cfg, image_resolution=resolution, superresolution_module=sr or GENERIC_2X,
                          **rendering_overrides)
    kw.update(c_dim=25, img_resolution=resolution, img_channels=3, representation=representation,
              per_dir_plane_number=plane_number, fourier_L=fourier_L, rendering_kwargs=rk,
              num_fp16_res=0, conv_clamp=None, fused_modconv_default="inference_only", sr_num_fp16_res=0)
    kw.setdefault("sr_kwargs", {})
    kw["sr_kwargs"]["fused_modconv_default"] = "inference_only"
    kw["neural_rendering_resolution"] = neural_rendering_resolution
    return kw


def discriminator_kwargs(resolution: int, size: str = "full", mbstd_group: int = 4) -> dict:
    s = SIZES[size]
    return dict(c_dim=25, img_resolution=resolution, img_channels=3, channel_base=s["channel_base"],
                channel_max=s["channel_max"], num_fp16_res=0, conv_clamp=None,
                mapping_kwargs=dict(num_layers=2) if size in ("small", "tiny") else {},
                epilogue_kwargs=dict(mbstd_group_size=mbstd_group))
