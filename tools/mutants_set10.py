"""A tenth, independently written set of planted one-line bugs for tools/mutation_check.py, in training, metrics,
shapes and sampling.

    python tools/mutation_check.py --mutants tools/mutants_set10.py --out /tmp/mutation_set10.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no source line mutated here is
mentioned in mutation_check.py or mutants_set2.py ... mutants_set9.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- training (12) ---
    ("training/loss.py", "initial = self._rand(ws.shape[0], n, 3, device=ws.device) * 2 - 1",
     "initial = self._rand(ws.shape[0], n, 3, device=ws.device)", TRAIN,
     "the density regularizer samples points in [0, 1]^3 only: seven octants of the volume are never regularized"),
    ("training/loss.py", 'img = dict(img, image=gaussian_blur(img["image"], sigma))',
     'img = dict(img, image=gaussian_blur(img["image"], sigma), image_raw=gaussian_blur(img["image_raw"], sigma))',
     TRAIN,
     "the blur fade-in also blurs the low-resolution raw image D sees (EG3D blurs only the final image)"),
    ("training/loss.py", 'grad, = torch.autograd.grad(out["sdf"].sum(), points, create_graph=True)',
     'grad, = torch.autograd.grad(out["sdf"].sum(), points)', TRAIN,
     "the eikonal gradient is taken without a graph: pose-conditional Greg phases fail (graph freed) or the "
     "eikonal term trains nothing"),
    ("training/loop.py", "group.update(_adam_hyper(lr, interval))",
     "group.update(lr=lr)", TRAIN,
     "a resumed run's learning rates lose the lazy-regularization ratio: G and D train at 5/4 and 17/16 of the "
     "rate of an uninterrupted run"),
    ("training/loop.py", "record = compute_metric(metric, G_ema, dataset,",
     "record = compute_metric(metric, G, dataset,", TRAIN,
     "--metrics during training evaluate the raw G instead of G_ema: snapshot metrics disagree with op3d metrics "
     "on the saved snapshot"),
    ("training/loop.py", "done = cur_nimg >= cfg.kimg * 1000",
     "done = cur_nimg > cfg.kimg * 1000", TRAIN,
     "training runs one batch past --kimg when it is a multiple of the batch: the final snapshot is at kimg + batch"),
    ("training/loop.py", "G = copy.deepcopy(G_ema) if G is None else G",
     "G = G_ema if G is None else G", TRAIN,
     "fine-tuning from a checkpoint without G trains G_ema itself: the EMA is a no-op and G_ema is left in eval "
     "mode for training"),
    ("training/loop.py", "c_gen_conditioning_zero=not cfg.gen_pose_cond",
     "c_gen_conditioning_zero=cfg.gen_pose_cond", TRAIN,
     "--gen_pose_cond is inverted: pose-conditioned runs zero the camera in the mapping, default runs condition on it"),
    ("training/report.py", 'with open(self.run_dir / "stats.jsonl", "a") as f:',
     'with open(self.run_dir / "stats.jsonl", "w") as f:', TRAIN,
     "stats.jsonl is rewritten every tick: only the last tick's statistics survive"),
    ("training/snapshots.py", "save_pretrained(G_ema, tmp, G_ema.init_kwargs)",
     "save_pretrained(G, tmp, G.init_kwargs)", TRAIN,
     "a snapshot's top-level network (what op3d.load(snapshot) returns) is the raw G instead of G_ema"),
    ("training/cli.py", 'G_reg_interval=opts["density_reg_every"] if reg_on else None,',
     'G_reg_interval=opts["density_reg_every"],', TRAIN,
     "--density_reg 0 still splits G into Gmain + an empty Greg phase (G_reg_interval 4 instead of null): a "
     "different run than EG3D's Gboth"),
    ("training/cli.py", "f\"{kind}-{opts['synthetic_count']}-64-seed{opts['seed']}.zip\"",
     "f\"{kind}-{opts['synthetic_count']}-64.zip\"", TRAIN,
     "the built-in synthetic dataset's file name lacks the seed: a run with another --seed reuses the first seed's "
     "data"),
    # --- metrics (9) ---
    ("metrics/frechet.py", "middle = r1 @ s2 @ r1",
     "middle = r1 @ s2", MET,
     "FID's cross term uses sqrt(S1) S2 instead of sqrt(S1) S2 sqrt(S1): FID of identical statistics is not 0"),
    ("metrics/inception.py", "self.fc_weight.to(images.device).T, dim=1)",
     "self.fc_weight.to(images.device).T, dim=0)", MET,
     "the Inception classifier's softmax runs over the batch instead of the classes: is50k is garbage"),
    ("metrics/swd.py", 'F.pad(x, [0, 0, 2, 2], mode="reflect")',
     'F.pad(x, [0, 0, 2, 2])', MET,
     "the pyramid's vertical blur zero-pads instead of reflecting: dark top and bottom borders change every SWD "
     "level"),
    ("metrics/reprojection.py", "x, y = cam[..., 0] / z, cam[..., 1] / z",
     "x, y = cam[..., 1] / z, cam[..., 0] / z", MET,
     "points are projected with x and y swapped: a consistent generator gets a large reprojection error"),
    ("metrics/swd.py", "for _ in range(levels - 1):",
     "for _ in range(levels):", MET,
     "the Laplacian pyramid has one band-pass level too many and the low-pass residual is dropped from SWD"),
    ("metrics/run.py", 'f"{_file_key(dataset.path)}|{detector_key}|{len(dataset.image_names)}"',
     'f"{_file_key(dataset.path)}|{len(dataset.image_names)}"', MET,
     "the real-feature cache ignores the detector: pr50k3_full after fid50k_full reads Inception features (or "
     "another Inception file's)"),
    ("metrics/run.py", "dataset.load_image(int(i)).transpose(2, 0, 1)",
     "dataset.load_image(int(i)).transpose(2, 1, 0)", MET,
     "real images are transposed (x and y swapped) before the detector: FID / KID / PR / SWD compare against "
     "mirrored reals"),
    ("metrics/run.py", "yaw = math.radians(15)",
     "yaw = math.radians(30)", MET,
     "reproj compares views 60 degrees apart instead of 30: lower visible fraction and a different error"),
    ("metrics/cli.py", "(Path(network) if Path(network).is_dir() else Path(network).parent)",
     "Path(network).parent", MET,
     "op3d metrics on a snapshot directory writes metric-*.jsonl into its parent (the run) instead of beside the "
     "network"),
    # --- shapes (7) ---
    ("shapes/grid.py", "v = grid.values if inplace else grid.values.copy()",
     "v = grid.values", SHAPES,
     "trim_border(grid) without inplace overwrites the caller's grid too"),
    ("shapes/grid.py", "v[:, :pad], v[:, -pad:] = value, value",
     "v[:pad], v[:, -pad:] = value, value", SHAPES,
     "border trimming skips the low-y face: plane-boundary artifacts there stay in volumes and meshes"),
    ("shapes/grid.py", "for _ in range(margin):",
     "for _ in range(margin - 1):", SHAPES,
     "the refined region of coarse-to-fine is not grown by the margin: faces of straddling cells are interpolated "
     "and the mesh differs from the dense grid's"),
    ("shapes/grid.py",
     "grown[(slice(None),) * axis + (slice(None, -1),)] |= cells[(slice(None),) * axis + (slice(1, None),)]",
     "pass", SHAPES,
     "coarse-to-fine grows the refined region only towards +x / +y / +z: cells below a straddling cell stay "
     "interpolated"),
    ("shapes/export.py", "mrc.voxel_size = grid.voxel_size",
     "mrc.voxel_size = 1.0", SHAPES,
     ".mrc volumes have voxel size 1 instead of the world voxel size: ChimeraX shows them hugely scaled"),
    ("shapes/export.py", '"property uchar red", "property uchar green", "property uchar blue"',
     '"property uchar blue", "property uchar green", "property uchar red"', SHAPES,
     ".ply vertex colours are declared in BGR order: viewers swap red and blue"),
    ("shapes/export.py", '"property list uchar int vertex_indices"',
     '"property list int int vertex_indices"', SHAPES,
     ".ply faces declare an int vertex count but hold a byte: readers misparse every face"),
    # --- sampling (8) ---
    ("sampling/render.py", 'noise_mode="const", deterministic=True, chunk=chunk',
     'noise_mode="const", deterministic=False, chunk=chunk', SAMP,
     "op3d sample jitters the ray samples: the same seed renders differently every run"),
    ("sampling/video.py", 'frame = F.interpolate(out[key], size=out["image"].shape[-2:], mode="nearest")',
     'frame = F.interpolate(out[key], size=out["image"].shape[-2:], mode="bilinear")', SAMP,
     "raw and depth videos are upscaled bilinearly instead of nearest: blurred frames"),
    ("sampling/video.py", "imageio.get_writer(tmp, fps=fps,",
     "imageio.get_writer(tmp, fps=30,", SAMP,
     "--fps is ignored: every video is written at 30 frames per second"),
    ("sampling/views.py", "return fov_to_focal(fov_deg)",
     "return fov_to_focal(fov_deg / 2)", SAMP,
     "--fov-deg is treated as a half angle: renders are zoomed out (twice the field of view)"),
    ("sampling/views.py", "MAX_SEED = 2 ** 32 - 1",
     "MAX_SEED = 2 ** 31 - 1", SAMP,
     "seeds from 2^31 to 2^32 - 1 (valid RandomState seeds) are refused"),
    ("sampling/cli.py", 'save_grid(np.concatenate(strips), out / "grid.png", len(view_list))',
     'save_grid(np.concatenate(strips), out / "grid.png", len(seed_list))', SAMP,
     "--grid lays grid.png out with one column per seed instead of one per view (rows no longer one seed each)"),
    ("sampling/cli.py", 'out / f"seed{seed:04d}_depth.png"',
     'out / f"seed{seed}_depth.png"', SAMP,
     "depth strips are named seed7_depth.png instead of seed0007_depth.png"),
    ("sampling/cli.py", "int(options.depth_resolution_importance * sample_mult)",
     "int(options.depth_resolution_importance)", SAMP,
     "--sample-mult scales only the coarse samples per ray, not the importance samples"),
]
