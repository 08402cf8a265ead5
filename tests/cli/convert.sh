#!/bin/sh
# convert.sh — `vkti convert` and `vkti inspect EMBEDDING` on the fixtures of tests/data/embedding.
# A chain A1111 .pt -> diffusers -> kohya -> A1111 .pt must give back the torch.save bytes it began
# with; inspect reports format, tokens, width, family, norms, metadata. The error paths (missing
# input, unknown format, same input and output — also by another spelling —, unwritable output, an
# output name that names no format, a format that contradicts the name, a bad token, a file that is
# no embedding, a hostile one, SDXL to .pt) each print one line, exit 1 and write nothing.
# usage: convert.sh path/to/vkti   (VKTI_SOURCE_DIR set by ctest)
VKTI=${1:?usage: convert.sh path/to/vkti}
SRC=${VKTI_SOURCE_DIR:-$(dirname "$0")/../..}
EMB="$SRC/tests/data/embedding"
. "$(dirname "$0")/lib/common.sh"

mkdir -p "$tmp/out"
out="$tmp/out"

# the chain back to the start: torch.save's own bytes
expect "a1111 -> diffusers" 0 "wrote $out/a.safetensors: diffusers, token '<my-cat>', 2 vectors of width 768" -- \
    "$VKTI" convert "$EMB/a1111_expected.pt" "$out/a.safetensors"
expect "diffusers -> kohya" 0 "wrote $out/k.safetensors: kohya" -- \
    "$VKTI" convert "$out/a.safetensors" "$out/k.safetensors" --format kohya
expect "kohya -> a1111" 0 "wrote $out/back.pt: a1111, token '<my-cat>'" -- "$VKTI" convert "$out/k.safetensors" "$out/back.pt"
check "... the same bytes torch.save writes" cmp -s "$out/back.pt" "$EMB/a1111_expected.pt"
expect "--token" 0 "token '<new>'" -- "$VKTI" convert "$EMB/learned_embeds.safetensors" "$out/t.pt" --token "<new>"
expect "... inspect shows it" 0 "token: <new> (3 vectors: <new> <new>_1 <new>_2)" -- "$VKTI" inspect "$out/t.pt"
expect "metadata a .pt cannot hold is named" 0 "not carried over (a .pt has no place for it): modelspec.sai_model_spec" -- \
    "$VKTI" convert "$EMB/kohya-tok.safetensors" "$out/kohya.pt"
expect "SDXL stays kohya" 0 "width clip_l 768 + clip_g 1280" -- \
    "$VKTI" convert "$EMB/sdxl_emb.safetensors" "$out/xl.safetensors" --format kohya

# inspect
expect "inspect a1111" 0 "a1111 format (PyTorch, F32)" -- "$VKTI" inspect "$EMB/a1111_sd15.pt"
expect "... width and family" 0 "width: 768, fits SD 1.x" -- "$VKTI" inspect "$EMB/a1111_sd15.pt"
expect "... norms" 0 "vector norms (L2): 21.92 21.91" -- "$VKTI" inspect "$EMB/a1111_sd15.pt"
expect "... steps" 0 "trained steps: 1500" -- "$VKTI" inspect "$EMB/a1111_sd15.pt"
expect "... base model" 0 "base model: v1-5-pruned-emaonly hash a9263745" -- "$VKTI" inspect "$EMB/a1111_sd15.pt"
expect "inspect SD 2.x, F16" 0 "width: 1024, fits SD 2.x" -- "$VKTI" inspect "$EMB/diffusers_f16.safetensors"
expect "inspect SDXL" 0 "width: clip_l 768 + clip_g 1280, fits SDXL" -- "$VKTI" inspect "$EMB/sdxl_emb.safetensors"
expect "... norms per half" 0 "vector norms (L2), clip_g" -- "$VKTI" inspect "$EMB/sdxl_emb.safetensors"
expect "inspect kohya metadata" 0 "modelspec.title: kohya-tok" -- "$VKTI" inspect "$EMB/kohya-tok.safetensors"
expect "inspect a diffusers .bin" 0 "diffusers format (PyTorch, F32)" -- "$VKTI" inspect "$EMB/learned_embeds.bin"
expect "inspect a broken embedding" 1 "vector 1, element 3 is NaN" -- "$VKTI" inspect "$EMB/hostile/nan.safetensors"
check "... one line" test "$(grep -c . "$tmp/log")" -eq 1

# errors: one line, exit 1, nothing written
refused "missing input" "cannot open" -- "$VKTI" convert "$tmp/nope.pt" "$out/x.safetensors"
refused "unknown format" "--format must be diffusers, kohya or a1111, not 'webui'" -- \
    "$VKTI" convert "$EMB/a1111_sd15.pt" "$out/x.safetensors" --format webui
refused "same input and output" "is the input file" -- "$VKTI" convert "$out/a.safetensors" "$out/a.safetensors"
check "... input untouched" "$VKTI" inspect "$out/a.safetensors" >/dev/null 2>&1
refused "same file, another spelling" "is the input file" -- \
    "$VKTI" convert "$out/a.safetensors" "$out/../out/./a.safetensors" --format kohya
refused "unwritable output (no such folder)" "does not exist" -- \
    "$VKTI" convert "$EMB/a1111_sd15.pt" "$out/no/such/dir/x.pt"
if [ -d /proc/self ]; then # a folder nobody may create files in, root included
    refused "unwritable output (/proc)" "cannot write /proc/x.pt" -- "$VKTI" convert "$EMB/a1111_sd15.pt" /proc/x.pt
fi
if [ "$(id -u)" -ne 0 ]; then
    mkdir "$tmp/ro" && chmod 555 "$tmp/ro"
    expect "unwritable output (read-only folder)" 1 "cannot create" -- "$VKTI" convert "$EMB/a1111_sd15.pt" "$tmp/ro/x.pt"
    check "... nothing written" test -z "$(ls -A "$tmp/ro")"
else
    echo "skip unwritable output (read-only folder): running as root, which may write anywhere"
fi
refused "output name without a format" "cannot tell the format from the name" -- \
    "$VKTI" convert "$EMB/a1111_sd15.pt" "$out/x.bin"
refused "format against the name" "end the output's name in .pt" -- \
    "$VKTI" convert "$EMB/a1111_sd15.pt" "$out/x.safetensors" --format a1111
refused "a bad token" "starts or ends with a space" -- \
    "$VKTI" convert "$EMB/a1111_sd15.pt" "$out/x.pt" --token " cat"
refused "not an embedding" "not an embedding" -- "$VKTI" convert "$EMB/hostile/model.safetensors" "$out/x.pt"
refused "a hostile file" "the pickle calls os.system" -- "$VKTI" convert "$EMB/hostile/os_system.pt" "$out/x.safetensors"
refused "SDXL to .pt" "no AUTOMATIC1111 .pt form" -- "$VKTI" convert "$EMB/sdxl_emb.safetensors" "$out/x.pt"
refused "no output" "give an input and an output" -- "$VKTI" convert "$EMB/a1111_sd15.pt"
refused "three files" "a third file" -- "$VKTI" convert "$EMB/a1111_sd15.pt" "$out/x.pt" "$out/y.pt"
refused "unknown option" "unknown option '--frob'" -- "$VKTI" convert "$EMB/a1111_sd15.pt" "$out/x.pt" --frob
check "no temporary files left" test -z "$(ls -A "$out" | grep tmp)"

expect "convert --help" 0 "usage: vkti convert IN OUT" -- "$VKTI" convert --help
expect "vkti --help lists convert" 0 "convert IN OUT" -- "$VKTI" --help

finish
