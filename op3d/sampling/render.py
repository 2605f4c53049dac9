"""Rendering seeds from views, and density grids of a latent."""
from __future__ import annotations

import torch

from op3d.sampling.views import conditioning_label, seed_latent
from op3d.ops.dispatch import using_reference
from op3d.shapes.grid import Grid, evaluate_grid, evaluate_grid_slabs, surface_grid, trim_border


@torch.no_grad()
def seed_ws(G, seeds: list[int], truncation_psi: float = 1.0, truncation_cutoff: int | None = None,
            fov_deg: float | None = None, device="cpu") -> torch.Tensor:
    """ws [S, num_ws, w_dim] for seeds, each computed alone so it never depends on the batch."""
    c = conditioning_label(G, **({} if fov_deg is None else {"fov_deg": fov_deg})).to(device)
    return torch.cat([G.mapping(seed_latent(s, G.z_dim).to(device), c, truncation_psi=truncation_psi,
                                truncation_cutoff=truncation_cutoff) for s in seeds])


@torch.no_grad()
def render_views(G, ws: torch.Tensor, cams: torch.Tensor, chunk: int | None = None, batch: int = 4,
                 body=None) -> dict:
    """Every latent from every camera: ws [S, ...], cams [V, 25] -> image [S, V, 3, R, R], image_raw, image_depth
    (noise 'const', deterministic ray sampling) and the planes [S, K, 3, C, H, W], computed once per latent.
    body: one PosedBody (batch 1) for pose-conditional generators, used for every latent and view."""
    out: dict[str, list] = {"image": [], "image_raw": [], "image_depth": []}
    all_planes = []
    for w in ws:
        planes = G.planes(w[None], noise_mode="const")
        all_planes.append(planes[0])
        per_view: dict[str, list] = {k: [] for k in out}
        for cam in cams.to(ws.device).split(batch):
            extra = {} if body is None else {"body": body.select(torch.zeros(len(cam), dtype=torch.long))}
            r = G.synthesis(w[None].expand(len(cam), -1, -1), cam, planes=planes.expand(len(cam), *planes.shape[1:]),
                            noise_mode="const", deterministic=True, chunk=chunk, **extra)
            for k in out:
                per_view[k].append(r[k])
        for k in out:
            out[k].append(torch.cat(per_view[k]))
    return dict({k: torch.stack(v) for k, v in out.items()}, planes=torch.stack(all_planes))


def _grid_fields(G, planes: torch.Tensor, ws: torch.Tensor | None, body):
    """The grid field on lattice slabs (None where only points work) and on points, for density_grid and
    mesh_grid: raw sigma, or -sdf for pose-conditional generators."""
    if body is not None:
        return None, lambda pts: -G.sample_density(pts, ws=ws, planes=planes, body=body)["sdf"]
    points = lambda pts: G.sample_density(pts, planes=planes)["sigma"]
    if using_reference():
        return None, points
    cache: dict = {}  # resampled planes that are the same for every slab

    def slab(ticks):
        feats = G.grid_features(planes, ticks, cache)  # [n, N, N, C]
        return G.decoder.sigma(feats.reshape(1, -1, feats.shape[-1])).reshape(feats.shape[:3])
    return slab, points


@torch.no_grad()
def density_grid(G, planes: torch.Tensor, resolution: int = 256, chunk: int = 1 << 17, trim: bool = True,
                 progress: bool = False, ws: torch.Tensor | None = None, body=None) -> Grid:
    """Raw sigma of one latent's planes [1, K, 3, C, H, W] on a resolution^3 grid over the preset's box.
    Pose-conditional generators (ws [1, num_ws, w_dim] and body given): -sdf in world units, positive inside.

    Plane features are sampled separably on lattice slabs and only the density row of the decoder is computed
    (G.grid_features, decoder.sigma); `op3d.ops.reference_ops()` evaluates point chunks through
    G.sample_density instead (the reference twin). Memory: the float32 grid plus one chunk of about `chunk` points.
    """
    cube = float(G.render_options.box_warp)
    slab, points = _grid_fields(G, planes, ws, body)
    if slab is None:
        grid = evaluate_grid(points, resolution, cube, chunk=chunk, device=planes.device, progress=progress)
    else:
        grid = evaluate_grid_slabs(slab, resolution, cube, chunk=chunk, device=planes.device, progress=progress)
    return trim_border(grid, inplace=True) if trim and body is None else grid  # OP3D's trimming zeroes densities


@torch.no_grad()
def mesh_grid(G, planes: torch.Tensor, resolution: int, level: float, factor: int = 4, chunk: int = 1 << 17,
              progress: bool = False, ws: torch.Tensor | None = None, body=None) -> Grid:
    """density_grid for marching cubes at `level`, coarse to fine (op3d.shapes.grid.surface_grid): every
    factor-th grid point, then the exact field only in the cells near the level set. Same trimming."""
    cube = float(G.render_options.box_warp)
    slab, points = _grid_fields(G, planes, ws, body)
    if slab is None:  # lattice slabs through the point path
        slab = lambda t: points(torch.stack(torch.meshgrid(*t, indexing="ij"), -1).reshape(1, -1, 3))[0, :, 0] \
            .reshape(len(t[0]), len(t[1]), len(t[2]))
    grid, _ = surface_grid(slab, points, resolution, cube, level, factor=factor, chunk=chunk, device=planes.device,
                           progress=progress)
    return trim_border(grid, inplace=True) if body is None else grid


@torch.no_grad()
def vertex_colors(G, planes: torch.Tensor, verts, ws: torch.Tensor | None = None, body=None) -> torch.Tensor:
    """Decoder colour (first 3 feature channels, [0, 1]) of planes [1, ...] at mesh vertices [V, 3] -> [V, 3]."""
    pts = torch.as_tensor(verts, dtype=torch.float32, device=planes.device)[None]
    return G.sample_density(pts, ws=ws, planes=planes, body=body)["rgb"][0, :, :3].clamp(0, 1)
