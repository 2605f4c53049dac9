"""OP3D's export_data.py command line (photos + PARE outputs) run as op3d dataset pare (op3d.compat)."""
from op3d.compat import run

if __name__ == "__main__":
    run("export_data")
