"""Exact nearest-element search (vertices or triangles of a mesh) for many points, batched in torch.

Elements are grouped into clusters of `size` spatially close elements (consecutive in the Morton order of their
centres), each bounded by a sphere that contains its elements whole. Any element of a cluster is at least
|p - centre| - radius from a point p. The search evaluates, per point, the `seeds` clusters with the smallest
bound, which gives an upper bound u on the nearest distance, then every other cluster whose bound is <= u,
element by element. The answer is the brute-force one (ties aside) without a tree: dense tensor passes that
run the same way on CPU and GPU, with memory bounded by `chunk`.

Shapes: P points, N elements, m corners per element (1 for vertices, 3 for triangles), C clusters of G.
Indices only: nothing here carries gradients.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

# element_d2(points [Q, 3], element indices [Q, G]) -> squared distances [Q, G]
ElementDistance = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class Clusters:
    members: torch.Tensor  # [C, G] element indices; the last cluster is padded by repeating an element
    center: torch.Tensor  # [C, 3]
    radius: torch.Tensor  # [C]: every point of every member lies within radius of center
    anchor: torch.Tensor  # [C, 3]: a point on one member (its corners' mean), for upper bounds
    valid: torch.Tensor  # [C, G] bool: False for the padding repeats in the last cluster


def morton_order(x: torch.Tensor, bits: int = 10) -> torch.Tensor:
    """Permutation [N] sorting points x [N, 3] along a Z-order curve over their bounding box."""
    lo, hi = x.min(0).values, x.max(0).values
    q = ((x - lo) / (hi - lo).clamp_min(1e-12) * (2 ** bits - 1)).round().long()
    code = torch.zeros(len(x), dtype=torch.long, device=x.device)
    for b in range(bits):
        for axis in range(3):
            code |= ((q[:, axis] >> b) & 1) << (3 * b + axis)
    return torch.argsort(code, stable=True)


def build_clusters(corners: torch.Tensor, size: int = 32) -> Clusters:
    """corners [N, m, 3] (each element is the convex hull of its m corners) -> Clusters of `size` elements."""
    corners = corners.detach()
    N = corners.shape[0]
    order = morton_order(corners.mean(1))
    C = -(-N // size)
    pad = order[-1:].expand(C * size - N)
    members = torch.cat([order, pad]).reshape(C, size)
    pts = corners[members].reshape(C, -1, 3)  # [C, G m, 3]
    center = (pts.amin(1) + pts.amax(1)) / 2
    radius = (pts - center[:, None]).norm(dim=-1).amax(1)
    anchor = corners[members[:, size // 2]].mean(1)
    valid = (torch.arange(C * size, device=members.device) < N).reshape(C, size)
    return Clusters(members, center, radius, anchor, valid)


def nearest_element(points: torch.Tensor, clusters: Clusters, element_d2: ElementDistance, seeds: int = 2,
                    chunk: int = 1 << 21) -> tuple[torch.Tensor, torch.Tensor]:
    """points [P, 3] -> index [P] of the nearest element and its squared distance [P] (exact; detached).

    chunk bounds the number of (point, element) distances evaluated at once.
    """
    points = points.detach()
    C, G = clusters.members.shape
    seeds = min(seeds, C)
    index = torch.empty(len(points), dtype=torch.long, device=points.device)
    d2 = torch.empty(len(points), dtype=points.dtype, device=points.device)
    step = max(1, chunk // max(C, seeds * G))
    for s in range(0, len(points), step):
        index[s:s + step], d2[s:s + step] = _search(points[s:s + step], clusters, element_d2, seeds, chunk)
    return index, d2


def _search(p: torch.Tensor, cl: Clusters, element_d2: ElementDistance, seeds: int,
            chunk: int) -> tuple[torch.Tensor, torch.Tensor]:
    C, G = cl.members.shape
    to_center = torch.cdist(p, cl.center.to(p.dtype), compute_mode="donot_use_mm_for_euclid_dist")  # [p, C]
    radius = cl.radius.to(p.dtype)
    # a conservative lower bound: rounding can only make it smaller than the true one
    lower = (to_center - radius) * (1 - 1e-5) - 1e-7 * radius
    to_anchor = torch.cdist(p, cl.anchor.to(p.dtype), compute_mode="donot_use_mm_for_euclid_dist")
    seed = to_anchor.topk(seeds, dim=1, largest=False).indices  # [p, s]: likely nearest clusters
    cand = cl.members[seed].reshape(len(p), seeds * G)
    d2 = element_d2(p, cand)
    best_d2, arg = d2.min(1)
    best = torch.gather(cand, 1, arg[:, None])[:, 0]
    lower.scatter_(1, seed, float("inf"))  # seeds are done
    pt, c = torch.nonzero(lower.clamp_min(0).square() <= best_d2[:, None], as_tuple=True)
    for s in range(0, len(pt), max(1, chunk // G)):
        ps, cs = pt[s:s + chunk // G], c[s:s + chunk // G]
        elems = cl.members[cs]  # [M, G]
        pair_d2, pair_arg = element_d2(p[ps], elems).min(1)
        pair_best = torch.gather(elems, 1, pair_arg[:, None])[:, 0]
        best_d2 = best_d2.scatter_reduce(0, ps, pair_d2, reduce="amin")
        win = pair_d2 <= best_d2[ps]
        best[ps[win]] = pair_best[win]
    return best, best_d2


def vertex_distance(verts: torch.Tensor) -> ElementDistance:
    """Squared distances to vertices verts [V, 3] (elements are vertices)."""
    return lambda p, idx: (p[:, None] - verts[idx].to(p.dtype)).square().sum(-1)


def nearest_vertex(points: torch.Tensor, verts: torch.Tensor, method: str = "clusters",
                   size: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """points [B, P, 3], verts [B, V, 3] -> nearest vertex index [B, P] and distance [B, P] (exact, detached).

    method: "clusters" (the cluster search) or "brute" (a dense scan, chunked; the reference).
    """
    if method not in ("clusters", "brute"):
        raise ValueError(f"unknown nearest-vertex method {method!r} (clusters | brute)")
    idx, dist = [], []
    for p, v in zip(points.detach(), verts.detach()):
        if method == "clusters":
            i, d2 = nearest_element(p, build_clusters(v[:, None], size), vertex_distance(v))
        else:
            every, step = torch.arange(len(v), device=v.device), max(1, (1 << 22) // len(v))
            pairs = [vertex_distance(v)(s, every.expand(len(s), -1)).min(1) for s in p.split(step)]
            d2, i = torch.cat([m.values for m in pairs]), torch.cat([m.indices for m in pairs])
        idx.append(i)
        dist.append(d2.sqrt())
    return torch.stack(idx), torch.stack(dist)
