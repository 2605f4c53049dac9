# One device-machine call for the GPU speed figures (docs/training.md, "Against the original"): the ORIGINAL
# generators and op3d's on the same weights and inputs, full size, 512 px, 64^2 neural rendering, 48 + 48 samples,
# batch 4, fp16 as EG3D trains (4 resolutions), then op3d's render and shape costs. Results under $OUT.
#
# Needs the original sources carried (never committed): the op3d folder of a github.com/OrthoPlanes/op3d checkout
# (it holds EG3D's TriPlaneGenerator too) at .gpudata/op3d_original, e.g.
#   git clone https://github.com/OrthoPlanes/op3d /tmp/o && cp -r /tmp/o/op3d .gpudata/op3d_original
#   echo /.gpudata/ >> .git/info/exclude      # then: run(..., carry=[".gpudata"])
# The original compiles its CUDA plugins with nvcc on first use (ninja needed: pip install ninja); where that
# fails it falls back to its reference ops. The JSON says which ran ("original_cuda_plugins").
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
ORIGINAL=${ORIGINAL:-$PWD/.gpudata/op3d_original}
pip install -q ninja requests 2>&1 | tail -1
{
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, torch.version.cuda)"
common="--original $ORIGINAL --device cuda --resolution 512 --nrr 64 --samples 48 --cbase 32768 --cmax 512 \
  --mapping-layers 2 --batch 4 --fp16-res 4 --rounds 2 --repeats 5 --threads 8"
# (a) the G training step and one image, original vs op3d (same weights; outputs compared by relative L2)
timeout 200 python3 benchmarks/bench_vs_original.py $common --representation triplane --cases g_fwd_bwd,g_fwd \
  --out "$OUT/vs_original_cuda_triplane.json" 2>&1 | grep -v Warn | tail -8
timeout 200 python3 benchmarks/bench_vs_original.py $common --representation orthoplanes --K 8 --L 10 \
  --cases g_fwd_bwd,g_fwd,grid256 --out "$OUT/vs_original_cuda_K8.json" 2>&1 | grep -v Warn | tail -8
# (c) op3d: one 512^2 image and a 256^3 density grid, fast paths vs reference ops
timeout 120 python3 benchmarks/bench_render.py --device cuda --resolution 512 --nrr 128 --samples 96 \
  --shape-res 256 --out "$OUT/render_cuda_512.json" 2>&1 | grep -v Warn | tail -8
} 2>&1 | tee "$OUT/log.txt"
