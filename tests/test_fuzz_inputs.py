"""Seeded fuzzing of the files users hand to op3d (#15): random byte flips and truncations of dataset.json, images,
pose files and checkpoint config.json. Every case must end in either a one-line ValueError (DatasetError,
CheckpointError, ...) or an accepted input whose values then compute finite numbers - never another exception
(a traceback at the CLI) and never silent NaN."""
import json
import random

import numpy as np
import pytest
import torch
from helpers import tiny_generator, tiny_generator_kwargs
from test_dataset import good_files, write_zip

from op3d.conditioning.body_model import procedural_body
from op3d.conditioning.posed import load_pose_file, pose_bodies
from op3d.data.dataset import ImageDataset
from op3d.io.checkpoint import load_pretrained, save_pretrained
from op3d.rendering.rays import rays_from_cameras

CASES = 80  # per target: 320 in all, a few seconds


def mutate(data: bytes, rng: random.Random) -> bytes:
    """Change 1-3 digits (text stays well-formed, values change), flip 1-8 random bytes, truncate, or duplicate
    a slice."""
    data = bytearray(data)
    kind = rng.random()
    digits = [i for i, b in enumerate(data) if chr(b).isdigit()]
    if kind > 0.6 and digits:
        for i in rng.sample(digits, min(len(digits), rng.randrange(1, 4))):
            data[i] = ord(str(rng.randrange(10)))
        return bytes(data)
    if kind < 0.15 and len(data) > 1:
        return bytes(data[:rng.randrange(len(data))])
    if kind < 0.25:
        i = rng.randrange(len(data))
        return bytes(data[:i] + data[i:i + rng.randrange(1, 64)] + data[i:])
    for _ in range(rng.randrange(1, 9)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def one_line_error(fn):
    """Run fn: None if it raised a one-line ValueError, else its result (other exceptions fail the test)."""
    try:
        return fn()
    except ValueError as e:
        assert "\n" not in str(e).strip(), str(e)
        return None


@pytest.mark.parametrize("target", ["dataset.json", "image"])
def test_fuzzed_datasets(tmp_path, target):
    rng = random.Random(f"dataset-{target}")
    files = good_files(4)
    base = json.dumps(files["dataset.json"]).encode()
    accepted = 0
    for case in range(CASES):
        mutated = dict(files)
        if target == "dataset.json":
            mutated["dataset.json"] = mutate(base, rng)
        else:
            mutated["img2.png"] = mutate(files["img2.png"], rng)
        path = write_zip(tmp_path / f"{case}.zip", mutated)
        ds = one_line_error(lambda: ImageDataset(path, check_images="all"))
        if ds is None:
            continue
        accepted += 1
        labels = torch.from_numpy(ds.labels)
        origins, dirs = rays_from_cameras(labels, 4)
        assert torch.isfinite(origins).all() and torch.isfinite(dirs).all(), f"case {case}: NaN rays"
        assert all(ds[i][0].shape == (3, 8, 8) for i in range(len(ds)))
    assert 0 < accepted < CASES  # both outcomes were exercised


def test_fuzzed_pose_files(tmp_path):
    rng = random.Random("pose")
    model = procedural_body(num_betas=10)
    base = json.dumps({"betas": [0.3, -0.2], "pose": [0.05] * 72, "transl": [0.0, 0.1, 0.0]}).encode()
    accepted = 0
    for case in range(CASES):
        path = tmp_path / f"{case}.json"
        path.write_bytes(mutate(base, rng))
        params = one_line_error(lambda: load_pose_file(path))
        if params is None:
            continue
        accepted += 1
        body = pose_bodies(model, params[None])
        assert torch.isfinite(body.vertices).all(), f"case {case}: a pose accepted as valid gives NaN vertices"
    assert 0 < accepted < CASES


def test_fuzzed_checkpoint_configs(tmp_path):
    rng = random.Random("config")
    ckpt = save_pretrained(tiny_generator(), tmp_path / "ckpt", tiny_generator_kwargs())
    base = (ckpt / "config.json").read_bytes()
    accepted = 0
    for case in range(CASES):
        (ckpt / "config.json").write_bytes(mutate(base, rng))
        G = one_line_error(lambda: load_pretrained(ckpt))
        if G is None:
            continue
        accepted += 1
        if accepted <= 5:  # a few full renders of configurations that loaded (each takes a moment)
            with torch.no_grad():
                out = G(torch.randn(1, G.z_dim), rays_label(), noise_mode="const", deterministic=True)
            assert all(torch.isfinite(v).all() for v in out.values()), f"case {case}: NaN output"
    assert 0 < accepted < CASES


def rays_label():
    from helpers import lookat_labels

    return lookat_labels([np.pi / 2])
