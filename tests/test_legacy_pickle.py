"""The safe snapshot reader: state dicts come back exactly and nothing in the file ever runs."""
import os
import pickle
import sys

import pytest
import torch
from legacy_pickles import dumps, sample_snapshot

from op3d.io.legacy_pickle import (
    LegacyPickleError,
    PersistentRecord,
    load_snapshot,
    module_config,
    module_state_dict,
    read_legacy_pickle,
)


def test_snapshot_loads_inertly(tmp_path):
    sentinel = tmp_path / "sentinel"
    data, expected = sample_snapshot(str(sentinel))
    path = tmp_path / "network-snapshot-000000.pkl"
    path.write_bytes(data)
    before = set(sys.modules)
    snap = load_snapshot(path)
    assert not sentinel.exists()
    new_modules = {m for m in set(sys.modules) - before if m.split(".")[0] in ("training", "dnnlib", "torch_utils")}
    assert not new_modules
    assert set(snap) == {"G", "G_ema", "D"}
    G = snap["G"]
    assert isinstance(G, PersistentRecord) and G.class_name == "TriPlaneGenerator" and "SystemExit" in G.module_src
    sd = module_state_dict(G)
    assert set(sd) == set(expected)  # non-persistent buffer and the None submodule are skipped
    for key, value in expected.items():
        assert torch.equal(sd[key], value), key
    cfg = module_config(G)
    assert cfg["init_kwargs"] == {"z_dim": 512, "mapping_kwargs": {"num_layers": 2}, "scale": 1.5}
    assert cfg["attributes"]["rendering_kwargs"] == {"box_warp": 1, "ray_start": 2.25}
    assert cfg["attributes"]["neural_rendering_resolution"] == 128
    assert "plane_axes" not in cfg["attributes"]  # tensors are not configuration


class System:
    def __init__(self, cmd):
        self.cmd = cmd

    def __reduce__(self):
        return os.system, (self.cmd,)


class Exec:
    def __init__(self, code):
        self.code = code

    def __reduce__(self):
        return exec, (self.code,)


@pytest.mark.parametrize("payload", ["system", "exec", "eval", "getattr"])
def test_hostile_payloads_are_refused(tmp_path, payload):
    sentinel = tmp_path / "pwned"
    cmd = f"touch {sentinel}"
    obj = {"system": System(cmd), "exec": Exec(f"open({str(sentinel)!r}, 'w')"),
           "eval": type("E", (), {"__reduce__": lambda self: (eval, (f"open({str(sentinel)!r}, 'w')",))})(),
           "getattr": type("G", (), {"__reduce__": lambda self: (getattr, ("abc", "upper"))})()}[payload]
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"G": obj}, protocol=2))
    with pytest.raises(LegacyPickleError, match=r"refusing to load (posix|os|builtins|__builtin__)\.\w+") as info:
        read_legacy_pickle(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    assert not sentinel.exists()


def test_object_arrays_and_persistent_ids_are_refused(tmp_path):
    import numpy as np

    path = tmp_path / "obj.pkl"
    path.write_bytes(pickle.dumps(np.array([1, "a"], dtype=object)))
    with pytest.raises(LegacyPickleError, match="object"):
        read_legacy_pickle(path)


@pytest.mark.parametrize("kind,message", [
    ("empty", "empty or truncated"), ("truncated", "empty or truncated|not a readable"),
    ("garbage", "not a readable snapshot"), ("list", "not a network snapshot"), ("nomodules", "no G, D or G_ema"),
    ("missing", "no such file")])
def test_malformed_files_give_one_line_errors(tmp_path, kind, message):
    data, _ = sample_snapshot(str(tmp_path / "s"))
    path = tmp_path / "bad.pkl"
    content = {"empty": b"", "truncated": data[: len(data) // 2], "garbage": os.urandom(200) + b"\x80",
               "list": dumps([1, 2, 3]), "nomodules": dumps({"augment_pipe": None}), "missing": None}[kind]
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(LegacyPickleError, match=message) as info:
        load_snapshot(path)
    assert "\n" not in str(info.value)


def test_snapshot_entry_that_is_not_a_module(tmp_path):
    path = tmp_path / "x.pkl"
    path.write_bytes(dumps({"G": {"weights": 1}}))
    with pytest.raises(LegacyPickleError, match="G is not a saved module"):
        load_snapshot(path)
