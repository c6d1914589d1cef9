#!/usr/bin/env bash
# Build Hearth's one-folder Linux bundle into dist/hearth (run it from anywhere).
#   packaging/build.sh            build, then check the bundle (llama.cpp library, no model files, Qt plugins, size)
#   packaging/build.sh --smoke    the same, then run the bundle's self-test and open its window under Xvfb
#   packaging/build.sh --smoke-only   the smoke test of an already built dist/hearth
# Environment: HEARTH_SELFTEST_MODEL=FILE.gguf for the self-test's chat model (default: the
# checkout's models/ folder, where `make models` puts it; the bundle itself holds no model).
# The llama.cpp library in the bundle is the venv's, built by scripts/llama-wheel.sh with an
# explicit CPU policy (AVX2/FMA, no -march=native, no AVX-512, no AMX); this script refuses any other.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PY=$ROOT/.venv/bin/python
DIST=$ROOT/dist
WORK=$ROOT/build/pyinstaller
BUNDLE=$DIST/hearth
say() { echo "build: $*" >&2; }
die() { echo "build: FAILED: $*" >&2; exit 1; }

build=1 smoke=0
case "${1:-}" in
    "") ;;
    --smoke) smoke=1 ;;
    --smoke-only) build=0 smoke=1 ;;
    *) echo "usage: packaging/build.sh [--smoke | --smoke-only]" >&2; exit 2 ;;
esac
[ -x "$PY" ] || die "$PY not found; run: make venv"

check_llama_library() {
    # The venv must hold the portable wheel: scripts/llama-wheel.sh prints its path (building it
    # only if it is missing) and the venv records which wheel it installed.
    local wheel
    wheel=$(scripts/llama-wheel.sh "$PY")
    [ "$(cat "$ROOT/.venv/.hearth-llama-wheel" 2>/dev/null)" = "$wheel" ] ||
        die "the venv's llama-cpp-python is not the portable build $wheel; run: make venv"
    say "llama.cpp: the portable build $(basename "$(dirname "$wheel")") (explicit CPU policy, no -march=native)"
}

check_bundle() {
    [ -x "$BUNDLE/hearth" ] || die "no executable at $BUNDLE/hearth"
    local internal=$BUNDLE/_internal found lib
    # The same instruction check as tests/test_portable_build.py, on the copies inside the bundle.
    command -v objdump >/dev/null || die "objdump not found; run: make sysdeps"
    found=0
    for lib in "$internal"/llama_cpp/lib/libggml-cpu*.so*; do
        [ -L "$lib" ] && continue
        [ -e "$lib" ] || continue
        found=1
        if objdump -d --no-show-raw-insn "$lib" | grep -qE '%tmm[0-9]|\btile(zero|loadd|stored|release)\b|\bldtilecfg\b|%zmm[0-9]'; then
            die "$lib holds AMX or AVX-512 instructions: not the portable build"
        fi
        cmp -s "$lib" "$(dirname "$("$PY" -c 'import llama_cpp; print(llama_cpp.__file__)')")/lib/$(basename "$lib")" ||
            die "$lib differs from the venv's portable library"
    done
    [ "$found" = 1 ] || die "no libggml-cpu library under $internal/llama_cpp/lib"
    say "llama.cpp in the bundle: the venv's portable library, objdump shows no AMX tile and no AVX-512 (zmm) instruction"
    # No model weights, no torch, and the Qt plugins the window needs.
    if find "$BUNDLE" -name '*.gguf' | grep -q .; then die "a .gguf model file is in the bundle"; fi
    if [ -e "$internal/torch" ]; then die "torch is in the bundle"; fi
    for plugin in platforms/libqxcb.so platforms/libqoffscreen.so imageformats/libqsvg.so imageformats/libqjpeg.so iconengines/libqsvgicon.so; do
        [ -e "$internal/PySide6/Qt/plugins/$plugin" ] || die "Qt plugin $plugin is missing from the bundle"
    done
    ls "$internal"/resources/onnx/*/model.onnx >/dev/null 2>&1 || die "the embedder's ONNX export is missing from the bundle"
    # What the spec left out must not be what a bundled library links to.
    local missing
    missing=$(find "$internal" -name '*.so*' -type f -print0 |
        LD_LIBRARY_PATH="$internal" xargs -0 -n 50 ldd 2>/dev/null | grep 'not found' | sort -u || true)
    [ -z "$missing" ] || die "bundled libraries link to libraries the bundle lacks: $(echo "$missing" | tr -s ' \n\t' ' ')"
    say "bundle: $(du -sh "$BUNDLE" | cut -f1) unpacked in $BUNDLE; the biggest parts:"
    du -sm "$internal"/* "$internal"/PySide6/Qt/lib/* 2>/dev/null | sort -rn | head -12 | sed "s|$internal/||" >&2
}

smoke_test() {
    local model=${HEARTH_SELFTEST_MODEL:-$ROOT/models/SmolLM2-135M-Instruct.Q4_1.gguf}
    [ -f "$model" ] || die "no chat model for the self-test at $model; run: make models, or set HEARTH_SELFTEST_MODEL"
    say "smoke: hearth --selftest with $model"
    "$BUNDLE/hearth" --selftest "$model" || die "the bundle's self-test failed"

    # The window, on a display of its own unless one is given (the test session has one).
    local win rc=0
    # Globals, not locals: the EXIT trap that stops them runs after this function has returned.
    xvfb_pid="" app_pid=""
    home=$(mktemp -d "${TMPDIR:-/tmp}/hearth-smoke.XXXXXX")
    cleanup_smoke() {
        if [ -n "$app_pid" ]; then kill "$app_pid" 2>/dev/null || true; fi
        if [ -n "$xvfb_pid" ]; then kill "$xvfb_pid" 2>/dev/null || true; fi
        rm -rf "$home"
    }
    trap cleanup_smoke EXIT
    if [ -z "${DISPLAY:-}" ]; then
        command -v Xvfb >/dev/null || die "Xvfb not found; run: make sysdeps"
        : >"$home/display"
        Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$home/display" >"$home/xvfb.log" 2>&1 &
        xvfb_pid=$!
        for _ in $(seq 100); do [ -s "$home/display" ] && break; sleep 0.1; done
        [ -s "$home/display" ] || die "Xvfb did not start: $(cat "$home/xvfb.log")"
        export DISPLAY=":$(tr -dc '0-9' <"$home/display")"
    fi
    command -v xdotool >/dev/null || die "xdotool not found; run: make sysdeps"
    say "smoke: starting the bundled window on $DISPLAY"
    HEARTH_HOME="$home/home" QT_QPA_PLATFORM=xcb "$BUNDLE/hearth" gui >"$home/gui.log" 2>&1 &
    app_pid=$!
    # A fresh data folder has no model: the bundle first offers to fetch or import one. Escape is "Later".
    win=$(timeout 120 xdotool search --sync --onlyvisible --name '^Hearth: no language model yet$' 2>/dev/null | head -1) || true
    [ -n "$win" ] || die "the bundle did not offer to fetch or import a model on first run; its output: $(tail -5 "$home/gui.log")"
    say "smoke: first run without a model offers to fetch or import one (window $win); choosing Later"
    xdotool windowfocus "$win" key Escape
    win=$(timeout 120 xdotool search --sync --onlyvisible --name '^Hearth$' 2>/dev/null | head -1) || true
    if [ -z "$win" ]; then
        kill -0 "$app_pid" 2>/dev/null || wait "$app_pid" || rc=$?
        die "no Hearth window appeared within 120 s (exit ${rc}); its output: $(tail -5 "$home/gui.log")"
    fi
    say "smoke: window $win '$(xdotool getwindowname "$win")' is shown ($(xdotool getwindowgeometry "$win" | sed -n 's/.*Geometry: //p')); closing it"
    kill -TERM "$app_pid"
    wait "$app_pid" 2>/dev/null || true
    app_pid=""
    say "smoke: passed"
}

if [ "$build" = 1 ]; then
    check_llama_library
    start=$(date +%s)
    say "PyInstaller: packaging/hearth.spec -> $BUNDLE (one folder; CPU-heavy, several minutes)"
    "$PY" -m PyInstaller --noconfirm --log-level WARN --distpath "$DIST" --workpath "$WORK" packaging/hearth.spec
    say "built in $(( $(date +%s) - start )) s"
    check_bundle
fi
if [ "$smoke" = 1 ]; then
    smoke_test
fi
