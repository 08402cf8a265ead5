#!/bin/bash
# gpu-run.sh — what a GPU-machine session runs (see ../shared/device/README.md): device listing,
# every test program and the benchmarks, with full logs written to $OUT and a short table last.
# usage (on the GPU machine, from the repo root): source .gl/env.sh; tools/gpu-run.sh BUILD_DIR [what...]
#   what: devices tests cli bench (default: all of them)
set -u
B=${1:?usage: gpu-run.sh BUILD_DIR [devices|tests|cli|bench ...]}
shift
OUT=${OUT:-/tmp/vkti-out}
mkdir -p "$OUT"
what=${*:-devices tests cli bench}
summary=()
for w in $what; do
    case $w in
    devices)
        vulkaninfo --summary 2>/dev/null | grep -E 'deviceName|driverInfo|apiVersion' | tee "$OUT/vulkaninfo.txt"
        "$B/vkti" devices | tee "$OUT/devices.txt"
        "$B/vkti" devices --json > "$OUT/devices.json"
        summary+=("devices: rc=$?") ;;
    tests)
        start=$(date +%s)
        "$B/tests/vkti_test_ops" > "$OUT/test_ops.log" 2>&1; rc=$?
        summary+=("op tests: rc=$rc, $(tail -1 "$OUT/test_ops.log"), $(( $(date +%s) - start )) s")
        grep -E '^FAIL|validation' "$OUT/test_ops.log" | head -20
        # the portable paths on the same device (fast paths switched off)
        VKTI_DISABLE=coopmat "$B/tests/vkti_test_ops" > "$OUT/test_ops_portable.log" 2>&1; rc=$?
        summary+=("op tests, VKTI_DISABLE=coopmat: rc=$rc, $(tail -1 "$OUT/test_ops_portable.log")")
        grep -E '^FAIL|validation' "$OUT/test_ops_portable.log" | head -20
        for u in "$B"/tests/vkti_unit_*; do
            [ -x "$u" ] || continue
            "$u" > "$OUT/$(basename "$u").log" 2>&1; rc=$?
            summary+=("$(basename "$u"): rc=$rc, $(tail -1 "$OUT/$(basename "$u").log")")
        done ;;
    cli)
        for s in tests/cli/*.sh; do
            sh "$s" "$B/vkti" > "$OUT/cli_$(basename "$s" .sh).log" 2>&1; rc=$?
            summary+=("cli $(basename "$s"): rc=$rc, $(tail -1 "$OUT/cli_$(basename "$s" .sh).log")")
        done ;;
    bench)
        "$B/vkti" bench ops | tee "$OUT/bench_ops.txt"
        "$B/vkti" bench ops --json > "$OUT/bench_ops.json"
        summary+=("bench ops: rc=$?")
        VKTI_DISABLE=coopmat "$B/vkti" bench ops | tee "$OUT/bench_ops_portable.txt" ;;
    esac
done
echo "==== summary"
printf '%s\n' "${summary[@]}"
