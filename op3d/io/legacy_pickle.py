"""Read the original EG3D / OP3D `network-snapshot-*.pkl` files without executing anything in them.

The original loader exec()s the module source stored in each "persistent" record. Here `find_class`
decides what every global in the file becomes:
- the persistence hook -> an inert `PersistentRecord` holding the record's metadata and state;
- tensor/storage rebuild functions -> safe equivalents (nested torch.save blobs load with weights_only);
- a short allowlist of plain containers and values (OrderedDict, set, numpy arrays/scalars, EasyDict as a
  dict) -> the real thing;
- globals from modules that can run code (os, subprocess, builtins.exec/eval, ...) -> refused;
- anything else (the original classes, torch.nn containers, ...) -> an inert `LegacyObject` stub class that
  records its constructor arguments and state. Nothing from the file is imported or executed.
"""
from __future__ import annotations

import collections
import hashlib
import io
import os
import pickle
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch


class LegacyPickleError(ValueError):
    """A snapshot that cannot (or must not) be read; the message names the file and the problem."""


@dataclass
class PersistentRecord:
    """A module saved by the original `torch_utils.persistence`: never executed, only read."""

    class_name: str
    version: int
    module_src: str = field(repr=False)
    state: dict = field(repr=False)

    @property
    def module_src_sha256(self) -> str:
        return hashlib.sha256(self.module_src.encode("utf-8", "replace")).hexdigest()


class LegacyObject:
    """Base of the inert stand-ins for globals the file names (e.g. training.triplane.OSGDecoder)."""

    legacy_module = ""
    legacy_name = ""

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        obj.args, obj.kwargs, obj.state = args, kwargs, None
        return obj

    def __init__(self, *args, **kwargs) -> None:  # REDUCE calls the stub: record, do nothing
        pass

    def __setstate__(self, state) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f"<legacy {self.legacy_module}.{self.legacy_name}>"


class EasyDict(dict):
    """dnnlib.util.EasyDict read as a plain dict."""

    def __setstate__(self, state) -> None:
        pass


DANGEROUS_MODULES = {
    "os", "posix", "nt", "subprocess", "sys", "shutil", "importlib", "runpy", "socket", "pickle", "_pickle",
    "marshal", "ctypes", "code", "codeop", "types", "io", "_io", "pty", "signal", "multiprocessing", "threading",
    "asyncio", "webbrowser", "tempfile", "pathlib", "glob", "operator", "functools", "inspect", "gc", "pydoc",
    "timeit", "platform", "urllib", "http", "ftplib", "smtplib", "telnetlib", "zipimport", "pkgutil", "dill",
    "cloudpickle", "joblib", "numpy.testing", "builtins", "__builtin__", "copyreg", "torch.hub",
}
SAFE_BUILTINS = {"set": set, "frozenset": frozenset, "slice": slice, "complex": complex, "dict": dict, "list": list,
                 "tuple": tuple, "int": int, "float": float, "bool": bool, "str": str, "bytes": bytes,
                 "bytearray": bytearray, "range": range, "object": object}
TORCH_DTYPES = {name for name in dir(torch) if isinstance(getattr(torch, name, None), torch.dtype)}


def _load_storage(blob: bytes):
    try:
        return torch.load(io.BytesIO(blob), weights_only=True, map_location="cpu")
    except Exception as e:
        raise LegacyPickleError(f"a nested tensor blob is unreadable ({str(e).splitlines()[0][:120]})") from None


def _rebuild_tensor(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    return torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, False, collections.OrderedDict())


def _rebuild_parameter(data, requires_grad=False, backward_hooks=None, state=None):
    return data


def _np_scalar(dtype, data=None):
    if not isinstance(dtype, np.dtype):
        raise LegacyPickleError("a numpy scalar with an unexpected dtype")
    if dtype.hasobject:
        raise LegacyPickleError("numpy object scalars are not allowed")
    return np.frombuffer(data, dtype=dtype, count=1)[0] if data is not None else dtype.type()


def _np_dtype(spec, align=False, copy=False):
    dt = np.dtype(spec, align)
    if dt.hasobject:
        raise LegacyPickleError("numpy object arrays are not allowed")
    return dt


def _np_reconstruct(subtype, shape, dtype):
    if subtype is not np.ndarray:
        raise LegacyPickleError("only plain numpy arrays are allowed")
    return np.ndarray.__new__(np.ndarray, shape, dtype)


def _latin1_encode(text, encoding="latin1", errors="strict"):
    """_codecs.encode as Python-2-era numpy pickles use it (bytes stored as latin-1 text); nothing else."""
    if not isinstance(text, str) or encoding.replace("-", "").lower() != "latin1":
        raise LegacyPickleError("only latin-1 string encoding is allowed")
    return text.encode("latin1", errors)


def _reconstructor(cls, base, state):
    """copyreg._reconstructor for stubs only (it would otherwise call base.__new__ / base.__init__)."""
    if isinstance(cls, type) and issubclass(cls, (LegacyObject, EasyDict)):
        obj = cls.__new__(cls)
        return obj
    raise LegacyPickleError(f"copyreg._reconstructor of {cls!r} is not allowed")


def _persistent_record(meta):
    if not isinstance(meta, dict) or meta.get("type") != "class" or "state" not in meta:
        raise LegacyPickleError("a persistent record has an unexpected layout (expected type 'class' with state)")
    return PersistentRecord(class_name=str(meta.get("class_name")), version=int(meta.get("version", 0)),
                            module_src=str(meta.get("module_src", "")), state=meta["state"])


SAFE_GLOBALS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch.storage", "_load_from_bytes"): _load_storage,
    ("torch", "Size"): torch.Size,
    ("torch", "device"): torch.device,
    ("numpy", "dtype"): _np_dtype,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy.core.multiarray", "scalar"): _np_scalar,
    ("numpy._core.multiarray", "scalar"): _np_scalar,
    ("numpy.core.multiarray", "_reconstruct"): _np_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _np_reconstruct,
    ("copyreg", "_reconstructor"): _reconstructor,
    ("_codecs", "encode"): _latin1_encode,
}


class SafeUnpickler(pickle.Unpickler):
    def __init__(self, file):
        super().__init__(file, encoding="latin1")  # Python 2 pickles (SMPL model files) store str as latin-1
        self._stubs: dict[tuple[str, str], type] = {}

    def find_class(self, module: str, name: str) -> Any:
        key = (module, name)
        if key in SAFE_GLOBALS:
            return SAFE_GLOBALS[key]
        if name == "_reconstruct_persistent_obj" and module.endswith("torch_utils.persistence"):
            return _persistent_record
        if name == "EasyDict" and module.endswith("dnnlib.util"):
            return EasyDict
        if module in ("builtins", "__builtin__") and name in SAFE_BUILTINS:
            return SAFE_BUILTINS[name]
        if module == "torch" and name in TORCH_DTYPES:
            return getattr(torch, name)
        root = module.split(".")[0]
        if module in DANGEROUS_MODULES or root in DANGEROUS_MODULES or name.startswith("__"):
            raise LegacyPickleError(f"refusing to load {module}.{name}: the file tries to call code that could "
                                    "run commands")
        if key not in self._stubs:
            self._stubs[key] = type(name, (LegacyObject,), {"legacy_module": module, "legacy_name": name,
                                                            "__module__": "op3d.io.legacy_pickle.stubs"})
        return self._stubs[key]

    def persistent_load(self, pid):
        raise LegacyPickleError("unexpected persistent id in a snapshot pickle")


def read_legacy_pickle(path_or_file: str | os.PathLike | io.BufferedIOBase) -> Any:
    """Unpickle safely; any failure becomes a one-line LegacyPickleError naming the file."""
    name = str(path_or_file) if isinstance(path_or_file, (str, os.PathLike)) else "<stream>"
    try:
        if isinstance(path_or_file, (str, os.PathLike)):
            with open(path_or_file, "rb") as f:
                return SafeUnpickler(f).load()
        return SafeUnpickler(path_or_file).load()
    except LegacyPickleError as e:
        raise LegacyPickleError(f"{name}: {e}") from None
    except FileNotFoundError:
        raise LegacyPickleError(f"{name}: no such file") from None
    except EOFError:
        raise LegacyPickleError(f"{name}: the file is empty or truncated") from None
    except Exception as e:  # UnpicklingError, ValueError, TypeError, ... from malformed input
        msg = str(e).splitlines()[0][:160] if str(e) else type(e).__name__
        raise LegacyPickleError(f"{name}: not a readable snapshot pickle ({type(e).__name__}: {msg})") from None


def _module_state(obj: Any) -> dict | None:
    state = obj.state if isinstance(obj, (PersistentRecord, LegacyObject)) else None
    if isinstance(state, tuple) and len(state) == 2 and isinstance(state[0], dict):  # (dict, slotstate)
        state = state[0]
    return state if isinstance(state, dict) and "_parameters" in state and "_modules" in state else None


def is_module_record(obj: Any) -> bool:
    return _module_state(obj) is not None


def module_state_dict(obj: Any, prefix: str = "") -> dict[str, torch.Tensor]:
    """Rebuild `Module.state_dict()` from a record: parameters, persistent buffers, submodules (dotted names)."""
    state = _module_state(obj)
    if state is None:
        raise LegacyPickleError(f"{prefix or 'the object'} is not a module record")
    out: dict[str, torch.Tensor] = {}
    for key, t in (state.get("_parameters") or {}).items():
        if t is not None:
            out[prefix + key] = t.detach()
    skip = state.get("_non_persistent_buffers_set") or set()
    for key, t in (state.get("_buffers") or {}).items():
        if t is not None and key not in skip:
            out[prefix + key] = t.detach()
    for key, sub in (state.get("_modules") or {}).items():
        if sub is not None:
            out.update(module_state_dict(sub, f"{prefix}{key}."))
    return out


_SKIP = object()


def _plain(value: Any) -> Any:
    """EasyDicts/OrderedDicts -> dicts, tuples -> lists, numpy scalars -> numbers; _SKIP for non-plain data."""
    if isinstance(value, dict):
        return {str(k): p for k, v in value.items() if (p := _plain(v)) is not _SKIP}
    if isinstance(value, (list, tuple)):
        return [p for v in value if (p := _plain(v)) is not _SKIP]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    return _SKIP


def module_config(obj: Any) -> dict:
    """class_name, init_args, init_kwargs and plain attributes (rendering_kwargs, neural_rendering_resolution...)."""
    state = _module_state(obj)
    if state is None:
        raise LegacyPickleError("not a module record")
    class_name = obj.class_name if isinstance(obj, PersistentRecord) else type(obj).legacy_name
    attributes = {k: _plain(v) for k, v in state.items() if not k.startswith("_") and k != "training"}
    return {"class_name": class_name, "init_args": _plain(list(state.get("_init_args") or ())),
            "init_kwargs": _plain(dict(state.get("_init_kwargs") or {})),
            "attributes": {k: v for k, v in attributes.items() if v is not _SKIP}}


def load_snapshot(path: str | os.PathLike) -> dict[str, Any]:
    """The snapshot dict's module records (G, D, G_ema when present), validated."""
    obj = read_legacy_pickle(path)
    if not isinstance(obj, dict):
        raise LegacyPickleError(f"{path}: not a network snapshot (top level is {type(obj).__name__}, expected a dict "
                                "with G, D, G_ema)")
    found = {k: v for k, v in obj.items() if k in ("G", "D", "G_ema")}
    if not found:
        raise LegacyPickleError(f"{path}: not a network snapshot (no G, D or G_ema among {sorted(map(str, obj))})")
    for key, value in found.items():
        if not is_module_record(value):
            raise LegacyPickleError(f"{path}: {key} is not a saved module")
    return found
