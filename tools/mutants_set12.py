"""A twelfth, independently written set of planted one-line bugs for tools/mutation_check.py, mostly wiring one step
away from the math (which network, option or argument goes where) in training, metrics, shapes, sampling and the
generator's entry points.

    python tools/mutation_check.py --mutants tools/mutants_set12.py --out /tmp/mutation_set12.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no source line mutated here is
mentioned in mutation_check.py or mutants_set2.py ... mutants_set11.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- training loop (13) ---
    ("training/loop.py", "G, D, G_ema, state = read_snapshot(resume)",
     "G_ema, D, G, state = read_snapshot(resume)", TRAIN,
     "resuming a run swaps the networks: training continues from the EMA weights and G_ema restarts from the raw G"),
    ("training/loop.py", "opt_G = _adam(G, cfg.glr, cfg.G_reg_interval)",
     "opt_G = _adam(G, cfg.dlr, cfg.G_reg_interval)", TRAIN,
     "G is optimized with D's learning rate: --glr is ignored (G trains at 0.002 instead of 0.0025)"),
    ("training/loop.py", "opt_D = _adam(D, cfg.dlr, cfg.D_reg_interval)",
     "opt_D = _adam(D, cfg.dlr, cfg.G_reg_interval)", TRAIN,
     "D's Adam is rescaled with G's lazy-regularization interval (4/5 instead of 16/17 of --dlr, other betas)"),
    ("training/loop.py", 'cur_nimg, batch_idx, tick = state["cur_nimg"], state["batch_idx"], state["tick"]',
     'cur_nimg, tick, batch_idx = state["cur_nimg"], state["batch_idx"], state["tick"]', TRAIN,
     "a resumed run takes the batch counter as the tick counter and vice versa: lazy-regularization phases and "
     "the snapshot schedule drift from an uninterrupted run"),
    ("training/loop.py", "world_size=info.world_size, start=cur_nimg)",
     "world_size=info.world_size, start=0)", TRAIN,
     "a resumed run reads the dataset stream from its beginning again instead of where the snapshot stopped"),
    ("training/loop.py", "G_ema = copy.deepcopy(G)",
     "G_ema = G", TRAIN,
     "a fresh run's G_ema is G itself: the EMA does nothing, G_ema equals G and G trains in eval mode"),
    ("training/loop.py", 'cfg.desc or f"{cfg.cfg}-{cfg.representation}-gpus{info.world_size}"',
     'f"{cfg.cfg}-{cfg.representation}-gpus{info.world_size}"', TRAIN,
     "--desc is ignored: the run directory is always named <id>-<cfg>-<representation>-gpusN-batchB"),
    ("training/loop.py", 'save_fakes(G_ema, grid_z, grid_c, run_dir / f"fakes{stamp}.png"',
     'save_fakes(G, grid_z, grid_c, run_dir / f"fakes{stamp}.png"', TRAIN,
     "the fakes image written with each snapshot shows the raw G instead of the snapshot's G_ema"),
    ("training/loop.py", "if not done and cur_nimg < tick_start_nimg + cfg.tick * 1000:",
     "if not done and cur_nimg < cfg.tick * 1000:", TRAIN,
     "after the first tick every batch is a tick: stats.jsonl gets a line per step and --snap counts batches"),
    ("training/loop.py", "batch_size=cfg.batch // info.world_size, sampler=sampler",
     "batch_size=batch_gpu, sampler=sampler", TRAIN,
     "with --batch-gpu smaller than the batch the loader returns only batch_gpu reals per step: D sees a fraction "
     "of the reals and the result differs from the same run without --batch-gpu"),
    ("training/loop.py", "real_body=_bodies(G, rp, device)",
     "real_body=_bodies(G, gen_pose, device)", TRAIN,
     "pose-conditional training labels the real images with the generated samples' poses: D learns nothing about "
     "pose consistency"),
    ("training/loop.py", "discriminator_kwargs(resolution, cfg.size, mbstd_group=cfg.mbstd_group)",
     "discriminator_kwargs(resolution, cfg.size)", TRAIN,
     "--mbstd-group is parsed and recorded but D always uses minibatch-stddev groups of 4"),
    ("training/loop.py", "gkw[key] = dkw[key] = value",
     "gkw[key] = value", TRAIN,
     "--cbase / --cmax change only G: D keeps the size preset's channel counts (EG3D applies them to both)"),
    # --- training CLI, loss, snapshots (6) ---
    ("training/cli.py", 'resume=opts["resume"], resume_blur=opts["resume_blur"],',
     'resume=opts["resume"],', TRAIN,
     "--resume_blur True is parsed but not forwarded: fine-tuning always drops the blur and pose-swap fade-ins"),
    ("training/cli.py", 'snap=opts["snap"] or (5 if synthetic else 50)',
     'snap=opts["snap"] or 50', TRAIN,
     "the synthetic demo snapshots every 50 ticks instead of 5: a default demo run writes only its final snapshot"),
    ("training/cli.py", 'gpc_reg_fade_kimg=opts["gpc_reg_fade_kimg"], neural_rendering_resolution_initial=nrr,',
     "neural_rendering_resolution_initial=nrr,", TRAIN,
     "--gpc_reg_fade_kimg is parsed but not forwarded: the pose-swap fade always lasts 1000 kimg"),
    ("training/loss.py", "other = self.G.mapping(self._randn_like(z), c_cond, update_emas=False)",
     "other = self.G.mapping(z, c_cond, update_emas=False)", TRAIN,
     "style mixing mixes each latent with itself: --style_mixing_prob has no regularizing effect"),
    ("training/snapshots.py", 'save_pretrained(G, tmp / "G", G.init_kwargs)',
     'save_pretrained(G_ema, tmp / "G", G_ema.init_kwargs)', TRAIN,
     "a snapshot's G/ holds G_ema: resuming restarts training from the EMA weights instead of the raw G"),
    ("training/snapshots.py", "if name and (run_dir / name / STATE_NAME).is_file():",
     "if name:", TRAIN,
     "latest-snapshot.txt naming a deleted or incomplete snapshot is trusted: resuming a rolled-back run fails "
     "instead of taking the newest complete snapshot"),
    # --- metrics (7) ---
    ("metrics/run.py", "fake_batches(G, dataset, num, seed, device, batch, cameras, progress)",
     "fake_batches(G, dataset, num, seed, device, batch, progress=progress)", MET,
     "fid50k_full_random_cameras / kid50k_full_random_cameras render with dataset cameras: they equal fid50k_full "
     "/ kid50k_full"),
    ("metrics/run.py", "seed_latent(seed * 1_000_003 + s + i, G.z_dim)",
     "seed_latent(seed * 1_000_003 + i, G.z_dim)", MET,
     "reproj evaluates the same batch of latents over and over: --num beyond the batch size adds no new latents"),
    ("metrics/run.py",
     "return given, type(given).__name__ + str(sum(float(p.detach().sum()) for p in given.parameters()))",
     "return given, type(given).__name__", MET,
     "the real-feature cache key of a detector passed as a network ignores its weights: another detector of the "
     "same class reads stale cached features"),
    ("metrics/cli.py", "num or default_num(name), seed, dev,",
     "num or default_num(name), 0, dev,", MET,
     "op3d metrics --seed is parsed but not forwarded: every evaluation uses seed 0"),
    ("metrics/cli.py", "for run in (snapshot, snapshot.parent):",
     "for run in (snapshot,):", MET,
     "op3d metrics on a snapshot inside a run directory no longer finds the run's dataset (training_options.json "
     "of the run): metrics needing reals fail without --data"),
    ("metrics/reprojection.py", 'b["image_raw"], b["image_depth"], c_b)',
     'b["image_raw"], a["image_depth"], c_b)', MET,
     "occlusion in view B is tested against view A's depth map: the visible fraction and the error are wrong"),
    ("metrics/reprojection.py", "return float(err.mean()), float(frac.mean())",
     "return float(frac.mean()), float(err.mean())", MET,
     "generator_reprojection_error returns (visible fraction, error): reproj_error and reproj_visible are swapped"),
    # --- shapes (2) ---
    ("shapes/export.py", 'f" {rgb[i, 0]:.4f} {rgb[i, 1]:.4f} {rgb[i, 2]:.4f}"',
     'f" {rgb[i, 2]:.4f} {rgb[i, 1]:.4f} {rgb[i, 0]:.4f}"', SHAPES,
     ".obj vertex colours are written BGR: red and blue are swapped in MeshLab"),
    ("shapes/grid.py", "pad = int(fraction * v.shape[0])",
     "pad = int(fraction * 256)", SHAPES,
     "the border trim is 30 voxels at every --shape-res: small grids are trimmed away entirely, large ones too "
     "little"),
    # --- sampling (6) ---
    ("sampling/cli.py", "cams = view_labels(G, view_list, fov_deg)",
     "cams = view_labels(G, view_list)", SAMP,
     "op3d sample --fov-deg is not forwarded to the rendering cameras: images use the preset's field of view"),
    ("sampling/cli.py", "W, H = parse_grid(grid_shape)",
     "H, W = parse_grid(grid_shape)", SAMP,
     "op3d video --grid 3x2 makes a 2-wide, 3-high grid"),
    ("sampling/cli.py", "if body is not None and mesh_level == 10.0:",
     "if mesh_level == 10.0:", SAMP,
     "the default --mesh-level of unconditional networks becomes 0: meshes wrap the whole box or fail"),
    ("sampling/video.py", "writer.append_data(np.ascontiguousarray(tile_cells(img, H, W)))",
     "writer.append_data(np.ascontiguousarray(tile_cells(img, W, H)))", SAMP,
     "non-square video grids are tiled with W and H swapped: cells land in the wrong places and the frame is "
     "transposed in size"),
    ("sampling/video.py", "intrinsics(camera_focal(G, fov_deg)))",
     "intrinsics(camera_focal(G)))", SAMP,
     "the video orbit ignores --fov-deg: videos always use the preset's field of view"),
    ("sampling/render.py", "c, truncation_psi=truncation_psi,",
     "c, truncation_psi=1.0,", SAMP,
     "seed_ws drops --trunc: op3d sample and op3d video render untruncated latents whatever psi is given"),
    # --- generator entry points (2) ---
    ("networks/generator.py", "ws = self.mapping(z, c, truncation_psi=truncation_psi,",
     "ws = self.mapping(z, c,", NET,
     "G(z, c, truncation_psi=0.5) renders untruncated images: the forward call drops psi"),
    ("networks/generator.py",
     "return self.synthesis(ws, c, neural_rendering_resolution=neural_rendering_resolution, **synthesis_kwargs)",
     "return self.synthesis(ws, c, **synthesis_kwargs)", NET,
     "G(z, c, neural_rendering_resolution=r) ignores r and renders at the network's own resolution"),
]
