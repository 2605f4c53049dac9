"""A twenty-seventh, independently written set of planted one-line bugs for tools/mutation_check.py: set 27, 40
mutants written without reading the tests, aimed at the core math and the paths every ordinary run goes through,
by area:

- networks and ops (9): the FC layer's linear fast path, the skip-sum head's feature layout and its upsampled
  skip image, the batched K-plane head's output layout, the fast 2x upsampling's bias and its backward, the
  downsampling convolution's kernel orientation, D's channel widths, the generator's plane-feature aggregation;
- planes (5): the orthoplane axis orders, the gather sampler's corner bits, the grid_sample reference's mode, the
  separable grid sampler's resampling and the tri-plane lattice's axis order;
- rendering (7): the released marcher's transmittance, per-ray boxes behind the camera, density-noise draws, the
  single-backward switch, disparity-space sampling, the slab test's misses, the inverse-CDF interpolation base;
- metrics (7): SWD's blur kernel and projection directions, reprojection's camera matrix, Inception's pooling
  stride and InceptionA's branch order, pr50k3's result names, the real images drawn for SWD;
- training loss (6): the blur cut-off, style-mixing's no-mix cutoff, the Dmain phase set, G's fake logits'
  cameras, the normal draws, D's fake-loss reduction;
- shapes (3): the slab step's floor, the point-path slab layout, the mesh level's range check;
- cameras (3): the look-at camera's right axis (a roll), the label x-flip, camera distances.

    python tools/mutation_check.py --mutants tools/mutants_set27.py --out /tmp/mutation_set27.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no fragment here contains, or is
contained in, a fragment of the same file in mutation_check.py or mutants_set2.py ... mutants_set26.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- networks and ops (9) -------------------------------------------------------------------------------------
    ("networks/layers.py", 'if self.activation == "linear" and b is not None and x.ndim == 2:',
     "if b is not None and x.ndim == 2:", NET + TRAIN,
     "every 2-D FC layer with a bias takes the addmm shortcut, so the mapping network's and D's lrelu layers lose "
     "their activation and sqrt(2) gain: ws (and D's scores) come out of a purely linear network"),
    ("networks/synthesis.py", "xt = x.reshape(B, I, H * W).transpose(1, 2)  # [B, HW, I]",
     "xt = x.reshape(B, H * W, I)  # [B, HW, I]", NET,
     "the fast skip-sum head reads the block's features with reshape instead of transpose, so every plane head "
     "mixes channels and pixels: generated planes (and images) are noise-like and differ from op_paths(skip_sum="
     "'reference')"),
    ("networks/synthesis.py", "base = up.permute(0, 2, 3, 1).reshape(B, H * W, K * O)",
     "base = up.permute(0, 3, 2, 1).reshape(B, H * W, K * O)", NET,
     "the fast skip sum adds the upsampled previous skip image transposed (rows and columns swapped), so the "
     "coarse plane content of every block is mirrored about the diagonal"),
    ("ops/modulated_conv.py", "    return y.reshape(B, O, K, H, W)",
     "    return y.reshape(B, K, O, H, W).transpose(1, 2)", NET,
     "the batched K-plane head reads its [O*K] output rows as K-major although they are O-major, so with K > 1 "
     "channels and plane indices are scrambled and the fast head no longer matches OP3D's grouped convolutions"),
    ("ops/upfirdn2d.py", "src = x if bias is None else x + bias.to(x.dtype).reshape(1, -1, 1, 1)", "src = x", NET,
     "the fast 2x upsampling with a bias adds it only through the border fix (0.25 bias on the edges), so skip "
     "planes lose the ToRGB / plane-head bias everywhere inside the border"),
    ("ops/upfirdn2d.py", "[N, C, H // 2, W // 2], False, 2.0, 2.0)", "[N, C, H // 2, W // 2], True, 2.0, 2.0)",
     NET + TRAIN,
     "the backward of the fast 2x upsampling uses the align_corners=True adjoint, so gradients into every skip "
     "image are wrong (gradcheck fails, training follows the wrong direction)"),
    ("ops/conv2d_resample.py", "return _conv(x, w, stride=down, groups=groups, flip_weight=flip_weight)",
     "return _conv(x, w, stride=down, groups=groups, flip_weight=not flip_weight)", NET + TRAIN,
     "downsampling convolutions flip their kernels: D's 3x3 down-2 convolutions compute a convolution instead of "
     "EG3D's correlation, so released discriminators score images differently"),
    ("networks/discriminator.py", "channels = {res: min(channel_base // res, channel_max)",
     "channels = {res: min(channel_base // (2 * res), channel_max)", NET + TRAIN,
     "the discriminator is built half as wide below channel_max as EG3D's, so its parameter shapes no longer "
     "match released discriminators and training uses a weaker D"),
    ("networks/generator.py", "return aggregate_mean(feats)", "return feats.sum(1)", NET + SHAPES + REND,
     "the three axes' plane features are summed instead of averaged, so the decoder sees 3x its features: "
     "renders change and density grids (which average) no longer match sample_density"),
    # --- planes (5) -----------------------------------------------------------------------------------------------
    ("planes/sampling.py", "for axis, order in enumerate(([0, 1, 2], [1, 2, 0], [2, 0, 1]))], dim=1)",
     "for axis, order in enumerate(([0, 1, 2], [2, 0, 1], [1, 2, 0]))], dim=1)", NET + SHAPES,
     "orthoplane axes 1 and 2 are read with each other's coordinate orders, so points sample the wrong planes "
     "and sample_orthoplanes disagrees with orthoplanes_on_grid and with OP3D checkpoints"),
    ("planes/sampling.py", "i, w, v = axes[0][corner & 1]", "i, w, v = axes[0][(corner >> 1) & 1]", NET,
     "the gather sampler takes the W corner from the H bit, so only diagonal corners are read: the fast sampler "
     "no longer matches grid_sample and bilinear features become blocky"),
    ("planes/sampling.py", 'g.to(volumes.dtype), mode="bilinear"', 'g.to(volumes.dtype), mode="nearest"', NET,
     "the grid_sample reference (the default on a GPU) samples planes with nearest neighbour, so GPU renders are "
     "blocky and differ from the gather path"),
    ("planes/sampling.py", "align_corners=False)  # [K, C, n_v, n_u]", "align_corners=True)  # [K, C, n_v, n_u]",
     NET + SHAPES,
     "the separable grid sampler resamples planes with align_corners=True, so density grids and meshes are "
     "slightly shifted and scaled against the point sampler used for rendering"),
    ("planes/sampling.py", "for m in range(3) if m in dims], 0)", "for m in reversed(range(3)) if m in dims], 0)",
     NET + SHAPES,
     "tri-plane density grids put each plane's two lattice axes in the wrong order (transposed planes, or a "
     "broadcast error on slabs)"),
    # --- rendering (7) --------------------------------------------------------------------------------------------
    ("rendering/marcher.py", "cumprod(alpha_shifted, -2)[:, :, :-1]\n    rgb = torch.sum(weights * colors,",
     "cumprod(alpha_shifted, -2)[:, :, 1:]\n    rgb = torch.sum(weights * colors,", REND + COND,
     "the released pose-conditional marcher includes each sample's own alpha in its transmittance, so bodies "
     "render too dark/transparent and depths move"),
    ("rendering/renderer.py", "start = start.clamp_min(0)", "start = start", REND + COND,
     "with a camera inside a body's box, render_in_boxes starts the ray behind the camera and composites what lies "
     "behind it"),
    ("rendering/renderer.py", "if options.density_noise > 0:", "if options.density_noise >= 0:", REND + TRAIN,
     "every field evaluation draws a (zero-weighted) density-noise tensor, consuming the random stream, so seeded "
     "renders get other importance samples than EG3D's and the same seed renders another image"),
    ("rendering/renderer.py", '\\\n        and fast_path("single_backward", origins.device)',
     '\\\n        or fast_path("single_backward", origins.device)', REND + TRAIN + COND,
     "the single-backward coarse pass is used even when asked not to, with density noise and without importance "
     "samples: depth_resolution_importance 0 trains with no gradient through the field"),
    ("rendering/renderer.py", "disparity_space=options.disparity_space_sampling)", "disparity_space=False)", REND,
     "disparity_space_sampling is ignored: stratified samples are always linear in depth"),
    ("rendering/rays.py", "t_far = torch.where(miss, torch.full_like(t_far, -2.0), t_far)",
     "t_far = torch.where(miss, t_far, torch.full_like(t_far, -2.0))", REND + COND,
     "ray_box_limits gives every ray that hits the box t_far = -2, so 'auto' ray ranges and per-body boxes sample "
     "nothing sensible (shhq/body presets render empty)"),
    ("rendering/samplers.py", "return bins_g[..., 0] + ", "return bins_g[..., 1] + ", REND,
     "inverse-CDF samples are interpolated from the upper bin edge, so importance samples land one bin too far "
     "along every ray"),
    # --- metrics (7) ----------------------------------------------------------------------------------------------
    ("metrics/swd.py", "_GAUSS = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 16",
     "_GAUSS = torch.tensor([1.0, 4.0, 6.0, 4.0, 1.0]) / 8", MET,
     "the Laplacian pyramid's blur has gain 2 per axis, so its band-pass levels are not band-pass and SWD values "
     "differ from ProGAN's"),
    ("metrics/swd.py", "dirs = torch.randn(a.shape[1], num_projections",
     "dirs = torch.rand(a.shape[1], num_projections", MET,
     "SWD projects on directions from the positive orthant only (uniform instead of normal draws), not on "
     "uniformly random directions"),
    ("metrics/reprojection.py", "cam2world = c[:, :16].reshape(B, 4, 4)\n",
     "cam2world = c[:, :16].reshape(B, 4, 4).transpose(1, 2)\n", MET,
     "project() reads the camera label column-major: the rotation is transposed and the translation is zero, so "
     "the reprojection error of a consistent scene is large and the visible fraction collapses"),
    ("metrics/inception.py", "        x = F.max_pool2d(x, 3, stride=2)\n", "        x = F.max_pool2d(x, 3, stride=1)\n",
     MET, "the Inception stem's second max pool has stride 1, so features (and FID / KID) no longer match "
     "pytorch-fid's or NVIDIA's detector"),
    ("metrics/inception.py", "torch.cat([self.branch1x1(x), self.branch5x5_2(self.branch5x5_1(x)), b3,",
     "torch.cat([self.branch1x1(x), b3, self.branch5x5_2(self.branch5x5_1(x)),", MET,
     "InceptionA concatenates its 3x3 and 5x5 branches in the wrong order, so later blocks read the wrong channels "
     "and FID features are wrong with the real weights"),
    ("metrics/run.py", '{"pr50k3_full_precision": precision, "pr50k3_full_recall": recall}',
     '{"pr50k3_full_precision": recall, "pr50k3_full_recall": precision}', MET,
     "pr50k3_full reports precision as recall and recall as precision"),
    ("metrics/run.py", "np.random.default_rng(seed + 1).integers(", "np.random.default_rng(seed).integers(", MET,
     "the real images drawn for SWD are exactly the dataset images whose cameras the fakes use (same seed), so "
     "reals and fakes are not independent draws"),
    # --- training loss (6) ----------------------------------------------------------------------------------------
    ("training/loss.py", "    if size <= 0:\n        return image", "    if size <= 1:\n        return image", TRAIN,
     "the blur fade stops blurring while sigma is still in [1/3, 2/3): D sees the radius-1 blurred phase as sharp"),
    ("training/loss.py", "                cutoff = ws.shape[1]\n", "                cutoff = ws.shape[1] - 1\n", TRAIN,
     "with style mixing on, the samples that should not be mixed get the last w from another latent"),
    ("training/loss.py", 'do_Dmain = phase in ("Dmain", "Dboth")', 'do_Dmain = phase in ("Dmain", "Dreg")', TRAIN,
     "D's main loss runs in the lazy R1 phase and not in Dboth, so with lazy R1 D trains twice on fakes per "
     "interval and without it (Dboth) never on the GAN loss"),
    ("training/loss.py", "body=gen_body)\n            logits = self.run_D(gen, gen_c",
     "body=gen_body)\n            logits = self.run_D(gen, real_c", TRAIN,
     "G's fake images are judged by D under the real images' cameras instead of those they were rendered from"),
    ("training/loss.py", 'return torch.randn(x.shape, generator=self.generator, device="cpu").to(x.device)',
     'return torch.rand(x.shape, generator=self.generator, device="cpu").to(x.device)', TRAIN,
     "the loss's normal draws are uniform [0, 1): style-mixing latents, the density regularizer's perturbations "
     "and the near-surface SDF points are all biased"),
    ("training/loss.py", 'loss.mean().mul(gain).backward()\n            stats["Loss/D/loss_fake"]',
     'loss.sum().mul(gain).backward()\n            stats["Loss/D/loss_fake"]', TRAIN,
     "D's fake loss is summed over the batch instead of averaged, so its gradient grows with the batch size"),
    # --- shapes (3) -----------------------------------------------------------------------------------------------
    ("shapes/grid.py", "step = max(1, chunk // (ny * nz))", "step = chunk // (ny * nz)", SHAPES + SAMP,
     "density grids whose y-z slice is larger than the chunk (512^3 with the default chunk) fail with a zero-step "
     "range instead of evaluating one x-slice at a time"),
    ("sampling/render.py", ".reshape(len(t[0]), len(t[1]), len(t[2]))", ".reshape(len(t[2]), len(t[1]), len(t[0]))",
     SHAPES + COND, "coarse-to-fine meshes through the point path (pose-conditional bodies, reference_ops) shape "
     "each slab's values in the reverse axis order: as soon as a slab is thinner than the coarse lattice (the "
     "default chunk at resolution 256) the mesh fails with a broadcast error"),
    ("shapes/export.py", "if not lo < level < hi:", "if not lo <= level <= hi:", SHAPES + SAMP,
     "a --mesh-level equal to the density minimum or maximum is not refused with a clear message and fails inside "
     "marching cubes"),
    # --- cameras (3) ----------------------------------------------------------------------------------------------
    ("data/cameras.py", "right = -torch.nn.functional.normalize(", "right = torch.nn.functional.normalize(",
     SAMP + TRAIN, "look-at cameras are rolled 180 degrees about the view axis (right and down both flip): sampled "
     "views, videos and random-camera metrics render upside down"),
    ("data/cameras.py", "torch.tensor([-1.0, 1.0, 1.0, 1.0], dtype=c.dtype)",
     "torch.tensor([1.0, -1.0, 1.0, 1.0], dtype=c.dtype)", TRAIN + SAMP,
     "x-flipped training images (--mirror) get labels flipped vertically instead of horizontally"),
    ("data/cameras.py", "return c[:, [3, 7, 11]].norm(dim=1)", "return c[:, [12, 13, 14]].norm(dim=1)",
     TRAIN + SAMP, "camera distances are read from the bottom row (zeros), so every dataset is refused as lying "
     "outside its ray range"),
]
