"""A fourteenth, independently written set of planted one-line bugs for tools/mutation_check.py, spread over the
whole package: the op dispatcher and the fast upsampling's adjoint, the plane samplers' borders and lattice path,
the marcher and the box renderer, generator wiring, metric reductions, training schedules and snapshot names,
shape grids, sampling cameras and the mesh-query method choice of the pose-conditional branch.

    python tools/mutation_check.py --mutants tools/mutants_set14.py --out /tmp/mutation_set14.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no source line mutated here is
mentioned in mutation_check.py or mutants_set2.py ... mutants_set13.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- ops (6) ---
    ("ops/dispatch.py", 'chosen = DEVICE_PATHS.get(torch.device(device).type, {}).get(op, "fast")',
     'chosen = DEVICE_PATHS.get(torch.device(device).type, {}).get(op, "reference")', NET + REND,
     "ops without a device entry default to their reference twin: every fast path is silently off on the CPU"),
    ("ops/dispatch.py", "_state.paths = {**previous, **choices}", "_state.paths = {**choices, **previous}",
     NET + REND, "a nested op_paths() block cannot override the path an enclosing block chose for the same op"),
    ("ops/dispatch.py", 'filter(None, (part.strip() for part in text.split(",")))',
     '(part.strip() for part in text.split(","))', NET,
     "parse_op_paths('') (or a trailing comma) raises 'expected op=path' instead of returning no choices"),
    ("ops/upfirdn2d.py", "[g.shape[0], g.shape[1], n], False, 2.0)",
     "[g.shape[0], g.shape[1], n], True, 2.0)", NET,
     "the fast 2x upsampling's backward corrects its border lines with the align_corners=True adjoint: gradients "
     "at the image edges differ from the reference"),
    ("ops/upfirdn2d.py", "up == 2 and padding == 0 and gain == 1", "up == 2 and gain == 1", NET,
     "upsample2d with extra padding takes the bilinear fast path and ignores the padding (wrong output size)"),
    ("ops/modulated_conv.py", "w = weight.unsqueeze(1) * styles.unsqueeze(1)",
     "w = weight.unsqueeze(1) * styles.unsqueeze(2)", NET,
     "the batched K-plane head lays out (plane, channel) instead of (channel, plane): OrthoPlanes features are "
     "scrambled across planes and channels"),

    # --- planes (5) ---
    ("planes/sampling.py", "(i0 >= 0) & (i0 < size)", "(i0 >= 0) & (i0 <= size)", NET + REND,
     "points just beyond the far edge of a plane read the last texel instead of zero padding"),
    ("planes/sampling.py", "w1 = t - t0", "w1 = t.detach() - t0", NET + COND,
     "the gather sampler is constant in the points between texels: no gradient w.r.t. points (eikonal terms are 0)"),
    ("planes/sampling.py", "TRIPLANE_AXES = {False: ([0, 1], [1, 2], [2, 0]),",
     "TRIPLANE_AXES = {False: ([0, 1], [1, 2], [0, 2]),", NET + REND,
     "the corrected tri-plane reads its third plane at (x, z) instead of (z, x): a transposed plane"),
    ("planes/sampling.py", "dims = {m_u: 3, m_v: 2}", "dims = {m_u: 2, m_v: 3}", NET + SHAPES + SAMP,
     "the separable lattice path transposes each plane's (H, W): density grids disagree with per-point sampling"),
    ("planes/sampling.py", "return _grid_sample_axes(planes.permute(0, 2, 3, 1, 4, 5), coords)",
     "return _grid_sample_axes(planes.permute(0, 2, 3, 1, 5, 4), coords)", NET + REND,
     "the grid_sample reference reads orthoplanes with H and W swapped, disagreeing with the gather path"),

    # --- rendering (5) ---
    ("rendering/marcher.py", "weights[:, :, -1:] + (1 - weight_total).unsqueeze(2)", "weights[:, :, -1:]",
     REND + COND, "the pose-conditional marcher's depth ignores the leftover transmittance: thin rays' depth "
     "comes out too near"),
    ("rendering/marcher.py", 'torch.nan_to_num(depth, float("inf")), lo, hi',
     'torch.nan_to_num(depth, -float("inf")), lo, hi', REND,
     "rays without any density get the nearest depth of the range instead of the farthest"),
    ("rendering/renderer.py", "densities.split([S, N], 2)", "densities.split([N, S], 2)", REND + NET,
     "with single_backward the coarse and fine densities are split at the wrong index: the final render mixes "
     "them up (exactly when depth_resolution == depth_resolution_importance)"),
    ("rendering/renderer.py", "(~hit[..., 0]).to(torch.uint8)", "hit[..., 0].to(torch.uint8)", REND + COND,
     "render_in_boxes packs the rays that miss first: hit rays are rendered from the wrong pixels"),
    ("rendering/samplers.py", "mids = 0.5 * (z[:, :-1] + z[:, 1:])", "mids = z[:, :-1]", REND,
     "importance samples are drawn between coarse samples instead of coarse midpoints: shifted by half an "
     "interval towards the camera"),

    # --- networks (6) ---
    ("networks/generator.py", 'c * self.rendering_kwargs.get("c_scale", 0)',
     'c * self.rendering_kwargs.get("c_scale", 1)', NET + SAMP,
     "a generator built without c_scale conditions its mapping on the camera instead of ignoring it"),
    ("networks/generator.py", '"superresolution_noise_mode", "none"', '"superresolution_noise_mode", "random"',
     NET + SAMP, "the super-resolution layers add fresh random noise by default: the same seed gives different "
     "images"),
    ("networks/generator.py", "legacy_eg3d_axes=self.legacy_axes, cache=cache",
     "legacy_eg3d_axes=False, cache=cache", NET + SHAPES + SAMP,
     "density grids of released EG3D tri-plane checkpoints use the corrected axes and disagree with their renders"),
    ("networks/synthesis.py", "plane_head_inputs(ws[:, w_idx], self.planes_per_axis, self.fourier_L)",
     "plane_head_inputs(ws[:, w_idx + 1], self.planes_per_axis, self.fourier_L)", NET,
     "OrthoPlanes heads take each block's second w instead of its first (original checkpoints render differently)"),
    ("networks/layers.py", "if self.bias_gain != 1:", "if self.bias_gain == 1:", NET,
     "the mapping network's biases skip their lr_multiplier scaling (0.01): ws shift by the raw bias values"),
    ("networks/decoder.py", "if len(self.net) != 3:", "if len(self.net) != 4:", NET + SHAPES + COND,
     "decoder.sigma() of a 3-hidden-layer decoder treats a hidden layer as the output: wrong density grids"),

    # --- metrics (5) ---
    ("metrics/frechet.py", "(m1 - m2).square().sum()", "(m1 - m2).abs().sum()", MET,
     "FID's mean term is an L1 distance instead of the squared L2 distance"),
    ("metrics/swd.py", 'mode="reflect"), k.view(1, 1, 1, 5)', 'mode="replicate"), k.view(1, 1, 1, 5)', MET,
     "the SWD pyramid blurs horizontally with replicated instead of reflected borders"),
    ("metrics/reprojection.py", "return origins + depth.reshape(depth.shape[0], -1, 1) * dirs",
     "return origins + depth.transpose(-1, -2).reshape(depth.shape[0], -1, 1) * dirs", MET,
     "back-projection pairs each ray with the transposed pixel's depth: reproj error of a consistent scene > 0"),
    ("metrics/run.py", "total_err + err * n, total_frac + frac * n", "total_err + err, total_frac + frac * n", MET,
     "reproj_error is averaged per batch instead of per latent: about batch times too small"),
    ("metrics/run.py", '["image"].clamp(-1, 1).cpu()', '["image_raw"].clamp(-1, 1).cpu()', MET,
     "dataset-image metrics score the low-resolution raw rendering instead of the final image"),

    # --- training (5) ---
    ("training/loss.py", "min(cur_nimg / (fade_kimg * 1e3), 1.0) if fade_kimg > 0 else 1.0",
     "min(cur_nimg / (fade_kimg * 1e3), 1.0) if fade_kimg > 0 else 0.0", TRAIN,
     "a fade of 0 kimg never completes: pose swapping stays at 1 and the rendering resolution at its start"),
    ("training/loss.py", "max(1 - cur_nimg / (cfg.blur_fade_kimg * 1e3), 0) * cfg.blur_init_sigma",
     "max(1 - cur_nimg / cfg.blur_fade_kimg, 0) * cfg.blur_init_sigma", TRAIN,
     "the blur fade is measured in images instead of kimg: the discriminator's blur vanishes a thousand times early"),
    ("training/sampler.py", "yield self._index(position + self.rank * per_rank + i)",
     "yield self._index(position + self.rank + i)", TRAIN,
     "ranks of a multi-process run read overlapping slices of the batch and skip others"),
    ("training/snapshots.py", "int(m.group(1)) * (1 if m.group(2) else 1000)",
     "int(m.group(1)) * (1000 if m.group(2) else 1)", TRAIN,
     "without latest-snapshot.txt, resuming picks the wrong snapshot (image counts and kimg names mixed up)"),
    ("training/report.py", "r, q = divmod(i, cols)", "q, r = divmod(i, cols)", TRAIN,
     "the fakes grid is written column by column into the wrong cells (or fails for non-square grids)"),

    # --- shapes and sampling (4) ---
    ("shapes/grid.py", 'np.searchsorted(coarse, fine, side="right") - 1',
     'np.searchsorted(coarse, fine, side="left") - 1', SHAPES + SAMP,
     "coarse-to-fine grids interpolate from the wrong coarse cell at the coarse grid points: wrong meshes"),
    ("sampling/render.py", "return trim_border(grid, inplace=True) if trim and body is None else grid",
     "return trim_border(grid, inplace=True) if body is None else grid", SAMP + SHAPES,
     "density_grid(trim=False) still trims the border of the grid"),
    ("sampling/views.py", "return view_labels(G, [(0.0, 0.0)], fov_deg)", "return view_labels(G, [(0.0, 0.0)])",
     SAMP + MET, "the conditioning camera ignores --fov: mapping is conditioned on the preset's focal"),
    ("sampling/video.py", "i = int(math.floor(t)) % n", "i = int(round(t)) % n", SAMP,
     "video latent interpolation jumps a key ahead in the second half of every segment"),

    # --- conditioning (4) ---
    ("conditioning/mesh_index.py", 'return cpu_available() if device.type == "cpu" else cuda_available()',
     'return cuda_available() if device.type == "cpu" else cpu_available()', COND,
     "Warp's availability is checked for the other device: CPU mesh queries fall back to (or wrongly demand) CUDA"),
    ("conditioning/mesh_index.py", "if using_reference() or not warp_available():", "if not warp_available():",
     COND, "inside reference_ops() the 'auto' mesh queries still use Warp instead of the torch reference"),
    ("conditioning/mesh_index.py", "{(kind, i): self._built[kind, b] for i, b in enumerate(rows)",
     "{(kind, b): self._built[kind, b] for i, b in enumerate(rows)", COND,
     "a selected MeshIndex files structures under the old body numbers: bodies query another body's mesh"),
    ("conditioning/posed.py", "return rotation_to_euler_xyz(self.rot[:, 1:]).reshape(len(self), -1)",
     "return rotation_to_euler_xyz(self.rot[:, :-1]).reshape(len(self), -1)", COND,
     "the discriminator's pose label includes the root and drops the last joint"),
]
