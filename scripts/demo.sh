#!/usr/bin/env bash
# Set up, then run the demo end to end on embedded defaults (no server needed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/dematflow demo "$@"
