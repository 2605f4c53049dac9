"""op3d: 3D-aware image synthesis with OrthoPlanes and EG3D tri-planes, in plain PyTorch."""
__version__ = "0.1.0"


def load(path, which: str = "G_ema", device="cpu", missing_ok: bool = False):
    """Load an op3d checkpoint or run directory or an original OP3D/EG3D snapshot .pkl (see op3d.io.api.load)."""
    from op3d.io.api import load as _load

    return _load(path, which=which, device=device, missing_ok=missing_ok)
