"""A seventh, independently written set of planted one-line bugs for tools/mutation_check.py.

    python tools/mutation_check.py --mutants tools/mutants_set7.py --out /tmp/mutation_set7.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no source line mutated here is
mentioned in mutation_check.py or mutants_set2.py ... mutants_set6.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- training (8) ---
    ("training/loss.py", "near = near + self._randn_like(near) * 0.03",
     "near = near + self._randn_like(near) * 0.3", TRAIN,
     "the SDF regularizer's near-surface points scatter 30 cm instead of 3 cm around the posed body"),
    ("training/loss.py", "half = self.G.render_options.box_warp / 2",
     "half = self.G.render_options.box_warp", TRAIN,
     "uniform SDF-regularizer points fill a box twice the rendering box, mostly outside the volume"),
    ("training/loss.py", 'if float(self._rand(device="cpu")) >= self.cfg.style_mixing_prob:',
     'if float(self._rand(device="cpu")) < self.cfg.style_mixing_prob:', TRAIN,
     "style mixing happens with probability 1 - p instead of p"),
    ("training/loop.py", 'run_dir = outdir / f"{max(ids, default=-1) + 1:05d}-{desc}"',
     'run_dir = outdir / f"{max(ids, default=0) + 1:05d}-{desc}"', TRAIN,
     "the first run in an empty --outdir is 00001-... instead of 00000-..."),
    ("training/snapshots.py", 'else f"{cur_nimg:09d}img"',
     'else f"{cur_nimg // 1000:06d}"', TRAIN,
     "snapshots at a non-whole kimg are named by truncated kimg: they overwrite each other and resume reads the "
     "wrong image count"),
    ("training/loop.py", "replace(cfg.loss, blur_init_sigma=0, gpc_reg_fade_kimg=0)",
     "replace(cfg.loss, blur_init_sigma=0)", TRAIN,
     "fine-tuning without --resume_blur restarts the pose-swap fade-in (swap probability 1) instead of skipping it"),
    ("training/snapshots.py", "return max(done, key=_snapshot_nimg, default=None)",
     "return min(done, key=_snapshot_nimg, default=None)", TRAIN,
     "without a valid latest-snapshot.txt, resume picks the oldest complete snapshot instead of the newest"),
    ("training/report.py", "x = (images.detach().float().cpu() - lo) * (255 / (hi - lo))",
     "x = (images.detach().float().cpu() - lo) * (256 / (hi - lo))", TRAIN,
     "saved image grids and video frames are slightly too bright and clip to white early"),
    # --- metrics (6) ---
    ("metrics/run.py", "levels = max(1, int(math.log2(G.img_resolution)) - 3)",
     "levels = max(1, int(math.log2(G.img_resolution)) - 2)", MET,
     "swd uses one pyramid level too many (a 4-pixel coarsest level): swd_levels has an extra entry"),
    ("metrics/swd.py", "SWDAccumulator(levels, per_image, patch, seed + 1)",
     "SWDAccumulator(levels, per_image, patch, seed)", MET,
     "swd() draws fake patches at exactly the real patches' positions, changing every SWD value"),
    ("metrics/swd.py", "rows = (ys[..., None] + d).unsqueeze(-1)",
     "rows = (xs[..., None] + d).unsqueeze(-1)", MET,
     "SWD patches are taken on the diagonal (row offset = column offset) instead of at random positions"),
    ("metrics/reprojection.py", 'cam = torch.einsum("bji,bpj->bpi", R, points - t[:, None])',
     'cam = torch.einsum("bij,bpj->bpi", R, points - t[:, None])', MET,
     "points are rotated by R instead of R^T into camera B: a consistent scene gets a large reprojection error"),
    ("metrics/reprojection.py", "return error, count / visible.shape[1]",
     "return error, count / visible.shape[0]", MET,
     "the visible fraction is the visible pixel count over the batch size, far above 1"),
    # --- shapes (3) ---
    ("shapes/grid.py", 'cell_of = np.minimum(np.searchsorted(coarse, np.arange(resolution), side="right") - 1,',
     'cell_of = np.minimum(np.searchsorted(coarse, np.arange(resolution), side="right"),', SHAPES,
     "coarse-to-fine refines the grid points of the neighbouring cells, not the straddling ones: the mesh grid "
     "differs from the dense grid near the surface"),
    ("shapes/grid.py", "t = ((fine - coarse[lower]) / (coarse[lower + 1] - coarse[lower])).astype(np.float32)",
     "t = ((fine - coarse[lower]) / (coarse[lower + 1] - coarse[lower] + 1)).astype(np.float32)", SHAPES,
     "coarse-to-fine interpolation weights are too small: interpolated values never reach the next coarse value"),
    ("shapes/export.py", "data = np.asarray(mrc.data, dtype=np.float32).transpose(2, 1, 0).copy()",
     "data = np.asarray(mrc.data, dtype=np.float32).copy()", SHAPES,
     "read_mrc returns the volume indexed (z, y, x): a written grid does not round-trip"),
    # --- sampling (3) ---
    ("sampling/video.py", "keys[(i + 1) % n], keys[(i + 2) % n]",
     "keys[(i + 1) % n], keys[(i + 1) % n]", SAMP,
     "latent interpolation between keys uses the wrong fourth Catmull-Rom control point: frames differ mid-segment"),
    ("sampling/video.py", "return img.reshape(H, W, R, R, -1).transpose(0, 2, 1, 3, 4)",
     "return img.reshape(H, W, R, R, -1).transpose(0, 1, 2, 3, 4)", SAMP,
     "video frames of a W x H grid are scrambled (rows of different cells interleaved)"),
    ("sampling/video.py", "total = keys * frames_per_key",
     "total = (keys - 1) * frames_per_key", SAMP,
     "videos are one key segment short: the loop never returns to the first seed and the orbit runs faster"),
]
