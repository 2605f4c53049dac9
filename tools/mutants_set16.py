"""A sixteenth, independently written set of planted one-line bugs for tools/mutation_check.py, spread over the
whole package: mapping-layer gains and truncation, synthesis and plane-head wiring, the pose-conditional
sampler choice, camera rays and the importance sampler, chunked rendering, KID / IS / SWD / reprojection
details, training options and pose-conditional regularization, shape lattices and .mrc reading, sampling cameras and
options, lattice plane sampling, PARE camera import and posed-body transforms, and FIR resampling.

    python tools/mutation_check.py --mutants tools/mutants_set16.py --out /tmp/mutation_set16.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no source fragment mutated here is
mentioned in mutation_check.py or mutants_set2.py ... mutants_set15.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- networks (6) ---------------------------------------------------------------------------------------------
    ("networks/layers.py", "self.bias_gain = lr_multiplier", "self.bias_gain = 1", NET,
     "fully connected biases ignore lr_multiplier, so the mapping network of a trained checkpoint (lr 0.01) adds "
     "100x its biases and maps every z to a different w"),
    ("networks/layers.py", "if self.num_ws is None or truncation_cutoff is None:",
     "if self.num_ws is None or truncation_cutoff is not None:", NET + SAMP,
     "--trunc-cutoff is ignored: with a cutoff every w is truncated, not only the first ones"),
    ("networks/synthesis.py", "x = self.conv1(x, ws[:, 0], fused_modconv=fused_modconv, noise_mode=noise_mode)",
     "x = self.conv1(x, ws[:, 1], fused_modconv=fused_modconv, noise_mode=noise_mode)", NET,
     "the 4x4 constant block's convolution takes the next block's w (tri-plane) or fails with an index error "
     "(OrthoPlanes), so planes differ from the original for the same ws"),
    ("networks/synthesis.py", "head_w_dim=w_dim + 2 * fourier_L + 1 if orthoplanes else w_dim",
     "head_w_dim=w_dim + 2 * fourier_L if orthoplanes else w_dim", NET,
     "OrthoPlanes plane heads are built one style input short (the raw plane position is forgotten), so building "
     "or loading an OrthoPlanes generator fails with a shape mismatch"),
    ("networks/generator.py", "legacy_eg3d_axes=self.legacy_axes, impl=impl",
     "legacy_eg3d_axes=False, impl=impl", NET,
     "imported EG3D tri-plane checkpoints render with the corrected plane axes instead of EG3D's projection and "
     "look scrambled, while their density grids still use the legacy axes"),
    ("networks/conditional.py", 'chosen = impl if impl != "auto" else ("gather" if eikonal else "grid_sample")',
     'chosen = impl if impl != "auto" else ("grid_sample" if eikonal else "gather")', COND + TRAIN,
     "the pose-conditional eikonal term goes through grid_sample, whose 3-D backward is not twice differentiable, "
     "so pose-conditional training fails in its regularization phase"),
    # --- rendering (6) --------------------------------------------------------------------------------------------
    ("rendering/rays.py", "z = torch.ones_like(x)", "z = -torch.ones_like(x)", REND,
     "camera rays point backwards (OpenGL's -z instead of OpenCV's +z), so renders see nothing of the object "
     "from dataset cameras"),
    ("rendering/rays.py", "world = torch.bmm(cam2world, cam_points.transpose(1, 2))",
     "world = torch.bmm(cam2world.transpose(1, 2), cam_points.transpose(1, 2))", REND,
     "ray directions are rotated by the inverse camera rotation (and shifted), so any non-frontal camera looks "
     "the wrong way"),
    ("rendering/samplers.py", "densities = torch.cat([densities1, densities2], dim=-2)",
     "densities = torch.cat([densities2, densities1], dim=-2)", REND,
     "after importance sampling the merged densities no longer belong to their depths, so renderings and depth "
     "maps come out blotchy"),
    ("rendering/samplers.py", "u = torch.linspace(0, 1, n, device=depths.device).expand(B * R, n)",
     "u = torch.rand(B * R, n, device=depths.device)", REND + SAMP,
     "deterministic rendering still draws random importance samples, so two renders of the same latent and "
     "camera differ"),
    ("rendering/marcher.py", "alpha = 1 - torch.exp(-densities * deltas)", "alpha = 1 - torch.exp(-densities)",
     COND + REND,
     "the released pose-conditional marcher ignores the sample spacing (and the 1e9 last interval), so imported "
     "pose-conditional checkpoints render translucent bodies"),
    ("rendering/renderer.py", "torch.cat(p, dim=1) for p in zip(*parts)", "torch.cat(p, dim=0) for p in zip(*parts)",
     REND + SAMP,
     "rendering with --chunk stacks the chunks along the batch instead of the rays, so chunked renders have the "
     "wrong shape and fail to reshape into images"),
    # --- metrics (6) ----------------------------------------------------------------------------------------------
    ("metrics/frechet.py", "m = min(min(real.shape[0], fake.shape[0]), max_subset_size)",
     "m = min(real.shape[0], fake.shape[0])", MET,
     "KID ignores max_subset_size and always uses the largest possible subsets, so its value and cost differ from "
     "StyleGAN's 1000-sample subsets"),
    ("metrics/inception_score.py", "def inception_score(probs: np.ndarray, splits: int = 10)",
     "def inception_score(probs: np.ndarray, splits: int = 1)", MET,
     "is50k uses a single split by default, so its standard deviation is always 0 and the mean differs from "
     "the 10-split protocol"),
    ("metrics/swd.py", "cols = (xs[..., None] + d).unsqueeze(-2)", "cols = (ys[..., None] + d).unsqueeze(-2)", MET,
     "SWD patches are taken only along the image diagonal (columns reuse the row offsets), so SWD misses most "
     "of each image"),
    ("metrics/swd.py", "pb, _ = torch.sort(b @ dirs, dim=0)", "pb, _ = torch.sort(b @ dirs, dim=1)", MET,
     "the second set's projections are sorted across directions instead of across descriptors, so SWD between "
     "identical image sets is not 0"),
    ("metrics/reprojection.py", "R, t = cam2world[:, :3, :3], cam2world[:, :3, 3]",
     "R, t = cam2world[:, :3, :3].transpose(1, 2), cam2world[:, :3, 3]", MET,
     "reprojection rotates world points into view B with the camera rotation instead of its inverse, so any "
     "rotated camera projects to the wrong pixels and a consistent scene gets a large reprojection error"),
    ("metrics/run.py", "fake.add(images.double() / 127.5 - 1)", "fake.add(images.double() / 255)", MET,
     "the swd metric compares fakes scaled to [0, 1] with reals in [-1, 1], inflating SWD for any generator"),
    # --- training (6) ---------------------------------------------------------------------------------------------
    ("training/loss.py", "return torch.zeros_like(c)", "return c", TRAIN,
     "without generator pose conditioning the mapping network is still fed the real camera, so training differs "
     "from EG3D's c_gen_conditioning_zero runs"),
    ("training/loss.py", "draw = self._rand(1, 1, device=c.device).expand(c.shape[0], 1)",
     "draw = self._rand(c.shape[0], 1, device=c.device)", TRAIN,
     "the density regularizer swaps cameras per sample instead of once per batch, so its random stream and "
     "conditioning differ from the original"),
    ("training/loss.py", "reg_weight = (self.cfg.eikonal_weight + self.cfg.sdf_prior_weight) if conditional "
     "else self.cfg.density_reg", "reg_weight = self.cfg.density_reg", TRAIN + COND,
     "pose-conditional training decides whether to run the eikonal / SDF-prior phase from --density_reg, so "
     "--density_reg 0 silently drops the SDF regularizers"),
    ("training/loop.py", "G.deterministic = cfg.deterministic", "G.deterministic = False", TRAIN,
     "training with deterministic=True still jitters the ray samples and draws random importance samples, so "
     "two identical deterministic runs give different networks"),
    ("training/loop.py", "opt.zero_grad(set_to_none=True)", "pass", TRAIN,
     "gradients are never cleared, so every optimizer step applies the sum of all gradients so far and training "
     "diverges"),
    ("training/cli.py", 'density_reg=opts["density_reg"], density_reg_p_dist=opts["density_reg_p_dist"],',
     'density_reg=opts["density_reg"],', TRAIN,
     "op3d train ignores --density_reg_p_dist and always perturbs density-regularizer points by the default 0.004"),
    # --- shapes (5) -----------------------------------------------------------------------------------------------
    ("shapes/grid.py", "lattice_points(ticks, 0, resolution ** 3)", "lattice_points(ticks, 0, resolution ** 3 - 1)",
     SHAPES, "grid_points leaves out the last grid point, so N^3 grids cannot be reshaped from it"),
    ("shapes/grid.py", "out[s:s + step] = fn((ticks[0][s:s + step].to(device), ty, tz))",
     "out[s:s + step] = fn((ticks[0][s:s + step].to(device), tz, ty))", SHAPES + SAMP,
     "slab-evaluated density grids (the fast path of op3d sample --shapes) have their y and z axes swapped, so "
     "exported volumes and meshes lie on their side"),
    ("shapes/grid.py", "lattice_points(ticks, s, min(s + chunk, total))", "lattice_points(ticks, s, s + chunk)",
     SHAPES + SAMP, "point-wise density grids whose size is not a multiple of the chunk fail with an index error "
     "on the last chunk"),
    ("shapes/grid.py", "grown[(slice(None),) * axis + (slice(1, None),)] |= cells[(slice(None),) * axis + "
     "(slice(None, -1),)]", "pass", SHAPES + SAMP,
     "coarse-to-fine meshing grows the refined cells only toward lower indices, so faces of straddling cells are "
     "interpolated and meshes get seams compared with the dense grid"),
    ("shapes/export.py", "[mrc.header.origin.x, mrc.header.origin.y, mrc.header.origin.z]",
     "[mrc.header.origin.z, mrc.header.origin.y, mrc.header.origin.x]", SHAPES + SAMP,
     "read_mrc returns the origin with x and z swapped, so volumes read back from .mrc files are shifted"),
    # --- sampling (5) ---------------------------------------------------------------------------------------------
    ("sampling/views.py", 'rk.get("avg_camera_radius", 2.7)', 'rk.get("camera_radius", 2.7)', SAMP + MET,
     "sampling, videos and random-camera metrics ignore the preset's average camera radius and always orbit at "
     "2.7 (AFHQ, ShapeNet and body presets are framed wrongly)"),
    ("sampling/views.py", 'return float(G.rendering_kwargs.get("avg_camera_focal", fov_to_focal(DEFAULT_FOV)))',
     "return fov_to_focal(DEFAULT_FOV)", SAMP + MET,
     "without --fov-deg, sampling and metrics use the face field of view for every preset instead of the "
     "preset's average focal"),
    ("sampling/render.py", 'c = conditioning_label(G, **({} if fov_deg is None else {"fov_deg": fov_deg})).to(device)',
     "c = conditioning_label(G).to(device)", SAMP,
     "--fov-deg changes the rendering cameras but not the camera the mapping network is conditioned on, unlike "
     "EG3D's gen_samples"),
    ("sampling/cli.py", "rendering.seed_ws(G, seed_list, truncation_psi, truncation_cutoff",
     "rendering.seed_ws(G, seed_list, 1.0, truncation_cutoff", SAMP,
     "op3d sample ignores --trunc and always renders untruncated latents"),
    ("sampling/cli.py", "options.depth_resolution = max(3, int(options.depth_resolution * sample_mult))",
     "options.depth_resolution = max(3, int(options.depth_resolution))", SAMP,
     "op3d video --sample-mult scales only the importance samples, not the coarse ones"),
    # --- planes (2) -----------------------------------------------------------------------------------------------
    ("planes/sampling.py", "g = [ticks[m].to(planes.dtype) * (2 / box_warp) for m in dims]",
     "g = [ticks[m].to(planes.dtype) * (1 / box_warp) for m in dims]", NET + SHAPES + SAMP,
     "tri-plane density grids read the planes at half scale, so exported volumes and meshes of tri-plane models "
     "are blown up 2x and disagree with the renderings"),
    ("planes/sampling.py", "(weight * valid).to(dtype)[:, None]", "weight.to(dtype)[:, None]", NET + SHAPES + SAMP,
     "the lattice path's plane-depth interpolation clamps out-of-range neighbours instead of zero padding, so "
     "OrthoPlanes density grids differ from point sampling near the outer planes"),
    # --- conditioning (2) -----------------------------------------------------------------------------------------
    ("conditioning/pare.py", "focal = 1 / (2 * math.tan(math.radians(fov_deg) / 2))",
     "focal = 1 / (2 * math.tan(math.radians(fov_deg)))", COND + ["test_pare.py"],
     "PARE imports use the full field of view where the half angle belongs, so cameras get about half the focal "
     "length and bodies are placed at the wrong depth"),
    ("conditioning/posed.py", 'vertex_transforms=_translate(out["T"], transl),', 'vertex_transforms=out["T"],', COND,
     "per-vertex transforms of posed bodies leave out the body translation, so inverse LBS maps points near a "
     "translated body to the wrong canonical place"),
    # --- ops (2) --------------------------------------------------------------------------------------------------
    ("ops/upfirdn2d.py", "return x[:, :, ::downy, ::downx]", "return x[:, :, 1::downy, 1::downx]", NET,
     "FIR downsampling keeps the odd pixels instead of the even ones, shifting every discriminator feature map "
     "by half a pixel"),
    ("ops/conv2d_resample.py", "px0 += (fw + up - 1) // 2", "px0 += (fw + up) // 2", NET,
     "upsampling convolutions pad one extra column on the left, so synthesis layers that upsample produce "
     "shifted or wrongly sized outputs"),
]
