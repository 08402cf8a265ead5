#!/bin/sh
# generate.sh — `vkti generate` on the tiny model (tools/make_tiny_sd): an image per sampler, the
# PNG's AUTOMATIC1111 parameters text, the same seed giving the same bytes, a batch's files and
# seeds, embeddings (a diffusers and a kohya file of the tiny model's width 32, under their own
# token and under one given), the single-file model with its A1111 model hash; and every bad input
# — before and after the model is opened — refused with exit code 1, one line, and nothing written.
# usage: generate.sh path/to/vkti   (VKTI_BUILD_DIR set by ctest: make_tiny_sd is there)
VKTI=${1:?usage: generate.sh path/to/vkti}
GEN=${VKTI_BUILD_DIR:-$(dirname "$VKTI")}/make_tiny_sd
SRC=${VKTI_SOURCE_DIR:-$(dirname "$0")/../..}
. "$(dirname "$0")/lib/common.sh"
export HOME="$tmp/home"; unset HF_HOME HF_HUB_CACHE; mkdir -p "$HOME"

# the PNG's parameters text (an uncompressed tEXt chunk: grep reads it)
params() { grep -a -c -- "$2" "$1" >/dev/null; }

# le64 N: N as 8 little-endian bytes; emb FILE KEY: a safetensors file {KEY: F32 [2, 32]} of 1.0 and -0.5
le64() { n=$1; i=0; while [ $i -lt 8 ]; do printf "\\$(printf %03o $((n % 256)))"; n=$((n / 256)); i=$((i + 1)); done; }
emb() {
    h="{\"$2\":{\"dtype\":\"F32\",\"shape\":[2,32],\"data_offsets\":[0,256]}}"
    while [ $((${#h} % 8)) -ne 0 ]; do h="$h "; done
    { le64 ${#h}; printf '%s' "$h"; i=0; while [ $i -lt 32 ]; do printf '\000\000\200\077'; i=$((i + 1)); done
      i=0; while [ $i -lt 32 ]; do printf '\000\000\000\277'; i=$((i + 1)); done; } > "$1"
}

mkdir -p "$tmp/out"
out="$tmp/out"
expect "make_tiny_sd tiny" 0 "" -- "$GEN" --preset tiny --seed 1 --out "$tmp/tiny"
M="$tmp/tiny"

# ---- images -------------------------------------------------------------------------------------
expect "euler_a, the model's own size" 0 "wrote $out/a.png (64x64, seed 42)" -- \
    "$VKTI" generate --model "$M" --prompt "a photo of a cat" --negative "blurry" --steps 4 --seed 42 --out "$out/a.png"
check "... progress" grep -q "sampling  \[################################\] 4/4" "$tmp/log"
check "... the prompt in the PNG" params "$out/a.png" "a photo of a cat"
check "... the negative prompt" params "$out/a.png" "Negative prompt: blurry"
check "... A1111's parameters" params "$out/a.png" "Steps: 4, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 64x64, Model: tiny"
expect "the same seed again" 0 "" -- \
    "$VKTI" generate --model "$M" --prompt "a photo of a cat" --negative "blurry" --steps 4 --seed 42 --out "$out/b.png"
check "... the same bytes" cmp -s "$out/a.png" "$out/b.png"
expect "another seed" 0 "" -- "$VKTI" generate --model "$M" --prompt "a photo of a cat" --negative "blurry" --steps 4 \
    --seed 43 --out "$out/c.png"
check "... another picture" sh -c '! cmp -s "$1" "$2"' sh "$out/a.png" "$out/c.png"
expect "ddim with eta, 32x48" 0 "wrote $out/d.png (32x48, seed 7)" -- "$VKTI" generate --model "$M" --prompt "a dog" \
    --sampler ddim --eta 0.5 --steps 3 --seed 7 --width 32 --height 48 --out "$out/d.png"
check "... Eta DDIM" params "$out/d.png" "Sampler: DDIM, CFG scale: 7, Seed: 7, Size: 32x48, Model: tiny, Eta DDIM: 0.5"
expect "dpmpp_2m karras, no guidance" 0 "DPM++ 2M Karras, 3 steps, CFG 1" -- "$VKTI" generate --model "$M" --prompt "a dog" \
    --sampler dpmpp_2m --karras --cfg 1 --steps 3 --seed 7 --width 32 --height 32 --out "$out/e.png"
check "... its name" params "$out/e.png" "Sampler: DPM++ 2M Karras, CFG scale: 1"
expect "a batch of 2" 0 "wrote $out/f-2.png (32x32, seed 101)" -- "$VKTI" generate --model "$M" --prompt "a dog" --steps 2 \
    --seed 100 --batch 2 --width 32 --height 32 --out "$out/f.png"
check "... each with its seed" params "$out/f-2.png" "Seed: 101, Size: 32x32, Model: tiny, Batch size: 2, Batch pos: 1"
check "... no f.png" test ! -e "$out/f.png"
expect "the single file (A1111 model hash)" 0 "" -- "$GEN" --preset tiny --seed 1 --out "$tmp/tiny2" --single "$tmp/t.safetensors"
expect "... generates" 0 "wrote" -- "$VKTI" generate --model "$tmp/t.safetensors" --tokenizer "$M/tokenizer" --prompt "a dog" \
    --steps 2 --seed 1 --width 32 --height 32 --out "$out/g.png"
check "... Model hash" sh -c 'grep -a -q -E "Model hash: [0-9a-f]{8}, Model: t," "$1"' sh "$out/g.png"

# ---- embeddings ---------------------------------------------------------------------------------
emb "$tmp/tok.safetensors" "<tok>"
emb "$tmp/kohya-thing.safetensors" "emb_params"
expect "an embedding under its token" 0 "wrote" -- "$VKTI" generate --model "$M" --prompt "a <tok> on a table" --steps 2 \
    --seed 3 --width 32 --height 32 --out "$out/h.png" --embedding "$tmp/tok.safetensors"
check "... TI hashes" sh -c 'grep -a -q -E "TI hashes: \"<tok>: [0-9a-f]{12}\"" "$1"' sh "$out/h.png"
expect "two embeddings, one renamed, one kohya (named after its file)" 0 "wrote" -- "$VKTI" generate --model "$M" \
    --prompt "<mine> and kohya-thing" --steps 2 --seed 3 --width 32 --height 32 --out "$out/i.png" \
    --embedding "$tmp/tok.safetensors:<mine>" --embedding "$tmp/kohya-thing.safetensors"
check "... both hashed" sh -c 'grep -a -q -E "TI hashes: \"<mine>: [0-9a-f]{12}, kohya-thing: [0-9a-f]{12}\"" "$1"' sh "$out/i.png"
expect "a token only in the negative prompt, with guidance" 0 "wrote" -- "$VKTI" generate --model "$M" --prompt "a cat" \
    --negative "<tok>" --steps 2 --seed 3 --width 32 --height 32 --out "$out/j.png" --embedding "$tmp/tok.safetensors"
rm -f "$out"/*

# ---- bad input: refused before anything is written ------------------------------------------------
refused "width not a multiple of 8" "--width 100 is not a multiple of 8" -- \
    "$VKTI" generate --model "$M" --prompt x --width 100 --out "$out/x.png"
refused "zero steps" "--steps needs a whole number from 1 to 1000, not '0'" -- \
    "$VKTI" generate --model "$M" --prompt x --steps 0 --out "$out/x.png"
refused "unknown sampler" "--sampler must be ddim, euler_a or dpmpp_2m, not 'lms'" -- \
    "$VKTI" generate --model "$M" --prompt x --sampler lms --out "$out/x.png"
refused "karras with euler_a" "--karras applies to the dpmpp_2m sampler only" -- \
    "$VKTI" generate --model "$M" --prompt x --karras --out "$out/x.png"
refused "eta with dpmpp_2m" "--eta applies to the ddim sampler only" -- \
    "$VKTI" generate --model "$M" --prompt x --sampler dpmpp_2m --eta 0.3 --out "$out/x.png"
refused "eta past 1" "--eta must be from 0 (deterministic) to 1, not 2" -- \
    "$VKTI" generate --model "$M" --prompt x --sampler ddim --eta 2 --out "$out/x.png"
refused "not a .png" "give a file name ending in .png" -- "$VKTI" generate --model "$M" --prompt x --out "$out/x.jpg"
refused "unwritable output" "cannot write $tmp/nowhere/x.png" -- \
    "$VKTI" generate --model "$M" --prompt x --out "$tmp/nowhere/x.png"
refused "no prompt" "--prompt is needed" -- "$VKTI" generate --model "$M" --out "$out/x.png"
refused "bad --max-vram" "is not a size" -- "$VKTI" --max-vram lots generate --model "$M" --prompt x --out "$out/x.png"
refused "unknown option" "unknown option '--strength'" -- "$VKTI" generate --model "$M" --prompt x --strength 1 --out "$out/x.png"
# ... those that need the model
refused "width not a multiple of the model's factor" "--width 72 is not a multiple of 16 (the VAE's factor 8 times the UNet's downsampling 2); try 64" -- \
    "$VKTI" generate --model "$M" --prompt x --width 72 --out "$out/x.png"
refused "an embedding of another width" "its vectors are 768 wide (SD 1.x), this model's text encoder is 32 wide" -- \
    "$VKTI" generate --model "$M" --prompt "a <my-cat>" --out "$out/x.png" \
    --embedding "$SRC/tests/data/embedding/learned_embeds.safetensors"
refused "a token the prompt does not contain" "the prompt and the negative prompt do not contain its token '<tok>'" -- \
    "$VKTI" generate --model "$M" --prompt "a cat" --out "$out/x.png" --embedding "$tmp/tok.safetensors"
refused "a token only in an unused negative prompt" "is only in the negative prompt, which --cfg 1 does not use" -- \
    "$VKTI" generate --model "$M" --prompt "a cat" --negative "<tok>" --cfg 1 --out "$out/x.png" \
    --embedding "$tmp/tok.safetensors"
refused "the same token twice" "already a token of the tokenizer" -- "$VKTI" generate --model "$M" --prompt "a <tok>" \
    --out "$out/x.png" --embedding "$tmp/tok.safetensors" --embedding "$tmp/tok.safetensors"
refused "a token that is a word" "\"a\" is already a token" -- "$VKTI" generate --model "$M" --prompt "a cat" \
    --out "$out/x.png" --embedding "$tmp/tok.safetensors:a"
refused "an embedding that is not there" "cannot open" -- "$VKTI" generate --model "$M" --prompt "a cat" --out "$out/x.png" \
    --embedding "$tmp/none.safetensors"
refused "trailing spacing with a step count numpy miscounts" "give DDIMScheduler 62 timesteps, not 61" -- sh -c '
    cp -r "$1" "$2/t" && sed "s/\"steps_offset\":[[:space:]]*1/\"steps_offset\": 1, \"timestep_spacing\": \"trailing\"/" \
        "$1/scheduler/scheduler_config.json" > "$2/t/scheduler/scheduler_config.json" &&
    "$3" generate --model "$2/t" --prompt x --sampler ddim --steps 61 --out "$4/x.png"' sh "$M" "$tmp" "$VKTI" "$out"
refused "no model" "no such file or folder" -- "$VKTI" generate --model "$tmp/none" --prompt x --out "$out/x.png"

finish
