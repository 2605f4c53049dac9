"""Read the original EG3D / OP3D `network-snapshot-*.pkl` files without importing or running anything in them.

The original loader exec()s the module source stored in each "persistent" record. Here a pure-Python
unpickler maps every global in the file: the persistence hook -> an inert `PersistentRecord`; tensor/storage
rebuilds -> safe equivalents (nested torch.save blobs load with weights_only=True); a short allowlist of plain
values (OrderedDict, set, slice, complex, numpy arrays/scalars/dtypes without objects, EasyDict as dict) -> the
real thing; globals of modules that can run code (os, subprocess, builtins.exec/eval, ...) -> refused; anything
else -> an inert `LegacyObject` stub class. REDUCE/NEWOBJ/BUILD are checked too: the file can only call the
allowlisted functions and stubs, and only set the state of stubs and (validated) numpy arrays and dtypes.
"""
from __future__ import annotations

import _compat_pickle
import collections
import hashlib
import io
import os
import pickle
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np
import torch

__all__ = ["LegacyPickleError", "PersistentRecord", "LegacyObject", "read_legacy_pickle", "module_state_dict",
           "module_config", "load_snapshot", "is_module_record"]


class LegacyPickleError(ValueError):
    """A file that cannot (or must not) be read; the message is one line naming the file and the problem."""


@dataclass(eq=False)  # identity equality: records hold tensors and may be shared (G is G_ema)
class PersistentRecord:
    """A module saved by the original `torch_utils.persistence`. Its source is kept as text, never executed."""

    class_name: str
    version: int
    module_src: str = field(repr=False)
    state: dict = field(repr=False)
    module_src_sha256: str = field(init=False)

    def __post_init__(self) -> None:
        self.module_src_sha256 = hashlib.sha256(self.module_src.encode("utf-8", "surrogatepass")).hexdigest()


class LegacyObject:
    """Inert stand-in for a global the file names (e.g. training.triplane.OSGDecoder): the class carries
    `legacy_module`/`legacy_name`; instances record `args`, `kwargs`, `state`, `listitems`, `dictitems`."""

    legacy_module = ""
    legacy_name = ""

    def __new__(cls, *args: Any, **kwargs: Any) -> LegacyObject:
        obj = super().__new__(cls)
        obj.args, obj.kwargs, obj.state = args, kwargs, None
        obj.listitems, obj.dictitems = [], {}
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # REDUCE calls the stub: recorded in __new__
        pass

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def append(self, item: Any) -> None:
        self.listitems.append(item)

    def extend(self, items: Any) -> None:
        self.listitems.extend(items)

    def __setitem__(self, key: Any, value: Any) -> None:
        self.dictitems[key] = value

    def __repr__(self) -> str:
        return f"<legacy {self.legacy_module}.{self.legacy_name}>"


def _is_stub(obj: Any) -> bool:
    return isinstance(obj, type) and issubclass(obj, LegacyObject)


# Modules whose globals are refused outright (any dotted prefix matches), and single refused names.
DANGEROUS_MODULES = frozenset({
    "os", "posix", "nt", "posixpath", "ntpath", "subprocess", "sys", "shutil", "importlib", "imp", "runpy", "socket",
    "pickle", "_pickle", "pickletools", "copyreg", "copy_reg", "marshal", "ctypes", "_ctypes", "cffi", "code",
    "codeop", "types", "io", "_io", "codecs", "_codecs", "builtins", "__builtin__", "pty", "signal",
    "multiprocessing", "_posixsubprocess", "threading", "_thread", "concurrent", "asyncio", "webbrowser", "tempfile",
    "pathlib", "glob", "fileinput", "operator", "_operator", "functools", "_functools", "inspect", "gc", "pydoc",
    "timeit", "pdb", "bdb", "trace", "profile", "cProfile", "doctest", "unittest", "platform", "urllib", "http",
    "ftplib", "smtplib", "telnetlib", "ssl", "zipimport", "pkgutil", "site", "distutils", "setuptools", "pip",
    "commands", "popen2", "dill", "cloudpickle", "joblib", "numpy.testing", "numpy.f2py", "numpy.distutils",
    "torch.hub", "torch.jit", "torch.package", "torch.serialization", "torch.utils.cpp_extension", "torch._dynamo",
})
DANGEROUS_NAMES = frozenset({("torch", "load"), ("torch", "save"), ("numpy", "load"), ("numpy", "fromfile"),
                             ("numpy", "loadtxt"), ("numpy", "genfromtxt")})
SAFE_BUILTINS = {"set": set, "frozenset": frozenset, "slice": slice, "complex": complex, "dict": dict, "list": list,
                 "tuple": tuple, "int": int, "float": float, "bool": bool, "str": str, "bytes": bytes,
                 "bytearray": bytearray, "object": object}
TORCH_DTYPES = {k: v for k, v in vars(torch).items() if isinstance(v, torch.dtype)}
_NEW_TYPES = frozenset({object, dict, list, set, frozenset, tuple, int, float, complex, str, collections.OrderedDict,
                        torch.Size})


def _denied(module: str, name: str) -> bool:
    parts = module.split(".")
    prefixes = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
    return bool(prefixes & DANGEROUS_MODULES) or (module, name) in DANGEROUS_NAMES or name.startswith("__")


def _new(cls: Any, args: Any = (), kwargs: Any = None) -> Any:
    """NEWOBJ / NEWOBJ_EX / copyreg.__newobj__: `cls.__new__(cls, ...)` for stubs and plain containers only."""
    kwargs = {} if kwargs is None else kwargs
    if type(args) is not tuple or type(kwargs) is not dict:
        raise LegacyPickleError("malformed NEWOBJ arguments")
    if not (_is_stub(cls) or (isinstance(cls, type) and cls in _NEW_TYPES)):
        raise LegacyPickleError(f"refusing to create a {getattr(cls, '__name__', type(cls).__name__)} object")
    return cls.__new__(cls, *args, **kwargs)


def _reconstructor(cls: Any, base: Any, state: Any) -> Any:
    """copyreg._reconstructor (protocol 0/1) for stubs and (EasyDict as) dict; never calls base.__init__."""
    if _is_stub(cls):
        obj = cls.__new__(cls)
        obj.args = () if state is None else (state,)
        return obj
    if cls is dict and base is dict and isinstance(state, (dict, type(None))):
        return dict(state or {})
    raise LegacyPickleError(f"copyreg._reconstructor of {getattr(cls, '__name__', cls)!r} is not allowed")


def _check_dtype(dt: Any) -> np.dtype:
    """Plain numpy dtypes only, consistent with their canonical form (no forged flags). Returns that canonical
    dtype, which arrays get instead of `dt`: a later BUILD on `dt` (a file object) cannot reach them."""
    if not isinstance(dt, np.dtype):
        raise LegacyPickleError("expected a numpy dtype")
    if dt.hasobject or dt.names is not None or dt.subdtype is not None:
        raise LegacyPickleError(f"numpy dtype {dt} is not allowed (object or structured dtypes)")
    clean = np.dtype(dt.str)
    if (dt.kind, dt.flags, dt.itemsize, dt.alignment) != (clean.kind, clean.flags, clean.itemsize, clean.alignment):
        raise LegacyPickleError(f"inconsistent numpy dtype state for {dt.str}")
    return clean


def _np_dtype(spec: Any, align: Any = False, copy: Any = False) -> np.dtype:
    if isinstance(spec, bytes):
        spec = spec.decode("ascii")
    if not isinstance(spec, str):
        raise LegacyPickleError("numpy dtype spec must be a string")
    dt = np.dtype(spec, bool(align), True)  # always a fresh copy: BUILD must never reach numpy's cached dtypes
    _check_dtype(dt)
    return dt


def _as_bytes(data: Any) -> bytes:
    if not isinstance(data, (str, bytes, bytearray)):
        raise LegacyPickleError("numpy data must be bytes")
    return data.encode("latin1") if isinstance(data, str) else bytes(data)  # str: Python 2 pickle read as latin-1


def _np_scalar(dtype: Any, data: Any = None) -> np.generic:
    dtype = _check_dtype(dtype)
    if data is None:
        return dtype.type()
    data = _as_bytes(data)
    if len(data) != dtype.itemsize:
        raise LegacyPickleError("numpy scalar data has the wrong size")
    return np.frombuffer(data, dtype=dtype, count=1)[0]


def _np_reconstruct(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    if subtype is not np.ndarray:
        raise LegacyPickleError("only plain numpy arrays are allowed")
    return np.ndarray((0,), np.uint8)  # BUILD fills it in (`_np_array_setstate`)


def _np_array_setstate(arr: np.ndarray, state: Any) -> None:
    if not isinstance(state, tuple) or len(state) not in (4, 5):
        raise LegacyPickleError("malformed numpy array state")
    shape, dtype, fortran, raw = state[-4:]
    if not _shape(shape):
        raise LegacyPickleError("malformed numpy array shape")
    np.ndarray.__setstate__(arr, (1, shape, _check_dtype(dtype), bool(fortran), _as_bytes(raw)))


def _np_frombuffer(buf: Any, dtype: Any, shape: Any, order: Any = "C") -> np.ndarray:
    """numpy's protocol-5 array reduction (buffer in band)."""
    if not _shape(shape) or order not in ("C", "F", "A"):
        raise LegacyPickleError("malformed numpy array")
    return np.frombuffer(_as_bytes(buf), dtype=_check_dtype(dtype)).reshape(shape, order=order).copy(order="K")


def _latin1_encode(text: Any, encoding: Any = "latin1", errors: Any = "strict") -> bytes:
    """_codecs.encode as protocol <3 pickles use it for bytes (latin-1 text); nothing else."""
    if not isinstance(text, str) or not isinstance(encoding, str) or encoding.replace("-", "").lower() != "latin1":
        raise LegacyPickleError("only latin-1 string encoding is allowed")
    return text.encode("latin1", "strict")


def _load_storage(blob: Any) -> torch.TypedStorage:
    """torch.storage._load_from_bytes: the blob is a nested torch.save of one storage."""
    if not isinstance(blob, (bytes, bytearray)):
        raise LegacyPickleError("a storage blob is not bytes")
    try:
        storage = torch.load(io.BytesIO(blob), weights_only=True, map_location="cpu")
    except Exception as e:
        raise LegacyPickleError(f"a nested tensor blob is unreadable ({_one_line(e)})") from None
    if not isinstance(storage, torch.TypedStorage):
        raise LegacyPickleError(f"a nested tensor blob holds a {type(storage).__name__}, not a storage")
    return storage


def _shape(value: Any) -> bool:
    return isinstance(value, tuple) and all(type(n) is int and n >= 0 for n in value)


def _rebuild_tensor(storage: Any, storage_offset: Any, size: Any, stride: Any, requires_grad: Any = False,
                    backward_hooks: Any = None, metadata: Any = None) -> torch.Tensor:
    """torch._utils._rebuild_tensor_v2 (and v1): a view on the storage; hooks and metadata are ignored."""
    if not (isinstance(storage, torch.TypedStorage) and _shape((storage_offset,)) and _shape(size) and _shape(stride)
            and len(size) == len(stride)):
        raise LegacyPickleError("malformed tensor (storage, offset, size or stride)")
    t = torch.empty((0,), dtype=storage.dtype)
    items = storage._untyped_storage.nbytes() // t.element_size()
    if 0 not in size and storage_offset + sum((n - 1) * s for n, s in zip(size, stride)) >= items:
        raise LegacyPickleError(f"a tensor of size {tuple(size)} reaches past its storage ({items} items)")
    t.set_(storage._untyped_storage, storage_offset, size, stride)  # (set_ would silently grow a short storage)
    if requires_grad is True and (t.is_floating_point() or t.is_complex()):
        t.requires_grad_(True)
    return t


def _rebuild_parameter(data: Any, requires_grad: Any = True, backward_hooks: Any = None,
                       state: Any = None) -> torch.nn.Parameter:
    """torch._utils._rebuild_parameter(_with_state); hooks and extra attribute state are ignored."""
    if not isinstance(data, torch.Tensor):
        raise LegacyPickleError("a parameter holds no tensor")
    grad = requires_grad is True and (data.is_floating_point() or data.is_complex())
    return torch.nn.Parameter(data.detach(), requires_grad=grad)


def _persistent_record(meta: Any) -> PersistentRecord:
    """torch_utils.persistence._reconstruct_persistent_obj, minus the exec of meta['module_src']."""
    if not isinstance(meta, dict) or meta.get("type") != "class" or not isinstance(meta.get("state"), (dict, tuple)):
        raise LegacyPickleError("a persistent record has an unexpected layout (expected type 'class' with a state)")
    src, version, class_name = meta.get("module_src", ""), meta.get("version", 0), meta.get("class_name")
    if not isinstance(src, str) or type(version) is not int or not isinstance(class_name, str):
        raise LegacyPickleError("a persistent record has a malformed version, class name or source")
    return PersistentRecord(class_name=class_name, version=version, module_src=src, state=meta["state"])


SAFE_GLOBALS: dict[tuple[str, str], Any] = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch.storage", "_load_from_bytes"): _load_storage,
    ("torch", "Size"): torch.Size,
    ("torch", "device"): torch.device,
    ("numpy", "dtype"): _np_dtype,
    ("numpy", "ndarray"): np.ndarray,  # a value only (the first argument of _reconstruct): never called
    ("numpy.core.multiarray", "scalar"): _np_scalar,
    ("numpy._core.multiarray", "scalar"): _np_scalar,
    ("numpy.core.multiarray", "_reconstruct"): _np_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _np_reconstruct,
    ("numpy.core.numeric", "_frombuffer"): _np_frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _np_frombuffer,
    ("copyreg", "_reconstructor"): _reconstructor,
    ("copyreg", "__newobj__"): lambda cls, *args: _new(cls, args),
    ("copyreg", "__newobj_ex__"): _new,
    ("_codecs", "encode"): _latin1_encode,
}
_CALLABLES = frozenset([v for v in SAFE_GLOBALS.values() if v is not np.ndarray] + [_persistent_record]
                       + [v for v in SAFE_BUILTINS.values()])


def _call(func: Any, args: Any) -> Any:
    """REDUCE / INST / OBJ: only allowlisted functions and stub classes can be called."""
    if type(args) is not tuple:
        raise LegacyPickleError("malformed REDUCE arguments")
    try:
        allowed = _is_stub(func) or func in _CALLABLES
    except TypeError:  # unhashable
        allowed = False
    if not allowed:
        raise LegacyPickleError(f"refusing to call {getattr(func, '__name__', type(func).__name__)}")
    if func in (bytes, bytearray) and args and isinstance(args[0], int):
        raise LegacyPickleError("refusing to allocate a buffer from an integer size")
    return func(*args)


class _Dispatch(dict):
    def __missing__(self, key: int) -> Any:  # an unknown opcode (the C unpickler's "invalid load key")
        raise pickle.UnpicklingError(f"invalid load key {bytes([key])!r}")


class SafeUnpickler(pickle._Unpickler):
    """The pure-Python unpickler with find_class, persistent_load and the calling opcodes locked down."""

    dispatch = _Dispatch(pickle._Unpickler.dispatch)

    def __init__(self, file: BinaryIO) -> None:
        super().__init__(file, encoding="latin1")  # Python 2 pickles (e.g. SMPL files) store str as latin-1
        self._stubs: dict[tuple[str, str], type] = {}

    def find_class(self, module: str, name: str) -> Any:
        orig = (module, name)
        if orig in _compat_pickle.NAME_MAPPING:  # Python 2 names, as pickle's fix_imports maps them
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        key = (module, name)
        if key in SAFE_GLOBALS:
            return SAFE_GLOBALS[key]
        if name == "_reconstruct_persistent_obj" and (module + ".").endswith("torch_utils.persistence."):
            return _persistent_record
        if name == "EasyDict" and (module == "dnnlib.util" or module.endswith(".dnnlib.util")):
            return dict
        if module == "builtins" and name in SAFE_BUILTINS:
            return SAFE_BUILTINS[name]
        if module == "torch" and name in TORCH_DTYPES:
            return TORCH_DTYPES[name]
        if _denied(*orig) or _denied(module, name):
            raise LegacyPickleError(f"refusing to load {orig[0]}.{orig[1]}: the file names code that could run "
                                    "commands")
        if key not in self._stubs:
            self._stubs[key] = type(name, (LegacyObject,), {"legacy_module": module, "legacy_name": name,
                                                            "__module__": __name__ + ".stubs"})
        return self._stubs[key]

    def persistent_load(self, pid: Any) -> Any:
        raise LegacyPickleError("unexpected persistent id (original snapshots have none)")

    def _instantiate(self, klass: Any, args: Any) -> None:
        self.append(_call(klass, tuple(args)))

    def load_reduce(self) -> None:
        args = self.stack.pop()
        self.stack[-1] = _call(self.stack[-1], args)

    def load_newobj(self) -> None:
        args = self.stack.pop()
        self.stack[-1] = _new(self.stack[-1], args)

    def load_newobj_ex(self) -> None:
        kwargs, args = self.stack.pop(), self.stack.pop()
        self.stack[-1] = _new(self.stack[-1], args, kwargs)

    def load_build(self) -> None:
        state = self.stack.pop()
        inst = self.stack[-1]
        if isinstance(inst, LegacyObject):
            inst.__setstate__(state)
        elif type(inst) is np.ndarray:
            _np_array_setstate(inst, state)
        elif isinstance(inst, np.dtype):
            if not isinstance(state, tuple):
                raise LegacyPickleError("malformed numpy dtype state")
            inst.__setstate__(state)
            _check_dtype(inst)
        elif not (isinstance(inst, dict) and isinstance(state, (dict, type(None)))):  # a dict's attributes: dropped
            raise LegacyPickleError(f"refusing to set the state of a {type(inst).__name__}")


for _op, _method in {pickle.REDUCE: "load_reduce", pickle.NEWOBJ: "load_newobj", pickle.NEWOBJ_EX: "load_newobj_ex",
                     pickle.BUILD: "load_build"}.items():
    SafeUnpickler.dispatch[_op[0]] = getattr(SafeUnpickler, _method)


BAD = "not a readable snapshot pickle"


def _one_line(e: Any) -> str:
    text = " ".join(str(e).split())
    return (text[:200] + "...") if len(text) > 200 else (text or type(e).__name__)


def read_legacy_pickle(path_or_file: str | os.PathLike | BinaryIO) -> Any:
    """Unpickle one file safely (see the module docstring). Any failure is a one-line LegacyPickleError."""
    is_path = isinstance(path_or_file, (str, os.PathLike))
    name = os.fspath(path_or_file) if is_path else str(getattr(path_or_file, "name", "<stream>"))
    try:
        if is_path and os.path.isfile(path_or_file) and os.path.getsize(path_or_file) == 0:
            raise LegacyPickleError(f"{BAD}: the file is empty")
        if is_path:
            with open(path_or_file, "rb") as f:
                return SafeUnpickler(f).load()
        return SafeUnpickler(path_or_file).load()
    except LegacyPickleError as e:
        msg = str(e)
    except FileNotFoundError:
        msg = "no such file"
    except OSError as e:
        msg = f"cannot read the file ({e.strerror or type(e).__name__})"
    except EOFError:
        msg = f"{BAD}: the file is truncated (the pickle ends early)"
    except pickle.UnpicklingError as e:
        truncated = "truncated" in str(e) or "exhausted" in str(e)
        msg = f"{BAD}: the file is truncated (the pickle ends early)" if truncated else f"{BAD} ({_one_line(e)})"
    except (RecursionError, MemoryError) as e:
        msg = f"{BAD} ({type(e).__name__}: the pickle is nested too deeply or asks for too much memory)"
    except Exception as e:  # ValueError, TypeError, KeyError... from malformed or hostile input
        msg = f"{BAD} ({type(e).__name__}: {_one_line(e)})"
    raise LegacyPickleError(_one_line(f"{name}: {msg}")) from None


def _module_state(obj: Any) -> dict | None:
    state = obj.state if isinstance(obj, (PersistentRecord, LegacyObject)) else None
    if isinstance(state, tuple) and len(state) == 2 and isinstance(state[0], dict):  # (dict, slotstate)
        state = state[0]
    return state if isinstance(state, dict) and "_parameters" in state and "_modules" in state else None


def is_module_record(obj: Any) -> bool:
    """True for a PersistentRecord or LegacyObject holding a torch.nn.Module __dict__."""
    return _module_state(obj) is not None


def _collect(obj: Any, prefix: str, out: dict[str, torch.Tensor], path: tuple[int, ...]) -> None:
    state = _module_state(obj)
    if state is None:
        raise LegacyPickleError(f"{prefix[:-1] or 'the object'} is not a module record")
    if id(obj) in path:
        raise LegacyPickleError(f"{prefix[:-1]} contains itself (cyclic module tree)")
    skip = set(state.get("_non_persistent_buffers_set") or ())
    tensors = [*(state.get("_parameters") or {}).items(),
               *((k, t) for k, t in (state.get("_buffers") or {}).items() if k not in skip)]
    for key, t in tensors:
        if t is not None and not isinstance(t, torch.Tensor):
            raise LegacyPickleError(f"{prefix}{key} is a {type(t).__name__}, not a tensor")
        if t is not None:
            out[prefix + key] = t.detach()
    for key, sub in (state.get("_modules") or {}).items():
        if sub is not None:
            _collect(sub, f"{prefix}{key}.", out, path + (id(obj),))


def module_state_dict(obj: Any, prefix: str = "") -> dict[str, torch.Tensor]:
    """`torch.nn.Module.state_dict()` of a record tree: parameters, persistent buffers, then submodules (dotted
    names), None entries skipped, tensors detached."""
    out: dict[str, torch.Tensor] = {}
    _collect(obj, prefix, out, ())
    return out


def _plain(value: Any) -> Any:
    """dict subclasses (EasyDict, OrderedDict) -> dict, numpy scalars -> Python numbers, recursively."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple) and not isinstance(value, torch.Size):
        return tuple(_plain(v) for v in value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def _is_plain(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_is_plain(k) and _is_plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    return value is None or isinstance(value, (str, bytes, int, float, complex, np.generic))


def module_config(obj: Any) -> dict:
    """class_name, init_args (list), init_kwargs (plain dicts) and `attributes`: the plain non-underscore
    attributes (rendering_kwargs, neural_rendering_resolution, ...); modules, tensors and stubs are left out."""
    state = _module_state(obj)
    if state is None:
        raise LegacyPickleError("not a module record")
    class_name = obj.class_name if isinstance(obj, PersistentRecord) else type(obj).legacy_name
    attributes = {k: _plain(v) for k, v in state.items()
                  if isinstance(k, str) and not k.startswith("_") and k != "training" and _is_plain(v)}
    return {"class_name": class_name, "init_args": list(_plain(tuple(state.get("_init_args") or ()))),
            "init_kwargs": _plain(dict(state.get("_init_kwargs") or {})), "attributes": attributes}


def load_snapshot(path: str | os.PathLike) -> dict[str, Any]:
    """The module records (G, D, G_ema, whichever are present) of a network-snapshot-*.pkl, validated."""
    obj = read_legacy_pickle(path)
    if not isinstance(obj, dict):
        raise LegacyPickleError(f"{os.fspath(path)}: not a network snapshot (top level is a {type(obj).__name__}, "
                                "expected a dict with G, D, G_ema)")
    found = {k: v for k, v in obj.items() if k in ("G", "D", "G_ema") and v is not None}  # EG3D saves D None too
    if not found:
        keys = ", ".join(sorted(map(str, obj))[:10]) or "nothing"
        raise LegacyPickleError(_one_line(f"{os.fspath(path)}: not a network snapshot (no G, D or G_ema; it has "
                                          f"{keys})"))
    for key, value in found.items():
        if not is_module_record(value):
            raise LegacyPickleError(f"{os.fspath(path)}: {key} is not a saved module (a {type(value).__name__})")
    return found


# Globals a joblib pickle of numpy data (e.g. PARE's per-image outputs) may name; anything else is refused.
_JOBLIB_GLOBALS = {("joblib.numpy_pickle", "NumpyArrayWrapper"), ("numpy", "ndarray"), ("numpy", "dtype"),
                   ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                   ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
                   ("collections", "OrderedDict")}


def read_joblib_pickle(path: str | os.PathLike) -> Any:
    """Load a joblib.dump file of plain data and numpy arrays (any joblib compression) with joblib's own reader
    restricted to an allowlist of globals: a file naming anything else is refused (one-line LegacyPickleError)
    instead of running it. Needs joblib (pip install 'op3d[body]')."""
    try:
        from joblib import numpy_pickle as jp
    except ImportError:
        raise ImportError("reading joblib pickles (PARE outputs) needs joblib: pip install 'op3d[body]'") from None
    name = os.fspath(path)

    class Restricted(jp.NumpyUnpickler):
        def find_class(self, module: str, cls: str) -> Any:
            if (module, cls) not in _JOBLIB_GLOBALS:
                raise LegacyPickleError(f"refusing to load {module}.{cls} (only numpy data is read)")
            return super().find_class(module, cls)

    try:
        with open(name, "rb") as f, jp._validate_fileobject_and_memmap(f, name, None) as (fobj, _):
            if isinstance(fobj, str):
                raise LegacyPickleError("a joblib < 0.10 pickle (not supported)")
            return Restricted(name, fobj, ensure_native_byte_order=True).load()
    except FileNotFoundError:
        msg = "no such file"
    except LegacyPickleError as e:
        msg = str(e)
    except EOFError:
        msg = "the file is truncated"
    except Exception as e:  # malformed or hostile input
        msg = f"not a readable joblib pickle ({type(e).__name__}: {_one_line(e)})"
    raise LegacyPickleError(_one_line(f"{name}: {msg}")) from None
