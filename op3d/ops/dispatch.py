"""Choose between the reference ops and the faster paths.

Every fast path has a reference twin that computes the same function; `reference_ops()` switches the
whole library to the references (used by the benchmarks and tests to compare the two).
"""
from __future__ import annotations

import contextlib
import threading

_state = threading.local()


def using_reference() -> bool:
    return getattr(_state, "reference", False)


@contextlib.contextmanager
def reference_ops(enabled: bool = True):
    previous = using_reference()
    _state.reference = enabled
    try:
        yield
    finally:
        _state.reference = previous
