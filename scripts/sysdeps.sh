#!/usr/bin/env bash
# Install the Debian packages the test session needs, only when some are missing.
# Silent when everything is present. As non-root with something missing: says what to run, fails.
set -euo pipefail

PACKAGES=(
    # the test session: virtual X server, private D-Bus session, unlocked Secret Service keyring
    xvfb xauth dbus dbus-x11 gnome-keyring libsecret-tools
    # runtime libraries of PySide6's xcb platform plugin and EGL/GL
    libegl1 libgl1 libopengl0 libxkbcommon0 libxkbcommon-x11-0
    libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
    libxcb-xinerama0 libxcb-randr0 libxcb-shape0 libxcb-xfixes0 libxcb-xkb1
    libfontconfig1 libdbus-1-3 libglib2.0-0 fonts-dejavu-core
    # objdump, to prove the llama.cpp library holds no AMX or AVX-512 code
    binutils
    # packaging/: validate the .desktop file and AppStream metainfo; find the bundle's window in the smoke test
    desktop-file-utils appstream xdotool
    # the tray tests: a system tray host on the Xvfb display (xdotool above also sends the global shortcut)
    trayer
    # tests/test_instance.py: prove a second launch makes no system call on the data folder
    strace
)

if ! command -v dpkg-query >/dev/null 2>&1; then
    # Not Debian: we cannot check packages, so check the commands the test session runs.
    for cmd in Xvfb dbus-run-session gnome-keyring-daemon; do
        if ! command -v "$cmd" >/dev/null 2>&1; then
            echo "sysdeps: $cmd not found and this is not a Debian system; install it (see ${PACKAGES[*]})" >&2
            exit 1
        fi
    done
    exit 0
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" != "install ok installed" ]; then
        missing+=("$pkg")
    fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "sysdeps: missing Debian packages: ${missing[*]}" >&2
    echo "sysdeps: run: sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
fi

echo "sysdeps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
