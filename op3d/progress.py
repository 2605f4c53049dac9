"""Optional progress bars (tqdm, a dependency) over long loops."""
from __future__ import annotations

from typing import Iterable, TypeVar

from tqdm import tqdm

T = TypeVar("T")


def with_progress(items: Iterable[T], enabled: bool, desc: str, unit: str) -> Iterable[T]:
    """items wrapped in a transient tqdm bar when enabled, else unchanged."""
    return tqdm(items, desc=desc, unit=unit, leave=False) if enabled else items
