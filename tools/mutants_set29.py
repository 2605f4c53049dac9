"""A twenty-ninth, independently written set of planted one-line bugs for tools/mutation_check.py: set 29, 40
mutants written without reading the tests, aimed at the wiring around the math that an ordinary run goes through
(options forwarded or dropped, defaults, G / G_ema, counters, seeds, file names, which camera or pose goes with
which image, chunk boundaries, branch conditions), by area:

- training loop (6): the resumed architecture's plane number, G's and SR's fp16 options, the sampler's seed, the
  generated samples' poses, the snapshot's stamp, where the metric records of a run go;
- training CLI (5): --metrics None, the --p / --target check, the default --tick with --data, making the
  synthetic dataset only when missing, validating --body-model only with --conditional;
- loss wiring, reports, snapshots and the sampler (6): the fake scores logged, the real loss logged, the R1
  penalty logged, TensorBoard's step, the training-state file name, each rank's share of a batch;
- metrics runner and CLI (9): random cameras per batch, the reals of a mirrored dataset, the VGG16 environment
  variable, FID vs KID of the _random_cameras variants, which detector file pr50k3_full loads, the reprojection
  latents' conditioning camera, the early --vgg check, G vs G_ema, the default --seed;
- sampling (7): --trunc-cutoff's default, --mesh-grid's default, the video's --grid, --trunc, --w-frames and
  --fps defaults, mesh_grid's coarse factor;
- shapes (1): the face winding of .obj meshes;
- generator, super-resolution and renderer wiring (6): sr_antialias reaching the SR module, the constructor's
  neural rendering resolution, the aliased raw image, Hybrid4X's resize rule, the depth range of box rendering,
  the renderer's default density activation.

    python tools/mutation_check.py --mutants tools/mutants_set29.py --out /tmp/mutation_set29.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no fragment here contains, or is
contained in, a fragment of the same file in mutation_check.py or mutants_set2.py ... mutants_set28.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- training loop (6) ----------------------------------------------------------------------------------------
    ("training/loop.py", 'facts.update(plane_number=kw.get("per_dir_plane_number"),',
     'facts.update(plane_number=kw.get("plane_number"),', TRAIN,
     "op3d train --resume of an 8-plane snapshot with --plane_number 4 records plane_number 4 in "
     "training_options.json (and prints no note) while it trains the snapshot's 8 planes"),
    ("training/loop.py", "gkw.update(sr_num_fp16_res=cfg.sr_num_fp16_res, num_fp16_res=cfg.g_num_fp16_res,",
     "gkw.update(sr_num_fp16_res=cfg.g_num_fp16_res, num_fp16_res=cfg.sr_num_fp16_res,", TRAIN + NET,
     "--sr_num_fp16_res and --g_num_fp16_res swap: by default the backbone gets 4 fp16 layers (without the "
     "conv clamp) and the super-resolution none, as the saved config.json shows"),
    ("training/loop.py", "sampler = InfiniteSampler(len(dataset), cfg.batch, seed=cfg.seed,",
     "sampler = InfiniteSampler(len(dataset), cfg.batch, seed=0,", TRAIN,
     "op3d train --seed 1 reads the dataset in the same order as --seed 0"),
    ("training/loop.py", "gen_pose = None if poses is None else poses[i]",
     "gen_pose = None if poses is None else rp", TRAIN + COND,
     "pose-conditional training renders the generated samples in the poses of the real images of the round "
     "while their cameras come from other dataset images"),
    ("training/loop.py", "stamp = snapshot_stamp(cur_nimg)", "stamp = snapshot_stamp(tick_start_nimg)", TRAIN,
     "a snapshot (and its fakes*.png) is named after the kimg where its tick started, not the kimg it holds: "
     "the final snapshot of a 2-kimg run is not network-snapshot-000002"),
    ("training/loop.py", "append_result(run_dir, dict(record,", "append_result(Path(cfg.outdir), dict(record,", TRAIN,
     "the metric-*.jsonl records of --metrics land in --outdir, shared by all runs, not in the run directory"),
    # --- training CLI (5) -----------------------------------------------------------------------------------------
    ("training/cli.py", 'value.strip().lower() in ("", "none")', 'value.strip() in ("", "none")', TRAIN,
     "op3d train --metrics None (as the original scripts spell it) fails with unknown metric 'None'"),
    ("training/cli.py", 'opts["aug_p"] != 0.2 or opts["aug_target"] != 0.6',
     'opts["aug_p"] != 0.2 and opts["aug_target"] != 0.6', TRAIN,
     "op3d train --p 0.5 alone (an ADA option op3d does not have) is accepted silently instead of refused"),
    ("training/cli.py", 'tick=opts["tick"] or (0.1 if synthetic else 4)',
     'tick=opts["tick"] or (0.1 if synthetic else 1)', TRAIN,
     "op3d train --data ... without --tick prints a status line (and counts --snap ticks) every kimg "
     "instead of every 4, so snapshots come 4 times as often"),
    ("training/cli.py", "if synthetic and not Path(data).exists() and info.is_main:", "if synthetic and info.is_main:",
     TRAIN, "every op3d train without --data regenerates the built-in synthetic dataset, even when the zip is already "
     "in --outdir (and changes its cache key for metrics)"),
    ("training/cli.py", 'if conditional and opts["body_model"] != "procedural":',
     'if opts["body_model"] != "procedural":', TRAIN,
     "an unconditional op3d train without --data but with a --body-model file is refused with a message about "
     "synthetic bodies"),
    # --- loss wiring, reports, snapshots and the sampler (6) --------------------------------------------------------
    ("training/loss.py", 'stats["Loss/scores/fake"] = float(logits.mean().detach())',
     'stats["Loss/scores/fake"] = float(loss.mean().detach())', TRAIN,
     "stats.jsonl's Loss/scores/fake holds G's loss instead of D's mean score of the fakes"),
    ("training/loss.py", 'stats["Loss/D/loss_real"] =', 'stats["Loss/D/loss_fake"] =', TRAIN,
     "stats.jsonl has no Loss/D/loss_real, and Loss/D/loss_fake shows the real images' loss"),
    ("training/loss.py", 'stats["Loss/r1_penalty"] = float(penalty.mean().detach())',
     'stats["Loss/r1_penalty"] = float((penalty * (self.cfg.r1_gamma / 2)).mean().detach())', TRAIN,
     "Loss/r1_penalty is logged already weighted by gamma / 2, so it changes with --gamma"),
    ("training/report.py", "global_step=int(kimg * 1000)", "global_step=int(kimg)", TRAIN,
     "TensorBoard plots every tick of the first kimg at step 0 (steps in whole kimg instead of images)"),
    ("training/snapshots.py", 'STATE_NAME = "training-state.pt"', 'STATE_NAME = "training_state.pt"', TRAIN,
     "snapshots hold training_state.pt instead of the documented training-state.pt, and snapshots written "
     "before are fine-tuned from instead of continued"),
    ("training/sampler.py", "for i in range(per_rank):", "for i in range(self.batch_size):", TRAIN,
     "with --gpus 2 each rank reads a whole batch's worth of stream positions per step, so the two ranks' "
     "halves overlap and part of every batch is trained on twice"),
    # --- metrics runner (6) ---------------------------------------------------------------------------------------
    ("metrics/run.py", "c = (labels[s:s + batch] if labels is not None else",
     "c = (labels[:batch] if labels is not None else", MET,
     "fid50k_full_random_cameras renders every batch of fakes with the first batch's 8 cameras"),
    ("metrics/run.py", "order = (range(len(dataset.image_names)) if num is None else",
     "order = (range(len(dataset)) if num is None else", MET + TRAIN,
     "--metrics fid50k_full during --mirror 1 training counts every real image twice (num_real doubles)"),
    ("metrics/run.py", "path = given or os.environ.get(ENV_VAR if load is load_detector else VGG_ENV_VAR)",
     "path = given or os.environ.get(ENV_VAR)", MET,
     "pr50k3_full with the VGG16 file from $OP3D_VGG16 keys its real-feature cache by the Inception file (or "
     "fails without $OP3D_INCEPTION), so VGG and Inception features of a dataset share one cache entry"),
    ("metrics/run.py", 'if name.startswith("fid")', 'if name == "fid50k_full"', MET,
     "fid50k_full_random_cameras reports a KID ({'kid': ...}) instead of an FID"),
    ("metrics/run.py", "net, key = _detector(vgg, load_vgg16, device)",
     "net, key = _detector(detector, load_vgg16, device)", MET,
     "pr50k3_full ignores --vgg and tries to load the Inception file (or $OP3D_VGG16) as VGG16"),
    ("metrics/run.py", "cond = conditioning_label(G).to(device)", "cond = c_a", MET,
     "reproj conditions the mapping of its latents on the left view's camera instead of the frontal one"),
    # --- metrics CLI (3) ------------------------------------------------------------------------------------------
    ("metrics/cli.py", "check_metric_names(names, detector, vgg)", "check_metric_names(names, detector)", MET,
     "op3d metrics --metrics pr50k3_full --vgg vgg16.pt is refused as needing the VGG16 detector"),
    ("metrics/cli.py", "G = op3d.load(network, device=dev)", 'G = op3d.load(network, "G", device=dev)', MET,
     "op3d metrics evaluates a snapshot's raw G instead of G_ema (and fails on checkpoints holding only G_ema)"),
    ("metrics/cli.py", '@click.option("--seed", type=click.IntRange(min=0), default=0)',
     '@click.option("--seed", type=click.IntRange(min=0), default=1)', MET,
     "op3d metrics on a snapshot no longer reproduces the value training recorded for it (seed 0) unless "
     "--seed 0 is given"),
    # --- sampling (7) ---------------------------------------------------------------------------------------------
    ("sampling/cli.py", '"truncation_cutoff", type=click.IntRange(min=0), default=None,',
     '"truncation_cutoff", type=click.IntRange(min=0), default=14,', SAMP,
     "op3d sample --trunc 0.5 truncates only the first 14 ws by default, so large networks' later styles are "
     "untruncated"),
    ("sampling/cli.py", 'type=click.Choice(["coarse-to-fine", "dense"]), default="coarse-to-fine"',
     'type=click.Choice(["coarse-to-fine", "dense"]), default="dense"', SAMP + SHAPES,
     "op3d sample --shapes --shape-format ply evaluates every grid point by default (minutes at 256^3) "
     "while --help promises coarse-to-fine"),
    ("sampling/cli.py", '"grid_shape", default="1x1"', '"grid_shape", default="2x2"', SAMP,
     "op3d video --seeds 0-2 without --grid is refused (3 seeds is not a multiple of 4)"),
    ("sampling/cli.py", '@click.option("--trunc", "truncation_psi", type=Finite(), default=1.0)',
     '@click.option("--trunc", "truncation_psi", type=Finite(), default=0.7)', SAMP,
     "op3d video without --trunc renders truncated (psi 0.7) latents, unlike op3d sample"),
    ("sampling/cli.py", '"--w-frames", type=click.IntRange(min=1), default=60',
     '"--w-frames", type=click.IntRange(min=1), default=120', SAMP,
     "op3d video makes 120 frames per keyframe by default, twice the documented 60"),
    ("sampling/cli.py", '"--fps", type=click.IntRange(min=1), default=30',
     '"--fps", type=click.IntRange(min=1), default=60', SAMP,
     "op3d video's default videos play at 60 fps, half as long as before"),
    ("sampling/render.py", "level: float, factor: int = 4,", "level: float, factor: int = 8,", SAMP + SHAPES,
     "coarse-to-fine meshes sample every 8th grid point first, so features a few voxels thin are missed"),
    # --- shapes (1) -----------------------------------------------------------------------------------------------
    ("shapes/export.py", 'f"f {a} {b} {c}\\n"', 'f"f {a} {c} {b}\\n"', SHAPES + SAMP,
     ".obj meshes have their faces wound the other way (inward normals), unlike the .ply of the same shape"),
    # --- generator, super-resolution and renderer wiring (6) ------------------------------------------------------
    ("networks/generator.py", 'sr_antialias=rendering_kwargs["sr_antialias"], w_dim=w_dim,',
     "sr_antialias=True, w_dim=w_dim,", NET,
     "networks whose rendering_kwargs say sr_antialias=False (older EG3D pickles) resize their raw image with "
     "antialiasing anyway, so their images differ from the original's"),
    ("networks/generator.py", "self.neural_rendering_resolution = neural_rendering_resolution",
     "self.neural_rendering_resolution = 64", NET + SAMP,
     "Generator(neural_rendering_resolution=128) (e.g. a 512 model trained at 128) renders its raw image at 64"),
    ("networks/generator.py", '"image_raw": rgb_image,', '"image_raw": feature_image[:, :3],', NET,
     "legacy_raw_alias networks (released 2X / 4X models) return the clean raw image instead of the original's "
     "in-place-modified one"),
    ("networks/superresolution.py", "(128, 64, 256, 2)], True, True)", "(128, 64, 256, 2)], False, True)", NET,
     "SuperresolutionHybrid4X downsamples a 256 neural rendering to 128 before its blocks instead of passing "
     "it through as the original does"),
    ("rendering/renderer.py", "ray_range=ray_range, depth_range=depth_range)", "ray_range=ray_range)",
     REND + COND, "pose-conditional renders clamp each hit ray's depth to its samples' range, not to the scene range "
     "joined with its box, so depths of rays through a body's box edge differ"),
    ("rendering/renderer.py", 'clamp_mode: str = "softplus"', 'clamp_mode: str = "none"', REND + NET,
     "every preset without an explicit clamp_mode (ffhq, afhq, shapenet ...) renders raw sigma as density "
     "instead of softplus(sigma - 1)"),
]
