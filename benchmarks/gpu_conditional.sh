# One device-machine call (or the conditional section of gpu_speed.sh) for the pose-conditional branch (see
# docs/conditional.md, "Speed"): the CUDA cases of the tests, the body benchmark and the conditional training
# benchmark, results under $OUT. The generator's CUDA tests need the fixtures (OP3D_FIXTURES, default
# .gpudata/fixtures). Warp's CUDA path runs where warp-lang is importable: its 149 MB wheel is more than one device
# call carries (64 MiB), so it travelled as an xz tarball of warp/ without warp-clang.so (the CPU compiler), examples
# and tests, split in two parts over two calls to a warm machine; point-cloud-utils is the CPU comparison where
# installed.
export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1 OP3D_FIXTURES=${OP3D_FIXTURES:-$PWD/.gpudata/fixtures}
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
# Run alone it appends to $OUT/log.txt; gpu_speed.sh, which logs its own output, sets CONDITIONAL_LOG=/dev/null.
{
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, torch.version.cuda)"
python3 -c "import warp, torch; print('warp', warp.__version__, 'cuda', warp.is_cuda_available())" 2>&1 | tail -1
timeout 90 python3 -m pytest -q -p no:cacheprovider tests/test_generator.py tests/test_mesh_sdf.py \
    tests/test_mesh_index.py tests/test_inverse_lbs.py tests/test_conditional.py -k cuda 2>&1 | tail -12
timeout 80 python3 benchmarks/bench_body.py --device cuda --points 1000000 --subset 20000 \
    --out "$OUT/body_cuda.json" 2>&1 | tail -14
timeout 100 python3 benchmarks/bench_training.py --device cuda --conditional --resolution 64 --nrr 32 --batch 16 \
    --steps 6 --cases orthoplanes:8 --mesh-method auto --profile-mesh \
    --out "$OUT/training_conditional_cuda.json" 2>&1 | grep -v Warn | tail -9
} 2>&1 | tee -a "${CONDITIONAL_LOG:-$OUT/log.txt}"
