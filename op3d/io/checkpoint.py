"""op3d's own checkpoints: a directory with config.json (class + constructor kwargs) and model.safetensors.

No code is pickled; loading builds the class named in config.json from a fixed registry.
"""
from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from op3d.io.atomic import atomic_path

FORMAT = "op3d-checkpoint"
FORMAT_VERSION = 1
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"


class CheckpointError(ValueError):
    """A checkpoint that cannot be read; the message names the file and the problem."""


def load_tensors(path: str | os.PathLike, what: str, error: type[Exception] = None):
    """torch.load(path, weights_only=True) on the CPU with one-line errors naming the file, which never suggest
    loading with weights_only=False (a file that needs it is refused, not run)."""
    error = error or CheckpointError
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        if "Unsupported global" in str(e):  # torch's allowlist refused a class or function: never retried unsafely
            raise error(f"{path}: refused as {what}: it holds Python objects other than tensors and plain data, "
                        "and op3d never runs code from a file") from None
        raise error(f"{path}: unreadable {what} (not a PyTorch file)") from None
    except Exception as e:  # truncated, empty, not a torch file
        first = str(e).strip().splitlines()[0][:100] if str(e).strip() else type(e).__name__
        raise error(f"{path}: unreadable {what} ({first})") from None


def _registry() -> dict[str, type]:
    from op3d.networks.conditional import ConditionalGenerator
    from op3d.networks.conditional_legacy import LegacyConditionalGenerator
    from op3d.networks.discriminator import DualDiscriminator
    from op3d.networks.generator import Generator

    return {"Generator": Generator, "ConditionalGenerator": ConditionalGenerator,
            "LegacyConditionalGenerator": LegacyConditionalGenerator, "DualDiscriminator": DualDiscriminator}


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"configuration value {value!r} is not JSON-serializable")


def save_pretrained(model: torch.nn.Module, directory: str | os.PathLike, init_kwargs: dict,
                    extra: dict | None = None) -> Path:
    """Write config.json + model.safetensors into `directory` (each file atomically, weights first)."""
    directory = Path(directory)
    name = type(model).__name__
    if name not in _registry():
        raise TypeError(f"cannot save {name}; supported: {sorted(_registry())}")
    config = {"format": FORMAT, "format_version": FORMAT_VERSION, "class_name": name,
              "init_kwargs": _jsonable(init_kwargs), "extra": _jsonable(extra or {})}
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    with atomic_path(directory / WEIGHTS_NAME) as tmp:
        save_file(tensors, tmp, metadata={"format": FORMAT})
    with atomic_path(directory / CONFIG_NAME) as tmp:
        Path(tmp).write_text(json.dumps(config, indent=1))
    return directory


def read_config(directory: str | os.PathLike) -> dict:
    path = Path(directory) / CONFIG_NAME
    if not path.is_file():
        raise CheckpointError(f"{directory}: not an op3d checkpoint (no {CONFIG_NAME})")
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as e:
        raise CheckpointError(f"{path}: invalid JSON ({str(e)[:80] or 'nested too deeply'})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not an op3d checkpoint config (missing format '{FORMAT}')")
    version = config.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise CheckpointError(f"{path}: format_version must be a positive integer, got {version!r}")
    if version > FORMAT_VERSION:
        raise CheckpointError(f"{path}: written by a newer op3d (format {version}; this one reads up to "
                              f"{FORMAT_VERSION}): upgrade op3d")
    name = config.get("class_name")
    if not isinstance(name, str) or name not in _registry():
        raise CheckpointError(f"{path}: unknown class {name!r} (expected one of {sorted(_registry())})")
    if not isinstance(config.get("init_kwargs"), dict):
        raise CheckpointError(f"{path}: init_kwargs must be a JSON object of constructor arguments")
    if not isinstance(config.get("extra", {}), dict):
        raise CheckpointError(f"{path}: extra must be a JSON object")
    return config


def build_model(class_name: str, init_kwargs: dict, state_dict: dict[str, torch.Tensor], source: str,
                ) -> torch.nn.Module:
    """Instantiate a registered class and load a state dict strictly, with one-line errors."""
    try:
        model = _registry()[class_name](**init_kwargs)
    except (TypeError, ValueError, KeyError, AttributeError, OverflowError, MemoryError) as e:
        raise CheckpointError(f"{source}: cannot build {class_name} from its configuration ({e})") from None
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    if missing or unexpected:
        raise CheckpointError(f"{source}: weights do not match {class_name}: missing {missing[:5]}"
                              f"{'...' if len(missing) > 5 else ''}, unexpected {unexpected[:5]}"
                              f"{'...' if len(unexpected) > 5 else ''}")
    for key, value in state_dict.items():
        if tuple(value.shape) != tuple(expected[key].shape):
            raise CheckpointError(f"{source}: {key} has shape {tuple(value.shape)}, expected "
                                  f"{tuple(expected[key].shape)}")
        if value.is_floating_point() != expected[key].is_floating_point():
            raise CheckpointError(f"{source}: {key} is {value.dtype}, expected {expected[key].dtype}")
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise CheckpointError(f"{source}: {key} contains NaN or inf")
    model.load_state_dict(state_dict)
    model.init_kwargs = init_kwargs
    return model.eval().requires_grad_(False)


def load_pretrained(directory: str | os.PathLike) -> torch.nn.Module:
    """Load a model saved by save_pretrained (eval mode, no grad)."""
    config = read_config(directory)
    weights = Path(directory) / WEIGHTS_NAME
    if not weights.is_file():
        raise CheckpointError(f"{directory}: missing {WEIGHTS_NAME}")
    try:
        state_dict = load_file(str(weights))
    except Exception as e:  # safetensors raises several types for corrupt files
        raise CheckpointError(f"{weights}: unreadable safetensors file ({str(e).splitlines()[0]})") from None
    model = build_model(config["class_name"], config["init_kwargs"], state_dict, str(directory))
    model.checkpoint_extra = config.get("extra", {})
    return model
