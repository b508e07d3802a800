#!/usr/bin/env bash
# Packs build/kswarm (and the evaluator's tests) with the shared libraries it needs beyond glibc and
# libstdc++ into dist/, so it runs on another x86-64 Linux machine (the GPU machine) that has Python
# and torch but not kswarm's build dependencies. The binary finds dist/lib through its RUNPATH ($ORIGIN/lib).
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build build --target kswarm evaluator_test fake_llm_server
rm -rf dist
mkdir -p dist/lib
cp build/kswarm dist/kswarm
cp build/src/kswarm/evaluator/evaluator_test dist/evaluator_test  # its CUDA test runs there
cp build/testing/fake_llm_server dist/fake_llm_server  # scripts/gpu-check.sh's context part
strip dist/kswarm dist/evaluator_test dist/fake_llm_server
# Everything beyond the C and C++ runtimes (libcurl brings its TLS, HTTP/2 and IDN libraries).
# bubblewrap, which contains candidate code (docs/containment.md), behind a script that points it
# at the libraries packed here; the machine may have none of its own.
cp "$(command -v bwrap)" dist/bwrap.bin
printf '#!/bin/sh\nhere=$(dirname "$(readlink -f "$0")")\nLD_LIBRARY_PATH="$here/lib" exec "$here/bwrap.bin" "$@"\n' \
  > dist/bwrap
chmod +x dist/bwrap
ldd build/kswarm build/testing/fake_llm_server dist/bwrap.bin | awk '/=> \// {print $3}' |
  grep -vE '/(libc|libm|libdl|librt|libpthread|libresolv|libstdc\+\+|libgcc_s|ld-linux[^/]*)\.so' | while read -r lib; do
  cp -L "$lib" dist/lib/
done
ls -la dist dist/lib
