"""Which path each op takes: reference_ops(), op_paths() and the per-device defaults."""
import pytest
import torch

import op3d.ops.dispatch as dispatch
import op3d.ops.upfirdn2d as upfirdn
from op3d.ops.dispatch import OPS, fast_path, op_paths, parse_op_paths, reference_ops
from op3d.planes.sampling import _choose


def test_every_op_is_fast_on_the_cpu_by_default_and_reference_inside_reference_ops():
    assert all(fast_path(op, "cpu") for op in OPS)
    with reference_ops():
        assert not any(fast_path(op, "cpu") for op in OPS)
        with op_paths(upsample2x="fast"):  # reference_ops() wins
            assert not fast_path("upsample2x", "cpu")


def test_op_paths_switch_only_the_named_ops_and_restore_on_exit():
    with op_paths(plane_sampling="reference", upsample2x="reference"):
        assert [fast_path(op, "cpu") for op in OPS] == [op not in ("plane_sampling", "upsample2x") for op in OPS]
        with op_paths(upsample2x="fast"):  # nested: merges with the outer choice
            assert fast_path("upsample2x", "cpu") and not fast_path("plane_sampling", "cpu")
        assert not fast_path("upsample2x", "cpu")
    assert all(fast_path(op, "cpu") for op in OPS)


def test_device_defaults_apply_to_their_device_type_only(monkeypatch):
    monkeypatch.setattr(dispatch, "DEVICE_PATHS", {"cuda": {"plane_sampling": "reference"}})
    assert not fast_path("plane_sampling", torch.device("cuda", 0)) and fast_path("plane_sampling", "cpu")
    assert fast_path("upsample2x", "cuda")
    with op_paths(plane_sampling="fast"):  # an explicit choice beats the device default
        assert fast_path("plane_sampling", "cuda")


def test_call_sites_follow_the_choice(monkeypatch):
    points = torch.rand(1, 4, 3)
    assert _choose("auto", points) == "gather"
    with op_paths(plane_sampling="reference"):
        assert _choose("auto", points) == "grid_sample"
        # points that need second derivatives keep the twice-differentiable gather sampler
        assert _choose("auto", points.requires_grad_()) == "gather"
    calls = []
    monkeypatch.setattr(upfirdn._Upsample2x, "apply", lambda *a: calls.append(a) or a[0].repeat_interleave(2, -1)
                        .repeat_interleave(2, -2))
    x, f = torch.rand(1, 2, 4, 4), upfirdn.setup_filter([1, 3, 3, 1])
    upfirdn.upsample2d(x, f)
    with op_paths(upsample2x="reference"):
        y = upfirdn.upsample2d(x, f)
    assert len(calls) == 1  # only the first call took the (stubbed) fast path
    # the reference: zero-padded 2x upsampling with [1, 3, 3, 1] / 4 per axis, y = U x U^T
    n = 4
    U = torch.zeros(2 * n, n)
    for i in range(n):
        U[2 * i, i], U[2 * i + 1, i] = 0.75, 0.75
        if i > 0:
            U[2 * i, i - 1] = 0.25
        if i < n - 1:
            U[2 * i + 1, i + 1] = 0.25
    torch.testing.assert_close(y, U @ x @ U.T)


def test_bad_names_and_paths_are_one_line_errors():
    with pytest.raises(ValueError, match="unknown op 'planes'"):
        fast_path("planes", "cpu")
    with pytest.raises(ValueError, match="path must be one of"):
        with op_paths(upsample2x="slow"):
            pass
    assert parse_op_paths(" plane_sampling=reference, upsample2x=fast ") == {"plane_sampling": "reference",
                                                                          "upsample2x": "fast"}
    assert parse_op_paths("") == {}
    with pytest.raises(ValueError, match="expected op=path"):
        parse_op_paths("plane_sampling")
