#!/bin/sh
# scripts/format.sh in a scratch repository: --check fails on an untidy change and passes once the script
# has formatted it, and lines the change did not touch keep their hand layout.
#   format_script_test.sh <source root>
set -eu
root="$1"
command -v git-clang-format >/dev/null || { echo "SKIPPED: git-clang-format is not installed"; exit 77; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
git init -q .
git config user.email dev@example.invalid
git config user.name dev
mkdir scripts
cp "$root/.clang-format" .
cp "$root/scripts/format.sh" scripts/
printf 'int   kept( ){return 0;}\n' > a.cpp
git add . && git commit -qm base
printf 'int   kept( ){return 0;}\nint   added( int x ){return x+1;}\n' > a.cpp

if bash scripts/format.sh --check > check.out; then echo "FAIL: --check passed an untidy change"; exit 1; fi
grep -q "a.cpp" check.out || { echo "FAIL: --check did not name a.cpp"; cat check.out; exit 1; }
bash scripts/format.sh > /dev/null
bash scripts/format.sh --check > /dev/null || { echo "FAIL: --check failed after formatting"; exit 1; }
grep -qx 'int added(int x) { return x + 1; }' a.cpp || { echo "FAIL: the added line is not formatted"; cat a.cpp; exit 1; }
grep -qx 'int   kept( ){return 0;}' a.cpp || { echo "FAIL: an untouched line was reformatted"; cat a.cpp; exit 1; }
if bash scripts/format.sh --bogus 2>/dev/null; then echo "FAIL: an unknown option was accepted"; exit 1; fi
echo "format.sh: checks, formats only changed lines, rejects bad options"
