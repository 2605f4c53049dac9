"""The one volume renderer: stratified + importance sampling of a radiance field along camera rays."""
from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from op3d.ops.dispatch import fast_path
from op3d.rendering.marcher import ray_march
from op3d.rendering.rays import ray_aabb_limits, ray_box_limits
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
                  deterministic: bool, generator: torch.Generator | None, single_backward: bool,
                  ray_range: tuple[torch.Tensor, torch.Tensor] | None = None,
                  depth_range: tuple[torch.Tensor, torch.Tensor] | None = None):
    B, R, _ = origins.shape
    S, N = options.depth_resolution, options.depth_resolution_importance
    start, end = _ray_range(origins, dirs, options) if ray_range is None else ray_range
    if deterministic:
        jitter = 0.5
    else:
        jitter = torch.rand((B, R, S, 1), device=origins.device, generator=generator)
    depths = stratified_depths(start, end, B, R, S, jitter, device=origins.device,
                               disparity_space=options.disparity_space_sampling)
    single_backward = single_backward and N > 0 and options.density_noise == 0 and torch.is_grad_enabled() \
        and fast_path("single_backward", origins.device)  # the reference twin: two differentiable passes
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
    rgb, depth, weights = ray_march(colors, densities, depths, options.white_back, depth_range=depth_range,
                                    activation=options.clamp_mode)
    return rgb, depth, weights.sum(2)


def render(field: Field, origins: torch.Tensor, dirs: torch.Tensor, options: RenderOptions,
           deterministic: bool = False, generator: torch.Generator | None = None, chunk: int | None = None,
           single_backward: bool = False, ray_range: tuple[torch.Tensor, torch.Tensor] | None = None,
           depth_range: tuple[torch.Tensor, torch.Tensor] | None = None
           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Render rays through a field.

    origins, dirs: [B, R, 3]. Returns features [B, R, C] in [-1, 1], depth [B, R, 1] and accumulated
    opacity [B, R, 1]. deterministic: jitter fixed at 0.5 and importance u = linspace(0, 1, N), so a render
    is reproducible and comparable with EG3D's det mode. chunk: rays per pass to bound memory (the depth
    clamp range then comes from each chunk's samples). single_backward (under autograd, with importance samples
    and no density noise): the coarse pass runs without autograd, only to place the fine samples, and the field
    is evaluated again on coarse + fine samples together, so its backward (e.g. into the planes) runs once instead
    of twice; the same values, worth it where a field evaluation is cheap next to its backward.
    ray_range: per-ray (start, end) [B, R, 1] instead of the options' ray_start / ray_end; depth_range: per-ray
    (lo, hi) [B, R, 1] the depth is clamped to (an empty ray's depth is hi) instead of the samples' min / max.
    """
    R = origins.shape[1]
    if chunk is None or chunk >= R:
        return _render_chunk(field, origins, dirs, options, deterministic, generator, single_backward, ray_range,
                             depth_range)
    piece = lambda pair, i: None if pair is None else tuple(t[:, i:i + chunk] for t in pair)
    parts = [_render_chunk(field, origins[:, i:i + chunk], dirs[:, i:i + chunk], options, deterministic, generator,
                           single_backward, piece(ray_range, i), piece(depth_range, i)) for i in range(0, R, chunk)]
    return tuple(torch.cat(p, dim=1) for p in zip(*parts))  # type: ignore[return-value]


def render_in_boxes(field: Field, origins: torch.Tensor, dirs: torch.Tensor, options: RenderOptions,
                    lo: torch.Tensor, hi: torch.Tensor, deterministic: bool = False,
                    generator: torch.Generator | None = None, chunk: int | None = None,
                    single_backward: bool = False) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """`render`, with each batch element's samples confined to its own axis-aligned box lo, hi [B, 3] (e.g. a
    posed body's box plus a margin; human NeRFs such as Neural Body, Peng et al. 2021, sample the same way).

    Only rays that enter their box are evaluated, between entry and exit (from the camera on, if it is inside):
    per element, its rays that hit are packed first and the batch is padded to the largest count with copies of
    a hit ray (their results are dropped). A ray that misses is empty: features 1 with white_back, else -1 (what
    `ray_march` gives a ray without density), opacity 0, depth the end of the ray's range without boxes
    (options' ray_end, or its exit from the rendering box with ray_end "auto"). Hit rays' depths are clamped to
    that range joined with the stretch through their box. Returns features [B, R, C], depth [B, R, 1], opacity
    [B, R, 1].
    """
    B, R, _ = origins.shape
    start, end = ray_aabb_limits(origins, dirs, lo[:, None], hi[:, None])
    hit = (end > 0) & (end > start)
    start = start.clamp_min(0)
    scene_lo, scene_hi = (torch.as_tensor(t, dtype=origins.dtype, device=origins.device).expand_as(start)
                          for t in _ray_range(origins, dirs, options))
    counts = hit[..., 0].sum(1)
    width = max(int(counts.max()), 1)
    order = torch.argsort((~hit[..., 0]).to(torch.uint8), dim=1, stable=True)[:, :width]  # [B, width]: hits first
    slot = torch.arange(width, device=origins.device)[None]
    order = torch.where(slot < counts[:, None], order, order[:, :1])  # padding: copies of the first hit ray
    pick = lambda t: torch.gather(t, 1, order[..., None].expand(-1, -1, t.shape[-1]))
    none = (counts == 0)[:, None, None]  # an element without hits still pads with a finite stretch (dropped)
    ray_range = tuple(torch.where(none, float(v), pick(t)) for t, v in ((start, 0.0), (end, 1.0)))
    depth_range = tuple(torch.where(none, float(v), pick(t)) for t, v in ((torch.minimum(scene_lo, start), 0.0),
                                                                           (torch.maximum(scene_hi, end), 1.0)))
    feats_hit, depth_hit, opacity_hit = render(field, pick(origins), pick(dirs), options, deterministic, generator,
                                               chunk, single_backward, ray_range=ray_range, depth_range=depth_range)
    b_idx, s_idx = (slot < counts[:, None]).nonzero(as_tuple=True)
    r_idx = order[b_idx, s_idx]
    put = lambda empty, hits: empty.index_put((b_idx, r_idx), hits[b_idx, s_idx])  # hit rays back in their places
    background = 1.0 if options.white_back else -1.0
    return (put(feats_hit.new_full((B, R, feats_hit.shape[-1]), background), feats_hit),
            put(scene_hi.to(depth_hit.dtype), depth_hit), put(opacity_hit.new_zeros((B, R, 1)), opacity_hit))
