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


def test_documents_named_in_messages_exist():
    for path in ROOT.joinpath("op3d").rglob("*.py"):
        for ref in set(part.split("#")[0].rstrip(").,;'\"") for part in path.read_text().split()
                       if part.startswith("docs/") and ".md" in part):
            assert (ROOT / ref).is_file(), f"{path.name} refers to {ref}, which does not exist"
