#!/bin/sh
# train.sh — `vkti train` end to end on lavapipe (issue 6's proof): the tiny model (make_tiny_sd,
# seed 1) learns a token from the bundled demo images (assets/demo) for 200 steps.
#   - the deterministic validation loss falls by at least 1% (measured: 1.1292 -> 1.1063, -2.0%,
#     on lavapipe, 2026-11-26; the margin leaves room for other drivers' rounding);
#   - training 100 steps, then --resume to 200, gives a byte-identical embedding to 200 straight
#     (the straight run also renders previews: they must not change the training);
#   - previews: a PNG grid per preview step with AUTOMATIC1111's parameters text, and the
#     images in the TensorBoard log;
#   - every output loads back (vkti inspect reads the embeddings; loss.png is a PNG; metrics.jsonl
#     has its records; a TensorBoard event file exists);
#   - --max-vram: under a budget the step fits, nothing changes; recomputing the UNet's attention
#     blocks (forced with VKTI_FORCE_RECOMPUTE=1: the tiny model fits any budget of 64 MiB and up
#     without it) trains a byte-identical embedding; a budget even recomputing cannot meet is
#     refused with one line (out of memory: exit code 2);
#   - resuming with another model, or a changed option, is refused; bad configurations are
#     refused before the GPU starts, naming the key.
# With VKTI_TEST_QUICK=--quick (the sanitizer run) it trains 40 steps (20 + 20 resumed) and skips
# the validation-loss margin, which needs the full 200.
# usage: train.sh path/to/vkti   (make_tiny_sd is found beside it)
VKTI=${1:?usage: train.sh path/to/vkti}
MAKE_TINY=$(dirname "$VKTI")/make_tiny_sd
SRC=${VKTI_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$(dirname "$0")/lib/common.sh"
ok() { echo "ok   $1"; pass=$((pass+1)); }
bad() { echo "FAIL $1"; [ -f "$tmp/log" ] && sed 's/^/     /' "$tmp/log" | tail -15; fail=$((fail+1)); }

"$MAKE_TINY" --preset tiny --seed 1 --out "$tmp/model" >/dev/null 2>&1 && ok "tiny model written" || bad "make_tiny_sd"
"$MAKE_TINY" --preset tiny --seed 2 --out "$tmp/other" >/dev/null 2>&1 || bad "make_tiny_sd (seed 2)"
STEPS=200; HALF=100
[ "${VKTI_TEST_QUICK:-}" = "--quick" ] && { STEPS=40; HALF=20; }
COMMON="--model $tmp/model --data $SRC/assets/demo --token <red-ball> --init ball --resolution 64 --lr 5e-2 --eval-every $HALF --checkpoint-every $HALF"

# STEPS steps straight
PREVIEW="--preview-every $HALF --preview-prompt a_photo_of_<red-ball> --preview-steps 3 --preview-images 2 --preview-sampler euler_a"
if "$VKTI" train $COMMON --steps $STEPS --format diffusers,kohya,a1111 $PREVIEW --out "$tmp/a" >"$tmp/log" 2>&1; then ok "train $STEPS steps"; else bad "train $STEPS steps"; fi
for s in $HALF $STEPS; do
    f=$(printf '%s/a/previews/step-%06d.png' "$tmp" "$s")
    if head -c 8 "$f" 2>/dev/null | od -An -c | grep -q "P   N   G" && grep -aq "parameters" "$f" &&
       grep -aq "Sampler: Euler a" "$f" && grep -aq "a_photo_of_<red-ball>" "$f"; then
        ok "preview at step $s: a PNG with its parameters"
    else
        bad "preview at step $s ($f)"
    fi
done
grep -q "previews:    2" "$tmp/log" && ok "the summary names the previews" || bad "no previews line in the summary"
grep -aq "preview" "$tmp"/a/tensorboard/events.out.tfevents.* 2>/dev/null && grep -aq "PNG" "$tmp"/a/tensorboard/events.out.tfevents.* &&
    ok "previews in the TensorBoard log" || bad "no preview image in the TensorBoard log"
first=$(grep '"kind": "eval"' "$tmp/a/metrics.jsonl" | head -1 | sed 's/.*"loss": \([0-9.e+-]*\).*/\1/')
last=$(grep '"kind": "eval"' "$tmp/a/metrics.jsonl" | tail -1 | sed 's/.*"loss": \([0-9.e+-]*\).*/\1/')
if [ "$STEPS" -lt 200 ]; then
    echo "     (quick run: the 1% validation-loss margin is checked in the full run)"
elif [ -n "$first" ] && [ -n "$last" ] && awk -v f="$first" -v l="$last" 'BEGIN { exit !(l <= 0.99 * f) }'; then
    ok "validation loss falls by at least 1% ($first -> $last)"
else
    bad "validation loss did not fall by 1% ($first -> $last)"
fi
[ "$(grep -c '"kind": "train"' "$tmp/a/metrics.jsonl")" -ge $((STEPS / 10)) ] && ok "metrics.jsonl has training records" || bad "metrics.jsonl"
ls "$tmp"/a/tensorboard/events.out.tfevents.* >/dev/null 2>&1 && ok "TensorBoard event file" || bad "no TensorBoard file"
head -c 8 "$tmp/a/loss.png" | od -An -c | grep -q "P   N   G" && ok "loss.png is a PNG" || bad "loss.png"
for f in learned_embeds.safetensors red-ball.safetensors red-ball-a1111.pt; do
    "$VKTI" inspect "$tmp/a/$f" >"$tmp/log" 2>&1 && grep -q "<red-ball>" "$tmp/log" && ok "$f loads back" || bad "$f does not load"
done

# HALF steps, then resume to STEPS: byte-identical
"$VKTI" train $COMMON --steps $HALF --out "$tmp/b" >"$tmp/log" 2>&1 || bad "train $HALF steps"
if "$VKTI" train $COMMON --steps $STEPS --out "$tmp/b" --resume "$tmp/b" >"$tmp/log" 2>&1 && grep -q "resuming" "$tmp/log"; then ok "resume to $STEPS"; else bad "resume"; fi
cmp -s "$tmp/a/learned_embeds.safetensors" "$tmp/b/learned_embeds.safetensors" && ok "resume is bit-exact" || bad "resumed embedding differs"

# --max-vram: recomputing the attention blocks changes memory and time, not one bit
"$VKTI" train $COMMON --steps 10 --max-vram 8G --out "$tmp/keep" >"$tmp/log" 2>&1 && ! grep -q "recomputing" "$tmp/log" &&
    ok "--max-vram 8G: fits, trained keeping every activation" || bad "--max-vram 8G"
VKTI_FORCE_RECOMPUTE=1 "$VKTI" train $COMMON --steps 10 --out "$tmp/rec" >"$tmp/log" 2>&1 &&
    grep -q "recomputing the UNet's attention blocks in the backward (activations" "$tmp/log" &&
    ok "VKTI_FORCE_RECOMPUTE=1: trained recomputing the attention blocks ($(grep -o 'activations [^)]*' "$tmp/log"))" ||
    bad "VKTI_FORCE_RECOMPUTE=1"
cmp -s "$tmp/keep/learned_embeds.safetensors" "$tmp/rec/learned_embeds.safetensors" &&
    ok "recomputing gives a byte-identical embedding" || bad "the embedding trained recomputing differs"
expect "--max-vram 64M refused: even recomputing the step does not fit" 2 "raise --max-vram" -- \
    "$VKTI" train $COMMON --steps 10 --max-vram 64M --out "$tmp/small"
check "... in one line" test "$(grep -c "max-vram" "$tmp/log")" -eq 1

# refusals
"$VKTI" train --model "$tmp/other" --data "$SRC/assets/demo" --token "<red-ball>" --init ball --resolution 64 --lr 5e-2 \
    --eval-every $HALF --checkpoint-every $HALF --steps $STEPS --out "$tmp/b" --resume "$tmp/b" >"$tmp/log" 2>&1
[ $? -eq 1 ] && grep -q "another model" "$tmp/log" && ok "resume with another model refused" || bad "resume with another model"
"$VKTI" train $COMMON --steps $STEPS --lr 1e-3 --out "$tmp/b" --resume "$tmp/b" >"$tmp/log" 2>&1
[ $? -eq 1 ] && grep -q "learning_rate" "$tmp/log" && ok "resume with another learning rate refused" || bad "resume with changed lr"
"$VKTI" train $COMMON --steps 4 --preview-every 2 --preview-prompt "a photo" --preview-steps 1 --preview-images 1 --out "$tmp/d" >"$tmp/log" 2>&1
grep -q "does not contain the token" "$tmp/log" && [ -f "$tmp/d/previews/step-000004.png" ] && ok "a preview prompt without the token is warned about" ||
    bad "preview prompt without the token"
"$VKTI" train $COMMON --steps 0 --out "$tmp/c" >"$tmp/log" 2>&1
[ $? -eq 1 ] && grep -q "steps" "$tmp/log" && [ ! -d "$tmp/c" ] && ok "zero steps refused, nothing written" || bad "zero steps"
"$VKTI" train $COMMON --steps 10 --resolution 60 --out "$tmp/c" >"$tmp/log" 2>&1
[ $? -eq 1 ] && grep -q "resolution" "$tmp/log" && ok "resolution not a multiple of 8 refused" || bad "resolution 60"
"$VKTI" train $COMMON --steps 10 --lr nan --out "$tmp/c" >"$tmp/log" 2>&1
[ $? -eq 1 ] && grep -qi "learning.rate\|lr" "$tmp/log" && ok "NaN learning rate refused" || bad "lr nan"
printf '{"steps": 10, "learning_rat": 0.1}' > "$tmp/bad.json"
"$VKTI" train $COMMON --config "$tmp/bad.json" --out "$tmp/c" >"$tmp/log" 2>&1
[ $? -eq 1 ] && grep -q "learning_rat" "$tmp/log" && ok "unknown config key refused by name" || bad "unknown key"
"$VKTI" train --model "$tmp/model" --data "$SRC/assets/demo" --token "a" --resolution 64 --steps 10 --out "$tmp/c" >"$tmp/log" 2>&1
[ $? -eq 1 ] && grep -q "already" "$tmp/log" && ok "a token already in the vocabulary is refused" || bad "existing token"
"$VKTI" train --model "$tmp/nonexistent" --data "$SRC/assets/demo" --token "<x>" --resolution 64 --steps 10 --out "$tmp/c" >"$tmp/log" 2>&1
[ $? -eq 1 ] && ok "a missing model is refused" || bad "missing model"

finish
