#!/usr/bin/env bash
# Installs the Debian packages herd needs (only those missing), then configures and builds.
# Idempotent and quiet when everything is present. Run as root on Debian 12 (or with sudo).
#   HERD_SANITIZE=ON  build with ASan+UBSan into build-sanitize/ instead of build/
#   HERD_BUILD_DIR    override the build directory
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ cmake ninja-build
  libboost1.74-dev libboost-iostreams1.74-dev libboost-filesystem1.74-dev libboost-system1.74-dev
  libssl-dev nlohmann-json3-dev libcli11-dev catch2
  libgnuplot-iostream-dev gnuplot-nox chromium
  netcat-openbsd
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    as_root=()
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root=(sudo)
  else
    echo "setup: missing Debian packages: ${missing[*]}" >&2
    echo "setup: run as root, or install them with: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/herd-apt.log 2>&1; then
    # A fresh machine may have stale or no package lists.
    "${as_root[@]}" apt-get update -qq >>/tmp/herd-apt.log 2>&1 || true
    if ! "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >>/tmp/herd-apt.log 2>&1; then
      echo "setup: apt-get could not install: ${missing[*]} (log: /tmp/herd-apt.log)" >&2
      tail -n 5 /tmp/herd-apt.log >&2
      exit 1
    fi
  fi
fi

sanitize=${HERD_SANITIZE:-OFF}
if [[ $sanitize == ON ]]; then
  build=${HERD_BUILD_DIR:-build-sanitize}
else
  build=${HERD_BUILD_DIR:-build}
fi
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHERD_WERROR=ON \
        -DHERD_SANITIZE="$sanitize" >/dev/null
fi
# Quiet when the build succeeds; the whole log when it does not.
if ! cmake --build "$build" -j"$(nproc)" >"$build/build.log" 2>&1; then
  cat "$build/build.log" >&2
  echo "setup: build failed (log: $build/build.log)" >&2
  exit 1
fi
