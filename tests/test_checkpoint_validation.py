"""Bad checkpoints and training states (#15 kind 8): each refused in one line naming the file and the problem,
before anything is allocated or resumed; an original snapshot with D None still gives its G_ema."""
import json

import pytest
import torch
from helpers import tiny_generator, tiny_generator_kwargs
from legacy_pickles import dumps, records_from_module

import op3d
from op3d.io.checkpoint import CheckpointError, load_pretrained, save_pretrained
from op3d.training.snapshots import STATE_NAME, read_snapshot


@pytest.fixture
def checkpoint(tmp_path):
    G = tiny_generator()
    return save_pretrained(G, tmp_path / "ckpt", tiny_generator_kwargs())


def edit_config(directory, change):
    path = directory / "config.json"
    config = json.loads(path.read_text())
    change(config)
    path.write_text(json.dumps(config))


CONFIGS = {
    "class_list": (lambda c: c.__setitem__("class_name", ["Generator"]), "unknown class \\['Generator'\\]"),
    "class_dict": (lambda c: c.__setitem__("class_name", {"a": 1}), "unknown class"),
    "no_init_kwargs": (lambda c: c.pop("init_kwargs"), "init_kwargs must be a JSON object"),
    "huge_z": (lambda c: c["init_kwargs"].__setitem__("z_dim", 10 ** 12), "z_dim must be an integer in"),
    "depth_0": (lambda c: c["init_kwargs"]["rendering_kwargs"].__setitem__("depth_resolution", 0),
                "depth_resolution must be an integer in \\[3"),
    "box_warp_0": (lambda c: c["init_kwargs"]["rendering_kwargs"].__setitem__("box_warp", 0),
                   "box_warp must be a positive number"),
    "future": (lambda c: c.__setitem__("format_version", 999), "written by a newer op3d \\(format 999"),
    "version_text": (lambda c: c.__setitem__("format_version", "1"), "format_version must be a positive integer"),
}


@pytest.mark.parametrize("case", sorted(CONFIGS))
def test_bad_configs_are_refused(checkpoint, case):
    change, message = CONFIGS[case]
    edit_config(checkpoint, change)
    with pytest.raises(CheckpointError, match=message) as info:
        load_pretrained(checkpoint)
    assert str(checkpoint) in str(info.value) and "\n" not in str(info.value)


def test_bad_weights_are_refused(checkpoint):
    from safetensors.torch import load_file, save_file

    weights = load_file(str(checkpoint / "model.safetensors"))
    key = "decoder.net.0.weight"
    shape = tuple(weights[key].shape)
    assert shape[0] != shape[1]
    for bad, message in ((weights[key].long(), "is torch.int64, expected torch.float32"),
                         (torch.full_like(weights[key], float("nan")), "contains NaN or inf"),
                         (weights[key].index_fill(1, torch.tensor([0]), float("inf")), "contains NaN or inf"),
                         (weights[key].t().contiguous(), rf"has shape \({shape[1]}, {shape[0]}\), expected "
                                                         rf"\({shape[0]}, {shape[1]}\)")):
        save_file(dict(weights, **{key: bad}), str(checkpoint / "model.safetensors"))
        with pytest.raises(CheckpointError, match=f"{key} {message}"):
            load_pretrained(checkpoint)
    # a tensor the network does not have, and one it misses, each listed in its place
    for edited, message in ((dict(weights, stray=weights[key].clone()), r"missing \[\], unexpected \['stray'\]"),
                            ({k: v for k, v in weights.items() if k != key}, rf"missing \['{key}'\], unexpected \[\]")):
        save_file(edited, str(checkpoint / "model.safetensors"))
        with pytest.raises(CheckpointError, match=message):
            load_pretrained(checkpoint)


def test_bad_training_states_are_refused(tmp_path):
    run = tmp_path / "snap"
    G = tiny_generator()
    for sub in ("G", "D", ""):
        save_pretrained(G, run / sub, tiny_generator_kwargs())
    good = {"cur_nimg": 8, "batch_idx": 2, "tick": 1, "opt_G": {"state": {}, "param_groups": []},
            "opt_D": {"state": {}, "param_groups": []}, "rng": {"torch": torch.get_rng_state()}}
    cases = [(b"", "unreadable training state"), ({}, "cur_nimg must be a non-negative integer"),
             (dict(good, cur_nimg="x"), "cur_nimg must be a non-negative integer, got 'x'"),
             (dict(good, cur_nimg=-100), "got -100"), (dict(good, opt_D=[1]), "opt_D is not an optimizer state"),
             (dict(good, batch_idx=-1), "batch_idx must be a non-negative integer, got -1"),
             (dict(good, tick=2.5), "tick must be a non-negative integer, got 2.5"),
             (dict(good, opt_G=None), "opt_G is not an optimizer state"),
             (dict(good, rng={"torch": torch.zeros(3)}), "rng is not a saved random-number-generator state")]
    for state, message in cases:
        if isinstance(state, bytes):
            (run / STATE_NAME).write_bytes(state)
        else:
            torch.save(state, run / STATE_NAME)
        with pytest.raises(CheckpointError, match=message):
            read_snapshot(run)
    for state in (good, dict(good, cur_nimg=0, batch_idx=0, tick=0)):  # the counters of the very first snapshot too
        torch.save(state, run / STATE_NAME)
        assert read_snapshot(run)[3]["cur_nimg"] == state["cur_nimg"]


def test_an_original_snapshot_with_d_none_gives_its_g_ema(tmp_path):
    G = tiny_generator(representation="triplane")
    kwargs = tiny_generator_kwargs(representation="triplane")
    kwargs.pop("representation")
    record = records_from_module(G, "raise SystemExit('never executed')\n", init_kwargs=kwargs,
                                 class_name="TriPlaneGenerator", rendering_kwargs=kwargs["rendering_kwargs"])
    path = tmp_path / "network-snapshot-000000.pkl"
    path.write_bytes(dumps({"G": record, "G_ema": record, "D": None}))
    H = op3d.load(path)
    assert all(torch.equal(H.state_dict()[k], v) for k, v in G.state_dict().items())
    with pytest.raises(Exception, match="has no 'D'"):
        op3d.load(path, which="D")


def test_load_which_network_of_a_snapshot_directory(checkpoint, tmp_path):
    """op3d.load(dir, which): G_ema is the directory, G and D its subdirectories; a missing one is an error, or
    None with missing_ok, and a present one loads either way."""
    with pytest.raises(CheckpointError):
        op3d.load(checkpoint, "D")
    assert op3d.load(checkpoint, "D", missing_ok=True) is None
    save_pretrained(tiny_generator(seed=1), checkpoint / "G", tiny_generator_kwargs())
    G = op3d.load(checkpoint, "G", missing_ok=True)
    want = tiny_generator(seed=1).state_dict()
    assert G is not None and all(torch.equal(G.state_dict()[k], v) for k, v in want.items())
