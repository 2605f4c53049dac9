"""Build pickles shaped like the original EG3D/OP3D snapshots, without the original code.

Fake modules are registered in sys.modules only while dumping, so that pickle records globals such as
`torch_utils.persistence._reconstruct_persistent_obj` and `training.triplane.OSGDecoder` by name.
"""
import contextlib
import pickle
import sys
import types
from collections import OrderedDict

import numpy as np
import torch


def _reconstruct_persistent_obj(meta):  # the pickled reference; never called by op3d
    raise AssertionError("executed")


class EasyDict(dict):
    pass


class OSGDecoder:  # a class pickled by import path, like EG3D's decoder
    pass


class Sequential:
    pass


FAKE = {
    "torch_utils.persistence": {"_reconstruct_persistent_obj": _reconstruct_persistent_obj},
    "dnnlib.util": {"EasyDict": EasyDict},
    "training.triplane": {"OSGDecoder": OSGDecoder},
    "torch.nn.modules.container_fake": {"Sequential": Sequential},
}


@contextlib.contextmanager
def fake_modules():
    added = []
    for name, members in FAKE.items():
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            mod = ".".join(parts[:i])
            if mod not in sys.modules:
                sys.modules[mod] = types.ModuleType(mod)
                added.append(mod)
        for attr, obj in members.items():
            obj.__module__ = name
            obj.__qualname__ = attr
            setattr(sys.modules[name], attr, obj)
    try:
        yield
    finally:
        for mod in added:
            del sys.modules[mod]


class Persistent:
    """Pickles like a torch_utils.persistence object: REDUCE(_reconstruct_persistent_obj, (meta,))."""

    def __init__(self, meta):
        self.meta = meta

    def __reduce__(self):
        return _reconstruct_persistent_obj, (self.meta,)


def module_state(params=None, buffers=None, modules=None, non_persistent=(), **attrs):
    state = {"training": False, "_parameters": OrderedDict(params or {}), "_buffers": OrderedDict(buffers or {}),
             "_non_persistent_buffers_set": set(non_persistent), "_modules": OrderedDict(modules or {}),
             "_forward_hooks": OrderedDict(), "_forward_pre_hooks": OrderedDict(), "_backward_hooks": OrderedDict()}
    state.update(attrs)
    return state


def persistent(class_name, state, module_src):
    return Persistent({"type": "class", "version": 6, "module_src": module_src, "class_name": class_name,
                       "state": state})


def by_import_path(cls, state):
    obj = cls.__new__(cls)
    obj.__dict__.update(state)
    return obj


def dumps(obj) -> bytes:
    with fake_modules():
        return pickle.dumps(obj, protocol=4)


def sample_snapshot(sentinel_path: str):
    """A snapshot with nested records, an import-path submodule, EasyDict kwargs and numpy scalars.
    Returns (pickle bytes, expected G state dict)."""
    src = f"open({sentinel_path!r}, 'w').write('executed')\nraise SystemExit('module_src was executed')\n"
    g = torch.Generator().manual_seed(0)
    w = torch.nn.Parameter(torch.randn(4, 3, generator=g))
    b = torch.nn.Parameter(torch.randn(4, generator=g))
    const = torch.randn(2, 2, generator=g)
    dec = by_import_path(OSGDecoder, module_state(modules={"net": by_import_path(Sequential, module_state(
        modules={"0": persistent("FullyConnectedLayer", module_state(params={"weight": w, "bias": b}), src)}))}))
    layer = persistent("SynthesisLayer", module_state(params={"weight": w[:2].detach().clone()},
                                                      buffers={"noise_const": const, "scratch": torch.ones(1)},
                                                      non_persistent=("scratch",)), src)
    kwargs = EasyDict(z_dim=512, mapping_kwargs=EasyDict(num_layers=2), scale=np.float32(1.5))
    G = persistent("TriPlaneGenerator", module_state(
        modules={"backbone": layer, "decoder": dec, "unused": None}, _init_args=(), _init_kwargs=kwargs,
        rendering_kwargs={"box_warp": 1, "ray_start": 2.25}, neural_rendering_resolution=128,
        plane_axes=torch.zeros(3, 3, 3)), src)
    expected = {"backbone.weight": w[:2].detach(), "backbone.noise_const": const,
                "decoder.net.0.weight": w.detach(), "decoder.net.0.bias": b.detach()}
    snapshot = {"G": G, "G_ema": G, "D": persistent("DualDiscriminator", module_state(), src), "augment_pipe": None,
                "training_set_kwargs": EasyDict(path="/data/x.zip", resolution=np.int64(512))}
    return dumps(snapshot), expected


def records_from_module(module: torch.nn.Module, src: str, init_kwargs=None, class_name=None, **attrs):
    """Mirror an op3d module tree as original-style records: Sequential/Softplus/decoder by import path,
    everything else as persistent records (parameters as nn.Parameter, as the original pickles hold them)."""
    children = {name: records_from_module(child, src) for name, child in module._modules.items()}
    params = {k: torch.nn.Parameter(v.detach().clone()) for k, v in module._parameters.items() if v is not None}
    buffers = {k: v.detach().clone() for k, v in module._buffers.items() if v is not None}
    state = module_state(params, buffers, children, module._non_persistent_buffers_set,
                         _init_args=(), _init_kwargs=EasyDict(init_kwargs or {}), **attrs)
    kind = type(module).__name__
    if kind in ("Sequential", "Softplus", "OSGDecoder"):
        return by_import_path({"OSGDecoder": OSGDecoder}.get(kind, Sequential), state)
    return persistent(class_name or kind, state, src)
