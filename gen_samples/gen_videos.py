"""OP3D/EG3D gen_videos.py command lines (--outdir, --image_mode, --interpolate, --num-keyframes, ...) run as
op3d video (op3d.compat)."""
from op3d.compat import run

if __name__ == "__main__":
    run("gen_videos")
