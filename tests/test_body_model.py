"""SMPL-layout body model: LBS equals smplx on the same arrays; SMPL-style pickles (chumpy, scipy sparse)
and .npz load without importing chumpy or scipy from the file."""
import pickle

import numpy as np
import pytest
import torch

from legacy_pickles import fake_modules, FAKE
from op3d.conditioning.body_model import axis_angle_to_matrix, lbs, load_body_model, procedural_body


def smplx_arrays(model):
    V = model.v_template.shape[0]
    P = model.posedirs.shape[0]
    return dict(v_template=model.v_template.double().numpy(), f=model.faces.numpy(),
                shapedirs=model.shapedirs.double().numpy(),
                posedirs=model.posedirs.double().numpy().T.reshape(V, 3, P),
                J_regressor=model.J_regressor.double().numpy(), weights=model.weights.double().numpy(),
                kintree_table=np.stack([model.parents.numpy(), np.arange(len(model.parents))]))


def test_lbs_equals_smplx():
    smplx = pytest.importorskip("smplx")
    from smplx.utils import Struct

    # smplx stores its buffers through float32 numpy arrays: use float32-representable values in float64
    model = procedural_body(num_betas=4, seed=1, dtype=torch.float32).to(torch.float64)
    ref = smplx.SMPL(model_path=None, data_struct=Struct(**smplx_arrays(model)), num_betas=4, dtype=torch.float64,
                     vertex_ids=dict(nose=0, reye=1, leye=2, rear=3, lear=4), use_hands=False,
                     use_feet_keypoints=False)
    g = torch.Generator().manual_seed(0)
    betas = torch.randn(3, 4, generator=g, dtype=torch.float64)
    pose = torch.randn(3, 24, 3, generator=g, dtype=torch.float64) * 0.4
    transl = torch.randn(3, 3, generator=g, dtype=torch.float64)
    out = ref(betas=betas, global_orient=pose[:, 0], body_pose=pose[:, 1:].reshape(3, -1), transl=transl)
    ours = lbs(model, betas, pose, transl)
    torch.testing.assert_close(ours["vertices"], out.vertices, rtol=0, atol=1e-10)
    torch.testing.assert_close(ours["joints"], out.joints[:, :24], rtol=0, atol=1e-10)


def test_rodrigues_against_closed_form():
    R = axis_angle_to_matrix(torch.tensor([[0.0, 0.0, np.pi / 2]], dtype=torch.float64))
    torch.testing.assert_close(R[0], torch.tensor([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]], dtype=torch.float64),
                               atol=1e-7, rtol=0)


class Ch:  # pickled under chumpy.ch.Ch, as real SMPL files hold their arrays
    def __init__(self, x):
        self.x = x


class csc_matrix:  # pickled under scipy.sparse._csc.csc_matrix
    def __init__(self, dense):
        cols = [np.nonzero(dense[:, j])[0] for j in range(dense.shape[1])]
        self.indices = np.concatenate(cols).astype(np.int32)
        self.data = np.concatenate([dense[c, j] for j, c in enumerate(cols)])
        self.indptr = np.concatenate([[0], np.cumsum([len(c) for c in cols])]).astype(np.int32)
        self._shape = dense.shape


def test_chumpy_pickle_and_npz_load(tmp_path):
    model = procedural_body(num_betas=3, seed=2, dtype=torch.float64)
    arrays = smplx_arrays(model)
    FAKE["chumpy.ch"] = {"Ch": Ch}
    FAKE["scipy.sparse._csc"] = {"csc_matrix": csc_matrix}
    try:
        data = dict(arrays, shapedirs=Ch(arrays["shapedirs"]), posedirs=Ch(arrays["posedirs"]),
                    J_regressor=csc_matrix(arrays["J_regressor"]), weights=Ch(arrays["weights"]))
        with fake_modules():
            blob = pickle.dumps(data, protocol=2)
    finally:
        del FAKE["chumpy.ch"], FAKE["scipy.sparse._csc"]
    (tmp_path / "SMPL_FAKE.pkl").write_bytes(blob)
    np.savez(tmp_path / "smpl.npz", **arrays)
    for name in ("SMPL_FAKE.pkl", "smpl.npz"):
        loaded = load_body_model(tmp_path / name, dtype=torch.float64)
        for key in ("v_template", "shapedirs", "posedirs", "J_regressor", "weights"):
            torch.testing.assert_close(getattr(loaded, key), getattr(model, key), rtol=0, atol=0)
        assert torch.equal(loaded.parents, model.parents) and torch.equal(loaded.faces, model.faces)


def test_missing_body_model_file_names_the_source(tmp_path):
    with pytest.raises(FileNotFoundError, match="smpl.is.tue.mpg.de"):
        load_body_model(tmp_path / "SMPL_NEUTRAL.pkl")


def test_procedural_body_is_one_closed_surface_around_its_skeleton():
    from op3d.conditioning.body_model import _JOINTS, _body_field
    from op3d.conditioning.mesh_sdf import is_closed_manifold, mesh_sdf

    model = procedural_body(num_betas=10, dtype=torch.float64)
    v, f = model.v_template, model.faces
    assert is_closed_manifold(f)
    assert len(v) - len(f) * 3 // 2 + len(f) == 2  # Euler characteristic of a sphere: one genus-0 surface
    tri = v[f]
    volume = (tri[:, 0] * torch.linalg.cross(tri[:, 1], tri[:, 2], dim=-1)).sum() / 6
    assert 0.03 < volume < 0.12  # outward winding; a plausible human volume in m^3
    # the mesh SDF agrees in sign with the implicit body it was extracted from, away from the surface
    g = torch.Generator().manual_seed(0)
    p = (torch.rand(4000, 3, generator=g, dtype=torch.float64) * 2 - 1) * torch.tensor([1.0, 1.1, 0.35],
                                                                                         dtype=torch.float64)
    field = torch.from_numpy(_body_field(p.numpy()))
    sdf = mesh_sdf(p[None], v[None], f)[0]
    clear = field.abs() > 0.02
    assert clear.sum() > 3000 and torch.equal(sdf[clear] < 0, field[clear] < 0)
    assert (mesh_sdf(torch.from_numpy(_JOINTS)[None], v[None], f) < 0).all()  # every joint is inside
    # rows of skinning weights and the joint regressor are convex combinations
    torch.testing.assert_close(model.weights.sum(1), torch.ones(len(v), dtype=torch.float64))
    torch.testing.assert_close(model.J_regressor.sum(1), torch.ones(24, dtype=torch.float64))
    assert (model.weights >= 0).all()


def test_a_body_model_with_an_open_mesh_is_refused_at_load(tmp_path):
    model = procedural_body(num_betas=3, seed=2, dtype=torch.float64)
    arrays = smplx_arrays(model)
    np.savez(tmp_path / "holey.npz", **dict(arrays, f=arrays["f"][1:]))
    with pytest.raises(ValueError, match=r"holey.npz: template mesh: the mesh is not closed \(3 open"):
        load_body_model(tmp_path / "holey.npz")


def test_body_model_layout_is_validated_at_load_naming_file_and_field(tmp_path, capsys):
    from helpers import run_cli

    model = procedural_body(num_betas=3, seed=2, dtype=torch.float64)
    good = smplx_arrays(model)
    V = good["v_template"].shape[0]
    cases = {
        "smplh": (dict(good, kintree_table=np.stack([np.arange(-1, 51), np.arange(52)])), "has 52 joints"),
        "weights": (dict(good, weights=good["weights"][:, :23]), "weights must be \\[%d, 24\\]" % V),
        "posedirs": (dict(good, posedirs=good["posedirs"][..., :100]), "posedirs must be"),
        "faces": (dict(good, f=np.where(good["f"] == 0, V + 5, good["f"])), "faces index vertices"),
        "empty_mesh": (dict(good, v_template=np.zeros((0, 3))), "v_template must be \\[V, 3\\] with V > 0"),
        "nan": (dict(good, shapedirs=good["shapedirs"] * np.nan), "shapedirs contains NaN"),
        "parents": (dict(good, kintree_table=good["kintree_table"][:, ::-1].copy()), "parent must come before"),
    }
    for name, (arrays, message) in cases.items():
        np.savez(tmp_path / f"{name}.npz", **arrays)
        with pytest.raises(ValueError, match=f"{name}.npz: .*{message}"):
            load_body_model(tmp_path / f"{name}.npz")
    FAKE["scipy.sparse._csc"] = {"csc_matrix": csc_matrix}
    try:
        sparse = csc_matrix(good["J_regressor"])
        sparse.indices = sparse.indices + 10 ** 6  # row indices far out of range
        with fake_modules():
            blob = pickle.dumps(dict(good, J_regressor=sparse), protocol=2)
    finally:
        del FAKE["scipy.sparse._csc"]
    (tmp_path / "sparse.pkl").write_bytes(blob)
    with pytest.raises(ValueError, match="sparse.pkl: J_regressor is not a numeric array"):
        load_body_model(tmp_path / "sparse.pkl")
    (tmp_path / "empty.npz").write_bytes(b"")  # np.load raised EOFError, which click turned into "Aborted."
    with pytest.raises(ValueError, match="empty.npz: not a readable body model file"):
        load_body_model(tmp_path / "empty.npz")
    code, _, err = run_cli(["train", "--outdir", str(tmp_path / "r"), "--conditional", "--body-model",
                            str(tmp_path / "empty.npz"), "--kimg", "0.001"], capsys)
    assert code == 1 and "empty.npz: not a readable body model file" in err and err.count("\n") == 1
