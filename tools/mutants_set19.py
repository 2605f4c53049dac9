"""A nineteenth, independently written set of planted one-line bugs for tools/mutation_check.py, spread over
training (loop, loss, command line), the networks (generator, synthesis layers, discriminator, equalized-lr
layers, the pose-conditional generators), rendering (renderer, samplers), metrics (SWD, reprojection error,
precision/recall, the metric runner), sampling (command line, seed parsing, videos), shapes (grids, mesh export)
and the plane sampling / resampling ops: argument order, a keyword not forwarded, the wrong one of two similar
tensors, an inverted branch, a dropped gain or clamp, an off-by-one.

    python tools/mutation_check.py --mutants tools/mutants_set19.py --out /tmp/mutation_set19.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no fragment here contains, or is
contained in, a fragment of the same file in mutation_check.py or mutants_set2.py ... mutants_set18.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- training (7) ---------------------------------------------------------------------------------------------
    ("training/loop.py", '_set_rng_state(state["rng"], device)', "pass", TRAIN,
     "a resumed run does not restore the saved random-number state, so it draws other latents and cameras than "
     "the uninterrupted run would have"),
    ("training/loop.py", "update_ema(G_ema, G, cur_nimg, cfg.batch, ema_kimg, cfg.ema_rampup)",
     "update_ema(G_ema, G, cur_nimg, cfg.batch, ema_kimg, None)", TRAIN,
     "the EMA ramp-up is ignored, so early in training G_ema stays close to its random initialization instead of "
     "following G"),
    ("training/loop.py", '"batch_idx": batch_idx, "tick": tick,', '"batch_idx": tick, "tick": tick,', TRAIN,
     "snapshots store the tick count as the batch index, so a resumed run applies the lazy regularizers on other "
     "steps than the uninterrupted run"),
    ("training/loss.py", "sigma = blur_sigma(self.cfg, cur_nimg)", "sigma = blur_sigma(self.cfg, 0)", TRAIN,
     "the discriminator's image blur never fades out: it stays at its initial sigma for the whole run"),
    ("training/loss.py", "torch.cat([initial, perturbed], dim=1)", "torch.cat([initial, initial], dim=1)", TRAIN,
     "the density regularizer compares every point with itself, so it is always zero and never smooths the field"),
    ("training/cli.py", 'eikonal_weight=opts["eikonal"], sdf_prior_weight=opts["sdf_prior"])',
     'eikonal_weight=opts["sdf_prior"], sdf_prior_weight=opts["eikonal"])', TRAIN + ["test_conditional.py"],
     "op3d train --conditional swaps --eikonal and --sdf-prior, so the eikonal term gets weight 1 and the SDF prior "
     "1e-3"),
    ("training/cli.py", 'neural_rendering_resolution_final=opts["neural_rendering_resolution_final"],',
     "neural_rendering_resolution_final=None,", TRAIN,
     "op3d train ignores --neural_rendering_resolution_final: the neural rendering resolution never grows"),
    # --- networks (7) ---------------------------------------------------------------------------------------------
    ("networks/generator.py", 'if self.rendering_kwargs.get("c_gen_conditioning_zero", False):',
     'if not self.rendering_kwargs.get("c_gen_conditioning_zero", False):', NET + SAMP,
     "the mapping network is conditioned on the camera exactly when the generator was told not to be (and on "
     "zeros when it should see the camera), so images of loaded and trained models change"),
    ("networks/synthesis.py", "act=self.activation, gain=self.act_gain, clamp=self.conv_clamp)",
     "act=self.activation, gain=1, clamp=self.conv_clamp)", NET,
     "the synthesis layers drop the lrelu's sqrt(2) gain, so every backbone and super-resolution layer's output "
     "shrinks and the images differ from the original's"),
    ("networks/discriminator.py", "x = self.conv0(x)", "x = x", NET + TRAIN,
     "the discriminator's residual blocks skip their first 3x3 convolution, so its logits differ from the original "
     "discriminator's with the same weights"),
    ("networks/conditional.py", "base = mesh_sdf(points, body.vertices", "base = mesh_sdf(x, body.vertices", COND,
     "the body term of the pose-conditional SDF is measured from the normalized canonical point instead of the "
     "world point, so the rendered body is misplaced"),
    ("networks/conditional_legacy.py", "return out / 3", "return out", COND,
     "the released pose-conditional generator sums its three plane-axis samples instead of averaging them, so its "
     "checkpoint renders other colours and surfaces"),
    ("networks/conditional_legacy.py", "x = points * flip - torch.tensor((0.0, Y_SHIFT, 0.0)",
     "x = points * flip + torch.tensor((0.0, Y_SHIFT, 0.0)", COND,
     "the released generator's y shift goes the wrong way, so its body is sampled 0.3 units off the mesh"),
    ("networks/layers.py", "w = self.weight.to(x.dtype) * self.weight_gain", "w = self.weight.to(x.dtype)", NET,
     "fully connected layers drop their equalized-learning-rate weight gain, so mapping, affine and decoder layers "
     "compute much larger outputs than the original's"),
    # --- rendering (6) --------------------------------------------------------------------------------------------
    ("rendering/renderer.py", "dirs[:, i:i + chunk], options", "dirs[:, :chunk], options", REND,
     "chunked rendering (--chunk) gives every chunk the first chunk's ray directions, so the image is garbled or "
     "fails"),
    ("rendering/renderer.py", "depths = stratified_depths(start, end, B, R, S, jitter",
     "depths = stratified_depths(end, start, B, R, S, jitter", REND,
     "coarse samples run from the far bound to the near one, so compositing sees negative intervals and images and "
     "depths are wrong"),
    ("rendering/renderer.py", "merge_samples(depths, colors, densities, fine, colors_f, densities_f)",
     "merge_samples(fine, colors, densities, depths, colors_f, densities_f)", REND,
     "coarse colours and densities are merged with the fine depths and vice versa, so composited images and depths "
     "are wrong"),
    ("rendering/renderer.py", "fine = importance_depths(depths, weights, N, u)",
     "fine = importance_depths(depths, weights, N)", REND + ["test_training.py::test_steps_run_and_write_outputs"],
     "stochastic renders (training) place the importance samples at the fixed deterministic positions, ignoring "
     "the random draw"),
    ("rendering/samplers.py", "torch.gather(colors, -2, order.expand(-1, -1, -1, colors.shape[-1]))", "colors", REND,
     "merged samples are sorted by depth but their colours are not, so colours are composited at the wrong depths"),
    ("rendering/samplers.py", "idx = torch.stack([below, above], -1)", "idx = torch.stack([above, below], -1)",
     REND, "inverse-CDF sampling swaps the bracketing bins, so importance samples land outside where the coarse "
     "weight is"),
    # --- metrics (6) ----------------------------------------------------------------------------------------------
    ("metrics/swd.py", "cur = down", "pass", MET,
     "the Laplacian pyramid never descends: every SWD level is the finest band and the residual is the full image"),
    ("metrics/swd.py", "b.add(fake)", "b.add(real)", MET,
     "swd(real, fake) compares the reals with themselves, so every generator scores about the same small distance"),
    ("metrics/reprojection.py", "u = K[:, None, 0, 0] * x", "u = K[:, None, 0, 0] * y", MET,
     "projection into view B uses the y coordinate for the image column, so reprojection error and visibility "
     "are wrong"),
    ("metrics/reprojection.py", "seen = _sample(depth_b, uv)", "seen = _sample(depth_a, uv)", MET,
     "the occlusion test reads view A's depth at B's pixel, so visible pixels are dropped and occluded ones kept"),
    ("metrics/precision_recall.py", "for rows in probes.split(batch):", "for rows in manifold.split(batch):", MET,
     "coverage tests the manifold's own points instead of the probes, so precision and recall are always 1"),
    ("metrics/run.py", "c_a.expand(n, -1), c_b.expand(n, -1))", "c_a.expand(n, -1), c_a.expand(n, -1))", MET,
     "the reproj metric compares each view with itself, so every generator scores a reprojection error of about 0"),
    # --- sampling (6) ---------------------------------------------------------------------------------------------
    ("sampling/cli.py", 'images = to_uint8(r["image"][0])', 'images = to_uint8(r["image_raw"][0])', SAMP,
     "op3d sample writes the low-resolution raw neural renderings instead of the final images"),
    ("sampling/cli.py", ".cpu().numpy() if shape_colors", ".cpu().numpy() if not shape_colors", SAMP,
     "meshes come without vertex colours by default and --no-shape-colors asks for them"),
    ("sampling/views.py", "int(m.group(2) or m.group(1))", "int(m.group(2) or 0)", SAMP,
     "a single seed such as --seeds 7 is read as the backwards range 7-0 and refused"),
    ("sampling/cli.py", "rendering.mesh_grid(G, planes, shape_res, mesh_level,",
     "rendering.mesh_grid(G, planes, shape_res, 10.0,", SAMP + ["test_conditional.py"],
     "coarse-to-fine meshes refine around level 10 whatever --mesh-level (or the pose-conditional level 0) says, so "
     "their surfaces come from the coarse interpolation"),
    ("sampling/video.py", 'noise_mode="const", deterministic=True, **kwargs)',
     'noise_mode="const", deterministic=False, **kwargs)', SAMP,
     "video frames are rendered with random ray jitter, so videos flicker and differ from run to run"),
    ("sampling/video.py", 'depth_to_uint8(frame) if mode == "depth" else', 'depth_to_uint8(frame) if mode != "image" '
     "else", SAMP, "op3d video --mode raw writes grey min/max-normalized frames instead of the raw colours"),
    # --- shapes (5) -----------------------------------------------------------------------------------------------
    ("shapes/export.py", r'f.write(("\n".join(header) + "\n").encode("ascii"))',
     r'f.write("\n".join(header).encode("ascii"))', SHAPES + SAMP,
     "the .ply header lacks the newline after end_header, so mesh readers cannot open the file"),
    ("shapes/export.py", "np.clip(np.asarray(colors, dtype=np.float32), 0, 1)", "np.asarray(colors, dtype=np.float32)",
     SHAPES, "vertex colours outside [0, 1] are not clipped, so they wrap around in the .ply's uint8 colours"),
    ('shapes/export.py', 'vertex["p"] = verts', 'vertex["p"] = verts[:, ::-1]', SHAPES + SAMP,
     ".ply meshes are written with x and z swapped, so they are mirrored against the .obj and .mrc outputs"),
    ("shapes/grid.py", "grown = cells.copy()\n        for axis in range(3):",
     "grown = cells.copy()\n        for axis in range(2):", SHAPES + SAMP,
     "the coarse-to-fine grid grows the refined cells along x and y only, so near-surface points along z stay "
     "interpolated and the mesh differs from the dense grid's"),
    ("shapes/grid.py", "(steps + origin[m]).float()", "(steps + origin[0]).float()", SHAPES,
     "a grid centred off the origin takes the x origin on every axis, so its y and z samples are shifted"),
    # --- planes / ops (3) -----------------------------------------------------------------------------------------
    ("ops/upfirdn2d.py", "f = f / f.sum()", "f = f", NET,
     "resampling filters are not normalized, so every up/downsampling convolution scales its output by the filter "
     "sum (64) and G and D outputs blow up"),
    ("ops/conv2d_resample.py", "px0 += (fw - down + 1) // 2", "px0 += (fw + down - 1) // 2", NET,
     "downsampling convolutions pad the left border as upsampling does, so the discriminator's features shift by a "
     "pixel (or mismatch in size)"),
    ("planes/sampling.py", "(order[2], g[2]), 1 / 3,", "(order[2], g[2]), 1 / planes.shape[1],", NET + SHAPES,
     "separable grid sampling of orthoplanes divides by the number of planes instead of the three axes, so density "
     "grids and shapes differ from point sampling"),
]
