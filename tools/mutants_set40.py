"""A fortieth, independently written set of planted one-line bugs for tools/mutation_check.py: set 40, 30
mutants written without reading the tests or the earlier sets, on any lines, by area:
- networks (5): the explicit neural rendering resolution, SR's w, D's raw input, texel centres, truncation psi
- rendering (5): the depth-sample check, single-backward without importance, deterministic u, softplus bias, pixels
- metrics (5): FID's trace term, the k-NN radius, random-camera FID, reproj's last batch, the results directory
- training (6): the fade at 0 kimg, lazy-reg lr, lazy-reg gain, the R1 factor 1/2, latest-snapshot check, blur fade
- shapes (4): the voxel size, the slab step, the .mrc axis order, .obj indices
- sampling/data/io (5): seed ranges, the ray-range check, mirrored images, unexpected weights, ShapeNet's box

    python tools/mutation_check.py --mutants tools/mutants_set40.py --confirm --out /tmp/mutation_set40.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- networks (5) ---
    ("networks/generator.py", "res = neural_rendering_resolution or self.neural_rendering_resolution",
     "res = self.neural_rendering_resolution", NET,
     "G(z, c, neural_rendering_resolution=128) / G.synthesis(..., neural_rendering_resolution=N) ignore the "
     "argument: the raw image and depth come out at the network's stored resolution (64), not the one asked for"),
    ("networks/superresolution.py", "ws = ws[:, -1:, :].repeat(1, 3, 1)", "ws = ws[:, :1, :].repeat(1, 3, 1)",
     NET,
     "super-resolution is modulated by the first w instead of the last: every final image differs from EG3D's "
     "(released checkpoints render wrong textures; truncation_cutoff / style mixing act on the wrong layers)"),
    ("networks/discriminator.py", 'resize_raw(img["image_raw"], image.shape[-1])',
     'resize_raw(img["image"], image.shape[-1])', NET,
     "the dual discriminator sees the final image twice and never the raw neural rendering: D's logits differ "
     "from EG3D's, and the raw rendering gets no adversarial signal in training"),
    ("planes/sampling.py", "t = (g + 1) * (size / 2) - 0.5", "t = (g + 1) * (size / 2)", NET,
     "the gather sampler (and the separable grid path) reads half a texel off grid_sample(align_corners=False): "
     "plane features, images and density grids change and the fast path no longer matches its reference twin"),
    ("networks/layers.py", "x = self.w_avg.lerp(x, truncation_psi)", "x = x.lerp(self.w_avg, truncation_psi)", NET,
     "truncation without a cutoff is inverted: --trunc 0.7 pulls w 70% toward the average instead of 30%, "
     "--trunc 0 returns the untruncated w instead of w_avg"),

    # --- rendering (5) ---
    ("rendering/renderer.py", "fewest = 3 if options.depth_resolution_importance else 2", "fewest = 2", REND,
     "depth_resolution 2 with importance samples is accepted instead of refused: the importance pass then draws "
     "every fine sample at one depth (a degenerate render) rather than giving a one-line ValueError"),
    ("rendering/renderer.py", "single_backward = single_backward and N > 0 and options.density_noise == 0",
     "single_backward = single_backward and options.density_noise == 0", REND,
     "with depth_resolution_importance 0 the only pass runs under no_grad on CPUs: rendered images carry no "
     "gradient, so training's G phase fails ('does not require grad') or learns nothing from images"),
    ("rendering/renderer.py", "u = None if deterministic else torch.rand(",
     "u = None if not deterministic else torch.rand(", REND,
     "deterministic renders draw random importance samples (sample/video/metrics frames flicker and are not "
     "reproducible) while training's stochastic renders use the fixed linspace instead"),
    ("rendering/marcher.py", "sigma = F.softplus(densities_mid - 1)", "sigma = F.softplus(densities_mid)", REND,
     "EG3D's -1 density bias is gone: every softplus field is denser than in EG3D, released checkpoints render "
     "foggy/darker images with shifted depth"),
    ("rendering/rays.py", "ticks = (torch.arange(resolution, dtype=c.dtype, device=c.device) + 0.5) / resolution",
     "ticks = torch.arange(resolution, dtype=c.dtype, device=c.device) / resolution", REND,
     "rays go through pixel corners instead of centres: the raw rendering and depth are shifted half a pixel "
     "up-left (off-centre images, reprojection and backprojection off by half a pixel)"),

    # --- metrics (5) ---
    ("metrics/frechet.py", "torch.trace(s2) - 2 * tr_sqrt)", "torch.trace(s2) - tr_sqrt)", MET,
     "FID drops the factor 2 on Tr sqrt(S1 S2): identical feature sets score a large positive FID and all "
     "reported FIDs are inflated"),
    ("metrics/precision_recall.py", ".kthvalue(k + 1, dim=1).values", ".kthvalue(k, dim=1).values", MET,
     "the manifold radius counts the point itself as a neighbour (radius to the (k-1)-th neighbour): "
     "pr50k3_full precision and recall come out too low"),
    ("metrics/run.py", 'cameras = "random" if name.endswith("_random_cameras") else "dataset"',
     'cameras = "random" if name.startswith("_random_cameras") else "dataset"', MET,
     "fid50k_full_random_cameras / kid50k_full_random_cameras silently use dataset cameras: they report the "
     "same numbers as fid50k_full / kid50k_full"),
    ("metrics/run.py", "n = min(batch, num - s)", "n = batch", MET,
     "reproj with --num not a multiple of the batch renders a full last batch and weights it by the batch size: "
     "reproj_error is inflated and reproj_visible can exceed 1"),
    ("metrics/cli.py", "(Path(network) if Path(network).is_dir() else Path(network).parent)",
     "Path(network).parent", MET,
     "op3d metrics --network RUN_OR_SNAPSHOT_DIR writes metric-<name>.jsonl into the directory above it "
     "(e.g. the outdir holding all runs) instead of beside the network"),

    # --- training (6) ---
    ("training/loss.py", "return min(cur_nimg / (fade_kimg * 1e3), 1.0) if fade_kimg > 0 else 1.0",
     "return min(cur_nimg / (fade_kimg * 1e3), 1.0) if fade_kimg > 0 else 0.0", TRAIN,
     "a fade of 0 kimg never starts: fine-tuning (gpc_reg_fade_kimg 0) swaps every camera forever, and "
     "--neural_rendering_resolution_fade_kimg 0 never reaches the final resolution"),
    ("training/loop.py", '"lr": lr * ratio,', '"lr": lr,', TRAIN,
     "lazy regularization no longer rescales the learning rate (StyleGAN2's mb_ratio): Adam steps are 25% "
     "(G) / 6% (D) larger than EG3D's, also after a resume"),
    ("training/loop.py", "labels[i].to(device), gain=interval,", "labels[i].to(device), gain=1,", TRAIN,
     "lazy regularization phases are not multiplied by their interval: R1 and the density regularizer are "
     "16x / 4x weaker than EG3D's for the same --gamma / --density_reg"),
    ("training/loss.py", "total = total + (penalty * (self.cfg.r1_gamma / 2)).mean()",
     "total = total + (penalty * self.cfg.r1_gamma).mean()", TRAIN,
     "R1 is twice as strong as EG3D's for the same --gamma (the gamma/2 factor is lost)"),
    ("training/snapshots.py", "if name and (run_dir / name / STATE_NAME).is_file():", "if name:", TRAIN,
     "after deleting the latest snapshot to roll back, latest-snapshot.txt still wins: --resume RUN and "
     "op3d.load(RUN) fail on the missing directory instead of taking the newest complete snapshot"),
    ("training/cli.py", 'blur_fade_kimg=batch * opts["blur_fade_kimg"] / 32,',
     'blur_fade_kimg=opts["blur_fade_kimg"],', TRAIN,
     "--blur_fade_kimg is no longer scaled by batch / 32 as EG3D's train script does: with the CPU default "
     "batch 4 the blur fades over 8x more images (dry-run shows 200 instead of 25)"),

    # --- shapes (4) ---
    ("shapes/grid.py", "voxel = cube_length / (resolution - 1)", "voxel = cube_length / resolution", SHAPES,
     "density grids stop one voxel short of the box's far faces: the volume is off-centre and meshes are "
     "shifted and slightly shrunk against the rendering"),
    ("shapes/grid.py", "step = max(1, chunk // (ny * nz))", "step = chunk // (ny * nz)", SHAPES,
     "when one lattice slab has more points than the chunk (e.g. --shape-res 512 with the default chunk) the slab "
     "step is 0 and shape export dies with 'range() arg 3 must not be zero'"),
    ("shapes/export.py", "grid.values.transpose(2, 1, 0), dtype=np.float32", "grid.values, dtype=np.float32", SHAPES,
     ".mrc files store the volume x-major instead of [z, y, x]: ChimeraX shows it with x and z swapped, and "
     "read_mrc returns a transposed grid"),
    ("shapes/export.py", 'f"f {a} {b} {c}\\n" for a, b, c in faces + 1)', 'f"f {a} {b} {c}\\n" for a, b, c in faces)',
     SHAPES,
     ".obj faces are written 0-based: index 0 is invalid in OBJ, viewers reject the file or connect the wrong "
     "vertices"),

    # --- sampling / data / io / presets (5) ---
    ("sampling/views.py", "seeds.extend(range(lo, hi + 1))", "seeds.extend(range(lo, hi))", SAMP + NET,
     "--seeds 0-3 renders seeds 0-2 only and a single seed like --seeds 7 renders nothing"),
    ("data/cameras.py", "if float(r.min()) <= float(ray_start) or float(r.max()) >= float(ray_end):",
     "if float(r.min()) <= float(ray_start) and float(r.max()) >= float(ray_end):", SAMP + TRAIN,
     "training on cameras outside the preset's fixed ray range (e.g. too far for ffhq's 2.25-3.3) is no longer "
     "refused unless they are both too near and too far: the run trains on empty renderings"),
    ("data/dataset.py", "image = image[:, ::-1]", "image = image[::-1]", SAMP + TRAIN,
     "--mirror flips the images upside down while the cameras are flipped left-right: mirrored samples no "
     "longer match their cameras"),
    ("io/checkpoint.py", "if missing or unexpected:", "if missing:", SAMP + NET,
     "a checkpoint with extra weights is no longer refused with a one-line CheckpointError: loading dies with a "
     "KeyError traceback instead"),
    ("presets.py", "ray_start=0.1, ray_end=2.6, box_warp=1.6,", "ray_start=0.1, ray_end=2.6, box_warp=1.0,",
     SAMP + NET,
     "--cfg shapenet gets a unit rendering box instead of EG3D's 1.6: cars are cropped to the smaller box and "
     "density grids / meshes cover the wrong extent"),
]
