"""Render seeds (and shapes) from a network; same options as `op3d sample`."""
import sys

from op3d.cli import main

if __name__ == "__main__":
    main(["sample", *sys.argv[1:]])
