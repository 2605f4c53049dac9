"""Inception Score (Salimans et al. 2016) from class probabilities, as StyleGAN's is50k computes it."""
from __future__ import annotations

import numpy as np


def inception_score(probs: np.ndarray, splits: int = 10) -> tuple[float, float]:
    """probs [N, classes] (rows sum to 1) -> mean and standard deviation over `splits` consecutive parts of
    exp(mean_i KL(p(y | x_i) || p(y))), p(y) the part's mean; float64 (StyleGAN2-ADA's metrics/inception_score)."""
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] < splits:
        raise ValueError(f"need at least {splits} probability vectors [N, classes], got shape {p.shape}")
    scores = []
    for i in range(splits):
        part = p[i * len(p) // splits:(i + 1) * len(p) // splits]
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 log 0 = 0
            kl = np.where(part > 0, part * (np.log(part) - np.log(part.mean(0, keepdims=True))), 0.0)
        scores.append(np.exp(kl.sum(1).mean()))
    return float(np.mean(scores)), float(np.std(scores))
