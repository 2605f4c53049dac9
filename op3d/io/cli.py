"""`op3d convert` and `op3d info`."""
from __future__ import annotations

import click

from op3d.io.api import load
from op3d.io.checkpoint import save_pretrained


@click.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@click.argument("out_dir", type=click.Path(file_okay=False))
@click.option("--which", type=click.Choice(["G_ema", "G", "D"]), default="G_ema", show_default=True,
              help="Which network of the snapshot to convert.")
def convert(source: str, out_dir: str, which: str) -> None:
    """Convert an original OP3D/EG3D snapshot .pkl into an op3d checkpoint directory (safe: nothing executes)."""
    model = load(source, which=which)
    save_pretrained(model, out_dir, model.init_kwargs, extra={"converted_from": source, "which": which})
    n = sum(t.numel() for t in model.state_dict().values())
    click.echo(f"wrote {out_dir} ({type(model).__name__}, {n:,} weights)")


@click.command()
@click.argument("path", type=click.Path(exists=True))
@click.option("--which", type=click.Choice(["G_ema", "G", "D"]), default="G_ema", show_default=True)
def info(path: str, which: str) -> None:
    """Print what a checkpoint directory or snapshot holds."""
    model = load(path, which=which)
    kw = model.init_kwargs
    click.echo(f"class: {type(model).__name__}")
    for key in ("representation", "per_dir_plane_number", "fourier_L", "img_resolution", "legacy_axes",
                "neural_rendering_resolution", "channel_base", "channel_max"):
        if key in kw:
            click.echo(f"{key}: {kw[key]}")
    if "rendering_kwargs" in kw:
        rk = kw["rendering_kwargs"]
        click.echo("rendering: " + ", ".join(f"{k}={rk[k]}" for k in ("ray_start", "ray_end", "box_warp",
                   "depth_resolution", "depth_resolution_importance", "superresolution_module") if k in rk))
    click.echo(f"weights: {sum(t.numel() for t in model.state_dict().values()):,}")
