#!/usr/bin/env bash
# Installs the Debian packages gantry builds and tests with. Safe to re-run; does nothing when all
# are present. Set GANTRY_WITH_TORCH=1 to also install PyTorch (CPU) for golden files and benchmarks.
set -euo pipefail

packages=(cmake ninja-build make g++ pkg-config libopenblas-dev libopenblas0-pthread nlohmann-json3-dev
          zlib1g-dev googletest libgtest-dev clang-format git
          clang libclang-rt-14-dev llvm  # clang, libFuzzer, llvm-symbolizer: the sanitizer build, scripts/fuzz.sh
          ccache binutils)  # the builds of scripts/test.sh share a compiler cache; addr2line for emulator faults
if [ "${GANTRY_WITH_TORCH:-0}" = 1 ]; then packages+=(python3-torch python3-numpy); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-deps: all packages present"
  exit 0
fi
echo "setup-deps: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { echo "setup-deps: need root or sudo to install ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi
"${sudo_cmd[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
