"""A thirty-third, independently written set of planted one-line bugs for tools/mutation_check.py: set 33, 40
mutants written without reading the tests, on lines no earlier set mutated, by area:

- networks (7): the device test of fp16 blocks, the backbone's channel counts, the tri-plane backbone's num_ws,
  the smallest fourier_L accepted, the planes in G's output, the transposed convolution's weight layout, when
  Hybrid2X resizes its input;
- rendering (6): the deterministic ray jitter, the default density noise, the pdf epsilon of importance sampling,
  the box_warp check, the pixel rows of camera rays, the key of the pose-conditional body-box margin;
- metrics (7): the last Inception block, a padding of the Inception stem, the cameras of the fakes, the default
  number of KID subsets, the run directory's training options, the real-feature cache, the IS sample check;
- training (8): the default R1 interval, the EMA ramp-up, the size of the fakes grid, the density-regularizer
  points, the kind of built-in synthetic dataset, the --mirror and --plane_number defaults, Adam's epsilon;
- shapes (5): the mesh formats accepted, the mrc / mesh choice of `op3d sample`, the PLY colour header, the
  pose-conditional grid field, the OBJ vertex colours;
- sampling, cameras and checkpoints (7): the look-at direction, the default principal point, the pitch spread
  of random cameras, the checkpoint format version check, run directories given to op3d.load, the seeds grid
  image, the value range of saved images.

    python tools/mutation_check.py --mutants tools/mutants_set33.py --out /tmp/mutation_set33.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no fragment here contains, or is
contained in, a fragment of the same file in mutation_check.py or mutants_set2.py ... mutants_set32.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- networks (7) -----------------------------------------------------------------------------------------
    ("networks/layers.py", 'if use_fp16 and not force_fp32 and ref.device.type == "cuda":',
     'if use_fp16 and not force_fp32 and ref.device.type != "cuda":', NET + COND,
     "fp16 blocks (D's, the super-resolution's, released pickles' backbones) run in float16 on the CPU and in "
     "float32 on CUDA: CPU renders and logits change, GPU runs lose their fp16 speed and numbers"),
    ("networks/synthesis.py",
     "channels = {res: min(channel_base // res, channel_max) for res in self.block_resolutions}",
     "channels = {res: min(channel_base // (2 * res), channel_max) for res in self.block_resolutions}", NET,
     "the plane backbone's blocks below channel_max get half their channels: fresh generators differ and every "
     "checkpoint / original pickle fails to load with shape mismatches"),
    ("networks/synthesis.py", "self.num_ws += 1  # the last block's ToRGB takes its own w",
     "self.num_ws += 2  # the last block's ToRGB takes its own w", NET,
     "the tri-plane backbone counts one w too many: G.num_ws and the ws shape are off by one and ws of the "
     "original's shape [B, 14, 512] are refused"),
    ("planes/encoding.py", "    if L < 0:", "    if L < 1:", NET,
     "an orthoplanes generator with fourier_L=0 (no Fourier features, accepted by check_sizes and the CLI) "
     "fails to build"),
    ("networks/generator.py", "        if return_planes:", "        if not return_planes:", NET + SAMP,
     "G(z, c) returns the planes with every output, and synthesis(..., return_planes=True) omits them"),
    ("ops/conv2d_resample.py", "            w = w.transpose(0, 1)", "            w = w", NET,
     "upsampling 3x3 convolutions with one group (batch-1 renders, non-fused training) read the weight as "
     "[O, I] instead of [I, O]: wrong images, or a shape error where the channel counts differ"),
    ("networks/superresolution.py",
     '"SuperresolutionHybrid2X": (128, 64, [(None, 128, 64, 1), (128, 64, 128, 2)], False, True)',
     '"SuperresolutionHybrid2X": (128, 64, [(None, 128, 64, 1), (128, 64, 128, 2)], True, True)', NET,
     "Hybrid2X resizes only smaller inputs: a 128 raw rendering (--nrr 128) enters its 64 block unresized and "
     "the 128 output comes out at 256 or fails"),
    # --- rendering (6) ----------------------------------------------------------------------------------------
    ("rendering/renderer.py", "    if deterministic:", "    if not deterministic:", REND,
     "deterministic renders use random stratified jitter and random ones a fixed 0.5: sampling and videos are "
     "no longer reproducible, training jitter is gone"),
    ("rendering/renderer.py", "density_noise: float = 0.0", "density_noise: float = 0.5", REND,
     "presets and original pickles (which set no density_noise) render with Gaussian noise on sigma: every "
     "render differs from run to run"),
    ("rendering/samplers.py", "eps: float = 1e-5", "eps: float = 1e-3", REND,
     "importance sampling adds 1e-3 to every coarse weight: the fine depths spread into empty space and the "
     "images / depths change"),
    ("rendering/renderer.py", "and options.box_warp > 0):", "and options.box_warp != 0):", REND,
     "a negative box_warp is accepted by RenderOptions.from_kwargs: the planes are read mirrored instead of the "
     "configuration being refused"),
    ("rendering/rays.py", "    v = v.reshape(1, -1)", "    v = u.reshape(1, -1)", REND,
     "camera rays take the pixel column for the row: rays run along the image diagonal and every render is "
     "garbage"),
    ("networks/conditional.py", 'margin = self.rendering_kwargs.get("body_box_margin")',
     'margin = self.rendering_kwargs.get("box_margin")', REND + COND,
     "the pose-conditional generator ignores body_box_margin: rays are sampled over the whole preset range "
     "instead of the body's box, other images and depths"),
    # --- metrics (7) ------------------------------------------------------------------------------------------
    ("metrics/inception.py", '"6e", "7a", "7b", "7c"):', '"6e", "7a", "7b"):', MET,
     "the Inception features skip the last mixed block (Mixed_7c): FID / KID / IS no longer match the "
     "reference detector's numbers"),
    ("metrics/inception.py", "BasicConv2d(32, 32, kernel_size=3)", "BasicConv2d(32, 32, kernel_size=3, padding=1)",
     MET, "the Inception stem's second convolution pads: 2048-d features differ from the TF graph's"),
    ("metrics/run.py", "idx = rng.integers(len(dataset), size=num)", "idx = rng.integers(len(dataset) - 1, size=num)",
     MET, "the fakes never take the last dataset image's camera (and a one-image dataset fails): FID fakes use "
     "other cameras than before"),
    ("metrics/frechet.py", "num_subsets: int = 100", "num_subsets: int = 50", MET,
     "KID averages 50 random subsets instead of StyleGAN's 100: kid50k_full values change"),
    ("metrics/cli.py", "        if options.is_file():", "        if not options.is_file():", MET,
     "op3d metrics on a run directory no longer finds its dataset in training_options.json: metrics that need "
     "reals fail without --data (or crash on a missing file)"),
    ("metrics/run.py", "    if cache is not None:", "    if cache is None:", MET,
     "real-image features are never written to the cache (recomputed every time), and without a cache "
     "directory computing them crashes"),
    ("metrics/inception_score.py", "p.shape[0] < splits", "p.shape[0] <= splits", MET,
     "the Inception Score refuses exactly `splits` probability vectors (is50k with --num 10)"),
    # --- training (8) -----------------------------------------------------------------------------------------
    ("training/loop.py", "D_reg_interval: int = 16", "D_reg_interval: int = 8", TRAIN,
     "every op3d train run (the CLI keeps the default) applies R1 every 8 minibatches with another lazy-"
     "regularization Adam rescaling: different phases and weights"),
    ("training/loop.py", "ema_rampup: float | None = 0.05", "ema_rampup: float | None = 0.5", TRAIN,
     "the EMA ramp-up is ten times longer: G_ema early in training (and every short run's snapshot) differs"),
    ("training/loop.py", "grid_n = min(16, len(dataset))", "grid_n = min(8, len(dataset))", TRAIN,
     "reals.png and the fakes images show 8 samples instead of 16"),
    ("training/loss.py", "density_reg_points: int = 1000", "density_reg_points: int = 100", TRAIN,
     "the density regularizer uses 100 points per sample instead of EG3D's 1000: Greg losses and weights change"),
    ("training/cli.py", 'kind = "synthetic-body" if conditional else "synthetic"',
     'kind = "synthetic" if conditional else "synthetic-body"', TRAIN,
     "op3d train without --data builds posed bodies for the plain generator and heads for --conditional: wrong "
     "dataset files and runs that fail"),
    ("training/cli.py", '@click.option("--mirror", type=bool, default=False,',
     '@click.option("--mirror", type=bool, default=True,', TRAIN,
     "training x-flips the data by default (and --conditional runs are refused for mirroring)"),
    ("training/loop.py", "eps=1e-8, **_adam_hyper(lr, reg_interval)", "eps=1e-6, **_adam_hyper(lr, reg_interval)",
     TRAIN, "Adam's epsilon is 1e-6 instead of StyleGAN's 1e-8: steps with small gradients shrink"),
    ("training/cli.py", 'type=click.IntRange(min=1), default=8, help="K planes per axis.")',
     'type=click.IntRange(min=1), default=4, help="K planes per axis.")', TRAIN,
     "op3d train builds 4 planes per axis instead of 8 by default: other architecture and checkpoints"),
    # --- shapes (5) -------------------------------------------------------------------------------------------
    ("shapes/export.py", 'if suffix not in (".ply", ".obj"):', 'if suffix not in (".ply",):', SHAPES + SAMP,
     "write_mesh refuses .obj: op3d sample --shapes --shape-format obj fails"),
    ("sampling/cli.py", 'if shape_format == "mrc":', 'if shape_format != "ply":', SAMP + SHAPES,
     "--shape-format obj writes an .mrc density volume instead of an .obj mesh"),
    ("shapes/export.py", "        if rgb is not None:\n            header +=",
     "        if rgb is None:\n            header +=", SHAPES,
     "PLY files declare colour properties only when there are no colours: coloured meshes fail to write "
     "and uncoloured ones carry garbage colours"),
    ("sampling/render.py", "    if body is not None:", "    if body is None:", SHAPES + COND,
     "density_grid / mesh_grid of a plain generator ask for an 'sdf' it does not have (KeyError) and the "
     "pose-conditional ones take the plane path without the body"),
    ("shapes/export.py", "for i, v in enumerate(verts):", "for i, v in enumerate(verts, 1):", SHAPES + SAMP,
     "OBJ vertex colours are shifted by one vertex and the last vertex fails (index error) when colours are given"),
    # --- sampling, cameras and checkpoints (7) ----------------------------------------------------------------
    ("data/cameras.py", "forward = torch.nn.functional.normalize(target - origin, dim=-1)",
     "forward = torch.nn.functional.normalize(origin - target, dim=-1)", SAMP,
     "lookat_pose's cameras look away from the pivot: every sampled view and video frame renders empty "
     "background"),
    ("data/cameras.py", "cx: float = 0.5, cy: float = 0.5", "cx: float = 0.5, cy: float = 0.0", SAMP,
     "intrinsics() puts the principal point on the top edge: sampled views and videos are shifted by half an "
     "image"),
    ("data/cameras.py", "yaw_std: float = 0.3, pitch_std: float = 0.15",
     "yaw_std: float = 0.3, pitch_std: float = 0.25", SAMP + MET,
     "random cameras (sample_cameras, the *_random_cameras metrics) spread their pitch by 0.25 rad "
     "instead of 0.15"),
    ("io/checkpoint.py", "if version > FORMAT_VERSION:", "if version >= FORMAT_VERSION:", SAMP + NET,
     "every current op3d checkpoint is refused as written by a newer op3d: op3d sample / video / metrics fail"),
    ("io/api.py", "if p.is_dir() and not (p / CONFIG_NAME).is_file():",
     "if p.is_dir() and (p / CONFIG_NAME).is_file():", SAMP + TRAIN,
     "op3d.load (and --network) of a training run directory is not resolved to its latest snapshot: "
     "'not an op3d checkpoint'"),
    ("sampling/cli.py", "    if grid:\n", "    if not grid:\n", SAMP,
     "op3d sample writes grid.png by default and not with --grid"),
    ("training/report.py", "lo: float = -1.0, hi: float = 1.0", "lo: float = 0.0, hi: float = 1.0", SAMP + TRAIN,
     "to_uint8 maps [0, 1] to 0..255: sample PNGs, reals.png and fakes come out with the dark half clipped"),
]
