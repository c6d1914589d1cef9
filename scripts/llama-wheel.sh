#!/usr/bin/env bash
# Build (once) and print the path of a portable llama-cpp-python wheel.
# Usage: scripts/llama-wheel.sh PYTHON
#
# Why: llama-cpp-python compiles llama.cpp with GGML_NATIVE=ON by default, i.e. -march=native.
# Such a library dies with SIGILL on any CPU lacking one of the build machine's instructions,
# and on Intel AMX machines it can die on the build machine itself (the AMX tile path).
# We build a baseline instead: x86-64 with SSE4.2, AVX, AVX2, FMA, F16C and BMI2 (Intel
# Haswell 2013+, AMD Excavator 2015+ and everything since), no AVX-512, no AMX, chosen at
# compile time so the same file runs on every such CPU. `hearth doctor` says when a CPU lacks
# these, and the engine refuses to load there with that reason instead of crashing.
#
# pip's own wheel cache is keyed by the source archive, not by CMAKE_ARGS, so it could hand
# back an old -march=native wheel: we bypass it (--no-cache-dir) and keep our wheel in a
# wheelhouse whose folder name is a hash of the version, the flags and the compiler.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${1:?usage: scripts/llama-wheel.sh PYTHON}
VERSION=$(sed -n 's/^llama_cpp_python==//p' "$ROOT/requirements.lock")
[ -n "$VERSION" ] || { echo "llama-wheel: no llama_cpp_python pin in requirements.lock" >&2; exit 1; }

# The CPU feature policy. Keep in sync with app/core/llm/cpu.py (REQUIRED_CPU_FLAGS).
CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_SSE42=ON -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
CMAKE_ARGS+=" -DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF"
CMAKE_ARGS+=" -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
CMAKE_ARGS+=" -DGGML_BACKEND_DL=OFF -DGGML_CPU_ALL_VARIANTS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF"
CMAKE_ARGS+=" ${HEARTH_LLAMA_EXTRA_CMAKE_ARGS:-}"   # e.g. -DGGML_VULKAN=ON for a GPU build (README)

compiler=$({ cc --version 2>/dev/null || echo none; } | head -1)
key=$(printf '%s\n' "$VERSION" "$CMAKE_ARGS" "$compiler" "$(uname -m)" | sha256sum | cut -c1-16)
HOUSE=${HEARTH_WHEELHOUSE:-${XDG_CACHE_HOME:-$HOME/.cache}/hearth/wheelhouse}/llama_cpp_python-$VERSION-$key

wheel=$(ls "$HOUSE"/llama_cpp_python-*.whl 2>/dev/null | head -1 || true)
if [ -z "$wheel" ]; then
    echo "llama-wheel: building llama-cpp-python $VERSION, portable (no -march=native, no AVX-512, no AMX); several minutes" >&2
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/hearth-llama-wheel.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    CMAKE_ARGS="$CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)} \
        "$PY" -m pip --disable-pip-version-check wheel -q --no-deps --no-cache-dir \
        --no-binary llama-cpp-python "llama_cpp_python==$VERSION" -w "$tmp" >&2
    mkdir -p "$HOUSE"
    printf '%s\n' "$CMAKE_ARGS" > "$tmp/CMAKE_ARGS"
    # Move the wheel in last, so an interrupted build never leaves a wheel that looks whole.
    mv "$tmp/CMAKE_ARGS" "$HOUSE/"
    mv "$tmp"/llama_cpp_python-*.whl "$HOUSE/"
    wheel=$(ls "$HOUSE"/llama_cpp_python-*.whl | head -1)
fi
echo "$wheel"
