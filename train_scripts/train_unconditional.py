"""Train an unconditional generator; same flags as `op3d train` (kept under the original script name)."""
from op3d.cli import main

if __name__ == "__main__":
    import sys

    main(["train", *sys.argv[1:]])
