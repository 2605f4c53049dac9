"""Turn images + PARE outputs into a pose-conditional dataset: `op3d dataset pare` under the original script name.

    python train_scripts/export_pose.py IMAGES_DIR PARE_DIR --out data.zip --resolution 256 --body-model SMPL.pkl
"""
from op3d.cli import main

if __name__ == "__main__":
    import sys

    main(["dataset", "pare", *sys.argv[1:]])
