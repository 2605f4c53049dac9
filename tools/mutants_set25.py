"""A twenty-fifth, independently written set of planted one-line bugs for tools/mutation_check.py, over the
networks (the renderer's generator and the layer-noise options G forwards, the Fourier L of OrthoPlanes heads, the
w index of the synthesis blocks, the layer-noise strength's init, D's conv0 activation, the width of the
pose-conditional decoder's hidden layers, the super-resolution module of 512 models), rendering (the "none"
density activation, transmittance, the 'auto' ray range's hit test, the default near plane, density noise, the
rays' miss flag), metrics (KID's seed, SWD's projection count, reprojection's back-projection camera, an Inception
block's branch order, precision/recall's radii, the metrics CLI's poses), training (lazy R1, the generated body in
the loss, sampler shuffling, the fakes grid's RNG, --map-depth, --gamma, --cbase/--cmax, --c-scale), shapes (the
.ply header's axes, the precision of density grids, the coarse-to-fine interpolation axis), sampling (the body of
pose-conditional samples and videos, the mesh level and shape format defaults, seed parsing) and the plane
lattice, bias_act and the procedural body's skinning weights: arguments swapped, the wrong one of two similar
tensors or names, an inverted condition, an off-by-one, a keyword not forwarded, a wrong constant, axis or default,
a sign flipped, an option read but not used.

    python tools/mutation_check.py --mutants tools/mutants_set25.py --out /tmp/mutation_set25.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no fragment here contains, or is
contained in, a fragment of the same file in mutation_check.py or mutants_set2.py ... mutants_set24.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- networks (8) ---------------------------------------------------------------------------------------------
    ("networks/generator.py", "generator=generator, chunk=chunk, single_backward=self.single_backward_render)",
     "generator=None, chunk=chunk, single_backward=self.single_backward_render)", NET + REND,
     "G.synthesis(..., generator=g) no longer passes its generator to the renderer, so seeded renders take their "
     "ray jitter from the global RNG and are not reproducible"),
    ("networks/generator.py", "        if planes is None:\n            planes = self.planes(ws, **synthesis_kwargs)\n"
                              "        feats",
     "        if planes is None:\n            planes = self.planes(ws)\n        feats", NET + REND,
     "G(z, c, noise_mode='const') builds its planes with random layer noise, so the same latent renders "
     "differently every call"),
    ("networks/generator.py", "fourier_L=fourier_L,", "", NET,
     "Generator(fourier_L=L) builds its OrthoPlanes heads for the default L = 10, so networks with another L fail "
     "to load their checkpoints and fresh ones encode plane positions differently"),
    ("networks/synthesis.py", "w_idx += block.num_conv", "w_idx += 1", NET,
     "every synthesis block after the first reads the ws of an earlier layer, so style mixing and truncation with "
     "a cutoff change the wrong layers"),
    ("networks/synthesis.py", "self.noise_strength = nn.Parameter(torch.zeros([]))",
     "self.noise_strength = nn.Parameter(torch.ones([]))", NET + TRAIN,
     "freshly built generators add unit-strength per-pixel noise in every synthesis layer, so a new run starts "
     "from noisy planes and random-noise renders of one latent differ strongly"),
    ("networks/discriminator.py",
     "self.conv0 = Conv2dLayer(tmp_channels, tmp_channels, kernel_size=3, activation=activation,",
     "self.conv0 = Conv2dLayer(tmp_channels, tmp_channels, kernel_size=3,", NET,
     "the first convolution of every discriminator block loses its lrelu (and its sqrt 2 gain), so loaded "
     "discriminators score images differently"),
    ("networks/decoder.py", "n_features if i == 0 else hidden_dim", "n_features", NET + COND,
     "decoders with several hidden layers (the pose-conditional one) build their inner layers for the plane "
     "features' width instead of the hidden width, so they fail to load or run"),
    ("networks/superresolution.py", '512: "SuperresolutionHybrid8XDC"}', '512: "SuperresolutionHybrid8X"}', NET,
     "512x512 generators built without an explicit super-resolution module get the narrower Hybrid8X module "
     "instead of EG3D's 8XDC, so their weights no longer match the released layout"),
    # --- rendering (6) --------------------------------------------------------------------------------------------
    ("rendering/marcher.py", "        sigma = densities_mid\n", "        sigma = densities[:, :, :-1]\n", REND + COND,
     "with clamp_mode 'none' (the pose-conditional SDF density) each interval takes the density at its near end "
     "instead of its midpoint, so bodies render with shifted, harder edges"),
    ("rendering/marcher.py",
     "sigma * deltas)\n    alpha_shifted = torch.cat([torch.ones_like(alpha[:, :, :1]), 1 - alpha + 1e-10], -2)",
     "sigma * deltas)\n    alpha_shifted = torch.cat([torch.ones_like(alpha[:, :, :1]), alpha + 1e-10], -2)",
     REND, "transmittance accumulates opacity instead of transparency, so samples behind empty space get no weight "
           "and every rendered image and depth map is wrong"),
    ("rendering/renderer.py", "    valid = end > start\n", "    valid = end < start\n", REND + COND,
     "with ray_start / ray_end 'auto' (shhq, body presets) rays that miss the box keep the (-1, -2) miss range "
     "instead of borrowing one, so the border of the image renders garbage"),
    ("rendering/renderer.py", "ray_start: float | str = 2.25", "ray_start: float | str = 2.0", REND,
     "generators and renders that do not set ray_start sample from depth 2.0 instead of EG3D's 2.25, so their "
     "images change"),
    ("rendering/renderer.py", 'return out["rgb"].reshape(B, R, S, -1), sigma.reshape(B, R, S, 1)',
     'return out["rgb"].reshape(B, R, S, -1), out["sigma"].reshape(B, R, S, 1)', REND,
     "density_noise > 0 is drawn but never added, so training with density noise (and its renders) runs "
     "without it"),
    ("rendering/rays.py", "t_near = torch.where(miss, torch.full_like(t_near, -1.0), t_near)",
     "t_near = torch.where(miss, t_near, torch.full_like(t_near, -1.0))", REND + COND,
     "rays that hit the box get t_near = -1 and misses keep their meaningless entry distance, so 'auto' ray "
     "ranges start behind the camera and per-body boxes of pose-conditional renders are wrong"),
    # --- metrics (6) ----------------------------------------------------------------------------------------------
    ("metrics/frechet.py", "rng = np.random.default_rng(seed)", "rng = np.random.default_rng(0)", MET,
     "kernel_inception_distance(seed=...) ignores its seed: KID's subsets are always drawn with seed 0"),
    ("metrics/swd.py", "return a.distance(b, num_projections, seed)", "return a.distance(b, seed=seed)", MET,
     "swd(num_projections=...) ignores the projection count and always uses 512 directions"),
    ("metrics/reprojection.py", "points = backproject(depth_a, c_a)", "points = backproject(depth_a, c_b)", MET,
     "view A's depth is lifted to 3-D through view B's camera, so a perfectly consistent scene gets a large "
     "reprojection error"),
    ("metrics/inception.py", "return torch.cat([self.branch1x1(x), b7, d, self.branch_pool(_avg_pool(x))], 1)",
     "return torch.cat([self.branch1x1(x), d, b7, self.branch_pool(_avg_pool(x))], 1)", MET,
     "the 17x17 Inception blocks concatenate their two 7x7 branches in swapped order, so the pure-PyTorch "
     "detector's features (FID, KID) no longer match the TF graph's"),
    ("metrics/precision_recall.py", "radii.append(torch.cdist(rows, features,",
     "radii.append(torch.cdist(rows, rows,", MET,
     "each point's k-NN radius is measured only within its batch of 1024, so precision/recall of more features "
     "than one batch (pr50k3_full) use too large radii and come out too high"),
    ("metrics/cli.py", 'use_poses=hasattr(G, "body_model")', "use_poses=False", MET + COND,
     "op3d metrics on a pose-conditional network opens the dataset without its poses and fails with 'needs a "
     "dataset with poses'"),
    # --- training (8) ---------------------------------------------------------------------------------------------
    ("training/loss.py", "        if do_Dmain or do_Dr1:\n", "        if do_Dmain:\n", TRAIN,
     "the lazy Dreg phase computes nothing, so training with the default D_reg_interval never applies the R1 "
     "penalty"),
    ("training/loss.py", 'extra = {} if body is None else {"body": body}', "extra = {}", TRAIN + COND,
     "the loss renders generated samples without their posed bodies, so pose-conditional training fails (or "
     "renders unposed bodies)"),
    ("training/sampler.py", "        if not self.shuffle:\n", "        if self.shuffle:\n", TRAIN,
     "the default shuffled sampler reads the dataset in file order every epoch (and shuffle=False shuffles), so "
     "training batches are no longer random"),
    ("training/loop.py", "grid_idx = torch.randint(len(labels), (grid_n,), generator=gg)",
     "grid_idx = torch.randint(len(labels), (grid_n,))", TRAIN,
     "the fakes grid's cameras come from the global RNG, which shifts the training stream at every (re)start, so a "
     "resumed run no longer continues as an uninterrupted one would"),
    ("training/loop.py", 'gkw["mapping_kwargs"] = dict(num_layers=cfg.map_depth)',
     'gkw["mapping_kwargs"] = dict(num_layers=2)', TRAIN,
     "--map-depth is ignored: the mapping network always has 2 layers"),
    ("training/cli.py", 'r1_gamma=opts["gamma"]', "r1_gamma=1.0", TRAIN,
     "--gamma is ignored: training always uses an R1 weight of 1"),
    ("training/cli.py", 'cbase=opts["cbase"], cmax=opts["cmax"]', 'cbase=opts["cmax"], cmax=opts["cbase"]', TRAIN,
     "--cbase and --cmax are swapped, so networks are built with the wrong capacity (or fail to build)"),
    ("training/cli.py", 'c_scale=opts["c_scale"]', "c_scale=1.0", TRAIN,
     "--c-scale is ignored: generator pose conditioning always scales the camera by 1"),
    # --- shapes (4) -----------------------------------------------------------------------------------------------
    ("shapes/export.py", '"property float x", "property float y", "property float z"]',
     '"property float x", "property float z", "property float y"]', SHAPES + SAMP,
     "the .ply header names the vertex columns x, z, y, so mesh viewers show every exported mesh with y and z "
     "swapped"),
    ("shapes/grid.py", "out = np.empty((nx, ny, nz), dtype=np.float32)",
     "out = np.empty((nx, ny, nz), dtype=np.float16)", SHAPES + SAMP,
     "density grids evaluated on lattice slabs are stored in half precision, so .mrc volumes and meshes lose "
     "precision (densities rounded to about three digits)"),
    ("shapes/grid.py", "shape[axis] = n", "shape[axis - 1] = n", SHAPES + SAMP,
     "coarse-to-fine interpolation broadcasts its weights along the wrong axis, so ply/obj export with the "
     "default coarse-to-fine grid fails with a broadcasting error"),
    ("shapes/grid.py", "out = np.empty(total, dtype=np.float32)", "out = np.empty(total, dtype=np.float16)",
     SHAPES + SAMP + COND,
     "point-wise density grids (pose-conditional -sdf volumes, the reference path) are stored in half precision, "
     "so their volumes and meshes lose precision"),
    # --- sampling (5) ---------------------------------------------------------------------------------------------
    ("sampling/cli.py", "r = rendering.render_views(G, ws[None], cams, chunk=chunk, body=body)",
     "r = rendering.render_views(G, ws[None], cams, chunk=chunk)", SAMP + COND,
     "op3d sample on a pose-conditional network ignores --pose / --pose-id when rendering images (fails or "
     "renders without the body)"),
    ("sampling/cli.py", '"--mesh-level", type=Finite(), default=10.0', '"--mesh-level", type=Finite(), default=5.0',
     SAMP, "ply/obj meshes are extracted at density 5 instead of 10 unless --mesh-level is given, and "
           "pose-conditional meshes are no longer taken at 0 by default"),
    ("sampling/cli.py", 'type=click.Choice(["mrc", "ply", "obj"]), default="mrc"',
     'type=click.Choice(["mrc", "ply", "obj"]), default="ply"', SAMP,
     "op3d sample --shapes without --shape-format writes .ply meshes instead of .mrc volumes"),
    ("sampling/video.py", 'kwargs = {} if cells is None else {"body": cells}', "kwargs = {}", SAMP + COND,
     "op3d video on a pose-conditional network renders its frames without the given pose (fails or shows no "
     "body)"),
    ("sampling/views.py", 'm = re.fullmatch(r"(\\d+)(?:-(\\d+))?", part)', 'm = re.match(r"(\\d+)(?:-(\\d+))?", part)',
     SAMP, "--seeds '1.5' or '0-3x' is silently read as seed 1 or seeds 0-3 instead of being refused"),
    # --- planes, ops, conditioning (3) ----------------------------------------------------------------------------
    ("planes/sampling.py", "None, 1 / 3,", "None, 1 / 2,", NET + SHAPES + SAMP,
     "tri-plane features on density-grid lattices are averaged with weight 1/2 instead of 1/3, so tri-plane "
     ".mrc volumes and meshes disagree with the rendered density"),
    ("ops/bias_act.py", "x = x + _along(b, x.ndim, dim)", "x = x - _along(b, x.ndim, dim)", NET,
     "bias_act's reference path (every layer under reference_ops, and the smooth activations always) subtracts "
     "its bias, so generators and discriminators produce wrong images and scores (the fragment moved when the "
     "bias broadcast became a helper shared with the fast path)"),
    ("conditioning/body_model.py", "weights /= weights.sum(1, keepdims=True)",
     "weights /= weights.sum(0, keepdims=True)", COND,
     "the procedural body's skinning weights are normalized over vertices instead of joints, so posed bodies "
     "collapse towards the origin"),
]
