#!/usr/bin/env bash
# Packs build/kswarm with the shared libraries it needs beyond glibc and libstdc++ into dist/, so
# it runs on another x86-64 Linux machine (the GPU machine) that has Python and torch but not
# kswarm's build dependencies. The binary finds dist/lib through its RUNPATH ($ORIGIN/lib).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build build --target kswarm
rm -rf dist
mkdir -p dist/lib
cp build/kswarm dist/kswarm
strip dist/kswarm
ldd build/kswarm | awk '/=> \// {print $3}' | grep -E 'libsqlite3|libcrypto' | while read -r lib; do
  cp -L "$lib" dist/lib/
done
ls -la dist dist/lib
