"""A fifteenth, independently written set of planted one-line bugs for tools/mutation_check.py, spread over the
whole package: generator and discriminator wiring, the skip-sum bias, mapping-input normalization, the decoder's
density-only path, the renderer's fine pass, marchers and the importance sampler, plane encodings and lattice
sampling, the fast upsampling's backward, metric estimators and their inputs, the GAN loss phases, EMA and
sampler schedules, snapshot discovery, shape grids and mesh export, and sampling cameras and video modes.

    python tools/mutation_check.py --mutants tools/mutants_set15.py --out /tmp/mutation_set15.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no source fragment mutated here is
mentioned in mutation_check.py or mutants_set2.py ... mutants_set14.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- networks -------------------------------------------------------------------------------------------------
    ("networks/generator.py", "origins, dirs = rays_from_cameras(c, res)",
     "origins, dirs = rays_from_cameras(c, self.neural_rendering_resolution)", NET + REND,
     "synthesis(neural_rendering_resolution=...) casts rays at the generator's own resolution and fails to reshape "
     "(or renders the wrong size) whenever a caller asks for another one"),
    ("networks/generator.py", "box_warp, legacy_unscaled_axes=self.legacy_axes, impl=impl",
     "box_warp, legacy_unscaled_axes=False, impl=impl", NET,
     "imported original OrthoPlanes checkpoints (legacy_axes) render with scaled axes 1-2 and look wrong, while their "
     "density grids (which still honour the flag) disagree with the renderings"),
    ("networks/synthesis.py", "resample_filter, bias=bias)", "resample_filter)", NET,
     "the fast skip-sum path drops the plane head's bias in every block after the first, so planes differ from the "
     "reference path and trained checkpoints render differently"),
    ("networks/discriminator.py", "x = y + x", "x = y - x", NET,
     "the discriminator's residual blocks subtract the main branch from the skip, so its logits differ from EG3D's "
     "for the same weights"),
    ("networks/layers.py", "def normalize_2nd_moment(x: torch.Tensor, dim: int = 1,",
     "def normalize_2nd_moment(x: torch.Tensor, dim: int = 0,", NET + COND,
     "z and the camera embedding are normalized across the batch instead of per sample, so a latent's image "
     "depends on the batch it is rendered in"),
    ("networks/layers.py", "return torch.promote_types(ref.dtype, torch.float32)", "return torch.float32", NET,
     "float64 inputs are silently computed in float32 in the synthesis and discriminator blocks, breaking double "
     "precision checks and mixing dtypes"),
    ("networks/decoder.py", "torch.mm(x[s:s + chunk], w1.t(), out=h).add_(b1)",
     "torch.mm(x[s:s + chunk], w1.t(), out=h)", NET + SHAPES,
     "decoder.sigma (the density-grid path) forgets the hidden layer's bias, so exported density volumes and "
     "meshes disagree with the densities the renderer sees"),
    # --- rendering ------------------------------------------------------------------------------------------------
    ("rendering/renderer.py", "colors_f, densities_f = _evaluate(field, origins, dirs, fine, options, generator)",
     "colors_f, densities_f = _evaluate(field, origins, dirs, depths, options, generator)", REND,
     "without autograd (sampling, metrics) the fine pass evaluates the field at the coarse depths but files the "
     "results under the importance depths, blurring renderings (or failing when the two counts differ)"),
    ("rendering/samplers.py", "pdf = weights / torch.sum(weights, -1, keepdim=True)",
     "pdf = weights / torch.sum(weights)", REND,
     "the importance pdf is normalized over all rays at once, so each ray's CDF stops far below 1 and nearly all "
     "fine samples pile up at the end of the coarse range"),
    ("rendering/marcher.py", "lo, hi = (torch.min(depths), torch.max(depths))",
     "lo, hi = (torch.max(depths), torch.min(depths))", REND,
     "the depth clamp range is swapped, so every depth map becomes a constant image"),
    ("rendering/samplers.py", "torch.where(denom < eps,", "torch.where(denom > eps,", REND,
     "inverse-CDF sampling divides by 1 in every ordinary bin (and by ~0 in empty ones), so importance samples land "
     "outside their bins and renderings change"),
    ("rendering/renderer.py", "start = torch.where(valid, start, start[valid].min())",
     "start = torch.where(valid, start, start[valid].max())", REND + COND,
     "with ray_start 'auto' (shhq, body presets) rays that miss the box start at the farthest entry instead of the "
     "nearest, changing their samples and the depth clamp range of the image"),
    # --- planes and ops -------------------------------------------------------------------------------------------
    ("planes/encoding.py", "for i in range(L):", "for i in range(1, L + 1):", NET,
     "the plane-position Fourier encoding starts at frequency 2 pi instead of pi, so OrthoPlanes heads get "
     "different styles and released checkpoints render differently"),
    ("planes/sampling.py", "torch.broadcast_tensors(g_u[None, :], g_v[:, None])",
     "torch.broadcast_tensors(g_v[:, None], g_u[None, :])", NET + SHAPES,
     "the separable lattice sampler reads the planes' W axis with the H coordinate, so density grids and meshes "
     "are transposed garbage compared with point sampling"),
    ("planes/sampling.py", "out.add_(t.unsqueeze(({0, 1, 2} - {m_u, m_v}).pop()), alpha=scale)",
     "out.add_(t.unsqueeze(({0, 1, 2} - {m_u, m_v}).pop()))", NET + SHAPES,
     "tri-plane density grids sum the three planes instead of averaging them, so shapes of tri-plane models "
     "disagree with their renderings"),
    ("ops/upfirdn2d.py", "grad[:, :, :, 0] -= 0.25", "grad[:, :, :, 0] += 0.25", NET,
     "the fast 2x upsampling's backward gets the first border column's correction with the wrong sign: wrong "
     "gradients into the synthesis network while the forward pass looks fine"),
    # --- metrics --------------------------------------------------------------------------------------------------
    ("metrics/swd.py", "ys = torch.randint(0, H - patch + 1,", "ys = torch.randint(0, H - patch,", MET,
     "SWD never samples patches touching the bottom row and fails outright on pyramid levels no taller than the "
     "patch"),
    ("metrics/reprojection.py", "(uv <= 1).all(-1)", "(uv <= 1).any(-1)", MET,
     "reprojection counts points that project outside view B on one axis as visible, inflating the error and the "
     "visible fraction"),
    ("metrics/run.py", "real.add(images.double() / 127.5 - 1)", "real.add(images.double() / 255 - 1)", MET,
     "swd compares reals scaled to [-1, 0] with fakes in [-1, 1], reporting a large distance even for a perfect "
     "generator"),
    ("metrics/run.py", "n = min(batch, num - s)", "n = batch", MET,
     "reproj renders a full last batch even when num is not a multiple of the batch, so the averages are over the "
     "wrong count"),
    ("metrics/run.py", "view_labels(G, [(yaw, 0.0)])", "view_labels(G, [(-yaw, 0.0)])", MET,
     "reproj compares each view with itself, reporting near-zero error for any generator"),
    ("metrics/inception.py", 'size=(299, 299), mode="bilinear", align_corners=False)',
     'size=(299, 299), mode="bilinear", align_corners=True)', MET,
     "Inception features come from differently resized images, so FID/KID/IS drift from the reference values"),
    ("metrics/run.py", "_features_of(fakes(), net.probabilities, device)", "_features_of(fakes(), net, device)", MET,
     "is50k treats pool3 features as class probabilities and reports a meaningless Inception Score"),
    # --- training -------------------------------------------------------------------------------------------------
    ("training/loss.py", "loss_real = F.softplus(-logits)", "loss_real = F.softplus(logits)", TRAIN,
     "the discriminator is trained to call real images fake; Loss/D/loss_real is wrong and training diverges"),
    ("training/loss.py", 'do_Dr1 = phase in ("Dreg", "Dboth")', 'do_Dr1 = phase in ("Dreg", "Dmain")', TRAIN,
     "R1 is applied in every Dmain step (unscaled) as well as in Dreg, and not at all in Dboth"),
    ("training/loop.py", "cfg.batch * 10 / 32", "cfg.batch * 10 / 16", TRAIN,
     "the default EMA half-life is twice EG3D's, so G_ema lags the generator more than it should"),
    ("training/cli.py", "16 if conditional else 32)", "32 if conditional else 16)", TRAIN,
     "the synthetic demos' default neural rendering resolution is swapped (16 for heads, 32 for bodies)"),
    ("training/sampler.py", "position += self.batch_size", "position += per_rank", TRAIN,
     "with several processes consecutive batches overlap, so ranks re-read each other's images and some are never "
     "seen"),
    ("training/snapshots.py", "and (p / STATE_NAME).is_file()]", "]", TRAIN,
     "resume picks the newest snapshot directory even when it is an incomplete copy without training state, and "
     "then fails to load it"),
    ("training/report.py", "lo = d.amin(dim=(1, 2, 3), keepdim=True)", "lo = d.amin()", TRAIN + SAMP,
     "depth images are normalized with the whole batch's nearest depth instead of each image's own, so depth "
     "strips and fakes grids look washed out"),
    # --- shapes ---------------------------------------------------------------------------------------------------
    ("shapes/export.py", '("i", "<i4", 3)', '("i", "<i8", 3)', SHAPES,
     "binary .ply faces are written as 64-bit indices under an 'int' header, so mesh viewers read garbage faces"),
    ("shapes/grid.py", "lo, hi = np.minimum.reduce(corners), np.maximum.reduce(corners)",
     "lo, hi = np.maximum.reduce(corners), np.minimum.reduce(corners)", SHAPES,
     "coarse-to-fine meshing marks no cell as straddling the level, so the mesh comes from the coarse interpolation "
     "alone and loses detail"),
    ("shapes/grid.py", "values = a + (b - a) * t.reshape(shape)", "values = b + (a - b) * t.reshape(shape)", SHAPES,
     "the coarse grid's linear upsampling interpolates from the wrong end of each cell, so coarse-to-fine grids "
     "are shifted by a cell away from the surface and meshes get spurious pieces"),
    # --- sampling -------------------------------------------------------------------------------------------------
    ("sampling/render.py", 'G.sample_density(pts, planes=planes)["sigma"]',
     'G.sample_density(pts, planes=planes)["rgb"]', SAMP + SHAPES,
     "the point path of density grids (reference ops, coarse-to-fine refinement) returns a colour channel instead "
     "of density, so meshes and reference volumes are wrong"),
    ("sampling/video.py", '"raw": "image_raw"', '"raw": "image"', SAMP,
     "op3d video --mode raw writes the super-resolved image instead of the raw neural rendering"),
    ("sampling/views.py", "DEFAULT_FOV = 18.837", "DEFAULT_FOV = 18.37", SAMP,
     "sampling, videos and metrics use a narrower default field of view than FFHQ's cameras, changing the "
     "conditioning camera and zooming every render"),
]
