#!/bin/sh
# devices.sh — `vkti devices`, `vkti selftest` and the environment errors: a --device that matches
# nothing, no Vulkan driver, a device without 16-bit storage, bad options. Each must give one clear
# line and the documented exit code (0 ok, 1 bad input, 2 environment), never a crash.
# usage: devices.sh path/to/vkti
VKTI=${1:?usage: devices.sh path/to/vkti}
pass=0; fail=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# expect NAME WANT_CODE PATTERN -- command...: runs it, checks exit code and that stderr+stdout match PATTERN
expect() {
    name=$1; want=$2; pattern=$3; shift 4
    "$@" >"$tmp/out" 2>&1; code=$?
    if [ "$code" -ne "$want" ]; then
        echo "FAIL $name: exit code $code, expected $want"; sed 's/^/     /' "$tmp/out" | head -20; fail=$((fail+1)); return
    fi
    if [ -n "$pattern" ] && ! grep -q -- "$pattern" "$tmp/out"; then
        echo "FAIL $name: output lacks '$pattern'"; sed 's/^/     /' "$tmp/out" | head -20; fail=$((fail+1)); return
    fi
    if grep -qiE 'segmentation|core dumped|AddressSanitizer|runtime error' "$tmp/out"; then
        echo "FAIL $name: crashed"; sed 's/^/     /' "$tmp/out" | head -20; fail=$((fail+1)); return
    fi
    echo "ok   $name"; pass=$((pass+1))
}

# error messages are one line
one_line() {
    name=$1; shift
    "$@" >/dev/null 2>"$tmp/err"
    n=$(grep -c . "$tmp/err")
    if [ "$n" -eq 1 ]; then echo "ok   $name"; pass=$((pass+1)); else echo "FAIL $name: $n lines on stderr"; cat "$tmp/err"; fail=$((fail+1)); fi
}

expect "devices lists a device" 0 "^\*0: " -- "$VKTI" devices
expect "devices --json is a JSON array" 0 '"capabilities"' -- "$VKTI" devices --json
"$VKTI" devices --json | head -c 1 | grep -q '\[' && { echo "ok   json starts with ["; pass=$((pass+1)); } || { echo "FAIL json start"; fail=$((fail+1)); }
expect "selftest passes" 0 "0 failed" -- "$VKTI" selftest
expect "selftest fp32 passes" 0 "0 failed" -- "$VKTI" --precision fp32 selftest
expect "--device that matches nothing" 2 "matches no Vulkan device" -- "$VKTI" --device no-such-gpu selftest
one_line "--device error is one line" "$VKTI" --device no-such-gpu selftest
expect "--device index out of range" 2 "matches no Vulkan device" -- "$VKTI" --device 99 selftest
expect "no Vulkan driver" 2 "no Vulkan driver\|found no device" -- env VK_DRIVER_FILES=/nonexistent.json VK_ICD_FILENAMES=/nonexistent.json "$VKTI" devices
one_line "no-driver error is one line" env VK_DRIVER_FILES=/nonexistent.json VK_ICD_FILENAMES=/nonexistent.json "$VKTI" devices
expect "device without 16-bit storage" 2 "16-bit storage.*--precision fp32" -- env VKTI_DISABLE=storage16 "$VKTI" selftest
expect "... runs with --precision fp32" 0 "0 failed" -- env VKTI_DISABLE=storage16 "$VKTI" --precision fp32 selftest
expect "bad --precision" 1 "fp16 or fp32" -- "$VKTI" --precision fp8 devices
expect "unknown command" 1 "unknown command" -- "$VKTI" frobnicate
expect "unknown option" 1 "unknown option" -- "$VKTI" devices --frob
expect "help" 0 "usage: vkti" -- "$VKTI" --help
expect "devices --help" 0 "usage: vkti devices" -- "$VKTI" devices --help
expect "bench --help" 0 "usage: vkti bench" -- "$VKTI" bench --help
expect "bench of something unknown" 1 "unknown benchmark" -- "$VKTI" bench nonsense
expect "bench step needs a model" 1 "needs --model" -- "$VKTI" bench step

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
