#!/usr/bin/env bash
# Run pytest (arguments passed through; default: tests) inside a throwaway desktop session:
#   - a private D-Bus session bus (dbus-run-session),
#   - gnome-keyring-daemon serving the Secret Service API with its login keyring unlocked,
#     so Python `keyring` picks its SecretService backend,
#   - an Xvfb display (DISPLAY exported) for the tests that need a real X server,
#   - a private XDG_RUNTIME_DIR, and no network for Hugging Face / telemetry.
# Everything it starts is stopped on exit; it exits with pytest's exit code.
#   scripts/test-session.sh [PYTEST_ARGS...]     e.g. scripts/test-session.sh tests/test_ui.py -x
#   scripts/test-session.sh --exec CMD [ARGS...]   run CMD in the same session instead of pytest
# Environment: HEARTH_PYTHON (default .venv/bin/python); HEARTH_TEST_KEEP=1 keeps the session dir
# (logs of dbus-daemon, gnome-keyring-daemon and Xvfb, the keyring files) for a post-mortem.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SELF="$ROOT/scripts/test-session.sh"

# Outer half: make the session's scratch dir, then re-run this script as the only client of a
# private session bus. The inner half stops what it starts; the outer half removes the dir.
if [ -z "${_HEARTH_TEST_SESSION_DIR:-}" ]; then
    for cmd in dbus-run-session dbus-daemon dbus-send gnome-keyring-daemon Xvfb; do
        command -v "$cmd" >/dev/null 2>&1 || { echo "test-session: $cmd not found; run: make sysdeps" >&2; exit 1; }
    done
    SESSION_DIR=$(mktemp -d "${TMPDIR:-/tmp}/hearth-test-session.XXXXXX")
    export _HEARTH_TEST_SESSION_DIR="$SESSION_DIR"
    trap 'if [ -n "${HEARTH_TEST_KEEP:-}" ]; then echo "test-session: kept $SESSION_DIR" >&2; else rm -rf "$SESSION_DIR"; fi' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    rc=0
    dbus-run-session --dbus-daemon="$ROOT/scripts/dbus-daemon-quiet.sh" -- "$SELF" "$@" || rc=$?
    if [ ! -e "$SESSION_DIR/started" ]; then
        echo "test-session: the D-Bus session did not start (exit $rc); dbus-daemon said:" >&2
        cat "$SESSION_DIR/dbus.log" >&2 2>/dev/null || true
    fi
    exit "$rc"
fi

# Inner half, on the private bus.
SESSION_DIR=$_HEARTH_TEST_SESSION_DIR
touch "$SESSION_DIR/started"
PY=${HEARTH_PYTHON:-$ROOT/.venv/bin/python}
[ -x "$PY" ] || { echo "test-session: $PY not found; run: make venv" >&2; exit 1; }
[ -n "${DBUS_SESSION_BUS_ADDRESS:-}" ] || { echo "test-session: no session bus address after dbus-run-session" >&2; exit 1; }

XVFB_PID=
KEYRING_PID=
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$XVFB_PID" ]; then kill "$XVFB_PID" 2>/dev/null || true; wait "$XVFB_PID" 2>/dev/null || true; fi
    if [ -n "$KEYRING_PID" ]; then kill "$KEYRING_PID" 2>/dev/null || true; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A runtime dir of our own (0700, as Qt and gnome-keyring want): never the desktop's real one,
# where gnome-keyring's control socket would collide with the user's own daemon.
export XDG_RUNTIME_DIR="$SESSION_DIR/runtime"
mkdir -m 700 "$XDG_RUNTIME_DIR"

# --- keyring --------------------------------------------------------------------------------
# The daemon keeps its keyrings under $XDG_DATA_HOME/keyrings: give it a fresh one (only the
# daemon: the tests keep their own XDG_DATA_HOME), so the developer's real keyrings are never
# touched and the login keyring is created anew. --unlock reads the password from stdin. It
# must not be empty: with an empty one gnome-keyring 42 creates no login keyring, and the
# first write then asks for a prompter that cannot be shown ("Prompt dismissed").
mkdir -p "$SESSION_DIR/keyring-data"
if ! keyring_env=$(printf '%s' 'hearth-test' |
        XDG_DATA_HOME="$SESSION_DIR/keyring-data" gnome-keyring-daemon --unlock --components=secrets 2>"$SESSION_DIR/keyring.log"); then
    echo "test-session: gnome-keyring-daemon failed to start:" >&2; cat "$SESSION_DIR/keyring.log" >&2; exit 1
fi
# It prints NAME=VALUE lines (GNOME_KEYRING_CONTROL=..., at least when that differs from the
# default): export them.
while IFS= read -r line; do
    if [[ "$line" =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; then export "$line"; fi
done <<<"$keyring_env"
# It leaves out GNOME_KEYRING_CONTROL when it is the default ($XDG_RUNTIME_DIR/keyring); set it
# anyway so that every client finds this daemon rather than looking elsewhere.
if [ -z "${GNOME_KEYRING_CONTROL:-}" ] && [ -d "$XDG_RUNTIME_DIR/keyring" ]; then
    export GNOME_KEYRING_CONTROL="$XDG_RUNTIME_DIR/keyring"
fi
# The daemon forks into the background: ask the bus which process owns the Secret Service
# name, which also tells us it is ready.
for _ in $(seq 50); do
    KEYRING_PID=$(dbus-send --session --print-reply=literal --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets 2>/dev/null | awk '{print $2}') || true
    [ -n "$KEYRING_PID" ] && break
    sleep 0.1
done
if [ -z "$KEYRING_PID" ]; then
    echo "test-session: the keyring daemon never took org.freedesktop.secrets on the session bus:" >&2
    cat "$SESSION_DIR/keyring.log" >&2; exit 1
fi

# --- X display --------------------------------------------------------------------------------
# -displayfd makes Xvfb pick a free display number itself and write it to fd 3 once it accepts
# connections, so there is no race over lock files.
: >"$SESSION_DIR/display"
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$SESSION_DIR/display" >"$SESSION_DIR/xvfb.log" 2>&1 &
XVFB_PID=$!
display=
for _ in $(seq 100); do
    display=$(tr -dc '0-9' <"$SESSION_DIR/display")
    [ -n "$display" ] && break
    kill -0 "$XVFB_PID" 2>/dev/null || break
    sleep 0.1
done
if [ -z "$display" ]; then
    echo "test-session: Xvfb did not start:" >&2; cat "$SESSION_DIR/xvfb.log" >&2; exit 1
fi
export DISPLAY=":$display"
unset WAYLAND_DISPLAY

# --- no network for models, no telemetry ---------------------------------------------------
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False

cd "$ROOT"
set +e
if [ "${1:-}" = "--exec" ]; then
    shift
    "$@"
else
    [ $# -gt 0 ] || set -- tests
    "$PY" -m pytest "$@"
fi
rc=$?
set -e
exit "$rc"
