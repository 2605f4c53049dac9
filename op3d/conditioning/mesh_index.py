"""Acceleration structures for the mesh queries of a batch of posed bodies, built once and reused by every query.

A `MeshIndex` answers, per body, "which face is closest to each point, and is the point inside?" (mesh signed
distance) and "which vertex is nearest?" (inverse LBS). The structures are built lazily, per body, on first use,
and kept: the renderer's ray chunks, the discriminator pass and the eikonal/prior points of one training step
all query the same index (`PosedBody.mesh_index()`).

Methods (the same answers, ties aside):
- "warp": NVIDIA Warp's BVH (`op3d.conditioning.warp_queries`; CPU and CUDA), closest face + fast winding number
  sign; nearest vertex by a BVH over the vertices. Needs `warp-lang` (`pip install 'op3d[body]'`).
- "clusters": op3d's torch two-level cluster search and two-level fast winding number
  (`op3d.conditioning.nearest`, `op3d.conditioning.mesh_sdf`): the reference twin of "warp".
- "brute": dense scans and the exact winding number, O(P F) (the reference of both, for tests).
- "auto" (default): "warp" when Warp is installed (and runs on the meshes' device), else "clusters"; "clusters"
  inside `op3d.ops.reference_ops()`; whatever `mesh_query_method(...)` names inside that block.

Only indices and signs come from the index; distances (and their gradients) are computed in torch by the callers.
Shapes: B bodies, P points, V vertices, F faces.
"""
from __future__ import annotations

import contextlib
import functools
import importlib.util
import threading
import warnings

import torch

from op3d.conditioning.nearest import build_clusters, nearest_element, vertex_distance
from op3d.ops.dispatch import using_reference

METHODS = ("auto", "warp", "clusters", "brute")
WARP_HINT = "NVIDIA Warp is not installed: pip install warp-lang (or 'op3d[body]')"


@functools.lru_cache(maxsize=None)
def warp_available() -> bool:
    """True when `warp-lang` can be imported (checked once)."""
    if importlib.util.find_spec("warp") is None:
        return False
    try:
        import op3d.conditioning.warp_queries  # noqa: F401  (defines the kernels)
    except Exception:  # a broken install (missing native library) counts as absent
        return False
    return True


def warp_runs_on(device: torch.device | str) -> bool:
    """True when Warp is installed and can run on `device`: the CPU when Warp has its CPU compiler (warp-clang; a
    Warp built or shipped without it runs on CUDA only), CUDA when Warp finds a usable driver."""
    device = torch.device(device)
    if not warp_available() or device.type not in ("cpu", "cuda"):
        return False
    from op3d.conditioning.warp_queries import cpu_available, cuda_available

    return cpu_available() if device.type == "cpu" else cuda_available()


_chosen = threading.local()


@contextlib.contextmanager
def mesh_query_method(method: str):
    """Within the block, "auto" means `method` ("warp" | "clusters" | "brute"), e.g. to time the torch path."""
    if method not in METHODS:
        raise ValueError(f"unknown mesh-query method {method!r} ({' | '.join(METHODS)})")
    previous = getattr(_chosen, "method", "auto")
    _chosen.method = method
    try:
        yield
    finally:
        _chosen.method = previous


def resolve_method(method: str, device: torch.device | str = "cpu") -> str:
    """'auto' -> 'warp' | 'clusters' for meshes on `device` (see the module docstring; where Warp is installed
    but cannot use the GPU, the torch path runs, with a warning once); other names are checked and returned."""
    if method not in METHODS:
        raise ValueError(f"unknown mesh-query method {method!r} ({' | '.join(METHODS)})")
    if method == "auto":
        method = getattr(_chosen, "method", "auto")
    if method == "auto":
        if using_reference() or not warp_available():
            return "clusters"
        if not warp_runs_on(device):
            _warn_once(f"NVIDIA Warp cannot run on {torch.device(device)} here: mesh queries use op3d's torch path")
            return "clusters"
        return "warp"
    if method == "warp" and not warp_runs_on(device):
        raise ImportError(f"mesh-query method 'warp' on {torch.device(device)}: " +
                          (WARP_HINT if not warp_available() else "Warp finds no usable CUDA driver"
                           if torch.device(device).type == "cuda" else "this Warp has no CPU compiler (warp-clang)"))
    return method


@functools.lru_cache(maxsize=None)
def _warn_once(message: str) -> None:
    warnings.warn(message, stacklevel=3)


def open_edges(faces: torch.Tensor) -> torch.Tensor:
    """Undirected edges [E, 2] of faces [F, 3] whose two directions are not used equally often: the boundary of
    an open mesh (holes) or inconsistently wound faces. Empty for a closed, consistently wound mesh."""
    a, b = faces.reshape(-1), faces.roll(-1, dims=1).reshape(-1)
    n = int(faces.max()) + 1
    keys, inverse = torch.unique(torch.minimum(a, b) * n + torch.maximum(a, b), return_inverse=True)
    balance = torch.zeros(len(keys), dtype=torch.long, device=faces.device)
    balance.index_add_(0, inverse, torch.where(a < b, 1, -1))
    open_keys = keys[balance != 0]
    return torch.stack([open_keys // n, open_keys % n], 1)


def check_mesh(verts: torch.Tensor, faces: torch.Tensor, closed: bool = True) -> None:
    """Raise ValueError (one line) unless verts [B, V, 3] are finite, faces [F, 3] index them, every mesh has a
    non-zero area and, when `closed`, the mesh is closed and consistently wound (else inside/outside, the sign of
    the distance, is undefined)."""
    if verts.dim() != 3 or verts.shape[-1] != 3 or verts.shape[1] == 0:
        raise ValueError(f"mesh vertices must be [B, V, 3] with V > 0, got {list(verts.shape)}")
    if faces.dim() != 2 or faces.shape[1] != 3 or len(faces) == 0:
        raise ValueError(f"mesh faces must be [F, 3] with F > 0, got {list(faces.shape)}")
    if faces.dtype.is_floating_point or faces.dtype == torch.bool:
        raise ValueError(f"mesh faces must be integer vertex indices, got {faces.dtype}")
    if int(faces.min()) < 0 or int(faces.max()) >= verts.shape[1]:
        raise ValueError(f"mesh faces index vertices {int(faces.min())}..{int(faces.max())}, but there are "
                         f"{verts.shape[1]} vertices")
    tri = verts.detach()[:, faces]  # [B, F, 3, 3]
    area = torch.linalg.cross(tri[:, :, 1] - tri[:, :, 0], tri[:, :, 2] - tri[:, :, 0], dim=-1).norm(dim=-1).sum(1)
    finite = torch.isfinite(verts.detach()).flatten(1).all(1)
    bad = (~finite) | ~(area > 0)
    if bool(bad.any()):
        b = int(bad.nonzero()[0, 0])
        what = "NaN or infinite coordinates" if not bool(finite[b]) else "zero area (every face degenerate)"
        raise ValueError(f"mesh {b} of the batch has {what}: its signed distance is undefined")
    if closed:
        problem = _open_edges_problem(faces.detach().cpu().to(torch.int64).contiguous().numpy().tobytes())
        if problem:
            raise ValueError(problem)


@functools.lru_cache(maxsize=16)
def _open_edges_problem(faces: bytes) -> str | None:
    """The message for faces (int64 [F, 3], as bytes) with open or inconsistently wound edges, else None: a body
    model's faces are checked once, not for every posed batch (the answer depends on the indices alone)."""
    edges = open_edges(torch.frombuffer(bytearray(faces), dtype=torch.int64).reshape(-1, 3))
    if not len(edges):
        return None
    i, j = edges[0].tolist()
    return (f"the mesh is not closed ({len(edges)} open or inconsistently wound edges, e.g. between vertices {i} "
            f"and {j}): inside/outside, the sign of the distance, is undefined")


class MeshIndex:
    """Mesh queries for meshes verts [B, V, 3] sharing faces [F, 3] (faces=None: vertex queries only). The
    structures are built per body on first use and kept.

    method: see the module docstring. check: validate the meshes once here (`check_mesh`; closed meshes only).
    """

    def __init__(self, verts: torch.Tensor, faces: torch.Tensor | None, method: str = "auto", check: bool = True):
        if check and faces is not None:
            check_mesh(verts, faces)
        elif verts.dim() != 3 or verts.shape[-1] != 3 or verts.shape[1] == 0:
            raise ValueError(f"mesh vertices must be [B, V, 3] with V > 0, got {list(verts.shape)}")
        self.verts, self.faces = verts.detach(), faces
        self.method = resolve_method(method, verts.device)
        self._built: dict[tuple[str, int], object] = {}

    def __len__(self) -> int:
        return self.verts.shape[0]

    def select(self, index: torch.Tensor) -> MeshIndex:
        """The index of bodies index [B'] (long), sharing the structures already built (not rebuilt)."""
        out = MeshIndex.__new__(MeshIndex)
        out.verts, out.faces, out.method = self.verts[index], self.faces, self.method
        rows = index.tolist()
        out._built = {(kind, i): self._built[kind, b] for i, b in enumerate(rows)
                      for kind in ("faces", "vertices", "refine") if (kind, b) in self._built}
        return out

    def _check_points(self, points: torch.Tensor) -> None:
        if points.dim() != 3 or points.shape[-1] != 3 or points.shape[0] != len(self):
            raise ValueError(f"points must be [{len(self)}, P, 3] for {len(self)} meshes, got {list(points.shape)}")

    def _build_all(self, kind: str) -> None:
        """Build the missing structures of every body at once; Warp's CPU builds run in parallel (they release
        the GIL), the rest one after the other."""
        missing = [b for b in range(len(self)) if (kind, b) not in self._built]
        if self.method == "warp" and self.verts.device.type == "cpu" and len(missing) > 1:
            from op3d.conditioning.warp_queries import build_in_parallel

            built = build_in_parallel([(self.verts[b], self.faces if kind == "faces" else None) for b in missing])
            self._built.update({(kind, b): mesh for b, mesh in zip(missing, built)})
        for b in missing:
            self._structure(kind, b)

    def _structure(self, kind: str, b: int):
        """Built once per (kind, body): a WarpMesh, Clusters, or None (dense scans)."""
        if (kind, b) not in self._built:
            v = self.verts[b]
            if self.method == "warp":
                from op3d.conditioning.warp_queries import WarpMesh

                built = WarpMesh(v, self.faces if kind == "faces" else None)
            elif self.method == "clusters":
                built = build_clusters(v[self.faces], 4) if kind == "faces" else build_clusters(v[:, None], 8)
            else:
                built = None
            self._built[kind, b] = built
        return self._built[kind, b]

    def closest_faces(self, points: torch.Tensor, signs: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
        """points [B, P, 3] -> index of the closest face [B, P] (long) and, when `signs`, inside [B, P] (bool:
        generalized winding number > 1/2). Detached."""
        face, inside, _ = self.query_faces(points, signs)
        return face, inside

    def query_faces(self, points: torch.Tensor, signs: bool = True
                    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """`closest_faces` plus, where Warp answered for float32 points, the signed distance [B, P] it computed
        on the way (float32, detached: a value, not a gradient); None otherwise."""
        from op3d.conditioning.mesh_sdf import inside_by_winding, nearest_face

        if self.faces is None:
            raise ValueError("this MeshIndex was built without faces (vertex queries only)")
        self._check_points(points)
        self._build_all("faces")
        faces, inside, sdf = [], [], []
        for b, p in enumerate(points.detach()):
            structure = self._structure("faces", b)
            if self.method == "warp":
                f, i, d = structure.closest_face(p)
                if p.dtype == torch.float64:
                    f, d = self._refine(b, p, f), None
            else:
                tri = self.verts[b][self.faces]  # [F, 3, 3]
                f, d = nearest_face(p, tri, structure), None
                i = inside_by_winding(p, tri, structure) if signs else None
            faces.append(f)
            inside.append(i)
            sdf.append(d)
        return (torch.stack(faces), torch.stack(inside) if signs else None,
                None if sdf[0] is None else torch.stack(sdf))

    def _refine(self, b: int, p: torch.Tensor, face: torch.Tensor) -> torch.Tensor:
        """Warp picks faces in float32: where a sliver's float32 distance is off, it can pick a neighbour of the
        nearest face. For float64 points, take the nearest of the picked face and the 3 faces across its edges,
        in float64 (exact where the nearest face is one of them)."""
        from op3d.conditioning.mesh_sdf import faces_across_edges, triangle_distance

        if ("refine", b) not in self._built:
            self._built["refine", b] = (triangle_distance(self.verts[b].double()[self.faces]),
                                        faces_across_edges(self.faces))
        distance, across = self._built["refine", b]
        candidates = torch.cat([face[:, None], across[face]], 1)  # [P, 4]
        return candidates.gather(1, distance(p, candidates).argmin(1, keepdim=True))[:, 0]

    def nearest_vertices(self, points: torch.Tensor, max_distance: float | None = None) -> torch.Tensor:
        """points [B, P, 3] -> index of the nearest vertex [B, P] (long; detached). With max_distance, -1 may
        stand for "none within max_distance" (Warp's bounded query stops early; the torch paths search fully, so
        the caller compares distances with max_distance itself)."""
        self._check_points(points)
        self._build_all("vertices")
        out = []
        for b, p in enumerate(points.detach()):
            structure = self._structure("vertices", b)
            if self.method == "warp":
                out.append(structure.closest_vertex(p, *(() if max_distance is None else (max_distance,))))
            elif self.method == "clusters":
                out.append(nearest_element(p, structure, vertex_distance(self.verts[b]))[0])
            else:
                out.append(_dense_nearest_vertex(p, self.verts[b]))
        return torch.stack(out)


def _dense_nearest_vertex(p: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """The reference: a dense scan over all vertices, chunked. p [P, 3], v [V, 3] -> [P]."""
    step = max(1, (1 << 22) // len(v))
    return torch.cat([(s[:, None] - v[None].to(s.dtype)).square().sum(-1).argmin(1) for s in p.split(step)])


def nearest_vertex(points: torch.Tensor, verts: torch.Tensor, method: str = "auto", index: MeshIndex | None = None,
                   max_distance: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """points [B, P, 3], verts [B, V, 3] -> nearest vertex index [B, P] (long, detached) and its distance [B, P]
    (in the points' dtype, differentiable in the points).

    method: see the module docstring ("brute" is the reference); index: a prebuilt MeshIndex of these vertices.
    max_distance: points farther than this from every vertex get index -1 and distance inf (whichever method).
    """
    index = index if index is not None else MeshIndex(verts, None, method)
    idx = index.nearest_vertices(points, max_distance)
    near = torch.gather(verts.to(points.dtype), 1, idx.clamp_min(0)[..., None].expand(-1, -1, 3))
    dist = (points - near).norm(dim=-1)
    if max_distance is not None:
        beyond = (idx < 0) | (dist > max_distance)
        idx, dist = idx.masked_fill(beyond, -1), dist.masked_fill(beyond, float("inf"))
    return idx, dist
