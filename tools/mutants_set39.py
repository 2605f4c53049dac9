"""A thirty-ninth, independently written set of planted one-line bugs for tools/mutation_check.py: set 39, 30
mutants written without reading the tests, on lines no earlier set mutated, by area:

- networks (6): the transposed weight of fully connected layers off the addmm path, the beta floor of the
  released pose-conditional generator's density, the noise input of synthesis layers, the D camera-noise switch,
  the row stride of the gathering plane sampler, the dim order of separable orthoplane grids;
- rendering (5): the scatter of hit rays back to their places, the numbers check of ray ranges, the default
  box_warp, the clamp modes offered, the finiteness check of box_warp;
- metrics (5): the padding of Inception's Conv2d_2b, the c7 widths of Mixed_6b / 6c, the pose-conditional
  reproj refusal, KID's subset-size check, the default device of op3d metrics;
- training (6): the unsupported-flag refusal of op3d train, the single-process short cut of gradient averaging,
  the snapshot-name pattern, the vertex count of the SDF regularizer, the density-regularizer perturbation
  default, the run-directory numbering;
- shapes (4): origin / voxel of read .mrc grids, the .obj file mode, the strict .mrc reading, the --shapes
  switch of op3d sample;
- sampling, cameras and checkpoints (4): weights_only loading, the missing / unexpected-key check of
  checkpoints, the reflection check of camera labels, the default device of op3d sample / video.

    python tools/mutation_check.py --mutants tools/mutants_set39.py --out /tmp/mutation_set39.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no fragment here contains, or is
contained in, a fragment of the same file in mutation_check.py or mutants_set2.py ... mutants_set37.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- networks (6) -----------------------------------------------------------------------------------------
    ("networks/layers.py", "x = x.matmul(w.t())", "x = x.matmul(w)", NET,
     "mapping layers multiply by the untransposed weight: square layers give other ws, non-square ones fail"),
    ("networks/conditional_legacy.py", "self.density_func = SDFDensity(beta_init=0.01, beta_min=1e-4)",
     "self.density_func = SDFDensity(beta_init=0.01, beta_min=1e-3)", COND,
     "the released pose-conditional model's density beta floor is 10x larger: softer surfaces, renders differ"),
    ("networks/synthesis.py", "noise=noise, up=self.up", "noise=None, up=self.up", NET,
     "synthesis layers drop their noise input: trained checkpoints render different images in const/random mode"),
    ("networks/discriminator.py", "if self.disc_c_noise > 0:", "if self.disc_c_noise >= 0:", NET,
     "D always adds camera noise scaled by c.std(0): a batch of one gets NaN logits, other batches use extra RNG"),
    ("planes/sampling.py", "* strides[0], w, v", "* strides[1], w, v", NET + REND,
     "the gathering sampler steps along H where it should step along W: plane features and renders are wrong"),
    ("planes/sampling.py", "if m < m_d]", "if m <= m_d]", NET + SHAPES,
     "separable orthoplane grids permute by the depth dim itself: density grids / shapes of orthoplanes fail"),
    # --- rendering (5) ----------------------------------------------------------------------------------------
    ("rendering/renderer.py", "hits[b_idx, s_idx]", "hits[b_idx, r_idx]", REND + COND,
     "body-box rendering takes each hit ray's result from the wrong slot: conditional images are scrambled"),
    ("rendering/renderer.py", "numbers = all(isinstance(v, (int, float))",
     "numbers = any(isinstance(v, (int, float))", REND,
     "a ray range with one non-number passes the numbers check and fails with a raw TypeError"),
    ("rendering/renderer.py", "box_warp: float = 1.0", "box_warp: float = 2.0", REND,
     "options without box_warp sample planes over a box of side 2: renders and shapes are scaled by one half"),
    ("rendering/renderer.py", 'CLAMP_MODES = ("softplus", "none")', 'CLAMP_MODES = ("softplus",)', REND + COND,
     "clamp_mode 'none' is refused: pose-conditional generators (densities from SDF) cannot be built"),
    ("rendering/renderer.py", "(int, float)) and math.isfinite(options.box_warp)", "(int, float))", REND,
     "box_warp = inf is accepted: every point maps to the planes' centre and renders come out flat"),
    # --- metrics (5) ------------------------------------------------------------------------------------------
    ("metrics/inception.py", "self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=1)",
     "self.Conv2d_2b_3x3 = BasicConv2d(32, 64, kernel_size=3, padding=0)", MET,
     "Inception's Conv2d_2b loses its padding: the detector loads but FID/KID/IS features differ from the reference"),
    ("metrics/inception.py", "InceptionC(768, 128), InceptionC(768, 160)",
     "InceptionC(768, 160), InceptionC(768, 128)", MET,
     "Mixed_6b / 6c get each other's 7x7 widths: the Inception detector file is refused, FID/KID/IS fail"),
    ("metrics/run.py", 'if name == "reproj" and hasattr(G, "body_model"):',
     'if name == "reproj" or hasattr(G, "body_model"):', MET,
     "reproj is refused for every network (and every metric for pose-conditional ones)"),
    ("metrics/frechet.py", "    if m < 2:", "    if m < 1:", MET,
     "KID with a single real or fake feature divides by m - 1 = 0: inf/nan instead of a readable error"),
    ("metrics/cli.py", 'dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))',
     'dev = torch.device(device or ("cpu" if torch.cuda.is_available() else "cuda"))', MET,
     "op3d metrics without --device picks CUDA on machines without a GPU and fails (and the CPU on GPU machines)"),
    # --- training (6) -----------------------------------------------------------------------------------------
    ("training/cli.py", "        if opts[name] != off:", "        if opts[name] == off:", TRAIN,
     "op3d train refuses its own defaults (--aug=noaug ...) and accepts the unsupported flags it should refuse"),
    ("training/distributed.py", "if world_size <= 1 or not tensors:", "if world_size < 1 or not tensors:", TRAIN,
     "single-process training calls all_reduce without a process group: every op3d train run fails at step one"),
    ("training/snapshots.py", r'r"network-snapshot-(\d+)(img)?"', r'r"network-snapshot-(\d+)(img)"',
     TRAIN + SAMP,
     "without latest-snapshot.txt whole-kimg snapshots are not found: resume / op3d.load of a run dir miss them"),
    ("training/loss.py", "V = body.vertices.shape[1]", "V = body.vertices.shape[0]", TRAIN + COND,
     "the SDF regularizer draws its near-surface points from the first batch-size vertices only"),
    ("training/cli.py", '@click.option("--density_reg_p_dist", type=Finite(min=0), default=0.004)',
     '@click.option("--density_reg_p_dist", type=Finite(min=0), default=0.04)', TRAIN,
     "the density regularizer perturbs points by 0.04 instead of EG3D's 0.004 by default"),
    ("training/loop.py", 're.match(r"^\\d+", p.name)', 're.match(r"^\\d", p.name)', TRAIN,
     "run ids read one digit: a third run in the same --outdir reuses 00001 and fails (or overwrites names)"),
    # --- shapes (4) -------------------------------------------------------------------------------------------
    ("shapes/export.py", "    return Grid(data, origin, voxel)", "    return Grid(data, voxel, origin)", SHAPES,
     "read .mrc volumes swap origin and voxel size: a written-then-read grid is placed and scaled wrongly"),
    ("shapes/export.py", '        with open(tmp, "w") as f:', '        with open(tmp, "wb") as f:', SHAPES,
     "the text .obj writer opens its file in binary mode: writing any .obj mesh fails"),
    ("shapes/export.py", "mrcfile.open(path, permissive=False)", "mrcfile.open(path, permissive=True)", SHAPES,
     "corrupt .mrc files are read with a warning instead of being refused"),
    ("sampling/cli.py", "        if shapes:", "        if not shapes:", SHAPES + SAMP,
     "op3d sample exports shapes only when --shapes is not given"),
    # --- sampling, cameras, checkpoints (4) -------------------------------------------------------------------
    ("io/checkpoint.py", 'torch.load(path, map_location="cpu", weights_only=True)',
     'torch.load(path, map_location="cpu", weights_only=False)', SAMP + TRAIN,
     "training states and .pth files are unpickled unrestricted: a malicious file runs code instead of refused"),
    ("io/checkpoint.py", "    if missing or unexpected:", "    if missing and unexpected:", SAMP + NET,
     "checkpoints with only extra (or only missing) tensors pass the key check and fail with a raw torch error"),
    ("data/cameras.py", "(torch.linalg.det(R) < 0,", "(torch.linalg.det(R) > 0,", SAMP + TRAIN,
     "every proper camera rotation is reported as a reflection: all valid datasets / labels are refused"),
    ("sampling/cli.py", 'torch.device(name or ("cuda" if torch.cuda.is_available() else "cpu"))',
     'torch.device(name or ("cpu" if torch.cuda.is_available() else "cuda"))', SAMP,
     "op3d sample / video without --device picks CUDA on machines without a GPU and fails"),
]
