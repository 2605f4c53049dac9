export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
python3 -m op3d dataset synthetic --out /tmp/syn.zip --count 4000 --resolution 64 --seed 0 2>&1 | tail -1
timeout 440 python3 -m op3d train --outdir /tmp/runs --data /tmp/syn.zip --cfg synthetic --size small --plane_number 8 --fourier_L 10 --batch 32 --gamma 1 --blur_fade_kimg 20 --kimg 100000 --tick 4 --snap 10 --workers 6 --desc gpu-demo 2>&1 | grep -v Warn
run=$(ls -d /tmp/runs/0*)
cp $run/stats.jsonl $run/reals.png $run/fakes_init.png $OUT/
ls $run
f=($(ls $run/fakes0*.png)); n=${#f[@]}; echo "fakes: $n"
for i in 0 $((n/3)) $((2*n/3)) $((n-1)); do [ $i -ge 0 ] && cp ${f[$i]} $OUT/; done
ls $OUT
