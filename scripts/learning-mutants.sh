#!/usr/bin/env bash
# Shows that the learning tests can fail: builds a scratch clone of this repository's HEAD, plants one
# bug at a time (the generator loss with the wrong sign; Adam stepping up the gradient) and runs the
# learning tests against each: the mixture-of-Gaussians check and the MNIST image check (it needs MNIST
# in the dataset cache: `gantry data fetch mnist`). Every mutant must make every test fail; the script
# exits non-zero when one survives. Takes about ten minutes per mutant on 2 cores; the working tree is
# never touched.
#   bash scripts/learning-mutants.sh [scratch-dir]
set -uo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
scratch="${1:-$(mktemp -d /tmp/gantry-mutants.XXXXXX)}"
tests=(MogLearning.RecoversTheNineModesOnTheMedianOfFiveSeeds
       ImageLearning.DcganOnMnistMakesConfidentDigitsOfMostClassesOnTheMedianOfThreeSeeds)
rm -rf "$scratch/src" && git clone -q "$repo" "$scratch/src" || exit 2
cd "$scratch/src"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DGANTRY_CUDA=OFF >/dev/null || exit 2

# name | file | text to replace | replacement
mutants=(
  "generator loss sign|train/losses.cpp|return ns_g_loss(fake_scores);|return neg(ns_g_loss(fake_scores));"
  "Adam step direction|kernels/cpu/adam.cpp|static_cast<T>(-(h.lr|static_cast<T>((h.lr"
)
survivors=0
for m in "${mutants[@]}"; do
  IFS='|' read -r name file from to <<<"$m"
  git checkout -q -- .
  python3 - "$file" "$from" "$to" <<'PY' || { echo "mutant '$name': could not plant it (source changed?)"; exit 2; }
import sys
path, old, new = sys.argv[1:]
text = open(path).read()
if text.count(old) != 1: sys.exit(1)
open(path, "w").write(text.replace(old, new))
PY
  cmake --build build -j"$(nproc)" --target gantry_learning_tests >/dev/null || { echo "mutant '$name': build failed"; exit 2; }
  for test in "${tests[@]}"; do
    if GANTRY_REQUIRE_DATASETS=1 ./build/tests/gantry_learning_tests --gtest_filter="$test" >"$scratch/mutant.log" 2>&1; then
      echo "mutant '$name' vs $test: SURVIVED (the learning test passed with the bug planted)"
      survivors=$((survivors + 1))
    else
      echo "mutant '$name' vs $test: killed ($(grep -m1 '^run:' "$scratch/mutant.log"))"
    fi
  done
done
git checkout -q -- .
exit $((survivors > 0))
