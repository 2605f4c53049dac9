"""A twenty-fourth, independently written set of planted one-line bugs for tools/mutation_check.py, over the
networks (the FC layers' bias gain, the mapping network's activation, the generator's zero-camera option and
update_emas, the synthesis affine's bias init, the OrthoPlanes head's input width, D's camera-label noise, the
deformation field's FiLM layers), rendering (the white background of the EG3D marcher, stratified depth order,
inverse-CDF sample positions, the ray/box miss test, density noise's generator, pixel columns of the rays), metrics
(FID's means, Inception Score splits, SWD patch seeds, reprojection intrinsics, the Inception stem's pooling, the
SWD projection seed, the metrics CLI's default list), training (the image count the loss sees, the CPU RNG on
resume, the divergence check, the density-regularizer phase and gain, the sampler's permutation index, the CLI's
fade length and plane number), shapes (coarse-to-fine refinement indices, the border-trim default, marching-cubes
axes, PLY face counts and colour types) and sampling (the video's key count, seed-list spaces, the mesh grid's
factor, the shape resolution and colour defaults, re-running into an output directory): arguments swapped, the
wrong one of two similar tensors or names, an inverted condition, an off-by-one, a keyword not forwarded, a wrong
constant or default, an option read but not used.

    python tools/mutation_check.py --mutants tools/mutants_set24.py --out /tmp/mutation_set24.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no fragment here contains, or is
contained in, a fragment of the same file in mutation_check.py or mutants_set2.py ... mutants_set23.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- networks (8) ---------------------------------------------------------------------------------------------
    ("networks/layers.py", "b = b * self.bias_gain", "b = b * self.weight_gain", NET,
     "FC layers with an lr multiplier (the mapping network's 0.01) scale their bias by the weight gain instead, so "
     "a loaded checkpoint maps every z to different ws and renders other images"),
    ("networks/layers.py", "features[idx + 1], activation=activation,", "features[idx + 1],", NET,
     "the mapping network's layers are built without their lrelu, so loaded checkpoints produce different ws and "
     "images"),
    ("networks/generator.py", "c = torch.zeros_like(c)", "torch.zeros_like(c)", NET + SAMP,
     "c_gen_conditioning_zero is ignored: a network trained without pose conditioning is fed the real camera at "
     "sampling time and renders different faces"),
    ("networks/generator.py", "\n                          update_emas=update_emas)",
     "\n                          update_emas=False)", NET,
     "G(z, c, update_emas=True) no longer updates the mapping network's w_avg, so truncation pulls towards a stale "
     "average"),
    ("networks/synthesis.py", "bias_init=1)\n        memory_format", "bias_init=0)\n        memory_format", NET,
     "freshly built generators start with synthesis styles centred on 0 instead of 1, so a new run starts from a "
     "different, badly scaled initialization"),
    ("networks/synthesis.py", "w_dim=head_w_dim or w_dim", "w_dim=w_dim", NET,
     "OrthoPlanes plane heads are built for w alone instead of [w ; gamma(p_k)], so building, loading or running "
     "any OrthoPlanes generator fails with a shape error"),
    ("networks/discriminator.py", "c.std(0) * self.disc_c_noise", "self.disc_c_noise", NET,
     "with disc_c_noise > 0 (EG3D configs) D's camera-label noise is no longer scaled by each entry's spread over "
     "the batch, so even the constant intrinsics get unit-scale noise"),
    ("networks/conditional.py", "zip(self.net_W, self.net_b)", "zip(self.net_W, self.net_W)", COND,
     "the deformation field's FiLM layers take their bias from the scale networks, so pose-conditional generators "
     "deform canonical points differently and render other bodies"),
    # --- rendering (6) --------------------------------------------------------------------------------------------
    ("rendering/marcher.py",
     "    if white_back:\n        rgb = rgb + 1 - weight_total\n    return rgb * 2 - 1, depth, weights\n\n\ndef",
     "    if not white_back:\n        rgb = rgb + 1 - weight_total\n    return rgb * 2 - 1, depth, weights\n\n\ndef",
     REND, "every ordinary (white_back False) render composites onto white, so empty and semi-transparent pixels are "
           "brightened; white_back models lose their background"),
    ("rendering/samplers.py", "torch.linspace(ray_start, ray_end, S, device=device)",
     "torch.linspace(ray_end, ray_start, S, device=device)", REND,
     "with numeric ray_start / ray_end (FFHQ, AFHQ, ShapeNet presets) the stratified depths run far to near, the "
     "marcher sees negative intervals and renders are garbage"),
    ("rendering/samplers.py", "bins_g = torch.gather(bins, 1, idx)", "bins_g = torch.gather(cdf, 1, idx)", REND,
     "importance samples are placed at CDF values in [0, 1] instead of depths, so the fine pass samples near the "
     "camera and renders change"),
    ("rendering/rays.py", "miss = ~(t_far > t_near)", "miss = t_far > t_near", REND + COND,
     "rays through the box count as misses and misses as hits, so 'auto' ray ranges (shhq, body presets) and "
     "per-body boxes of pose-conditional renders are wrong and bodies vanish"),
    ("rendering/renderer.py", "generator=generator) * options.density_noise",
     "generator=None) * options.density_noise", REND,
     "with density_noise > 0 the noise ignores the render's generator, so seeded renders are no longer "
     "reproducible"),
    ("rendering/rays.py", "u = u.reshape(1, -1)", "u = v.reshape(1, -1)", REND,
     "the rays' x direction uses the pixel row instead of the column, so every pixel of a row gets the same ray "
     "and renderings become horizontal stripes"),
    # --- metrics (7) ----------------------------------------------------------------------------------------------
    ("metrics/frechet.py", "torch.as_tensor(mu2, dtype=torch.float64)", "torch.as_tensor(mu1, dtype=torch.float64)",
     MET, "FID ignores the difference of the feature means and reports only the covariance term, far too low for "
          "shifted distributions"),
    ("metrics/inception_score.py", "for i in range(splits):", "for i in range(splits - 1):", MET,
     "the Inception Score drops the last of its 10 splits, so is50k_mean and is50k_std change"),
    ("metrics/swd.py", "self.generator = torch.Generator().manual_seed(seed)",
     "self.generator = torch.Generator().manual_seed(0)", MET,
     "SWD accumulators ignore their seed: reals and fakes take patches at the same positions and results no longer "
     "follow --seed"),
    ("metrics/reprojection.py", "K = c[:, 16:25].reshape(B, 3, 3)", "K = c[:, 16:25].reshape(B, 3, 3).transpose(1, 2)",
     MET, "projection into view B reads the intrinsics transposed and loses the principal point, so reproj_visible "
          "drops to about a quarter and reproj_error compares the wrong pixels"),
    ("metrics/inception.py", "self.Conv2d_3b_1x1(F.max_pool2d(x, 3, stride=2))",
     "self.Conv2d_3b_1x1(F.max_pool2d(x, 3, stride=1))", MET,
     "the pure-PyTorch Inception network skips a downsampling in its stem, so its features (and FID/KID from the "
     ".pth detector) no longer match the TF graph's"),
    ("metrics/run.py", "per_level = real.distance(fake, seed=seed)", "per_level = real.distance(fake)", MET,
     "the SWD projection directions ignore --seed (always seed 0)"),
    ("metrics/cli.py", '@click.option("--metrics", default="swd,reproj",', '@click.option("--metrics", default="swd",',
     MET, "op3d metrics without --metrics no longer computes the reprojection error"),
    # --- training (8) ---------------------------------------------------------------------------------------------
    ("training/loop.py", "cur_nimg=cur_nimg,", "cur_nimg=0,", TRAIN,
     "the loss always sees image count 0: the blur on D's images never fades, with --gen_pose_cond the pose swap "
     "stays at probability 1, and the loss renders at the initial neural rendering resolution"),
    ("training/loop.py", 'torch.set_rng_state(state["torch"])', "torch.get_rng_state()", TRAIN,
     "a resumed run does not restore the CPU random state, so it draws other latents and cameras than an "
     "uninterrupted run"),
    ("training/loop.py", "G=G, D=D)", "G=G)", TRAIN,
     "a run whose D weights turn NaN keeps training and writes NaN snapshots instead of stopping with the "
     "divergence message"),
    ("training/loss.py", 'do_Greg = phase in ("Greg", "Gboth")', 'do_Greg = phase in ("Gmain", "Gboth")', TRAIN,
     "the density regularizer runs (unscaled) at every Gmain step and the lazy Greg phase does nothing"),
    ("training/loss.py", 'loss.mul(gain).backward()\n            stats["Loss/G/density_reg"]',
     'loss.backward()\n            stats["Loss/G/density_reg"]', TRAIN,
     "the lazy density regularizer is not multiplied by its interval, so it is effectively 4x weaker"),
    ("training/sampler.py", "return int(self._perm[1][offset])", "return int(self._perm[1][position])", TRAIN,
     "the sampler indexes the permutation with the stream position, so training fails with an IndexError once it "
     "passes the end of the first epoch"),
    ("training/cli.py", 'neural_rendering_resolution_fade_kimg=opts["neural_rendering_resolution_fade_kimg"]',
     "neural_rendering_resolution_fade_kimg=1000", TRAIN,
     "--neural_rendering_resolution_fade_kimg is ignored: the resolution always fades over 1000 kimg"),
    ("training/cli.py", 'plane_number=opts["plane_number"]', "plane_number=8", TRAIN,
     "--plane_number is ignored: OrthoPlanes runs always use 8 planes per axis"),
    # --- shapes (5) -----------------------------------------------------------------------------------------------
    ("shapes/grid.py", "n = resolution", "n = len(coarse)", SHAPES + SAMP,
     "coarse-to-fine refinement decodes point indices with the coarse grid size, so ply/obj exports fail with an "
     "index error (or evaluate the wrong points)"),
    ("shapes/grid.py", "fraction: float = 30 / 256", "fraction: float = 30 / 128", SHAPES + SAMP,
     "border trimming removes twice OP3D's margin, so density volumes and meshes lose their outer parts"),
    ("shapes/export.py", "marching_cubes(grid.values, ", "marching_cubes(grid.values.transpose(2, 1, 0), ",
     SHAPES + SAMP, "exported meshes have x and z swapped (mirrored through the x = z plane)"),
    ("shapes/export.py", 'face["n"] = 3', 'face["n"] = 4', SHAPES + SAMP,
     "every .ply face claims four vertex indices but stores three, so mesh viewers reject the file"),
    ("shapes/export.py", '("c", "u1", 3)', '("c", "<f4", 3)', SHAPES + SAMP,
     "coloured .ply meshes store float colours under a uchar header, so the file is garbled"),
    # --- sampling (6) ---------------------------------------------------------------------------------------------
    ("sampling/video.py", "n = keys.shape[0]", "n = keys.shape[1]", SAMP,
     "video interpolation wraps around the grid height instead of the number of keyframes, so a 1x1 video shows "
     "only the first seed"),
    ("sampling/views.py", "part = part.strip()", "part = part", SAMP,
     "--seeds '0, 1' (with a space) is refused as unreadable"),
    ("sampling/render.py", "level, factor=factor, chunk=chunk", "level, chunk=chunk", SAMP,
     "mesh_grid(factor=...) is ignored: the coarse-to-fine grid always uses every 4th point"),
    ("sampling/cli.py", "type=click.IntRange(min=8, max=1024), default=256",
     "type=click.IntRange(min=8, max=1024), default=128", SAMP,
     "op3d sample --shapes without --shape-res writes 128^3 volumes instead of 256^3"),
    ("sampling/cli.py", '"--shape-colors/--no-shape-colors", default=True',
     '"--shape-colors/--no-shape-colors", default=False', SAMP,
     "ply/obj meshes are written without vertex colours unless --shape-colors is given"),
    ("sampling/cli.py", "out.mkdir(parents=True, exist_ok=True)", "out.mkdir(parents=True, exist_ok=False)", SAMP,
     "op3d sample into an existing output directory fails with FileExistsError"),
]
