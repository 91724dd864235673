#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, configures, builds, then ctest.
# HERD_SANITIZE=ON runs it in an ASan+UBSan build (build-sanitize/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [[ ${HERD_SANITIZE:-OFF} == ON ]]; then build=${HERD_BUILD_DIR:-build-sanitize}; else build=${HERD_BUILD_DIR:-build}; fi
ctest --test-dir "$build" --output-on-failure -j"$(nproc)" "$@"
