"""The built-in synthetic dataset: deterministic, depth consistent with the geometry, loadable."""
import hashlib
import io
import zipfile

import numpy as np
import torch

from op3d.data.dataset import ImageDataset
from op3d.data.synthetic import camera_labels, head_sdf, make_synthetic_dataset, random_heads, render_heads
from op3d.rendering.rays import rays_from_cameras


def test_deterministic_and_batch_independent(tmp_path):
    a = make_synthetic_dataset(tmp_path / "a.zip", 6, 16, seed=3, batch=6, progress=False)
    b = make_synthetic_dataset(tmp_path / "b.zip", 6, 16, seed=3, batch=4, progress=False)
    c = make_synthetic_dataset(tmp_path / "c.zip", 6, 16, seed=4, batch=6, progress=False)
    digest = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()
    assert digest(a) == digest(b) != digest(c)
    ds = ImageDataset(a)
    assert len(ds) == 6 and ds.resolution == 16
    torch.testing.assert_close(torch.from_numpy(ds.labels), camera_labels([(3, i) for i in range(6)]))


def test_depth_lies_on_the_surface_and_background_is_white():
    seeds = [(0, i) for i in range(3)]
    heads, labels = random_heads(seeds), camera_labels(seeds)
    images, depth = render_heads(heads, labels, 32)
    origins, dirs = rays_from_cameras(labels, 32)
    d = depth.reshape(3, -1)
    hit = torch.isfinite(d)
    assert 0.2 < hit.float().mean() < 0.9  # the head fills a good part of the frame
    points = origins + torch.where(hit, d, 0).unsqueeze(-1) * dirs
    sdf, _ = head_sdf(points, heads)
    assert sdf[hit].abs().max() < 2e-3
    # background rays never enter any object: sample them densely over the whole depth range
    march = torch.linspace(2.0, 3.4, 200).view(1, 1, -1, 1)
    samples = (origins.unsqueeze(2) + march * dirs.unsqueeze(2)).reshape(3, -1, 3)  # [B, R*200, 3]
    sdf_all, _ = head_sdf(samples, heads)
    background = (~hit).unsqueeze(-1).expand(3, hit.shape[1], 200).reshape(3, -1)
    assert sdf_all[background].min() > -1e-3
    assert (images.reshape(3, -1, 3)[~hit] == 255).all()
    assert (images.reshape(3, -1, 3)[hit] < 255).any(dim=-1).all()


def test_depth_maps_are_stored(tmp_path):
    path = make_synthetic_dataset(tmp_path / "d.zip", 2, 16, seed=0, progress=False)
    with zipfile.ZipFile(path) as z:
        depth = np.load(io.BytesIO(z.read("depth/img00000001.npy")))
    _, ref = render_heads(random_heads([(0, 1)]), camera_labels([(0, 1)]), 16)
    np.testing.assert_array_equal(depth, ref[0].numpy())
