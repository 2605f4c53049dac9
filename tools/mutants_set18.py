"""An eighteenth, independently written set of planted one-line bugs for tools/mutation_check.py, spread over
training (loop, loss, command line, snapshots, index sampler, run reports), the networks, rendering, metrics,
sampling, shapes and the plane encoding / sampling, preferring code that an ordinary run goes through (training,
sampling images / videos / shapes, computing metrics, loading checkpoints).

    python tools/mutation_check.py --mutants tools/mutants_set18.py --out /tmp/mutation_set18.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no fragment here contains, or is
contained in, a fragment of the same file in mutation_check.py or mutants_set2.py ... mutants_set17.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- training (8) ---------------------------------------------------------------------------------------------
    ("training/loop.py", "tick_start_nimg, tick_start_time = cur_nimg, time.time()",
     "tick_start_time = time.time()", TRAIN,
     "the tick start is never advanced after the first tick, so every later step is reported as a tick and "
     "snapshots come every --snap steps instead of every --snap ticks"),
    ("training/loop.py", "cur_nimg += cfg.batch", "cur_nimg += batch_gpu", TRAIN,
     "with --batch-gpu smaller than --batch the image counter advances by one round only, so kimg, fade-ins, "
     "snapshot names and the run length are wrong"),
    ("training/loss.py", "total.mul(gain).backward()", "total.backward()", TRAIN,
     "the discriminator's real-image loss ignores the lazy-regularization gain, so R1 is applied 16 times too "
     "weakly in the Dreg phase"),
    ("training/loss.py", 'do_Gmain = phase in ("Gmain", "Gboth")', 'do_Gmain = phase in ("Gmain",)', TRAIN,
     "with the generator regularizer off (Gboth phase) the generator's adversarial loss is never computed, so "
     "the generator does not learn"),
    ("training/cli.py", 'batch_gpu=opts["batch_gpu"]', "batch_gpu=None", TRAIN,
     "op3d train silently ignores --batch-gpu, so every phase runs the whole batch at once"),
    ("training/snapshots.py", 'save_pretrained(D, tmp / "D", D.init_kwargs)',
     'save_pretrained(D, tmp / "D", G.init_kwargs)', TRAIN,
     "snapshots store the discriminator with the generator's configuration, so resuming a run cannot rebuild D"),
    ("training/sampler.py", "epoch, offset = divmod(position, self.n)", "offset, epoch = divmod(position, self.n)",
     TRAIN,
     "the index sampler swaps pass and offset, so training reads a few images over and over instead of "
     "shuffled passes over the dataset"),
    ("training/report.py", "grid[r * h:(r + 1) * h, q * w:(q + 1) * w] = img",
     "grid[q * h:(q + 1) * h, r * w:(r + 1) * w] = img", TRAIN + SAMP,
     "image grids place cells with row and column swapped, so reals/fakes grids and sample grids fail or come "
     "out transposed"),
    # --- networks (7) ---------------------------------------------------------------------------------------------
    ("networks/generator.py", "self.field(planes, ws=ws, body=body), origins, dirs, deterministic,",
     "self.field(planes, ws=ws, body=body), dirs, origins, deterministic,", NET + REND,
     "the generator passes ray directions as origins and origins as directions, so every rendered image is "
     "garbage"),
    ("networks/synthesis.py", "self.block_resolutions = [2 ** i for i in range(2, log2 + 1)]",
     "self.block_resolutions = [2 ** i for i in range(2, log2)]", NET,
     "the plane backbone stops one block early, so planes come out at half the resolution and checkpoints no "
     "longer load"),
    ("networks/layers.py", "w = self.weight * self.weight_gain", "w = self.weight", NET,
     "discriminator convolutions drop their equalized-learning-rate gain, so D's activations and logits blow up "
     "and EG3D discriminators give different scores"),
    ("networks/discriminator.py", "Conv2dLayer(in_channels + mbstd_num_channels, in_channels",
     "Conv2dLayer(in_channels, in_channels", NET + TRAIN,
     "the discriminator's 4x4 head forgets the minibatch-std channel, so D fails with a channel mismatch and "
     "checkpoints do not load"),
    ("networks/decoder.py", "hidden_dim: int = 64", "hidden_dim: int = 32", NET,
     "the decoder's default hidden width is halved, so EG3D / OrthoPlanes checkpoints fail to load with a shape "
     "mismatch"),
    ("networks/conditional.py", "normalize_canonical(canonical, self.canonical_scale, self.canonical_offset)",
     "normalize_canonical(canonical, self.canonical_offset, self.canonical_scale)", COND,
     "canonical points are normalized with scale and offset swapped, so the pose-conditional generator fails or "
     "reads its planes at nonsense coordinates"),
    ("networks/conditional.py", "num_betas + 3 * (num_joints - 1) + self.w_dim",
     "num_betas + 3 * num_joints + self.w_dim", COND,
     "the deformation field expects angles for the root joint too, so its condition has the wrong width and "
     "pose-conditional rendering fails"),
    # --- rendering (6) --------------------------------------------------------------------------------------------
    ("rendering/marcher.py", "deltas = depths[:, :, 1:] - depths[:, :, :-1]",
     "deltas = depths[:, :, :-1] - depths[:, :, 1:]", REND,
     "interval lengths are negative, so alpha compositing gives wrong colours, opacities and depths"),
    ("rendering/rays.py", "t2 = (hi - origins) * inv", "t2 = (lo - origins) * inv", REND,
     "both slabs use the box's lower corner, so every ray misses the box and 'auto' ray ranges and body boxes "
     "break"),
    ("rendering/samplers.py", "torch.cumsum(pdf, -1)", "torch.cumsum(pdf, 0)", REND,
     "the importance-sampling CDF is accumulated over rays instead of along each ray, so fine samples land in "
     "the wrong places"),
    ("rendering/samplers.py", "denom = cdf_g[..., 1] - cdf_g[..., 0]", "denom = cdf_g[..., 0] - cdf_g[..., 1]",
     REND,
     "the inverse-CDF denominator has the wrong sign and is replaced by 1, so importance samples bunch at the "
     "lower bin edges"),
    ("rendering/renderer.py", "return float(options.ray_start), float(options.ray_end)",
     "return float(options.ray_end), float(options.ray_start)", REND,
     "the fixed ray range is used backwards, so depths run from far to near and renders are wrong"),
    ("rendering/renderer.py", "render(field, pick(origins), pick(dirs), options,",
     "render(field, pick(dirs), pick(origins), options,", COND + REND,
     "rendering inside body boxes swaps ray origins and directions, so pose-conditional images are garbage"),
    # --- metrics (6) ----------------------------------------------------------------------------------------------
    ("metrics/frechet.py", "r1 = _sqrt_psd(s1)", "r1 = _sqrt_psd(s2)", MET,
     "FID takes the square root of the wrong covariance, so the cross term is Tr(S2) and FID values are wrong"),
    ("metrics/reprojection.py", "return torch.stack([u, v], dim=-1), z", "return torch.stack([v, u], dim=-1), z",
     MET,
     "projected image coordinates come out as (row, column), so the reprojection error samples view B at "
     "transposed pixels"),
    ("metrics/precision_recall.py", "torch.cdist(rows, manifold,", "torch.cdist(manifold, rows,", MET,
     "coverage distances are transposed, so precision and recall fail or are wrong"),
    ("metrics/swd.py", "num_projections, g) * 1e3", "num_projections, g)", MET,
     "SWD per level is no longer multiplied by 1e3, so reported values are a thousand times smaller than "
     "ProGAN's"),
    ("metrics/inception.py", "b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)",
     "b3 = torch.cat([self.branch3x3_2b(b3), self.branch3x3_2a(b3)], 1)", MET,
     "the last Inception blocks concatenate their 3x3 branches in the wrong order, so pool3 features differ "
     "from pytorch-fid's"),
    ("metrics/run.py", 'with open(path, "a") as f:', 'with open(path, "w") as f:', MET + TRAIN,
     "each metric result overwrites metric-<name>.jsonl, so earlier snapshots' and runs' results are lost"),
    # --- sampling (5) ---------------------------------------------------------------------------------------------
    ("sampling/views.py", "if hi < lo:", "if hi <= lo:", SAMP,
     "a single seed such as --seeds 3 is refused as a backwards range"),
    ("sampling/cli.py", "write_mrc(rendering.density_grid(G, planes, shape_res,",
     "write_mrc(rendering.density_grid(G, planes,", SAMP,
     "op3d sample --shapes ignores --shape-res and always writes 256^3 .mrc volumes"),
    ("sampling/cli.py", "verts, faces = extract_mesh(g, mesh_level)", "verts, faces = extract_mesh(g, 10.0)", SAMP,
     "meshes ignore --mesh-level (and the level 0 of pose-conditional networks), so surfaces are taken at the "
     "wrong level or extraction fails"),
    ("sampling/cli.py", "G.neural_rendering_resolution = nrr", "options.neural_rendering_resolution = nrr", SAMP,
     "op3d video sets --nrr on the render options instead of the generator, so the neural rendering resolution "
     "never changes"),
    ("sampling/video.py", "keys, H, W = ws_grid.shape[:3]", "keys, W, H = ws_grid.shape[:3]", SAMP,
     "video grids read width and height swapped, so non-square --grid videos are tiled wrongly or fail"),
    # --- shapes (5) -----------------------------------------------------------------------------------------------
    ("shapes/grid.py", "a, b = np.take(values, lower, axis=axis), np.take(values, lower + 1, axis=axis)",
     "a, b = np.take(values, lower + 1, axis=axis), np.take(values, lower, axis=axis)", SHAPES,
     "coarse-to-fine grids interpolate each cell backwards, so values away from the surface are wrong and "
     "meshes can gain spurious surfaces"),
    ("shapes/grid.py", "out[flat[s:s + chunk]] = fn_points(", "out[s:s + chunk] = fn_points(", SHAPES,
     "refined values near the surface are written to the first grid points instead of their own, so "
     "coarse-to-fine meshes are wrong or fail"),
    ("shapes/grid.py", "values_c = lattice_values(fn_slab, tuple(t[coarse] for t in ticks), chunk, device)",
     "values_c = lattice_values(fn_slab, ticks, chunk, device)", SHAPES,
     "the coarse pass evaluates the full lattice and treats it as the coarse one, so coarse-to-fine grids "
     "differ from dense ones"),
    ("shapes/grid.py", "steps = torch.arange(resolution, dtype=torch.float64) * voxel",
     "steps = (torch.arange(resolution, dtype=torch.float64) + 0.5) * voxel", SHAPES,
     "grid samples are shifted by half a voxel from the positions the grid's origin claims, so exported volumes "
     "and meshes are offset"),
    ("shapes/export.py", "f.write(face.tobytes())", "f.write(faces.tobytes())", SHAPES + ["test_sampling.py"],
     "binary .ply files store the raw int64 face array without vertex counts, so the meshes cannot be read"),
    # --- planes (3) -----------------------------------------------------------------------------------------------
    ("planes/encoding.py", "parts = [p]", "parts = []", NET,
     "the Fourier encoding drops the plane position itself, so plane heads get 2L inputs instead of 2L + 1 and "
     "OrthoPlanes generators fail"),
    ("planes/sampling.py", "i, w, v = axes[d][(corner >> d) & 1]", "i, w, v = axes[d][(corner >> 1) & 1]", NET,
     "orthoplane gathering picks the wrong plane-depth corner, so K-plane features differ from grid_sample's"),
    ("planes/sampling.py", 'expand(K, -1, -1, -1), mode="bilinear"', 'expand(K, -1, -1, -1), mode="nearest"',
     NET + SHAPES,
     "density grids resample the planes with nearest neighbours, so shapes differ from the rendered field"),
]
