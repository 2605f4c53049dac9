"""`op3d sample` and `op3d video` (and gen_samples/gen_samples.py, gen_samples/gen_videos.py)."""
from __future__ import annotations

from pathlib import Path

import click

from op3d.cli_types import Device, Finite
import numpy as np


def _device(name: str | None):
    import torch

    return torch.device(name or ("cuda" if torch.cuda.is_available() else "cpu"))


def pose_options(command):
    """--pose-id / --pose / --data / --body-model: the body a pose-conditional network renders."""
    options = [click.option("--pose-id", type=click.IntRange(min=0), default=None,
                            help="Pose-conditional networks: the pose of image N of --data"),
               click.option("--pose", "pose_file", type=click.Path(exists=True, dir_okay=False), default=None,
                            help="Pose-conditional networks: a pose JSON file (docs/conditional.md)"),
               click.option("--data", type=click.Path(exists=True), default=None,
                            help="Pose-conditional dataset (--pose-id)"),
               click.option("--body-model", default=None,
                            help="Body model of the pose [default: the one the network used]")]
    for option in reversed(options):
        command = option(command)
    return command


def _sampling_body(G, pose_id, pose_file, data, body_model, device):
    """The PosedBody (batch 1) a pose-conditional network renders, or None for unconditional networks."""
    if not hasattr(G, "body_model"):
        given = [flag for flag, value in (("--pose-id", pose_id), ("--pose", pose_file), ("--data", data),
                                          ("--body-model", body_model)) if value is not None]
        if given:
            raise click.UsageError(f"{' / '.join(given)}: pose-conditional networks only (this one is not)")
        return None
    if (pose_id is None) == (pose_file is None):
        raise click.UsageError("this network is pose-conditional: pass --pose-id N with --data DATA, or --pose FILE")
    from op3d.conditioning.posed import body_model_from_spec, load_pose_file

    if pose_file is not None:
        params = load_pose_file(pose_file)
    else:
        if data is None:
            raise click.UsageError("--pose-id needs --data (the pose-conditional dataset)")
        from op3d.data.dataset import ImageDataset

        dataset = ImageDataset(data, use_poses=True, check_images="none")
        if pose_id >= len(dataset):
            raise click.BadParameter(f"{pose_id} >= {len(dataset)} images in {data}", param_hint="--pose-id")
        params = dataset.get_pose(pose_id)
    import torch

    model = body_model_from_spec(body_model or G.body_model, device)
    return G.pose_bodies(model, torch.as_tensor(params, dtype=torch.float32, device=device).reshape(1, -1))


@click.command(context_settings={"show_default": True})
@click.option("--network", required=True, type=click.Path(exists=True), help="op3d checkpoint dir or original .pkl")
@click.option("--seeds", required=True, help="Seeds, e.g. 0-3,7")
@click.option("--trunc", "truncation_psi", type=Finite(), default=1.0, help="Truncation psi")
@click.option("--trunc-cutoff", "truncation_cutoff", type=click.IntRange(min=0), default=None,
              help="Truncate only the first N ws")
@click.option("--outdir", required=True, type=click.Path(file_okay=False))
@click.option("--views", default="-23,0,23", help="Yaw[/pitch] offsets from frontal in degrees")
@click.option("--fov-deg", type=Finite(min=1, max=179), default=None,
              help="Field of view (float) [default: the preset's, 18.837 for faces]")
@click.option("--depth/--no-depth", default=True, help="Also write depth strips")
@click.option("--grid/--no-grid", default=False, help="Also write one grid of all seeds")
@click.option("--shapes/--no-shapes", default=False, help="Extract shapes")
@click.option("--shape-res", type=click.IntRange(min=8, max=1024), default=256,
              help="Grid points per side (1024^3 float32 is 4 GiB)")
@click.option("--shape-format", type=click.Choice(["mrc", "ply", "obj"]), default="mrc")
@click.option("--mesh-level", type=Finite(), default=10.0, help="Density level of the mesh surface (ply/obj)")
@click.option("--mesh-grid", type=click.Choice(["coarse-to-fine", "dense"]), default="coarse-to-fine",
              help="ply/obj: evaluate every 4th grid point, then exactly only near the surface; or every point")
@click.option("--shape-colors/--no-shape-colors", default=True, help="Vertex colours from the decoder (ply/obj)")
@click.option("--chunk", type=click.IntRange(min=256), default=None, help="Rays per rendering pass (memory)")
@pose_options
@click.option("--device", type=Device(), default=None)
def sample(network, seeds, truncation_psi, truncation_cutoff, outdir, views, fov_deg, depth, grid, shapes, shape_res,
           shape_format, mesh_level, mesh_grid, shape_colors, chunk, pose_id, pose_file, data, body_model,
           device) -> None:
    """Render seeds from several views; optionally export density volumes or meshes.

    Pose-conditional networks render the body pose given by --pose-id (with --data) or --pose; their shapes are
    -sdf volumes (world units, positive inside) and meshes are taken at --mesh-level 0 unless given."""
    import torch.nn.functional as F

    import op3d
    from op3d.sampling import render as rendering
    from op3d.sampling.views import parse_seeds, parse_views, view_labels
    from op3d.shapes.export import extract_mesh, write_mesh, write_mrc
    from op3d.training.report import depth_to_uint8, save_grid, to_uint8

    seed_list, view_list = parse_seeds(seeds), parse_views(views)
    dev = _device(device)
    G = op3d.load(network, device=dev)
    body = _sampling_body(G, pose_id, pose_file, data, body_model, dev)
    if body is not None and mesh_level == 10.0:
        mesh_level = 0.0
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    cams = view_labels(G, view_list, fov_deg)
    ws_all = rendering.seed_ws(G, seed_list, truncation_psi, truncation_cutoff, fov_deg, device=dev)
    strips = []
    for seed, ws in zip(seed_list, ws_all):
        r = rendering.render_views(G, ws[None], cams, chunk=chunk, body=body)
        images = to_uint8(r["image"][0])  # [V, R, R, 3]
        strip = np.concatenate(list(images), axis=1)[None]
        save_grid(strip, out / f"seed{seed:04d}.png", 1)
        strips.append(images)
        if depth:
            d = F.interpolate(r["image_depth"][0], size=images.shape[1:3], mode="nearest")
            save_grid(np.concatenate(list(depth_to_uint8(d)), axis=1)[None], out / f"seed{seed:04d}_depth.png", 1)
        if shapes:
            planes = r["planes"][:1]  # rendered above; reused, not recomputed
            if shape_format == "mrc":
                write_mrc(rendering.density_grid(G, planes, shape_res, progress=True, ws=ws[None], body=body),
                          out / f"seed{seed:04d}.mrc")
            else:
                if mesh_grid == "dense":
                    g = rendering.density_grid(G, planes, shape_res, progress=True, ws=ws[None], body=body)
                else:
                    g = rendering.mesh_grid(G, planes, shape_res, mesh_level, progress=True, ws=ws[None], body=body)
                verts, faces = extract_mesh(g, mesh_level)
                colors = rendering.vertex_colors(G, planes, verts, ws[None], body).cpu().numpy() if shape_colors \
                    else None
                write_mesh(out / f"seed{seed:04d}.{shape_format}", verts, faces, colors)
        click.echo(f"seed {seed}: {out / f'seed{seed:04d}.png'}")
    if grid:
        save_grid(np.concatenate(strips), out / "grid.png", len(view_list))


@click.command(context_settings={"show_default": True})
@click.option("--network", required=True, type=click.Path(exists=True))
@click.option("--seeds", required=True, help="Seeds: W*H per keyframe, e.g. 0-11 for 3 keyframes of a 2x2 grid")
@click.option("--grid", "grid_shape", default="1x1", help="WxH grid of videos")
@click.option("--trunc", "truncation_psi", type=Finite(), default=1.0)
@click.option("--trunc-cutoff", "truncation_cutoff", type=click.IntRange(min=0), default=None)
@click.option("--w-frames", type=click.IntRange(min=1), default=60, help="Frames per keyframe")
@click.option("--mode", type=click.Choice(["image", "raw", "depth"]), default="image")
@click.option("--fps", type=click.IntRange(min=1), default=30)
@click.option("--fov-deg", type=Finite(min=1, max=179), default=None,
              help="Field of view [default: the preset's, 18.837 for faces]")
@click.option("--output", required=True, type=click.Path(dir_okay=False), help="Output .mp4")
@click.option("--sample-mult", type=Finite(min=0, min_open=True), default=1.0,
              help="Multiplier of the network's samples per ray (the original gen_videos.py used 2)")
@click.option("--nrr", type=click.IntRange(min=8, max=1024), default=None,
              help="Neural rendering resolution [default: the network's]")
@pose_options
@click.option("--device", type=Device(), default=None)
def video(network, seeds, grid_shape, truncation_psi, truncation_cutoff, w_frames, mode, fps, fov_deg, output,
          sample_mult, nrr, pose_id, pose_file, data, body_model, device) -> None:
    """Orbit video interpolating between seeds, in a WxH grid (pose-conditional networks: in the given pose)."""
    import op3d
    from op3d.sampling.render import seed_ws
    from op3d.sampling.video import render_video
    from op3d.sampling.views import parse_grid, parse_seeds

    W, H = parse_grid(grid_shape)
    seed_list = parse_seeds(seeds)
    if len(seed_list) % (W * H):
        raise click.BadParameter(f"{len(seed_list)} seeds is not a multiple of the grid size {W * H}",
                                 param_hint="--seeds")
    dev = _device(device)
    G = op3d.load(network, device=dev)
    options = G.render_options
    options.depth_resolution = max(3, int(options.depth_resolution * sample_mult))
    options.depth_resolution_importance = int(options.depth_resolution_importance * sample_mult)
    if nrr is not None:
        G.neural_rendering_resolution = nrr
    body = _sampling_body(G, pose_id, pose_file, data, body_model, dev)
    ws = seed_ws(G, seed_list, truncation_psi, truncation_cutoff, fov_deg, device=dev)
    ws = ws.reshape(len(seed_list) // (W * H), H, W, *ws.shape[1:])
    path = render_video(G, ws, output, frames_per_key=w_frames, mode=mode, fps=fps, fov_deg=fov_deg, progress=True,
                        body=body)
    click.echo(f"wrote {path}")
