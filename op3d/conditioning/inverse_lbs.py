"""Inverse linear blend skinning: map points around a posed body back to the canonical (rest) space.

Each point takes the inverse blended transform of its nearest posed vertex; points farther than `threshold`
from the body take the root joint's inverse transform (OP3D's scheme).
"""
from __future__ import annotations

import torch

from op3d.conditioning.mesh_index import MeshIndex, nearest_vertex


def inverse_lbs(points: torch.Tensor, posed_verts: torch.Tensor, vertex_transforms: torch.Tensor,
                root_transform: torch.Tensor, threshold: float = 0.1, method: str = "auto",
                index: MeshIndex | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """points [B, P, 3]; posed_verts [B, V, 3]; vertex_transforms [B, V, 4, 4] (the blended T of lbs());
    root_transform [B, 4, 4]. Returns canonical points [B, P, 3] and the nearest-vertex distance [B, P] (inf
    beyond threshold: the search stops there).

    The inverse of each vertex's blended transform is exact for the skinned vertices themselves (they map back
    to their rest positions including shape and pose correctives' rest-space offsets). The nearest vertex comes
    from `index` (a MeshIndex of posed_verts, e.g. `PosedBody.mesh_index()`), else from one built with `method`
    ("auto" | "warp" | "clusters" | "brute": the same answer, see `op3d.conditioning.mesh_index`).
    """
    with torch.no_grad():
        idx, dist = nearest_vertex(points, posed_verts, method, index, max_distance=threshold)
    inv_T = torch.linalg.inv(vertex_transforms)  # [B, V, 4, 4]
    chosen = torch.gather(inv_T, 1, idx.clamp_min(0)[..., None, None].expand(-1, -1, 4, 4))  # [B, P, 4, 4]
    root_inv = torch.linalg.inv(root_transform)[:, None].expand_as(chosen)
    M = torch.where((idx < 0)[..., None, None], root_inv, chosen)
    canonical = (M[..., :3, :3] @ points.unsqueeze(-1)).squeeze(-1) + M[..., :3, 3]
    return canonical, dist


def normalize_canonical(points: torch.Tensor, scale: float = 1.2, offset=(0.0, 0.3, 0.0)) -> torch.Tensor:
    """Place canonical body coordinates in the planes' box: (p + offset) / scale (OP3D: offset y 0.3, scale 1.2)."""
    return (points + torch.tensor(offset, dtype=points.dtype, device=points.device)) / scale
