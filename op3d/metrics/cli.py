"""`op3d metrics` (and test_scripts/calc_metrics.py)."""
from __future__ import annotations

from pathlib import Path

import click

from op3d.cli_types import Device


def training_data(network) -> str | None:
    """The dataset a network in a training run was trained on (its run's training_options.json), as EG3D's
    calc_metrics.py looks it up; None when there is none to find."""
    import json

    from op3d.io.api import resolve_checkpoint

    snapshot = resolve_checkpoint(network)
    for run in (snapshot, snapshot.parent):
        options = run / "training_options.json"
        if options.is_file():
            try:
                data = json.loads(options.read_text()).get("data")
            except (ValueError, AttributeError):
                return None
            if data and Path(data).exists():
                click.echo(f"dataset from {options}: {data}", err=True)
                return str(data)
    return None


@click.command(context_settings={"show_default": True})
@click.option("--network", required=True, type=click.Path(exists=True))
@click.option("--metrics", default="swd,reproj",
              help="Comma-separated: fid50k_full, kid50k_full, is50k, pr50k3_full, fid50k_full_random_cameras, "
                   "kid50k_full_random_cameras, swd, reproj")
@click.option("--detector", type=click.Path(), default=None,
              help="Inception detector file for FID/KID (pt_inception-2015-12-05-6726825d.pth) [env OP3D_INCEPTION]")
@click.option("--cache-dir", type=click.Path(file_okay=False), default=None,
              help="Where real-image statistics are cached [default: ~/.cache/op3d]")
@click.option("--data", type=click.Path(exists=True), default=None, help="Dataset for metrics that need reals")
@click.option("--num", type=click.IntRange(min=2), default=None,
              help="Fakes (fid/kid/is/pr: 50000, swd: 1000) or latents (reproj: 1000)")
@click.option("--vgg", type=click.Path(), default=None,
              help="VGG16 detector file for pr50k3_full (NVIDIA's vgg16.pt) [default: $OP3D_VGG16]")
@click.option("--seed", type=click.IntRange(min=0), default=0)
@click.option("--outdir", type=click.Path(file_okay=False), default=None,
              help="Where metric-<name>.jsonl goes [default: beside the network]")
@click.option("--body-model", default=None,
              help="Pose-conditional networks: body model of the dataset's poses [default: the one the network used]")
@click.option("--device", type=Device(), default=None)
def metrics(network, metrics, data, num, vgg, seed, outdir, device, detector, cache_dir, body_model) -> None:
    """Evaluate a network (FID/KID/IS with the Inception detector file, precision/recall with the VGG16 file;
    SWD and reprojection error need none). Results are appended only when a metric has finished."""
    import torch

    import op3d
    from op3d.data.dataset import ImageDataset
    from op3d.metrics.run import append_result, check_metric_names, compute_metric, default_num

    names = [m.strip() for m in metrics.split(",") if m.strip()]
    if not names:
        raise click.BadParameter(f"{metrics!r} names no metric", param_hint="--metrics")
    check_metric_names(names, detector, vgg)
    cache = Path(cache_dir) if cache_dir else Path.home() / ".cache" / "op3d"
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    G = op3d.load(network, device=dev)
    if body_model is not None:
        if not hasattr(G, "body_model"):
            raise click.UsageError("--body-model applies to pose-conditional networks only")
        G.body_model = body_model
    data = data or training_data(network)
    dataset = ImageDataset(data, use_poses=hasattr(G, "body_model")) if data else None  # poses: conditional G
    target = Path(outdir) if outdir else (Path(network) if Path(network).is_dir() else Path(network).parent)
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        record = dict(compute_metric(name, G, dataset, num or default_num(name), seed, dev, detector, cache, vgg,
                                     progress=True), network=str(network))
        path = append_result(target, record)
        summary = ", ".join(f"{k} {v:.4f}" for k, v in record["results"].items() if isinstance(v, float))
        click.echo(f"{name}: {summary} ({record['total_time']:.1f} s) -> {path}")
