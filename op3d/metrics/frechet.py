"""Frechet distance (FID) and kernel inception distance (KID) from detector features, in float64."""
from __future__ import annotations

import numpy as np
import torch


def feature_stats(features: np.ndarray | torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """[N, D] -> mean [D] and covariance [D, D] (unbiased, as numpy.cov), float64."""
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"need at least two feature vectors [N, D], got shape {x.shape}")
    return x.mean(0), np.cov(x, rowvar=False)


def _sqrt_psd(a: torch.Tensor) -> torch.Tensor:
    w, v = torch.linalg.eigh((a + a.T) / 2)
    return (v * w.clamp_min(0).sqrt()) @ v.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """|mu1 - mu2|^2 + Tr(S1 + S2 - 2 sqrt(S1 S2)).

    Tr sqrt(S1 S2) = Tr sqrt(sqrt(S1) S2 sqrt(S1)), a symmetric PSD matrix, so two float64 eigen-
    decompositions replace the general (and occasionally complex-valued) matrix square root.
    """
    m1, m2 = torch.as_tensor(mu1, dtype=torch.float64), torch.as_tensor(mu2, dtype=torch.float64)
    s1, s2 = torch.as_tensor(sigma1, dtype=torch.float64), torch.as_tensor(sigma2, dtype=torch.float64)
    if m1.shape != m2.shape or s1.shape != s2.shape or s1.shape != (m1.shape[0], m1.shape[0]):
        raise ValueError("mismatched statistics: means [D] and covariances [D, D] must agree")
    r1 = _sqrt_psd(s1)
    middle = r1 @ s2 @ r1
    tr_sqrt = torch.linalg.eigvalsh((middle + middle.T) / 2).clamp_min(0).sqrt().sum()
    return float((m1 - m2).square().sum() + torch.trace(s1) + torch.trace(s2) - 2 * tr_sqrt)


def kernel_inception_distance(real: np.ndarray, fake: np.ndarray, num_subsets: int = 100, max_subset_size: int = 1000,
                              seed: int = 0) -> float:
    """Unbiased MMD^2 with the cubic polynomial kernel k(x, y) = (x.y / D + 1)^3, averaged over random
    subsets (StyleGAN's KID: 100 subsets of up to 1000)."""
    real = np.asarray(real, dtype=np.float64)
    fake = np.asarray(fake, dtype=np.float64)
    n = real.shape[1]
    m = min(min(real.shape[0], fake.shape[0]), max_subset_size)
    if m < 2:
        raise ValueError("KID needs at least two real and two generated feature vectors")
    rng = np.random.default_rng(seed)
    t = 0.0
    for _ in range(num_subsets):
        x = fake[rng.choice(fake.shape[0], m, replace=False)]
        y = real[rng.choice(real.shape[0], m, replace=False)]
        a = (x @ x.T / n + 1) ** 3 + (y @ y.T / n + 1) ** 3
        b = (x @ y.T / n + 1) ** 3
        t += (a.sum() - np.diag(a).sum()) / (m - 1) - b.sum() * 2 / m
    return float(t / num_subsets / m)
