# One device-machine call for the GPU speed figures (docs/training.md, "Against the original"): the ORIGINAL
# generators and op3d's on the same weights and inputs, full size, 512 px, 64^2 neural rendering, 48 + 48 samples,
# batch 4, fp16 as EG3D trains (4 resolutions), with each side's operator profile. While the original's CUDA
# plugins compile (CPU only), the pose-conditional section (gpu_conditional.sh) uses the GPU. Results under $OUT.
#
# Needs the original sources carried (never committed): the op3d folder of a github.com/OrthoPlanes/op3d checkout
# at .gpudata/op3d_original and the eg3d folder of a github.com/NVlabs/eg3d checkout at .gpudata/eg3d_original
# (OP3D's own copy of EG3D's triplane.py was changed to 128-channel planes), e.g.
#   git clone https://github.com/OrthoPlanes/op3d /tmp/o && cp -r /tmp/o/op3d .gpudata/op3d_original
#   git clone https://github.com/NVlabs/eg3d /tmp/e && cp -r /tmp/e/eg3d .gpudata/eg3d_original
#   echo /.gpudata/ >> .git/info/exclude      # then: run(..., carry=[".gpudata"])
# The original compiles its CUDA plugins (bias_act, upfirdn2d) with nvcc and ninja on first use; where that fails
# it falls back to its reference ops. The JSON says which ran ("original_cuda_plugins").
# SKIP_CONDITIONAL=1 runs only the CUDA tests instead of the conditional section (gpu_conditional.sh).
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 TORCH_EXTENSIONS_DIR=/tmp/torch_extensions MAX_JOBS=8
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
ORIGINAL=${ORIGINAL:-$PWD/.gpudata/op3d_original} EG3D=${EG3D:-$PWD/.gpudata/eg3d_original}
{
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, torch.version.cuda)"
# the originals' plugins, compiled in background processes (the timed workers then load them from the cache)
# (OP3D's copies of the plugin sources differ from EG3D's, so each checkout builds its own)
for op in bias_act upfirdn2d; do
  timeout 300 python3 benchmarks/bench_vs_original.py --original "$ORIGINAL" --worker plugin $op 2>&1 | tail -2 &
  timeout 300 python3 benchmarks/bench_vs_original.py --original "$EG3D" --representation triplane \
    --worker plugin $op 2>&1 | tail -2 &
done
if [ "${SKIP_CONDITIONAL:-0}" = 1 ]; then  # only the CUDA tests of the conditional branch, to a file
  OP3D_FIXTURES=${OP3D_FIXTURES:-$PWD/.gpudata/fixtures} timeout 100 python3 -m pytest -q -p no:cacheprovider \
    --tb=short tests/test_mesh_sdf.py tests/test_mesh_index.py tests/test_inverse_lbs.py tests/test_conditional.py \
    tests/test_generator.py tests/test_dispatch.py -k cuda > "$OUT/cuda_tests.txt" 2>&1; tail -3 "$OUT/cuda_tests.txt"
  date +%T
else
  CONDITIONAL_LOG=/dev/null bash benchmarks/gpu_conditional.sh
fi
wait; date +%T
# op3d's default paths (the "op3d" side) and variants with some ops on their reference twins (op3d.ops.dispatch)
gs=plane_sampling=reference sb=single_backward=reference up=upsample2x=reference
all=$gs,$sb,$up,planes_head=reference,skip_sum=reference,bias_act=reference
common=${COMMON:-"--device cuda --resolution 512 --nrr 64 --samples 48 --cbase 32768 --cmax 512 --mapping-layers 2 \
  --batch 4 --fp16-res 4 --rounds 1 --repeats 5 --threads 8"}" --profile /tmp/prof"  # COMMON: a dry run's sizes
timeout 180 python3 benchmarks/bench_vs_original.py $common --original "$ORIGINAL" --representation orthoplanes \
  --K 8 --L 10 --cases g_fwd_bwd --op3d-paths "gs:$gs" --op3d-paths "gs_sb:$gs,$sb" \
  --op3d-paths "gs_sb_up:$gs,$sb,$up" --op3d-paths "reference:$all" --op3d-paths "bias_act_reference:bias_act=reference" \
  --out "$OUT/vs_original_cuda_K8.json" \
  2>&1 | grep -v Warn | tail -8; date +%T
timeout 100 python3 benchmarks/bench_vs_original.py $common --original "$EG3D" --representation triplane \
  --cases g_fwd_bwd --op3d-paths "gs_sb:$gs,$sb" --op3d-paths "gs_sb_up:$gs,$sb,$up" \
  --out "$OUT/vs_original_cuda_triplane.json" 2>&1 | grep -v Warn | tail -6; date +%T
timeout 90 python3 benchmarks/bench_vs_original.py $common --original "$ORIGINAL" --representation orthoplanes \
  --K 8 --L 10 --cases g_fwd --op3d-paths "gs_up:$gs,$up" --op3d-paths "reference:$all" \
  --out "$OUT/vs_original_cuda_K8_fwd.json" 2>&1 | grep -v Warn | tail -5; date +%T
# (b) eager vs torch.compile: op3d's G.synthesis compiled (default mode) on the GPU defaults; last, since the
# compile itself may take minutes (its time is in the JSON as op3d_warmup_s). NO_COMPILE=1 skips it.
[ "${NO_COMPILE:-0}" = 1 ] || timeout 240 python3 benchmarks/bench_vs_original.py $common --original "$ORIGINAL" \
  --representation orthoplanes --K 8 --L 10 --cases g_fwd_bwd --op3d-paths "compiled:compile" \
  --out "$OUT/vs_original_cuda_K8_compiled.json" 2>&1 | grep -v Warn | tail -5; date +%T
[ -d /tmp/prof ] && tar czf "$OUT/profiles.tgz" -C /tmp/prof .
} 2>&1 | tee -a "$OUT/log.txt"
