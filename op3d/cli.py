"""The `op3d` command line. Subcommands live beside the code they drive and are imported lazily,
so `op3d --help` is instant and a broken optional dependency only affects its own command."""
from __future__ import annotations

import importlib
import sys

import click

# name -> "module:attribute" of a click command or group
COMMANDS = {
    "convert": "op3d.io.cli:convert",
    "dataset": "op3d.data.cli:dataset",
    "info": "op3d.io.cli:info",
    "metrics": "op3d.metrics.cli:metrics",
    "sample": "op3d.sampling.cli:sample",
    "video": "op3d.sampling.cli:video",
    "train": "op3d.training.cli:train",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="op3d")
def cli() -> None:
    """op3d: 3D-aware image synthesis with OrthoPlanes and EG3D tri-planes."""


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors (bad values, missing files or optional packages) print one line, exit 1."""
    try:
        cli.main(args=argv, standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.UsageError as e:  # one line, with where to look
        where = f" (see '{e.ctx.command_path} --help')" if e.ctx is not None else ""
        click.echo(f"Error: {e.format_message()}{where}", err=True)
        sys.exit(e.exit_code)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except (ValueError, ImportError) as e:
        _fail(one_line(e))
    except OSError as e:  # missing paths, permissions, read-only or full disks, broken pipes: the path and why
        _fail((f"{e.filename}: " if e.filename else "") + (e.strerror or one_line(e)))


def _fail(message: str) -> None:
    """Close progress bars an error interrupted (they would share the error's line), print it, exit 1."""
    from tqdm import tqdm

    for bar in list(getattr(tqdm, "_instances", ())):
        bar.close()
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def one_line(e: BaseException) -> str:
    """The message of a user error in one line. An error raised in a DataLoader worker arrives re-raised with the
    worker's traceback in its message; its last line holds the original message."""
    text = str(e).strip()
    if not text:
        return type(e).__name__
    lines = text.splitlines()
    if "Original Traceback" in text:
        return lines[-1].split(": ", 1)[-1]
    return lines[0]


if __name__ == "__main__":
    main()
