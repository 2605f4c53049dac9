"""Improved precision and recall (Kynkaanniemi et al. 2019), as StyleGAN's pr50k3_full computes them."""
from __future__ import annotations

import numpy as np
import torch


def _manifold_radii(features: torch.Tensor, k: int, batch: int) -> torch.Tensor:
    """Distance of each feature vector to its k-th nearest neighbour in the same set (itself excluded)."""
    radii = []
    for rows in features.split(batch):
        radii.append(torch.cdist(rows, features, compute_mode="donot_use_mm_for_euclid_dist")
                     .kthvalue(k + 1, dim=1).values)
    return torch.cat(radii)


def _coverage(manifold: torch.Tensor, radii: torch.Tensor, probes: torch.Tensor, batch: int) -> float:
    """Fraction of probes within some manifold point's radius."""
    inside = []
    for rows in probes.split(batch):
        dist = torch.cdist(rows, manifold, compute_mode="donot_use_mm_for_euclid_dist")
        inside.append((dist <= radii[None]).any(1))
    return float(torch.cat(inside).double().mean())


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3, batch: int = 1024) -> tuple[float, float]:
    """real [N, D], fake [M, D] features -> (precision, recall): precision is the fraction of fakes inside the
    reals' k-NN manifold (each real point with the radius to its k-th nearest real), recall the fraction of reals
    inside the fakes' manifold. Distances are exact (no matrix-product shortcut), in float64, `batch` rows at a
    time (memory: batch x set size)."""
    r = torch.as_tensor(np.asarray(real), dtype=torch.float64)
    f = torch.as_tensor(np.asarray(fake), dtype=torch.float64)
    if r.ndim != 2 or f.ndim != 2 or r.shape[1] != f.shape[1] or min(len(r), len(f)) <= k:
        raise ValueError(f"need [N, D] and [M, D] features with N, M > k = {k}, got {tuple(r.shape)}, "
                         f"{tuple(f.shape)}")
    precision = _coverage(r, _manifold_radii(r, k, batch), f, batch)
    recall = _coverage(f, _manifold_radii(f, k, batch), r, batch)
    return precision, recall
