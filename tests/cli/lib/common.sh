# common.sh — what the command-line tests (tests/cli/*.sh) share, sourced by each:
#   pass, fail          the counters; finish prints them and fails the script if anything failed
#   $tmp                a scratch folder, removed at exit; $tmp/log holds the last command's output
#   expect NAME CODE PATTERN -- command...   exit code CODE, stdout+stderr matching PATTERN, no crash
#   check NAME command...                    the command succeeds
#   refused NAME PATTERN -- command...       exit 1, one line of output holding PATTERN, and no
#                                            file added to $tmp/out (the caller makes that folder)
#   one_line NAME command...                 exactly one line on stderr
pass=0; fail=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

expect() {
    name=$1; want=$2; pattern=$3; shift 4
    "$@" >"$tmp/log" 2>&1; code=$?
    if [ "$code" -ne "$want" ]; then
        echo "FAIL $name: exit code $code, expected $want"; sed 's/^/     /' "$tmp/log" | head -30; fail=$((fail+1)); return
    fi
    if [ -n "$pattern" ] && ! grep -q -- "$pattern" "$tmp/log"; then
        echo "FAIL $name: output lacks '$pattern'"; sed 's/^/     /' "$tmp/log" | head -30; fail=$((fail+1)); return
    fi
    if grep -qiE 'segmentation|core dumped|AddressSanitizer|runtime error' "$tmp/log"; then
        echo "FAIL $name: crashed"; sed 's/^/     /' "$tmp/log" | head -30; fail=$((fail+1)); return
    fi
    echo "ok   $name"; pass=$((pass+1))
}

check() {
    name=$1; shift
    if "$@"; then echo "ok   $name"; pass=$((pass+1)); else echo "FAIL $name"; fail=$((fail+1)); fi
}

refused() {
    name=$1; pattern=$2; shift 3
    before=$(ls -A "$tmp/out" | tr '\n' ' ')
    expect "$name" 1 "$pattern" -- "$@"
    check "... one line" test "$(grep -c . "$tmp/log")" -eq 1
    check "... nothing written" test "$(ls -A "$tmp/out" | tr '\n' ' ')" = "$before"
}

one_line() {
    name=$1; shift
    "$@" >/dev/null 2>"$tmp/err"
    n=$(grep -c . "$tmp/err")
    if [ "$n" -eq 1 ]; then echo "ok   $name"; pass=$((pass+1)); else echo "FAIL $name: $n lines on stderr"; cat "$tmp/err"; fail=$((fail+1)); fi
}

finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
