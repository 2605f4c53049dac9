"""A third, independently written set of planted one-line bugs for tools/mutation_check.py, aimed at the
pose-conditional branch (body model, inverse LBS, mesh queries and signed distance, box rendering, SDF losses).

    python tools/mutation_check.py --mutants tools/mutants_set3.py --out /tmp/mutation_set3.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The test lists are defined here (no names from mutation_check's scope are
used), chosen from the test files' names alone; none of these mutants repeats one of mutation_check's list or
of tools/mutants_set2.py.
"""

BODY = ["test_body_model.py"]
LBS = ["test_inverse_lbs.py"]
SDF = ["test_mesh_sdf.py"]
INDEX = ["test_mesh_index.py"]
CONDITIONAL = ["test_conditional.py"]
RENDERING = ["test_rendering.py"]
TRAINING = ["test_training_units.py", "test_training_hand.py"]

MUTANTS = [
    # ---------------------------------------------------------------- conditioning/inverse_lbs.py
    ("conditioning/inverse_lbs.py", "row = torch.where(vertex < 0, table.shape[1] - 1, vertex)",
     "row = torch.where(vertex < 0, 0, vertex)", LBS + CONDITIONAL,
     "points beyond the LBS threshold take vertex 0's inverse transform instead of the root's"),
    ("conditioning/inverse_lbs.py", "return (M[..., :3] * points.unsqueeze(-2)).sum(-1) + M[..., 3]",
     "return (M[..., :3] * points.unsqueeze(-1)).sum(-2) + M[..., 3]", LBS + CONDITIONAL,
     "inverse transforms applied with the rotation part transposed: canonical points rotated the wrong way"),
    # ---------------------------------------------------------------- conditioning/mesh_sdf.py
    ("conditioning/mesh_sdf.py", "return torch.where(inside, -dist, dist)", "return torch.where(inside, dist, -dist)",
     SDF + CONDITIONAL, "mesh signed distance positive inside, negative outside (torch path)"),
    ("conditioning/mesh_sdf.py", "dist = (points - q).square().sum(-1).clamp_min(1e-18).sqrt()",
     "dist = (points - q).square().sum(-1)", SDF + CONDITIONAL,
     "squared point-to-mesh distance returned (the released code's bug) instead of the distance"),
    ("conditioning/mesh_sdf.py", "return 2 * torch.atan2(det, den) / (4 * math.pi)",
     "return torch.atan2(det, den) / (4 * math.pi)", SDF + INDEX,
     "solid angles halved: winding number ~1/2 inside, torch-path signs wrong"),
    # ---------------------------------------------------------------- conditioning/mesh_index.py
    ("conditioning/mesh_index.py", "beyond = (idx < 0) | (dist > max_distance)", "beyond = idx < 0",
     INDEX + LBS, "torch paths (full search) never mark vertices beyond max_distance: far points skip the root "
                  "transform unless Warp answered"),
    ("conditioning/mesh_index.py", "candidates = torch.cat([face[:, None], across[face]], 1)  # [P, 4]",
     "candidates = across[face]  # [P, 3]", INDEX + SDF,
     "float64 refinement of Warp's face drops the picked face itself: always moves to a neighbour"),
    # ---------------------------------------------------------------- conditioning/warp_queries.py
    ("conditioning/warp_queries.py", "p[0] > hi[0] or p[1] > hi[1] or p[2] > hi[2]",
     "p[0] > hi[0] or p[1] > lo[1] or p[2] > hi[2]", INDEX + SDF,
     "Warp box test compares y with the box's low corner: points above the mesh bottom counted outside"),
    ("conditioning/warp_queries.py", "ins = wp.where(q.sign < 0.0, 1, 0)",
     "ins = wp.where(q.sign > 0.0, 1, 0)", INDEX + SDF,
     "Warp winding-number sign read inverted: inside and outside swapped within the mesh's box"),
    ("conditioning/warp_queries.py", "same_sign = carried and wp.length(p - p_prev) < 0.99 * d_prev - 1.0e-6",
     "same_sign = carried and wp.length(p - p_prev) < 1.1 * d_prev", INDEX,
     "a ray's next sample keeps the previous sign after a step slightly longer than the distance to the surface: "
     "samples just across a surface get the wrong sign"),
    ("conditioning/warp_queries.py", "bound = wp.min(max_distance, wp.length(p - v_prev) * 1.0001 + 1.0e-6)",
     "bound = wp.length(p - v_prev) * 1.0001 + 1.0e-6", INDEX,
     "the carried nearest-vertex bound ignores max_distance: vertices beyond the LBS threshold reported"),
    ("conditioning/warp_queries.py", "slot.mesh.refit()", "pass", INDEX,
     "a pooled Warp mesh is reused without a refit: queries answer for the previous body's pose"),
    ("conditioning/warp_queries.py", "if pooled + _triangles(slot) <= _FREE_LIMIT:", "if True:", INDEX,
     "the pool of dropped Warp meshes is unbounded: memory grows with every new mesh topology"),
    # ---------------------------------------------------------------- conditioning/posed.py
    ("conditioning/posed.py", "c = torch.atan2(R[..., 1, 0], R[..., 0, 0])",
     "c = torch.atan2(R[..., 0, 1], R[..., 0, 0])", CONDITIONAL + BODY,
     "z Euler angle from the transposed entry: joint-angle features (D label, deformation input) wrong"),
    ("conditioning/posed.py", "out[..., :3, 3] = out[..., :3, 3] + transl.reshape(shape)",
     "out[..., :3, 3] = transl.reshape(shape)", CONDITIONAL + LBS,
     "body translation overwrites the transforms' translation instead of adding to it: inverse LBS misplaced"),
    # ---------------------------------------------------------------- conditioning/body_model.py
    ("conditioning/body_model.py", "return eye + s * K + (1 - c) * (K @ K)",
     "return eye - s * K + (1 - c) * (K @ K)", BODY,
     "Rodrigues with the sine term's sign flipped: every joint rotates the opposite way"),
    ("conditioning/body_model.py",
     "A[..., :3, 3] = world[..., :3, 3] - (world[..., :3, :3] @ joints.unsqueeze(-1)).squeeze(-1)",
     "A[..., :3, 3] = world[..., :3, 3] - joints", BODY,
     "skinning transforms subtract the unrotated rest joint: posed limbs detach from their joints"),
    ("conditioning/body_model.py", "pose_feature = (rot[:, 1:] - eye).reshape(B, -1)  # [B, P]",
     "pose_feature = rot[:, 1:].reshape(B, -1)  # [B, P]", BODY,
     "pose correctives driven by R instead of R - I: the rest pose is not the template"),
    # ---------------------------------------------------------------- rendering/renderer.py
    ("rendering/renderer.py", "hit = (end > 0) & (end > start)", "hit = end > start", RENDERING + CONDITIONAL,
     "boxes behind the camera count as hits: such rays marched over an empty or reversed range"),
    ("rendering/renderer.py", "put(scene_hi.to(depth_hit.dtype), depth_hit)",
     "put(scene_lo.to(depth_hit.dtype), depth_hit)",
     RENDERING + CONDITIONAL, "rays that miss their box get the near end of the range as depth, not the far end"),
    ("rendering/renderer.py", "rgb, depth, weights = ray_march(colors, densities, depths, options.white_back, "
     "depth_range=depth_range,", "rgb, depth, weights = ray_march(colors, densities, depths, options.white_back, "
     "depth_range=None,", RENDERING + CONDITIONAL,
     "depth_range never reaches the marcher: box renders clamp depth to the samples' min / max"),
    ("rendering/renderer.py", "single_backward, piece(ray_range, i), piece(depth_range, i))",
     "single_backward, piece(depth_range, i), piece(ray_range, i))",
     RENDERING + CONDITIONAL, "chunked renders swap ray_range and depth_range: samples spread over the scene range"),
    # ---------------------------------------------------------------- rendering/rays.py
    ("rendering/rays.py", 't_near = torch.minimum(t1, t2).nan_to_num(-float("inf")).amax(-1, keepdim=True)',
     't_near = torch.minimum(t1, t2).nan_to_num(-float("inf")).amin(-1, keepdim=True)', RENDERING + CONDITIONAL,
     "slab entry taken as the earliest slab instead of the latest: rays enter boxes too early, misses look like "
     "hits"),
    ("rendering/rays.py", "t1 = (lo - origins) * inv", "t1 = (origins - lo) * inv", RENDERING + CONDITIONAL,
     "low slab distance with the wrong sign: box entry / exit wrong, 'auto' ray ranges wrong"),
    # ---------------------------------------------------------------- networks/conditional.py
    ("networks/conditional.py", "return torch.cat([betas, body.joint_angles().to(ws.dtype), ws[:, -1]], dim=1)",
     "return torch.cat([betas, body.joint_angles().to(ws.dtype), ws[:, 0]], dim=1)", CONDITIONAL,
     "deformation field conditioned on the first w instead of the last (differs under style mixing)"),
    ("networks/conditional.py", "verts.amin(1) - margin,", "verts.amin(1) + margin,", CONDITIONAL + RENDERING,
     "body box margin added to the low corner: box shrinks on one side, body cut off at feet / back / left"),
    ("networks/conditional.py", "with torch.set_grad_enabled(eikonal):", "with torch.no_grad():",
     CONDITIONAL + TRAINING, "mesh distance always detached: eikonal gradient sees only the residual"),
    # ---------------------------------------------------------------- training/loss.py (sdf_reg)
    ("training/loss.py", "uniform = (self._rand(ws.shape[0], n, 3, device=ws.device) * 2 - 1) * half",
     "uniform = self._rand(ws.shape[0], n, 3, device=ws.device) * half", TRAINING,
     "eikonal points only in the positive octant of the rendering box"),
    ("training/loss.py", '"eikonal": (grad.norm(dim=-1) - 1).square().mean()',
     '"eikonal": (grad.norm(dim=-1) - 1).abs().mean()', TRAINING, "eikonal penalty L1 instead of squared"),
    ("training/loss.py", '"sdf_prior": out["residual"].square().mean()', '"sdf_prior": out["sdf"].square().mean()',
     TRAINING, "SDF prior penalizes the whole SDF instead of the residual: pulls the surface onto every point"),
]
