#!/usr/bin/env bash
# The main job: installs what is missing, builds, then simulates the seed herd
# (scenarios/seed.json) and writes its run directory to runs/seed/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec build/cli/herd sim scenarios/seed.json --out runs/seed "$@"
