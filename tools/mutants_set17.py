"""A seventeenth, independently written set of planted one-line bugs for tools/mutation_check.py, focused on the
files that the earlier sets mutated least: the super-resolution module, the Inception and VGG16 detectors,
precision/recall, the training command line, snapshots, run reports and the index sampler, the sampling command
line, the metrics command line and registry, the discriminator and decoder, and the synthesis / equalized-lr
layers.

    python tools/mutation_check.py --mutants tools/mutants_set17.py --out /tmp/mutation_set17.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no fragment here contains, or is
contained in, a fragment of the same file in mutation_check.py or mutants_set2.py ... mutants_set16.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- networks/superresolution.py (4) --------------------------------------------------------------------------
    ("networks/superresolution.py", "c0, c1 = sr_channels", "c1, c0 = sr_channels", NET,
     "op3d's Superresolution2X builds its two blocks with the channel counts swapped, so small-model checkpoints "
     "no longer load and fresh models have a different architecture"),
    ("networks/superresolution.py", "return img_resolution // 2, [", "return img_resolution, [", NET,
     "Superresolution2X takes the feature image at the full output size instead of half of it, so the final "
     "images come out twice as large as the network's resolution"),
    ("networks/superresolution.py", "x, rgb = block(x, rgb, ws, **block_kwargs)", "x, rgb = block(x, rgb, ws)", NET,
     "the super-resolution blocks drop noise_mode (and fused_modconv), so they always add random noise and "
     "two renders of the same latent and camera differ"),
    ("networks/superresolution.py", "self.num_blocks = len(blocks)", "self.num_blocks = len(blocks) - 1", NET,
     "only the first super-resolution block runs, so the final image is half the expected resolution and the "
     "second block's trained weights are ignored"),
    # --- metrics/inception.py (4) ---------------------------------------------------------------------------------
    ("metrics/inception.py", "self.bn = nn.BatchNorm2d(cout, eps=0.001)", "self.bn = nn.BatchNorm2d(cout)", MET,
     "the Inception batch norms use PyTorch's default epsilon instead of TF's 0.001, so pool3 features and FID "
     "drift from the reference implementation"),
    ("metrics/inception.py", "F.interpolate(images.float() / 255,", "F.interpolate(images.float() / 127.5,", MET,
     "images reach the Inception network in [-1, 3] instead of [-1, 1], so FID / KID / IS values are wrong"),
    ("metrics/inception.py", "InceptionE(2048, max_pool=True)", "InceptionE(2048, max_pool=False)", MET,
     "the last Inception block average-pools its pool branch instead of TF's max pool, so features and FID "
     "differ from pytorch-fid / StyleGAN"),
    ("metrics/inception.py", "return torch.cat([self.branch3x3(x), b3, F.max_pool2d(x, 3, stride=2)], 1)",
     "return torch.cat([b3, self.branch3x3(x), F.max_pool2d(x, 3, stride=2)], 1)", MET,
     "Mixed_6a concatenates its branches in the wrong order, so every later layer reads permuted channels and "
     "the Inception features are garbage"),
    # --- metrics/vgg.py (2) + metrics/precision_recall.py (2) ----------------------------------------------------
    ("metrics/vgg.py", "return self.module(images, return_features=True)", "return self.module(images)", MET,
     "the VGG16 detector returns its classifier output instead of the 4096-d features, so precision/recall is "
     "computed in the wrong feature space"),
    ("metrics/vgg.py", "path = detector_file(path, ENV_VAR,", "path = detector_file(None, ENV_VAR,", MET,
     "--vgg PATH is ignored and only $OP3D_VGG16 is looked at, so pr50k3_full fails with 'not found' although "
     "the file was given"),
    ("metrics/precision_recall.py", "min(len(r), len(f)) <= k", "min(len(r), len(f)) < k", MET,
     "precision_recall with exactly k samples in a set no longer gives the clear ValueError but fails deep "
     "inside kthvalue with a RuntimeError"),
    ("metrics/precision_recall.py", "k: int = 3, batch: int = 1024", "k: int = 5, batch: int = 1024", MET,
     "precision_recall's default neighbourhood is 5 instead of StyleGAN's 3, so manifold radii grow and both "
     "precision and recall come out too high"),
    # --- training/cli.py (4) --------------------------------------------------------------------------------------
    ("training/cli.py", 'gpc_reg_prob=opts["gpc_reg_prob"] if opts["gen_pose_cond"] else None,',
     'gpc_reg_prob=opts["gpc_reg_prob"],', TRAIN,
     "generator pose-conditioning regularization (camera swapping) is switched on even without "
     "--gen_pose_cond, changing every default training run"),
    ("training/cli.py", 'else opts["density_reg"]) > 0', 'else opts["density_reg"]) >= 0', TRAIN,
     "--density_reg 0 no longer turns the regularization phase off, so the G_reg phase still runs every "
     "--density_reg_every steps"),
    ("training/cli.py", 'or ("body" if conditional else "synthetic" if synthetic else "ffhq")',
     'or ("synthetic" if synthetic else "body" if conditional else "ffhq")', TRAIN,
     "--conditional without --data picks the head 'synthetic' rendering preset instead of 'body', so the "
     "synthetic body demo trains with the wrong cameras and ray ranges"),
    ("training/cli.py", 'batch = opts["batch"] or (4 if cpu else 32)', 'batch = opts["batch"] or 32', TRAIN,
     "on a CPU the default batch is 32 instead of 4, so the newcomer demo is eight times slower per step and "
     "the resolved options differ"),
    # --- training/snapshots.py (4) --------------------------------------------------------------------------------
    ("training/snapshots.py", 'Path(run_dir).glob(".network-snapshot-*")', 'Path(run_dir).glob("network-snapshot-*")',
     TRAIN,
     "writing a snapshot deletes every earlier finished snapshot instead of the hidden temporaries, so a run "
     "keeps only its newest snapshot"),
    ("training/snapshots.py", 'f"{cur_nimg // 1000:06d}" if', 'f"{cur_nimg // 1000:05d}" if', TRAIN,
     "snapshots are named network-snapshot-00004 instead of EG3D's six-digit network-snapshot-000004, so "
     "scripts looking for the usual names miss them"),
    ("training/snapshots.py", "isinstance(value, bool) or value < 0:", "isinstance(value, bool) or value <= 0:",
     TRAIN,
     "a training state with a zero counter (tick 0 or batch 0) is rejected as invalid, so resuming from an "
     "early snapshot fails"),
    ("training/snapshots.py", 'rng["torch"].dtype == torch.uint8', 'rng["torch"].dtype == torch.int8', TRAIN,
     "every saved RNG state is rejected as not a random-number-generator state, so no snapshot can be resumed"),
    # --- training/report.py (2) + training/sampler.py (2) --------------------------------------------------------
    ("training/report.py", "hi = d.amax(dim=(1, 2, 3), keepdim=True)", "hi = d.amax(dim=(0, 2, 3), keepdim=True)",
     TRAIN + SAMP,
     "depth images are normalized with the batch's largest depth instead of each image's own, so depth strips "
     "of several views are washed out and inconsistent"),
    ("training/report.py", "record = dict(stats, kimg=kimg, timestamp=time.time())",
     "record = dict(stats, timestamp=time.time())", TRAIN,
     "stats.jsonl lines lose their kimg field, so training curves cannot be plotted against progress"),
    ("training/sampler.py", "position = self.start", "position = 0", TRAIN,
     "a resumed run restarts the dataset stream from the beginning, so it reads different images than an "
     "uninterrupted run would"),
    ("training/sampler.py", "torch.randperm(self.n, generator=g)", "torch.randperm(self.n)", TRAIN,
     "dataset shuffles ignore the seed, so training order is not reproducible and a resumed run diverges from "
     "an uninterrupted one"),
    # --- sampling/cli.py (4) --------------------------------------------------------------------------------------
    ("sampling/cli.py", '@click.option("--depth/--no-depth", default=True,',
     '@click.option("--depth/--no-depth", default=False,', SAMP,
     "op3d sample no longer writes the seedNNNN_depth.png strips unless --depth is given"),
    ("sampling/cli.py", "size=images.shape[1:3], mode=", "size=images.shape[2:4], mode=", SAMP,
     "depth maps are resized to R x 3 pixels (width and channel axes taken), so the depth strips are slivers "
     "instead of matching the images"),
    ("sampling/cli.py", 'write_mesh(out / f"seed{seed:04d}.{shape_format}", verts, faces, colors)',
     'write_mesh(out / f"seed{seed:04d}.{shape_format}", verts, faces, None)', SAMP,
     "exported ply/obj meshes never carry vertex colours, whatever --shape-colors says"),
    ("sampling/cli.py", "fps=fps, fov_deg=fov_deg, progress=True,", "fps=30, fov_deg=fov_deg, progress=True,", SAMP,
     "op3d video ignores --fps and always writes 30 frames per second"),
    # --- metrics/cli.py (2) + metrics/run.py (2) -----------------------------------------------------------------
    ("metrics/cli.py", "data = data or training_data(network)", "data = training_data(network) or data", MET,
     "an explicit --data is overridden by the dataset in the run's training_options.json, so metrics compare "
     "against the wrong real images"),
    ("metrics/cli.py", "if data and Path(data).exists():", "if data:", MET,
     "a training run whose dataset was moved makes op3d metrics fail on the missing path instead of asking for "
     "--data"),
    ("metrics/run.py", 'torch.Generator().manual_seed(seed)) if cameras == "random" else None',
     'torch.Generator().manual_seed(seed)) if cameras == "dataset" else None', MET,
     "the _random_cameras metrics use dataset cameras and the dataset-camera metrics use random ones, so "
     "fid50k_full and fid50k_full_random_cameras swap values"),
    ("metrics/run.py", "if cache is not None and cache.is_file():", "if cache is not None:", MET,
     "the first metric run with a cache directory fails to load a real-feature cache that does not exist yet"),
    # --- networks/discriminator.py (3) + networks/decoder.py (1) -------------------------------------------------
    ("networks/discriminator.py", "self.block_resolutions = [2 ** i for i in range(log2, 2, -1)]",
     "self.block_resolutions = [2 ** i for i in range(log2, 3, -1)]", NET + TRAIN,
     "the discriminator has no 8x8 block, so the epilogue gets 8x8 features and fails, and checkpoints do not "
     "load"),
    ("networks/discriminator.py", "(x * cmap).sum(dim=1, keepdim=True)", "(x * cmap).mean(dim=1, keepdim=True)",
     NET + TRAIN,
     "the camera projection averages instead of summing, so discriminator logits are cmap_dim times too small "
     "and loaded discriminators disagree with EG3D"),
    ("networks/discriminator.py", "self.skip = Conv2dLayer(tmp_channels, out_channels, kernel_size=1, bias=False,",
     "self.skip = Conv2dLayer(tmp_channels, out_channels, kernel_size=1, bias=True,", NET + TRAIN,
     "discriminator residual skips get a bias the original does not have, so EG3D discriminator checkpoints "
     "fail to load (unexpected or missing skip.bias)"),
    ("networks/decoder.py", "FullyConnectedLayer(hidden_dim, 1 + out_dim, lr_multiplier=lr_multiplier)",
     "FullyConnectedLayer(hidden_dim, out_dim, lr_multiplier=lr_multiplier)", NET,
     "the decoder forgets the density output, so one feature channel is used as density and checkpoints fail to "
     "load with a shape mismatch"),
    # --- networks/synthesis.py (2) + networks/layers.py (2) ------------------------------------------------------
    ("networks/synthesis.py", "if img is not None and self.up > 1:", "if img is not None:", NET,
     "synthesis blocks without upsampling (the first super-resolution block) still upsample the skip image, "
     "so super-resolution fails with a size mismatch"),
    ("networks/synthesis.py", 'if self.use_noise and noise_mode == "const":',
     'if self.use_noise and noise_mode != "random":', NET,
     "noise_mode='none' still adds the constant noise, so the super-resolution output (noise mode 'none') "
     "differs from the original network's"),
    ("networks/layers.py", "for idx in range(self.num_layers):", "for idx in range(self.num_layers - 1):",
     NET + TRAIN,
     "the mapping network skips its last fully connected layer, so every z maps to a different w than the "
     "original checkpoint gives"),
    ("networks/layers.py", "torch.full([out_features], np.float32(bias_init))", "torch.zeros([out_features])",
     NET + TRAIN,
     "fully connected layers ignore bias_init, so freshly built affine (style) layers start with zero styles "
     "instead of one and new generators begin training from a degenerate state"),
]
