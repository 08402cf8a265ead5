#!/bin/sh
# inspect_model.sh — tools/make_tiny_sd and `vkti inspect MODEL`: the tiny presets written as a
# diffusers folder, an LDM single-file .safetensors and a torch .ckpt, each inspected (family,
# layout, dtypes, parameters per network, scheduler, tokenizer found or where it was looked for,
# one fingerprint for the three); the generator's determinism (same seed, same bytes; another seed,
# other bytes); broken and unsupported models refused with exit code 1 and a message naming the
# problem. usage: inspect_model.sh path/to/vkti   (VKTI_BUILD_DIR set by ctest: make_tiny_sd is there)
VKTI=${1:?usage: inspect_model.sh path/to/vkti}
GEN=${VKTI_BUILD_DIR:-$(dirname "$VKTI")}/make_tiny_sd
. "$(dirname "$0")/lib/common.sh"
# no Hugging Face cache: where the tokenizer is looked for must not depend on this machine
export HOME="$tmp/home"; unset HF_HOME HF_HUB_CACHE; mkdir -p "$HOME"

fingerprint() { sed -n 's/^  fingerprint: //p' "$tmp/log"; }

expect "make_tiny_sd tiny" 0 "unet 792964, text encoder 45504, vae 316695 parameters" -- \
    "$GEN" --preset tiny --seed 1 --out "$tmp/tiny" --ckpt "$tmp/tiny.ckpt"
check "... wrote the folder, the single file and the checkpoint" test -f "$tmp/tiny/unet/diffusion_pytorch_model.safetensors" \
    -a -f "$tmp/tiny/text_encoder/model.safetensors" -a -f "$tmp/tiny/vae/config.json" -a -f "$tmp/tiny/model_index.json" \
    -a -f "$tmp/tiny/scheduler/scheduler_config.json" -a -f "$tmp/tiny/tokenizer/vocab.json" -a -f "$tmp/tiny.safetensors" \
    -a -f "$tmp/tiny.ckpt"

expect "inspect the diffusers folder" 0 "tiny: Stable Diffusion model, diffusers folder" -- "$VKTI" inspect "$tmp/tiny"
cp "$tmp/log" "$tmp/folder"
expect "... family" 0 "family: SD 1.x" -- cat "$tmp/folder"
expect "... unet parameters and dtype" 0 "unet          792,964 parameters, F32, 208 tensors" -- cat "$tmp/folder"
expect "... text encoder" 0 "text_encoder  45,504 parameters, F32, 36 tensors" -- cat "$tmp/folder"
expect "... text encoder architecture" 0 "width 32, 2 layers, 4 heads, MLP 64 (quick_gelu), vocabulary 809" -- cat "$tmp/folder"
expect "... vae" 0 "vae           316,695 parameters, F32, 180 tensors" -- cat "$tmp/folder"
expect "... unet architecture" 0 "heads 2, 2 of width 16, 32; cross-attention 32; 8 groups" -- cat "$tmp/folder"
expect "... total" 0 "total: 1,155,163 parameters" -- cat "$tmp/folder"
expect "... scheduler" 0 "scheduler: prediction epsilon, scaled_linear betas 0.00085 to 0.012, 1000 training steps" -- cat "$tmp/folder"
expect "... tokenizer found" 0 "tokenizer: $tmp/tiny/tokenizer" -- cat "$tmp/folder"
fp_folder=$(fingerprint)
check "... a 16-digit fingerprint" sh -c 'echo "$1" | grep -qE "^[0-9a-f]{16}$"' sh "$fp_folder"

expect "inspect the single file" 0 "single file (LDM layout, safetensors)" -- "$VKTI" inspect "$tmp/tiny.safetensors"
check "... same fingerprint as the folder" test "$(fingerprint)" = "$fp_folder"
expect "... the unused position_ids counted" 0 "(1 tensor in the files not used by any network)" -- "$VKTI" inspect "$tmp/tiny.safetensors"
expect "... configs from its metadata" 0 "__metadata__ vkti.unet_config" -- "$VKTI" inspect "$tmp/tiny.safetensors"
expect "... no tokenizer: where it looked" 0 "tokenizer: not found: no CLIP tokenizer found" -- "$VKTI" inspect "$tmp/tiny.safetensors"
check "... the list of places" grep -q "$tmp/tokenizer" "$tmp/log"
expect "... --tokenizer DIR" 0 "tokenizer: $tmp/tiny/tokenizer" -- "$VKTI" inspect "$tmp/tiny.safetensors" --tokenizer "$tmp/tiny/tokenizer"
expect "inspect the .ckpt" 0 "single file (LDM layout, torch zip)" -- "$VKTI" inspect "$tmp/tiny.ckpt"
check "... same fingerprint" test "$(fingerprint)" = "$fp_folder"
expect "... configs inferred from shapes" 0 "config: inferred from" -- "$VKTI" inspect "$tmp/tiny.ckpt"

expect "make_tiny_sd tiny-sd2 (f16)" 0 "tiny-sd2 (seed 2, F16)" -- "$GEN" --preset tiny-sd2 --seed 2 --dtype f16 --out "$tmp/sd2" --ckpt "$tmp/sd2.ckpt"
expect "inspect tiny-sd2" 0 "family: SD 2.x" -- "$VKTI" inspect "$tmp/sd2"
cp "$tmp/log" "$tmp/sd2log"
expect "... v_prediction" 0 "prediction v_prediction" -- cat "$tmp/sd2log"
expect "... F16" 0 "unet          792,964 parameters, F16" -- cat "$tmp/sd2log"
expect "... linear projections, 16-wide heads" 0 "heads 2, 4 of width 16, 16; cross-attention 32; 8 groups; linear projections" -- cat "$tmp/sd2log"
expect "... gelu" 0 "(gelu)" -- cat "$tmp/sd2log"
expect "tiny-sd2 single file: OpenCLIP extras unused" 0 "(14 tensors in the files not used by any network)" -- "$VKTI" inspect "$tmp/sd2.safetensors"
expect "tiny-sd2 .ckpt: v_prediction by diffusers' rule" 0 "prediction v_prediction" -- "$VKTI" inspect "$tmp/sd2.ckpt"

# determinism
"$GEN" --preset tiny --seed 1 --out "$tmp/again" --no-single >/dev/null 2>&1
check "same seed, same bytes" cmp -s "$tmp/tiny/unet/diffusion_pytorch_model.safetensors" "$tmp/again/unet/diffusion_pytorch_model.safetensors"
"$GEN" --preset tiny --seed 9 --out "$tmp/other" --no-single >/dev/null 2>&1
check "another seed, other bytes" sh -c '! cmp -s "$1" "$2"' sh "$tmp/tiny/unet/diffusion_pytorch_model.safetensors" "$tmp/other/unet/diffusion_pytorch_model.safetensors"
expect "another seed, another fingerprint" 0 "fingerprint" -- "$VKTI" inspect "$tmp/other"
check "... differs" test "$(fingerprint)" != "$fp_folder"
expect "custom sizes" 0 "unet" -- "$GEN" --out "$tmp/custom" --no-single --unet-channels 32,32,64 --unet-layers 2 --heads 4 --groups 4 --context 48 --text-layers 3 --text-heads 6 --vocab 900
expect "... inspected" 0 "blocks 32, 32, 64 (attention, attention, plain); resnets per block 2, 2, 2; heads 4, 4, 4" -- "$VKTI" inspect "$tmp/custom"
expect "make_tiny_sd: bad preset" 1 "unknown preset" -- "$GEN" --preset sdxl --out "$tmp/x"
expect "make_tiny_sd: no --out" 1 "--out DIR is needed" -- "$GEN" --preset tiny
expect "make_tiny_sd: heads not dividing" 1 "attention_head_dim" -- "$GEN" --out "$tmp/x" --heads 3

# broken and unsupported models
cp -r "$tmp/tiny" "$tmp/broken"
head -c 100000 "$tmp/tiny/unet/diffusion_pytorch_model.safetensors" > "$tmp/broken/unet/diffusion_pytorch_model.safetensors"
expect "a truncated weight file" 1 "broken/unet/diffusion_pytorch_model.safetensors" -- "$VKTI" inspect "$tmp/broken"
cp -r "$tmp/tiny" "$tmp/xl"
sed 's/"act_fn"/"addition_embed_type": "text_time", "act_fn"/' "$tmp/tiny/unet/config.json" > "$tmp/xl/unet/config.json"
expect "an SDXL unet config" 1 "addition_embed_type" -- "$VKTI" inspect "$tmp/xl"
check "... one line" test "$(grep -c . "$tmp/log")" -eq 1
mkdir -p "$tmp/images"
expect "--tokenizer on an image folder" 1 "--tokenizer is for models" -- "$VKTI" inspect "$tmp/images" --tokenizer "$tmp"
expect "vkti --help lists inspect MODEL" 0 "inspect MODEL" -- "$VKTI" --help
expect "inspect --help describes models" 0 "vkti inspect MODEL \[--tokenizer DIR\]" -- "$VKTI" inspect --help

finish
