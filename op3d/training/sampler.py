"""A resumable, rank-aware stream of dataset indices."""
from __future__ import annotations

import torch
from torch.utils.data import Sampler


class InfiniteSampler(Sampler[int]):
    """Endless reshuffled passes over range(n); global batch b of size B holds stream positions
    [b*B, (b+1)*B) and rank r reads its slice [r*B/W, (r+1)*B/W). The pass e is randperm(n) seeded by
    (seed, e), so a run resumed at position `start` reads exactly what an uninterrupted one would."""

    def __init__(self, n: int, batch_size: int, seed: int = 0, rank: int = 0, world_size: int = 1, start: int = 0,
                 shuffle: bool = True):
        if n <= 0:
            raise ValueError("the dataset is empty")
        if batch_size % world_size:
            raise ValueError(f"--batch ({batch_size}) must be a multiple of the number of processes ({world_size})")
        self.n, self.batch_size, self.seed = n, batch_size, seed
        self.rank, self.world_size, self.start, self.shuffle = rank, world_size, start, shuffle
        self._perm: tuple[int, torch.Tensor] | None = None

    def _index(self, position: int) -> int:
        epoch, offset = divmod(position, self.n)
        if not self.shuffle:
            return offset
        if self._perm is None or self._perm[0] != epoch:
            g = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._perm = (epoch, torch.randperm(self.n, generator=g))
        return int(self._perm[1][offset])

    def __iter__(self):
        per_rank = self.batch_size // self.world_size
        position = self.start
        while True:
            for i in range(per_rank):
                yield self._index(position + self.rank * per_rank + i)
            position += self.batch_size
