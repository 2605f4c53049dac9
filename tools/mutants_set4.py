"""A fourth, independently written set of planted one-line bugs for tools/mutation_check.py.

    python tools/mutation_check.py --mutants tools/mutants_set4.py --out /tmp/mutation_set4.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no fragment occurs in
mutation_check.py, mutants_set2.py or mutants_set3.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # ---------------------------------------------------------------- networks/generator.py
    ("networks/generator.py", "res = neural_rendering_resolution or self.neural_rendering_resolution",
     "res = self.neural_rendering_resolution", NET + REND,
     "synthesis(neural_rendering_resolution=...) ignored: raw image / depth always at the model's stored resolution"),
    ("networks/generator.py", "if self.legacy_raw_alias and aliased_raw is not None:",
     "if aliased_raw is not None:", NET,
     "new (non-legacy) models return the SR block's in-place-modified raw image as image_raw"),
    # ---------------------------------------------------------------- networks/decoder.py
    ("networks/decoder.py", "w2 = last.weight[0].to(x.dtype) * last.weight_gain",
     "w2 = last.weight[1].to(x.dtype) * last.weight_gain", NET + SHAPES + SAMP,
     "decoder.sigma (density grids) reads the first colour row instead of the density row: wrong shapes/meshes"),
    # ---------------------------------------------------------------- networks/layers.py
    ("networks/layers.py", "y = normalize_2nd_moment(self.embed(", "y = (self.embed(", NET + TRAIN,
     "camera embedding not 2nd-moment normalized: G mapping / D cmap differ from EG3D checkpoints"),
    ("networks/layers.py", "x = torch.cat([self.w_avg.lerp(x[:, :truncation_cutoff], truncation_psi),",
     "x = torch.cat([x[:, :truncation_cutoff].lerp(self.w_avg, truncation_psi),", NET + SAMP,
     "truncation with a cutoff pulls the first ws by 1 - psi instead of psi toward w_avg"),
    # ---------------------------------------------------------------- networks/synthesis.py
    ("networks/synthesis.py", "plane_head_inputs(ws[:, w_idx], ", "plane_head_inputs(ws[:, w_idx + 1], ", NET,
     "OrthoPlanes plane heads styled by the block's second w instead of its first: checkpoints render wrongly"),
    ("networks/synthesis.py", "x = self.conv1(x, ws[:, 1], ", "x = self.conv1(x, ws[:, 0], ", NET,
     "both convs of a block use the same w: style mixing / checkpoints give different planes and SR images"),
    ("networks/synthesis.py", "resample_filter=self.resample_filter, flip_weight=(self.up == 1),",
     "resample_filter=self.resample_filter, flip_weight=True,", NET,
     "upsampling synthesis convs use a flipped kernel (transposed-conv convention lost): wrong planes"),
    # ---------------------------------------------------------------- networks/superresolution.py
    ("networks/superresolution.py", "x = F.interpolate(x, size=shape, mode=\"bilinear\", align_corners=False",
     "x = F.interpolate(x, size=shape, mode=\"bilinear\", align_corners=True", NET,
     "feature image resized with align_corners=True (raw rgb with False) when the rendering resolution differs "
     "from the SR input: features shifted against the rgb skip, final images differ from EG3D"),
    # ---------------------------------------------------------------- networks/discriminator.py
    ("networks/discriminator.py", "* (1 / np.sqrt(self.cmap_dim))", "* (1 / self.cmap_dim)", NET + TRAIN,
     "conditional D logits scaled by 1/cmap_dim instead of 1/sqrt(cmap_dim)"),
    ("networks/discriminator.py",
     "x_img = torch.cat([image, resize_raw(img[\"image_raw\"], image.shape[-1])], 1)",
     "x_img = torch.cat([resize_raw(img[\"image_raw\"], image.shape[-1]), image], 1)", NET + TRAIN,
     "dual D input channels swapped (raw first): released D checkpoints score the wrong images"),
    ("networks/discriminator.py", "y = (y - y.mean(dim=0)).square().mean(dim=0)",
     "y = (y - y.mean(dim=0)).square().sum(dim=0)", NET + TRAIN,
     "minibatch-std feature uses the group sum of squares (std x sqrt(G)) instead of the variance"),
    # ---------------------------------------------------------------- rendering
    ("rendering/marcher.py", "depth = torch.sum(weights * depths_mid, -2) / weight_total",
     "depth = torch.sum(weights * depths_mid, -2)", REND,
     "depth not normalized by accumulated opacity: semi-transparent rays report too-near depth"),
    ("rendering/marcher.py", "colors_mid = (colors[:, :, :-1] + colors[:, :, 1:]) / 2",
     "colors_mid = colors[:, :, :-1]", REND,
     "interval colour taken from the near sample instead of the midpoint: images differ from EG3D"),
    ("rendering/samplers.py", "delta = (ray_end - ray_start) / (S - 1)", "delta = (ray_end - ray_start) / S", REND,
     "stratified jitter spans 1/S instead of one bin (fixed ray range): samples bunch toward the near end"),
    ("rendering/samplers.py", "(u - cdf_g[..., 0]) / denom", "(u - cdf_g[..., 1]) / denom", REND,
     "inverse-CDF interpolation from the upper CDF value: importance samples fall before their bin"),
    ("rendering/samplers.py", "torch.gather(densities, -2, order))", "densities)", REND,
     "merged samples: densities left unsorted while depths/colours are sorted: garbage compositing"),
    ("rendering/renderer.py", "jitter = 0.5", "jitter = 0.0", REND + SAMP,
     "deterministic renders sample at bin starts instead of bin centres (differs from EG3D det mode)"),
    ("rendering/rays.py", "half = box_side / 2", "half = box_side", REND,
     "ray/box intersection uses a box twice as large: 'auto' ray ranges too long"),
    # ---------------------------------------------------------------- metrics
    ("metrics/frechet.py", ".clamp_min(0).sqrt().sum()", ".clamp_min(0).sum()", MET,
     "FID uses Tr(S1 S2) instead of Tr sqrt(S1 S2): wrong (often negative) FID"),
    ("metrics/frechet.py", "n = real.shape[1]", "n = real.shape[0]", MET,
     "KID kernel normalized by the number of samples instead of the feature dimension"),
    ("metrics/inception_score.py", "np.log(part.mean(0, keepdims=True))", "np.log(p.mean(0, keepdims=True))", MET,
     "IS split scores use the global marginal p(y) instead of each split's"),
    ("metrics/precision_recall.py", "recall = _coverage(f, _manifold_radii(f, k, batch), r, batch)",
     "recall = _coverage(f, _manifold_radii(r, k, batch), r, batch)", MET,
     "recall uses the reals' k-NN radii around fake points (copy-paste): wrong recall or shape error"),
    ("metrics/swd.py", "out.append(cur - up)", "out.append(cur)", MET,
     "Laplacian pyramid keeps Gaussian (low-pass) levels instead of band-pass: SWD values differ from ProGAN"),
    ("metrics/reprojection.py", "torch.einsum(\"bji,bpj->bpi\", R, points - t[:, None])",
     "torch.einsum(\"bij,bpj->bpi\", R, points - t[:, None])", MET,
     "world->camera uses R instead of R^T: consistent scenes get a large reprojection error"),
    ("metrics/run.py", "total_err + err * n", "total_err + err", MET,
     "reproj error averaged per batch but divided by the image count: reported error shrinks with batch"),
    # ---------------------------------------------------------------- training
    ("training/loss.py", "max(1 - cur_nimg / (cfg.blur_fade_kimg * 1e3), 0)",
     "max(1 - cur_nimg / cfg.blur_fade_kimg, 0)", TRAIN,
     "blur fade measured in images instead of kimg: the D blur vanishes after a few hundred images"),
    ("training/loss.py", ".div(sigma).square().neg().exp2()", ".div(sigma).square().neg().exp()", TRAIN,
     "blur kernel exp(-x^2) instead of the original 2^(-x^2): narrower blur than EG3D"),
    ("training/loss.py", "return min(cur_nimg / (fade_kimg * 1e3), 1.0)", "return min(cur_nimg / fade_kimg, 1.0)",
     TRAIN, "pose-swap / resolution fades finish 1000x too early"),
    ("training/loop.py", "gain=interval,", "gain=1,", TRAIN,
     "lazy regularization not scaled by its interval: R1 / density reg 4-16x too weak"),
    ("training/loop.py", "ema_nimg = min(ema_nimg, cur_nimg * ema_rampup)",
     "ema_nimg = max(ema_nimg, cur_nimg * ema_rampup)", TRAIN,
     "EMA ramp-up disabled: G_ema stays near its initialization early in training"),
    ("training/sampler.py", "manual_seed(self.seed * 1_000_003 + epoch)", "manual_seed(self.seed * 1_000_003)",
     TRAIN, "every pass over the dataset repeats the same permutation"),
    ("training/report.py", "d = 1 - (d - lo) / (hi - lo).clamp_min(1e-8)", "d = (d - lo) / (hi - lo).clamp_min(1e-8)",
     TRAIN + SAMP, "depth images inverted: near is black instead of white"),
    # ---------------------------------------------------------------- shapes
    ("shapes/grid.py", "v[:, :, :pad], v[:, :, -pad:] = value, value", "v[:, :, :pad] = value", SHAPES + SAMP,
     "border trimming skips the far z face: plane-boundary artifacts left in meshes"),
    ("shapes/export.py", "for a, b, c in faces + 1)", "for a, b, c in faces)", SHAPES,
     ".obj faces written 0-based: viewers reject the file or connect the wrong vertices"),
    ("shapes/export.py", "return (verts + grid.origin).astype(np.float32)", "return verts.astype(np.float32)",
     SHAPES, "mesh vertices not shifted by the grid origin: meshes offset from where the generator puts them"),
    # ---------------------------------------------------------------- sampling
    ("sampling/views.py", "seeds.extend(range(lo, hi + 1))", "seeds.extend(range(lo, hi))", SAMP,
     "--seeds 0-3 renders 0, 1, 2 only (range end dropped)"),
    ("sampling/render.py", "if trim and body is None else grid", "if body is None else grid", SAMP + SHAPES,
     "density_grid(trim=False) still trims the border"),
    ("sampling/video.py", "(-p0 + 3 * p1 - 3 * p2 + p3) * f ** 3", "(-p0 + 3 * p1 - 3 * p2 - p3) * f ** 3", SAMP,
     "Catmull-Rom cubic term sign: interpolation misses the next key, videos jump at every key"),
    # ---------------------------------------------------------------- planes
    ("planes/sampling.py", "t = (g + 1) * (size / 2) - 0.5", "t = (g + 1) * ((size - 1) / 2)", NET + REND + SHAPES,
     "plane sampling uses align_corners=True texel mapping: features shifted vs grid_sample / checkpoints"),
]
