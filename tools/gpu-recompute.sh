#!/bin/bash
# gpu-recompute.sh — `vkti train --max-vram`'s recompute mode on the GPU machine: the step at SD 1.5
# shapes, 512x512, batch 1 and 4, with and without recomputing the UNet's attention blocks (time,
# peak device memory, activation bytes), then 20 training steps both ways, whose embeddings must
# be byte-identical (cmp). Writes logs into $O; prints a short summary.
B=${B:-build/gpu}
[ -d /tmp/m-sd15 ] || $B/make_tiny_sd --preset sd15 --seed 1 --out /tmp/m-sd15 > $O/gen.log 2>&1 || echo "make_tiny_sd failed"
for bs in 1 4; do
  for r in "" --recompute; do
    $B/vkti -v bench step --model /tmp/m-sd15 --resolution 512 --batch $bs --steps 20 $r > $O/bench-step-b$bs$r.log 2>&1
    echo "bench step b$bs $r rc=$?"
  done
done
T="--model /tmp/m-sd15 --data assets/demo --token <red-ball> --init ball --resolution 512 --steps 20 --eval-every 0"
$B/vkti train $T --out /tmp/rc-keep > $O/train-keep.log 2>&1; echo "train keep rc=$?"
VKTI_FORCE_RECOMPUTE=1 $B/vkti train $T --out /tmp/rc-rec > $O/train-rec.log 2>&1; echo "train recompute rc=$?"
cmp /tmp/rc-keep/learned_embeds.safetensors /tmp/rc-rec/learned_embeds.safetensors && echo "embeddings byte-identical"
echo "---- bench"; grep -E "ms$|peak|training step" $O/bench-step-b*.log
echo "---- train"; grep -E "recomputing|trained" $O/train-keep.log $O/train-rec.log
