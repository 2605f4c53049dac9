"""A twenty-eighth, independently written set of planted one-line bugs for tools/mutation_check.py: set 28, 40
mutants written without reading the tests, aimed at the glue a user's run goes through one step away from the
math (options forwarded, defaults, G / G_ema / D, counters, seeds, file names, x-flips, which camera or pose goes
with which image, error checks), by area:

- training loop (5): --fourier_L reaching G, the "already past --kimg" check on resume, the generated samples'
  cameras, the fakes grid's poses past the first 8, the kimg stamped on stats.jsonl;
- training CLI (3): --glr's default, --density_reg_every's default, the seed of the built-in synthetic bodies;
- snapshots, reports and the sampler (5): the hidden temporary snapshot name, the training-state counters and
  optimizer states that are validated, a grid's padding colour, the sampler's resume position;
- metrics runner and CLI (6): which pose goes with which fake, the cache key of a folder dataset, all reals vs a
  random sample for FID, the precision / recall keys, training_options.json's name, the recorded network;
- sampling, views and video (6): the PNG name format, --grid's default, trimming of dense meshes, the per-seed
  ws of render_views, the video's .mp4 path, the W x H order of --grid;
- presets (3): the SR module of the op3d size, D's mapping depth of small nets, the op3d size's mapping depth;
- checkpoint loading (5): op3d.load(dir, "G"), the shape check, the inf check, op3d convert --which, the released
  conditional model's neural rendering resolution;
- datasets (4): the first mirrored image's camera, the mirror axis, upper-case extensions, backslash names;
- conditioning glue (3): the pose file's beta count, PARE's centre crop, PARE's EXIF orientation.

    python tools/mutation_check.py --mutants tools/mutants_set28.py --out /tmp/mutation_set28.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no fragment here contains, or is
contained in, a fragment of the same file in mutation_check.py or mutants_set2.py ... mutants_set26.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- training loop (5) ----------------------------------------------------------------------------------------
    ("training/loop.py", "plane_number=cfg.plane_number, fourier_L=cfg.fourier_L,",
     "plane_number=cfg.plane_number, fourier_L=10,", TRAIN,
     "op3d train --fourier_L 6 builds G with 10 Fourier frequencies anyway, while training_options.json "
     "says 6"),
    ("training/loop.py", "if cur_nimg >= cfg.kimg * 1000:", "if cur_nimg > cfg.kimg * 1000:", TRAIN,
     "resuming a finished run with the same --kimg is not refused: it trains one more batch past --kimg and "
     "writes another snapshot"),
    ("training/loop.py", "z, labels[i].to(device), gain=interval", "z, rc, gain=interval", TRAIN,
     "generated samples are rendered with the cameras of the real images of the same round instead of random "
     "dataset cameras, so the camera distribution D sees for fakes follows the reals batch"),
    ("training/loop.py", "grid_pose[i:i + 8]", "grid_pose[:8]", TRAIN + COND,
     "fakes*.png of pose-conditional runs render the second row of 8 with the first row's poses"),
    ("training/loop.py", "runlog.log(tick_stats, cur_nimg / 1000)", "runlog.log(tick_stats, tick)", TRAIN,
     "stats.jsonl records the tick number as kimg (and TensorBoard plots against it)"),
    # --- training CLI (3) -----------------------------------------------------------------------------------------
    ("training/cli.py", '@click.option("--glr", type=Finite(min=0), default=0.0025)',
     '@click.option("--glr", type=Finite(min=0), default=0.002)', TRAIN,
     "op3d train without --glr trains G at D's learning rate 0.002 instead of EG3D's 0.0025"),
    ("training/cli.py", '@click.option("--density_reg_every", type=click.IntRange(min=1), default=4)',
     '@click.option("--density_reg_every", type=click.IntRange(min=1), default=16)', TRAIN,
     "the lazy density (and eikonal / SDF prior) regularization runs every 16 batches by default instead of 4"),
    ("training/cli.py", 'resolution=64, seed=opts["seed"], progress=True)', "resolution=64, seed=0, progress=True)",
     TRAIN + COND,
     "op3d train --conditional --seed 3 without --data makes synthetic-body-200-64-seed3.zip holding the seed-0 "
     "bodies"),
    # --- snapshots, reports and the sampler (5) -------------------------------------------------------------------
    ("training/snapshots.py", 'prefix=f".{name}.", dir=run_dir', 'prefix=f"{name}.", dir=run_dir', TRAIN,
     "a snapshot being written is no hidden .network-snapshot-* directory: what a killed process leaves is "
     "never cleaned up and stays beside the real snapshots"),
    ("training/snapshots.py", 'for key in ("cur_nimg", "batch_idx", "tick"):', 'for key in ("cur_nimg", "tick"):',
     TRAIN, "a training state without (or with a negative) batch_idx passes validation and --resume fails later "
     "with a KeyError traceback or wrong lazy-regularization phases"),
    ("training/snapshots.py", 'for key in ("opt_G", "opt_D"):', 'for key in ("opt_G",):', TRAIN,
     "a training state whose opt_D is damaged passes validation and --resume crashes in load_state_dict with a "
     "traceback instead of a one-line CheckpointError"),
    ("training/report.py", "grid = np.full((rows * h, cols * w, c), 255, dtype=np.uint8)",
     "grid = np.full((rows * h, cols * w, c), 0, dtype=np.uint8)", TRAIN + SAMP,
     "image grids with a partial last row (reals.png of a 12-image dataset) are padded black instead of white"),
    ("training/sampler.py", "self.start, self.shuffle = rank, world_size, start, shuffle",
     "self.start, self.shuffle = rank, world_size, 0, shuffle", TRAIN,
     "a resumed run reads the dataset stream from its beginning again, not where the interrupted run stopped"),
    # --- metrics runner and CLI (6) -------------------------------------------------------------------------------
    ("metrics/run.py", "dataset.get_pose(int(i)) for i in idx]", "dataset.get_pose(int(i)) for i in idx[::-1]]",
     MET + COND, "pose-conditional fakes of a metric batch take the camera of one dataset image and the pose of "
     "another"),
    ("metrics/run.py", 'files = sorted(p for p in path.rglob("*") if p.is_file())',
     'files = sorted(p for p in path.glob("*") if p.is_file())', MET,
     "replacing an image inside a sub-folder of a folder dataset keeps the cache key, so FID/KID reuse stale "
     "real-image features"),
    ("metrics/run.py", "real_batches(dataset, None, 0)", "real_batches(dataset, len(dataset.image_names), 0)", MET,
     "real features for FID / KID / PR are a with-replacement random sample instead of every dataset image"),
    ("metrics/run.py", '{"pr50k3_full_precision": precision, "pr50k3_full_recall": recall}',
     '{"pr50k3_full_precision": recall, "pr50k3_full_recall": precision}', MET,
     "metric-pr50k3_full.jsonl reports recall as precision and precision as recall"),
    ("metrics/cli.py", 'options = run / "training_options.json"', 'options = run / "training-options.json"', MET,
     "op3d metrics --network RUN without --data no longer finds the run's dataset and fails for FID / SWD"),
    ("metrics/cli.py", "progress=True), network=str(network))", "progress=True), network=str(data))", MET,
     "metric-*.jsonl records the dataset path as the evaluated network"),
    # --- sampling, views and video (6) ----------------------------------------------------------------------------
    ("sampling/cli.py", 'save_grid(strip, out / f"seed{seed:04d}.png", 1)',
     'save_grid(strip, out / f"seed{seed:05d}.png", 1)', SAMP,
     "op3d sample writes seed00007.png while it prints (and the depth strip uses) seed0007"),
    ("sampling/cli.py", '@click.option("--grid/--no-grid", default=False,',
     '@click.option("--grid/--no-grid", default=True,', SAMP,
     "op3d sample writes grid.png on every run although --grid was not given"),
    ("sampling/cli.py", "g = rendering.density_grid(G, planes, shape_res, progress=True",
     "g = rendering.density_grid(G, planes, shape_res, trim=False, progress=True", SAMP + SHAPES,
     "--mesh-grid dense meshes keep the plane-boundary border artifacts that coarse-to-fine meshes trim"),
    ("sampling/render.py", "r = G.synthesis(w[None].expand(len(cam), -1, -1), cam,",
     "r = G.synthesis(ws[:1].expand(len(cam), -1, -1), cam,", SAMP,
     "render_views of several seeds renders every seed's planes with the first seed's ws (its super-resolution "
     "style), so seeds after the first come out mixed"),
    ("sampling/video.py", 'with atomic_path(path.with_suffix(".mp4")) as tmp:', "with atomic_path(path) as tmp:",
     SAMP, "op3d video --output clip.avi writes clip.avi but reports clip.mp4 (and --output clip fails)"),
    ("sampling/views.py", "return W, H", "return H, W", SAMP,
     "op3d video --grid 3x2 lays the videos out 2 wide and 3 tall"),
    # --- presets (3) ----------------------------------------------------------------------------------------------
    ("presets.py", 'sr = SR_FOR_RESOLUTION.get(resolution) if size in ("full", "op3d") else None',
     'sr = SR_FOR_RESOLUTION.get(resolution) if size == "full" else None', NET + TRAIN,
     "--size op3d at 512 gets op3d's generic 2x super-resolution instead of the original SR module"),
    ("presets.py", 'mapping_kwargs=dict(num_layers=2) if size in ("small", "tiny") else {},',
     'mapping_kwargs=dict(num_layers=2) if size == "tiny" else {},', NET + TRAIN,
     "--size small discriminators get an 8-layer camera mapping instead of 2 layers"),
    ("presets.py", "channel_max=384, mapping_kwargs=dict(num_layers=8)",
     "channel_max=384, mapping_kwargs=dict(num_layers=2)", NET + TRAIN,
     "--size op3d builds a 2-layer mapping network instead of its 8 layers"),
    # --- checkpoint loading (5) -----------------------------------------------------------------------------------
    ("io/api.py", 'target = p if which == "G_ema" else p / which', 'target = p if which != "D" else p / which',
     NET + TRAIN, "op3d.load(snapshot, \"G\") returns G_ema, so fine-tuning from a snapshot starts G from the "
     "EMA weights"),
    ("io/checkpoint.py", "if tuple(value.shape) != tuple(expected[key].shape):",
     "if value.numel() != expected[key].numel():", NET + TRAIN,
     "a checkpoint with a transposed weight of the right size passes the check and fails in load_state_dict with "
     "a traceback instead of a one-line CheckpointError"),
    ("io/checkpoint.py", "if value.is_floating_point() and not bool(torch.isfinite(value).all()):",
     "if value.is_floating_point() and bool(torch.isnan(value).any()):", NET + TRAIN,
     "checkpoints with inf weights load without complaint and render NaN images"),
    ("io/cli.py", "model = load(source, which=which)", "model = load(source)", NET,
     "op3d convert --which D writes G_ema while its config records which=D"),
    ("io/legacy.py", 'for name in ("rendering_kwargs", "neural_rendering_resolution"):',
     'for name in ("rendering_kwargs",):', NET + COND,
     "the released pose-conditional generator ignores its stored neural rendering resolution and renders at "
     "the constructor default"),
    # --- datasets (4) ---------------------------------------------------------------------------------------------
    ("data/dataset.py", "if index >= n and label.shape[0]:", "if index > n and label.shape[0]:", TRAIN,
     "with --mirror the first mirrored image gets its unflipped camera"),
    ("data/dataset.py", "image = image[:, ::-1]", "image = image[::-1]", TRAIN,
     "--mirror flips images upside down instead of left-right (while the cameras are mirrored left-right)"),
    ("data/dataset.py", "n.lower().endswith(IMAGE_EXTENSIONS)", "n.endswith(IMAGE_EXTENSIONS)", TRAIN,
     "datasets of IMG_0001.JPG / .PNG files are found to have no images"),
    ("data/dataset.py", 'name = entry[0].replace("\\\\", "/")', "name = entry[0]", TRAIN,
     "a dataset.json written on Windows (sub\\img.png) is refused as having no labels for its images"),
    # --- conditioning glue (3) ------------------------------------------------------------------------------------
    ("conditioning/posed.py", "if given.numel() > NUM_BETAS:", "if given.numel() >= NUM_BETAS:", COND + SAMP,
     "a pose file with all 10 betas is refused by op3d sample --pose"),
    ("conditioning/pare.py", "side = min(W, H)", "side = max(W, H)", COND,
     "PARE imports of non-square photos get the wrong camera scale and depth after the centre crop"),
    ("conditioning/pare.py", "size = ImageOps.exif_transpose(im).size", "size = im.size", COND,
     "PARE imports of EXIF-rotated photos swap width and height, so their cameras are placed wrongly"),
]
