source .gl/env.sh >/dev/null 2>&1; export XDG_RUNTIME_DIR=/tmp
for d in "" coopmat; do VKTI_DISABLE=$d build/release/tests/vkti_test_ops -o matmul/ | tail -1; VKTI_DISABLE=$d build/release/tests/vkti_test_ops -o conv2d/ | grep -E "FAIL|passed" | tail -4; done
build/release/vkti bench ops | grep -E "f16" | grep -E "matmul|conv2d"
