"""A thirtieth, independently written set of planted one-line bugs for tools/mutation_check.py: set 30, 30
mutants written without reading the tests, on lines no earlier set mutated, by area:

- networks (6): the 3x3 kernels flipped by conv2d_resample, upsample2d's padding split, the lattice axis order of
  orthoplanes_on_grid, the released conditional model's canonical y offset and ray range, SDFDensity's initial beta;
- rendering (5): the disparity-space branch, the smallest ray_start accepted, the depth clamp range
  of box rendering, the smallest importance count accepted, the importance pass with a single sample;
- metrics (5): the number of KID subsets, IS mean vs std, the SWD reduction, the seed of the fakes' ray jitter,
  the reprojection depth tolerance;
- training (6): the resumed facts that differ, the phase name without a regularization interval, the EMA
  half-life's units, G's and D's conv clamp conditions, the sign of clipped -inf gradients;
- shapes (3): the y / z ticks of lattice slabs, the cube of mesh_grid, the pose-conditional mesh level;
- sampling and cameras (5): the camera's down vector, the yaw spread of sampled cameras, the pixel-focal check,
  the principal-point check, the camera-distance check.

    python tools/mutation_check.py --mutants tools/mutants_set30.py --out /tmp/mutation_set30.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no fragment here contains, or is
contained in, a fragment of the same file in mutation_check.py or mutants_set2.py ... mutants_set29.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- networks (5) -----------------------------------------------------------------------------------------
    ("ops/conv2d_resample.py", "if not flip_weight and (w.shape[-1] > 1 or w.shape[-2] > 1):",
     "if flip_weight and (w.shape[-1] > 1 or w.shape[-2] > 1):", NET,
     "every plain 3x3 convolution runs with its kernel flipped (and the transposed ones unflipped): the "
     "generator's planes and the discriminator's logits change for the same weights"),
    ("ops/upfirdn2d.py", "p = [px0 + (fw + upx - 1) // 2, px1 + (fw - upx) // 2,",
     "p = [px0 + (fw - upx) // 2, px1 + (fw + upx - 1) // 2,", NET,
     "upsample2d on the reference path pads one pixel less on the left and one more on the right: the "
     "upsampled image is shifted by a pixel against the fast path's"),
    ("planes/sampling.py", "for axis, order in enumerate(([0, 1, 2], [1, 2, 0], [2, 0, 1])):",
     "for axis, order in enumerate(([0, 1, 2], [2, 0, 1], [1, 2, 0])):", NET + SHAPES,
     "orthoplanes_on_grid reads planes 1 and 2 with each other's lattice axes: density grids and meshes no "
     "longer match sample_orthoplanes at the same points"),
    ("networks/conditional_legacy.py", "CANONICAL_SCALE, CANONICAL_Y = 1.2, 0.3",
     "CANONICAL_SCALE, CANONICAL_Y = 1.2, -0.3", COND,
     "the released pose-conditional model's canonical points are shifted down instead of up: its renders read "
     "the planes 0.5 box units off and show a different body"),
    ("networks/conditional_legacy.py", "RAY_RANGE = (2.55, 2.95)", "RAY_RANGE = (2.25, 2.95)", COND,
     "the released pose-conditional model samples its rays from 2.25 instead of 2.55: coarser samples and "
     "different images than the original renderer"),
    ("networks/conditional.py", "self.beta = nn.Parameter(torch.tensor(float(beta_init)))",
     "self.beta = nn.Parameter(torch.tensor(float(beta_min)))", COND,
     "SDFDensity ignores beta_init and starts at beta_min: a fresh pose-conditional generator's density is 100x "
     "sharper and its renders differ"),
    # --- rendering (5) ----------------------------------------------------------------------------------------
    ("rendering/samplers.py", "    if disparity_space:", "    if not disparity_space:", REND,
     "stratified depths are spaced in inverse depth by default and linearly with disparity_space_sampling=True"),
    ("rendering/renderer.py", "(numbers and 0 <= options.ray_start < options.ray_end",
     "(numbers and 0 < options.ray_start < options.ray_end", REND,
     "RenderOptions.from_kwargs refuses ray_start=0 (rays sampled from the camera on), which was valid"),
    ("rendering/renderer.py", "((torch.minimum(scene_lo, start), 0.0),",
     "((torch.maximum(scene_lo, start), 0.0),", REND + COND,
     "render_in_boxes clamps hit rays' depths from the later of the scene start and the box entry: a body box "
     "reaching in front of ray_start gets depths pushed back"),
    ("rendering/renderer.py", '("depth_resolution_importance", 0)', '("depth_resolution_importance", 1)', REND,
     "RenderOptions.from_kwargs refuses depth_resolution_importance=0 (no importance pass), which was valid"),
    ("rendering/renderer.py", "    if N > 0:", "    if N > 1:", REND,
     "with depth_resolution_importance=1 the importance pass is skipped: one sample fewer per ray and a "
     "different image"),
    # --- metrics (5) ------------------------------------------------------------------------------------------
    ("metrics/frechet.py", "    for _ in range(num_subsets):", "    for _ in range(num_subsets - 1):", MET,
     "KID sums one subset fewer than it divides by: values shrink by 1 / num_subsets (0 with num_subsets=1)"),
    ("metrics/run.py", 'results = {"is50k_mean": mean, "is50k_std": std}',
     'results = {"is50k_mean": std, "is50k_std": mean}', MET,
     "is50k reports the spread over splits as the mean and the mean as the spread"),
    ("metrics/run.py", 'results = {"swd_mean": float(np.mean(per_level)),',
     'results = {"swd_mean": float(np.max(per_level)),', MET,
     "swd_mean is the worst pyramid level's distance instead of the average over levels"),
    ("metrics/run.py", "torch.manual_seed(seed)  # ray jitter", "torch.manual_seed(0)  # ray jitter", MET,
     "the fakes' ray jitter ignores --seed: metrics with different seeds render the same jitter"),
    ("metrics/reprojection.py", "c_b: torch.Tensor, depth_tol: float = 0.02",
     "c_b: torch.Tensor, depth_tol: float = 0.2", MET,
     "the reprojection check counts points 20 % off the other view's depth as visible: occluded pixels enter "
     "the reproj error"),
    # --- training (6) -----------------------------------------------------------------------------------------
    ("training/loop.py", "if v is not None and getattr(cfg, k) != v}",
     "if v is not None and getattr(cfg, k) == v}", TRAIN,
     "--resume of a snapshot whose representation differs from the options keeps the options' value: the "
     "run records and rebuilds the wrong architecture"),
    ("training/loop.py", 'phases.append((name + "both", module, opt, 1))',
     'phases.append((name + "main", module, opt, 1))', TRAIN,
     "with G_reg_interval None (lazy regularization off) G's regularization terms are never computed"),
    ("training/loop.py", "    ema_nimg = ema_kimg * 1000", "    ema_nimg = ema_kimg * 100", TRAIN,
     "G_ema's half-life is ten times shorter than --ema-kimg says: G_ema follows G almost immediately"),
    ("training/loop.py", "conv_clamp=256 if cfg.g_num_fp16_res > 0 else None)",
     "conv_clamp=256 if cfg.sr_num_fp16_res > 0 else None)", TRAIN + NET,
     "the backbone's conv clamp follows --sr_num_fp16_res: by default (sr 4, g 0) G clamps at 256 without fp16"),
    ("training/loop.py", "conv_clamp=256 if cfg.d_num_fp16_res > 0 else None)",
     "conv_clamp=256 if cfg.g_num_fp16_res > 0 else None)", TRAIN + NET,
     "D's conv clamp follows --g_num_fp16_res: by default D has fp16 layers but no clamp"),
    ("training/loop.py", "nan=0.0, posinf=1e5, neginf=-1e5)", "nan=0.0, posinf=1e5, neginf=1e5)", TRAIN,
     "a -inf gradient is replaced by +1e5: the step goes the wrong way after an overflow"),
    # --- shapes (3) -------------------------------------------------------------------------------------------
    ("shapes/grid.py", "ty, tz = ticks[1].to(device), ticks[2].to(device)",
     "ty, tz = ticks[2].to(device), ticks[1].to(device)", SHAPES,
     "lattice_values evaluates slabs with y and z ticks swapped: off-centre grids (center != 0) and meshes "
     "come out mirrored in y / z"),
    ("sampling/render.py",
     "    cube = float(G.render_options.box_warp)\n    slab, points = _grid_fields(G, planes, ws, "
     "body)\n    if slab is None:  # lattice",
     "    cube = float(G.render_options.box_warp) / 2\n    slab, points = _grid_fields(G, planes, ws, "
     "body)\n    if slab is None:  # lattice", SHAPES + SAMP,
     "mesh_grid covers only half the rendering box: .ply / .obj meshes are cut off, with half the voxel size"),
    ("sampling/cli.py", "        mesh_level = 0.0", "        mesh_level = 1.0", SHAPES + SAMP + COND,
     "pose-conditional meshes are extracted at -sdf = 1 instead of the surface: empty or shrunken meshes"),
    # --- sampling and cameras (5) -----------------------------------------------------------------------------
    ("data/cameras.py", "down = torch.nn.functional.normalize(torch.linalg.cross(forward, right, dim=-1), dim=-1)",
     "down = torch.nn.functional.normalize(torch.linalg.cross(right, forward, dim=-1), dim=-1)", SAMP,
     "lookat_pose's second column points up instead of down: every sampled view renders upside down (and its "
     "rotation is a reflection)"),
    ("data/cameras.py", "(torch.randn(n, generator=generator, dtype=torch.float64) * yaw_std).clamp(",
     "(torch.randn(n, generator=generator, dtype=torch.float64) * pitch_std).clamp(", SAMP,
     "sample_cameras spreads the yaw with pitch_std: random cameras turn half as far left / right"),
    ("data/cameras.py", "((fx > 50) | (fy > 50), ", "((fx > 50) & (fy > 50), ", SAMP,
     "labels with only one focal in pixels pass the camera check instead of being reported"),
    ("data/cameras.py", "((cx < 0) | (cx > 1) | (cy < 0) | (cy > 1),", "((cx < 0) | (cx > 1) | (cy < 0) | (cx > 1),",
     SAMP, "a principal point with cy > 1 (unnormalized) is not reported by the camera check"),
    ("data/cameras.py", "if float(r.min()) <= float(ray_start) or float(r.max()) >= float(ray_end):",
     "if float(r.min()) <= float(ray_start) or float(r.min()) >= float(ray_end):", SAMP,
     "cameras farther than ray_end are not warned about unless all of them are"),
]
