"""A thirty-sixth, independently written set of planted one-line bugs for tools/mutation_check.py: set 36, 30
mutants written without reading the tests, on lines no earlier set mutated, by area:

- networks (5): the output-resolution check of super-resolution layouts, the resample filter of the 512 SR
  layout, the bias axis of fully connected layers, the mapping network's layer count, the tri-plane dispatch;
- rendering (5): the density activation dispatch of ray marching, the scene range of boxed rendering, the ray
  directions, the CDF sizes of importance sampling, the hit-ray slots of boxed rendering;
- metrics (5): the KID accumulator, the real / fake features of precision and recall, the VGG16 environment
  variable, the float precision of Inception scores;
- training (6): the near-surface vertex gather, the seeded vertex picks of the SDF regularizer, its point axis,
  the conditional dispatch of the regularizers, the blur check, the --gpc_reg_prob default;
- shapes (4): the chunks of density grids, the slots chunks are written to, the fine indices of coarse-to-fine
  upsampling, the coarse spacing;
- sampling, cameras and checkpoints (5): the separator of --views angles, the bottom row of look-at poses, the
  FFHQ focal length, the default plane number of presets, the checkpoint format version check.

    python tools/mutation_check.py --mutants tools/mutants_set36.py --out /tmp/mutation_set36.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no fragment here contains, or is
contained in, a fragment of the same file in mutation_check.py or mutants_set2.py ... mutants_set35.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- networks (5) -----------------------------------------------------------------------------------------
    ("networks/superresolution.py", "    if img_resolution != out_res:", "    if img_resolution == out_res:", NET,
     "every super-resolution layout refuses the resolution it produces: building any generator fails"),
    ("networks/superresolution.py", "[(None, 128, 256, 2), (128, 64, 512, 2)], False, True),",
     "[(None, 128, 256, 2), (128, 64, 512, 2)], False, False),", NET,
     "512x512 SuperresolutionHybrid8X loses its resample filter buffer: 512 checkpoints / pickles do not load"),
    ("networks/layers.py", "return bias_act(x, b, dim=x.ndim - 1, act=self.activation)",
     "return bias_act(x, b, dim=x.ndim - 2, act=self.activation)", NET,
     "fully connected layers add their bias along the batch axis: mapping / decoder fail or give wrong outputs"),
    ("networks/layers.py", "[layer_features] * (num_layers - 1) + [w_dim]",
     "[layer_features] * num_layers + [w_dim]", NET,
     "the mapping network gets one layer too many: checkpoints and original pickles no longer load"),
    ("networks/generator.py", '        if self.representation == "triplane":\n            feats = sample_triplane(',
     '        if self.representation != "triplane":\n            feats = sample_triplane(', NET,
     "OrthoPlanes and tri-plane generators sample their planes with each other's layout: wrong images or errors"),
    # --- rendering (5) ----------------------------------------------------------------------------------------
    ("rendering/marcher.py", '    if activation == "softplus":', '    if activation != "softplus":', REND,
     "the default softplus density activation raises ValueError and 'none' applies softplus: rendering breaks"),
    ("rendering/renderer.py", "    scene_lo, scene_hi = (torch.as_tensor(",
     "    scene_hi, scene_lo = (torch.as_tensor(",
     REND + COND, "boxed rendering: rays that miss get the ray start as depth and hit rays' depths clamp wrongly"),
    ("rendering/rays.py", "    return origins.expand(B, dirs.shape[1], 3), dirs",
     "    return origins.expand(B, dirs.shape[1], 3), -dirs", REND,
     "rays point away from the scene: images are empty / background, depths wrong"),
    ("rendering/samplers.py", "    N, M = weights.shape", "    M, N = weights.shape", REND,
     "importance sampling reshapes its CDF lookups with swapped sizes: rendering fails or fine samples scramble"),
    ("rendering/renderer.py", "    slot = torch.arange(width, device=origins.device)[None]",
     "    slot = torch.arange(1, width + 1, device=origins.device)[None]", REND + COND,
     "boxed rendering drops the last hit ray of every element: it is rendered as background (holes in bodies)"),
    # --- metrics (5) ------------------------------------------------------------------------------------------
    ("metrics/frechet.py", "    t = 0.0\n", "    t = 1.0\n", MET,
     "KID is offset by 1 / (num_subsets * m): every reported kid50k is wrong"),
    ("metrics/precision_recall.py", "r = torch.as_tensor(np.asarray(real), dtype=torch.float64)",
     "r = torch.as_tensor(np.asarray(fake), dtype=torch.float64)", MET,
     "precision / recall compare the fakes with themselves: both report 1"),
    ("metrics/precision_recall.py", "f = torch.as_tensor(np.asarray(fake), dtype=torch.float64)",
     "f = torch.as_tensor(np.asarray(real), dtype=torch.float64)", MET,
     "precision / recall compare the reals with themselves: both report 1"),
    ("metrics/vgg.py", 'ENV_VAR = "OP3D_VGG16"', 'ENV_VAR = "OP3D_VGG"', MET,
     "the documented OP3D_VGG16 variable is ignored: pr50k3 cannot find the VGG16 network"),
    ("metrics/inception_score.py", "    p = np.asarray(probs, dtype=np.float64)",
     "    p = np.asarray(probs, dtype=np.float16)", MET,
     "Inception scores are computed in half precision: is50k differs from the reference"),
    # --- training (6) -----------------------------------------------------------------------------------------
    ("training/loss.py", "near = torch.gather(body.vertices.to(ws.dtype), 1, pick",
     "near = torch.gather(body.vertices.to(ws.dtype), 0, pick", TRAIN + COND,
     "the SDF regularizer gathers its near-surface vertices along the batch axis: conditional training fails"),
    ("training/loss.py", "pick = torch.randint(V, (ws.shape[0], n), generator=self.generator)",
     "pick = torch.randint(V, (ws.shape[0], n))", TRAIN + COND,
     "the SDF regularizer's surface points ignore the seeded generator: conditional runs are not reproducible"),
    ("training/loss.py", "points = torch.cat([uniform, near], dim=1).requires_grad_(True)",
     "points = torch.cat([uniform, near], dim=0).requires_grad_(True)", TRAIN + COND,
     "the SDF regularizer stacks its points along the batch: conditional training fails with a shape error"),
    ("training/loss.py", "        conditional = gen_body is not None", "        conditional = gen_body is None",
     TRAIN + COND, "plain runs take the SDF regularizer and conditional runs the density one: training fails"),
    ("training/loss.py", "        if sigma > 0:", "        if sigma >= 0:", TRAIN,
     "after the blur fade-in the discriminator blurs with sigma 0: NaN images / losses"),
    ("training/cli.py", '"--gpc-reg-prob", type=Finite(min=0, max=1), default=0.5)',
     '"--gpc-reg-prob", type=Finite(min=0, max=1), default=0.0)', TRAIN,
     "the default generator pose-conditioning swap probability becomes 0 instead of EG3D's 0.5"),
    # --- shapes (4) -------------------------------------------------------------------------------------------
    ("shapes/grid.py", "range(0, total, chunk)", "range(chunk, total, chunk)", SHAPES,
     "density grids skip their first chunk: the grid is uninitialized there (or empty for one chunk)"),
    ("shapes/grid.py", "out[s:s + chunk] = values[0, :, 0]", "out[s + 1:s + chunk + 1] = values[0, :, 0]",
     SHAPES,
     "density grid chunks are written one slot late: a shape error, or shifted densities"),
    ("shapes/grid.py", "    fine = np.arange(n)", "    fine = np.arange(1, n + 1)", SHAPES,
     "coarse-to-fine grids interpolate at indices shifted by one: smooth regions are offset / extrapolated"),
    ("shapes/grid.py", "    idx = np.arange(0, n, factor)", "    idx = np.arange(0, n, factor + 1)", SHAPES,
     "coarse-to-fine grids use a coarser lattice than the factor: different densities away from the surface"),
    # --- sampling, cameras and checkpoints (5) --------------------------------------------------------------
    ("sampling/views.py", 'values = [float(v) for v in part.split("/")]',
     'values = [float(v) for v in part.split(",")]', SAMP,
     "--views yaw/pitch pairs no longer parse: `op3d sample --views 0.3/0.1` fails"),
    ("data/cameras.py", "    m[..., 3, 3] = 1", "    m[..., 3, 3] = 0", SAMP,
     "look-at poses get a zero bottom row: camera labels are refused or rays start at infinity"),
    ("data/cameras.py", "FFHQ_FOCAL = 4.2647", "FFHQ_FOCAL = 4.2467", SAMP,
     "the default FFHQ intrinsics have the wrong focal length: sampled images are zoomed differently"),
    ("presets.py", "plane_number: int = 8, fourier_L: int = 10", "plane_number: int = 4, fourier_L: int = 10",
     SAMP + NET,
     "generators built from the presets get 4 planes per axis instead of 8: different models, checkpoints mismatch"),
    ("io/checkpoint.py", "isinstance(version, bool) or version < 1:", "isinstance(version, bool) or version < 2:",
     SAMP, "every saved checkpoint (format version 1) is refused by op3d.load / sample / video / metrics"),
]
