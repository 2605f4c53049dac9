"""Error messages a user reads: one line, pointing at what exists, never advising to run untrusted code."""
import pickle
from pathlib import Path

import pytest
import torch
from helpers import run_cli

from op3d.io.checkpoint import CheckpointError, load_tensors

ROOT = Path(__file__).resolve().parents[1]


class Payload:  # pickled by reference: loading it would need importing and calling code
    def __reduce__(self):
        return (print, ("this must never run",))


def test_a_hostile_or_broken_torch_file_is_refused_without_suggesting_weights_only_false(tmp_path, capsys):
    hostile = tmp_path / "training-state.pt"
    torch.save({"cur_nimg": Payload()}, hostile)
    with pytest.raises(CheckpointError) as info:
        load_tensors(hostile, "training state")
    message = str(info.value)
    assert "refused as training state" in message and "weights_only" not in message and "\n" not in message
    assert "this must never run" not in capsys.readouterr().out
    for content in (b"", b"not a torch file", pickle.dumps({"a": 1}, protocol=4)):
        broken = tmp_path / "broken.pt"
        broken.write_bytes(content)
        with pytest.raises(CheckpointError, match="broken.pt: unreadable training state"):
            load_tensors(broken, "training state")


def test_usage_errors_are_one_line(capsys):
    code, _, err = run_cli(["train", "--outdir", "x", "--no-such-flag"], capsys)
    assert code == 2 and err.count("\n") == 1 and err.startswith("Error: No such option '--no-such-flag'")
    assert "--help" in err


def test_help_shows_only_real_ranges(capsys):
    """Every command's --help: options with a range show it ('x>=0'), unbounded finite floats show none (click
    would print 'x<=None' for a range without bounds)."""
    import click

    from op3d.cli import cli

    def commands(group, path):
        ctx = click.Context(group)
        for name in group.list_commands(ctx) if isinstance(group, click.Group) else ():
            yield path + [name]
            yield from commands(group.get_command(ctx, name), path + [name])

    helps = {" ".join(c): run_cli(c + ["--help"], capsys)[1] for c in commands(cli, [])}
    assert len(helps) > 8 and "x>=0" in helps["sample"]
    for name, text in helps.items():
        assert "None]" not in text and "=None" not in text, name


def test_documents_named_in_messages_exist():
    for path in ROOT.joinpath("op3d").rglob("*.py"):
        for ref in set(part.split("#")[0].rstrip(").,;'\"") for part in path.read_text().split()
                       if part.startswith("docs/") and ".md" in part):
            assert (ROOT / ref).is_file(), f"{path.name} refers to {ref}, which does not exist"


@pytest.mark.parametrize("args,message", [
    (["sample", "--trunc", "nan"], "'nan' is not a finite number"),
    (["sample", "--trunc", "inf"], "'inf' is not a finite number"),
    (["sample", "--mesh-level", "-inf"], "not a finite number"),
    (["sample", "--shape-res", "100000"], "100000 is not in the range"),
    (["sample", "--device", "bogus"], "'bogus' is not a device"),
    (["train", "--kimg", "nan"], "'nan' is not a finite number"),
    (["train", "--tick", "nan"], "'nan' is not a finite number"),
    (["train", "--gamma", "nan"], "'nan' is not a finite number"),
    (["train", "--glr", "inf"], "'inf' is not a finite number"),
    (["train", "--device", "tpu"], "'tpu' is not a device|op3d runs on cpu or cuda"),
    (["video", "--grid", "0x2"], "0x2: W and H must be at least 1"),
    (["video", "--grid", "-1x-1"], "W and H must be at least 1"),
    (["sample", "--trunc-cutoff", "-3"], "-3 is not in the range x>=0"),
    (["video", "--trunc-cutoff", "-1"], "-1 is not in the range x>=0"),
    (["sample", "--seeds", "0-999999999"], "more than 1,000,000 seeds"),
    (["video", "--seeds", "4294967296"], "above the largest seed"),
    (["metrics", "--metrics", ","], "',' names no metric"),
])
def test_bad_option_values_are_refused_at_parse_time(args, message, tmp_path, capsys):
    """Numbers must be finite (click's ranges let nan through), devices must exist, sizes be sane: one line,
    exit 2 (a usage error), before any work."""
    import re

    net = tmp_path / "net"
    net.mkdir()
    required = {"sample": ["--network", str(net), "--seeds", "0", "--outdir", str(tmp_path / "o")],
                "video": ["--network", str(net), "--seeds", "0", "--output", str(tmp_path / "v.mp4")],
                "train": ["--outdir", str(tmp_path / "runs")],
                "metrics": ["--network", str(net)]}[args[0]]
    code, _, err = run_cli([args[0], *required, *args[1:]], capsys)
    assert code in (1, 2) and err.count("\n") == 1 and re.search(message, err), err


def test_nan_views_are_refused():
    from op3d.sampling.views import parse_views

    with pytest.raises(ValueError, match="not a finite angle"):
        parse_views("0,nan")
