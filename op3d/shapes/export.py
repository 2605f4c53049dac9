"""Writing shapes: .mrc density volumes and marching-cubes meshes (.ply / .obj) in world coordinates.
Every file is written to a temporary name beside the target and renamed into place."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from op3d.io.atomic import atomic_path
from op3d.shapes.grid import Grid


def _atomic(path: Path, write) -> Path:
    with atomic_path(path) as tmp:
        write(tmp)
    return Path(path)


def write_mrc(grid: Grid, path: str | os.PathLike) -> Path:
    """float32 MRC (mode 2); data stored [z, y, x] as the format expects, voxel size and origin in world
    units, so ChimeraX shows the volume where the generator puts it."""
    try:
        import mrcfile
    except ImportError:
        raise ImportError("writing .mrc needs the mrcfile package: pip install 'op3d[shapes]'") from None

    def write(tmp: str) -> None:
        with mrcfile.new(tmp, overwrite=True) as mrc:
            mrc.set_data(np.ascontiguousarray(grid.values.transpose(2, 1, 0), dtype=np.float32))
            mrc.voxel_size = grid.voxel_size
            mrc.header.origin = tuple(float(o) for o in grid.origin)

    return _atomic(Path(path), write)


def read_mrc(path: str | os.PathLike) -> Grid:
    import mrcfile

    with mrcfile.open(path, permissive=False) as mrc:
        data = np.asarray(mrc.data, dtype=np.float32).transpose(2, 1, 0).copy()
        voxel = float(mrc.voxel_size.x)
        origin = np.array([mrc.header.origin.x, mrc.header.origin.y, mrc.header.origin.z], dtype=np.float64)
    return Grid(data, origin, voxel)


def extract_mesh(grid: Grid, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Marching cubes at `level`: vertices [V, 3] in world units, faces [F, 3] (outward normals)."""
    try:
        from skimage.measure import marching_cubes
    except ImportError:
        raise ImportError("meshes need scikit-image: pip install 'op3d[shapes]'") from None
    lo, hi = float(grid.values.min()), float(grid.values.max())
    if not lo < level < hi:
        raise ValueError(f"mesh level {level} is outside the density range [{lo:.3g}, {hi:.3g}]; choose another "
                         f"--mesh-level")
    verts, faces, _, _ = marching_cubes(grid.values, level=level, spacing=(grid.voxel_size,) * 3,
                                        gradient_direction="ascent")
    return (verts + grid.origin).astype(np.float32), faces.astype(np.int64)


def write_mesh(path: str | os.PathLike, verts: np.ndarray, faces: np.ndarray, colors: np.ndarray | None = None
               ) -> Path:
    """.ply (binary, optional uint8 RGB per vertex) or .obj (text, optional float RGB after each vertex)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".ply", ".obj"):
        raise ValueError(f"mesh format must be .ply or .obj, got {path.suffix!r}")
    rgb = None if colors is None else np.clip(np.asarray(colors, dtype=np.float32), 0, 1)

    def write_ply(tmp: str) -> None:
        header = ["ply", "format binary_little_endian 1.0", f"element vertex {len(verts)}",
                  "property float x", "property float y", "property float z"]
        vdtype = [("p", "<f4", 3)]
        if rgb is not None:
            header += ["property uchar red", "property uchar green", "property uchar blue"]
            vdtype.append(("c", "u1", 3))
        header += [f"element face {len(faces)}", "property list uchar int vertex_indices", "end_header"]
        vertex = np.empty(len(verts), dtype=vdtype)
        vertex["p"] = verts
        if rgb is not None:
            vertex["c"] = np.round(rgb * 255).astype(np.uint8)
        face = np.empty(len(faces), dtype=[("n", "u1"), ("i", "<i4", 3)])
        face["n"] = 3
        face["i"] = faces
        with open(tmp, "wb") as f:
            f.write(("\n".join(header) + "\n").encode("ascii"))
            f.write(vertex.tobytes())
            f.write(face.tobytes())

    def write_obj(tmp: str) -> None:
        with open(tmp, "w") as f:
            for i, v in enumerate(verts):
                extra = "" if rgb is None else f" {rgb[i, 0]:.4f} {rgb[i, 1]:.4f} {rgb[i, 2]:.4f}"
                f.write(f"v {v[0]:.6f} {v[1]:.6f} {v[2]:.6f}{extra}\n")
            f.writelines(f"f {a} {b} {c}\n" for a, b, c in faces + 1)

    return _atomic(path, write_ply if suffix == ".ply" else write_obj)
