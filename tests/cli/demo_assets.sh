#!/bin/sh
# demo_assets.sh — the bundled demo images (assets/demo/) are exactly what tools/make_demo_assets.c
# draws (decoded pixels compared), and `vkti inspect` finds them all usable, with no duplicates.
# usage: demo_assets.sh path/to/vkti   (VKTI_SOURCE_DIR and VKTI_BUILD_DIR set by ctest)
VKTI=${1:?usage: demo_assets.sh path/to/vkti}
SRC=${VKTI_SOURCE_DIR:?VKTI_SOURCE_DIR not set}
TOOL=${VKTI_BUILD_DIR:?VKTI_BUILD_DIR not set}/make_demo_assets
. "$(dirname "$0")/lib/common.sh"

if "$TOOL" --check "$SRC/assets/demo" >"$tmp/out" 2>&1; then
    echo "ok   assets/demo matches the generator"; pass=$((pass+1))
else
    echo "FAIL assets/demo differs from the generator:"; sed 's/^/     /' "$tmp/out"; fail=$((fail+1))
fi
"$TOOL" "$tmp/demo" >/dev/null 2>&1 && "$TOOL" --check "$tmp/demo" >/dev/null 2>&1 \
    && { echo "ok   regenerated images check"; pass=$((pass+1)); } || { echo "FAIL regenerate + check"; fail=$((fail+1)); }
# a changed pixel is noticed
cp "$SRC/assets/demo/demo_01.png" "$tmp/demo/demo_00.png"
"$TOOL" --check "$tmp/demo" >/dev/null 2>&1 \
    && { echo "FAIL a wrong image passed the check"; fail=$((fail+1)); } || { echo "ok   a wrong image fails the check"; pass=$((pass+1)); }
n=$(ls "$SRC/assets/demo"/*.png | wc -l)
size=$(cat "$SRC/assets/demo"/*.png | wc -c)
if [ "$n" -ge 6 ] && [ "$n" -le 8 ] && [ "$size" -lt 2000000 ]; then
    echo "ok   $n images, $size bytes"; pass=$((pass+1))
else
    echo "FAIL $n images, $size bytes"; fail=$((fail+1))
fi
if (cd "$tmp" && "$VKTI" inspect "$SRC/assets/demo" --resolution 64 --out demo.png) >"$tmp/out" 2>&1 \
    && grep -q ": $n images" "$tmp/out" && grep -q "exact duplicates (same decoded pixels): 0" "$tmp/out" \
    && grep -q "skipped: 0 files" "$tmp/out"; then
    echo "ok   vkti inspect assets/demo"; pass=$((pass+1))
else
    echo "FAIL vkti inspect assets/demo"; sed 's/^/     /' "$tmp/out"; fail=$((fail+1))
fi
finish
