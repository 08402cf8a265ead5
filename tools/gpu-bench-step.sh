#!/bin/bash
# gpu-bench-step.sh — the step benchmarks of issues 5 and 6 on the GPU machine, beside diffusers'
# anchors (../shared/anchors, copied into .ref/anchors) rerun in the same session on the same card.
# Writes logs into $O; prints a short summary.
B=${B:-build/gpu}
$B/make_tiny_sd --preset sd15 --seed 1 --out /tmp/m-sd15 > $O/gen.log 2>&1 || echo "make_tiny_sd failed"
for bs in 1 4; do
  $B/vkti -v bench step --model /tmp/m-sd15 --resolution 512 --batch $bs --steps 20 > $O/bench-step-b$bs.log 2>&1; echo "bench step b$bs rc=$?"
done
$B/vkti train --model /tmp/m-sd15 --data assets/demo --token "<red-ball>" --init ball --resolution 512 --steps 60 --eval-every 30 --out /tmp/train512 > $O/train512.log 2>&1; echo "train 512 rc=$?"
PYTHONPATH=$PWD/.ref/src OUT=$O timeout 400 python3 .ref/anchors/diffusers_unet_graph.py > $O/anchor_unet.log 2>&1; echo "anchor unet rc=$?"
PYTHONPATH=$PWD/.ref/src OUT=$O timeout 400 python3 .ref/anchors/diffusers_ti_step.py > $O/anchor_ti.log 2>&1; echo "anchor ti rc=$?"
echo "---- vkti"; grep -E "ms$|peak|training step" $O/bench-step-b*.log; grep -E "trained|validation loss|peak" $O/train512.log
echo "---- diffusers"; grep -E "ms" $O/anchor_unet.log | head -12; tail -4 $O/anchor_ti.log
