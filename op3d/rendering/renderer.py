"""The one volume renderer: stratified + importance sampling of a radiance field along camera rays."""
from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from op3d.ops.dispatch import using_reference
from op3d.rendering.marcher import ray_march
from op3d.rendering.rays import ray_box_limits
from op3d.rendering.samplers import importance_depths, merge_samples, stratified_depths

# field(points [B, P, 3], directions [B, P, 3]) -> {"rgb": [B, P, C], "sigma": [B, P, 1]}
Field = Callable[[torch.Tensor, torch.Tensor], dict]


# How the marcher turns the field's sigma into density: EG3D's softplus(sigma - 1), or "none" for fields that
# return densities already (the pose-conditional generator's SDF density).
CLAMP_MODES = ("softplus", "none")


@dataclass
class RenderOptions:
    """What EG3D keeps in rendering_kwargs that the renderer reads."""

    depth_resolution: int = 48
    depth_resolution_importance: int = 48
    ray_start: float | str = 2.25
    ray_end: float | str = 3.3
    box_warp: float = 1.0
    white_back: bool = False
    disparity_space_sampling: bool = False
    clamp_mode: str = "softplus"
    density_noise: float = 0.0

    @classmethod
    def from_kwargs(cls, kwargs: dict) -> RenderOptions:
        names = cls.__dataclass_fields__.keys()
        options = cls(**{k: kwargs[k] for k in names if k in kwargs})
        if options.clamp_mode not in CLAMP_MODES:
            raise ValueError(f"clamp_mode must be one of {CLAMP_MODES}, got {options.clamp_mode!r}")
        auto = (options.ray_start == "auto", options.ray_end == "auto")
        if auto[0] != auto[1]:
            raise ValueError("ray_start and ray_end must both be numbers or both be 'auto'")
        # marching needs 2 samples per ray; importance sampling draws from the 3rd coarse interval on
        fewest = 3 if options.depth_resolution_importance else 2
        for name, lo in (("depth_resolution", fewest), ("depth_resolution_importance", 0)):
            value = getattr(options, name)
            if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= 4096:
                raise ValueError(f"{name} must be an integer in [{lo}, 4096], got {value!r}")
        if not (isinstance(options.box_warp, (int, float)) and math.isfinite(options.box_warp)
                and options.box_warp > 0):
            raise ValueError(f"box_warp must be a positive number, got {options.box_warp!r}")
        numbers = all(isinstance(v, (int, float)) for v in (options.ray_start, options.ray_end))
        if not auto[0] and not (numbers and 0 <= options.ray_start < options.ray_end < math.inf):
            raise ValueError(f"ray_start and ray_end must be 'auto' or numbers 0 <= start < end, got "
                             f"{options.ray_start!r}, {options.ray_end!r}")
        return options


def _ray_range(origins: torch.Tensor, dirs: torch.Tensor, options: RenderOptions):
    if options.ray_start != "auto":
        return float(options.ray_start), float(options.ray_end)
    start, end = ray_box_limits(origins, dirs, options.box_warp)
    valid = end > start
    if bool(valid.any()):  # rays that miss the box borrow the range of those that hit (as EG3D does)
        start = torch.where(valid, start, start[valid].min())
        end = torch.where(valid, end, start[valid].max())
    return start, end


def _evaluate(field: Field, origins: torch.Tensor, dirs: torch.Tensor, depths: torch.Tensor,
              options: RenderOptions, generator: torch.Generator | None):
    B, R, S, _ = depths.shape
    points = (origins.unsqueeze(-2) + depths * dirs.unsqueeze(-2)).reshape(B, -1, 3)
    directions = dirs.unsqueeze(-2).expand(-1, -1, S, -1).reshape(B, -1, 3)
    out = field(points, directions)
    sigma = out["sigma"]
    if options.density_noise > 0:
        sigma = sigma + torch.randn(sigma.shape, device=sigma.device, generator=generator) * options.density_noise
    return out["rgb"].reshape(B, R, S, -1), sigma.reshape(B, R, S, 1)


def _render_chunk(field: Field, origins: torch.Tensor, dirs: torch.Tensor, options: RenderOptions,
                  deterministic: bool, generator: torch.Generator | None, single_backward: bool):
    B, R, _ = origins.shape
    S, N = options.depth_resolution, options.depth_resolution_importance
    start, end = _ray_range(origins, dirs, options)
    if deterministic:
        jitter = 0.5
    else:
        jitter = torch.rand((B, R, S, 1), device=origins.device, generator=generator)
    depths = stratified_depths(start, end, B, R, S, jitter, device=origins.device,
                               disparity_space=options.disparity_space_sampling)
    single_backward = single_backward and N > 0 and options.density_noise == 0 and torch.is_grad_enabled() \
        and not using_reference()  # the reference twin: two differentiable passes
    with torch.no_grad() if single_backward else contextlib.nullcontext():
        colors, densities = _evaluate(field, origins, dirs, depths, options, generator)
    if N > 0:
        _, _, weights = ray_march(colors, densities, depths, options.white_back, activation=options.clamp_mode)
        u = None if deterministic else torch.rand((B * R, N), device=origins.device, generator=generator)
        fine = importance_depths(depths, weights, N, u)
        if single_backward:  # coarse and fine samples in one differentiable pass: one backward through the field
            colors, densities = _evaluate(field, origins, dirs, torch.cat([depths, fine], dim=2), options, generator)
            (colors, colors_f), (densities, densities_f) = colors.split([S, N], 2), densities.split([S, N], 2)
        else:
            colors_f, densities_f = _evaluate(field, origins, dirs, fine, options, generator)
        depths, colors, densities = merge_samples(depths, colors, densities, fine, colors_f, densities_f)
    rgb, depth, weights = ray_march(colors, densities, depths, options.white_back, activation=options.clamp_mode)
    return rgb, depth, weights.sum(2)


def render(field: Field, origins: torch.Tensor, dirs: torch.Tensor, options: RenderOptions,
           deterministic: bool = False, generator: torch.Generator | None = None, chunk: int | None = None,
           single_backward: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Render rays through a field.

    origins, dirs: [B, R, 3]. Returns features [B, R, C] in [-1, 1], depth [B, R, 1] and accumulated
    opacity [B, R, 1]. deterministic: jitter fixed at 0.5 and importance u = linspace(0, 1, N), so a render
    is reproducible and comparable with EG3D's det mode. chunk: rays per pass to bound memory (the depth
    clamp range then comes from each chunk's samples). single_backward (under autograd, with importance samples
    and no density noise): the coarse pass runs without autograd, only to place the fine samples, and the field
    is evaluated again on coarse + fine samples together, so its backward (e.g. into the planes) runs once instead
    of twice; the same values, worth it where a field evaluation is cheap next to its backward.
    """
    R = origins.shape[1]
    if chunk is None or chunk >= R:
        return _render_chunk(field, origins, dirs, options, deterministic, generator, single_backward)
    parts = [_render_chunk(field, origins[:, i:i + chunk], dirs[:, i:i + chunk], options, deterministic, generator,
                           single_backward) for i in range(0, R, chunk)]
    return tuple(torch.cat(p, dim=1) for p in zip(*parts))  # type: ignore[return-value]
