"""A twentieth, independently written set of planted one-line bugs for tools/mutation_check.py, spread over
training (loss phases, the loop's phases and divergence check), the networks (synthesis noise, decoder learning
rate, discriminator blocks, the pose-conditional renderer choice), rendering (renderer, importance sampler, SDF ray
marcher), metrics (SWD, reprojection error, the metric runner), sampling (grid and seed parsing, videos) and
shapes (border trimming, mesh export): argument order, a keyword not forwarded, the wrong one of two similar
tensors, an inverted condition, an off-by-one, a wrong count.

    python tools/mutation_check.py --mutants tools/mutants_set20.py --out /tmp/mutation_set20.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no fragment here contains, or is
contained in, a fragment of the same file in mutation_check.py or mutants_set2.py ... mutants_set19.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- training (4) ---------------------------------------------------------------------------------------------
    ("training/loss.py", "image = real_img.detach().requires_grad_(do_Dr1)",
     "image = real_img.detach().requires_grad_(do_Dmain)", TRAIN,
     "a separate Dreg phase fails: the real image does not require gradients, so the R1 penalty cannot be computed"),
    ("training/loss.py", "neural_rendering_resolution=nrr, noise_mode=self.noise_mode, **extra)",
     "neural_rendering_resolution=nrr, **extra)", TRAIN,
     "the generator phases ignore the loss's noise mode, so a --deterministic run still draws random layer noise "
     "and is not reproducible"),
    ("training/loop.py", '("G", G, opt_G, cfg.G_reg_interval), ("D", D, opt_D, cfg.D_reg_interval)',
     '("G", G, opt_G, cfg.D_reg_interval), ("D", D, opt_D, cfg.G_reg_interval)', TRAIN,
     "the lazy-regularization intervals are swapped: the density regularizer runs every 16 steps and R1 every 4"),
    ("training/loop.py", "if not all(bool(p.isfinite().all()) for p in m.parameters())]",
     "if all(bool(p.isfinite().all()) for p in m.parameters())]", TRAIN,
     "every healthy run stops at its first tick with a 'training diverged' error"),
    # --- networks (4) ---------------------------------------------------------------------------------------------
    ("networks/synthesis.py", 'if self.use_noise and noise_mode == "random":',
     'if self.use_noise and noise_mode != "none":', NET + SAMP,
     "noise_mode='const' draws fresh random noise, so the same seed renders differently every time"),
    ("networks/generator.py", 'lr_multiplier=rendering_kwargs.get("decoder_lr_mul", 1))', "lr_multiplier=1)",
     NET + TRAIN, "--decoder_lr_mul is ignored: the decoder always trains (and is initialized) at learning-rate "
     "multiplier 1"),
    ("networks/discriminator.py", "channels[res] if res < img_resolution else 0",
     "channels[res] if res <= img_resolution else 0", NET,
     "the discriminator's top block expects a feature input instead of making one from the image, so D fails"),
    ("networks/conditional.py", "if margin is None or body is None:", "if margin is None and body is None:", COND,
     "a pose-conditional generator without body_box_margin (older checkpoints, --body-margin none) no longer renders "
     "over the whole ray range but goes to the per-body box renderer with no margin"),
    # --- rendering (3) --------------------------------------------------------------------------------------------
    ("rendering/renderer.py", "S, N = options.depth_resolution, options.depth_resolution_importance",
     "N, S = options.depth_resolution, options.depth_resolution_importance", REND,
     "the coarse and importance sample counts are swapped, so depth_resolution and depth_resolution_importance act "
     "as each other"),
    ("rendering/samplers.py", "inds = torch.searchsorted(cdf, u.contiguous(), right=True)",
     "inds = torch.searchsorted(cdf, u.contiguous(), right=False)", REND,
     "importance samples at CDF ties (the deterministic u = 0 and 1) land in another bin than EG3D's"),
    ("rendering/marcher.py", "depth = torch.sum(depth_weights * depths, -2) / weight_total",
     "depth = torch.sum(weights * depths, -2) / weight_total", REND + COND,
     "the SDF ray marcher's depth ignores the leftover transmittance on the last sample, so depths of thin or "
     "missed surfaces come out too near"),
    # --- metrics (3) ----------------------------------------------------------------------------------------------
    ("metrics/swd.py", "xs = torch.randint(0, W - patch + 1, (N, per_image), generator=generator)",
     "xs = torch.randint(0, W - patch, (N, per_image), generator=generator)", MET,
     "SWD patches never touch the rightmost column of an image, so SWD values change"),
    ("metrics/reprojection.py", "uv, z = project(points, c_b)", "uv, z = project(points, c_a)", MET,
     "points are projected back into view A instead of B, so the reprojection error of any scene is about 0"),
    ("metrics/run.py", "SWDAccumulator(levels, seed=seed + 1)", "SWDAccumulator(levels, seed=seed)", MET,
     "real and fake images use the same SWD patch positions, so the swd metric changes"),
    # --- sampling (3) ---------------------------------------------------------------------------------------------
    ("sampling/views.py", "if W < 1 or H < 1:", "if W < 1 and H < 1:", SAMP,
     "--grid 0x2 or 2x0 is accepted and makes an empty or broken grid instead of an error"),
    ("sampling/views.py", "if hi > MAX_SEED:", "if hi >= MAX_SEED:", SAMP,
     "--seeds 4294967295, the largest valid seed, is refused"),
    ("sampling/video.py", "body.select(torch.zeros(H * W, dtype=torch.long, device=ws_grid.device))",
     "body.select(torch.zeros(W, dtype=torch.long, device=ws_grid.device))", SAMP + COND,
     "a pose-conditional video with more than one grid row fails: the body is repeated for one row of cells only"),
    # --- shapes (3) -----------------------------------------------------------------------------------------------
    ("shapes/grid.py", "if pad > 0:", "if pad >= 0:", SHAPES,
     "trimming a small grid (margin rounds to 0) sets the whole grid to the border value, so no mesh can be made"),
    ("shapes/export.py", 'f"element face {len(faces)}"', 'f"element face {len(verts)}"', SHAPES,
     "the .ply header declares as many faces as vertices, so mesh readers reject the file or read garbage faces"),
    ("shapes/export.py", 'write_ply if suffix == ".ply" else write_obj', 'write_ply if suffix == ".obj" else write_obj',
     SHAPES, "a mesh asked for as .ply is written as OBJ text and one asked for as .obj as binary PLY"),
]
