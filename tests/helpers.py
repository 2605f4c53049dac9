"""Small builders shared by the tests."""
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from op3d.networks.generator import Generator
from op3d.presets import generator_kwargs


# Tests of the CUDA paths run against the same CPU references; CI has no GPU, so they run on a GPU machine.
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"))]


def tiny_generator_kwargs(representation="orthoplanes", K=4, L=2, **overrides):
    kw = generator_kwargs("ffhq", 64, "tiny", representation=representation, plane_number=K, fourier_L=L,
                          neural_rendering_resolution=16, depth_resolution=6, depth_resolution_importance=6)
    kw.update(overrides)
    return kw


def tiny_generator(seed=0, **kw) -> Generator:
    torch.manual_seed(seed)
    return Generator(**tiny_generator_kwargs(**kw))


def lookat_labels(yaws, pitch=math.pi / 2, radius=2.7, focal=4.2647, lookat=(0.0, 0.0, 0.2)):
    """EG3D LookAt cameras as [B, 25] labels (independent of op3d.data so tests stay local)."""
    rows = []
    for yaw in yaws:
        phi = math.acos(1 - 2 * pitch / math.pi)
        # EG3D's LookAtPoseSampler: on the sphere around the origin, turned toward lookat (not moved by it)
        pos = torch.tensor([radius * math.sin(phi) * math.cos(math.pi - yaw), radius * math.cos(phi),
                            radius * math.sin(phi) * math.sin(math.pi - yaw)])
        forward = torch.nn.functional.normalize(torch.tensor(lookat) - pos, dim=0)
        right = -torch.nn.functional.normalize(torch.linalg.cross(torch.tensor([0.0, 1.0, 0.0]), forward), dim=0)
        up = torch.linalg.cross(forward, right)
        m = torch.eye(4)
        m[:3, 0], m[:3, 1], m[:3, 2], m[:3, 3] = right, up, forward, pos
        K = torch.tensor([[focal, 0, 0.5], [0, focal, 0.5], [0, 0, 1]])
        rows.append(torch.cat([m.reshape(-1), K.reshape(-1)]))
    return torch.stack(rows)


def run_cli(args, capsys):
    """Run the `op3d` entry point as a user would: (exit code, stdout, stderr)."""
    import pytest

    from op3d.cli import main

    with pytest.raises(SystemExit) as info:
        main(args)
        raise SystemExit(0)
    out = capsys.readouterr()
    return info.value.code, out.out, out.err


REPO_FIXTURES = Path(__file__).parent / "fixtures"


def load_original_fixture(folder: Path) -> tuple[dict, dict, dict]:
    """An original-code fixture (tools/make_*.py): init_kwargs.json, the state dict as float32/int tensors
    (weights are stored as float16 values) and the outputs as numpy arrays."""
    config = json.loads((folder / "init_kwargs.json").read_text())
    state = {k: torch.from_numpy(v.astype(np.float32) if v.dtype == np.float16 else v)
             for k, v in np.load(folder / "state_dict.npz").items()}
    return config, state, dict(np.load(folder / "outputs.npz"))


def rel_l2(a, b) -> float:
    """||a - b|| / ||b|| in float64."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def near_level(values: np.ndarray, level: float) -> np.ndarray:
    """Grid points [N, N, N] (bool) that are corners of a cell the level set crosses (its corner values straddle
    `level`): where a coarse-to-fine grid must equal the dense one."""
    n = values.shape[0]
    corners = [values[i:n - 1 + i, j:n - 1 + j, k:n - 1 + k] for i in (0, 1) for j in (0, 1) for k in (0, 1)]
    crossed = (np.minimum.reduce(corners) <= level) & (np.maximum.reduce(corners) >= level)
    near = np.zeros(values.shape, dtype=bool)
    for i in (0, 1):
        for j in (0, 1):
            for k in (0, 1):
                near[i:n - 1 + i, j:n - 1 + j, k:n - 1 + k] |= crossed
    return near


def record_calls(monkeypatch, module, *names) -> dict[str, list]:
    """Replace module.<name> for each name by a wrapper that records (args, kwargs) and calls the original:
    {name: [(args, kwargs), ...]} (what a CLI really passes on)."""
    calls: dict[str, list] = {}
    for name in names:
        original = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _name=name, _original=original, **k:
                            calls.setdefault(_name, []).append((a, k)) or _original(*a, **k))
    return calls
