"""The global shortcut that opens the quick-action palette (default Ctrl+Alt+H).

On X11 the key is grabbed on the root window with python-xlib (XGrabKey, the way desktop
shortcut daemons do it), on a connection and thread of its own, so the key reaches Hearth
whichever window has the focus and is consumed there. python-xlib is pure Python and needs no
input-device access, where pynput's Linux backend also builds evdev. Wayland lets no client grab
keys: there, the desktop's own shortcut settings bind `hearth quick ACTION` instead.
"""

from __future__ import annotations

import itertools
import logging
import os
import select
import threading

from PySide6.QtCore import QThread, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence

log = logging.getLogger(__name__)

DEFAULT = "Ctrl+Alt+H"
WAYLAND_HINT = ("This desktop (Wayland) lets no application grab a global shortcut. Bind a key to "
                "`hearth quick summarize-clipboard` (or any other quick action) in the desktop's own keyboard shortcut settings.")


def unsupported_reason() -> str | None:
    """Why a global grab cannot work here, or None on X11."""
    platform = QGuiApplication.platformName()
    if platform == "wayland" or (os.environ.get("XDG_SESSION_TYPE") == "wayland" and platform != "xcb"):
        return WAYLAND_HINT
    if platform != "xcb" or not os.environ.get("DISPLAY"):
        return f"Global shortcuts need an X11 display (this is {platform or 'no display'})."
    return None


def parse(sequence: str) -> tuple[int, str]:
    """An X modifier mask and a keysym name from a Qt key sequence such as 'Ctrl+Alt+H'."""
    from Xlib import X

    text = QKeySequence(sequence).toString(QKeySequence.SequenceFormat.PortableText)
    *mods, key = text.split("+") if text else [""]
    masks = {"Ctrl": X.ControlMask, "Alt": X.Mod1Mask, "Shift": X.ShiftMask, "Meta": X.Mod4Mask}
    if not key or any(m not in masks for m in mods) or "," in text:
        raise ValueError(f"{sequence!r} is not a single key with Ctrl, Alt, Shift or Meta")
    mask = 0
    for m in mods:
        mask |= masks[m]
    return mask, key.lower() if len(key) == 1 else key


class GlobalHotkey(QThread):
    """Emits `activated` each time the shortcut is pressed; `failed` says why it cannot be had."""

    activated = Signal()
    failed = Signal(str)
    grabbed = Signal(str)  # the sequence, once the grab is in place

    def __init__(self, sequence: str = DEFAULT, parent=None) -> None:
        super().__init__(parent)
        self.sequence = sequence
        self._stop = threading.Event()

    def stop(self) -> None:
        self._stop.set()
        self.wait()

    def run(self) -> None:
        try:
            self._serve()
        except Exception as exc:  # noqa: BLE001 - a lost shortcut must be said, never crash the app
            log.exception("global shortcut stopped")
            self.failed.emit(f"The shortcut {self.sequence} stopped working: {exc}")

    def _serve(self) -> None:
        from Xlib import XK, X, error
        from Xlib.display import Display

        mask, key = parse(self.sequence)
        display = Display()
        try:
            keycode = display.keysym_to_keycode(XK.string_to_keysym(key) or XK.string_to_keysym(key.lower()))
            if not keycode:
                self.failed.emit(f"The key {key!r} of {self.sequence} is not on this keyboard.")
                return
            root = display.screen().root
            # Caps Lock and Num Lock (Mod2) change the event's state: grab every combination of them.
            extras = [sum(c) for n in range(3) for c in itertools.combinations((X.LockMask, X.Mod2Mask), n)]
            catch = error.CatchError(error.BadAccess)
            for extra in extras:
                root.grab_key(keycode, mask | extra, True, X.GrabModeAsync, X.GrabModeAsync, onerror=catch)
            display.sync()
            if catch.get_error():
                self.failed.emit(f"Another application already uses {self.sequence}; choose another shortcut in Settings.")
                return
            self.grabbed.emit(self.sequence)
            relevant = X.ControlMask | X.Mod1Mask | X.ShiftMask | X.Mod4Mask
            while not self._stop.is_set():
                select.select([display], [], [], 0.2)
                while display.pending_events():
                    event = display.next_event()
                    if event.type == X.KeyPress and event.detail == keycode and event.state & relevant == mask:
                        self.activated.emit()
            for extra in extras:
                root.ungrab_key(keycode, mask | extra)
            display.sync()
        finally:
            display.close()
