"""OP3D's export_pose.py: op3d keeps poses with their images; says what to run instead (op3d.compat)."""
from op3d.compat import run

if __name__ == "__main__":
    run("export_pose")
