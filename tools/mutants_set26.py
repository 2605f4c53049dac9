"""A twenty-sixth, independently written set of planted one-line bugs for tools/mutation_check.py: set 26, 40
mutants written without reading the tests, by area:

- networks, planes and ops (7): bias_act's explicit gain, upfirdn2d's gain exponent, the 2x upsampling's border
  fix and its backward, the reference upsampling's bias, the reference OrthoPlanes head's demodulation, the
  --mbstd-group option reaching D;
- rendering (5): the released marcher's white background, single-backward with density noise, the released
  renderer's seeded jitter and importance uniforms, the depth_resolution floor of RenderOptions;
- metrics (7): two Inception blocks, the metrics CLI's --body-model, SWD's descriptors per image, the real-feature
  cache key, the num_real record, the pitch spread of random cameras;
- training (9): the lazy interval of the eikonal / SDF-prior phase, the resolution fade of generated images, the
  fakes grid's poses and layer noise, --desc, --sr_noise_mode, the synthetic dataset's seed, the default network
  size, the x-flip of camera labels;
- shapes (4): legacy plane axes on density grids, the K / C order of the separable grid sampler, the cube of
  density grids, the .mrc file names;
- sampling, views and video (5): the pitch and yaw of view cameras, the intrinsics' layout in labels, --pose-id's
  bound, the video CLI's seed-count check;
- conditioning (3): PosedBody.select's inverse-transform table, the released model's inverse-LBS radius, SMPL's
  sparse (csc) arrays.

    python tools/mutation_check.py --mutants tools/mutants_set26.py --out /tmp/mutation_set26.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no fragment here contains, or is
contained in, a fragment of the same file in mutation_check.py or mutants_set2.py ... mutants_set25.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- networks, planes and ops (7) -----------------------------------------------------------------------------
    ("ops/bias_act.py", "gain = spec.def_gain if gain is None else float(gain)", "gain = spec.def_gain", NET,
     "bias_act ignores an explicit gain: D's residual branches (conv1 and skip, gain sqrt(0.5)) are no longer "
     "scaled, so discriminator scores differ from EG3D's and released discriminators judge images differently"),
    ("ops/upfirdn2d.py", "f = (f * (gain ** (f.ndim / 2))).to(x.dtype)", "f = (f * (gain ** f.ndim)).to(x.dtype)",
     NET, "upfirdn2d applies gain^2 instead of gain to a 2-D filter, so every upsampling synthesis convolution "
     "(gain up^2 = 4) comes out 4x too strong and generated planes and images change"),
    ("ops/upfirdn2d.py", "for lines in (z[:, :, 0], z[:, :, -1], z[:, :, :, 0], z[:, :, :, -1]):",
     "for lines in (z[:, :, 0], z[:, :, -1], z[:, :, :, 0], z[:, :, :, 0]):", NET,
     "the fast 2x upsampling fixes the first column twice and the last column never, so skip images get a bright "
     "right border and the fast path no longer matches the upfirdn2d reference"),
    ("ops/upfirdn2d.py", "grad[:, :, 0] -= 0.25 * _upsample_linear_adjoint(g[:, :, 0])",
     "grad[:, :, 0] -= 0.25 * _upsample_linear_adjoint(g[:, :, 1])", NET + TRAIN,
     "the backward of the fast 2x upsampling corrects the top border row with the second row's gradient, so "
     "training gradients into the skip images are wrong near the top edge (gradcheck fails)"),
    ("ops/upfirdn2d.py", "return y if bias is None else y + bias.to(y.dtype).reshape(1, -1, 1, 1)", "return y", NET,
     "upsample2d's reference path drops the bias it is given, so on a GPU (where the reference upsampling is the "
     "default) the skip-sum planes lose their ToRGB bias"),
    ("ops/modulated_conv.py", "styles.reshape(B * K, I), demodulate=False)",
     "styles.reshape(B * K, I), demodulate=True)", NET,
     "the reference (OP3D) path of the K-plane head demodulates its weights, so op_paths(planes_head='reference') "
     "and reference_ops() give other planes than the fast batched head"),
    ("presets.py", "epilogue_kwargs=dict(mbstd_group_size=mbstd_group))", "epilogue_kwargs={})", NET + TRAIN,
     "--mbstd-group never reaches the discriminator: the minibatch-std layer always uses groups of 4"),
    # --- rendering (5) --------------------------------------------------------------------------------------------
    ("rendering/marcher.py", "torch.max(depths))\n    if white_back:", "torch.max(depths))\n    if not white_back:",
     REND + COND, "the released pose-conditional model's marcher (white_back=True) no longer composites on white, so "
     "its bodies render on a grey/black background"),
    ("rendering/renderer.py", "single_backward = single_backward and N > 0 and options.density_noise == 0 and ",
     "single_backward = single_backward and N > 0 and ", REND,
     "with density_noise > 0 training renders take the single-backward path: the coarse pass's noise differs from "
     "the one the fine pass re-draws, so renders no longer match the two-pass reference"),
    ("networks/conditional_legacy.py",
     "jitter = 0.5 if deterministic else torch.rand((B, R, S, 1), device=origins.device, generator=generator)",
     "jitter = 0.5 if deterministic else torch.rand((B, R, S, 1), device=origins.device)", REND + COND,
     "the released pose-conditional renderer ignores synthesis(generator=g) for its stratified jitter, so seeded "
     "renders are not reproducible"),
    ("networks/conditional_legacy.py", "fine = importance_depths(depths, weights, N, u)",
     "fine = importance_depths(depths, weights, N, None)", REND + COND,
     "the released pose-conditional renderer draws its importance samples deterministically (linspace) even in "
     "random mode, ignoring the uniforms it drew"),
    ("rendering/renderer.py", "fewest = 3 if options.depth_resolution_importance else 2", "fewest = 2", REND,
     "depth_resolution = 2 with importance sampling is accepted by RenderOptions and then fails deep inside the "
     "importance sampler instead of with a one-line ValueError"),
    # --- metrics (7) ----------------------------------------------------------------------------------------------
    ("metrics/inception.py", "b7, F.max_pool2d(x, 3, stride=2)], 1)", "b7, F.avg_pool2d(x, 3, stride=2)], 1)", MET,
     "InceptionD (Mixed_7a) average-pools its pool branch, so Inception features, FID and KID differ from the "
     "reference detector's"),
    ("metrics/inception.py", "d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3b(d)], 1)",
     "d = torch.cat([self.branch3x3dbl_3a(d), self.branch3x3dbl_3a(d)], 1)", MET,
     "InceptionE's double-3x3 branch uses the 1x3 convolution twice (copy-paste), so pool3 features and FID are "
     "wrong"),
    ("metrics/cli.py", "        G.body_model = body_model\n", "        body_model = G.body_model\n", MET + COND,
     "op3d metrics --body-model is validated but never applied: pose-conditional networks keep the body model "
     "they were trained with"),
    ("metrics/swd.py", "per_image: int = 128, patch: int = 7, seed: int = 0):",
     "per_image: int = 64, patch: int = 7, seed: int = 0):", MET,
     "the swd metric takes 64 descriptors per image instead of ProGAN's 128, so its values differ from swd() and "
     "from earlier runs"),
    ("metrics/run.py", 'return f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}"',
     'return f"{path.resolve()}:{st.st_size}"', MET,
     "the real-feature cache key ignores the dataset zip's modification time, so a rewritten dataset of the same "
     "size reuses stale cached statistics"),
    ("metrics/run.py", 'extra["num_real"] = len(real)', 'extra["num_real"] = len(fake)', MET,
     "metric-fid50k_full.jsonl / kid records num_real as the number of fakes"),
    ("data/cameras.py", "* pitch_std).clamp(-0.5, 0.5)", "* yaw_std).clamp(-0.5, 0.5)", MET + SAMP,
     "random cameras (fid50k_full_random_cameras) spread their pitch with the yaw's std 0.3 instead of 0.15"),
    # --- training (9) ---------------------------------------------------------------------------------------------
    ("training/loss.py", "loss.mul(gain).backward()\n            stats.update(",
     "loss.backward()\n            stats.update(", TRAIN + COND,
     "pose-conditional training's lazy Greg phase (eikonal + SDF prior) is not scaled by its interval, so the "
     "regularizers are 4x weaker than configured"),
    ("training/loss.py", "        nrr = neural_rendering_resolution(self.cfg, cur_nimg)\n        extra",
     "        nrr = self.cfg.neural_rendering_resolution_initial\n        extra", TRAIN,
     "with --neural_rendering_resolution_final, generated images stay at the initial neural rendering resolution "
     "while the reals' raw images follow the fade"),
    ("training/loop.py", "grid_pose = None if poses is None else poses[grid_idx]",
     "grid_pose = None if poses is None else poses[:grid_n]", TRAIN + COND,
     "the fakes grid of pose-conditional runs renders each camera with the pose of another dataset image"),
    ("training/loop.py", 'out = G_ema(z, c, noise_mode="const", neural_rendering_resolution=nrr',
     'out = G_ema(z, c, noise_mode="random", neural_rendering_resolution=nrr', TRAIN,
     "fakes*.png are rendered with random layer noise, which also draws from the global RNG: fakes are not "
     "reproducible and a resumed run no longer continues as if never stopped"),
    ("training/cli.py", 'desc=opts["desc"]', "desc=None", TRAIN,
     "op3d train --desc is ignored: the run directory never gets the requested name"),
    ("training/cli.py", 'sr_noise_mode=opts["sr_noise_mode"]', 'sr_noise_mode="none"', TRAIN,
     "op3d train --sr_noise_mode random is ignored (the super-resolution noise stays off)"),
    ("training/cli.py", 'make_synthetic_dataset(data, count=opts["synthetic_count"], resolution=64, seed=opts["seed"])',
     'make_synthetic_dataset(data, count=opts["synthetic_count"], resolution=64, seed=0)', TRAIN,
     "the built-in synthetic dataset is always made with seed 0 although its file name says seed<N>"),
    ("training/cli.py", 'size=opts["size"] or ("tiny" if synthetic else "full")', 'size=opts["size"] or "tiny"',
     TRAIN, "op3d train --data DATA without --size trains the tiny CPU demo network instead of the full one"),
    ("data/cameras.py", "return torch.cat([(flip @ m @ flip).reshape(*c.shape[:-1], 16), c[..., 16:]], dim=-1)",
     "return torch.cat([(flip @ m).reshape(*c.shape[:-1], 16), c[..., 16:]], dim=-1)", TRAIN,
     "--mirror x-flips images with a reflected, not mirrored, camera (det -1): flipped samples train with wrong "
     "poses"),
    # --- shapes (4) -----------------------------------------------------------------------------------------------
    ("planes/sampling.py", "g = [ticks[m].to(planes.dtype) * s for m in order]",
     "g = [ticks[m].to(planes.dtype) * (2 / box_warp) for m in order]", SHAPES + NET,
     "density grids of legacy_axes OrthoPlanes checkpoints scale every axis by 2 / box_warp, so their shapes no "
     "longer match what the renderer sees"),
    ("planes/sampling.py", "t = t.permute(*[dims[m] for m in before], 0, *[dims[m] for m in after], 1).contiguous()",
     "t = t.permute(*[dims[m] for m in before], 1, *[dims[m] for m in after], 0).contiguous()", SHAPES + NET,
     "the separable OrthoPlanes grid sampler mixes the plane index with the channels, so .mrc volumes and meshes "
     "are garbage while renders are fine"),
    ("sampling/render.py", "    cube = float(G.render_options.box_warp)\n    slab, points = _grid_fields(G, planes, "
     "ws, body)\n    if slab is None:\n        grid = evaluate_grid",
     "    cube = 1.0\n    slab, points = _grid_fields(G, planes, ws, body)\n    if slab is None:\n        grid = "
     "evaluate_grid", SHAPES + SAMP,
     "density grids (.mrc and dense meshes) always span the unit cube, cutting off shapenet (box 1.6) and body "
     "(box 2.4) shapes"),
    ("sampling/cli.py", 'out / f"seed{seed:04d}.mrc")', 'out / f"seed{seed}.mrc")', SHAPES + SAMP,
     "op3d sample --shapes writes seed7.mrc next to seed0007.png instead of seed0007.mrc"),
    # --- sampling, views and video (5) ----------------------------------------------------------------------------
    ("data/cameras.py", "phi = torch.arccos((1 - 2 * pitch / math.pi).clamp(-1 + eps, 1 - eps))",
     "phi = torch.arccos((2 * pitch / math.pi - 1).clamp(-1 + eps, 1 - eps))", SAMP,
     "positive pitch offsets (--views yaw/pitch, video orbits) look from below instead of above; frontal views "
     "are unchanged"),
    ("data/cameras.py", "torch.cos(math.pi - yaw)", "torch.cos(yaw)", SAMP,
     "yaw offsets are mirrored: --views -23,0,23 renders the left and right views swapped"),
    ("data/cameras.py", "K.expand(B, 3, 3).reshape(B, 9)", "K.expand(B, 3, 3).transpose(1, 2).reshape(B, 9)",
     SAMP + REND, "camera labels store the intrinsics column-major: cx and cy land in the last row, so every "
     "sampled view is rendered off-centre"),
    ("sampling/cli.py", "if pose_id >= len(dataset):", "if pose_id > len(dataset):", SAMP + COND,
     "--pose-id equal to the number of images fails with an IndexError traceback instead of a clear message"),
    ("sampling/cli.py", "if len(seed_list) % (W * H):", "if len(seed_list) % W:", SAMP,
     "op3d video --grid 2x2 --seeds 0-5 is not refused up front and fails with a reshape error"),
    # --- conditioning (3) -----------------------------------------------------------------------------------------
    ("conditioning/posed.py", 'out.__dict__["_inverse_table"] = pick(self.__dict__["_inverse_table"])',
     'out.__dict__["_inverse_table"] = self.__dict__["_inverse_table"]', COND,
     "a body selected from a batch whose inverse-LBS table was built keeps the whole batch's table, so body i is "
     "un-posed with body 0's transforms"),
    ("networks/conditional_legacy.py", "max_distance=LBS_THRESHOLD2 ** 0.5)", "max_distance=LBS_THRESHOLD2)", COND,
     "the released model's inverse LBS searches only 0.1 m (not sqrt 0.1) for the nearest vertex, so points 0.1-0.32 "
     "m from the body take the root transform"),
    ("conditioning/body_model.py", 'compressed_rows = "csr" in type(value).legacy_name',
     'compressed_rows = "csc" in type(value).legacy_name', COND,
     "SMPL .pkl files (J_regressor stored as scipy csc) are read transposed, so the official SMPL model fails to "
     "load or gets a wrong joint regressor"),
]
