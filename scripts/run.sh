#!/usr/bin/env bash
# The main job: installs what is missing, builds, then runs the seed herd and writes its report.
# Until the simulator exists, that is the in-memory demo (`herd demo`), written to runs/demo/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec build/cli/herd demo --out runs/demo "$@"
