"""A thirty-first, independently written set of planted one-line bugs for tools/mutation_check.py: set 31, 40
mutants written without reading the tests, on lines no earlier set mutated, all in the glue of training and
metrics, by area:

- training (24): the --gpus check, the --dlr / --blur_fade_kimg / --mbstd-group defaults, the --batch-gpu
  divisibility check, which detector file the metric check gets, which architecture facts a resume follows,
  G's and D's recorded init_kwargs, the seed of the training stream, the name of training_options.json, when
  reals.png is written and its value range, the first tick after a resume, the Progress/kimg unit, which
  networks a snapshot stores as G and G_ema, where the metric cache goes, the summary's G / G_ema, resuming
  from a snapshot directory, the optimizer-state check, the latest-snapshot pointer's name, whether stats.jsonl
  is written, pose conditioning with a zero swap probability, the number of SDF regularization points, the
  DistInfo built from torchrun's environment;
- metrics (16): the VGG file check, which metrics need --data, the seed of the fakes' dataset cameras, the cache
  key of a folder dataset, the results file's name, the reals SWD compares, a detector given as a Path, the
  dataset looked up from training_options.json, the --body-model check, a nested --outdir, the fewest feature
  vectors FID accepts, SWD's patch / per-image arguments and its number of projections, which detector files
  are TorchScript, the Inception classifier's key, the detector's eval mode.

    python tools/mutation_check.py --mutants tools/mutants_set31.py --out /tmp/mutation_set31.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no fragment here contains, or is
contained in, a fragment of the same file in mutation_check.py or mutants_set2.py ... mutants_set30.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- training: op3d train's options (4) ---------------------------------------------------------------------
    ("training/cli.py", 'if info.world_size != opts["gpus"]:', 'if info.world_size > opts["gpus"]:', TRAIN,
     "op3d train --gpus 2 started without torchrun trains on one process instead of refusing with the torchrun "
     "hint"),
    ("training/cli.py", '@click.option("--dlr", type=Finite(min=0), default=0.002)',
     '@click.option("--dlr", type=Finite(min=0), default=0.0025)', TRAIN,
     "D's learning rate defaults to G's 0.0025 instead of EG3D's 0.002 (--dry-run and training_options.json "
     "show it)"),
    ("training/cli.py", '@click.option("--blur_fade_kimg", type=Finite(min=0), default=200)',
     '@click.option("--blur_fade_kimg", type=Finite(min=0), default=100)', TRAIN,
     "the blur fade-in is half as long by default: D sees sharp images earlier"),
    ("training/cli.py", '@click.option("--mbstd-group", type=click.IntRange(min=1), default=4)',
     '@click.option("--mbstd-group", type=click.IntRange(min=1), default=2)', TRAIN,
     "D's minibatch-stddev group defaults to 2 instead of 4: another discriminator and training_options.json"),
    # --- training: the loop (14) ---------------------------------------------------------------------------------
    ("training/loop.py", "per_rank % self.batch_gpu", "self.batch_gpu % per_rank", TRAIN,
     "--batch 8 --batch-gpu 4 is refused (4 % 8 != 0) while --batch 8 --batch-gpu 3 is accepted"),
    ("training/loop.py", "check_metric_names(self.metrics, self.detector, self.vgg)",
     "check_metric_names(self.metrics, self.vgg, self.detector)", TRAIN + MET,
     "--metrics fid50k_full --detector FILE is refused for a missing Inception file (and pr50k3_full with --vgg "
     "likewise)"),
    ("training/loop.py", 'if facts["representation"] == "orthoplanes":',
     'if facts["representation"] == "triplane":', TRAIN,
     "resuming an OrthoPlanes snapshot with another --plane_number keeps the conflicting value in "
     "training_options.json instead of the snapshot's"),
    ("training/loop.py", "G.init_kwargs, D.init_kwargs = gkw, dkw", "G.init_kwargs, D.init_kwargs = dkw, gkw",
     TRAIN,
     "snapshots record D's constructor arguments for G (and G's for D): the saved networks do not load back"),
    ("training/loop.py", "torch.manual_seed(cfg.seed + 1)  # the same stream",
     "torch.manual_seed(cfg.seed)  # the same stream", TRAIN,
     "the training stream (latents, cameras, jitter) restarts the seed that initialized the weights: another "
     "run for the same --seed"),
    ("training/loop.py", '(run_dir / "training_options.json")', '(run_dir / "training-options.json")',
     TRAIN + MET,
     "the run records its options as training-options.json: op3d metrics no longer finds the run's dataset"),
    ("training/loop.py", "if info.is_main and state is None:", "if info.is_main and state is not None:", TRAIN,
     "a fresh run writes no reals.png / fakes_init.png, while a resumed one rewrites them"),
    ("training/loop.py", "reals = torch.stack([dataset[i][0] for i in range(grid_n)]).float() / 127.5 - 1",
     "reals = torch.stack([dataset[i][0] for i in range(grid_n)]).float() / 255", TRAIN,
     "reals.png shows the dataset images washed out (mapped to [0, 1] and then read as [-1, 1])"),
    ("training/loop.py", "tick_start_nimg, tick_start_time, start_time = cur_nimg, time.time(), time.time()",
     "tick_start_nimg, tick_start_time, start_time = 0, time.time(), time.time()", TRAIN,
     "a resumed run ends its first tick (and may snapshot) after one step instead of a whole --tick: ticks and "
     "snapshots no longer match the uninterrupted run"),
    ("training/loop.py", '"Progress/kimg": cur_nimg / 1000', '"Progress/kimg": cur_nimg', TRAIN,
     "stats.jsonl's Progress/kimg holds the image count, 1000 times the kimg"),
    ("training/loop.py", 'write_snapshot(run_dir, f"network-snapshot-{stamp}", G, D, G_ema, state_dict)',
     'write_snapshot(run_dir, f"network-snapshot-{stamp}", G_ema, D, G, state_dict)', TRAIN,
     "op3d.load(snapshot) gives the raw G instead of the EMA generator, and a resume continues from swapped "
     "networks"),
    ("training/loop.py", 'cfg.detector, Path(cfg.outdir) / "metric-cache", cfg.vgg)',
     'cfg.detector, run_dir / "metric-cache", cfg.vgg)', TRAIN + MET,
     "training's real-feature cache goes into each run directory instead of --outdir/metric-cache: every run "
     "recomputes the reals' features"),
    ("training/loop.py", '"G": G, "G_ema": G_ema', '"G": G_ema, "G_ema": G', TRAIN,
     "training_loop's summary hands back the raw G as G_ema and the EMA as G"),
    ("training/loop.py", "if resume.is_dir() and latest_snapshot(resume) is not None:", "if resume.is_dir():",
     TRAIN,
     "--resume with a snapshot directory (or an op3d checkpoint directory) fails instead of continuing from it"),
    # --- training: snapshots, report, loss, distributed (6) -------------------------------------------------------
    ("training/snapshots.py", 'and isinstance(value.get("param_groups"), list)):',
     'and isinstance(value.get("param_groups"), dict)):', TRAIN,
     "every genuine training snapshot is refused as 'opt_G is not an optimizer state': no run can be resumed"),
    ("training/snapshots.py", 'LATEST = "latest-snapshot.txt"', 'LATEST = "latest_snapshot.txt"', TRAIN,
     "the run's pointer to its latest snapshot is written as latest_snapshot.txt, not the documented "
     "latest-snapshot.txt"),
    ("training/report.py", "if not self.enabled:", "if self.enabled:", TRAIN,
     "the main process writes no stats.jsonl (and no TensorBoard scalars); a disabled log tries to write one"),
    ("training/loss.py", "if prob is None:", "if not prob:", TRAIN,
     "with --gen_pose_cond and --gpc_reg_prob 0, once the swap fade is over G's mapping gets zero cameras instead "
     "of the samples' own"),
    ("training/loss.py", "n = self.cfg.sdf_reg_points // 2", "n = self.cfg.sdf_reg_points", TRAIN + COND,
     "pose-conditional Greg uses twice the configured regularization points (sdf_reg_points per half)"),
    ("training/distributed.py", "return DistInfo(rank, world, local_rank, dev)",
     "return DistInfo(world, rank, local_rank, dev)", TRAIN,
     "a plain single-process op3d train sees world size 0 and rank 1: refused for --gpus 1, and not the main "
     "process"),
    # --- metrics: the runner and op3d metrics (10) ----------------------------------------------------------------
    ("metrics/run.py", "if name in VGG and vgg is None and", "if name in VGG and detector is None and", MET,
     "pr50k3_full with --vgg FILE but no --detector is refused for a missing VGG16 file (and passes without "
     "--vgg when --detector is given)"),
    ("metrics/run.py", 'if dataset is None and name != "reproj":', "if dataset is None and name not in WEIGHT_FREE:",
     MET, "swd without --data crashes with an AttributeError instead of 'needs --data'"),
    ("metrics/run.py", "rng = np.random.default_rng(seed)", "rng = np.random.default_rng()", MET,
     "the dataset cameras (and poses) of the fakes are drawn unseeded: FID/KID/SWD differ from run to run for "
     "the same --seed"),
    ("metrics/run.py", 'return f"{path.resolve()}:{hashlib.sha1(listing.encode()).hexdigest()}"',
     'return f"{path.resolve()}:{len(files)}"', MET,
     "replacing an image of a folder dataset keeps the cache key: FID reuses stale real features"),
    ("metrics/run.py", "f\"metric-{record['metric']}.jsonl\"", "f\"metric-{record['metric']}.json\"", MET + TRAIN,
     "results are appended to metric-<name>.json instead of the documented metric-<name>.jsonl"),
    ("metrics/run.py", "for images in real_batches(dataset, num, seed, batch):",
     "for images in real_batches(dataset, None, seed, batch):", MET,
     "SWD compares all reals with num fakes: it fails with unequal descriptor counts (or, for num = dataset "
     "size, uses other reals)"),
    ("metrics/run.py", "if given is None or isinstance(given, (str, os.PathLike)):",
     "if given is None or isinstance(given, str):", MET,
     "compute_metric(..., detector=Path(file)) treats the path as a loaded network and fails"),
    ("metrics/cli.py", 'data = json.loads(options.read_text()).get("data")',
     'data = json.loads(options.read_text()).get("dataset")', MET,
     "op3d metrics on a training snapshot without --data no longer finds the run's dataset"),
    ("metrics/cli.py", 'if not hasattr(G, "body_model"):', 'if hasattr(G, "body_model"):', MET + COND,
     "--body-model is refused for pose-conditional networks and silently set on unconditional ones"),
    ("metrics/cli.py", "target.mkdir(parents=True, exist_ok=True)", "target.mkdir(exist_ok=True)", MET,
     "op3d metrics --outdir a/new/dir fails with FileNotFoundError instead of making it"),
    # --- metrics: FID, SWD, Inception (6) ------------------------------------------------------------------------
    ("metrics/frechet.py", "if x.ndim != 2 or x.shape[0] < 2:", "if x.ndim != 2 or x.shape[0] < 1:", MET,
     "feature_stats of a single vector returns a NaN covariance (and FID NaN) instead of raising"),
    ("metrics/swd.py", "self.levels, self.per_image, self.patch = levels, per_image, patch",
     "self.levels, self.per_image, self.patch = levels, patch, per_image", MET,
     "SWD takes 7 descriptors per image of (up to) 128x128 patches instead of 128 of 7x7: other swd values"),
    ("metrics/swd.py", "def distance(self, other: SWDAccumulator, num_projections: int = 512",
     "def distance(self, other: SWDAccumulator, num_projections: int = 128", MET,
     "the metrics runner's SWD uses 128 random projections instead of 512: values differ from swd()"),
    ("metrics/inception.py", 'if path.suffix == ".pt":', 'if path.suffix in (".pt", ".pth"):', MET,
     "the pytorch-fid state dict pt_inception-...pth is read as TorchScript and refused as unreadable"),
    ("metrics/inception.py", 'classifier = raw.get("fc.weight")', 'classifier = raw.get("fc.bias")', MET,
     "the classifier is never found: is50k fails with 'this Inception file holds no classifier'"),
    ("metrics/inception.py", "return model.eval().requires_grad_(False).to(device)",
     "return model.requires_grad_(False).to(device)", MET,
     "the Inception network stays in training mode: batch statistics in BatchNorm make features depend on the "
     "batch, FID/KID/IS change"),
]
