"""OP3D/EG3D calc_metrics.py command lines run as op3d metrics (op3d.compat)."""
from op3d.compat import run

if __name__ == "__main__":
    run("calc_metrics")
