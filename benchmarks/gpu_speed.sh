# One device-machine call for the GPU speed figures (docs/training.md, "Against the original"): the ORIGINAL
# generators and op3d's on the same weights and inputs, full size, 512 px, 64^2 neural rendering, 48 + 48 samples,
# batch 4, fp16 as EG3D trains (4 resolutions), with each side's operator profile. While the original's CUDA
# plugins compile (CPU only), the pose-conditional section (gpu_conditional.sh) uses the GPU. Results under $OUT.
#
# Needs the original sources carried (never committed): the op3d folder of a github.com/OrthoPlanes/op3d checkout
# (it holds EG3D's TriPlaneGenerator too) at .gpudata/op3d_original, e.g.
#   git clone https://github.com/OrthoPlanes/op3d /tmp/o && cp -r /tmp/o/op3d .gpudata/op3d_original
#   echo /.gpudata/ >> .git/info/exclude      # then: run(..., carry=[".gpudata"])
# The original compiles its CUDA plugins (bias_act, upfirdn2d) with nvcc and ninja on first use; where that fails
# it falls back to its reference ops. The JSON says which ran ("original_cuda_plugins").
# SKIP_CONDITIONAL=1 leaves the conditional section out.
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 TORCH_EXTENSIONS_DIR=/tmp/torch_extensions MAX_JOBS=8
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
ORIGINAL=${ORIGINAL:-$PWD/.gpudata/op3d_original}
{
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, torch.version.cuda)"
# the original's plugins, compiled in two background processes (the timed workers then load them from the cache)
for op in bias_act upfirdn2d; do
  timeout 300 python3 benchmarks/bench_vs_original.py --original "$ORIGINAL" --worker plugin $op 2>&1 | tail -2 &
done
[ "${SKIP_CONDITIONAL:-0}" = 1 ] || bash benchmarks/gpu_conditional.sh
wait
common="--original $ORIGINAL --device cuda --resolution 512 --nrr 64 --samples 48 --cbase 32768 --cmax 512 \
  --mapping-layers 2 --batch 4 --fp16-res 4 --rounds ${ROUNDS:-1} --repeats 5 --threads 8 --profile /tmp/prof"
timeout 200 python3 benchmarks/bench_vs_original.py $common --representation triplane --cases g_fwd_bwd,g_fwd \
  --out "$OUT/vs_original_cuda_triplane.json" 2>&1 | grep -v Warn | tail -8
timeout 150 python3 benchmarks/bench_vs_original.py $common --representation orthoplanes --K 8 --L 10 \
  --cases g_fwd_bwd --out "$OUT/vs_original_cuda_K8.json" 2>&1 | grep -v Warn | tail -8
[ -d /tmp/prof ] && tar czf "$OUT/profiles.tgz" -C /tmp/prof .
} 2>&1 | tee -a "$OUT/log.txt"
