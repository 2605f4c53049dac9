"""An eleventh, independently written set of planted one-line bugs for tools/mutation_check.py: the networks
(synthesis noise, discriminator resnet gain), plane sampling, the ops (upfirdn2d and its fast 2x upsampling,
modulated convolutions, bias_act, conv2d_resample), the renderer and samplers, and the pose-conditional branch
(SMPL-layout LBS and pose parameters, inverse LBS, mesh signed distance, nearest-element search, Warp queries,
posed bodies, the conditional generators).

    python tools/mutation_check.py --mutants tools/mutants_set11.py --out /tmp/mutation_set11.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no source line mutated here is
mentioned in mutation_check.py or mutants_set2.py ... mutants_set10.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- synthesis and discriminator (2) ---
    ("networks/synthesis.py", "noise = torch.randn(shape, device=x.device) * self.noise_strength",
     "noise = torch.randn(shape, device=x.device)", NET,
     "noise_mode='random' adds unit-variance noise whatever the learned noise_strength (0 at init): planes jitter"),
    ("networks/discriminator.py", "x = self.conv1(x, gain=np.sqrt(0.5))", "x = self.conv1(x)", NET,
     "discriminator resnet blocks scale only the skip branch by sqrt(0.5), not the main branch: logits change"),
    # --- plane sampling (2) ---
    ("planes/sampling.py", "weight.append(wt * ok)", "weight.append(wt)", NET,
     "the gather sampler forgets zero padding: points outside the planes read clamped edge texels"),
    ("planes/sampling.py", 'padding_mode="zeros", align_corners=False)',
     'padding_mode="border", align_corners=False)', NET,
     "the grid_sample reference twin pads by the border: it disagrees with the gather path near and beyond the box"),
    # --- ops (7) ---
    ("ops/upfirdn2d.py", "v = 0 if value is None else 0.25 * value.reshape(-1, 1)",
     "v = 0 if value is None else 0.75 * value.reshape(-1, 1)", NET,
     "fast 2x upsampling with a bias (the skip-image path) gives the border rows and columns the wrong bias"),
    ("ops/upfirdn2d.py", "grad[:, :, -1] -= 0.25 * _upsample_linear_adjoint(g[:, :, -1])",
     "grad[:, :, -1] -= 0.25 * _upsample_linear_adjoint(g[:, :, 0])", NET,
     "backward of the fast 2x upsampling corrects the last row with the first row's gradient: wrong plane grads"),
    ("ops/upfirdn2d.py", "x = F.pad(x, [0, upx - 1, 0, 0, 0, upy - 1])",
     "x = F.pad(x, [upx - 1, 0, 0, 0, upy - 1, 0])", NET,
     "reference upfirdn2d inserts its zeros before each pixel instead of after: upsampled images shift by a pixel"),
    ("ops/modulated_conv.py", "w = w * dcoefs.reshape(B, -1, 1, 1, 1)", "w = w * dcoefs.reshape(B, 1, -1, 1, 1)", NET,
     "fused modulated conv demodulates along the input channels instead of the output channels (or fails to run)"),
    ("ops/modulated_conv.py", "w = weight.unsqueeze(0) * styles.reshape(B, 1, -1, 1, 1)",
     "w = weight.unsqueeze(0) * styles.reshape(B, -1, 1, 1, 1)", NET,
     "modulated conv scales output instead of input channels by the styles (or fails to run when O != I)"),
    ("ops/bias_act.py", "x = x.clamp(-clamp, clamp)", "x = x.clamp(max=clamp)", NET,
     "bias_act's conv_clamp only clamps from above: large negative activations pass unclamped"),
    ("ops/conv2d_resample.py", "transpose=True, flip_weight=not flip_weight)",
     "transpose=True, flip_weight=flip_weight)", NET,
     "upsampling convolutions (synthesis conv0 of every block) use a flipped 3x3 kernel: wrong planes"),
    # --- rendering (6) ---
    ("rendering/rays.py", "dirs = torch.nn.functional.normalize(world - origins, dim=2)",
     "dirs = world - origins", REND,
     "ray directions are not unit length: sample depths (and the depth image) are scaled off-axis"),
    ("rendering/samplers.py", "depths = ray_start.unsqueeze(2) + steps * (ray_end - ray_start).unsqueeze(2)",
     "depths = ray_start.unsqueeze(2) + steps * ray_end.unsqueeze(2)", REND + COND,
     "per-ray ranges (ray_start 'auto', body boxes) sample from start to start + end instead of start to end"),
    ("rendering/samplers.py", "+ jitter / (S - 1)", "+ jitter / S", REND,
     "disparity-space sampling jitters by 1/S of the range instead of 1/(S-1): samples bunch toward the near end"),
    ("rendering/samplers.py", "above = torch.clamp_max(inds, M)", "above = torch.clamp_max(inds, M - 1)", REND,
     "inverse-CDF off by one: importance samples in the last bin collapse onto its start"),
    ("rendering/marcher.py", "depths: torch.Tensor, white_back: bool = True",
     "depths: torch.Tensor, white_back: bool = False", REND + COND,
     "the released pose-conditional marcher composites on black instead of white by default"),
    ("rendering/renderer.py", "for t, v in ((start, 0.0), (end, 1.0)))",
     "for t, v in ((scene_lo, 0.0), (end, 1.0)))", REND + COND,
     "render_in_boxes samples hit rays from the scene's ray start instead of their box entry: coarse samples wasted"),
    # --- body model: LBS, pose parameters, procedural body (6) ---
    ("conditioning/body_model.py", "angle = torch.norm(rotvec + 1e-8, dim=-1, keepdim=True)",
     "angle = torch.norm(rotvec, dim=-1, keepdim=True)", COND,
     "axis-angle to matrix divides 0 by 0 for zero rotations: the rest pose (and every identity joint) gives NaN"),
    ("conditioning/body_model.py", "local[..., :3, 3] = rel", "local[..., :3, 3] = joints", COND,
     "forward kinematics uses absolute rest joints as the bone offsets: posed joints and skin land far off"),
    ("conditioning/body_model.py", "v_posed = v_shaped + (pose_feature @ model.posedirs).reshape(B, -1, 3)",
     "v_posed = v_shaped + (pose_feature @ model.posedirs).reshape(B, 3, -1).transpose(1, 2)", COND,
     "pose correctives read with the wrong layout ([3, V] instead of smplx's [V, 3]): posed vertices are skewed"),
    ("conditioning/body_model.py", 'joints = torch.einsum("jv,bvc->bjc", model.J_regressor, v_shaped)',
     'joints = torch.einsum("jv,vc->jc", model.J_regressor, model.v_template).expand(B, -1, -1)', COND,
     "joints regressed from the template, not the shaped body: betas move the skin but not the skeleton"),
    ("conditioning/body_model.py", "return torch.cat([betas, pose.reshape(*pose.shape[:-2], 72), transl], dim=-1)",
     "return torch.cat([pose.reshape(*pose.shape[:-2], 72), betas, transl], dim=-1)", COND,
     "join_pose_params writes pose before betas: pose files and synthetic data disagree with split_pose_params"),
    ("conditioning/body_model.py", "(faces if volume > 0 else faces[:, ::-1])",
     "(faces if volume < 0 else faces[:, ::-1])", COND,
     "the procedural body is wound inward: winding numbers are -1 inside, so the SDF is positive inside the body"),
    # --- inverse LBS (2) ---
    ("conditioning/inverse_lbs.py", "torch.cat([vertex_inverses, root_inverse[:, None]], dim=1)",
     "torch.cat([root_inverse[:, None], vertex_inverses], dim=1)", COND,
     "transform table puts the root first: every point takes its neighbour vertex's inverse transform"),
    ("conditioning/inverse_lbs.py", "nearest_vertex(points, posed_verts, method, index, max_distance=threshold)",
     "nearest_vertex(points, posed_verts, method, index)", COND,
     "inverse LBS ignores its threshold: points far from the body use the nearest vertex, not the root transform"),
    # --- mesh signed distance, mesh index, nearest search (4) ---
    ("conditioning/mesh_sdf.py", "+ 2 * v * w * ac_ab +", "+ v * w * ac_ab +", COND,
     "the cluster search's point-triangle distance drops a factor 2 in its expansion: wrong closest faces"),
    ("conditioning/mesh_sdf.py", "((vb <= 0) & (d2 >= 0) & (d6 <= 0), zero, d2 / (d2 - d6).clamp_min(eps), EDGE_CA)",
     "((vb <= 0) & (d2 >= 0) & (d6 <= 0), d2 / (d2 - d6).clamp_min(eps), zero, EDGE_CA)", COND,
     "points nearest edge ca are projected onto edge ab: SDF magnitudes (and their gradients) wrong there"),
    ("conditioning/mesh_index.py", "dist = (points - near).norm(dim=-1)", "dist = (points - near).square().sum(-1)",
     COND, "nearest_vertex returns squared distances: the inverse-LBS threshold compares metres with metres^2"),
    ("conditioning/nearest.py", "return ((lo - p).clamp_min(0) + (p - hi).clamp_min(0)).square().sum(-1)",
     "return ((p - lo).clamp_min(0) + (p - hi).clamp_min(0)).square().sum(-1)", COND,
     "box lower bound is wrong inside boxes: the cluster search prunes the nearest element ('clusters' != 'brute')"),
    # --- posed bodies (2) ---
    ("conditioning/posed.py", "b = torch.atan2(-R[..., 2, 0], ", "b = torch.atan2(R[..., 2, 0], ", COND,
     "joint-angle y component has the wrong sign: wrong D condition and deformation input for bent joints"),
    ("conditioning/posed.py",
     "torch.cat([c, body.betas.to(c.dtype), body.joint_angles().to(c.dtype)], dim=1)",
     "torch.cat([c, body.joint_angles().to(c.dtype), body.betas.to(c.dtype)], dim=1)", COND,
     "the discriminator's pose label puts joint angles before betas, unlike OP3D's 25 + 10 + 69 layout"),
    # --- Warp queries, host side (2) ---
    ("conditioning/warp_queries.py",
     "self.lo, self.hi = (wp.vec3(*x.tolist()) for x in slot.verts.aminmax(dim=0))",
     "self.hi, self.lo = (wp.vec3(*x.tolist()) for x in slot.verts.aminmax(dim=0))", COND,
     "Warp's mesh box is swapped: every point counts as outside, nothing is ever inside the body (SDF >= 0)"),
    ("conditioning/warp_queries.py", "slot.verts.copy_(verts.detach())",
     "slot.verts = verts.detach().to(torch.float32).contiguous()", COND,
     "a reused Warp mesh rebinds its vertex tensor instead of copying: the refit BVH keeps the previous body's pose"),
    # --- conditional generators (3) ---
    ("networks/conditional.py", "fc(i, hidden), nn.LeakyReLU(0.2), fc(hidden, hidden)",
     "fc(i, hidden), nn.ReLU(), fc(hidden, hidden)", COND,
     "the deformation field's condition/point MLPs use ReLU instead of lrelu(0.2): offsets differ (released too)"),
    ("networks/conditional_legacy.py", "for axis, order in enumerate(((0, 1, 2), (1, 2, 0), (2, 0, 1))):",
     "for axis, order in enumerate(((0, 1, 2), (2, 0, 1), (1, 2, 0))):", COND,
     "released sampler reads axes 1 and 2 with each other's coordinate order: the SHHQ checkpoint renders garbage"),
    ("networks/conditional_legacy.py", "rotation_to_euler_xyz(body.full_pose[:, 1:, :3, :3])",
     "rotation_to_euler_xyz(body.full_pose[:, :-1, :3, :3])", COND,
     "legacy deformation condition takes the root and drops the last joint: angles shifted by one joint"),
]

# The conditioning modules' own test files (mapped after the mutants were written, by the lead, from the file names):
_OWN_TESTS = {
    "conditioning/body_model.py": ["test_body_model.py", "test_inverse_lbs.py", "test_pare.py"],
    "conditioning/inverse_lbs.py": ["test_inverse_lbs.py"],
    "conditioning/mesh_sdf.py": ["test_mesh_sdf.py", "test_mesh_index.py"],
    "conditioning/mesh_index.py": ["test_mesh_index.py", "test_mesh_sdf.py"],
    "conditioning/nearest.py": ["test_inverse_lbs.py", "test_mesh_index.py"],
    "conditioning/posed.py": ["test_body_model.py", "test_pare.py"],
    "conditioning/warp_queries.py": ["test_mesh_sdf.py", "test_mesh_index.py"],
}
MUTANTS = [(f, old, new, groups + _OWN_TESTS.get(f, []), note) for f, old, new, groups, note in MUTANTS]
