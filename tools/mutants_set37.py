"""A thirty-seventh, independently written set of planted one-line bugs for tools/mutation_check.py: set 37, 30
mutants written without reading the tests, on lines no earlier set mutated, by area:

- networks (5): the padding of convolution layers, the broadcast of w over num_ws, the last chunk of the chunked
  decoder density, the fp16 switch of super-resolution, the output width of the discriminator epilogue;
- rendering (5): the 'auto' ray-range dispatch, the clamp_mode check, the auto / number pairing check, the
  tensor dispatch of stratified depths, the disparity-space sampling default;
- metrics (5): the pool features of Mixed_5b, the SWD shape check, the input channels of Mixed_6a, the 5x5
  branch padding of Inception, the 7x7x3 branch chain of Inception;
- training (6): the disabled check of pose swapping, the CPU defaults of op3d train, the pose condition of D,
  the density regularizer's stats key, the D fake-loss statistic, the pose-swapping fade;
- shapes (4): the point count of density grids, the ply file mode, the planes reused for shapes by op3d sample,
  the origin / voxel order of slab grids;
- sampling, cameras and checkpoints (5): the focal-length label check, the intrinsics last-row check, the
  missing-key list of checkpoints, the checkpoint dtype-kind check, `op3d.load`'s missing_ok.

    python tools/mutation_check.py --mutants tools/mutants_set37.py --out /tmp/mutation_set37.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no fragment here contains, or is
contained in, a fragment of the same file in mutation_check.py or mutants_set2.py ... mutants_set36.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- networks (5) -----------------------------------------------------------------------------------------
    ("networks/layers.py", "self.padding = kernel_size // 2", "self.padding = kernel_size // 2 + 1", NET,
     "3x3 convolutions pad by 2: feature maps grow, residual sums fail and no generator / discriminator runs"),
    ("networks/layers.py", "x = x.unsqueeze(1).repeat([1, self.num_ws, 1])",
     "x = x.unsqueeze(1).repeat([1, self.num_ws - 1, 1])", NET,
     "the mapping network returns one w too few: synthesis runs out of ws or misses its last layer"),
    ("networks/decoder.py", "h = hidden[:min(chunk, B * P - s)]", "h = hidden[:min(chunk, B * P)]", NET + SHAPES,
     "the chunked density of the decoder fails on a last, shorter chunk: density grids / shapes break"),
    ("networks/superresolution.py", "use_fp16 = sr_num_fp16_res > 0", "use_fp16 = sr_num_fp16_res >= 0", NET,
     "super-resolution always runs in fp16 with clamping: final images differ from the original networks"),
    ("networks/discriminator.py", "self.out = FullyConnectedLayer(in_channels, 1 if cmap_dim == 0 else cmap_dim)",
     "self.out = FullyConnectedLayer(in_channels, cmap_dim if cmap_dim == 0 else 1)", NET,
     "the conditional discriminator's output layer has width 1: projection fails, D checkpoints do not load"),
    # --- rendering (5) ----------------------------------------------------------------------------------------
    ("rendering/renderer.py", '    if options.ray_start != "auto":', '    if options.ray_start == "auto":', REND,
     "presets with 'auto' ray ranges call float('auto') and numeric ranges are replaced by box limits"),
    ("rendering/renderer.py", "if options.clamp_mode not in CLAMP_MODES:", "if options.clamp_mode in CLAMP_MODES:",
     REND, "every valid clamp_mode is refused: no generator can be built from any preset"),
    ("rendering/renderer.py", "        if auto[0] != auto[1]:", "        if auto[0] and auto[1]:", REND,
     "ray_start = ray_end = 'auto' is refused (and a mixed pair accepted): auto-range presets do not build"),
    ("rendering/samplers.py", "    if isinstance(ray_start, torch.Tensor):",
     "    if not isinstance(ray_start, torch.Tensor):", REND,
     "stratified depths take the tensor path for numbers and the number path for tensors: renders fail"),
    ("rendering/renderer.py", "disparity_space_sampling: bool = False", "disparity_space_sampling: bool = True",
     REND, "samples are spaced linearly in inverse depth by default: every render's sample depths change"),
    # --- metrics (5) ------------------------------------------------------------------------------------------
    ("metrics/inception.py", "InceptionA(192, 32)", "InceptionA(192, 64)", MET,
     "Mixed_5b gets 64 pool features instead of 32: the Inception detector file no longer loads, FID/KID/IS fail"),
    ("metrics/swd.py", "    if a.shape != b.shape:", "    if a.shape == b.shape:", MET,
     "sliced Wasserstein refuses equally sized descriptor sets: the swd metric always fails"),
    ("metrics/inception.py", "self.Mixed_6a = InceptionB(288)", "self.Mixed_6a = InceptionB(256)", MET,
     "Inception B is built for 256 input channels: the detector's weights do not load, FID/KID/IS fail"),
    ("metrics/inception.py", "self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=2)",
     "self.branch5x5_2 = BasicConv2d(48, 64, kernel_size=5, padding=1)", MET,
     "the Inception A blocks' 5x5 branch shrinks the maps: the branches do not concatenate, FID/KID/IS fail"),
    ("metrics/inception.py", "        for i in range(1, 5):", "        for i in range(1, 4):", MET,
     "Inception D skips its strided 7x7x3 conv: branch sizes differ and FID/KID/IS features fail"),
    # --- training (6) -----------------------------------------------------------------------------------------
    ("training/loss.py", "    if cfg.gpc_reg_prob is None:", "    if cfg.gpc_reg_prob is not None:", TRAIN,
     "generator pose conditioning is off with the default --gpc_reg_prob and crashes the fade when disabled"),
    ("training/cli.py", 'cpu = info.device.type == "cpu"', 'cpu = info.device.type == "cuda"', TRAIN,
     "CPU runs get the GPU defaults (batch 32, thread settings) and GPU runs the CPU ones"),
    ("training/loss.py", "c if body is None else pose_condition(c, body)",
     "c if body is not None else pose_condition(c, body)", TRAIN + COND,
     "D gets the pose condition without a body and only the camera with one: training fails in both modes"),
    ("training/loss.py", 'stats["Loss/G/density_reg"] = float(loss.detach())',
     'stats["Loss/G/density"] = float(loss.detach())', TRAIN,
     "the density regularizer is logged under another name: stats.jsonl lacks Loss/G/density_reg"),
    ("training/loss.py", 'stats["Loss/D/loss_fake"] = float(loss.mean().detach())',
     'stats["Loss/D/loss_fake"] = float(loss.sum().detach())', TRAIN,
     "the logged D fake loss is a sum over the batch: Loss/D/loss_fake is batch times too large"),
    ("training/loss.py", "a = fade(cur_nimg, cfg.gpc_reg_fade_kimg)", "a = fade(cur_nimg, cfg.blur_fade_kimg)",
     TRAIN, "the pose-swapping probability fades over the blur schedule (200 kimg) instead of --gpc_reg_fade_kimg"),
    # --- shapes (4) -------------------------------------------------------------------------------------------
    ("shapes/grid.py", "    total = resolution ** 3\n", "    total = resolution ** 3 - 1\n", SHAPES,
     "point-path density grids hold one value too few: the N^3 reshape fails (reference / conditional shapes)"),
    ("shapes/export.py", '        with open(tmp, "wb") as f:', '        with open(tmp, "w") as f:', SHAPES,
     "binary .ply meshes are opened as text: writing any ply mesh fails"),
    ("sampling/cli.py", 'planes = r["planes"][:1]', 'planes = r["planes"][1:]', SHAPES + SAMP,
     "op3d sample --shapes takes the planes after the first: shape extraction gets an empty plane batch"),
    ("shapes/grid.py", "return Grid(lattice_values(fn, ticks, chunk, device, progress), origin, voxel)",
     "return Grid(lattice_values(fn, ticks, chunk, device, progress), voxel, origin)", SHAPES,
     "slab-evaluated grids swap origin and voxel size: meshes and .mrc files are placed / scaled wrongly"),
    # --- sampling, cameras, checkpoints (5) -------------------------------------------------------------------
    ("data/cameras.py", "((fx <= 0) | (fy <= 0), ", "((fx <= 0) & (fy <= 0), ", SAMP,
     "labels with one non-positive focal length pass the camera check: bad datasets are accepted"),
    ("data/cameras.py", "((K[:, 2] - torch.tensor([0, 0, 1.0], dtype=torch.float64))",
     "((K[:, 2] - torch.tensor([0, 0, 0.0], dtype=torch.float64))", SAMP,
     "every valid label is reported as having a bad intrinsics last row: datasets / cameras are refused"),
    ("io/checkpoint.py", "missing = sorted(set(expected) - set(state_dict))",
     "missing = sorted(set(state_dict) - set(expected))", SAMP,
     "checkpoints lacking tensors pass the key check and fail later with a raw strict-loading error"),
    ("io/checkpoint.py", "if value.is_floating_point() != expected[key].is_floating_point():",
     "if value.is_floating_point() == expected[key].is_floating_point():", SAMP,
     "every tensor of a valid checkpoint is refused as the wrong kind: no op3d checkpoint loads"),
    ("io/api.py", "if missing_ok and not (target / CONFIG_NAME).is_file():",
     "if missing_ok or not (target / CONFIG_NAME).is_file():", SAMP,
     "op3d.load of a missing G / D returns None instead of raising a readable error"),
]
