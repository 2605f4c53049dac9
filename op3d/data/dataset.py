"""EG3D-format image datasets: a folder or zip of images plus dataset.json with a 25-d camera per image.

Opening reads the zip directory (or folder listing), dataset.json and the first image's header: O(1) in the
number of images. dataset.json is validated entirely then; each image when it is read (a one-line DatasetError
naming the file), or all of them, decoded, with check_images="all" (`op3d dataset check`).
"""
from __future__ import annotations

import io
import json
import math
import os
import zipfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

from op3d.data.cameras import camera_problems, flip_label

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
LABEL_DIM = 25
POSE_DIM = 85  # op3d.conditioning.body_model.POSE_PARAMS_DIM
# No camera entry (metres, normalized intrinsics), beta or axis-angle (radians) is anywhere near this; squares of
# larger values overflow float32 in norms and rotations.
MAX_VALUE = 1e4


class DatasetError(ValueError):
    """A dataset that cannot be used; the message says what is wrong and where."""


def rgb_image(im: Image.Image, background=(255, 255, 255)) -> Image.Image:
    """The image as displayed, in RGB: its EXIF orientation applied (cameras see photos upright), transparency
    composited onto `background` (white, the presets' background; a transparent pixel's colour is meaningless),
    16-bit grey levels scaled to 8 bits (v * 255 / 65535, rounded; Pillow's own conversion clips them at 255).
    Raises ValueError for 32-bit integer or float pixels (modes I, F: no fixed range to scale from)."""
    im = ImageOps.exif_transpose(im)
    if im.mode.startswith("I;16"):
        grey = np.asarray(im).astype(np.uint32)
        return Image.fromarray(((grey * 255 + 32767) // 65535).astype(np.uint8), "L").convert("RGB")
    if im.mode in ("I", "F"):
        raise ValueError(f"{'32-bit integer' if im.mode == 'I' else 'floating-point'} pixels (mode {im.mode}) have "
                         "no fixed range; save the image with 8 or 16 bits per channel")
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, (*background, 255)), rgba).convert("RGB")
    return im.convert("RGB")


MAX_MEMBER_BYTES = {"dataset.json": 1 << 30}  # and every other member (images):
MAX_IMAGE_BYTES = 256 << 20
_COMPRESSIONS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


def _zip_problem(infos: list[zipfile.ZipInfo]) -> str | None:
    """What makes a dataset zip unusable, from its directory alone (None if nothing): duplicate names, encrypted
    members, compressions Python cannot read, members larger than any image (a zip bomb's declared size)."""
    seen: set[str] = set()
    for info in infos:
        if info.filename in seen:
            return f"member {info.filename} appears twice"
        seen.add(info.filename)
        if info.flag_bits & 0x1:
            return f"member {info.filename} is encrypted"
        if info.compress_type not in _COMPRESSIONS:
            return f"member {info.filename} uses compression method {info.compress_type}, which Python cannot read"
        limit = MAX_MEMBER_BYTES.get(info.filename, MAX_IMAGE_BYTES)
        if info.file_size > limit:
            return f"member {info.filename} is {info.file_size / 2 ** 20:.0f} MiB (more than {limit >> 20} MiB)"
    return None


class _Source:
    """Uniform access to a folder or a zip; the zip is opened lazily in each process (DataLoader workers)."""

    def __init__(self, path: Path):
        self.path = path
        self.is_zip = path.is_file()
        self._zip: zipfile.ZipFile | None = None
        self._zip_pid: int | None = None  # a handle inherited through fork() must not be shared
        if self.is_zip:  # the central directory only (parsed once per process); members are checked when read
            try:
                self._zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as e:
                raise DatasetError(f"{path}: corrupt or unreadable zip ({e})") from None
            self._zip_pid = os.getpid()
            self.names = sorted(n for n in self._zip.namelist() if not n.endswith("/"))
            problem = _zip_problem(self._zip.infolist())
            if problem is not None:
                raise DatasetError(f"{path}: {problem}")
        elif path.is_dir():
            self.names = sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())
        else:
            raise DatasetError(f"{path}: no such dataset folder or zip")

    def read(self, name: str) -> bytes:
        """The bytes of member `name`; DatasetError naming it when it cannot be read (corrupt, CRC, I/O)."""
        try:
            if self.is_zip:
                if self._zip is None or self._zip_pid != os.getpid():
                    self._zip = zipfile.ZipFile(self.path)
                    self._zip_pid = os.getpid()
                return self._zip.read(name)
            return (self.path / name).read_bytes()
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as e:
            raise DatasetError(f"{self.path}/{name}: unreadable ({str(e).splitlines()[0][:80]})") from None

    def __getstate__(self):
        return dict(self.__dict__, _zip=None, _zip_pid=None)


class ImageDataset(torch.utils.data.Dataset):
    """dataset[i] -> (uint8 image [3, R, R], float32 camera label [25]) or, with use_poses, also the image's
    pose parameters [85] (betas 10 | axis-angle pose 72 | transl 3; docs/conditional.md#data-format).

    xflip doubles the length; items past the original count are mirrored images with flipped cameras.
    """

    def __init__(self, path: str | os.PathLike, use_labels: bool = True, xflip: bool = False,
                 max_size: int | None = None, check_images: str = "first", use_poses: bool = False):
        """check_images: "first" (the first image's header gives the resolution; the others are checked as they
        are read), "all" (decode every image now: `op3d dataset check`) or "none" (header of the first image
        only, no checks)."""
        if check_images not in ("first", "all", "none"):
            raise ValueError(f"check_images must be 'first', 'all' or 'none', got {check_images!r}")
        self.path = Path(path)
        self.source = _Source(self.path)
        self.image_names = [n for n in self.source.names if n.lower().endswith(IMAGE_EXTENSIONS)]
        if max_size is not None:
            self.image_names = self.image_names[:max_size]
        if not self.image_names:
            raise DatasetError(f"{self.path}: no images found (expected {', '.join(IMAGE_EXTENSIONS)})")
        meta = self._read_meta() if (use_labels or use_poses) else {}
        self.labels = (self._read_table(meta, "labels", LABEL_DIM, "cam2world 16 + intrinsics 9") if use_labels
                       else np.zeros((len(self.image_names), 0), np.float32))
        for index, what in camera_problems(torch.from_numpy(self.labels))[:1] if use_labels else []:
            raise DatasetError(f"{self.path}/dataset.json: label of {self.image_names[index]}: {what}")
        self.has_poses = "poses" in meta
        self.body_model = meta.get("body_model")
        self.poses = None
        if use_poses:
            if xflip:
                raise DatasetError(f"{self.path}: mirroring pose-conditional datasets is not supported (SMPL "
                                   "mirroring needs left/right joint swaps)")
            if not self.has_poses:
                raise DatasetError(f"{self.path}/dataset.json: no \"poses\" (pose-conditional training needs them; "
                                   "see docs/conditional.md#data-format)")
            self.poses = self._read_table(meta, "poses", POSE_DIM, "betas 10 + pose 72 + transl 3")
        self.xflip = xflip
        w, h, mode = self._image_size(self.image_names[0])  # the first image's header
        self.resolution = w
        if check_images != "none":
            self._check_size(self.image_names[0], w, h, mode, first=True)
        if check_images == "all":
            for name in self.image_names:
                self._decode(name)

    # ---------------------------------------------------------------------------------------------
    def _read_meta(self) -> dict:
        if "dataset.json" not in self.source.names:
            nested = sorted(n for n in self.source.names if n.endswith("/dataset.json"))
            if nested:  # e.g. a zip of the folder rather than of its contents
                folder = nested[0][:-len("/dataset.json")]
                raise DatasetError(f"{self.path}: dataset.json must be at the top level, found {nested[0]}: zip the "
                                   f"contents of {folder} (not the folder itself) or use that folder")
            raise DatasetError(f"{self.path}: missing dataset.json with camera labels")
        try:
            meta = json.loads(self.source.read("dataset.json"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise DatasetError(f"{self.path}/dataset.json: invalid JSON ({e})") from None
        except RecursionError:
            raise DatasetError(f"{self.path}/dataset.json: nested too deeply to be a dataset description") from None
        if not isinstance(meta, dict):
            raise DatasetError(f"{self.path}/dataset.json: expected {{\"labels\": [[name, [25 floats]], ...]}}")
        return meta

    def _read_table(self, meta: dict, key: str, dim: int, layout: str) -> np.ndarray:
        """meta[key] = [[image name, [dim floats]], ...], one per image -> float32 [N, dim] in image order."""
        entries = meta.get(key)
        if not isinstance(entries, list):
            empty = f" ({key} is null: the dataset was packed without them)" if key in meta and entries is None else ""
            raise DatasetError(f"{self.path}/dataset.json: expected {{\"{key}\": [[name, [{dim} floats]], ...]}}"
                               f"{empty}")
        table: dict[str, object] = {}
        for entry in entries:
            if not (isinstance(entry, (list, tuple)) and len(entry) == 2 and isinstance(entry[0], str)):
                raise DatasetError(f"{self.path}/dataset.json: malformed entry {str(entry)[:80]}")
            name = entry[0].replace("\\", "/")
            if name in table:
                raise DatasetError(f"{self.path}/dataset.json: {name} has two {key} entries")
            table[name] = entry[1]
        what = key[:-1]
        missing = [n for n in self.image_names if n not in table]
        if missing:
            raise DatasetError(f"{self.path}/dataset.json: no {what} for {len(missing)} image(s), e.g. {missing[0]}")
        extra = sorted(set(table) - set(self.source.names))
        if extra:
            raise DatasetError(f"{self.path}/dataset.json: {len(extra)} {what}(s) without an image, e.g. {extra[0]}")
        try:  # all at once; entry by entry only to name the one that is wrong
            values = np.asarray([table[name] for name in self.image_names], dtype=np.float64)
            if values.ndim != 2 or values.shape[1] != dim:
                raise ValueError
        except (TypeError, ValueError):
            values = np.stack([self._entry(table[name], name, what, dim, layout) for name in self.image_names])
        with np.errstate(over="ignore"):  # after the cast: 1e39 is inf in float32, and that is what is checked
            bad = ~np.isfinite(values.astype(np.float32)).all(1)
        if bad.any():
            raise DatasetError(f"{self.path}/dataset.json: {what} of {self.image_names[int(bad.argmax())]} contains "
                               "NaN, inf or a value beyond float32's range")
        big = np.abs(values).max(1) > MAX_VALUE
        if big.any():
            i = int(big.argmax())
            raise DatasetError(f"{self.path}/dataset.json: {what} of {self.image_names[i]} has a value of "
                               f"{np.abs(values[i]).max():.3g} (more than {MAX_VALUE:g} in magnitude: not a camera "
                               "or pose)")
        return values.astype(np.float32)

    def _entry(self, value, name: str, what: str, dim: int, layout: str) -> np.ndarray:
        """One table entry as float64 [dim], or a DatasetError naming the image."""
        try:
            arr = np.asarray(value, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise DatasetError(f"{self.path}/dataset.json: {what} of {name} is not numeric") from None
        if arr.shape[0] != dim:
            raise DatasetError(f"{self.path}/dataset.json: {what} of {name} has {arr.shape[0]} values, "
                               f"expected {dim} ({layout})")
        return arr

    def _image_size(self, name: str) -> tuple[int, int, str]:
        try:
            with Image.open(io.BytesIO(self.source.read(name))) as im:
                return im.size[0], im.size[1], im.mode
        except DatasetError:
            raise
        except Exception as e:
            raise DatasetError(f"{self.path}/{name}: unreadable image ({str(e).splitlines()[0][:80]})") from None

    def _check_size(self, name: str, w: int, h: int, mode: str, first: bool = False) -> None:
        if w != h:
            raise DatasetError(f"{self.path}/{name}: image is {w}x{h}; images must be square")
        if mode not in ("RGB", "RGBA", "L", "P", "LA"):
            raise DatasetError(f"{self.path}/{name}: unsupported image mode {mode}")
        if first and (w < 4 or 2 ** int(round(math.log2(w))) != w):
            raise DatasetError(f"{self.path}/{name}: resolution {w} is not a power of two")
        if w != self.resolution:
            raise DatasetError(f"{self.path}/{name}: image is {w}x{w} but the first image is "
                               f"{self.resolution}x{self.resolution}")

    def _decode(self, name: str) -> np.ndarray:
        """uint8 [R, R, 3] of image `name`, fully decoded and checked (DatasetError naming the file)."""
        try:
            with Image.open(io.BytesIO(self.source.read(name))) as im:
                self._check_size(name, im.size[0], im.size[1], im.mode)
                return np.asarray(rgb_image(im))
        except DatasetError:
            raise
        except Exception as e:  # truncated or corrupt data: PIL's errors vary by format
            raise DatasetError(f"{self.path}/{name}: unreadable image ({str(e).splitlines()[0][:80]})") from None

    # ---------------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.image_names) * (2 if self.xflip else 1)

    @property
    def label_dim(self) -> int:
        return self.labels.shape[1]

    def get_label(self, index: int) -> np.ndarray:
        n = len(self.image_names)
        label = self.labels[index % n]
        if index >= n and label.shape[0]:
            label = flip_label(torch.from_numpy(label)).numpy()
        return label

    def get_pose(self, index: int) -> np.ndarray:
        """Pose parameters [85] of image `index % N` (needs use_poses)."""
        if self.poses is None:
            raise DatasetError(f"{self.path}: opened without poses (use_poses=True)")
        return self.poses[index % len(self.image_names)]

    def get_label_std(self) -> np.ndarray:
        return self.labels.std(0) if len(self.labels) else np.zeros(self.label_dim, np.float32)

    def load_image(self, index: int) -> np.ndarray:
        """uint8 [R, R, 3] of image `index % N` (not flipped); DatasetError naming the file if it is corrupt,
        truncated or of another size."""
        return self._decode(self.image_names[index % len(self.image_names)])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not 0 <= index < len(self):
            raise IndexError(index)
        image = self.load_image(index)
        if index >= len(self.image_names):
            image = image[:, ::-1]
        item = (torch.from_numpy(image.transpose(2, 0, 1).copy()), torch.from_numpy(self.get_label(index).copy()))
        if self.poses is not None:
            item = item + (torch.from_numpy(self.get_pose(index).copy()),)
        return item
