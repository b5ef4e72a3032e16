#!/usr/bin/env bash
# Syntax-checks the embedded CUDA kernels with clang (no CUDA toolkit needed): each Kernels/X.cu is checked as NVRTC
# sees it (common.cuh in front) with the built-ins declared by shim.cuh. It catches typos and template errors before a
# GPU run; it proves nothing about behaviour (that is `mambavl selfcheck --device cuda`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
kernels="$here/../../src/MambaVL.Cuda/Kernels"
clang="$(command -v clang-14 || command -v clang || true)"
[ -n "$clang" ] || { echo "no clang found: install clang to syntax-check the kernels" >&2; exit 2; }
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
status=0
for f in "$kernels"/*.cu; do
  name="$(basename "$f")"
  cat "$here/shim.cuh" "$kernels/common.cuh" "$f" > "$tmp/$name"
  if "$clang" -x cuda --cuda-gpu-arch=sm_80 -nocudainc -nocudalib -I "$kernels" --cuda-device-only -fsyntax-only -std=c++17 -Wno-unknown-cuda-version "$tmp/$name" 2> "$tmp/$name.log"; then
    echo "ok    $name"
  else
    echo "FAIL  $name"; sed "s|$tmp/||" "$tmp/$name.log" | head -30; status=1
  fi
done
exit $status
