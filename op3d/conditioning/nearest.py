"""Exact nearest-element search (vertices or triangles of a mesh) for many points, batched in torch.

Elements are grouped into clusters of `size` spatially close elements (consecutive in the Morton order of their
centres), and clusters into groups of `group_size` clusters the same way: two levels of axis-aligned boxes. The
distance from a point to a box is a lower bound on its distance to anything inside. Per point, the search first
evaluates the `seeds` clusters with the nearest anchors inside the group with the nearest anchor, which gives an
upper bound u on the nearest distance; then it opens every group whose box is within u, and inside those, every
cluster whose box is within u, element by element. The answer is the brute-force one (ties aside) without a
pointer-chasing tree: dense tensor passes that run the same way on CPU and GPU, with memory bounded by `chunk`.

Shapes: P points, N elements, m corners per element (1 for vertices, 3 for triangles), C clusters of G,
S groups of H clusters. Indices only: nothing here carries gradients.
"""
from __future__ import annotations

import itertools
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
    lo: torch.Tensor  # [C, 3], hi [C, 3]: the axis-aligned box of the members' corners
    hi: torch.Tensor
    anchor: torch.Tensor  # [C, 3]: the corners' mean of one member (to pick the likely nearest clusters)
    valid: torch.Tensor  # [C, G] bool: False for the padding repeats in the last cluster
    groups: Clusters | None = None  # the clusters grouped the same way (members index clusters)


def morton_order(x: torch.Tensor, bits: int = 10) -> torch.Tensor:
    """Permutation [N] sorting points x [N, 3] along a Z-order curve over their bounding box."""
    lo, hi = x.min(0).values, x.max(0).values
    q = ((x - lo) / (hi - lo).clamp_min(1e-12) * (2 ** bits - 1)).round().long()
    code = torch.zeros(len(x), dtype=torch.long, device=x.device)
    for b in range(bits):
        for axis in range(3):
            code |= ((q[:, axis] >> b) & 1) << (3 * b + axis)
    return torch.argsort(code, stable=True)


def build_clusters(corners: torch.Tensor, size: int = 32, group_size: int | None = 16) -> Clusters:
    """corners [N, m, 3] (each element is the convex hull of its m corners) -> Clusters of `size` elements,
    themselves grouped by `group_size` (None: one level only)."""
    corners = corners.detach()
    N = corners.shape[0]
    order = morton_order(corners.mean(1))
    C = -(-N // size)
    pad = order[-1:].expand(C * size - N)
    members = torch.cat([order, pad]).reshape(C, size)
    pts = corners[members].reshape(C, -1, 3)  # [C, G m, 3]
    lo, hi = pts.amin(1), pts.amax(1)
    center = (lo + hi) / 2
    radius = (pts - center[:, None]).norm(dim=-1).amax(1)
    anchor = corners[members[:, size // 2]].mean(1)
    valid = (torch.arange(C * size, device=members.device) < N).reshape(C, size)
    groups = None
    if group_size is not None:  # clusters as elements: their boxes, by the 8 corners
        box = torch.stack([torch.where(torch.tensor(bits, device=lo.device, dtype=torch.bool), hi, lo)
                           for bits in itertools.product((False, True), repeat=3)], 1)  # [C, 8, 3]
        groups = build_clusters(box, group_size, None)
        groups.anchor = anchor[groups.members[:, group_size // 2]]
    return Clusters(members, center, radius, lo, hi, anchor, valid, groups)


def box_distance2(p: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    """Squared distances of points p from axis-aligned boxes lo, hi (broadcast together) -> [...]."""
    return ((lo - p).clamp_min(0) + (p - hi).clamp_min(0)).square().sum(-1)


def nearest_element(points: torch.Tensor, clusters: Clusters, element_d2: ElementDistance, seeds: int = 2,
                    chunk: int = 1 << 21) -> tuple[torch.Tensor, torch.Tensor]:
    """points [P, 3] -> index [P] of the nearest element and its squared distance [P] (exact; detached).

    clusters must have groups (build_clusters' default). chunk bounds the number of (point, element) or
    (point, box) pairs evaluated at once.
    """
    points = points.detach()
    S, H = clusters.groups.members.shape
    G = clusters.members.shape[1]
    index = torch.empty(len(points), dtype=torch.long, device=points.device)
    d2 = torch.empty(len(points), dtype=points.dtype, device=points.device)
    step = max(1, chunk // max(S, min(seeds, H) * G))
    # rounding slack: box distances are compared with element distances computed in the points' precision
    scale = torch.cat([clusters.lo.abs(), clusters.hi.abs(), points.abs()]).max()
    slack = 64 * torch.finfo(points.dtype).eps * float(scale)
    for s in range(0, len(points), step):
        index[s:s + step], d2[s:s + step] = _search(points[s:s + step], clusters, element_d2, seeds, slack, chunk)
    return index, d2


def _search(p: torch.Tensor, cl: Clusters, element_d2: ElementDistance, seeds: int, slack: float,
            chunk: int) -> tuple[torch.Tensor, torch.Tensor]:
    gr = cl.groups
    H, G = gr.members.shape[1], cl.members.shape[1]
    # upper bound: the elements of the `seeds` clusters with the nearest anchors in the group with the nearest anchor
    kids = gr.members[torch.cdist(p, gr.anchor.to(p.dtype)).argmin(1)]  # [p, H]
    near = (p[:, None] - cl.anchor[kids].to(p.dtype)).square().sum(-1).topk(min(seeds, H), dim=1, largest=False)
    cand = cl.members[kids.gather(1, near.indices)].reshape(len(p), -1)
    best_d2, arg = element_d2(p, cand).min(1)
    best = cand.gather(1, arg[:, None])[:, 0]

    def within(lower2: torch.Tensor, bound: torch.Tensor) -> torch.Tensor:
        return (lower2.sqrt() - slack).clamp_min(0).square() <= bound

    pt, g = torch.nonzero(within(box_distance2(p[:, None], gr.lo, gr.hi).to(p.dtype), best_d2[:, None]),
                          as_tuple=True)
    for s in range(0, len(pt), max(1, chunk // H)):  # clusters of the open groups
        ps, cs = pt[s:s + chunk // H, None], gr.members[g[s:s + chunk // H]]  # [M, 1], [M, H]
        keep = gr.valid[g[s:s + chunk // H]] & within(box_distance2(p[ps], cl.lo[cs], cl.hi[cs]).to(p.dtype),
                                                       best_d2[ps])
        ps, cs = ps.expand_as(cs)[keep], cs[keep]
        for e in range(0, len(ps), max(1, chunk // G)):  # their elements
            pe, elems = ps[e:e + chunk // G], cl.members[cs[e:e + chunk // G]]  # [Q], [Q, G]
            pair_d2, pair_arg = element_d2(p[pe], elems).min(1)
            best_d2 = best_d2.scatter_reduce(0, pe, pair_d2, reduce="amin")
            win = pair_d2 <= best_d2[pe]
            best[pe[win]] = elems.gather(1, pair_arg[:, None])[win, 0]
    return best, best_d2


def vertex_distance(verts: torch.Tensor) -> ElementDistance:
    """Squared distances to vertices verts [V, 3] (elements are vertices)."""
    return lambda p, idx: (p[:, None] - verts[idx].to(p.dtype)).square().sum(-1)

