#!/bin/sh
# expect_failure.sh REGEX COMMAND...: passes when COMMAND exits non-zero, prints a message matching
# REGEX (extended grep, on stdout+stderr), and did not start training (no progress line).
regex="$1"; shift
output=$("$@" 2>&1)
status=$?
printf '%s\n' "$output"
if [ "$status" -eq 0 ]; then echo "FAIL: expected a non-zero exit status"; exit 1; fi
if ! printf '%s\n' "$output" | grep -Eq -- "$regex"; then echo "FAIL: no message matching: $regex"; exit 1; fi
if printf '%s\n' "$output" | grep -Eq '^step [0-9]+/'; then echo "FAIL: training started"; exit 1; fi
exit 0
