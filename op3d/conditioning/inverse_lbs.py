"""Inverse linear blend skinning: map points around a posed body back to the canonical (rest) space.

Each point takes the inverse blended transform of its nearest posed vertex; points farther than `threshold`
from the body take the root joint's inverse transform (OP3D's scheme).
"""
from __future__ import annotations

import torch

from op3d.conditioning.mesh_index import MeshIndex, nearest_vertex


def transform_table(vertex_inverses: torch.Tensor, root_inverse: torch.Tensor) -> torch.Tensor:
    """vertex_inverses [B, V, 4, 4], root_inverse [B, 4, 4] (canonical <- posed transforms) -> [B, V + 1, 12]:
    their top 3 x 4 rows, flattened, one row per vertex and the root's last (the table `apply_table_rows` reads)."""
    return torch.cat([vertex_inverses, root_inverse[:, None]], dim=1)[..., :3, :].flatten(2)


def inverse_transform_table(vertex_transforms: torch.Tensor, root_transform: torch.Tensor) -> torch.Tensor:
    """vertex_transforms [B, V, 4, 4], root_transform [B, 4, 4] -> `transform_table` of their inverses (the table
    `inverse_lbs` gathers from; build it once per posed body, e.g. `PosedBody.inverse_transform_table()`)."""
    return transform_table(torch.linalg.inv(vertex_transforms), torch.linalg.inv(root_transform))


def apply_table_rows(table: torch.Tensor, vertex: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """table [B, V + 1, 12] (`inverse_transform_table`: per-vertex 3 x 4 transforms, row-major, the root's last),
    vertex [B, P] (long; -1: the root's row), points [B, P, 3] -> each point moved by its row's transform."""
    row = torch.where(vertex < 0, table.shape[1] - 1, vertex)
    M = torch.gather(table.to(points.dtype), 1, row[..., None].expand(-1, -1, table.shape[-1])).unflatten(-1, (3, 4))
    return (M[..., :3] * points.unsqueeze(-2)).sum(-1) + M[..., 3]


def inverse_lbs(points: torch.Tensor, posed_verts: torch.Tensor, vertex_transforms: torch.Tensor | None,
                root_transform: torch.Tensor | None, threshold: float = 0.1, method: str = "auto",
                index: MeshIndex | None = None, table: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """points [B, P, 3]; posed_verts [B, V, 3]; vertex_transforms [B, V, 4, 4] (the blended T of lbs());
    root_transform [B, 4, 4]. Returns canonical points [B, P, 3] and the nearest-vertex distance [B, P] (inf
    beyond threshold: the search stops there).

    The inverse of each vertex's blended transform is exact for the skinned vertices themselves (they map back
    to their rest positions including shape and pose correctives' rest-space offsets). The nearest vertex comes
    from `index` (a MeshIndex of posed_verts, e.g. `PosedBody.mesh_index()`), else from one built with `method`
    ("auto" | "warp" | "clusters" | "brute": the same answer, see `op3d.conditioning.mesh_index`).
    table: `inverse_transform_table(vertex_transforms, root_transform)` computed beforehand (then the two
    transform arguments may be None); otherwise it is computed here.
    """
    with torch.no_grad():
        idx, dist = nearest_vertex(points, posed_verts, method, index, max_distance=threshold)
    if table is None:
        table = inverse_transform_table(vertex_transforms, root_transform)
    return apply_table_rows(table, idx, points), dist  # beyond the threshold (-1): the root's row


def normalize_canonical(points: torch.Tensor, scale: float = 1.2, offset=(0.0, 0.3, 0.0)) -> torch.Tensor:
    """Place canonical body coordinates in the planes' box: (p + offset) / scale (OP3D: offset y 0.3, scale 1.2)."""
    return (points + torch.tensor(offset, dtype=points.dtype, device=points.device)) / scale
