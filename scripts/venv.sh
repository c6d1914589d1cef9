#!/usr/bin/env bash
# Create or refresh .venv from requirements.lock, then install Hearth itself (editable).
# Usage: scripts/venv.sh STAMP_FILE
# The Makefile calls this only when STAMP_FILE (named after the sha256 of requirements.lock
# and pyproject.toml) is missing, so a warm run never reaches pip.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
STAMP=${1:?usage: scripts/venv.sh STAMP_FILE}
VENV=.venv
PY=$VENV/bin/python

is_py311() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' >/dev/null 2>&1; }

# A venv whose interpreter no longer runs (e.g. its base Python was removed) is rebuilt.
if [ -e "$VENV" ] && ! is_py311 "$PY"; then
    echo "venv: $VENV is broken or not Python 3.11; recreating it"
    rm -rf "$VENV"
fi

if [ ! -x "$PY" ]; then
    base=
    for cand in python3.11 python3; do
        if command -v "$cand" >/dev/null 2>&1 && is_py311 "$cand"; then base=$cand; break; fi
    done
    if [ -z "$base" ]; then
        echo "venv: need Python 3.11 (python3.11 or python3) on PATH; none found" >&2
        exit 1
    fi
    echo "venv: creating $VENV with $(command -v "$base") ($("$base" --version 2>&1))"
    "$base" -m venv "$VENV"
fi

# pip, quiet; its stderr without the "Location 'file:///...' is ignored: it is neither a file
# nor a directory" lines that a configured but absent local index prints once per package.
pip_q() {
    # stdout goes straight out (fd 3); stderr through the filter; pipefail gives pip's status.
    { "$PY" -m pip --disable-pip-version-check "$@" -q 2>&1 >&3 3>&- |
        { grep -v --line-buffered 'is ignored: it is neither a file nor a directory' || true; } >&2 3>&-; } 3>&1
}
# The project installs with --no-build-isolation, so its build backend must be in the venv:
# take the requirements from pyproject's [build-system] (e.g. setuptools>=69).
mapfile -t build_reqs < <("$PY" -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")')

echo "venv: installing requirements.lock (llama-cpp-python compiles on a cold pip cache: several minutes)"
pip_q install --upgrade pip
if [ ${#build_reqs[@]} -gt 0 ]; then pip_q install --upgrade "${build_reqs[@]}"; fi
# llama-cpp-python comes from our own portable wheel (scripts/llama-wheel.sh says why), installed
# before the lock so that pip finds the pin satisfied and never compiles a -march=native one.
# The venv remembers which wheel it holds: a venv with any other build (an old native one
# included) is given this one, whatever version pip believes is installed.
wheel=$(scripts/llama-wheel.sh "$PY")
if [ "$(cat "$VENV/.hearth-llama-wheel" 2>/dev/null)" != "$wheel" ]; then
    echo "venv: installing the portable llama-cpp-python ($(basename "$(dirname "$wheel")"))"
    pip_q install --force-reinstall --no-deps "$wheel"
    echo "$wheel" > "$VENV/.hearth-llama-wheel"
fi
pip_q install -r requirements.lock
pip_q install --no-deps --no-build-isolation -e .

rm -f "$VENV"/.hearth-deps-*
date -u +%FT%TZ > "$STAMP"
echo "venv: ready ($("$PY" --version 2>&1))"
