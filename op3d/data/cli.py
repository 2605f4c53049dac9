"""`op3d dataset ...`: make, pack and check EG3D-format datasets."""
from __future__ import annotations

import click

from op3d.cli_types import Finite


@click.group()
def dataset() -> None:
    """Make, pack and check datasets (EG3D format: images + dataset.json with 25-d cameras)."""


@dataset.command()
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Output zip.")
@click.option("--count", type=click.IntRange(min=1), default=2000, show_default=True)
@click.option("--resolution", type=click.IntRange(min=8), default=64, show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
def synthetic(out: str, count: int, resolution: int, seed: int) -> None:
    """Render the built-in procedural heads with FFHQ-like cameras (+ depth maps)."""
    from op3d.data.synthetic import make_synthetic_dataset

    make_synthetic_dataset(out, count, resolution, seed)
    click.echo(f"wrote {out} ({count} images, {resolution}x{resolution})")


@dataset.command()
@click.argument("source", type=click.Path(exists=True, file_okay=False))
@click.argument("cameras", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Output zip.")
@click.option("--resolution", type=click.IntRange(min=4), required=True)
@click.option("--crop", type=click.Choice(["center", "none"]), default="center", show_default=True)
def pack(source: str, cameras: str, out: str, resolution: int, crop: str) -> None:
    """Pack a folder of images and a camera file (dataset.json-style JSON or name,yaw,pitch CSV)."""
    from op3d.data.dataset import ImageDataset
    from op3d.data.pack import pack_dataset, summary

    pack_dataset(source, cameras, out, resolution, crop)
    click.echo(summary(ImageDataset(out)))


@dataset.command(name="synthetic-body")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Output zip.")
@click.option("--count", type=click.IntRange(min=1), default=200, show_default=True)
@click.option("--resolution", type=click.IntRange(min=8), default=64, show_default=True)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
def synthetic_body(out: str, count: int, resolution: int, seed: int) -> None:
    """Render the built-in procedural body in random poses (a pose-conditional dataset)."""
    from op3d.data.synthetic_body import make_body_dataset

    make_body_dataset(out, count, resolution, seed, progress=True)
    click.echo(f"wrote {out} ({count} posed bodies, {resolution}x{resolution})")


@dataset.command()
@click.argument("images", type=click.Path(exists=True, file_okay=False))
@click.argument("pare_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Output zip.")
@click.option("--resolution", type=click.IntRange(min=4), required=True)
@click.option("--body-model", required=True,
              help="SMPL model file the poses were estimated with (.pkl/.npz), or 'procedural'.")
@click.option("--fov-deg", type=Finite(), default=12.0, show_default=True,
              help="Field of view of the perspective camera that replaces PARE's weak-perspective one.")
@click.option("--person", type=click.IntRange(min=0), default=0, show_default=True,
              help="Which person of each PARE file (files with several people).")
def pare(images: str, pare_dir: str, out: str, resolution: int, body_model: str, fov_deg: float,
         person: int) -> None:
    """Images + PARE outputs (PARE_DIR/<image stem>.pkl) -> a pose-conditional dataset (cameras + SMPL poses)."""
    from op3d.conditioning.pare import import_pare
    from op3d.data.dataset import ImageDataset
    from op3d.data.pack import summary

    import_pare(images, pare_dir, out, resolution, body_model, fov_deg, person)
    click.echo(summary(ImageDataset(out, use_poses=True)))


@dataset.command()
@click.argument("path", type=click.Path(exists=True))
def check(path: str) -> None:
    """Validate a dataset, decoding every image, and print a summary."""
    from op3d.data.dataset import ImageDataset
    from op3d.data.pack import summary

    probe = ImageDataset(path, check_images="none")
    click.echo(summary(ImageDataset(path, use_poses=probe.has_poses, check_images="all")))
