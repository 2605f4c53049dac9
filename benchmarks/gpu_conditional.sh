# One device-machine call for the pose-conditional branch (see docs/conditional.md, "Speed"):
# the CUDA cases of the tests, the body benchmark and the conditional training benchmark with each mesh-query
# method, results under $OUT. Needs the fixtures carried (OP3D_FIXTURES, default .gpudata/fixtures) and
# warp-lang installed (pip install warp-lang; without it the Warp cases skip and only the torch path is timed).
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1 OP3D_FIXTURES=${OP3D_FIXTURES:-$PWD/.gpudata/fixtures}
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
{
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, torch.version.cuda)"
python3 -c "import warp, torch; print('warp', warp.__version__, 'cuda', warp.is_cuda_available())" 2>&1 | tail -1
timeout 200 python3 -m pytest -q -p no:cacheprovider tests/test_generator.py tests/test_mesh_sdf.py \
    tests/test_mesh_index.py tests/test_inverse_lbs.py tests/test_conditional.py -k cuda 2>&1 | tail -25
timeout 150 python3 benchmarks/bench_body.py --device cuda --points 1000000 --subset 20000 \
    --out "$OUT/body_cuda.json" 2>&1 | tail -15
for method in warp clusters; do
timeout 150 python3 benchmarks/bench_training.py --device cuda --conditional --resolution 64 --nrr 32 --batch 32 \
    --steps 8 --cases orthoplanes:8 --mesh-method $method --profile-mesh \
    --out "$OUT/training_conditional_cuda_$method.json" 2>&1 | grep -v Warn | tail -9
done
} 2>&1 | tee "$OUT/log.txt"
