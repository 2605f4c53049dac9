"""Build op3d modules from the original OP3D / EG3D snapshot pickles, read without executing them."""
from __future__ import annotations

import os
from pathlib import Path

import torch

from op3d.io.checkpoint import CheckpointError, build_model
from op3d.io.legacy_pickle import LegacyPickleError, load_snapshot, module_config, module_state_dict

GENERATOR_CLASSES = {"TriMultiPlaneGenerator": "orthoplanes", "TriPlaneGenerator": "triplane"}
DISCRIMINATOR_CLASSES = {"DualDiscriminator"}
POSITIONAL = {  # the original constructors' leading positional parameters
    "generator": ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels"),
    "discriminator": ("c_dim", "img_resolution", "img_channels"),
}
IGNORED_BUFFERS = ("dataset_label_std",)  # registered on G by the training loop; unused for rendering
# The released pose-conditional generator (training/kaolin_version.py) is also named TriMultiPlaneGenerator; its
# weights tell it apart (the deformation MLP lives in its renderer).
CONDITIONAL_MARK = "renderer.deformation_decoder."


def _kwargs_from_config(config: dict, kind: str, source: str) -> dict:
    args = list(config.get("init_args") or ())
    names = POSITIONAL[kind]
    if len(args) > len(names):
        raise CheckpointError(f"{source}: {config['class_name']} was built with {len(args)} positional arguments; "
                              f"expected at most {len(names)}")
    kwargs = dict(zip(names, args))
    kwargs.update(config.get("init_kwargs") or {})
    return kwargs


def generator_kwargs_from_config(config: dict, source: str) -> dict:
    """Original TriMultiPlaneGenerator / TriPlaneGenerator config -> op3d Generator kwargs (legacy axes on)."""
    name = config.get("class_name")
    if name not in GENERATOR_CLASSES:
        raise CheckpointError(f"{source}: unsupported generator class {name!r}; op3d imports "
                              f"{sorted(GENERATOR_CLASSES)})")
    kwargs = _kwargs_from_config(config, "generator", source)
    attributes = config.get("attributes") or {}
    if isinstance(attributes.get("rendering_kwargs"), dict):
        kwargs["rendering_kwargs"] = attributes["rendering_kwargs"]
    if "rendering_kwargs" not in kwargs:
        raise CheckpointError(f"{source}: the generator stores no rendering_kwargs")
    representation = GENERATOR_CLASSES[name]
    kwargs["representation"] = representation
    if representation == "orthoplanes":
        kwargs.setdefault("per_dir_plane_number", 8)  # the original constructor's defaults
        kwargs.setdefault("fourier_L", 10)
    kwargs["legacy_axes"] = True  # released checkpoints were trained with the original plane-axis quirks
    kwargs["legacy_raw_alias"] = True  # and return image_raw as the original does
    if isinstance(attributes.get("neural_rendering_resolution"), int):
        kwargs["neural_rendering_resolution"] = attributes["neural_rendering_resolution"]
    return kwargs


def conditional_kwargs_from_config(config: dict, source: str) -> dict:
    """The released pose-conditional TriMultiPlaneGenerator's config -> LegacyConditionalGenerator kwargs. Its
    poses are SMPL poses (body_model "smpl": sampling needs the SMPL file, or another model by --body-model)."""
    kwargs = _kwargs_from_config(config, "generator", source)
    attributes = config.get("attributes") or {}
    for name in ("rendering_kwargs", "neural_rendering_resolution"):
        if name in attributes:
            kwargs[name] = attributes[name]
    if not isinstance(kwargs.get("rendering_kwargs"), dict):
        raise CheckpointError(f"{source}: the generator stores no rendering_kwargs")
    kwargs.setdefault("body_model", "smpl")
    return kwargs


def module_from_record(record, source: str) -> torch.nn.Module:
    """A persistent record of G / G_ema / D -> the equivalent op3d module with the same weights."""
    config = module_config(record)
    name = config.get("class_name")
    state = {k: v for k, v in module_state_dict(record).items() if k not in IGNORED_BUFFERS}
    if name in DISCRIMINATOR_CLASSES:
        kwargs = _kwargs_from_config(config, "discriminator", source)
        return build_model("DualDiscriminator", kwargs, state, source)
    if name == "TriMultiPlaneGenerator" and any(k.startswith(CONDITIONAL_MARK) for k in state):
        return build_model("LegacyConditionalGenerator", conditional_kwargs_from_config(config, source), state, source)
    return build_model("Generator", generator_kwargs_from_config(config, source), state, source)


def load_legacy(path: str | os.PathLike, which: str = "G_ema", missing_ok: bool = False) -> torch.nn.Module | None:
    """Load G_ema (default), G or D from an original network-snapshot-*.pkl without executing it (None for a
    network the snapshot does not hold, with missing_ok)."""
    if which not in ("G", "G_ema", "D"):
        raise ValueError(f"which must be 'G', 'G_ema' or 'D', got {which!r}")
    snapshot = load_snapshot(path)
    if which not in snapshot:
        if missing_ok:
            return None
        raise LegacyPickleError(f"{path}: the snapshot has no {which!r} (it has {sorted(snapshot)})")
    return module_from_record(snapshot[which], str(Path(path)))
