"""The Inception detector file and the FID/KID pipeline (real-feature cache, protocol plumbing)."""
import numpy as np
import pytest
import torch

from helpers import tiny_generator
from op3d.data.synthetic import make_synthetic_dataset
from op3d.data.dataset import ImageDataset
from op3d.metrics.frechet import feature_stats, frechet_distance
from op3d.metrics.inception import InceptionFeatures, load_detector
from op3d.metrics import run as metric_run


def test_detector_file_round_trip(tmp_path):
    torch.manual_seed(0)
    net = InceptionFeatures().eval()
    state = dict(net.state_dict(), **{"fc.weight": torch.zeros(1008, 2048), "fc.bias": torch.zeros(1008)})
    path = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    torch.save(state, path)
    loaded = load_detector(path)
    images = torch.randint(0, 256, (2, 3, 32, 32), dtype=torch.uint8)
    with torch.no_grad():
        a, b = net(images), loaded(images)
    assert a.shape == (2, 2048) and torch.equal(a, b)
    # frozen for inference: no parameter records gradients (features outside no_grad keep no graph)
    assert not loaded.training and not any(p.requires_grad for p in loaded.parameters())
    # 21.8M parameters: torchvision's Inception-v3 without the auxiliary head and classifier
    assert sum(p.numel() for p in loaded.parameters()) == 21_785_568


class NvidiaStyleDetector(torch.nn.Module):
    """A stand-in with the calling convention of NVIDIA's TorchScript detector: (uint8 images, return_features)."""

    def __init__(self, features: torch.nn.Module):
        super().__init__()
        self.layers = features
        self.output = torch.nn.Linear(2048, 1008)

    def forward(self, img: torch.Tensor, return_features: bool = False) -> torch.Tensor:
        features = self.layers(img)
        if return_features:
            return features
        return self.output(features)


def test_torchscript_and_state_dict_detectors_give_identical_features(tmp_path):
    torch.manual_seed(1)
    net = InceptionFeatures().eval()
    torch.save(net.state_dict(), tmp_path / "weights.pth")
    images = torch.randint(0, 256, (2, 3, 40, 40), dtype=torch.uint8)
    traced = torch.jit.trace(net, images, check_trace=False)  # compared with the state-dict network below
    torch.jit.save(torch.jit.script(NvidiaStyleDetector(traced)), str(tmp_path / "inception-2015-12-05.pt"))
    from_pth, from_pt = load_detector(tmp_path / "weights.pth"), load_detector(tmp_path / "inception-2015-12-05.pt")
    other = torch.randint(0, 256, (3, 3, 64, 64), dtype=torch.uint8)  # not the tracing input
    with torch.no_grad():
        torch.testing.assert_close(from_pt(other), from_pth(other), rtol=0, atol=1e-5)
    assert not any(p.requires_grad for p in from_pt.parameters())
    (tmp_path / "broken.pt").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable TorchScript"):
        load_detector(tmp_path / "broken.pt")


def test_detector_errors(tmp_path, monkeypatch):
    monkeypatch.delenv("OP3D_INCEPTION", raising=False)
    with pytest.raises(FileNotFoundError, match="pt_inception-2015-12-05"):
        load_detector(None)
    with pytest.raises(FileNotFoundError, match="not found"):
        load_detector(tmp_path / "missing.pth")
    pkl = tmp_path / "inception-2015-12-05.pkl"
    pkl.write_bytes(b"x")
    with pytest.raises(ValueError, match="pkl is not supported"):
        load_detector(pkl)
    wrong = tmp_path / "wrong.pth"
    torch.save({"conv.weight": torch.zeros(1)}, wrong)
    with pytest.raises(ValueError, match="missing tensors"):
        load_detector(wrong)


class TinyDetector(torch.nn.Module):
    """Stands in for Inception in pipeline tests (counts the images it sees)."""

    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(3 * 4 * 4, 8)
        self.seen = 0

    def forward(self, images):
        self.seen += images.shape[0]
        x = torch.nn.functional.adaptive_avg_pool2d(images.float() / 255, 4).flatten(1)
        return self.proj(x)


def test_fid_pipeline_caches_real_features(tmp_path):
    data = ImageDataset(make_synthetic_dataset(tmp_path / "d.zip", 12, 64, seed=0, progress=False))
    G = tiny_generator()
    det = TinyDetector()
    r1 = metric_run.compute_metric("fid50k_full", G, data, num=6, detector=det, cache_dir=tmp_path / "cache")
    assert det.seen == 12 + 6 and np.isfinite(r1["results"]["fid"]) and r1["num_real"] == 12
    r2 = metric_run.compute_metric("fid50k_full", G, data, num=6, detector=det, cache_dir=tmp_path / "cache")
    assert det.seen == 12 + 6 + 6  # the reals came from the cache
    assert r2["results"]["fid"] == pytest.approx(r1["results"]["fid"])
    # the reals against themselves: FID 0
    real = metric_run.real_features(data, det, "x", "cpu", tmp_path / "cache2")
    assert frechet_distance(*feature_stats(real), *feature_stats(real)) == pytest.approx(0, abs=1e-6)
    kid = metric_run.compute_metric("kid50k_full", G, data, num=6, detector=det, cache_dir=tmp_path / "cache")
    assert np.isfinite(kid["results"]["kid"])


def test_detector_paths_metric_names_default_counts_and_result_lines(tmp_path, monkeypatch):
    """An explicit detector path wins over OP3D_INCEPTION / OP3D_VGG16, which stand in when no path is given;
    a metric needing a detector is refused only when neither names one. Without --num: 50,000 fakes for the
    detector metrics (the original protocols), 1,000 for swd and reproj. Each finished result is one JSON line."""
    import json

    from op3d.metrics.inception import ENV_VAR, detector_file
    from op3d.metrics.vgg import ENV_VAR as VGG_ENV_VAR

    given, from_env = tmp_path / "given.pth", tmp_path / "env.pth"
    given.write_bytes(b"x")
    from_env.write_bytes(b"x")
    for var in (ENV_VAR, VGG_ENV_VAR):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(ValueError, match="needs the Inception detector"):
        metric_run.check_metric_names(["swd", "fid50k_full_random_cameras"])
    metric_run.check_metric_names(["swd", "reproj", "fid50k_full", "is50k"], detector=given)
    monkeypatch.setenv(ENV_VAR, str(from_env))
    monkeypatch.setenv(VGG_ENV_VAR, str(from_env))
    metric_run.check_metric_names(list(metric_run.METRICS))
    assert detector_file(given, ENV_VAR, "", "--detector", "", "") == given
    assert detector_file(None, ENV_VAR, "", "--detector", "", "") == from_env
    assert {name: metric_run.default_num(name) for name in metric_run.METRICS} == {
        **{name: 50000 for name in metric_run.INCEPTION + metric_run.VGG}, "swd": 1000, "reproj": 1000}
    for value in (1.5, 2.5):
        path = metric_run.append_result(tmp_path, {"metric": "swd", "results": {"swd": value}})
    lines = path.read_text().splitlines()
    assert path.name == "metric-swd.jsonl" and [json.loads(line)["results"]["swd"] for line in lines] == [1.5, 2.5]


def test_metrics_cli_takes_the_vgg_file_for_precision_recall_and_evaluates_g_ema(tmp_path, capsys, monkeypatch):
    """op3d metrics --metrics pr50k3_full --vgg FILE runs with no environment variable set (the early check sees
    --vgg), and the network evaluated is the snapshot's G_ema (the directory itself), as EG3D's calc_metrics
    evaluates G_ema; a stand-in compute_metric records what it was given."""
    from helpers import run_cli, tiny_generator_kwargs

    from op3d.io.checkpoint import save_pretrained
    from op3d.metrics.inception import ENV_VAR
    from op3d.metrics.vgg import ENV_VAR as VGG_ENV_VAR

    for var in (ENV_VAR, VGG_ENV_VAR):
        monkeypatch.delenv(var, raising=False)
    snap = tmp_path / "network-snapshot-000004"
    G_ema, G = tiny_generator(), tiny_generator()
    with torch.no_grad():
        for p in G.parameters():
            p.add_(1.0)
    save_pretrained(G_ema, snap, tiny_generator_kwargs())
    save_pretrained(G, snap / "G", tiny_generator_kwargs())
    vgg = tmp_path / "vgg16.pt"
    vgg.write_bytes(b"x")
    data = make_synthetic_dataset(tmp_path / "d.zip", 2, G.img_resolution, seed=0, progress=False)
    seen = []
    monkeypatch.setattr(metric_run, "compute_metric", lambda name, G, dataset, num, seed, dev, detector, cache,
                        vgg, **k: seen.append((name, G, vgg, seed)) or {"metric": name, "results": {},
                                                                       "total_time": 0.0})
    code, _, err = run_cli(["metrics", "--network", str(snap), "--metrics", "pr50k3_full", "--vgg", str(vgg),
                            "--data", str(data)], capsys)
    assert code == 0, err
    ((name, evaluated, given, seed),) = seen
    assert (name, given, seed) == ("pr50k3_full", str(vgg), 0)  # seed: calc_metrics' default 0
    assert all(torch.equal(evaluated.state_dict()[k], v) for k, v in G_ema.state_dict().items())
