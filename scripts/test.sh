#!/usr/bin/env bash
# Runs every test on this machine's CPU: the C++ unit and integration tests (ctest), then the
# worker's and the command line's tests (pytest): side by side, one test file per process, except
# those marked `serial` (pytest.ini), which run afterwards one at a time. Needs scripts/setup.sh
# to have run.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build build
(cd build && ctest --output-on-failure -j "$(nproc)")
jobs=$(( $(nproc) < 4 ? $(nproc) : 4 ))
tests=(python/tests tests/e2e tests/adversarial)
.venv/bin/python -m pytest -q -n "$jobs" --dist loadfile -m "not serial" "${tests[@]}"
.venv/bin/python -m pytest -q -m serial "${tests[@]}"
