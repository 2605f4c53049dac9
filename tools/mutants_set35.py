"""A thirty-fifth, independently written set of planted one-line bugs for tools/mutation_check.py: set 35, 30
mutants written without reading the tests, on lines no earlier set mutated, by area:

- networks (5): the planes per axis of the two representations, the left padding of transposed upsampling
  convolutions, the channel axis of the separable OrthoPlanes lattice sampler, the plane axis added to tri-planes,
  the doubled image channels of the dual discriminator;
- rendering (5): the inverse directions of ray / box intersection, the pdf offset of importance sampling, the
  per-element hit counts of boxed rendering, the "auto" ray-range consistency check, the pooled weight layout of
  importance sampling;
- metrics (5): the low-pass residual of the SWD pyramid, the number of pyramid levels SWD accumulates, the
  is50k dispatch, the Inception stem's second convolution, the batches of real images;
- training (6): the density / SDF regularizer dispatch, the colour grids' PNG mode, the --body-margin rendering
  key, the body-model / --conditional check, the neural rendering resolution schedule, the raw row of the fakes grid;
- shapes (4): the first slab of lattice grids, the first refined point of coarse-to-fine grids, the margin check
  of coarse-to-fine grids, the smallest shape resolution;
- sampling, cameras and checkpoints (5): single-angle --views, the bottom-row check of camera labels, the yaw
  clip of random cameras, the SR antialiasing preset, the raw-image alias of original pickles.

    python tools/mutation_check.py --mutants tools/mutants_set35.py --out /tmp/mutation_set35.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no fragment here contains, or is
contained in, a fragment of the same file in mutation_check.py or mutants_set2.py ... mutants_set34.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- networks (5) -----------------------------------------------------------------------------------------
    ("networks/generator.py", 'self.K = per_dir_plane_number if representation == "orthoplanes" else 1',
     'self.K = per_dir_plane_number if representation == "triplane" else 1', NET,
     "OrthoPlanes generators get one plane per axis and tri-plane ones per_dir_plane_number: the plane backbone "
     "has the wrong heads, checkpoints and original pickles no longer load, new networks render differently"),
    ("ops/conv2d_resample.py", "        px0 -= kw - 1", "        px0 -= kw - up", NET,
     "upsampling 3x3 convolutions pad the left edge one texel less: every synthesis block's upsampled feature map "
     "is shifted / mis-sized, so images and planes change (or fail with a shape error)"),
    ("planes/sampling.py", "    C = planes.shape[3]\n    out = planes.new_zeros",
     "    C = planes.shape[2]\n    out = planes.new_zeros", NET + SHAPES,
     "the separable OrthoPlanes lattice sampler (grid_features) allocates 3 channels instead of C: density grids "
     "of `op3d sample --shapes` fail with a shape error"),
    ("networks/synthesis.py", "return img if self.planes_per_axis is not None else img.unsqueeze(2)",
     "return img if self.planes_per_axis is not None else img.unsqueeze(1)", NET,
     "tri-plane backbones return [B, 1, C, H, W] instead of [B, C, 1, H, W]: tri-plane generators fail in "
     "planes() / rendering"),
    ("networks/discriminator.py", "        img_channels *= 2", "        img_channels *= 1", NET,
     "the dual discriminator expects 3 input channels instead of image + raw (6): D fails on every forward and "
     "D checkpoints / pickles no longer load"),
    # --- rendering (5) ----------------------------------------------------------------------------------------
    ("rendering/rays.py", "        inv = 1 / dirs\n", "        inv = 1 / dirs.abs()\n", REND + COND,
     "ray / box intersections ignore the direction's sign: rays going towards -x/-y/-z get wrong entry and exit "
     "depths, so ray_start 'auto' (ShapeNet-style) renders and boxed conditional rendering break"),
    ("rendering/samplers.py", "    weights = weights + eps\n", "    weights = weights + 1e-2\n", REND,
     "importance sampling flattens the pdf (offset 1e-2 instead of 1e-5): fine samples no longer concentrate "
     "at the surface, images and depths differ from EG3D's"),
    ("rendering/renderer.py", "    counts = hit[..., 0].sum(1)", "    counts = hit[..., 0].sum(0)", REND + COND,
     "render_in_boxes counts hits over the batch instead of per element: pose-conditional renders fail with a "
     "shape error or put rays in the wrong places"),
    ("rendering/renderer.py", 'auto = (options.ray_start == "auto", options.ray_end == "auto")',
     'auto = (options.ray_start == "auto", options.ray_start == "auto")', REND,
     "ray_start 'auto' with a numeric ray_end is accepted (and silently renders with box limits) instead of "
     "being refused as inconsistent"),
    ("rendering/samplers.py", "w = weights.reshape(B * R, -1).float().unsqueeze(1)",
     "w = weights.reshape(B * R, -1).float().unsqueeze(2)", REND,
     "the weights are pooled along a length-1 axis: every render with importance samples fails (or samples "
     "wrong depths)"),
    # --- metrics (5) ------------------------------------------------------------------------------------------
    ("metrics/swd.py", "    out.append(cur)\n", "    out.append(images)\n", MET,
     "the last SWD level compares full-resolution images instead of the low-pass residual: its distance (and "
     "the metric's last column) changes"),
    ("metrics/swd.py", "laplacian_pyramid(images.double(), self.levels)",
     "laplacian_pyramid(images.double(), self.levels - 1)", MET,
     "SWD accumulates one level fewer than it reports: the coarsest level has no descriptors and `swd` fails"),
    ("metrics/run.py", '        if name == "is50k":', '        if name == "is50k_full":', MET,
     "is50k no longer computes the Inception Score: it computes FID/KID (needs reals) and reports the wrong keys"),
    ("metrics/inception.py", "x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))",
     "x = self.Conv2d_2b_3x3(self.Conv2d_1a_3x3(x))", MET,
     "the Inception stem skips Conv2d_2a_3x3: features differ from the reference detector, so FID/KID/IS change"),
    ("metrics/run.py", "for i in order[s:s + batch]])", "for i in order[s:s + batch + 1]])", MET,
     "consecutive real batches overlap by one image: real features (FID/KID/PR statistics, swd reals) count "
     "images twice and the totals exceed the dataset"),
    # --- training (6) -----------------------------------------------------------------------------------------
    ("training/loss.py", "        if do_Greg and conditional:", "        if do_Greg and not conditional:", TRAIN + COND,
     "the G regularization phase runs the SDF terms for unconditional networks (no body: it fails) and density "
     "regularization for pose-conditional ones"),
    ("training/report.py", "grid[..., 0] if c == 1 else grid", "grid[..., 0] if c == 3 else grid", TRAIN,
     "reals.png / fakes*.png are saved as one grey channel (red) instead of RGB, and depth grids fail"),
    ("training/loop.py", 'gkw["rendering_kwargs"]["body_box_margin"] = cfg.body_box_margin',
     'gkw["rendering_kwargs"]["body_margin"] = cfg.body_box_margin', TRAIN + COND,
     "--body-margin is ignored: pose-conditional generators keep the preset's 0.1 m box margin"),
    ("training/cli.py", 'if not conditional and opts["body_model"] != "procedural":',
     'if conditional and opts["body_model"] != "procedural":', TRAIN + COND,
     "--conditional runs with an SMPL body model are refused, while --body-model without --conditional is "
     "silently accepted"),
    ("training/loss.py", "    if cfg.neural_rendering_resolution_final is None:",
     "    if cfg.neural_rendering_resolution_final is not None:", TRAIN,
     "without --neural_rendering_resolution_final training fails (None arithmetic); with it, the resolution never "
     "fades from the initial one"),
    ("training/loop.py", 'raws.append(torch.nn.functional.interpolate(out["image_raw"], size=out["image"].shape[-1], '
     'mode="nearest"))',
     'raws.append(torch.nn.functional.interpolate(out["image_raw"], size=out["image"].shape[-1], '
     'mode="bilinear"))', TRAIN,
     "the raw-rendering row of fakes*.png is bilinearly smoothed instead of nearest-neighbour upsampled"),
    # --- shapes (4) -------------------------------------------------------------------------------------------
    ("shapes/grid.py", 'starts = with_progress(range(0, nx, step), progress, "density grid", "slab")',
     'starts = with_progress(range(1, nx, step), progress, "density grid", "slab")', SHAPES,
     "the first x slab of slab-evaluated density grids is never computed (uninitialized memory): .mrc volumes "
     "and meshes of `op3d sample --shapes` are garbage on one face"),
    ("shapes/grid.py", 'range(0, len(flat), chunk), progress, "surface refinement"',
     'range(1, len(flat), chunk), progress, "surface refinement"', SHAPES,
     "coarse-to-fine meshing skips the exact evaluation of the first refined grid point: ply/obj meshes differ "
     "from the dense grid's"),
    ("shapes/grid.py", "    if factor < 2 or margin < 1:", "    if factor < 2 or margin < 0:", SHAPES,
     "surface_grid accepts margin 0, whose straddling cells' faces are not exact, instead of refusing it"),
    ("shapes/grid.py", "    if resolution < 2:", "    if resolution <= 2:", SHAPES,
     "shape grids of resolution 2 are refused"),
    # --- sampling, cameras and checkpoints (5) ----------------------------------------------------------------
    ("sampling/views.py", "        if len(values) not in (1, 2):", "        if len(values) not in (2,):", SAMP,
     "--views with a yaw alone (e.g. --views 0,30) is refused; only yaw/pitch pairs are read"),
    ("data/cameras.py", "((M[:, 3] - torch.tensor([0, 0, 0, 1.0]", "((M[:, :, 3] - torch.tensor([0, 0, 0, 1.0]",
     SAMP,
     "the camera check compares cam2world's translation column with 0 0 0 1: every dataset / label with a "
     "camera away from the origin is reported as invalid"),
    ("data/cameras.py", "                   max_yaw: float = 0.8) -> torch.Tensor:",
     "                   max_yaw: float = 0.5) -> torch.Tensor:", SAMP + MET,
     "random cameras (fid50k_full_random_cameras, kid50k_full_random_cameras) clip yaw at 0.5 rad instead of 0.8"),
    ("presets.py", 'reg_type="l1", decoder_lr_mul=1.0, sr_antialias=True)',
     'reg_type="l1", decoder_lr_mul=1.0, sr_antialias=False)', SAMP + TRAIN,
     "new networks resize the raw image into super-resolution without antialiasing: their images differ from "
     "EG3D's / OrthoPlanes'"),
    ("io/legacy.py", 'kwargs["legacy_raw_alias"] = True', 'kwargs["legacy_raw_alias"] = False', SAMP + NET,
     "generators from original pickles no longer return image_raw modified by the super-resolution skip sum as "
     "the original code does: their image_raw differs from the original's"),
]
