"""A thirteenth, independently written set of planted one-line bugs for tools/mutation_check.py, mostly wiring one
step away from the math (which keyword, option, tensor or preset value goes where) in the networks, the renderer,
the plane samplers, the presets and the checkpoint / original-pickle loaders.

    python tools/mutation_check.py --mutants tools/mutants_set13.py --out /tmp/mutation_set13.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no source line mutated here is
mentioned in mutation_check.py or mutants_set2.py ... mutants_set12.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- generator wiring (6) ---
    ("networks/generator.py", 'rendering_kwargs.setdefault("sr_antialias", True)',
     'rendering_kwargs.setdefault("sr_antialias", False)', NET,
     "a Generator whose rendering_kwargs do not name sr_antialias resizes the raw features for the "
     "super-resolution without antialiasing (aliased final images)"),
    ("networks/generator.py", "truncation_cutoff=truncation_cutoff, update_emas=update_emas)",
     "truncation_cutoff=None, update_emas=update_emas)", NET + SAMP,
     "G.mapping(..., truncation_cutoff=n) truncates every w, not only the first n layers"),
    ("networks/generator.py", "box_warp = self.render_options.box_warp if box_warp is None else box_warp",
     "box_warp = self.render_options.box_warp", NET + COND,
     "sample_features(box_warp=...) is ignored: the pose-conditional field reads its canonical points with the "
     "rendering box (2.4 for the body preset) instead of the planes' fixed 2.0"),
    ("networks/generator.py", "self.render_options, deterministic=deterministic,",
     "self.render_options, deterministic=self.deterministic,", NET + REND + SAMP,
     "synthesis(deterministic=True) is ignored: renders keep jittering their samples and differ call to call"),
    ("networks/generator.py", 'sr_kwargs = {k: v for k, v in synthesis_kwargs.items() if k != "noise_mode"}',
     "sr_kwargs = dict(synthesis_kwargs)", NET + SAMP + MET,
     "G(z, c, noise_mode='const') fails with 'got multiple values for keyword argument noise_mode' in the "
     "super-resolution call"),
    ("networks/generator.py", "generator, chunk, body=body)",
     "generator, chunk, body=None)", COND + REND,
     "pose-conditional renders ignore body_box_margin: rays are sampled over the whole ray range instead of "
     "inside each posed body's box"),
    # --- backbone, super-resolution, discriminator, layers (7) ---
    ("networks/synthesis.py", "x, img = block(x, img, ws.narrow(1, w_idx, block.num_conv + 1), **block_kwargs)",
     "x, img = block(x, img, ws.narrow(1, 0, block.num_conv + 1), **block_kwargs)", NET,
     "every tri-plane block is styled with the first ws: per-layer ws (style mixing, truncation cutoff, "
     "released EG3D checkpoints' inversions) give wrong planes"),
    ("networks/superresolution.py", "self.name, img_resolution, tuple(sr_channels))",
     "self.name, img_resolution)", NET + TRAIN,
     "sr_kwargs' sr_channels is ignored: small/tiny models get the 128/64-channel Superresolution2X (many "
     "times the SR weights, slow CPU training, other images)"),
    ("networks/discriminator.py", "**dict(mapping_kwargs or {}))",
     "**{})", NET + TRAIN,
     "D's mapping_kwargs are ignored: small/tiny discriminators get an 8-layer camera mapping (weights do not "
     "match their checkpoints)"),
    ("networks/discriminator.py",
     "self.fc = FullyConnectedLayer(in_channels * resolution ** 2, in_channels, activation=activation)",
     "self.fc = FullyConnectedLayer(in_channels * resolution ** 2, in_channels)", NET + TRAIN,
     "the discriminator epilogue's fc layer is linear (no lrelu): logits differ from EG3D's D"),
    ("networks/layers.py", "lr_multiplier: float = 0.01, w_avg_beta: float | None = 0.998):",
     "lr_multiplier: float = 0.01, w_avg_beta: float | None = 0.995):", NET + TRAIN,
     "the tracked average w moves 2.5x faster than EG3D's (beta 0.995): truncated samples drift with training"),
    ("networks/layers.py", "padding=self.padding, flip_weight=(self.up == 1))",
     "padding=self.padding, flip_weight=(self.down == 1))", NET + TRAIN,
     "the discriminator's downsampling convs use flipped kernels: D's logits differ from the original's "
     "for the same weights"),
    # --- pose-conditional generator (3) ---
    ("networks/conditional.py", 'rendering_kwargs["clamp_mode"] = "none"',
     'rendering_kwargs.setdefault("clamp_mode", "none")', COND + REND,
     "preset rendering_kwargs (clamp_mode 'softplus') win: the SDF density goes through softplus(sigma - 1) "
     "and bodies render faint"),
    ("networks/conditional.py", "None, None, self.lbs_threshold,",
     "None, None, self.lbs_threshold ** 2,", COND,
     "inverse LBS falls back to the root transform beyond 1 cm instead of lbs_threshold (10 cm): limbs are "
     "sampled in the wrong canonical place"),
    ("networks/conditional.py", '"sigma": self.density(sdf), "sdf": sdf,',
     '"sigma": self.density(sdf), "sdf": base,', COND + TRAIN,
     "sample_density's 'sdf' is the bare mesh distance without the learned residual (eikonal and shape "
     "extraction ignore the network)"),
    # --- released pose-conditional generator (5) ---
    ("networks/conditional_legacy.py",
     "d = mesh_sdf(x, body.vertices.to(x.dtype), body.faces, index=body.mesh_index()).unsqueeze(-1)",
     "d = mesh_sdf(points, body.vertices.to(x.dtype), body.faces, index=body.mesh_index()).unsqueeze(-1)", COND,
     "the released model's body term is measured at the unflipped, unscaled world points: SHHQ renders lose "
     "the body"),
    ("networks/conditional_legacy.py", "canonical = canonical + self.renderer.deformation_decoder(canonical, cond)",
     "canonical = canonical + self.renderer.deformation_decoder(x, cond)", COND,
     "the released deformation MLP is fed the posed (pre-LBS) points instead of the canonical ones"),
    ("networks/conditional_legacy.py", '"residual": out["sigma"],',
     '"residual": sdf,', COND,
     "the released renderer adds the body term on top of an SDF that already holds it (coarse and fine "
     "samples carry it twice more)"),
    ("networks/conditional_legacy.py",
     "u = None if deterministic else torch.rand((B * R, N), device=origins.device, generator=generator)",
     "u = None if deterministic else torch.rand((B * R, N), device=origins.device)", COND,
     "the released renderer draws its importance samples from the global RNG: renders seeded with "
     "generator=g are not reproducible"),
    ("networks/conditional_legacy.py", "_, _, weights = ray_march_samples(colors, self.density_func(sdf), depths)",
     "_, _, weights = ray_march_samples(colors, self.density_func(residual), depths)", COND,
     "the released renderer places its importance samples from the decoder residual alone (no body term)"),
    # --- renderer and rays (4) ---
    ("rendering/renderer.py", "start, end = ray_box_limits(origins, dirs, options.box_warp)",
     "start, end = ray_box_limits(origins, dirs, 1.0)", REND + SHAPES,
     "ray_start/ray_end 'auto' clip rays to the unit cube whatever box_warp is: parts of 2.4-m body "
     "boxes are never sampled"),
    ("rendering/renderer.py", "jitter = torch.rand((B, R, S, 1), device=origins.device, generator=generator)",
     "jitter = torch.rand((B, R, S, 1), device=origins.device)", REND + SAMP,
     "render(generator=g) ignores g for the stratified jitter: seeded renders are not reproducible"),
    ("rendering/renderer.py", "deterministic, generator, single_backward, ray_range,",
     "deterministic, generator, single_backward, None,", REND + COND,
     "render_in_boxes without chunking samples over the options' ray range instead of each body's box"),
    ("rendering/rays.py", "K = c[:, 16:25].reshape(B, 3, 3)",
     "K = c[:, 16:25].reshape(B, 3, 3).transpose(1, 2)", REND + NET + SAMP,
     "camera intrinsics are read column-major: the principal point becomes (0, 0) and every render is "
     "off-centre"),
    # --- plane sampling (2) ---
    ("planes/sampling.py", "for dims in TRIPLANE_AXES[legacy_eg3d_axes]]",
     "for dims in TRIPLANE_AXES[False]]", NET + SHAPES,
     "legacy_eg3d_axes is ignored when sampling points: released EG3D tri-planes render with the wrong "
     "projections (grids still use them)"),
    ("planes/sampling.py", "s = 2 / box_warp if axis == 0 or not legacy_unscaled_axes else 1.0",
     "s = 2 / box_warp", NET + SHAPES,
     "orthoplanes_on_grid ignores legacy_unscaled_axes: density grids of released OP3D models disagree with "
     "their point samples"),
    # --- presets (4) ---
    ("presets.py", "avg_camera_radius=2.7, avg_camera_pivot=[0, 0, 0.2]),",
     "avg_camera_radius=2.7, avg_camera_pivot=[0, 0.2, 0]),", NET + SAMP,
     "the ffhq preset's cameras look at (0, 0.2, 0): sampled faces are framed too low"),
    ("presets.py", "white_back=True, avg_camera_radius=4.0,",
     "white_back=True, avg_camera_radius=2.7,", NET + SAMP + COND,
     "the body preset's default cameras stand 2.7 m away (copied from ffhq): bodies are cropped"),
    ("presets.py", "    out.update(overrides)",
     "    out.update({k: v for k, v in overrides.items() if k not in out})", NET + TRAIN,
     "overrides of preset keys are ignored (c_scale, density_reg, decoder_lr_mul, depth_resolution, ...): "
     "only new keys are added"),
    ("presets.py", 'kw["neural_rendering_resolution"] = neural_rendering_resolution',
     'kw["neural_rendering_resolution"] = 64', NET + TRAIN,
     "generator_kwargs(neural_rendering_resolution=r) is ignored: every model renders its raw image at 64"),
    # --- checkpoints and original pickles (4) ---
    ("io/checkpoint.py", "return model.eval().requires_grad_(False)",
     "return model.eval()", NET + SAMP,
     "loaded checkpoints keep requires_grad: sampling from them builds autograd graphs (memory) and outputs "
     "carry gradients"),
    ("io/legacy.py", 'kwargs["neural_rendering_resolution"] = attributes["neural_rendering_resolution"]',
     'kwargs.setdefault("neural_rendering_resolution", 64)', NET,
     "an imported EG3D/OP3D pickle trained at neural rendering resolution 128 renders its raw image at 64"),
    ("io/legacy.py", "any(k.startswith(CONDITIONAL_MARK) for k in state)",
     "all(k.startswith(CONDITIONAL_MARK) for k in state)", NET + COND,
     "the released pose-conditional pickle is built as a plain Generator: loading fails with unexpected "
     "renderer.deformation_decoder weights"),
    ("io/legacy.py", "return module_from_record(snapshot[which], str(Path(path)))",
     'return module_from_record(snapshot["G_ema"], str(Path(path)))', NET,
     "load_legacy(which='G') returns G_ema and which='D' returns a generator"),
]
