"""Signed distance from points to a closed triangle mesh, batched in torch and differentiable in the points.

Distance: exact point-to-triangle distance (closest point by region tests, Ericson's "Real-Time Collision
Detection" 5.1.5), minimum over faces - the true distance, not its square. Sign: the generalized winding
number (sum of the faces' solid angles / 4 pi; about 1 inside a closed mesh, 0 outside), robust to the
near-degenerate closest features where normal-based signs fail. Cost O(P F), chunked over points.
"""
from __future__ import annotations

import math

import torch


def closest_point_on_triangles(p: torch.Tensor, a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """p [..., 3] and triangle corners a, b, c broadcastable to it -> closest points on the triangles [..., 3]."""
    ab, ac, ap = b - a, c - a, p - a
    d1, d2 = (ab * ap).sum(-1), (ac * ap).sum(-1)
    bp = p - b
    d3, d4 = (ab * bp).sum(-1), (ac * bp).sum(-1)
    cp = p - c
    d5, d6 = (ab * cp).sum(-1), (ac * cp).sum(-1)
    vc = d1 * d4 - d3 * d2
    vb = d5 * d2 - d1 * d6
    va = d3 * d6 - d5 * d4
    eps = 1e-20
    # interior of the face by default
    denom = (va + vb + vc).clamp_min(eps)
    v, w = vb / denom, vc / denom
    out = a + ab * v.unsqueeze(-1) + ac * w.unsqueeze(-1)
    # edges (checked in reverse order of precedence, so the earlier region tests win)
    t_bc = ((d4 - d3) / ((d4 - d3) + (d5 - d6)).clamp_min(eps)).unsqueeze(-1)
    on_bc = (va <= 0) & (d4 - d3 >= 0) & (d5 - d6 >= 0)
    out = torch.where(on_bc.unsqueeze(-1), b + (c - b) * t_bc, out)
    t_ac = (d2 / (d2 - d6).clamp_min(eps)).unsqueeze(-1)
    on_ac = (vb <= 0) & (d2 >= 0) & (d6 <= 0)
    out = torch.where(on_ac.unsqueeze(-1), a + ac * t_ac, out)
    t_ab = (d1 / (d1 - d3).clamp_min(eps)).unsqueeze(-1)
    on_ab = (vc <= 0) & (d1 >= 0) & (d3 <= 0)
    out = torch.where(on_ab.unsqueeze(-1), a + ab * t_ab, out)
    # vertices
    out = torch.where(((d6 >= 0) & (d5 <= d6)).unsqueeze(-1), c.expand_as(out), out)
    out = torch.where(((d3 >= 0) & (d4 <= d3)).unsqueeze(-1), b.expand_as(out), out)
    out = torch.where(((d1 <= 0) & (d2 <= 0)).unsqueeze(-1), a.expand_as(out), out)
    return out


def winding_number(points: torch.Tensor, a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Generalized winding number of points [P, 3] w.r.t. triangles a, b, c [F, 3] (Van Oosterom-Strackee)."""
    ra, rb, rc = a[None] - points[:, None], b[None] - points[:, None], c[None] - points[:, None]  # [P, F, 3]
    la, lb, lc = ra.norm(dim=-1), rb.norm(dim=-1), rc.norm(dim=-1)
    det = (ra * torch.linalg.cross(rb, rc, dim=-1)).sum(-1)
    den = la * lb * lc + (ra * rb).sum(-1) * lc + (rb * rc).sum(-1) * la + (rc * ra).sum(-1) * lb
    return (2 * torch.atan2(det, den)).sum(-1) / (4 * math.pi)


def mesh_sdf(points: torch.Tensor, verts: torch.Tensor, faces: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
    """Signed distance (negative inside) of points [B, P, 3] to meshes verts [B, V, 3] with faces [F, 3].

    Returns [B, P]. Differentiable in the points (and vertices) through the closest points.
    """
    out = []
    for bi in range(points.shape[0]):
        tri = verts[bi][faces]  # [F, 3, 3]
        a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
        rows = []
        for s in range(0, points.shape[1], chunk):
            p = points[bi, s:s + chunk]  # [p, 3]
            q = closest_point_on_triangles(p[:, None], a[None], b[None], c[None])  # [p, F, 3]
            d2 = (p[:, None] - q).square().sum(-1)  # [p, F]
            idx = d2.detach().argmin(dim=1)
            nearest = q[torch.arange(len(p)), idx]
            dist = (p - nearest).square().sum(-1).clamp_min(1e-18).sqrt()
            with torch.no_grad():
                inside = winding_number(p.detach(), a.detach(), b.detach(), c.detach()) > 0.5
            rows.append(torch.where(inside, -dist, dist))
        out.append(torch.cat(rows))
    return torch.stack(out)
