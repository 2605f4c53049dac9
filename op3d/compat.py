"""The original OP3D / EG3D command lines, verbatim: their flags, spellings and value syntax (`--shapes=true`,
`--shape-format=.ply`, `--image_mode=image_depth`) translated into op3d's commands, or refused in one line saying
why. Used by the scripts that keep the original names (gen_samples/gen_samples.py, gen_samples/gen_videos.py,
test_scripts/calc_metrics.py, train_scripts/export_data.py, export_pose.py); `op3d train` takes the original
training flags itself.
"""
from __future__ import annotations

import math
import sys
from collections.abc import Callable
from pathlib import Path

import click

from op3d.data.cameras import FFHQ_FOCAL

TRUE, FALSE = ("true", "1", "yes", "y", "on"), ("false", "0", "no", "n", "off")

# original flag -> (op3d flag or None, value -> op3d value (or None: drop), default of the original)
Rule = tuple[str | None, Callable[[str], str | None] | None, str | None]


def parse_bool(flag: str, value: str) -> bool:
    text = value.strip().lower()
    if text in TRUE or text in FALSE:
        return text in TRUE
    raise click.UsageError(f"{flag}={value}: expected true or false")


def parse_count(flag: str, value: str) -> int:
    if not value.strip().isdigit() or int(value) < 1:
        raise click.UsageError(f"{flag}={value}: expected a whole number >= 1")
    return int(value)


def _fov_of_focal(focal: float) -> str:
    """The --fov-deg whose normalized focal is `focal` (inverse of op3d.data.cameras.fov_to_focal)."""
    return f"{math.degrees(2 * math.atan(1 / (1.414 * focal))):.6f}"


def _split(argv: list[str], takes_value: set[str]) -> list[tuple[str, str | None]]:
    """['--a=1', '--b', '2', '--c'] -> [('--a', '1'), ('--b', '2'), ('--c', None)]; a flag in takes_value gets the
    next argument when it has no '='."""
    out, i = [], 0
    while i < len(argv):
        arg = argv[i]
        if not arg.startswith("-"):
            raise click.UsageError(f"unexpected argument {arg!r} (the original scripts take only --flag=value)")
        name, eq, value = arg.partition("=")
        if not eq and name in takes_value:
            if i + 1 >= len(argv):
                raise click.UsageError(f"{name} needs a value")
            value, i = argv[i + 1], i + 1
        out.append((name, value if (eq or name in takes_value) else None))
        i += 1
    return out


def _refuse(reason: str) -> Callable[[str, str], None]:
    def fail(flag: str, value: str) -> None:
        raise click.UsageError(f"{flag}={value}: {reason}")
    return fail


def _note(text: str) -> None:
    click.echo(f"note: {text}", err=True)


def gen_samples(argv: list[str]) -> list[list[str]]:
    """OP3D/EG3D gen_samples.py (unconditional and conditional) -> `op3d sample`."""
    args = ["sample", "--views", "0", "--no-depth"]  # the originals write one frontal image per seed
    for flag, value in _split(argv, {"--network", "--seeds", "--trunc", "--trunc-cutoff", "--class", "--outdir",
                                     "--shapes", "--shape-res", "--fov-deg", "--shape-format", "--reload_modules",
                                     "--pose_id", "--data", "--body-model"}):
        if flag in ("--network", "--seeds", "--trunc", "--trunc-cutoff", "--outdir", "--shape-res", "--fov-deg",
                    "--data", "--body-model"):
            args += [flag, value]
        elif flag == "--shapes":
            args.append("--shapes" if parse_bool(flag, value) else "--no-shapes")
        elif flag == "--shape-format":
            if value not in (".mrc", ".ply", "mrc", "ply", "obj"):
                raise click.UsageError(f"--shape-format={value}: expected .mrc or .ply")
            args += ["--shape-format", value.lstrip(".")]
        elif flag == "--pose_id":
            args += ["--pose-id", value]
        elif flag == "--reload_modules":
            parse_bool(flag, value)
            _note("--reload_modules has no meaning here: op3d builds networks from its own code, never a pickle's")
        elif flag == "--class":
            _refuse("class-conditional generation: OP3D and EG3D models are conditioned on cameras only")(flag, value)
        else:
            args.append(flag if value is None else f"{flag}={value}")  # op3d's own flags pass through
    return [args]


def gen_videos(argv: list[str]) -> list[list[str]]:
    """OP3D/EG3D gen_videos.py -> `op3d video` (one command per video: --interpolate=false makes one per seed)."""
    from op3d.sampling.views import parse_grid, parse_seeds

    opts: dict[str, str] = {"--grid": "1x1", "--w-frames": "600", "--sample_mult": "2", "--cfg": "FFHQ",
                            "--image_mode": "image", "--interpolate": "true", "--shapes": "false"}
    for flag, value in _split(argv, {"--network", "--seeds", "--shuffle-seed", "--grid", "--num-keyframes",
                                     "--w-frames", "--trunc", "--trunc-cutoff", "--outdir", "--reload_modules",
                                     "--cfg", "--image_mode", "--sample_mult", "--nrr", "--shapes", "--interpolate"}):
        if value is None:
            raise click.UsageError(f"{flag} needs a value")
        opts[flag] = value
    for required in ("--network", "--seeds", "--outdir"):
        if required not in opts:
            raise click.UsageError(f"missing {required}")
    if "--shuffle-seed" in opts:
        _refuse("shuffling the seed order is not supported; list the seeds in the order wanted")(
            "--shuffle-seed", opts["--shuffle-seed"])
    if parse_bool("--shapes", opts["--shapes"]):
        _refuse("per-frame shapes are not written by op3d video; use op3d sample --shapes for each seed")(
            "--shapes", opts["--shapes"])
    if "--reload_modules" in opts:
        parse_bool("--reload_modules", opts["--reload_modules"])
        _note("--reload_modules has no meaning here: op3d builds networks from its own code, never a pickle's")
    modes = {"image": "image", "image_depth": "depth", "image_raw": "raw"}
    if opts["--image_mode"] not in modes:
        raise click.UsageError(f"--image_mode={opts['--image_mode']}: expected image, image_depth or image_raw")
    focals = {"FFHQ": FFHQ_FOCAL, "AFHQ": FFHQ_FOCAL, "Shapenet": 1.7074}  # the original's per-cfg focal
    if opts["--cfg"] not in focals:
        raise click.UsageError(f"--cfg={opts['--cfg']}: expected FFHQ, AFHQ or Shapenet")
    W, H = parse_grid(opts["--grid"])
    seeds = parse_seeds(opts["--seeds"])
    common = ["--network", opts["--network"], "--grid", opts["--grid"], "--w-frames", opts["--w-frames"],
              "--mode", modes[opts["--image_mode"]], "--fov-deg", _fov_of_focal(focals[opts["--cfg"]]),
              "--fps", "60", "--sample-mult", opts["--sample_mult"]]
    for flag in ("--trunc", "--trunc-cutoff", "--nrr"):
        if flag in opts:
            common += [flag, opts[flag]]
    outdir = Path(opts["--outdir"])
    if parse_bool("--interpolate", opts["--interpolate"]):
        if "--num-keyframes" in opts:
            keyframes = parse_count("--num-keyframes", opts["--num-keyframes"])
        elif len(seeds) % (W * H):  # as the original: without --num-keyframes the seeds fill whole grids
            raise click.UsageError(f"{len(seeds)} seeds do not fill whole {W}x{H} grids; pass --num-keyframes "
                                   "to cycle them")
        else:
            keyframes = len(seeds) // (W * H)
        cycled = [seeds[i % len(seeds)] for i in range(keyframes * W * H)]  # the original's seed cycling
        return [["video", *common, "--seeds", ",".join(map(str, cycled)),
                 "--output", str(outdir / "interpolation.mp4")]]
    return [["video", *common, "--seeds", ",".join([str(seed)] * (W * H)), "--output", str(outdir / f"{seed}.mp4")]
            for seed in seeds]


def calc_metrics(argv: list[str]) -> list[list[str]]:
    """OP3D/EG3D calc_metrics.py -> `op3d metrics`."""
    args = ["metrics"]
    for flag, value in _split(argv, {"--network", "--metrics", "--data", "--mirror", "--gpus", "--verbose",
                                     "--detector"}):
        if flag in ("--network", "--metrics", "--data", "--detector"):
            args += [flag, value]
        elif flag == "--mirror":
            if parse_bool(flag, value):
                _refuse("op3d computes real statistics on the images as stored, without x-flips")(flag, value)
        elif flag == "--gpus":
            if parse_count(flag, value) > 1:
                _note(f"--gpus={value}: op3d metrics runs in one process on the chosen --device")
        elif flag == "--verbose":
            parse_bool(flag, value)
        else:
            args.append(flag if value is None else f"{flag}={value}")
    return [args]


def export_data(argv: list[str]) -> list[list[str]]:
    """OP3D's export_data.py (photos + PARE's SMPL estimates -> a dataset) -> `op3d dataset pare`."""
    opts = dict(_split(argv, {"--image_folder", "--smpl_folder", "--output_folder", "--n_images", "--focal_length",
                              "--camera_radius", "--tune", "--resolution", "--body-model"}))
    for required in ("--image_folder", "--smpl_folder", "--output_folder"):
        if not opts.get(required):
            raise click.UsageError(f"missing {required}")
    if opts.get("--n_images"):
        _refuse("op3d imports every image of --image_folder that has a PARE output; move the others out")(
            "--n_images", opts["--n_images"])
    if opts.get("--camera_radius") not in (None, "2.7"):
        _refuse("op3d places the camera where PARE's weak-perspective scale puts the body (docs/conditional.md)")(
            "--camera_radius", opts["--camera_radius"])
    if opts.get("--tune"):
        _refuse("no meaning in op3d's import")("--tune", opts["--tune"])
    focal = float(opts.get("--focal_length") or FFHQ_FOCAL)
    out = Path(opts["--output_folder"])
    return [["dataset", "pare", opts["--image_folder"], opts["--smpl_folder"], "--out", str(out / "dataset.zip"),
             "--resolution", opts.get("--resolution") or "512", "--fov-deg",
             f"{math.degrees(2 * math.atan(0.5 / focal)):.6f}",
             "--body-model", opts.get("--body-model") or "procedural"]]


def export_pose(argv: list[str]) -> list[list[str]]:
    """OP3D's export_pose.py wrote PARE poses without images; op3d keeps poses in the dataset (`dataset pare`)."""
    opts = dict(_split(argv, {"--smpl_folder", "--output_folder", "--n_poses"}))
    raise click.UsageError(
        f"export_pose.py --smpl_folder={opts.get('--smpl_folder')}: op3d keeps each pose with its image in the "
        "dataset; run train_scripts/export_data.py (op3d dataset pare) and sample with --pose-id N --data "
        "DATASET.zip, or write a pose file for --pose (docs/conditional.md)")


SCRIPTS = {"gen_samples": gen_samples, "gen_videos": gen_videos, "calc_metrics": calc_metrics,
           "export_data": export_data, "export_pose": export_pose}


def run(script: str, argv: list[str] | None = None) -> None:
    """Translate an original script's command line and run the op3d command(s); errors as op3d's CLI gives them."""
    from op3d.cli import main

    argv = sys.argv[1:] if argv is None else argv
    try:
        commands = SCRIPTS[script](argv)
    except (click.UsageError, ValueError) as e:  # unreadable values (seeds, grids) are usage errors here
        click.echo(f"Error: {e.format_message() if isinstance(e, click.UsageError) else e}", err=True)
        sys.exit(2)
    for command in commands:
        try:
            main(command)
        except SystemExit as e:
            if e.code not in (0, None):
                raise
