#!/usr/bin/env bash
# Installs what kswarm needs on a fresh Debian 12 machine (Debian packages, a Python venv with the
# worker's requirements in .venv) and builds it into build/. Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBS=(cmake ninja-build g++ pkg-config ccache python3-venv
      libcli11-dev nlohmann-json3-dev libsqlitecpp-dev libsqlite3-dev libfmt-dev libexpected-dev
      libssl-dev libcurl4-openssl-dev libcpp-httplib-dev libgtest-dev libgmock-dev libkainjow-mustache-dev libtomlplusplus-dev chromium
      bubblewrap libseccomp-dev slurm-wlm munge)
missing=()
for pkg in "${DEBS[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $("$PYTHON" --version)"
  "$PYTHON" -m venv .venv
fi
stamp=".venv/.kswarm-requirements.sha256"
want=$(sha256sum python/requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing python/requirements.txt into .venv (torch is large: a few minutes)"
  .venv/bin/python -m pip install -q --disable-pip-version-check -r python/requirements.txt
  echo "$want" > "$stamp"
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DKSWARM_PYTHON="$PWD/.venv/bin/python" -DKSWARM_WORKER_DIR="$PWD/python" >/dev/null
cmake --build build
echo "setup: built build/kswarm"
