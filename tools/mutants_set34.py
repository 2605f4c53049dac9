"""A thirty-fourth, independently written set of planted one-line bugs for tools/mutation_check.py: set 34, 40
mutants written without reading the tests, on lines no earlier set mutated, by area:

- networks (7): when a 1-D resampling filter is stored separable, the mapping's default embedding width, the
  fewest planes per axis accepted, the filter buffer of op3d's Superresolution2X, the dtype of float64 ws, the
  right padding of upsampling convolutions, the weight flip of plain convolutions;
- rendering (6): the depth-resolution bounds, per-ray ranges given to render, the key of the "none" density
  activation, the batch width when no ray hits its box, the importance uniforms of random renders, the width of
  camera labels accepted;
- metrics (7): the real-feature cache file name, the first real image, the stride of the Inception stem, the
  branch order of the last Inception blocks, the dataset / network resolution check, the dtype of KID's fakes,
  the projections of the SWD distance;
- training (8): the --style_mixing_prob and --density_reg defaults, the reals grid file name, the ray range
  check's arguments, the fakes grid columns, the --metrics-num default, the training-state file resume looks
  for, the default learning rate of G;
- shapes (5): the mrc writer's overwrite of its temporary file, the path write_mrc / write_mesh return, which
  grid points coarse-to-fine evaluates exactly, the refinement chunks, the vertex-colour points;
- sampling, cameras and checkpoints (7): the up vector of look-at cameras, the orthonormality tolerance of
  camera checks, the default --mode of `op3d video`, the legacy axes of original pickles, their neural rendering
  resolution, the disparity-space default of the presets, unexpected tensors in checkpoints.

    python tools/mutation_check.py --mutants tools/mutants_set34.py --out /tmp/mutation_set34.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no fragment here contains, or is
contained in, a fragment of the same file in mutation_check.py or mutants_set2.py ... mutants_set33.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- networks (7) -----------------------------------------------------------------------------------------
    ("ops/upfirdn2d.py", "separable = f.ndim == 1 and f.numel() >= 8",
     "separable = f.ndim == 1 and f.numel() >= 4", NET,
     "the [1, 3, 3, 1] filter is stored as a 1-D [4] buffer: every resample_filter buffer changes shape, so op3d "
     "checkpoints and original pickles no longer load, and the bilinear fast path is never taken"),
    ("networks/layers.py", "            embed_features = w_dim", "            embed_features = z_dim", NET + COND,
     "the camera embedding takes z_dim features: D's mapping (z_dim 0) embeds c into nothing, so its camera "
     "projection ignores c and D checkpoints / pickles fail to load with shape errors"),
    ("networks/generator.py", "per_dir_plane_number=(per_dir_plane_number, 1, 256)",
     "per_dir_plane_number=(per_dir_plane_number, 2, 256)", NET,
     "an orthoplanes generator with one plane per axis (--plane_number 1, a legal ablation) is refused"),
    ("networks/superresolution.py", "(c0, c1, img_resolution, 2)], False, True",
     "(c0, c1, img_resolution, 2)], False, False", NET + TRAIN,
     "op3d's own Superresolution2X (synthetic / tiny models at 64) has no resample_filter buffer: their saved "
     "checkpoints no longer load (unexpected key)"),
    ("networks/synthesis.py", "ws = ws.to(torch.promote_types(ws.dtype, torch.float32))",
     "ws = ws.to(torch.float32)", NET,
     "float64 ws (G.double(), gradient checks) are rounded to float32: the planes and renders come back float32 "
     "instead of float64"),
    ("ops/conv2d_resample.py", "        px1 -= kw - up", "        px1 -= kw - 1", NET,
     "upsampling 3x3 convolutions crop one column too many on the right: the synthesis layers' outputs have the "
     "wrong width and every generator forward fails or shifts"),
    ("ops/conv2d_resample.py", "return _conv(x, w, padding=[py0, px0], groups=groups, flip_weight=flip_weight)",
     "return _conv(x, w, padding=[py0, px0], groups=groups, flip_weight=not flip_weight)", NET,
     "plain (non-resampling) convolutions use the flipped kernel: D's and the backbone's 3x3 convs compute "
     "convolution instead of correlation, loaded networks render and score differently"),
    # --- rendering (6) ----------------------------------------------------------------------------------------
    ("rendering/renderer.py", "or not lo <= value <= 4096:", "or not lo < value <= 4096:", REND,
     "rendering_kwargs with depth_resolution_importance 0 (no importance sampling) or the fewest coarse samples "
     "are refused"),
    ("rendering/renderer.py",
     "start, end = _ray_range(origins, dirs, options) if ray_range is None else ray_range",
     "start, end = _ray_range(origins, dirs, options)", REND + COND,
     "per-ray ranges are ignored: the pose-conditional generator samples the whole preset range instead of each "
     "body's box, other images and depths"),
    ("rendering/marcher.py", '    elif activation == "none":', '    elif activation == "linear":', REND + COND,
     "clamp_mode 'none' (the pose-conditional SDF density) is refused by the marcher: those generators cannot "
     "render"),
    ("rendering/renderer.py", "width = max(int(counts.max()), 1)", "width = max(int(counts.max()), 0)",
     REND + COND,
     "a batch in which no ray enters its body box (body out of frame) renders zero rays and fails instead of "
     "returning the background"),
    ("rendering/samplers.py", "        if u is None:", "        if u is not None:", REND,
     "random renders place their fine samples at deterministic linspace uniforms and deterministic renders fail "
     "(no uniforms)"),
    ("rendering/rays.py", "c.shape[1] < 25:", "c.shape[1] < 16:", REND,
     "camera labels with only the 16 cam2world values pass the check and fail later with a reshape error instead "
     "of the ValueError naming the [B, 25] layout"),
    # --- metrics (7) ------------------------------------------------------------------------------------------
    ("metrics/run.py", 'cache = Path(cache_dir) / f"real-features-{key}.npy" if cache_dir else None',
     'cache = Path(cache_dir) / "real-features.npy" if cache_dir else None', MET,
     "one cache file for every dataset and detector: FID / KID of a second dataset reuse the first one's real "
     "features"),
    ("metrics/run.py", "    for s in range(0, len(order), batch):", "    for s in range(1, len(order), batch):", MET,
     "the first dataset image is never read: num_real is one short and FID / KID / PR / SWD use other reals"),
    ("metrics/inception.py", "self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=2)",
     "self.Conv2d_1a_3x3 = BasicConv2d(3, 32, kernel_size=3, stride=1)", MET,
     "the Inception stem does not downsample: the file still loads but every feature, FID, KID and IS changes "
     "(and runs 4x slower)"),
    ("metrics/inception.py", "return torch.cat([self.branch1x1(x), b3, d, self.branch_pool(pool)], 1)",
     "return torch.cat([b3, self.branch1x1(x), d, self.branch_pool(pool)], 1)", MET,
     "the last Inception blocks concatenate their branches in another order: Mixed_7c reads permuted channels "
     "and the 2048-d features no longer match the reference detector"),
    ("metrics/run.py", "if dataset is not None and dataset.resolution != G.img_resolution:",
     "if dataset is not None and dataset.resolution > G.img_resolution:", MET,
     "a dataset smaller than the network's images is accepted: metrics compare e.g. 256 reals with 512 fakes "
     "instead of refusing"),
    ("metrics/frechet.py", "fake = np.asarray(fake, dtype=np.float64)", "fake = np.asarray(fake, dtype=np.float32)",
     MET, "KID's kernel sums of the fakes run in float32: the cubic kernel loses precision and KID values change"),
    ("metrics/swd.py", "g = torch.Generator().manual_seed(seed)", "g = torch.Generator().manual_seed(seed + 1)",
     MET, "the SWD projections no longer follow --seed: swd values differ from the documented seeded ones"),
    # --- training (8) -----------------------------------------------------------------------------------------
    ("training/cli.py", '"--style_mixing_prob", type=Finite(min=0, max=1), default=0.0)',
     '"--style_mixing_prob", type=Finite(min=0, max=1), default=0.9)', TRAIN,
     "op3d train mixes styles in 90% of the generator passes by default (EG3D / OP3D use 0): other training and "
     "training_options.json"),
    ("training/cli.py", '"--density-reg", type=Finite(min=0), default=0.25)',
     '"--density-reg", type=Finite(min=0), default=0.0)', TRAIN,
     "the density regularizer is off by default: no Greg phase, G_reg_interval null in training_options.json"),
    ("training/loop.py", 'run_dir / "reals.png"', 'run_dir / "real.png"', TRAIN,
     "the run directory's grid of real images is written as real.png instead of reals.png"),
    ("training/loop.py", "ray_range_problem(labels, G.render_options.ray_start, G.render_options.ray_end)",
     "ray_range_problem(labels, G.render_options.ray_end, G.render_options.ray_start)", TRAIN,
     "every run with a fixed ray range (ffhq, afhq, shapenet, the synthetic demo) is refused as if its cameras "
     "lay outside the sampled range"),
    ("training/loop.py", "    cols = min(n, 8)", "    cols = min(n, 4)", TRAIN,
     "fakes_init.png / fakes*.png are laid out 4 columns wide instead of 8: other image sizes"),
    ("training/cli.py", 'type=click.IntRange(min=2), default=500, help="Fakes per metric evaluation.")',
     'type=click.IntRange(min=2), default=50, help="Fakes per metric evaluation.")', TRAIN,
     "snapshot metrics use 50 fakes instead of 500 by default: noisier numbers, metrics_num 50 recorded"),
    ("training/loop.py", "if (resume / STATE_NAME).is_file():", 'if (resume / "training_state.pt").is_file():',
     TRAIN,
     "--resume of a run or snapshot never finds the training state: it fine-tunes from kimg 0 with fresh "
     "optimizers instead of continuing exactly"),
    ("training/loop.py", "    glr: float = 0.0025", "    glr: float = 0.002", TRAIN,
     "TrainConfig built from Python without glr trains G with D's learning rate (0.002), recorded in "
     "training_options.json"),
    # --- shapes (5) -------------------------------------------------------------------------------------------
    ("shapes/export.py", "with mrcfile.new(tmp, overwrite=True) as mrc:", "with mrcfile.new(tmp) as mrc:",
     SHAPES + SAMP,
     "the atomic temporary file already exists, so writing any .mrc fails (op3d sample --shapes, write_mrc)"),
    ("shapes/export.py", "    return Path(path)", "    return Path(tmp)", SHAPES,
     "write_mrc / write_mesh return the path of the temporary file (already renamed away) instead of the file "
     "written"),
    ("shapes/grid.py", "exact = cells[np.ix_(cell_of, cell_of, cell_of)]",
     "exact = ~cells[np.ix_(cell_of, cell_of, cell_of)]", SHAPES + SAMP,
     "coarse-to-fine meshes evaluate exactly everywhere except near the surface: the surface comes from coarse "
     "interpolation (other meshes than the dense grid's) and extraction is slow"),
    ("shapes/grid.py", "idx = torch.from_numpy(flat[s:s + chunk])", "idx = torch.from_numpy(flat[s:s + chunk - 1])",
     SHAPES + SAMP,
     "each refinement chunk evaluates one point fewer than it stores: ply / obj extraction (the default "
     "coarse-to-fine grid) fails"),
    ("sampling/render.py", "pts = torch.as_tensor(verts, dtype=torch.float32, device=planes.device)[None]",
     "pts = torch.as_tensor(verts[:, ::-1].copy(), dtype=torch.float32, device=planes.device)[None]",
     SHAPES + SAMP,
     "vertex colours are looked up at (z, y, x) instead of (x, y, z): coloured meshes get colours from the "
     "mirrored position"),
    # --- sampling, cameras and checkpoints (7) ----------------------------------------------------------------
    ("data/cameras.py", "up = torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64)",
     "up = torch.tensor([0.0, -1.0, 0.0], dtype=torch.float64)", SAMP + MET + TRAIN,
     "look-at cameras are rolled by 180 degrees: sampled images, videos and synthetic datasets come out rotated "
     "upside down, and the conditioning labels change"),
    ("data/cameras.py", "((R.transpose(1, 2) @ R - eye).abs().amax((1, 2)) > 1e-3,",
     "((R.transpose(1, 2) @ R - eye).abs().amax((1, 2)) > 1e-1,", SAMP + TRAIN,
     "cam2world rotations scaled or sheared by a few percent pass the camera check instead of being reported"),
    ("sampling/cli.py", '"--mode", type=click.Choice(["image", "raw", "depth"]), default="image")',
     '"--mode", type=click.Choice(["image", "raw", "depth"]), default="raw")', SAMP,
     "op3d video without --mode writes the upscaled raw neural rendering instead of the final image"),
    ("io/legacy.py", 'kwargs["legacy_axes"] = True', 'kwargs["legacy_axes"] = False', SAMP + NET,
     "original OP3D / EG3D pickles are read with op3d's corrected plane axes: their renders and shapes no longer "
     "match the original code"),
    ("io/legacy.py", 'if isinstance(attributes.get("neural_rendering_resolution"), int):',
     'if isinstance(attributes.get("neural_rendering_res"), int):', SAMP + NET,
     "a pickle's trained neural rendering resolution (e.g. 128) is ignored: it renders at the constructor's 64, "
     "other raw images and final images"),
    ("presets.py", "COMMON_RENDERING = dict(disparity_space_sampling=False,",
     "COMMON_RENDERING = dict(disparity_space_sampling=True,", SAMP + TRAIN,
     "every preset samples rays linearly in disparity: new generators render and train differently from EG3D"),
    ("io/checkpoint.py", "unexpected = sorted(set(state_dict) - set(expected))",
     "unexpected = sorted(set(expected) - set(state_dict))", SAMP + NET,
     "a checkpoint with extra tensors is not reported as such: load fails with a bare KeyError instead of a "
     "CheckpointError naming the unexpected keys (and a missing key is also listed as unexpected)"),
]
