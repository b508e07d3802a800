#!/usr/bin/env bash
# Runs every test on this machine's CPU: the C++ unit and integration tests (ctest), then the
# worker's and the command line's tests (pytest). Needs scripts/setup.sh to have run.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build build
(cd build && ctest --output-on-failure -j "$(nproc)")
.venv/bin/python -m pytest -q python/tests tests/e2e tests/adversarial
