"""Mesh queries through NVIDIA Warp (`pip install warp-lang`, in `op3d[body]`): a BVH per mesh, built by Warp on
the device of the vertices (CPU or CUDA), queried by Warp kernels.

- closest face + generalized-winding-number sign: `wp.mesh_query_point_sign_winding_number` (Warp's fast winding
  number, Barill et al. 2018, inside where the winding number > 1/2); points outside the mesh's box take the cheaper
  unsigned query (outside, exactly so for a closed mesh).
- nearest vertex: the same closest-point query on a mesh of point triangles (i, i, i) (exact: the closest point
  of a point triangle is its vertex), optionally bounded (inverse LBS only needs vertices within its threshold).
- on the CPU each Warp thread walks a run of consecutive points (a ray's samples) and carries exact facts from one
  point to the next: the previous closest point bounds the next search, and a step shorter than the distance to
  the surface cannot change the winding number (no second query for the sign). Answers are per point as before.

Indices, signs and float32 distances come from here; distances with gradients are recomputed in torch from the
chosen face or vertex (`op3d.conditioning.mesh_sdf`, `op3d.conditioning.inverse_lbs`).
Warp compiles these kernels on first use per device (about 6 s on a CPU, once) and caches them in
`warp.config.kernel_cache_dir` (default `~/.cache/warp/<version>`; `WARP_CACHE_PATH` moves it).
This module imports warp at import time: import it only after `available()` said yes.
"""
from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor

import torch
import warp as wp

# Warp's `accuracy` (beta of Barill et al.; its expansion is second order): a BVH node farther than beta x its radius
# contributes its expansion. beta 1 is 1.6x faster than 2 and gave the exact winding sign on all of 360,000 points
# within 0.5 mm - 5 cm of six posed procedural bodies (a closed mesh's winding number is 0 or 1, far from the 1/2 cut).
WINDING_ACCURACY = 1.0
MAX_DISTANCE = 1.0e30  # unbounded query
# Points per CPU thread of the query kernels: consecutive points (a ray's samples) bound each other's searches.
# With 32 (the "body" preset's samples per ray and pass) the closest-face query took 0.82x the time of independent
# queries on ray samples through a posed body's box, 1.03x on points in random order; more gained nothing. CUDA
# launches keep one point per thread (parallelism matters more there).
RUN = 32


@wp.func
def _outside_box(p: wp.vec3, lo: wp.vec3, hi: wp.vec3) -> bool:
    return p[0] < lo[0] or p[1] < lo[1] or p[2] < lo[2] or p[0] > hi[0] or p[1] > hi[1] or p[2] > hi[2]


@wp.kernel
def _closest_face_kernel(mesh: wp.uint64, points: wp.array(dtype=wp.vec3), run: int, lo: wp.vec3, hi: wp.vec3,
                         accuracy: float, face: wp.array(dtype=wp.int32), inside: wp.array(dtype=wp.int32),
                         sdf: wp.array(dtype=float)):
    # One thread walks `run` consecutive points (a ray's samples are consecutive), carrying two exact facts from
    # the previous point p' (closest surface point c', unsigned distance d'):
    # - d <= |p - c'| (c' lies on the surface): the closest-point search starts with that bound, pruning the BVH;
    # - if |p - p'| < d', the segment p'p misses the surface, so the (integer) winding number of the closed mesh,
    #   and with it the sign, is the same at p and p': the unsigned query suffices.
    # Outside the mesh's box the winding number of a closed mesh is 0: the unsigned query suffices there too.
    # Both facts only save work; each point's answer is the one an independent query gives.
    start = wp.tid() * run
    end = wp.min(start + run, points.shape[0])
    carried = bool(False)
    c_prev = wp.vec3()
    p_prev = wp.vec3()
    d_prev = float(0.0)
    inside_prev = int(0)
    for i in range(start, end):
        p = points[i]
        bound = float(MAX_DISTANCE)
        if carried:
            bound = wp.length(p - c_prev) * 1.0001 + 1.0e-6
        same_sign = carried and wp.length(p - p_prev) < 0.99 * d_prev - 1.0e-6
        ins = int(0)
        if same_sign or _outside_box(p, lo, hi):
            q = wp.mesh_query_point_no_sign(mesh, p, bound)
            if carried and not q.result:  # rounding: search unbounded
                q = wp.mesh_query_point_no_sign(mesh, p, MAX_DISTANCE)
            if same_sign:
                ins = inside_prev
        else:
            q = wp.mesh_query_point_sign_winding_number(mesh, p, bound, accuracy, 0.5)
            if carried and not q.result:
                q = wp.mesh_query_point_sign_winding_number(mesh, p, MAX_DISTANCE, accuracy, 0.5)
            ins = wp.where(q.sign < 0.0, 1, 0)
        if q.result:
            c = wp.mesh_eval_position(mesh, q.face, q.u, q.v)
            d = wp.length(p - c)
            face[i] = q.face
            inside[i] = ins
            sdf[i] = wp.where(ins == 1, -d, d)
            carried = True
            c_prev = c
            p_prev = p
            d_prev = d
            inside_prev = ins
        else:  # no face only for NaN or infinite points: their distance is NaN
            face[i] = 0
            inside[i] = 0
            sdf[i] = wp.length(p - p)
            carried = False


@wp.kernel
def _closest_vertex_kernel(mesh: wp.uint64, points: wp.array(dtype=wp.vec3), run: int, max_distance: float,
                           vertex: wp.array(dtype=wp.int32)):
    # `run` consecutive points per thread; the previous point's vertex v' bounds the search: d <= |p - v'|.
    start = wp.tid() * run
    end = wp.min(start + run, points.shape[0])
    carried = bool(False)
    v_prev = wp.vec3()
    for i in range(start, end):
        p = points[i]
        bound = max_distance
        if carried:
            bound = wp.min(max_distance, wp.length(p - v_prev) * 1.0001 + 1.0e-6)
        q = wp.mesh_query_point_no_sign(mesh, p, bound)
        if not q.result and bound < max_distance:  # rounding: search to max_distance
            q = wp.mesh_query_point_no_sign(mesh, p, max_distance)
        vertex[i] = wp.where(q.result, q.face, -1)
        carried = q.result
        if q.result:
            v_prev = wp.mesh_eval_position(mesh, q.face, q.u, q.v)


wp.set_module_options({"enable_backward": False})  # queries only: no adjoint code to compile


@contextlib.contextmanager
def _quiet_native_stderr():
    """Warp's native library prints a CUDA-driver warning on machines without one; op3d runs there on the CPU."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)


@functools.lru_cache(maxsize=None)
def _init() -> None:
    if wp.config.log_level == wp.LOG_INFO:  # Warp's default prints a banner and every module load
        wp.config.log_level = wp.LOG_WARNING
    with _quiet_native_stderr() if not torch.cuda.is_available() else contextlib.nullcontext():
        wp.init()


def cpu_available() -> bool:
    """Whether Warp can compile and run kernels on the CPU (its LLVM-based warp-clang library loaded)."""
    _init()
    return wp.is_cpu_available()


def cuda_available() -> bool:
    """Whether Warp found a CUDA driver it can use (Warp wheels need a recent one)."""
    _init()
    return wp.is_cuda_available()


@functools.lru_cache(maxsize=None)
def _load(device: str) -> None:
    _init()
    wp.load_module(sys.modules[__name__], device=device)  # compile or load from the cache before threads launch


@functools.lru_cache(maxsize=None)
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max(1, os.cpu_count() or 1), thread_name_prefix="op3d-warp")


def build_in_parallel(meshes: list[tuple[torch.Tensor, torch.Tensor | None]]) -> list[WarpMesh]:
    """WarpMesh(verts, faces) for each pair, built on the CPU threads of `_pool` (Warp's builds release the GIL)."""
    _load("cpu")  # compile or load the kernels once, before the threads
    return list(_pool().map(lambda pair: WarpMesh(*pair), meshes))


def _vec3(t: torch.Tensor) -> wp.array:
    return wp.from_torch(t.detach().to(torch.float32).contiguous(), dtype=wp.vec3)


class _Slot:
    """A Warp mesh and the buffers it points into (Warp keeps pointers: the slot owns its copies)."""

    def __init__(self, verts: torch.Tensor, faces: torch.Tensor | None):
        self.verts = verts.detach().to(torch.float32, copy=True).contiguous()
        indices = torch.arange(len(verts), device=verts.device)[:, None].expand(-1, 3) if faces is None else faces
        self.indices = indices.to(device=verts.device, dtype=torch.int32).reshape(-1).contiguous()
        self.mesh = wp.Mesh(points=wp.from_torch(self.verts, dtype=wp.vec3),
                            indices=wp.from_torch(self.indices, dtype=wp.int32),
                            support_winding_number=faces is not None, bvh_constructor="sah")


# Slots no longer used, by device and topology: a new posed body of the same topology refits one (Warp recomputes
# the boxes and winding-number data bottom-up for the new vertices: on the CPU 2.0 ms instead of 4.6 ms for a
# 5,500-face body, 0.1 ms instead of 1.4 ms for its vertices; queries 3% slower than on a fresh build, the same
# answers). The pool holds at most _FREE_LIMIT triangles in all (about 300 bytes each: 72 SMPL bodies). On CUDA a
# slot is reused in torch's current stream order (the vertex copy, the refit and every query run on that stream),
# so a slot returned while queries on it are still queued is only overwritten after them.
_FREE: dict[tuple, list[_Slot]] = {}
_FREE_LIMIT = 1_000_000
_free_lock = threading.RLock()  # re-entrant: a finalizer may run inside the lock on the same thread


def _triangles(slot: _Slot) -> int:
    return len(slot.indices) // 3


def _take(topology: tuple) -> _Slot | None:
    with _free_lock:
        slots = _FREE.get(topology)
        return slots.pop() if slots else None


def _release(topology: tuple, slot: _Slot) -> None:
    """Put a slot whose WarpMesh is gone back into the pool (weakref.finalize calls this), if it fits."""
    with _free_lock:
        pooled = sum(_triangles(s) for slots in _FREE.values() for s in slots)  # at most a few dozen slots
        if pooled + _triangles(slot) <= _FREE_LIMIT:
            _FREE.setdefault(topology, []).append(slot)


class WarpMesh:
    """Warp's BVH of one mesh: verts [V, 3] (any float dtype; Warp works in float32), faces [F, 3] (long),
    on the device of verts. faces=None indexes the vertices instead (point triangles). The Warp mesh of a mesh of the
    same topology on the same device that is no longer used is refit to these vertices instead of built anew."""

    def __init__(self, verts: torch.Tensor, faces: torch.Tensor | None = None):
        self.device = verts.device
        _load(self._wp_device())
        key = None if faces is None else faces.to(torch.int32).cpu().numpy().tobytes()
        topology = (str(self.device), len(verts), key)
        with self._stream():
            slot = _take(topology)
            if slot is None:
                slot = _Slot(verts, faces)
            else:
                slot.verts.copy_(verts.detach())
                slot.mesh.refit()
        self._slot, self.mesh = slot, slot.mesh
        self.lo, self.hi = (wp.vec3(*x.tolist()) for x in slot.verts.aminmax(dim=0))
        # The finalizer holds the slot, so the slot is never garbage together with this object (a __del__ that put
        # it back could resurrect a Warp mesh whose own finalizer already freed it, inside a collected cycle).
        weakref.finalize(self, _release, topology, slot).atexit = False

    def _wp_device(self) -> str:
        return "cpu" if self.device.type == "cpu" else f"cuda:{self.device.index or 0}"

    def _stream(self):
        """On CUDA, Warp's builds, refits and launches in this block run on torch's current stream (ordered with the
        torch work that made their inputs and reads their outputs); nothing on the CPU."""
        if self.device.type != "cuda":
            return contextlib.nullcontext()
        return wp.ScopedStream(wp.stream_from_torch(torch.cuda.current_stream(self.device)))

    def _launch(self, kernel, points: torch.Tensor, outputs: list[torch.Tensor], *params,
                per_thread: int = 2048) -> None:
        """Run kernel over points [P, 3] writing outputs [P]. On the CPU, Warp's launches are serial and release
        the GIL: split them over torch's threads, at least `per_thread` points each; each Warp thread walks RUN
        consecutive points (their answers do not depend on it). On CUDA, one point per thread."""
        pts = points.detach().to(device=self.device, dtype=torch.float32).contiguous()
        if len(pts) == 0:
            return
        if self.device.type == "cuda":
            with self._stream():
                wp.launch(kernel, len(pts), inputs=[self.mesh.id, _vec3(pts), 1, *params],
                          outputs=[wp.from_torch(o) for o in outputs], device=self._wp_device())
            return
        n = max(1, min(torch.get_num_threads(), len(pts) // per_thread))
        bounds = [len(pts) * k // n for k in range(n + 1)]

        def run(k: int) -> None:
            s, e = bounds[k], bounds[k + 1]
            wp.launch(kernel, -(-(e - s) // RUN), inputs=[self.mesh.id, _vec3(pts[s:e]), RUN, *params],
                      outputs=[wp.from_torch(o[s:e]) for o in outputs], device="cpu")
        if n == 1:
            run(0)
        else:
            list(_pool().map(run, range(n)))

    def closest_face(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """points [P, 3] -> index [P] (long) of the closest face, inside [P] (bool: winding number > 1/2) and the
        signed distance [P] (float32, negative inside; detached: for values, not gradients)."""
        face = torch.empty(len(points), dtype=torch.int32, device=self.device)
        inside = torch.empty_like(face)
        sdf = torch.empty(len(points), dtype=torch.float32, device=self.device)
        self._launch(_closest_face_kernel, points, [face, inside, sdf], self.lo, self.hi, WINDING_ACCURACY)
        return face.long(), inside.bool(), sdf

    def closest_vertex(self, points: torch.Tensor, max_distance: float = MAX_DISTANCE) -> torch.Tensor:
        """points [P, 3] -> index [P] (long) of the nearest vertex (a mesh built without faces), -1 where none is
        within max_distance (a bounded query stops early: far points cost little)."""
        vertex = torch.empty(len(points), dtype=torch.int32, device=self.device)
        self._launch(_closest_vertex_kernel, points, [vertex], float(max_distance), per_thread=16384)
        return vertex.long()
