"""Evaluate a network; same options as `op3d metrics`."""
import sys

from op3d.cli import main

if __name__ == "__main__":
    main(["metrics", *sys.argv[1:]])
