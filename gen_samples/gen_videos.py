"""Orbit videos with latent interpolation; same options as `op3d video`."""
import sys

from op3d.cli import main

if __name__ == "__main__":
    main(["video", *sys.argv[1:]])
