"""OP3D/EG3D gen_samples.py command lines (--shapes=true, --shape-format=.ply, --pose_id=N, ...) run as
op3d sample (op3d.compat)."""
from op3d.compat import run

if __name__ == "__main__":
    run("gen_samples")
