"""op3d: 3D-aware image synthesis with OrthoPlanes and EG3D tri-planes, in plain PyTorch."""
__version__ = "0.1.0"
