"""A twenty-first, independently written set of planted one-line bugs for tools/mutation_check.py, spread over
training (the loop's tick statistics, snapshot state, mirroring and its validation, the training CLI, the loss's
logged scores, stats.jsonl, the snapshot fallback search), the networks (decoder density rows, FC initialization,
super-resolution names, minibatch std, synthesis styles, the deformation condition's betas, the released generator's
inverse LBS, the default ray jitter), rendering (the coarse pass's autograd, the per-body box renderer, sample
merging, the sample marcher), metrics (SWD, reprojection, FID, precision/recall, random-camera metrics, the
Inception pool), sampling (views of posed bodies, planes, pose options, seed counts), shapes (trimming,
coarse-to-fine refinement, lattice points, mesh suffixes) and planes / ops / conditioning (plane-sampling validity,
transposed-convolution padding, the discriminator's label size): arguments swapped, the wrong one of two similar
tensors or names, an inverted condition, an off-by-one, a keyword not forwarded, a wrong constant or default, mean
vs sum, min vs max.

    python tools/mutation_check.py --mutants tools/mutants_set21.py --out /tmp/mutation_set21.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no fragment here contains, or is
contained in, a fragment of the same file in mutation_check.py or mutants_set2.py ... mutants_set20.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- training (8) ---------------------------------------------------------------------------------------------
    ("training/loop.py", '"opt_G": opt_G.state_dict(), "opt_D": opt_D.state_dict()',
     '"opt_G": opt_D.state_dict(), "opt_D": opt_G.state_dict()', TRAIN,
     "snapshots store D's Adam state as opt_G and G's as opt_D, so resuming a run fails to load the optimizers"),
    ("training/loop.py", "tick_stats = {k: float(np.mean(v)) for k, v in sums.items()}",
     "tick_stats = {k: float(np.sum(v)) for k, v in sums.items()}", TRAIN,
     "the losses in stats.jsonl and the status lines are summed over the tick's steps instead of averaged, so they "
     "grow with the tick length"),
    ("training/loop.py", "ImageDataset(cfg.data, use_labels=True, xflip=cfg.mirror, use_poses=cfg.conditional)",
     "ImageDataset(cfg.data, use_labels=True, xflip=False, use_poses=cfg.conditional)", TRAIN,
     "--mirror is ignored: training never sees x-flipped images (the dataset is not doubled)"),
    ("training/loop.py", "if self.conditional and self.mirror:", "if self.conditional or self.mirror:",
     TRAIN + COND, "every pose-conditional run and every --mirror run is refused with the 'mirror not supported for "
     "pose-conditional training' error"),
    ("training/loss.py", 'stats["Loss/scores/real"] = float(logits.mean().detach())',
     'stats["Loss/scores/real"] = float(loss_real.mean().detach())', TRAIN,
     "Loss/scores/real logs D's loss on the reals (softplus(-logits)) instead of its mean real score"),
    ("training/report.py", 'f.write(json.dumps(record) + "\\n")', "f.write(json.dumps(record))", TRAIN,
     "stats.jsonl records are written without newlines, so the file is one unparseable line after two ticks"),
    ("training/snapshots.py", "if _snapshot_nimg(p) is not None", "if _snapshot_nimg(p) is None", TRAIN,
     "with latest-snapshot.txt missing or stale, --resume of a run directory finds no snapshot (or a non-snapshot "
     "folder) instead of the one that trained the most images"),
    ("training/cli.py", 'body_model=opts["body_model"], body_box_margin=opts["body_margin"],',
     'body_model=opts["body_model"],', TRAIN + COND,
     "op3d train --conditional ignores --body-margin: every run samples rays in the body boxes grown by 0.1 m, even "
     "with --body-margin none"),
    # --- networks (8) ---------------------------------------------------------------------------------------------
    ("networks/decoder.py", "b1 = first.bias.to(x.dtype) * first.bias_gain",
     "b1 = first.bias.to(x.dtype) * first.weight_gain", NET + SHAPES + SAMP,
     "the decoder's density-only path scales the hidden bias by the weight gain, so density grids and meshes from "
     "op3d sample --shapes disagree with the densities the renderer uses"),
    ("networks/layers.py", "self.weight = nn.Parameter(torch.randn([out_features, in_features]) / lr_multiplier)",
     "self.weight = nn.Parameter(torch.randn([out_features, in_features]) * lr_multiplier)", NET,
     "freshly built networks start with FC weights scaled by lr_mul^2 (the mapping network's are 1e4 times too "
     "small), so new models and training runs differ from EG3D's initialization"),
    ("networks/superresolution.py", 'short = name.rsplit(".", 1)[-1]', 'short = name.rsplit(".", 1)[0]', NET,
     "original checkpoints naming their module 'training.superresolution.SuperresolutionHybrid8XDC' fail to load "
     "with 'unknown super-resolution module'"),
    ("networks/discriminator.py", "MinibatchStdLayer(mbstd_group_size, mbstd_num_channels)",
     "MinibatchStdLayer(mbstd_num_channels, mbstd_group_size)", NET + TRAIN,
     "the discriminator's minibatch-std layer gets group size 1 and 4 channels, so its epilogue convolution receives "
     "the wrong channel count and D fails"),
    ("networks/synthesis.py", "x = self.conv0(x, ws[:, 0], fused_modconv=fused_modconv, noise_mode=noise_mode)",
     "x = self.conv0(x, ws[:, 1], fused_modconv=fused_modconv, noise_mode=noise_mode)", NET,
     "each synthesis block's first convolution is styled by the block's second w, so released checkpoints render "
     "different planes and style mixing cuts at the wrong layer"),
    ("networks/conditional.py", "pad(betas, (0, self.num_betas - betas.shape[1]))",
     "pad(betas, (self.num_betas - betas.shape[1], 0))", COND,
     "a body with fewer shape coefficients than the generator's num_betas gets them at the end of the deformation "
     "condition, after zeros, so its deformation is conditioned on the wrong shape"),
    ("networks/conditional_legacy.py", "built = transform_table(blended, inv_fk[:, 0])",
     "built = transform_table(blended, inv_fk[:, 1])", COND,
     "points far from the body are un-posed with the first child joint's inverse instead of the root's, so the "
     "released SHHQ model renders differently away from the body"),
    ("networks/generator.py", "self.deterministic = False", "self.deterministic = True", NET + MET,
     "a loaded or new generator renders with fixed ray jitter by default, so G(z, c) no longer samples random "
     "depths and metrics render differently"),
    # --- rendering (6) --------------------------------------------------------------------------------------------
    ("rendering/renderer.py", "with torch.no_grad() if single_backward else contextlib.nullcontext():",
     "with contextlib.nullcontext() if single_backward else torch.no_grad():", REND + COND,
     "without the single-backward path (pose-conditional training, density noise) the coarse samples get no "
     "gradient, so the field trains only through the fine samples"),
    ("rendering/renderer.py", "none = (counts == 0)[:, None, None]", "none = (counts > 0)[:, None, None]",
     REND + COND, "per-body box rendering replaces the ray ranges of every body that is hit by the dummy 0..1 range, "
     "so pose-conditional renders are empty or wrong"),
    ("rendering/samplers.py", "_, order = torch.sort(depths, dim=-2)",
     "_, order = torch.sort(depths, dim=-2, descending=True)", REND,
     "merged coarse and fine samples are ordered far to near, so the marcher sees negative intervals and renders "
     "garbage with importance sampling on"),
    ("rendering/samplers.py", "depths = torch.cat([depths1, depths2], dim=-2)",
     "depths = torch.cat([depths2, depths1], dim=-2)", REND,
     "after merging, the fine samples' depths are paired with the coarse samples' colours and densities, so images "
     "and depths with importance sampling are wrong"),
    ("rendering/marcher.py", 'torch.clamp(torch.nan_to_num(depth, float("inf")), torch.min(depths), torch.max(depths))',
     'torch.clamp(torch.nan_to_num(depth, float("inf")), torch.max(depths), torch.min(depths))', REND + COND,
     "the released pose-conditional renderer's depth is clamped with its bounds swapped, so every depth map is the "
     "constant farthest sample depth"),
    ("rendering/marcher.py", "rgb = torch.sum(weights * colors, -2)", "rgb = torch.mean(weights * colors, -2)",
     REND + COND, "the sample marcher averages instead of summing the weighted colours, so the released "
     "pose-conditional model's images are washed out"),
    # --- metrics (6) ----------------------------------------------------------------------------------------------
    ("metrics/swd.py", "min(self.patch, level.shape[-1])", "max(self.patch, level.shape[-1])", MET,
     "swd() with its default 4 levels fails on images under 56 px: a pyramid level smaller than the 7-pixel patch "
     "asks for patches larger than the level"),
    ("metrics/reprojection.py", "count = visible.sum(1)", "count = inside.sum(1)", MET,
     "occluded pixels count in the denominator and in the visible fraction, so the reprojection error is too small "
     "and reproj_visible too large"),
    ("metrics/frechet.py", "w, v = torch.linalg.eigh((a + a.T) / 2)", "w, v = torch.linalg.eigh(a + a.T)", MET,
     "the covariance square root is taken of twice the matrix, so FID is wrong (and not 0 for identical sets)"),
    ("metrics/precision_recall.py", "return precision, recall", "return recall, precision", MET,
     "pr50k3_full reports precision as recall and recall as precision"),
    ("metrics/run.py", 'cameras = "random" if name.endswith("_random_cameras") else "dataset"',
     'cameras = "random" if name.startswith("_random_cameras") else "dataset"', MET,
     "fid50k_full_random_cameras and kid50k_full_random_cameras render with dataset cameras, so they equal the "
     "plain FID / KID"),
    ("metrics/inception.py", "pool = F.max_pool2d(x, 3, stride=1, padding=1) if self.max_pool else _avg_pool(x)",
     "pool = F.max_pool2d(x, 3, stride=1, padding=1) if not self.max_pool else _avg_pool(x)", MET,
     "the last two Inception blocks swap max and average pooling, so FID/KID/IS features differ from the TF "
     "reference's"),
    # --- sampling (5) ---------------------------------------------------------------------------------------------
    ("sampling/render.py", "body.select(torch.zeros(len(cam), dtype=torch.long))",
     "body.select(torch.zeros(1, dtype=torch.long))", SAMP + COND,
     "op3d sample of a pose-conditional network with several views per batch fails: one body for several cameras"),
    ("sampling/render.py", "planes=torch.stack(all_planes))", "planes=torch.cat(all_planes))", SAMP + SHAPES,
     "render_views returns planes without the per-latent axis, so --shapes extraction of an OrthoPlanes model fails "
     "or reads the wrong planes"),
    ("sampling/cli.py", "if (pose_id is None) == (pose_file is None):",
     "if (pose_id is None) != (pose_file is None):", SAMP + COND,
     "pose-conditional sampling refuses a single --pose-id or --pose, and accepts neither or both"),
    ("sampling/cli.py", "model = body_model_from_spec(body_model or G.body_model, device)",
     "model = body_model_from_spec(G.body_model or body_model, device)", SAMP + COND,
     "--body-model is ignored by op3d sample / video: the network's own body model always poses the body"),
    ("sampling/views.py", "if len(seeds) + hi - lo + 1 > MAX_SEEDS:", "if hi - lo + 1 > MAX_SEEDS:", SAMP,
     "--seeds with several ranges is no longer limited to a million seeds in total, only per range"),
    # --- shapes (4) -----------------------------------------------------------------------------------------------
    ("shapes/grid.py", "return Grid(v, grid.origin, grid.voxel_size)",
     "return Grid(grid.values, grid.origin, grid.voxel_size)", SHAPES,
     "trim_border without inplace returns the untrimmed grid, so its border keeps the plane-boundary artifacts"),
    ("shapes/grid.py", "flat = np.flatnonzero(exact)", "flat = np.flatnonzero(~exact)", SHAPES + SAMP,
     "coarse-to-fine grids evaluate exactly everywhere except near the surface, so meshes come from interpolated "
     "coarse values and differ from the dense grid's"),
    ("shapes/export.py", "suffix = path.suffix.lower()", "suffix = path.suffix", SHAPES,
     "writing a mesh to 'shape.PLY' or 'shape.OBJ' is refused as an unknown mesh format"),
    ("shapes/grid.py", "flat = torch.arange(start, stop)", "flat = torch.arange(start, stop - 1)", SHAPES + SAMP,
     "lattice points drop the last point of every chunk, so point-evaluated density grids (pose-conditional "
     "shapes, grid_points) fail or are shifted"),
    # --- planes / ops / conditioning (3) --------------------------------------------------------------------------
    ("planes/sampling.py", "row, wt, ok = row + i.clamp(0, sizes[d] - 1) * strides[d], wt * w, ok & v",
     "row, wt, ok = row + i.clamp(0, sizes[d] - 1) * strides[d], wt * w, ok | v", NET + REND,
     "the fast plane sampler keeps clamped border texels for corners outside the planes, so points near or beyond "
     "the box edge get features where grid_sample gives zeros"),
    ("ops/conv2d_resample.py", "py0 -= kh - 1", "py0 -= kh - up", NET,
     "upsampling convolutions pad one extra row on top, so every 2x synthesis layer's output is a row too tall "
     "and the generator fails"),
    ("conditioning/posed.py", "return CAMERA_DIM + num_betas + 3 * (num_joints - 1)",
     "return CAMERA_DIM + num_betas + 3 * num_joints", COND + TRAIN,
     "the pose-conditional discriminator is built for 107-d labels but gets 104 (camera + betas + 23 joints), so "
     "conditional training fails"),
]
