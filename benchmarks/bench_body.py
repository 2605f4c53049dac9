"""Inverse LBS + signed distance of many points against an SMPL-sized body mesh (6,890 vertices, 13,776 faces),
the same points for every path:

- op3d (Warp): `MeshIndex` method "warp" (NVIDIA Warp's BVH: closest face + winding-number sign, bounded nearest
  vertex), distances recomputed in torch; the default when warp-lang is installed.
- op3d (torch clusters): the reference twin (exact two-level cluster search, two-level fast winding number).
- dense reference: O(P V) nearest vertex, O(P F) distance and exact winding number (timed on --subset points,
  extrapolated linearly to --points).
- point-cloud-utils (libigl's AABB tree + fast winding number, C++) and Warp directly (one kernel, no torch), for
  the SDF; scipy's cKDTree (all cores) for the nearest vertex.
- on the CPU, op3d's Warp queries walking a run of consecutive points per thread (the default) against one point
  per thread, on 200,000 of the points in random order and on as many ray samples in ray order.

    python benchmarks/bench_body.py [--device cuda] [--points 1000000] [--subset 20000]

Prints a table (seconds per --points points, ratio to the dense reference) and writes JSON.
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import time
from pathlib import Path

import numpy as np
import torch

from op3d.conditioning.body_model import SMPL_PARENTS, skinning_transforms
from op3d.conditioning.inverse_lbs import inverse_lbs
from op3d.conditioning.mesh_index import MeshIndex, warp_runs_on
from op3d.conditioning.mesh_sdf import mesh_sdf


def body_like_mesh(n_lat: int = 85, n_lon: int = 82) -> tuple[torch.Tensor, torch.Tensor]:
    """A closed, lumpy, elongated UV-sphere mesh with 2 + (n_lat - 1) n_lon = 6890 vertices, 13,776 faces."""
    verts = [[0.0, 1.0, 0.0]]
    for i in range(1, n_lat):
        theta = math.pi * i / n_lat
        for j in range(n_lon):
            phi = 2 * math.pi * j / n_lon
            r = 1 + 0.15 * math.sin(3 * theta) * math.cos(2 * phi)
            verts.append([0.25 * r * math.sin(theta) * math.cos(phi), math.cos(theta) * 0.85,
                          0.15 * r * math.sin(theta) * math.sin(phi)])
    verts.append([0.0, -0.85, 0.0])
    verts[0][1] = 0.85
    ring = lambda i, j: 1 + (i - 1) * n_lon + j % n_lon
    faces = []
    last = len(verts) - 1
    for j in range(n_lon):
        faces += [[0, ring(1, j + 1), ring(1, j)], [last, ring(n_lat - 1, j), ring(n_lat - 1, j + 1)]]
    for i in range(1, n_lat - 1):
        for j in range(n_lon):
            a, b, c, d = ring(i, j), ring(i, j + 1), ring(i + 1, j), ring(i + 1, j + 1)
            faces += [[a, b, d], [a, d, c]]
    return torch.tensor(verts, dtype=torch.float32), torch.tensor(faces)


def posed(verts: torch.Tensor, seed: int = 0):
    """Skin the mesh to 24 joints along its axis with smooth weights and random joint rotations."""
    g = torch.Generator().manual_seed(seed)
    joints = torch.zeros(1, 24, 3)
    joints[0, :, 1] = torch.linspace(-0.8, 0.8, 24)
    d2 = (verts[:, None, 1] - joints[0, None, :, 1]) ** 2
    weights = torch.softmax(-d2 / 0.005, dim=1)
    angles = torch.randn(1, 24, 3, generator=g) * 0.05
    K = torch.zeros(1, 24, 3, 3)
    K[..., 0, 1], K[..., 0, 2], K[..., 1, 2] = -angles[..., 2], angles[..., 1], -angles[..., 0]
    rot = torch.matrix_exp(K - K.transpose(-1, -2))
    _, A = skinning_transforms(rot, joints, torch.tensor(SMPL_PARENTS))
    T = torch.einsum("vj,bjkl->bvkl", weights, A)
    v = (T[..., :3, :3] @ verts[None, ..., None]).squeeze(-1) + T[..., :3, 3]
    return v, T, A[:, 0]


def body_path(points, verts, faces, T, root, method):
    index = MeshIndex(verts, faces, method)
    canonical, _ = inverse_lbs(points, verts, T, root, threshold=0.1, index=index)
    return canonical, mesh_sdf(points, verts, faces, index=index)


def timed(fn, device) -> tuple[float, object]:
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    with torch.no_grad():
        out = fn()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0, out


def warp_direct(points: torch.Tensor, verts: torch.Tensor, faces: torch.Tensor) -> tuple[float, torch.Tensor]:
    """Warp's own signed-distance query, one launch (single-threaded on the CPU), no torch around it."""
    import warp as wp

    from op3d.conditioning.warp_queries import _init

    _init()

    @wp.kernel
    def sdf(mesh: wp.uint64, pts: wp.array(dtype=wp.vec3), out: wp.array(dtype=float)):
        i = wp.tid()
        q = wp.mesh_query_point_sign_winding_number(mesh, pts[i], 1.0e30, 2.0, 0.5)
        out[i] = q.sign * wp.length(pts[i] - wp.mesh_eval_position(mesh, q.face, q.u, q.v))

    device = "cpu" if points.device.type == "cpu" else "cuda:0"
    mesh = wp.Mesh(points=wp.from_torch(verts.contiguous(), dtype=wp.vec3),
                   indices=wp.from_torch(faces.to(torch.int32).reshape(-1).contiguous()), support_winding_number=True)
    pts = wp.from_torch(points.contiguous(), dtype=wp.vec3)
    out = wp.zeros(len(points), dtype=float, device=device)
    wp.launch(sdf, 1000, inputs=[mesh.id, pts, out], device=device)  # compile / load
    wp.synchronize()
    t0 = time.perf_counter()
    wp.launch(sdf, len(points), inputs=[mesh.id, pts, out], device=device)
    wp.synchronize()
    return time.perf_counter() - t0, wp.to_torch(out)


def ray_samples(verts: torch.Tensor, rays: int, per_ray: int, seed: int = 2) -> torch.Tensor:
    """[rays * per_ray, 3]: stratified samples between random entry and exit points of the mesh's box grown by
    0.1 m, in ray order (as the renderer queries them: a ray's samples are consecutive and sorted)."""
    g = torch.Generator().manual_seed(seed)
    lo, hi = verts.amin(0) - 0.1, verts.amax(0) + 0.1
    a, b = (lo + (hi - lo) * torch.rand(rays, 1, 3, generator=g) for _ in range(2))
    t = (torch.arange(per_ray) + torch.rand(rays, per_ray, generator=g)) / per_ray
    return (a + t[..., None] * (b - a)).reshape(-1, 3)


def along_rays(verts: torch.Tensor, faces: torch.Tensor, points: torch.Tensor, repeats: int = 5) -> dict:
    """CPU Warp queries walking RUN consecutive points per thread (the default) vs one point per thread, on the
    same number of points in random order and in ray order: median seconds of `repeats` alternated runs."""
    from op3d.conditioning import warp_queries

    face_mesh, vertex_mesh = warp_queries.WarpMesh(verts, faces), warp_queries.WarpMesh(verts)
    out, run = {}, warp_queries.RUN
    for order, pts in (("random_order", points), ("ray_order", ray_samples(verts, len(points) // 32, 32))):
        for name, query in (("closest_face", face_mesh.closest_face),
                            ("nearest_vertex_within_0.1m", lambda p: vertex_mesh.closest_vertex(p, 0.1))):
            times = {run: [], 1: []}
            for _ in range(repeats):
                for r in times:
                    warp_queries.RUN = r
                    t0 = time.perf_counter()
                    query(pts)
                    times[r].append(time.perf_counter() - t0)
            warp_queries.RUN = run
            t_run, t_one = (float(np.median(times[r])) for r in (run, 1))
            out[f"{name}_{order}"] = {"points": len(pts), f"run_{run}_s": t_run, "run_1_s": t_one,
                                      "ratio": t_run / t_one}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--subset", type=int, default=20_000, help="points the dense reference runs on (extrapolated)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    device = torch.device(args.device)
    rest, faces = body_like_mesh()
    verts, T, root = posed(rest)
    g = torch.Generator().manual_seed(1)
    points = (torch.rand(1, args.points, 3, generator=g) * 2 - 1) * torch.tensor([0.4, 1.0, 0.3])
    n = min(args.subset, args.points)
    dv, dT, droot, dp, df = verts.to(device), T.to(device), root.to(device), points.to(device), faces.to(device)
    methods = ["warp", "clusters"] if warp_runs_on(device) else ["clusters"]
    for method in methods + ["brute"]:  # warm-up (Warp compiles or loads its kernels here)
        body_path(dp[:, :500], dv, df, dT, droot, method)
    rows, results = {}, {}
    for method in methods:
        t, results[method] = timed(lambda: body_path(dp, dv, df, dT, droot, method), device)
        t_build, index = timed(lambda: MeshIndex(dv, df, method), device)
        t_build_all, _ = timed(lambda: (index.closest_faces(dp[:, :1]), index.nearest_vertices(dp[:, :1])), device)
        t_sdf, _ = timed(lambda: mesh_sdf(dp, dv, df, index=index), device)
        t_vert, _ = timed(lambda: index.nearest_vertices(dp, 0.1), device)
        rows[f"op3d_{method}"] = {"seconds_for_points": t, "extrapolated": False, "points_run": args.points,
                                  "sdf_seconds": t_sdf, "nearest_vertex_within_0.1m_seconds": t_vert,
                                  "index_build_seconds": t_build + t_build_all}
    t_ref, (canon_ref, sdf_ref) = timed(lambda: body_path(dp[:, :n], dv, df, dT, droot, "brute"), device)
    rows["reference_dense"] = {"seconds_for_points": t_ref * args.points / n, "extrapolated": n != args.points,
                               "points_run": n}
    for method, (canon, sdf) in results.items():
        rows[f"agreement_{method}_with_reference"] = {
            "max_abs_sdf_diff_m": float((sdf[:, :n] - sdf_ref).abs().max()),
            "sign_agreement": float(((sdf[:, :n] < 0) == (sdf_ref < 0)).float().mean()),
            "max_canonical_diff_m": float((canon[:, :n] - canon_ref).abs().max())}
    if "warp" in results:
        t_direct, sdf_direct = warp_direct(dp[0], dv[0], df)
        rows["warp_direct_1thread"] = {"seconds_for_points": t_direct, "extrapolated": False,
                                       "points_run": args.points, "sdf_only": True}
        rows["agreement_warp_direct_with_op3d"] = {
            "max_abs_sdf_diff_m": float((sdf_direct.cpu() - results["warp"][1][0].cpu()).abs().max())}
    if "warp" in results and device.type == "cpu":
        rows["warp_queries_along_rays_cpu"] = along_rays(dv[0], df, dp[0, :200_000])
    sdf = results[methods[0]][1]
    try:
        import point_cloud_utils as pcu

        v64, f32, p64 = verts[0].double().numpy(), faces.numpy().astype(np.int32), points[0].double().numpy()
        t0 = time.perf_counter()
        ref, fid, bary = pcu.signed_distance_to_mesh(p64, v64, f32)
        rows["point_cloud_utils_cpu"] = {"seconds_for_points": time.perf_counter() - t0, "extrapolated": False,
                                         "points_run": args.points, "sdf_only": True}
        ours = sdf[0].double().cpu().numpy()
        q = (bary[:, :, None] * v64[f32[fid]]).sum(1)
        rows["agreement_with_point_cloud_utils"] = {
            "sign_agreement": float((np.sign(ours) == np.sign(ref)).mean()),
            "max_abs_diff_to_its_closest_point_m": float(np.abs(np.abs(ours) - np.linalg.norm(p64 - q, axis=1)).max()),
            "max_abs_diff_to_its_distance_value_m": float(np.abs(ours - ref).max())}
    except ImportError:
        rows["point_cloud_utils_cpu"] = "not installed (pip install point-cloud-utils)"
    try:
        from scipy.spatial import cKDTree

        v_np, p_np = verts[0].numpy(), points[0].numpy()
        t0 = time.perf_counter()
        cKDTree(v_np).query(p_np, workers=-1)
        rows["scipy_ckdtree_nearest_vertex_cpu"] = {"seconds_for_points": time.perf_counter() - t0,
                                                    "extrapolated": False, "points_run": args.points,
                                                    "nearest_vertex_only": True}
    except ImportError:
        rows["scipy_ckdtree_nearest_vertex_cpu"] = "not installed (pip install scipy)"
    print(f"{'path':<34} {'s per ' + format(args.points, ','):>16} {'x reference':>12}  note")
    for name, r in rows.items():
        if isinstance(r, dict) and "seconds_for_points" in r:
            note = f"extrapolated from {r['points_run']}" if r["extrapolated"] else \
                "SDF only" if r.get("sdf_only") else "nearest vertex only" if r.get("nearest_vertex_only") else ""
            if "sdf_seconds" in r:
                note = (f"SDF {r['sdf_seconds']:.2f} s, nearest vertex within 0.1 m "
                        f"{r['nearest_vertex_within_0.1m_seconds']:.2f} s, build {r['index_build_seconds']:.3f} s")
            ratio = rows["reference_dense"]["seconds_for_points"] / r["seconds_for_points"]
            print(f"{name:<34} {r['seconds_for_points']:>16.2f} {ratio:>12.1f}  {note}")
    for key, r in rows.get("warp_queries_along_rays_cpu", {}).items():
        print(f"Warp {key} ({r['points']:,} points): {r['ratio']:.2f}x the time of one point per thread")
    for key, r in rows.items():
        if key.startswith("agreement") and isinstance(r, dict):
            print(key + ": " + ", ".join(f"{k} {v:.3g}" for k, v in r.items()))
    result = {"benchmark": "inverse LBS + mesh SDF", "mesh": {"vertices": len(rest), "faces": len(faces)},
              "points": args.points, "device": str(device), "torch": torch.__version__,
              "threads": torch.get_num_threads(), "machine": platform.processor() or platform.machine(),
              "rows": rows}
    out = Path(args.out or Path(__file__).parent / "results" / f"body_{device.type}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
