"""A sixth, independently written set of planted one-line bugs for tools/mutation_check.py: the pose-conditional
branch (body model, inverse LBS, mesh queries, PARE import, posed bodies, the conditional generators and the
conditional loss terms).

    python tools/mutation_check.py --mutants tools/mutants_set6.py --out /tmp/mutation_set6.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no fragment shares a source line
with a fragment of mutation_check.py or mutants_set2.py .. mutants_set5.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # body model: forward kinematics, skinning, rotations
    ("conditioning/body_model.py", "rel[:, 1:] = joints[:, 1:] - joints[:, parents[1:]]",
     "rel[:, 1:] = joints[:, 1:] - joints[:, :-1]", ["test_body_model.py", "test_inverse_lbs.py"] + COND,
     "bone offsets taken from the previous joint instead of the parent: branching limbs posed in the wrong place"),
    ("conditioning/body_model.py", "chain.append(chain[int(parents[j])] @ local[:, j])",
     "chain.append(local[:, j] @ chain[int(parents[j])])", ["test_body_model.py", "test_inverse_lbs.py"] + COND,
     "kinematic chain composed in the wrong order: posed joints and vertices wrong for any non-rest pose"),
    ("conditioning/body_model.py", "angle = 2 * torch.atan2(vec_norm, q[..., :1])",
     "angle = torch.atan2(vec_norm, q[..., :1])", ["test_body_model.py", "test_pare.py"] + COND,
     "matrix_to_axis_angle returns half the rotation angle: PARE rotations imported at half strength"),
    ("conditioning/body_model.py", 'T = torch.einsum("vj,bjkl->bvkl", model.weights, A)',
     'T = torch.einsum("vj,bjkl->bvlk", model.weights, A)', ["test_body_model.py", "test_inverse_lbs.py"] + COND,
     "blended per-vertex transforms transposed: skinned vertices rotated the wrong way and translations lost"),
    # inverse LBS
    ("conditioning/inverse_lbs.py",
     "return transform_table(torch.linalg.inv(vertex_transforms), torch.linalg.inv(root_transform))",
     "return transform_table(torch.linalg.inv(vertex_transforms), root_transform)", ["test_inverse_lbs.py"] + COND,
     "points far from the body moved by the root's forward transform instead of its inverse"),
    ("conditioning/inverse_lbs.py",
     "return (points + torch.tensor(offset, dtype=points.dtype, device=points.device)) / scale",
     "return points / scale + torch.tensor(offset, dtype=points.dtype, device=points.device)",
     ["test_inverse_lbs.py"] + COND, "canonical points offset after scaling: the body sits off-centre in the planes"),
    # mesh queries: closest point, winding number, cluster search, mesh checks
    ("conditioning/mesh_sdf.py", "((d1 <= 0) & (d2 <= 0), zero, zero, CORNER_A))",
     "((d1 <= 0) | (d2 <= 0), zero, zero, CORNER_A))", ["test_mesh_sdf.py", "test_mesh_index.py"] + COND,
     "closest point snaps to corner a whenever one edge test passes: distances too large near edges ab / ca"),
    ("conditioning/mesh_sdf.py", "w = torch.where(near, 0, _dipole(A_g, rel, dist)).sum(1)",
     "w = torch.where(near, _dipole(A_g, rel, dist), 0).sum(1)", ["test_mesh_sdf.py", "test_mesh_index.py"] + COND,
     "fast winding number uses the far-field term of the near groups instead of the far ones: wrong inside/outside "
     "signs on the torch path"),
    ("conditioning/mesh_sdf.py",
     "inside = ((points.detach() - q.detach()) * chosen.to(points.dtype)).sum(-1) < 0",
     "inside = ((points.detach() - q.detach()) * chosen.to(points.dtype)).sum(-1) > 0",
     ["test_mesh_sdf.py"] + COND, "sign='pseudonormal' gives every distance the opposite sign"),
    ("conditioning/nearest.py", "win = pair_d2 <= best_d2[pe]", "win = pair_d2 < best_d2[pe]",
     ["test_mesh_index.py", "test_mesh_sdf.py", "test_inverse_lbs.py"] + COND,
     "cluster search never replaces its seed answer (the running minimum is already updated): not the nearest "
     "face / vertex"),
    ("conditioning/mesh_index.py", "bad = (~finite) | ~(area > 0)", "bad = (~finite) & ~(area > 0)",
     ["test_mesh_index.py", "test_mesh_sdf.py", "test_body_model.py"] + COND,
     "meshes with NaN vertices (or no area) accepted: NaN signed distances instead of a ValueError"),
    # Warp kernels (CPU and CUDA)
    ("conditioning/warp_queries.py", "sdf[i] = wp.where(ins == 1, -d, d)", "sdf[i] = wp.where(ins == 1, d, -d)",
     ["test_mesh_sdf.py", "test_mesh_index.py"] + COND,
     "Warp's signed distance (returned when no gradient is wanted) has the opposite sign"),
    ("conditioning/warp_queries.py", "d = wp.length(p - c)", "d = wp.length(p - c_prev)",
     ["test_mesh_sdf.py", "test_mesh_index.py"] + COND,
     "Warp measures each point's distance to the previous point's closest surface point: wrong no-grad SDF values "
     "and wrongly carried signs"),
    # PARE import
    ("conditioning/pare.py", "rot[0] = _FLIP @ rot[0]", "rot[0] = rot[0] @ _FLIP", ["test_pare.py"] + COND,
     "the camera-to-world flip applied on the wrong side of the root rotation: imported bodies face the wrong way"),
    ("conditioning/pare.py", "depth = 2 * focal / s", "depth = focal / s", ["test_pare.py"] + COND,
     "imported cameras sit at half the depth: bodies rendered twice as large as in the photo"),
    # posed bodies
    ("conditioning/posed.py", "a = torch.atan2(R[..., 2, 1], R[..., 2, 2])",
     "a = torch.atan2(R[..., 1, 2], R[..., 2, 2])", COND,
     "x Euler angle read from the transposed entry: joint-angle conditioning of D and the deformation negated"),
    ("conditioning/posed.py", 'root_transform=_translate(out["transforms"][:, 0], transl)',
     'root_transform=out["transforms"][:, 0]', ["test_inverse_lbs.py"] + COND,
     "root transform misses the translation: points far from a translated body map to the wrong canonical place"),
    # the pose-conditional generator
    ("networks/conditional.py",
     "return torch.sin(self.decoder(f.reshape(B * P, -1))).reshape(B, P, 3) * self.max_offset",
     "return torch.tanh(self.decoder(f.reshape(B * P, -1))).reshape(B, P, 3) * self.max_offset", COND,
     "deformation offsets bounded by tanh instead of sin: the same weights (the released ones too) deform "
     "differently"),
    ("networks/conditional.py", "return x + self.deformation(x, self.deformation_condition(ws, body))",
     "return x + self.deformation(points, self.deformation_condition(ws, body))", COND,
     "deformation MLP fed world points instead of the normalized canonical ones: pose-dependent offsets"),
    ("networks/conditional.py", "f = torch.sin(net_W(cond).unsqueeze(1) * f + net_b(cond).unsqueeze(1))",
     "f = torch.sin(net_W(cond).unsqueeze(1) * f) + net_b(cond).unsqueeze(1)", COND,
     "FiLM bias added outside the sine: unbounded features, different offsets from the same weights"),
    # the released (legacy) pose-conditional generator
    ("networks/conditional_legacy.py", "body_term = d * d.abs()", "body_term = d * d", COND,
     "squared body term loses its inside sign: the released checkpoint renders no solid body"),
    ("networks/conditional_legacy.py", "scale = torch.tensor((1 / CANONICAL_SCALE, 1 / CANONICAL_SCALE, 1.0)",
     "scale = torch.tensor((1 / CANONICAL_SCALE, 1 / CANONICAL_SCALE, 1 / CANONICAL_SCALE)", COND,
     "canonical z scaled too (the release leaves it unscaled): released weights read the wrong plane features"),
    ("networks/conditional_legacy.py", 'cano[:, :3, :3] = flip[:, None] * out["rot"][:, 0].transpose(1, 2)',
     'cano[:, :3, :3] = flip[:, None] * out["rot"][:, 0]', COND,
     "root orientation applied instead of removed: legacy bodies come out rotated twice"),
    # conditional loss terms
    ("training/loss.py",
     'loss = terms["eikonal"] * self.cfg.eikonal_weight + terms["sdf_prior"] * self.cfg.sdf_prior_weight',
     'loss = terms["eikonal"] * self.cfg.sdf_prior_weight + terms["sdf_prior"] * self.cfg.eikonal_weight',
     TRAIN + COND, "eikonal and SDF-prior weights swapped: the regularizer's balance is off by 1000x"),
    ("training/loss.py",
     'logits = self.run_D({"image": image, "image_raw": raw}, real_c, cur_nimg, body=real_body)',
     'logits = self.run_D({"image": image, "image_raw": raw}, real_c, cur_nimg, body=gen_body)',
     TRAIN + COND, "D scores real images against the generated samples' poses: pose conditioning learns nothing"),
]
