"""Datasets (EG3D format), cameras and the built-in synthetic data."""
from op3d.data.cameras import flip_label, fov_to_focal, intrinsics, lookat_pose, make_label, sample_cameras
from op3d.data.dataset import DatasetError, ImageDataset

__all__ = ["DatasetError", "ImageDataset", "flip_label", "fov_to_focal", "intrinsics", "lookat_pose", "make_label",
           "sample_cameras"]
