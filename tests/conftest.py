import os
from pathlib import Path

import pytest
import torch

torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))

# ../shared/fixtures beside the checkout; OP3D_FIXTURES points elsewhere (a GPU machine gets a carried copy)
FIXTURES = Path(os.environ.get("OP3D_FIXTURES") or Path(__file__).resolve().parents[1].parent / "shared" / "fixtures")


@pytest.fixture
def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip(f"parity fixtures not found at {FIXTURES}")
    return FIXTURES
