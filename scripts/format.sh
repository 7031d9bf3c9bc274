#!/usr/bin/env bash
# Formats the C++/CUDA lines changed since BASE with .clang-format (git clang-format).
#
#   bash scripts/format.sh            # the uncommitted change (BASE = HEAD)
#   bash scripts/format.sh main~3     # everything since main~3, committed or not
#   bash scripts/format.sh --check    # print what would change; exit 1 if anything would
#
# Only changed lines are formatted: much of the older code keeps hand-aligned tables (enum groups with
# one comment, one-line template specialisations) that a whole-file pass would spread out.
set -euo pipefail
cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
check=0
base=HEAD
for arg in "$@"; do
  case "$arg" in
    --check) check=1 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "format.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
    *) base="$arg" ;;
  esac
done
command -v git-clang-format >/dev/null || { echo "format.sh: needs git-clang-format (Debian: clang-format)" >&2; exit 2; }
git rev-parse --verify --quiet "$base^{commit}" >/dev/null || { echo "format.sh: '$base' is not a commit" >&2; exit 2; }
extensions=cpp,h,cu,cuh
if [ "$check" = 1 ]; then
  out="$(git clang-format --diff --extensions "$extensions" "$base" -- . ':!third_party' || true)"
  case "$out" in
    ""|*"no modified files to format"*|*"did not modify any files"*) echo "format.sh: formatted"; exit 0 ;;
  esac
  printf '%s\n' "$out"
  exit 1
fi
git clang-format --force --extensions "$extensions" "$base" -- . ':!third_party'
