"""A second, independently written set of planted one-line bugs for tools/mutation_check.py.

    python tools/mutation_check.py --mutants tools/mutants_set2.py --out /tmp/mutation_set2.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file; none of these mutants repeats one of its own list.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # ---------------------------------------------------------------- networks/generator.py
    ("networks/generator.py", "p = p.reshape(p.shape[0], 3, self.plane_channels, *p.shape[2:])",
     "p = p.reshape(p.shape[0], self.plane_channels, 3, *p.shape[2:]).transpose(1, 2)", NET + SHAPES,
     "backbone channels split into planes interleaved (channel c*3+a) instead of axis-major: released checkpoints "
     "render noise"),
    ("networks/generator.py",
     "feature_image = feats.permute(0, 2, 1).reshape(B, feats.shape[-1], res, res).contiguous()",
     "feature_image = feats.permute(0, 2, 1).reshape(B, feats.shape[-1], res, res).transpose(2, 3).contiguous()",
     NET + REND + SAMP, "raw/final images transposed (mirrored about the diagonal) while the depth image is not"),
    ("networks/generator.py", "rgb_image = feature_image[:, :3]", "rgb_image = feature_image[:, 1:4]",
     NET + REND, "image_raw taken from feature channels 1..3 (off by one): raw colours wrong, SR input skewed"),
    # ---------------------------------------------------------------- networks/superresolution.py
    ("networks/superresolution.py", "ws = ws[:, -1:, :].repeat(1, 3, 1)", "ws = ws[:, :1, :].repeat(1, 3, 1)",
     NET + SAMP, "super-resolution styled by the first w instead of the last: differs under style mixing / "
                 "truncation cutoff"),
    # ---------------------------------------------------------------- networks/decoder.py
    ("networks/decoder.py", "return out.add_(last.bias[0].to(x.dtype) * last.bias_gain).reshape(B, P, 1)",
     "return out.reshape(B, P, 1)", SHAPES + NET,
     "density-grid fast path drops the output bias: trained models' .mrc / meshes shifted by a constant"),
    # ---------------------------------------------------------------- networks/layers.py
    ("networks/layers.py", "x = torch.cat([x, y], dim=1) if x is not None else y",
     "x = torch.cat([y, x], dim=1) if x is not None else y", NET + COND,
     "mapping network sees [embed(c); z] instead of [z; embed(c)]: original checkpoints give other images"),
    ("networks/layers.py", "x[:, :truncation_cutoff], truncation_psi),\n                               "
     "x[:, truncation_cutoff:]], dim=1)",
     "x[:, :truncation_cutoff + 1], truncation_psi),\n                               "
     "x[:, truncation_cutoff + 1:]], dim=1)", NET + SAMP,
     "truncation cutoff truncates one layer too many"),
    # ---------------------------------------------------------------- networks/discriminator.py
    ("networks/discriminator.py", "y = (y + 1e-8).sqrt().mean(dim=[2, 3, 4])", "y = (y + 1e-8).mean(dim=[2, 3, 4])",
     NET + TRAIN, "minibatch-std layer appends the variance instead of the standard deviation"),
    ("networks/discriminator.py", 'mode="bilinear", align_corners=False, antialias=True)',
     'mode="bilinear", align_corners=False, antialias=False)', NET + TRAIN,
     "raw image upsampled for D without antialiasing (differs when downsampling real images for the raw branch)"),
    # ---------------------------------------------------------------- networks/synthesis.py
    ("networks/synthesis.py", "head_w = ws[:, self.num_conv] if head_w is None else head_w",
     "head_w = ws[:, self.num_conv - 1] if head_w is None else head_w", NET,
     "tri-plane ToRGB styled by the block's last conv w instead of its own: differs whenever ws differ per layer"),
    ("networks/synthesis.py", "bias = self.bias.to(x.dtype).repeat(K)",
     "bias = self.bias.to(x.dtype).repeat_interleave(K)", NET,
     "fast plane-head path adds bias[(k*O+o)//K] instead of bias[o] for K>1 planes: trained orthoplanes wrong"),
    # ---------------------------------------------------------------- planes
    ("planes/encoding.py", "parts += [torch.cos(angle), torch.sin(angle)]",
     "parts += [torch.sin(angle), torch.cos(angle)]", NET,
     "Fourier code orders sin before cos: OrthoPlanes checkpoints' plane heads get permuted inputs"),
    ("planes/sampling.py", "strides = (K * A, W * K * A, A)[:n]", "strides = (K * A, H * K * A, A)[:n]",
     NET + SHAPES, "gather sampler's row stride uses H instead of W: wrong features on non-square planes"),
    ("planes/sampling.py", "(i0 + 1 >= 0) & (i0 + 1 < size)", "(i0 + 1 >= 0) & (i0 + 1 <= size)", NET + SHAPES,
     "upper neighbour past the last texel counted as valid (clamped): border-extension instead of zero padding"),
    ("planes/sampling.py", "if cache is not None and 0 not in (m_u, m_v):", "if cache is not None:",
     SHAPES + SAMP, "grid cache keeps plane resamplings that depend on the x slab: density grids wrong after the "
                    "first slab"),
    # ---------------------------------------------------------------- rendering
    ("rendering/renderer.py",
     "u = None if deterministic else torch.rand((B * R, N), device=origins.device, generator=generator)",
     "u = None", REND + TRAIN,
     "importance samples always at fixed quantiles, even in stochastic (training) mode"),
    ("rendering/samplers.py",
     "steps = torch.arange(S, dtype=torch.float32, device=ray_start.device).reshape(1, 1, S, 1) / (S - 1)",
     "steps = torch.arange(S, dtype=torch.float32, device=ray_start.device).reshape(1, 1, S, 1) / S", REND,
     "per-ray ('auto') stratified samples never reach the far bound (off by one in the linspace)"),
    ("rendering/samplers.py", "return sample_pdf(mids, w[:, 1:-1], u).sort(-1).values.reshape(B, R, n, 1)",
     "return sample_pdf(mids, w[:, :-2], u).sort(-1).values.reshape(B, R, n, 1)", REND,
     "importance weights shifted one interval toward the camera: fine samples land in front of surfaces"),
    ("rendering/marcher.py", "weights = alpha * torch.cumprod(alpha_shifted, -2)[:, :, :-1]\n"
     "    rgb = torch.sum(weights * colors_mid, -2)",
     "weights = alpha * torch.cumprod(alpha_shifted, -2)[:, :, 1:]\n    rgb = torch.sum(weights * colors_mid, -2)",
     REND, "transmittance includes the sample's own opacity (off by one): opaque surfaces look dim"),
    ("rendering/rays.py", "x = (u - cx + cy * sk / fy - sk * v / fy) / fx",
     "x = (u - cx - cy * sk / fy + sk * v / fy) / fx", REND + MET,
     "skew term with the wrong sign: rays wrong for cameras with non-zero skew"),
    ("rendering/rays.py", 'v, u = torch.meshgrid(ticks, ticks, indexing="ij")',
     'u, v = torch.meshgrid(ticks, ticks, indexing="ij")', REND + MET,
     "rays in column-major order: every rendering transposed"),
    # ---------------------------------------------------------------- metrics
    ("metrics/frechet.py", "return (v * w.clamp_min(0).sqrt()) @ v.T", "return (v * w.clamp_min(0).sqrt()) @ v",
     MET, "matrix square root without the transpose: FID wrong for non-diagonal covariances"),
    ("metrics/frechet.py", "x = fake[rng.choice(fake.shape[0], m, replace=False)]",
     "x = fake[rng.choice(fake.shape[0], m, replace=True)]", MET,
     "KID subsets of fakes drawn with replacement: duplicated rows bias the estimate"),
    ("metrics/swd.py", "down = _blur(cur)[..., ::2, ::2]", "down = cur[..., ::2, ::2]", MET,
     "Laplacian pyramid decimates without the Gaussian blur: aliased coarse levels, other SWD values"),
    ("metrics/reprojection.py", "dist_b = (points - c_b[:, None, [3, 7, 11]]).norm(dim=-1)",
     "dist_b = (points - c_b[:, None, [12, 13, 14]]).norm(dim=-1)", MET,
     "camera centre read from the bottom row of cam2world (zeros, 1): occlusion test compares wrong distances"),
    ("metrics/reprojection.py", "error = (diff * visible).sum(1) / count.clamp_min(1)",
     "error = (diff * visible).sum(1) / visible.shape[1]", MET,
     "reprojection error averaged over all pixels instead of the visible ones: scores shrink with occlusion"),
    ("metrics/precision_recall.py", "inside.append((dist <= radii[None]).any(1))",
     "inside.append((dist < radii[None]).any(1))", MET,
     "probe exactly on a k-NN ball's boundary not counted (StyleGAN uses <=)"),
    ("metrics/inception_score.py", "return float(np.mean(scores)), float(np.std(scores))",
     "return float(np.mean(scores)), float(np.std(scores, ddof=1))", MET,
     "IS standard deviation with Bessel's correction, unlike StyleGAN's is50k"),
    ("metrics/run.py", "return (images * 127.5 + 128).clamp(0, 255).to(torch.uint8)",
     "return (images * 127.5 + 127.5).clamp(0, 255).to(torch.uint8)", MET + SAMP,
     "fakes quantized half a level darker than StyleGAN's metrics (truncating cast)"),
    ("metrics/run.py", "seed * 1_000_003 + s, device))", "seed * 1_000_003, device))", MET + SAMP,
     "every batch of fakes reuses the same latents: FID/KID over batch-size distinct fakes only"),
    # ---------------------------------------------------------------- training
    ("training/loss.py", "size = int(math.floor(sigma * 3))", "size = int(math.ceil(sigma * 3))", TRAIN,
     "blur kernel one tap wider than the original's"),
    ("training/loss.py", "loss = F.softplus(-logits)\n            loss.mean().mul(gain).backward()\n"
     '            stats["Loss/G/loss"]',
     "loss = F.softplus(logits)\n            loss.mean().mul(gain).backward()\n"
     '            stats["Loss/G/loss"]', TRAIN,
     "generator loss sign flipped: G learns to look fake"),
    ("training/loss.py", "create_graph=True, only_inputs=True)", "create_graph=False, only_inputs=True)", TRAIN,
     "R1 penalty not differentiable: no R1 gradient reaches D (or Dreg crashes)"),
    ("training/loss.py", "raw = resize_raw(real_img, nrr).detach().requires_grad_(do_Dr1)",
     "raw = real_img.detach().requires_grad_(do_Dr1)", TRAIN,
     "real raw branch is the full-resolution image, not its downsampled version: D tells reals from fakes by "
     "blur"),
    ("training/loss.py", "cutoff = int(torch.randint(1, ws.shape[1], (), generator=self.generator))",
     "cutoff = int(torch.randint(0, ws.shape[1], (), generator=self.generator))", TRAIN,
     "style-mixing cutoff may be 0: the whole ws replaced by the other latent's"),
    ("training/loop.py", "p_ema.copy_(p.detach().lerp(p_ema, beta))", "p_ema.copy_(p_ema.lerp(p.detach(), beta))",
     TRAIN, "EMA lerp reversed: G_ema follows G with weight beta ~ 1 (no averaging)"),
    # ---------------------------------------------------------------- shapes
    ("shapes/grid.py", "return idx if idx[-1] == n - 1 else np.append(idx, n - 1)", "return idx", SHAPES,
     "coarse-to-fine grid without the last plane: values past the last coarse index extrapolated"),
    ("shapes/grid.py", "pts = torch.stack([ticks[0][idx // (n * n)], ticks[1][(idx // n) % n], ticks[2][idx % n]], "
     "dim=-1)", "pts = torch.stack([ticks[0][idx % n], ticks[1][(idx // n) % n], ticks[2][idx // (n * n)]], "
     "dim=-1)", SHAPES + SAMP, "refined grid points evaluated at z-major positions: mesh wrong near the surface"),
    ("shapes/export.py", 'gradient_direction="ascent")', 'gradient_direction="descent")', SHAPES + SAMP,
     "mesh faces wound inward: normals point into the object (black/culled in viewers)"),
    # ---------------------------------------------------------------- sampling
    ("sampling/views.py", "views.append((math.radians(yaw), math.radians(pitch)))",
     "views.append((math.radians(yaw), pitch))", SAMP,
     "--views pitch taken as radians: '0/5' tilts by 5 rad"),
    ("sampling/render.py", 'planes = G.planes(w[None], noise_mode="const")',
     'planes = G.planes(w[None], noise_mode="random")', SAMP,
     "sample renders use random layer noise: images not reproducible for trained models"),
    ("sampling/video.py", "(2 * p0 - 5 * p1 + 4 * p2 - p3) * f ** 2", "(2 * p0 - 5 * p1 + 4 * p2 + p3) * f ** 2",
     SAMP, "Catmull-Rom quadratic coefficient wrong: latents jump between keys"),
    ("sampling/video.py", "c = orbit_label(G, f / total, fov_deg=fov_deg)",
     "c = orbit_label(G, f / frames_per_key, fov_deg=fov_deg)", SAMP,
     "camera orbits once per key instead of once per video"),
]
