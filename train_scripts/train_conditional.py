"""Train an SMPL-pose-conditional generator: `op3d train --conditional` under the original script name."""
from op3d.cli import main

if __name__ == "__main__":
    import sys

    main(["train", "--conditional", *sys.argv[1:]])
