"""A twenty-third, independently written set of planted one-line bugs for tools/mutation_check.py, over training
(the networks' capacity and decoder options, tick bookkeeping, the batch and tick counters, deterministic noise,
the initial seed, G_ema's rendering resolution, w_avg tracking, the loss's random draws, status lines, snapshot
writes, single-process start-up, the training CLI's defaults and lists), metrics (default sample counts, detector
environment variables and file lookup, the real-feature cache key, result files, the metrics CLI's cache and names,
FID covariances, the Inception network and classifier, SWD patches, reprojection jitter and cameras) and shapes
(the mesh level check, PLY vertex records, coarse-to-fine corners, refinement fractions and interpolation, grid
centres): arguments swapped, the wrong one of two similar tensors or names, an inverted condition, an off-by-one,
a keyword not forwarded, a counter not advanced, a wrong constant or default, an option read but not used.

    python tools/mutation_check.py --mutants tools/mutants_set23.py --out /tmp/mutation_set23.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no fragment here contains, or is
contained in, a fragment of the same file in mutation_check.py or mutants_set2.py ... mutants_set21.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- training (16) --------------------------------------------------------------------------------------------
    ("training/loop.py", '(("channel_base", cfg.cbase), ("channel_max", cfg.cmax))',
     '(("channel_base", cfg.cmax), ("channel_max", cfg.cbase))', TRAIN,
     "--cbase and --cmax are swapped: a run with either option builds G and D with the other one's channel counts"),
    ("training/loop.py", "decoder_lr_mul=cfg.decoder_lr_mul", "decoder_lr_mul=1.0", TRAIN,
     "--decoder_lr_mul is recorded in training_options.json but the decoder always trains at the plain learning "
     "rate"),
    ("training/loop.py", "sums = {}", "pass", TRAIN,
     "the per-tick losses are never reset, so from the second tick on stats.jsonl and the status lines average "
     "over every step since the start of the run"),
    ("training/loop.py", "tick += 1", "pass", TRAIN,
     "the tick counter never advances: Progress/tick stays at its start value and a snapshot is written at every "
     "tick instead of every --snap ticks"),
    ("training/loop.py", "batch_idx += 1", "pass", TRAIN,
     "the batch counter never advances, so the lazy R1 and density regularizers run at every step and the saved "
     "batch_idx stays 0"),
    ("training/loop.py", 'noise_mode="const" if cfg.deterministic else "random"',
     'noise_mode="random" if cfg.deterministic else "const"', TRAIN,
     "deterministic runs train with random layer noise (no longer reproducible) and ordinary runs never see noise"),
    ("training/loop.py", "torch.manual_seed(cfg.seed)\n        G, D = build_networks(cfg, resolution)",
     "torch.manual_seed(0)\n        G, D = build_networks(cfg, resolution)", TRAIN,
     "--seed no longer changes the initial weights: every fresh run starts from the networks of seed 0"),
    ("training/loop.py", "G_ema.neural_rendering_resolution = G.neural_rendering_resolution", "pass", TRAIN,
     "with a neural rendering resolution fade, G_ema (snapshots, metrics, sampling) keeps rendering at the initial "
     "resolution"),
    ("training/loss.py", "conditioning_cameras(c, prob, draw), update_emas)", "conditioning_cameras(c, prob, draw))",
     TRAIN, "run_G drops update_emas, so the mapping's w_avg never moves from zero and truncation of a trained "
     "network pulls towards the wrong average"),
    ("training/loss.py", 'return torch.rand(shape, generator=self.generator, device="cpu").to(device)',
     'return torch.randn(shape, generator=self.generator, device="cpu").to(device)', TRAIN,
     "uniform draws become normal: the pose swap happens with the wrong probability and density-regularizer "
     "points fall outside the box"),
    ("training/report.py", "if self.enabled and self.verbose:", "if self.enabled or self.verbose:", TRAIN,
     "training with log=False (and every non-main rank) still prints the tick status lines"),
    ("training/snapshots.py", "if final.exists():", "if not final.exists():", TRAIN,
     "writing a new snapshot tries to move a non-existent directory aside and fails, so no run can save a "
     "snapshot"),
    ("training/distributed.py", "if world > 1 and not dist.is_initialized():",
     "if world >= 1 and not dist.is_initialized():", TRAIN,
     "a single-process op3d train tries to initialize torch.distributed without torchrun's environment and fails "
     "at start-up"),
    ("training/cli.py", 'mbstd_group=opts["mbstd_group"]', "mbstd_group=4", TRAIN,
     "--mbstd-group is ignored: D always uses minibatch-std groups of 4"),
    ("training/cli.py", 'return [v.strip() for v in value.split(",") if v.strip()]',
     'return [v for v in value.split(",") if v.strip()]', TRAIN,
     "--metrics 'swd, reproj' (with a space) is refused as an unknown metric ' reproj'"),
    ("training/cli.py", "(200 if conditional else 1000)", "(1000 if conditional else 200)", TRAIN,
     "the built-in synthetic datasets have the wrong default size: 200 heads instead of 1000 and 1000 bodies "
     "instead of 200"),
    # --- metrics (15) ---------------------------------------------------------------------------------------------
    ("metrics/run.py", "return 1000 if name in WEIGHT_FREE else 50000",
     "return 50000 if name in WEIGHT_FREE else 1000", MET,
     "without --num, swd and reproj evaluate 50,000 fakes and FID/KID/IS/PR only 1,000"),
    ("metrics/run.py", "if name in INCEPTION and detector is None and not os.environ.get(ENV_VAR):",
     "if name in INCEPTION and detector is None:", MET,
     "FID/KID/IS are refused for a user who set OP3D_INCEPTION instead of passing --detector"),
    ("metrics/run.py", '"reproj_visible": total_frac / num}', '"reproj_visible": total_frac / batch}', MET,
     "reproj_visible is divided by the batch size instead of the number of latents, so it exceeds 1 whenever "
     "--num is larger than a batch"),
    ("metrics/run.py", "{p.stat().st_size}:{p.stat().st_mtime_ns}|", "{p.stat().st_size}|", MET,
     "replacing an image of a folder dataset by one of the same size keeps using the stale cached real features"),
    ("metrics/run.py", 'f.write(json.dumps(dict(record, timestamp=time.time())) + "\\n")',
     "f.write(json.dumps(dict(record, timestamp=time.time())))", MET,
     "a second result appended to metric-<name>.jsonl runs onto the first line, so the file is no longer JSON "
     "lines"),
    ("metrics/cli.py", 'cache = Path(cache_dir) if cache_dir else Path.home() / ".cache" / "op3d"',
     'cache = Path.home() / ".cache" / "op3d"', MET,
     "--cache-dir is ignored: real-image features are always cached under ~/.cache/op3d"),
    ("metrics/cli.py", 'names = [m.strip() for m in metrics.split(",") if m.strip()]',
     'names = [m for m in metrics.split(",") if m.strip()]', MET,
     "op3d metrics --metrics 'swd, reproj' (with a space) fails with an unknown metric ' reproj'"),
    ("metrics/frechet.py", "torch.as_tensor(sigma2, dtype=torch.float64)",
     "torch.as_tensor(sigma1, dtype=torch.float64)", MET,
     "FID compares the first set's covariance with itself, so differences in the fakes' spread no longer count"),
    ("metrics/inception.py", "for i in range(1, 6):", "for i in range(1, 5):", MET,
     "the Inception 7x7 double branch skips its last convolution, so the detector fails on any image"),
    ("metrics/inception.py", "classifier.shape == (1008, 2048)", "classifier.shape == (2048, 1008)", MET,
     "the Inception file's classifier is never recognised, so is50k says the file holds no classifier"),
    ("metrics/swd.py", "[idx, rows, cols]", "[idx, cols, rows]", MET,
     "SWD patches are read transposed (x and y swapped), so the descriptors and distances change for any image "
     "that is not symmetric"),
    ("metrics/swd.py", "a.add(real)", "a.add(fake)", MET,
     "swd(real, fake) compares the fakes with themselves and reports about zero for any pair of image sets"),
    ("metrics/inception.py", "path = path or os.environ.get(env_var)", "path = os.environ.get(env_var) or path", MET,
     "an explicit --detector / --vgg path is overridden by OP3D_INCEPTION / OP3D_VGG16 whenever those are set"),
    ("metrics/reprojection.py", "a = G.synthesis(ws, c_a, neural_rendering_resolution=resolution, "
     'noise_mode="const", deterministic=True)',
     'a = G.synthesis(ws, c_a, neural_rendering_resolution=resolution, noise_mode="const")', MET,
     "view A is rendered with random ray jitter, so the reprojection error is noisy and differs between calls"),
    ("metrics/reprojection.py", "z = cam[..., 2]", "z = -cam[..., 2]", MET,
     "points in front of camera B count as behind it, so no pixel is visible and the reprojection error is 0"),
    # --- shapes (9) -----------------------------------------------------------------------------------------------
    ("shapes/export.py", "lo, hi = float(grid.values.min()), float(grid.values.max())",
     "lo, hi = float(grid.values.max()), float(grid.values.min())", SHAPES + SAMP,
     "every mesh export is refused with 'mesh level outside the density range'"),
    ("shapes/export.py", "f.write(vertex.tobytes())", "f.write(verts.tobytes())", SHAPES + SAMP,
     "coloured .ply meshes are written without their colour bytes, so the file is truncated and unreadable"),
    ("shapes/export.py", "vertex = np.empty(len(verts), dtype=vdtype)", "vertex = np.empty(len(faces), dtype=vdtype)",
     SHAPES + SAMP, "writing a .ply mesh fails (or garbles vertices) because the vertex table has one row per face"),
    ("shapes/grid.py", "k:len(coarse) - 1 + k]", "j:len(coarse) - 1 + j]", SHAPES + SAMP,
     "coarse-to-fine grids look at only half of each cell's corners, so cells crossing the level are missed and "
     "the mesh differs from the dense grid's"),
    ("shapes/grid.py", "len(flat) / out.size", "len(flat) / values_c.size", SHAPES,
     "surface_grid reports the exactly evaluated fraction relative to the coarse grid, a number far above 1"),
    ("shapes/grid.py", "    for axis in range(3):\n        shape = [1, 1, 1]",
     "    for axis in range(2):\n        shape = [1, 1, 1]", SHAPES + SAMP,
     "coarse-to-fine interpolation skips the z axis, so every coarse-to-fine mesh export fails"),
    ("shapes/grid.py", "out = values.reshape(-1)", "out = values_c.reshape(-1)", SHAPES + SAMP,
     "coarse-to-fine refinement writes into the coarse grid, so mesh exports fail with an index error"),
    ("shapes/grid.py", "ticks, origin, voxel = grid_ticks(resolution, cube_length, center)\n"
     "    return Grid(lattice_values", "ticks, origin, voxel = grid_ticks(resolution, cube_length)\n"
     "    return Grid(lattice_values", SHAPES,
     "evaluate_grid_slabs ignores center: an off-centre grid is evaluated around the origin"),
    ("shapes/grid.py", "ticks, origin, voxel = grid_ticks(resolution, cube_length, center)\n    total",
     "ticks, origin, voxel = grid_ticks(resolution, cube_length)\n    total", SHAPES,
     "evaluate_grid ignores center: an off-centre point-evaluated grid is sampled around the origin"),
]
