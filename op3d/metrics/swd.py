"""Sliced Wasserstein distance on Laplacian pyramids (Karras et al., ProGAN): weight-free image statistics."""
from __future__ import annotations

import torch
import torch.nn.functional as F

_GAUSS = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16


def _blur(x: torch.Tensor) -> torch.Tensor:
    k = _GAUSS.to(x)
    C = x.shape[1]
    x = F.conv2d(F.pad(x, [2, 2, 0, 0], mode="reflect"), k.view(1, 1, 1, 5).repeat(C, 1, 1, 1), groups=C)
    return F.conv2d(F.pad(x, [0, 0, 2, 2], mode="reflect"), k.view(1, 1, 5, 1).repeat(C, 1, 1, 1), groups=C)


def laplacian_pyramid(images: torch.Tensor, levels: int) -> list[torch.Tensor]:
    """[N, C, H, W] -> band-pass levels (finest first) and the low-pass residual last."""
    out = []
    cur = images
    for _ in range(levels - 1):
        down = _blur(cur)[..., ::2, ::2]
        up = F.interpolate(down, size=cur.shape[-2:], mode="bilinear", align_corners=False)
        out.append(cur - up)
        cur = down
    out.append(cur)
    return out


def _descriptors(level: torch.Tensor, per_image: int, patch: int, generator: torch.Generator) -> torch.Tensor:
    """per_image random patch x patch neighbourhoods of each image of a pyramid level [N, C, H, W], unnormalized:
    [N * per_image, patch * patch, C]."""
    N, C, H, W = level.shape
    ys = torch.randint(0, H - patch + 1, (N, per_image), generator=generator)
    xs = torch.randint(0, W - patch + 1, (N, per_image), generator=generator)
    d = torch.arange(patch)
    rows = (ys[..., None] + d).unsqueeze(-1)  # [N, n, p, 1]
    cols = (xs[..., None] + d).unsqueeze(-2)  # [N, n, 1, p]
    idx = torch.arange(N).view(N, 1, 1, 1)
    return level.permute(0, 2, 3, 1)[idx, rows, cols].reshape(-1, patch * patch, C)


class SWDAccumulator:
    """Streams image batches into per-level patch descriptors (memory: descriptors, not images), then compares
    two accumulators: swd = SWDAccumulator(...); swd.add(batch) ...; real.distance(fake)."""

    def __init__(self, levels: int = 4, per_image: int = 128, patch: int = 7, seed: int = 0):
        self.levels, self.per_image, self.patch = levels, per_image, patch
        self.generator = torch.Generator().manual_seed(seed)
        self.descriptors: list[list[torch.Tensor]] = [[] for _ in range(levels)]

    def add(self, images: torch.Tensor) -> None:
        """images [N, C, H, W] in [-1, 1]."""
        for store, level in zip(self.descriptors, laplacian_pyramid(images.double(), self.levels)):
            store.append(_descriptors(level, self.per_image, min(self.patch, level.shape[-1]), self.generator)
                         .float())

    def level(self, i: int) -> torch.Tensor:
        """Level i's descriptors, normalized per channel over all of them (as ProGAN): [M, patch * patch * C]."""
        patches = torch.cat(self.descriptors[i]).double()
        patches = (patches - patches.mean((0, 1))) / patches.std((0, 1)).clamp_min(1e-8)
        return patches.reshape(patches.shape[0], -1)

    def distance(self, other: SWDAccumulator, num_projections: int = 512, seed: int = 0) -> list[float]:
        """SWD per pyramid level (finest first) x 1e3, as in ProGAN."""
        g = torch.Generator().manual_seed(seed)
        return [sliced_wasserstein(self.level(i), other.level(i), num_projections, g) * 1e3
                for i in range(self.levels)]


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, num_projections: int, generator: torch.Generator) -> float:
    """Mean over random unit directions of the 1-D Wasserstein-1 distance between projected point sets
    (equal sizes): the average absolute difference of sorted projections."""
    if a.shape != b.shape:
        raise ValueError("sliced Wasserstein needs equally many descriptors on both sides")
    dirs = torch.randn(a.shape[1], num_projections, generator=generator, dtype=a.dtype)
    dirs = dirs / dirs.norm(dim=0, keepdim=True)
    pa, _ = torch.sort(a @ dirs, dim=0)
    pb, _ = torch.sort(b @ dirs, dim=0)
    return float((pa - pb).abs().mean())


def swd(real: torch.Tensor, fake: torch.Tensor, levels: int = 4, per_image: int = 128, patch: int = 7,
        num_projections: int = 512, seed: int = 0) -> list[float]:
    """SWD per pyramid level (finest first) between two image sets [N, C, H, W] in [-1, 1]; x 1e3 as in ProGAN."""
    if real.shape[1:] != fake.shape[1:] or real.shape[0] != fake.shape[0]:
        raise ValueError(f"real and fake batches must match, got {tuple(real.shape)} and {tuple(fake.shape)}")
    a, b = SWDAccumulator(levels, per_image, patch, seed), SWDAccumulator(levels, per_image, patch, seed + 1)
    a.add(real)
    b.add(fake)
    return a.distance(b, num_projections, seed)
