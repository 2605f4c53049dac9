"""A twenty-second, independently written set of planted one-line bugs for tools/mutation_check.py, spread over
the networks (truncation with psi > 1, the mapping network's camera embedding, the super-resolution module
default, grid features' box, density-regularization noise, super-resolution resizing and the released raw-image
alias, per-image synthesis noise, the first plane head's bias, the OrthoPlanes blocks' keywords, the deformation's
offset bound, the SDF density's beta floor, the released conditional model's plane sampling, LBS threshold and box
scale, the discriminator's fromrgb activation), rendering (principal points, the white-background default, the
final pass's density activation, the per-body box renderer's background, depth clamp and chunked ray ranges,
opacity sums, inverse-CDF sampling, the automatic ray range), sampling (the video's truncation cutoff, the mesh
grid choice, depth strips, the --trunc / --sample-mult / --views defaults, the video orbit, density-grid trimming)
and planes / ops (the channels-last gather table, tri-plane grids of released EG3D models, the grid_sample
reference's layout, the 2x upsampling's backward and bias gradient, the non-fused modulated convolution's weight
flip): arguments swapped, the wrong one of two similar tensors or names, an inverted condition, a keyword not
forwarded, a wrong constant or default, mean vs sum, min vs max, any vs all.

    python tools/mutation_check.py --mutants tools/mutants_set22.py --out /tmp/mutation_set22.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no fragment here contains, or is
contained in, a fragment of the same file in mutation_check.py or mutants_set2.py ... mutants_set21.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- networks (16) --------------------------------------------------------------------------------------------
    ("networks/layers.py", "if truncation_psi != 1:", "if truncation_psi < 1:", NET + SAMP,
     "op3d sample --trunc 1.5 (psi > 1, extrapolating away from the average w) renders the untruncated latents"),
    ("networks/layers.py", "self.embed = FullyConnectedLayer(c_dim, embed_features)",
     "self.embed = FullyConnectedLayer(c_dim, embed_features, lr_multiplier=lr_multiplier)", NET,
     "the camera embedding of the mapping networks gets the mapping's 0.01 learning-rate multiplier, so loaded G and "
     "D checkpoints embed their camera labels 100 times too weakly and render / score differently"),
    ("networks/generator.py",
     'rendering_kwargs.setdefault("superresolution_module", SR_FOR_RESOLUTION.get(img_resolution, ""))',
     'rendering_kwargs["superresolution_module"] = SR_FOR_RESOLUTION.get(img_resolution, "")', NET + TRAIN,
     "the super-resolution module named in rendering_kwargs is overwritten by the resolution's original one: small "
     "models with Superresolution2X fail to build or load ('unknown super-resolution module')"),
    ("networks/generator.py", "        box_warp = self.render_options.box_warp\n        if self.representation",
     "        box_warp = RenderOptions.box_warp\n        if self.representation", NET + SHAPES + SAMP,
     "density grids and meshes of models whose box_warp is not 1 (ShapeNet's 1.6) sample the planes as if the box "
     "were 1 wide, so op3d sample --shapes exports a shape that does not match the renders"),
    ("networks/generator.py",
     '"sample_density needs ws or planes")\n            planes = self.planes(ws, **synthesis_kwargs)',
     '"sample_density needs ws or planes")\n            planes = self.planes(ws)', NET + TRAIN,
     "sample_density(ws, noise_mode='const') ignores the noise mode, so density regularization of deterministic "
     "training runs uses random plane noise and the runs are no longer reproducible"),
    ("networks/superresolution.py", "(size < self.input_resolution) if self.resize_only_smaller",
     "(size > self.input_resolution) if self.resize_only_smaller", NET + SAMP,
     "256-pixel models (Superresolution4X) rendered below 128 neural-rendering pixels (the default 64, or --nrr) are "
     "no longer upscaled before super-resolution and fail with mismatched sizes"),
    ("networks/superresolution.py", "if i == 0 and not resized and block.up == 1:", "if i == 0 and not resized:",
     NET, "released EG3D 512 checkpoints at 128 neural-rendering pixels return as image_raw the 256-pixel output of "
     "the first super-resolution block instead of the raw rendering"),
    ("networks/synthesis.py", "shape = [x.shape[0], 1, self.resolution, self.resolution]",
     "shape = [1, 1, self.resolution, self.resolution]", NET + TRAIN,
     "with noise_mode 'random' every image of a batch gets the same per-layer noise, so a batch of 4 no longer "
     "equals 4 independent renders and training sees correlated noise"),
    ("networks/synthesis.py", "out = torch.baddbmm(bias, xt, wmod)", "out = torch.bmm(xt, wmod)", NET,
     "the 4x4 block's plane head drops its bias on the fast path, so CPU renders of models without conv_clamp "
     "differ from the reference ops and from the trained model"),
    ("networks/synthesis.py", "head_w=head_w, **block_kwargs)", "head_w=head_w)", NET + SAMP,
     "OrthoPlanes backbones ignore noise_mode (and the other block keywords): G.planes(w, noise_mode='const') draws "
     "random noise, so op3d sample and op3d video no longer render the same image twice"),
    ("networks/conditional.py", "hidden=deform_hidden,\n" + " " * 44 + "max_offset=deform_max_offset)",
     "hidden=deform_hidden)", COND,
     "deform_max_offset is ignored: every pose-conditional generator bounds its deformation offsets by 0.3, so "
     "models built or trained with another bound deform differently"),
    ("networks/conditional.py", "return self.beta.abs() + self.beta_min",
     "return self.beta.abs().clamp_min(self.beta_min)", COND,
     "the SDF density's beta is |beta| floored at beta_min instead of |beta| + beta_min, so pose-conditional and "
     "released SHHQ renders get slightly sharper surfaces"),
    ("networks/conditional_legacy.py", 'padding_mode="border", align_corners=True)',
     'padding_mode="border", align_corners=False)', COND,
     "the released pose-conditional model samples its planes half a texel off (align_corners=False), so the SHHQ "
     "checkpoint renders blurred / shifted features"),
    ("networks/conditional_legacy.py", "((x - v).square().sum(-1) >= LBS_THRESHOLD2)",
     "((x - v).norm(dim=-1) >= LBS_THRESHOLD2)", COND,
     "the released inverse LBS compares the plain distance with the squared threshold 0.1, so points 0.1-0.32 from "
     "the body are un-posed with the root transform instead of their nearest vertex's"),
    ("networks/conditional_legacy.py", "* (2 / box_warp)", "* (box_warp / 2)", COND,
     "the released pose-conditional generator scales world points by box_warp / 2 instead of 2 / box_warp, so with "
     "its box_warp of 1 the body is rendered at a quarter of the scale"),
    ("networks/discriminator.py", "self.fromrgb = Conv2dLayer(img_channels, tmp_channels, kernel_size=1, "
     "activation=activation,", "self.fromrgb = Conv2dLayer(img_channels, tmp_channels, kernel_size=1,", NET + TRAIN,
     "the discriminator's fromrgb layer is linear instead of lrelu, so released discriminators score images "
     "differently and training gets other gradients"),
    # --- rendering (10) -------------------------------------------------------------------------------------------
    ("rendering/rays.py", "K[:, 0, 2, None], K[:, 1, 2, None]", "K[:, 1, 2, None], K[:, 0, 2, None]", REND,
     "cameras with an off-centre principal point (cx != cy) shoot rays through the transposed centre, so cropped "
     "or shifted intrinsics render a shifted image"),
    ("rendering/renderer.py", "white_back: bool = False", "white_back: bool = True", REND + NET,
     "checkpoints whose rendering_kwargs do not name white_back (EG3D's FFHQ / AFHQ) composite their raw images "
     "on white instead of black"),
    ("rendering/renderer.py", "depth_range=depth_range,\n" + " " * 36 + "activation=options.clamp_mode)",
     "depth_range=depth_range)", REND + COND,
     "the final composite ignores clamp_mode: pose-conditional generators, whose field returns densities, get "
     "softplus(density - 1) in the last pass and render washed-out bodies"),
    ("rendering/renderer.py", "put(feats_hit.new_full((B, R, feats_hit.shape[-1]), background), feats_hit)",
     "put(feats_hit.new_zeros((B, R, feats_hit.shape[-1])), feats_hit)", REND + COND,
     "rays that miss every body box get feature value 0 (grey) instead of the white / black background, so "
     "pose-conditional images have a grey backdrop"),
    ("rendering/marcher.py", "weight_total = weights.sum(2)\n    depth = torch",
     "weight_total = weights.mean(2)\n    depth = torch", REND,
     "the accumulated opacity is averaged over the intervals, so depths are divided by a tiny total (clamped to the "
     "far plane) and white backgrounds bleed through solid surfaces"),
    ("rendering/renderer.py", "(torch.maximum(scene_hi, end), 1.0)", "(torch.minimum(scene_hi, end), 1.0)",
     REND + COND,
     "rays that enter a body box but hit nothing get the box exit as depth instead of the far end of the scene, so "
     "pose-conditional depth maps show the box outline"),
    ("rendering/renderer.py", "tuple(t[:, i:i + chunk] for t in pair)", "tuple(t[:, :chunk] for t in pair)",
     REND + COND,
     "with --chunk smaller than the image, every chunk of a per-body box render reuses the first chunk's ray "
     "ranges, so pose-conditional images come out scrambled"),
    ("rendering/samplers.py", "cdf_g = torch.gather(cdf, 1, idx)", "cdf_g = torch.gather(bins, 1, idx)", REND,
     "importance samples interpolate with depths in place of CDF values, so the fine samples no longer follow the "
     "coarse weights and surfaces render noisier"),
    ("rendering/marcher.py", "weight_total = weights.sum(2)\n    depth_weights",
     "weight_total = weights.mean(2)\n    depth_weights", REND + COND,
     "the released pose-conditional marcher averages the opacity, so its white background is added over the body "
     "and its depths are wrong"),
    ("rendering/renderer.py", "if bool(valid.any()):", "if bool(valid.all()):", REND + COND,
     "with ray_start 'auto', as soon as one ray misses the box no ray borrows a range, so corner rays march from "
     "-1 to -2 (behind the camera) and add garbage to SHHQ / body renders"),
    # --- sampling (8) ---------------------------------------------------------------------------------------------
    ("sampling/cli.py", "ws = seed_ws(G, seed_list, truncation_psi, truncation_cutoff, fov_deg, device=dev)",
     "ws = seed_ws(G, seed_list, truncation_psi, None, fov_deg, device=dev)", SAMP,
     "op3d video --trunc-cutoff is ignored: every w is truncated"),
    ("sampling/cli.py", 'if mesh_grid == "dense":', 'if mesh_grid != "dense":', SAMP + SHAPES,
     "op3d sample --shape-format ply uses the dense grid by default and the coarse-to-fine one with --mesh-grid "
     "dense"),
    ("sampling/cli.py", "        if depth:\n", "        if not depth:\n", SAMP,
     "op3d sample writes no depth strips by default and writes them with --no-depth"),
    ("sampling/cli.py", '"truncation_psi", type=Finite(), default=1.0, help="Truncation psi")',
     '"truncation_psi", type=Finite(), default=0.7, help="Truncation psi")', SAMP,
     "op3d sample without --trunc renders truncated latents (psi 0.7) instead of untruncated ones"),
    ("sampling/cli.py", "type=Finite(min=0, min_open=True), default=1.0,",
     "type=Finite(min=0, min_open=True), default=2.0,", SAMP,
     "op3d video without --sample-mult renders with twice the network's samples per ray (slower, different frames)"),
    ("sampling/cli.py", '@click.option("--views", default="-23,0,23",',
     '@click.option("--views", default="-0.4,0,0.4",', SAMP,
     "op3d sample's default views are 0.4 degrees apart (EG3D's radians read as degrees) instead of -23, 0, 23"),
    ("sampling/video.py", "yaw_range: float = 0.35, pitch_range: float = 0.25",
     "yaw_range: float = 0.25, pitch_range: float = 0.35", SAMP,
     "op3d video orbits swing less from side to side and more up and down than EG3D's videos"),
    ("sampling/render.py", "chunk: int = 1 << 17, trim: bool = True,", "chunk: int = 1 << 17, trim: bool = False,",
     SAMP + SHAPES, "op3d sample --shapes writes .mrc volumes without OP3D's zeroed border"),
    # --- planes / ops (6) -----------------------------------------------------------------------------------------
    ("planes/sampling.py", "table = planes.permute(0, 4, 5, 1, 2, 3).reshape(-1, C)",
     "table = planes.permute(0, 5, 4, 1, 2, 3).reshape(-1, C)", NET,
     "the fast plane sampler reads each plane transposed (rows and columns swapped), so CPU renders differ from the "
     "grid_sample reference and from the trained model"),
    ("planes/sampling.py", "for axis, dims in enumerate(TRIPLANE_AXES[legacy_eg3d_axes]):",
     "for axis, dims in enumerate(TRIPLANE_AXES[False]):", NET + SHAPES + SAMP,
     "density grids and meshes of released EG3D tri-plane checkpoints ignore their legacy plane axes, so the "
     "exported shape does not match the renders"),
    ("planes/sampling.py", "return out.reshape(B, A, C, P).transpose(2, 3)", "return out.reshape(B, A, P, C)",
     NET + COND,
     "the grid_sample path (pose-conditional renders, reference ops) scrambles channels and points, so those "
     "renders are noise"),
    ("ops/upfirdn2d.py", "_upsample_linear_adjoint(g[:, :, :, -1])", "_upsample_linear_adjoint(g[:, :, :, 0])",
     NET + TRAIN, "the fast 2x upsampling's backward corrects the last column with the first column's gradient, so "
     "training gets wrong gradients for the skip images"),
    ("ops/upfirdn2d.py", "grad_bias = g.sum((0, 2, 3)) if ctx.has_bias else None",
     "grad_bias = g.mean((0, 2, 3)) if ctx.has_bias else None", NET + TRAIN,
     "the plane / ToRGB head biases fused into the upsampling get their gradient averaged instead of summed, so "
     "they barely train"),
    ("ops/modulated_conv.py", "padding=padding,\n" + " " * 28 + "flip_weight=flip_weight)",
     "padding=padding)", NET + TRAIN,
     "the non-fused modulated convolution (training mode) ignores flip_weight, so upsampling layers flip their "
     "kernels during training but not at inference"),
]
