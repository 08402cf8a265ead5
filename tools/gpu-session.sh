#!/bin/bash
# gpu-session.sh — one GPU-machine session (see ../shared/device/README.md): the op tests both
# ways, the benchmarks, and the Python-side checks of files vkti writes. Everything goes into one
# tarball in $OUT (the device tool returns at most 8 files); a short summary is printed last.
set -u
export VKTI_BUILD_DIR=/tmp XDG_RUNTIME_DIR=/tmp
B=${B:-build/release}
O=/tmp/o; mkdir -p $O
FINAL_OUT=$OUT; export OUT=$O
tools/gpu-run.sh $B devices tests cli bench > $O/gpu-run.txt 2>&1
# safetensors and torch files vkti writes, loaded by Python; torch-made fixtures back
mkdir -p /tmp/st && VKTI_BUILD_DIR=/tmp/st VKTI_SOURCE_DIR=. $B/tests/vkti_unit_safetensors > $O/st_unit.log 2>&1
python3 tools/ref/check_safetensors.py --check /tmp/st/st_out --make $O/torch > $O/st_check.log 2>&1; echo "check_safetensors rc=$?"
$B/tests/vkti_unit_embedding --write-dir $O/emb > $O/emb_unit.log 2>&1
python3 tools/ref/check_embeddings.py --check $O/emb --make $O/emb-torch > $O/emb_check.log 2>&1; echo "check_embeddings rc=$?"
for extra in "$@"; do eval "$extra"; done
tar czf $FINAL_OUT/all.tgz -C $O .
sed -n '/==== summary/,$p' $O/gpu-run.txt; tail -2 $O/st_check.log $O/emb_check.log
grep -E "TFLOP|GB/s" $O/bench_ops.txt | head -60
