"""A thirty-second, independently written set of planted one-line bugs for tools/mutation_check.py: set 32, 40
mutants written without reading the tests, on lines no earlier set mutated, by area:

- networks (12): the generator's size bounds, its dropped sr_kwargs and mapping_kwargs, D's dropped
  epilogue_kwargs and its default camera-embedding size, the bias of bias-free D convolutions, the synthesis
  layers' noise default, the pose-conditional body-box margin check and residual scale, the released
  conditional model's y shift, its squared LBS threshold and its posed vertices' translation;
- rendering, planes and ops (9): the vertical padding of upsampling convolutions, orthoplane and tri-plane
  coordinate scaling by box_warp, the smallest K accepted, the rendering box of 'auto' ray ranges, the
  disparity-space range order, the non-fused modulated convolution's noise, RenderOptions' importance default,
  the per-element boxes of render_in_boxes;
- shapes (6): trim_border's in-place default, the centre of surface_grid and grid_points, `op3d sample`'s
  --shapes default, the body of vertex colours, density_grid's default resolution;
- sampling, cameras and presets (13): the AFHQ pivot, the ShapeNet camera radius, the body preset's box,
  generator_kwargs' fourier_L and rendering overrides, discriminator_kwargs' channel_max, off-centre
  intrinsics, lookat_pose's rotation layout, the camera check's fy, `op3d video`'s --mode and --trunc-cutoff,
  render_views with more views than its batch, `op3d sample`'s --fov-deg default.

    python tools/mutation_check.py --mutants tools/mutants_set32.py --out /tmp/mutation_set32.json

Same format as mutation_check.MUTANTS: (file under op3d/, exact fragment (once in that file), replacement,
test files, what a user would see). The group names NET, COND, REND, MET, TRAIN, SHAPES, SAMP are supplied by
mutation_check when it executes this file. Written without reading the tests; no fragment here contains, or is
contained in, a fragment of the same file in mutation_check.py or mutants_set2.py ... mutants_set30.py.
"""
# ruff: noqa: F821  (the group names come from mutation_check's scope)

MUTANTS = [
    # --- networks (12) ----------------------------------------------------------------------------------------
    ("networks/generator.py", "not lo <= value <= hi:", "not lo < value <= hi:", NET + TRAIN,
     "check_sizes excludes each lower bound: fourier_L=0 (--fourier-l 0), c_dim=0 or 4x4 planes are refused"),
    ("networks/generator.py", "            **dict(sr_kwargs or {}))", "            )", NET + TRAIN,
     "the generator drops sr_kwargs: the small / tiny sizes' sr_channels are ignored, the super-resolution "
     "module is built with 128 / 64 channels and their checkpoints no longer load"),
    ("networks/generator.py", "3 * plane_channels, dict(mapping_kwargs or {}),", "3 * plane_channels, {},",
     NET + TRAIN,
     "the generator drops mapping_kwargs: every preset's mapping network has 8 layers whatever num_layers says"),
    ("networks/discriminator.py", "resolution=4, **dict(epilogue_kwargs or {}),", "resolution=4,", TRAIN + NET,
     "D ignores epilogue_kwargs: --mbstd-group has no effect, the minibatch-std group is always 4"),
    ("networks/discriminator.py", "cmap_dim = channels[4]", "cmap_dim = channels[img_resolution]", NET + TRAIN,
     "D's default camera embedding takes the first block's width instead of the 4x4 epilogue's: a different "
     "mapping / output size, original checkpoints do not load"),
    ("networks/layers.py", "bias_t = torch.zeros([out_channels]) if bias else None",
     "bias_t = torch.zeros([out_channels]) if bias is not None else None", NET,
     "Conv2dLayer(bias=False) still gets a bias: D's residual skips gain an extra 'skip.bias' parameter and "
     "state dicts of original checkpoints no longer match"),
    ("networks/synthesis.py", "up: int = 1, use_noise: bool = True,", "up: int = 1, use_noise: bool = False,",
     NET,
     "synthesis layers are built without noise: no noise_const / noise_strength, trained noise is lost and "
     "checkpoints with noise no longer load"),
    ("networks/conditional.py", "and 0 <= margin < float(\"inf\")", "and 0 < margin < float(\"inf\")",
     COND + TRAIN, "body_box_margin=0 (--body-margin 0, the bare body box) is refused"),
    ("networks/conditional.py", "residual_scale: float = 0.05,", "residual_scale: float = 0.5,", COND,
     "the pose-conditional generator's residual is scaled 10x by default: sdf, densities and renders change"),
    ("networks/conditional_legacy.py", "Y_SHIFT = 0.15", "Y_SHIFT = 0.3", COND,
     "the released pose-conditional model shifts points down by 0.3 instead of 0.15: its renders and sdf read "
     "the wrong place of the body"),
    ("networks/conditional_legacy.py", "LBS_THRESHOLD2 = 0.1", "LBS_THRESHOLD2 = 0.01", COND,
     "the released model's inverse LBS falls back to the root transform for points 0.1 (not 0.32) from the "
     "body: limbs' surroundings warp differently"),
    ("networks/conditional_legacy.py", ".squeeze(-1) + T[..., :3, 3]", ".squeeze(-1) + T[..., 3, :3]", COND,
     "legacy_body's posed vertices lose their translation (the bottom row of T is 0): bodies collapse towards "
     "the origin, mesh distances and renders change"),
    # --- rendering, planes and ops (9) ------------------------------------------------------------------------
    ("ops/conv2d_resample.py", "        py0 += (fh + up - 1) // 2\n        py1 += (fh - up) // 2",
     "        py0 += (fh - up) // 2\n        py1 += (fh + up - 1) // 2", NET,
     "every upsampling 3x3 convolution is shifted one row vertically (x stays right): planes and images move"),
    ("planes/sampling.py", "    scaled = points * (2 / box_warp)\n    coords = torch.stack([(scaled if",
     "    scaled = points * 2\n    coords = torch.stack([(scaled if", NET + REND + COND,
     "sample_orthoplanes ignores box_warp: renders with box_warp != 1 (ShapeNet, body presets, the "
     "pose-conditional canonical box 2.0) read the planes at the wrong scale and disagree with the grid path"),
    ("planes/sampling.py", "    scaled = points * (2 / box_warp)\n    coords = torch.stack([scaled[..., dims]",
     "    scaled = points * (1 / box_warp)\n    coords = torch.stack([scaled[..., dims]", NET + REND,
     "sample_triplane maps the box to [-0.5, 0.5]: EG3D tri-plane renders read only the planes' centre"),
    ("planes/encoding.py", "if K < 1:", "if K < 2:", NET,
     "plane_positions refuses K = 1: --plane-number 1 (one plane per axis) can no longer be built"),
    ("rendering/rays.py", "ray_aabb_limits(origins, dirs, -half, half)",
     "ray_aabb_limits(origins, dirs, -box_side, box_side)", REND + COND,
     "ray_start / ray_end 'auto' (shhq, body presets) sample a box twice the rendering box: coarser samples, "
     "different images"),
    ("rendering/samplers.py", "for x in (ray_start, ray_end))", "for x in (ray_end, ray_start))", REND,
     "disparity_space_sampling=True samples from ray_end to ray_start: depths in reverse order, negative "
     "intervals, wrong composites"),
    ("ops/modulated_conv.py", "        if noise is not None:\n            x = x + noise.to(x.dtype)\n        return x",
     "        return x", NET + TRAIN,
     "the non-fused modulated convolution (training mode) drops the noise: trained noise strengths no longer "
     "act while training and fused / non-fused outputs differ"),
    ("rendering/renderer.py", "depth_resolution_importance: int = 48", "depth_resolution_importance: int = 0",
     REND, "RenderOptions() without rendering_kwargs skips the importance pass: 48 samples per ray instead of 96"),
    ("rendering/renderer.py", "ray_aabb_limits(origins, dirs, lo[:, None], hi[:, None])",
     "ray_aabb_limits(origins, dirs, lo[None], hi[None])", REND + COND + SAMP,
     "render_in_boxes with more than one body broadcasts the boxes over rays instead of batch elements: "
     "batches of posed bodies fail or use other elements' boxes (batch 1 unchanged)"),
    # --- shapes (6) -------------------------------------------------------------------------------------------
    ("shapes/grid.py", "inplace: bool = False) -> Grid:", "inplace: bool = True) -> Grid:", SHAPES,
     "trim_border(grid) overwrites the caller's grid values instead of returning a trimmed copy"),
    ("shapes/grid.py", "    ticks, origin, voxel = grid_ticks(resolution, cube_length, center)\n    coarse",
     "    ticks, origin, voxel = grid_ticks(resolution, cube_length)\n    coarse", SHAPES,
     "surface_grid ignores center: off-centre coarse-to-fine grids are evaluated around the origin"),
    ("shapes/grid.py", "grid_ticks(resolution, cube_length, center)\n    return lattice_points(",
     "grid_ticks(resolution, cube_length)\n    return lattice_points(", SHAPES,
     "grid_points ignores center: off-centre grids' points (and origin) are those of the centred grid"),
    ("sampling/cli.py", '@click.option("--shapes/--no-shapes", default=False,',
     '@click.option("--shapes/--no-shapes", default=True,', SAMP + SHAPES,
     "`op3d sample` extracts a density volume for every seed unless --no-shapes is given"),
    ("sampling/cli.py", "rendering.vertex_colors(G, planes, verts, ws[None], body)",
     "rendering.vertex_colors(G, planes, verts, ws[None])", SHAPES + SAMP + COND,
     "ply / obj meshes of pose-conditional networks fail: vertex colours are asked without the body"),
    ("sampling/render.py", "planes: torch.Tensor, resolution: int = 256,",
     "planes: torch.Tensor, resolution: int = 128,", SHAPES + SAMP,
     "density_grid without a resolution gives 128^3 grids instead of 256^3"),
    # --- sampling, cameras and presets (13) -------------------------------------------------------------------
    ("presets.py", "avg_camera_pivot=[0, 0, -0.06]", "avg_camera_pivot=[0, 0, 0.06]", SAMP + TRAIN,
     "the afhq preset's cameras look at a point in front of the origin instead of behind it: sampled views "
     "are tilted differently"),
    ("presets.py", "avg_camera_radius=1.7", "avg_camera_radius=2.7", SAMP + TRAIN,
     "ShapeNet samples and videos put the camera at 2.7, beyond the preset's ray_end 2.6: objects vanish"),
    ("presets.py", 'ray_start="auto", ray_end="auto", box_warp=2.4,', 'ray_start="auto", ray_end="auto", box_warp=2.0,',
     COND + SAMP + TRAIN,
     "the body preset's box is 2.0 m instead of 2.4: bodies are cut off, planes cover another scale"),
    ("presets.py", "per_dir_plane_number=plane_number, fourier_L=fourier_L,",
     "per_dir_plane_number=plane_number, fourier_L=10,", TRAIN + NET,
     "generator_kwargs ignores fourier_L: --fourier-l trains L = 10 planes' codes whatever is asked"),
    ("presets.py", "superresolution_module=sr or GENERIC_2X,\n                          **rendering_overrides)",
     "superresolution_module=sr or GENERIC_2X)", TRAIN,
     "generator_kwargs drops rendering overrides: --c-scale, --gen-pose-cond, density_reg, decoder_lr_mul, "
     "ray ranges passed by callers are silently ignored"),
    ("presets.py", 'channel_max=s["channel_max"]', 'channel_max=s["channel_base"]', TRAIN + NET,
     "discriminator_kwargs caps D's channels at channel_base: small / tiny discriminators get far wider blocks"),
    ("data/cameras.py", "[[focal, 0, cx], [0, focal, cy], [0, 0, 1]]", "[[focal, 0, cx], [0, focal, cx], [0, 0, 1]]",
     SAMP, "intrinsics(cx, cy) with an off-centre principal point writes cx as cy (cx = cy = 0.5 unchanged)"),
    ("data/cameras.py", "m[..., :3, 0], m[..., :3, 1], m[..., :3, 2], m[..., :3, 3] = right, down, forward, origin",
     "m[..., 0, :3], m[..., 1, :3], m[..., 2, :3], m[..., :3, 3] = right, down, forward, origin", SAMP + REND,
     "lookat_pose stores the camera axes as rows (the world-to-camera rotation): frontal views unchanged, "
     "every turned view looks the wrong way"),
    ("data/cameras.py", "fx, fy, cx, cy = K[:, 0, 0], K[:, 1, 1], K[:, 0, 2], K[:, 1, 2]",
     "fx, fy, cx, cy = K[:, 0, 0], K[:, 0, 0], K[:, 0, 2], K[:, 1, 2]", SAMP + TRAIN,
     "camera_problems checks fx twice: a pixel or non-positive fy with a normalized fx is not reported"),
    ("sampling/cli.py", "frames_per_key=w_frames, mode=mode,", "frames_per_key=w_frames,", SAMP,
     "`op3d video --mode raw / depth` writes the final images: the mode is not passed on"),
    ("sampling/cli.py",
     '@click.option("--trunc-cutoff", "truncation_cutoff", type=click.IntRange(min=0), default=None)',
     '@click.option("--trunc-cutoff", "truncation_cutoff", type=click.IntRange(min=0), default=0)', SAMP,
     "`op3d video --trunc 0.5` truncates no ws by default (cutoff 0): videos are untruncated"),
    ("sampling/render.py", "out[k].append(torch.cat(per_view[k]))", "out[k].append(torch.cat(per_view[k], dim=1))",
     SAMP, "render_views with more views than its batch (5+) stacks the extra views as channels: wrong shapes "
     "and strips (3 views unchanged)"),
    ("sampling/cli.py", 'type=Finite(min=1, max=179), default=None,\n              help="Field of view (float)',
     'type=Finite(min=1, max=179), default=18.837,\n              help="Field of view (float)', SAMP + COND,
     "`op3d sample` always uses the faces' 18.837 deg field of view: the body preset's own focal is ignored"),
]
