#!/bin/sh
# devices.sh — `vkti devices`, `vkti selftest` and the environment errors: a --device that matches
# nothing, no Vulkan driver, a device without 16-bit storage, bad options. Each must give one clear
# line and the documented exit code (0 ok, 1 bad input, 2 environment), never a crash.
# usage: devices.sh path/to/vkti
VKTI=${1:?usage: devices.sh path/to/vkti}
. "$(dirname "$0")/lib/common.sh"

expect "devices lists a device" 0 "^\*0: " -- "$VKTI" devices
expect "devices --json is a JSON array" 0 '"capabilities"' -- "$VKTI" devices --json
"$VKTI" devices --json | head -c 1 | grep -q '\[' && { echo "ok   json starts with ["; pass=$((pass+1)); } || { echo "FAIL json start"; fail=$((fail+1)); }
expect "selftest passes" 0 "0 failed" -- "$VKTI" selftest
expect "selftest fp32 passes" 0 "0 failed" -- "$VKTI" --precision fp32 selftest
expect "--device that matches nothing" 2 "matches no Vulkan device" -- "$VKTI" --device no-such-gpu selftest
one_line "--device error is one line" "$VKTI" --device no-such-gpu selftest
expect "--device index out of range" 2 "matches no Vulkan device" -- "$VKTI" --device 99 selftest
expect "no Vulkan driver" 2 "no Vulkan driver\|found no device" -- env VK_DRIVER_FILES=/nonexistent.json VK_ICD_FILENAMES=/nonexistent.json "$VKTI" devices
# (the user's view: without the validation layer, whose loader messages a user would not see)
one_line "no-driver error is one line" env VKTI_VALIDATION= VK_DRIVER_FILES=/nonexistent.json VK_ICD_FILENAMES=/nonexistent.json "$VKTI" devices
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

finish
