"""The safe reader of original EG3D/OP3D snapshot pickles: weights come back exactly, nothing in the file runs.

The pickles are built here, shaped like the originals, with a pickler that writes chosen global names
(torch_utils.persistence._reconstruct_persistent_obj, training.triplane.OSGDecoder, os.system, ...) without
importing them, so no original code and no fake entries in sys.modules are needed.
"""
import collections
import copyreg
import hashlib
import io
import os
import pickle
import random
import re
import sys
import types

import numpy as np
import pytest
import torch

from op3d.io.legacy_pickle import (
    LegacyObject,
    LegacyPickleError,
    PersistentRecord,
    load_snapshot,
    module_config,
    module_state_dict,
    read_legacy_pickle,
)

FAKE_GLOBALS: dict[int, tuple[str, str]] = {}  # id(obj) -> the (module, name) the pickle names it by


def named(module: str, name: str):
    """Register a stand-in that pickles as the global `module.name`."""
    def deco(obj):
        FAKE_GLOBALS[id(obj)] = (module, name)
        return obj
    return deco


class NamingPickler(pickle._Pickler):
    """pickle's own Pickler, but registered stand-ins are written under their claimed names, unimported."""

    def save_global(self, obj, name=None):
        if id(obj) not in FAKE_GLOBALS:
            return super().save_global(obj, name)
        module, qualname = FAKE_GLOBALS[id(obj)]
        if self.proto >= 4:
            self.save(module)
            self.save(qualname)
            self.write(pickle.STACK_GLOBAL)
        else:
            self.write(pickle.GLOBAL + f"{module}\n{qualname}\n".encode())
        self.memoize(obj)

    dispatch = dict(pickle._Pickler.dispatch)
    dispatch[types.FunctionType] = save_global


def dumps(obj, protocol=4) -> bytes:
    buf = io.BytesIO()
    NamingPickler(buf, protocol=protocol).dump(obj)
    return buf.getvalue()


@named("torch_utils.persistence", "_reconstruct_persistent_obj")
def reconstruct_persistent_obj(meta):  # only its name is pickled; never called
    raise AssertionError("executed")


@named("op3d_release.torch_utils.persistence", "_reconstruct_persistent_obj")
def reconstruct_persistent_obj_prefixed(meta):
    raise AssertionError("executed")


@named("dnnlib.util", "EasyDict")
class EasyDict(dict):
    pass


@named("training.triplane", "OSGDecoder")
class OSGDecoder:
    def __setstate__(self, state):
        raise AssertionError("executed")


@named("torch.nn.modules.container", "Sequential")
class FakeSequential:  # claims torch's path; the reader must not import or use the real class
    pass


@named("training.volumetric_rendering.renderer", "ImportanceRenderer")
class ImportanceRenderer:
    pass


class Persistent:
    """Reduces like an original persistent object: REDUCE(_reconstruct_persistent_obj, (meta,))."""

    def __init__(self, class_name, state, src, hook=reconstruct_persistent_obj):
        self.meta = dict(type="class", version=6, module_src=src, class_name=class_name, state=state)
        self.hook = hook

    def __reduce__(self):
        return self.hook, (self.meta,)


def module_dict(params=(), buffers=(), modules=(), non_persistent=(), **attrs):
    state = {"training": True, "_parameters": collections.OrderedDict(params),
             "_buffers": collections.OrderedDict(buffers), "_non_persistent_buffers_set": set(non_persistent),
             "_modules": collections.OrderedDict(modules), "_forward_hooks": collections.OrderedDict(),
             "_forward_pre_hooks": collections.OrderedDict(), "_backward_hooks": collections.OrderedDict()}
    state.update(attrs)
    return state


def by_path(cls, state):
    obj = cls.__new__(cls)
    obj.__dict__.update(state)
    return obj


def sample_snapshot(sentinel, hook=reconstruct_persistent_obj, protocol=4):
    """(pickle bytes, expected G state dict, module_src) for a G with 3 levels of records."""
    src = f"open({str(sentinel)!r}, 'w').write('ran')\nraise SystemExit('module_src was executed')\n"
    g = torch.Generator().manual_seed(0)
    fc_w, fc_b = torch.nn.Parameter(torch.randn(4, 3, generator=g)), torch.nn.Parameter(torch.randn(4, generator=g))
    conv = torch.nn.Parameter(torch.randn(2, 3, 3, 3, generator=g).half())
    noise = torch.randn(5, 6, generator=g)[1:, 2:].t()  # a strided view with a storage offset
    count = torch.tensor([7, 8], dtype=torch.int64)
    scale = torch.nn.Parameter(torch.randn(3, generator=g))
    w_avg = torch.randn(8, generator=g)
    fc = Persistent("FullyConnectedLayer", module_dict({"weight": fc_w, "bias": fc_b}), src, hook)
    net = by_path(FakeSequential, module_dict(modules={"0": fc, "1": torch.nn.Softplus()}))
    decoder = by_path(OSGDecoder, module_dict(modules={"net": net}, hidden_dim=64))
    block = Persistent("SynthesisBlock", module_dict(
        {"weight": conv, "bias": None}, {"noise_const": noise, "count": count, "resample_filter": torch.ones(4)},
        non_persistent=("resample_filter",)), src, hook)
    backbone = Persistent("SynthesisNetwork", module_dict(modules={"b4": block}), src, hook)
    kwargs = EasyDict(z_dim=512, c_dim=25, mapping_kwargs=EasyDict(num_layers=2), sr_num_fp16_res=np.int64(4),
                      scale=np.float32(1.5), channels=(32, 64))
    G = Persistent("TriPlaneGenerator", module_dict(
        {"scale": scale}, {"w_avg": w_avg, "scratch": torch.zeros(2), "empty": None}, non_persistent=("scratch",),
        modules={"backbone": backbone, "decoder": decoder, "renderer": by_path(ImportanceRenderer, module_dict()),
                 "superresolution": None},
        _init_args=(), _init_kwargs=kwargs, rendering_kwargs={"box_warp": 1, "ray_start": 2.25, "pivot": [0, 0, 0.2]},
        neural_rendering_resolution=128, img_resolution=np.int64(512), plane_axes=torch.zeros(3, 3, 3)), src, hook)
    expected = {"scale": scale, "w_avg": w_avg, "backbone.b4.weight": conv, "backbone.b4.noise_const": noise,
                "backbone.b4.count": count, "decoder.net.0.weight": fc_w, "decoder.net.0.bias": fc_b}
    training_set_kwargs = EasyDict(path="/data/ffhq.zip", resolution=np.int64(512), use_labels=True,
                                   mean=np.arange(6, dtype=np.float32).reshape(2, 3), big=np.array([1.5, -2], ">f8"))
    snapshot = {"G": G, "D": Persistent("DualDiscriminator", module_dict(), src, hook), "G_ema": G,
                "augment_pipe": None, "training_set_kwargs": training_set_kwargs}
    return dumps(snapshot, protocol), expected, src


def new_modules(before):
    return {m for m in set(sys.modules) - before if m.split(".")[0] in ("training", "dnnlib", "torch_utils")}


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_snapshot_loads_inertly_and_exactly(tmp_path, protocol):
    sentinel = tmp_path / "sentinel"
    data, expected, src = sample_snapshot(sentinel, protocol=protocol)
    path = tmp_path / "network-snapshot-000000.pkl"
    path.write_bytes(data)
    before = set(sys.modules)
    snap = load_snapshot(path)
    assert not sentinel.exists() and not new_modules(before)
    assert set(snap) == {"G", "G_ema", "D"} and snap["G"] is snap["G_ema"]  # shared object stays shared
    G = snap["G"]
    assert isinstance(G, PersistentRecord) and G.class_name == "TriPlaneGenerator" and G.version == 6
    assert G.module_src == src and G.module_src_sha256 == hashlib.sha256(src.encode()).hexdigest()
    sd = module_state_dict(G)
    assert list(sd) == list(expected)  # order as Module.state_dict(); None / non-persistent entries skipped
    for key, value in expected.items():
        assert type(sd[key]) is torch.Tensor and not sd[key].requires_grad, key
        assert sd[key].dtype == value.dtype and torch.equal(sd[key], value.detach()), key
    decoder = G.state["_modules"]["decoder"]
    assert isinstance(decoder, LegacyObject) and (decoder.legacy_module, decoder.legacy_name) == (
        "training.triplane", "OSGDecoder")
    assert type(decoder.state["_modules"]["net"]).legacy_module == "torch.nn.modules.container"
    sub = module_state_dict(decoder, "decoder.")
    assert list(sub) == [k for k in sd if k.startswith("decoder.")] and all(torch.equal(sub[k], sd[k]) for k in sub)
    cfg = module_config(G)
    assert cfg["class_name"] == "TriPlaneGenerator" and cfg["init_args"] == []
    assert cfg["init_kwargs"] == {"z_dim": 512, "c_dim": 25, "mapping_kwargs": {"num_layers": 2},
                                  "sr_num_fp16_res": 4, "scale": 1.5, "channels": (32, 64)}
    assert type(cfg["init_kwargs"]) is dict and type(cfg["init_kwargs"]["mapping_kwargs"]) is dict
    assert cfg["attributes"] == {"rendering_kwargs": {"box_warp": 1, "ray_start": 2.25, "pivot": [0, 0, 0.2]},
                                 "neural_rendering_resolution": 128, "img_resolution": 512}
    assert module_config(decoder)["class_name"] == "OSGDecoder"
    kw = read_legacy_pickle(io.BytesIO(data))["training_set_kwargs"]
    assert type(kw) is dict and kw["resolution"] == 512 and isinstance(kw["resolution"], np.int64)
    assert type(kw["mean"]) is np.ndarray and np.array_equal(kw["mean"], np.arange(6.0).reshape(2, 3))
    assert kw["big"].tolist() == [1.5, -2.0]  # big-endian data (numpy itself unpickles it to native order)


def test_prefixed_persistence_module_is_recognised(tmp_path):
    data, expected, _ = sample_snapshot(tmp_path / "s", hook=reconstruct_persistent_obj_prefixed)
    path = tmp_path / "x.pkl"
    path.write_bytes(data)
    assert set(module_state_dict(load_snapshot(path)["G"])) == set(expected)


class CustomLayer(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(3, 2)
        self.register_parameter("gain", None)
        self.register_buffer("table", torch.arange(4.0))
        self.register_buffer("cache", torch.ones(2), persistent=False)

    def forward(self, x):
        return self.lin(x)


named("training.networks_stylegan2", "CustomLayer")(CustomLayer)


def test_state_dict_matches_torch_module(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(CustomLayer(), torch.nn.BatchNorm1d(2), torch.nn.Sequential(torch.nn.Linear(2, 2)))
    model(torch.randn(4, 3))  # running stats and num_batches_tracked move
    record = Persistent("MappingNetwork", dict(vars(model), _init_args=(), _init_kwargs={}), "raise SystemExit")
    path = tmp_path / "m.pkl"
    path.write_bytes(dumps({"D": record}))
    sd = module_state_dict(load_snapshot(path)["D"])
    ref = model.state_dict()
    assert list(sd) == list(ref)
    assert all(torch.equal(sd[k], ref[k]) and sd[k].dtype == ref[k].dtype for k in ref)


def hostile(module, name, args):
    @named(module, name)
    def stand_in(*a):
        raise AssertionError("executed")

    return type("Payload", (), {"__reduce__": lambda self: (stand_in, args)})()


class Real:
    """A payload using the real function object, pickled under its real name (posix.system, builtins.exec)."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


HOSTILE = [("os", "system"), ("posix", "system"), ("nt", "system"), ("subprocess", "Popen"), ("sys", "exit"),
           ("shutil", "rmtree"), ("importlib", "import_module"), ("runpy", "run_path"), ("socket", "socket"),
           ("pickle", "loads"), ("marshal", "loads"), ("ctypes", "CDLL"), ("code", "interact"),
           ("types", "FunctionType"), ("io", "open"), ("builtins", "eval"), ("builtins", "exec"),
           ("builtins", "compile"), ("builtins", "open"), ("builtins", "__import__"), ("builtins", "getattr"),
           ("builtins", "setattr"), ("builtins", "globals"), ("builtins", "input"), ("builtins", "breakpoint"),
           ("__builtin__", "eval"), ("functools", "partial"), ("operator", "attrgetter"), ("torch", "load"),
           ("numpy.testing._private.utils", "runstring")]


@pytest.mark.parametrize("module,name", HOSTILE)
def test_code_running_globals_are_refused(tmp_path, module, name):
    sentinel = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(dumps({"G": hostile(module, name, (f"touch {sentinel}",))}, protocol=2))
    with pytest.raises(LegacyPickleError, match=rf"refusing to load {module}\.{name}\b") as info:
        load_snapshot(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)
    assert not sentinel.exists()


@pytest.mark.parametrize("protocol", [0, 4])
@pytest.mark.parametrize("payload", ["system", "exec", "eval"])
def test_real_payloads_never_run(tmp_path, payload, protocol):
    sentinel = tmp_path / "pwned"
    obj = {"system": Real(os.system, f"touch {sentinel}"), "exec": Real(exec, f"open({str(sentinel)!r}, 'w')"),
           "eval": Real(eval, f"open({str(sentinel)!r}, 'w')")}[payload]
    state = module_dict(modules={"inner": Persistent("Block", module_dict(evil=obj), "")})  # nested deep inside G
    path = tmp_path / "evil.pkl"
    path.write_bytes(dumps({"G": Persistent("TriPlaneGenerator", state, "")}, protocol=protocol))
    want = {"system": r"refusing to load (posix|os)\.system", "exec": r"refusing to load (builtins|__builtin__)\.exec",
            "eval": r"refusing to load (builtins|__builtin__)\.eval"}[payload]
    with pytest.raises(LegacyPickleError, match=want):
        read_legacy_pickle(path)
    assert not sentinel.exists()


class Reduces:
    def __init__(self, *reduction):
        self.reduction = reduction

    def __reduce__(self):
        return self.reduction


class PersistentIds(pickle.Pickler):
    def persistent_id(self, obj):
        return "pid" if isinstance(obj, str) and obj == "ref" else None


@pytest.mark.parametrize("kind,message", [
    ("object_array", "object or structured"),
    ("forged_dtype_flags", "object or structured|inconsistent numpy dtype"),
    ("forged_dtype_alignment", "inconsistent numpy dtype"),
    ("structured_dtype", "object or structured"),
    ("call_ndarray", "refusing to call ndarray"),
    ("state_of_size", "refusing to set the state of a Size"),
    ("reconstructor_real_class", "copyreg._reconstructor of 'OrderedDict' is not allowed"),
    ("newobj_real_class", "refusing to create a device object"),
    ("persistent_id", "unexpected persistent id"),
    ("codecs_other", "only latin-1"),
    ("bad_storage_blob", "nested tensor blob is unreadable"),
    ("tensor_out_of_bounds", r"a tensor of size \(100,\) reaches past its storage \(4 items\)"),
    ("bad_record", "persistent record has an unexpected layout"),
])
def test_disallowed_constructs_are_refused(tmp_path, kind, message):
    rebuild = torch._utils._rebuild_tensor_v2
    storage = torch.arange(4.0).untyped_storage()
    obj = {
        "object_array": lambda: np.array([1, "a"], dtype=object),
        "forged_dtype_flags": lambda: Reduces(np.dtype, ("V8", False, True), (3, "|", None, None, None, 8, 1, 0x3F)),
        "forged_dtype_alignment": lambda: Reduces(np.dtype, ("V8", False, True), (3, "|", None, None, None, 8, 64, 0)),
        "structured_dtype": lambda: np.zeros(2, dtype=[("a", "<f4"), ("b", "<i8")]),
        "call_ndarray": lambda: Reduces(np.ndarray, ((1 << 40,),)),
        "state_of_size": lambda: Reduces(torch.Size, ((1, 2),), {"a": 1}),
        "reconstructor_real_class": lambda: Reduces(copyreg._reconstructor, (collections.OrderedDict, dict, {})),
        "newobj_real_class": lambda: Reduces(copyreg.__newobj__, (torch.device, "cpu")),
        "persistent_id": None,
        "codecs_other": lambda: Reduces(__import__("_codecs").encode, ("x", "rot13")),
        "bad_storage_blob": lambda: Reduces(torch.storage._load_from_bytes, (b"not a torch file",)),
        "tensor_out_of_bounds": lambda: Reduces(rebuild, (torch.storage.TypedStorage(
            wrap_storage=storage, dtype=torch.float32, _internal=True), 0, (100,), (1,), False,
            collections.OrderedDict())),
        "bad_record": lambda: Reduces(reconstruct_persistent_obj, ({"type": "function", "state": {}},)),
    }[kind]
    path = tmp_path / "bad.pkl"
    if obj is None:
        buf = io.BytesIO()
        PersistentIds(buf, protocol=2).dump({"G": "ref"})
        path.write_bytes(buf.getvalue())
    else:
        path.write_bytes(dumps({"G": obj()}, protocol=1 if kind == "newobj_real_class" else 4))
    with pytest.raises(LegacyPickleError, match=message) as info:
        read_legacy_pickle(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_numpy_dtype_singletons_are_not_modified(tmp_path):
    path = tmp_path / "dt.pkl"
    path.write_bytes(dumps(Reduces(np.dtype, ("f4", False, True), (3, ">", None, None, None, -1, -1, 0))))
    assert read_legacy_pickle(path) == np.dtype(">f4")
    assert np.dtype("f4").byteorder == "=" and np.float32(1).dtype.str == "<f4"


def test_numpy_dtype_changed_after_use_does_not_reach_the_array(tmp_path):
    # dtype D (V8) -> array of 2 x D -> a second BUILD on D makes it V1000: the array must keep 8-byte items
    dtype_d = b"cnumpy\ndtype\n(VV8\nI00\nI01\ntRp0\n(I3\nV|\nNNNI8\nI1\nI0\ntb"
    array = (b"cnumpy.core.multiarray\n_reconstruct\n(cnumpy\nndarray\n(I0\ntVb\ntR(I1\n(I2\ntg0\nI00\nC\x10"
             + bytes(range(16)) + b"tbp1\n")
    path = tmp_path / "mutate.pkl"
    path.write_bytes(dtype_d + b"0" + array + b"0g0\n(I3\nV|\nNNNI1000\nI1\nI0\ntb0g1\n.")
    arr = read_legacy_pickle(path)
    assert arr.dtype.itemsize == 8 and arr.shape == (2,) and arr.tobytes() == bytes(range(16))


@pytest.mark.parametrize("kind,message", [
    ("empty", "not a readable snapshot pickle: the file is empty"),
    ("truncated", "not a readable snapshot pickle: the file is truncated"),
    ("garbage", "not a readable snapshot pickle ("),
    ("text", "not a readable snapshot pickle ("),
    ("list", "not a network snapshot (top level is a list"),
    ("no_modules", "not a network snapshot (no G, D or G_ema; it has augment_pipe, training_set_kwargs)"),
    ("not_module", "G is not a saved module (a dict)"),
    ("missing", "no such file"),
    ("directory", "cannot read the file"),
])
def test_malformed_files_give_one_line_errors(tmp_path, kind, message):
    data, _, _ = sample_snapshot(tmp_path / "s")
    path = tmp_path / ("bad.pkl" if kind != "directory" else "dir.pkl")
    content = {"empty": b"", "truncated": data[: len(data) // 2], "text": b"hello, world\n",
               "garbage": bytes(random.Random(0).randrange(256) for _ in range(300)),
               "list": dumps([1, 2, 3]), "no_modules": dumps({"augment_pipe": None, "training_set_kwargs": {}}),
               "not_module": dumps({"G": {"weights": 1}}), "missing": None, "directory": None}[kind]
    if content is not None:
        path.write_bytes(content)
    if kind == "directory":
        path.mkdir()
    with pytest.raises(LegacyPickleError, match=re.escape(message) if "(" in message else message) as info:
        load_snapshot(path)
    assert "\n" not in str(info.value) and str(info.value).startswith(str(path))
    assert isinstance(info.value, ValueError)


def test_module_tree_errors(tmp_path):
    with pytest.raises(LegacyPickleError, match="not a module record"):
        module_state_dict({"_parameters": {}})
    loop = by_path(OSGDecoder, module_dict())
    loop._modules["self"] = loop  # only import-path objects can hold themselves (memoized before BUILD)
    path = tmp_path / "loop.pkl"
    path.write_bytes(dumps({"G": loop}))
    with pytest.raises(LegacyPickleError, match="cyclic"):
        module_state_dict(load_snapshot(path)["G"])
    odd = Persistent("Odd", module_dict({"weight": Reduces(OSGDecoder, ())}), "")
    path.write_bytes(dumps({"G": odd}))
    with pytest.raises(LegacyPickleError, match="weight is a OSGDecoder, not a tensor"):
        module_state_dict(load_snapshot(path)["G"])
