"""The tray under a real X server with a real tray host (Debian's trayer): the icon, every menu
action on real clipboard text with the real model, the popup, the pause at a loopback server,
consent with the window hidden, the global shortcut sent by xdotool, closing to the tray; and,
without a tray host, an app that starts, works and says so once.

The suite runs on Qt's offscreen platform, which has no tray: there, the first test runs this
file again in a child pytest on the xcb platform of the session's Xvfb display."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QSystemTrayIcon
from uihelpers import open_window

from app.core import settings as settings_mod
from app.core.settings import CloudSettings

ON_X = os.environ.get("QT_QPA_PLATFORM") == "xcb" and bool(os.environ.get("DISPLAY"))
TEXT = ("Hi Dana, the quarterly budget review moved to Thursday 14 March at 10:00 in room 4B. "
        "Please bring the revised travel figures; the board was unhappy that costs rose 12% last quarter. "
        "Call me on +44 20 7946 0958 or write to dana.price@example.com if you cannot come. Thanks, Omar Reyes")
pytestmark = pytest.mark.slow


@pytest.mark.skipif(ON_X, reason="already on the X display")
def test_the_tray_tests_run_on_the_x_display():
    if not os.environ.get("DISPLAY") or not shutil.which("trayer") or not shutil.which("xdotool"):
        pytest.fail("the tray tests need an X display, trayer and xdotool: run them in scripts/test-session.sh (make sysdeps)")
    run = subprocess.run([sys.executable, "-m", "pytest", __file__, "-q", "-x", "-p", "no:cacheprovider"], capture_output=True,
                         text=True, env={**os.environ, "QT_QPA_PLATFORM": "xcb"}, cwd=Path(__file__).parents[1], timeout=1500)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    summary = run.stdout.strip().splitlines()[-1]
    assert " passed, 1 skipped" in summary and "failed" not in summary and "error" not in summary, summary  # only this one skipped


on_x = pytest.mark.skipif(not ON_X, reason="runs in the child pytest on the X display (see the first test)")


@pytest.fixture
def tray_host(qtbot):
    """trayer on the Xvfb display: while it runs, a system tray exists."""
    host = subprocess.Popen(["trayer", "--edge", "top", "--align", "right", "--widthtype", "request", "--height", "32",
                             "--SetDockType", "true", "--transparent", "false"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        qtbot.waitUntil(QSystemTrayIcon.isSystemTrayAvailable, timeout=20_000)
        yield host
    finally:
        host.terminate()
        host.wait(10)


def make_tray(qtbot, services):
    from app.ui.tray import Tray

    window = open_window(qtbot, services)
    tray = window.tray = Tray(services, window)
    return window, tray


@pytest.fixture
def hearth(qtbot, services, tray_host):
    window, tray = make_tray(qtbot, services)
    qtbot.waitUntil(lambda: tray.icon.geometry().isValid() and not tray.icon.geometry().isEmpty(), timeout=20_000)
    yield window, tray
    tray.shutdown()
    window.tray = None  # the test's teardown closes the window for good


def copy(qtbot, text: str) -> None:
    clipboard = QGuiApplication.clipboard()
    with qtbot.waitSignal(clipboard.dataChanged, timeout=10_000):
        clipboard.setText(text)


def finish(qtbot, tray, trigger):
    """Run `trigger` and wait for the result to reach the popup."""
    with qtbot.waitSignal(tray.result_shown, timeout=300_000, check_params_cb=lambda _r: True) as got:
        trigger()
        qtbot.waitUntil(lambda: tray.worker is not None or "error" in tray.popup.badge.text(), timeout=30_000)
        assert "error" not in tray.popup.badge.text(), tray.popup.text.toPlainText()
    qtbot.waitUntil(lambda: tray.worker is None, timeout=30_000)
    return got.args[0]


def submenu_action(tray, name: str, option: str):
    return next(a for a in tray.actions[name].menu().actions() if a.text() == option)


def use_cloud(services, base_url: str, policy: str) -> None:
    services.settings = services.settings.model_copy(update={"cloud": CloudSettings(policy=policy, threshold=1.0, base_url=base_url)})


@on_x
def test_the_icon_shows_in_the_tray_host_with_the_menu_the_issue_lists(hearth):
    window, tray = hearth
    assert tray.available and tray.icon.isVisible() and tray.keeps_running()
    labels = [a.text() for a in tray.menu.actions() if not a.isSeparator()]
    assert labels == ["Summarize clipboard", "Ask about clipboard…", "Extract from clipboard", "Classify clipboard",
                      "Transform clipboard", "Summarize file…", "Recent results", "Open Hearth", "Pause cloud escalation", "Quit"]
    assert [a.text() for a in tray.actions["extract-clipboard"].menu().actions()] == ["invoice", "contact", "meeting", "action_items"]
    assert "sentiment" in [a.text() for a in tray.actions["classify-clipboard"].menu().actions()]
    assert tray.state == "idle" and "idle" in tray.icon.toolTip()


@on_x
def test_each_menu_action_runs_on_the_clipboard_and_its_result_reaches_the_popup(qtbot, hearth, guide_pdf):
    window, tray = hearth
    window.hide()
    copy(qtbot, TEXT)
    states = []
    tray.state_changed.connect(states.append)
    result = finish(qtbot, tray, tray.actions["summarize-clipboard"].trigger)
    assert result.task == "summarize" and result.route == "local" and result.text.strip()
    assert tray.popup.isVisible() and tray.popup.text.toPlainText() == result.text
    assert "confidence" in tray.popup.badge.text() and "on this computer" in tray.popup.badge.text()
    assert states[:2] == ["working", "idle"]  # the icon said it was busy, then idle again

    result = finish(qtbot, tray, submenu_action(tray, "extract-clipboard", "contact").trigger)
    assert result.data["email"] == "dana.price@example.com" and "dana.price@example.com" in tray.popup.text.toPlainText()
    result = finish(qtbot, tray, submenu_action(tray, "classify-clipboard", "sentiment").trigger)
    assert tray.popup.text.toPlainText().splitlines()[0] == result.label
    result = finish(qtbot, tray, submenu_action(tray, "transform-clipboard", "bullets").trigger)
    assert result.task == "transform" and tray.popup.text.toPlainText() == result.text

    tray.actions["ask-clipboard"].trigger()  # asks for the question first
    qtbot.waitUntil(lambda: tray.question_dialog is not None and tray.question_dialog.isVisible())
    tray.question_dialog.setTextValue("Which room is the review in?")
    result = finish(qtbot, tray, tray.question_dialog.accept)
    assert result.task == "transform" and result.text.strip() and tray.popup.heading.text() == "<b>Ask about clipboard</b>"

    tray.actions["summarize-file"].trigger()
    qtbot.waitUntil(lambda: tray.file_dialog is not None and tray.file_dialog.isVisible())
    tray.file_dialog.selectFile(str(guide_pdf))
    result = finish(qtbot, tray, tray.file_dialog.accept)
    assert result.task == "summarize" and "keeper-manual.pdf" in tray.popup.heading.text()

    recent = tray.recent_menu.actions()
    assert len(recent) == 5 and recent[0].text().startswith("Summarize file (keeper-manual.pdf)")
    recent[-1].trigger()  # the oldest kept: the contact extraction
    assert "dana.price@example.com" in tray.popup.text.toPlainText()
    assert not window.isVisible()  # all of it without the window


@on_x
def test_the_popup_copies_opens_in_hearth_and_a_dismissed_run_ends_in_a_notification(qtbot, hearth):
    window, tray = hearth
    window.hide()
    copy(qtbot, TEXT)
    with qtbot.waitSignal(tray.notified, timeout=300_000) as note:
        with qtbot.waitSignal(tray.state_changed, check_params_cb=lambda s: s == "working"):
            tray.run_quick("summarize-clipboard")
        tray.popup.close_button.click()  # dismissed while it runs
    assert note.args[0] == "Summarize clipboard: done" and note.args[1]
    assert not tray.popup.isVisible()
    tray.show_run(tray.recent[0])
    with qtbot.waitSignal(QGuiApplication.clipboard().dataChanged, timeout=10_000):
        tray.popup.copy_button.click()
    assert QGuiApplication.clipboard().text() == tray.recent[0].result.text
    tray.popup.open_button.click()
    assert window.isVisible() and window.tabs.currentWidget() is window.tasks
    assert window.tasks.pasted.toPlainText() == TEXT and tray.recent[0].result.text[:30] in window.tasks.output.toPlainText()


@on_x
def test_a_file_dropped_on_the_popup_runs_its_action_on_the_file(qtbot, hearth, tmp_path):
    window, tray = hearth
    copy(qtbot, TEXT)
    finish(qtbot, tray, submenu_action(tray, "classify-clipboard", "sentiment").trigger)
    note = tmp_path / "review.txt"
    note.write_text("I love this product, it works wonderfully and the support team was fantastic.", encoding="utf-8")

    def drop(paths):
        data = QMimeData()
        data.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
        args = (QPointF(tray.popup.rect().center()), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                Qt.KeyboardModifier.NoModifier)
        enter = QDragEnterEvent(*args)
        QApplication.sendEvent(tray.popup, enter)
        assert enter.isAccepted()
        move = QDragMoveEvent(*args)
        move.setAccepted(True)  # Qt carries the enter's answer into each move
        QApplication.sendEvent(tray.popup, move)
        QApplication.sendEvent(tray.popup, QDropEvent(*args))

    result = finish(qtbot, tray, lambda: drop([note]))
    assert result.task == "classify" and result.label == "positive"
    assert tray.popup.heading.text() == "<b>Classify review.txt (sentiment)</b>"
    drop([tmp_path / "missing.txt"])  # a bad file is named, with the reason
    qtbot.waitUntil(lambda: "missing.txt: file not found" in tray.popup.text.toPlainText(), timeout=60_000)
    assert "error" in tray.popup.badge.text()
    qtbot.waitUntil(lambda: tray.worker is None, timeout=30_000)


@on_x
def test_pause_sends_nothing_under_auto_at_threshold_one(qtbot, hearth, stub_server):
    from cloud_server import Canned

    window, tray = hearth
    stub = stub_server(Canned(pieces=("The review", " moved to Thursday.")))
    use_cloud(tray.services, stub.base_url, "auto")
    copy(qtbot, TEXT)
    tray.pause_action.trigger()
    assert tray.pause_action.isChecked() and settings_mod.load().cloud.paused and "paused" in tray.icon.toolTip()
    result = finish(qtbot, tray, tray.actions["summarize-clipboard"].trigger)
    assert result.route == "local" and stub.received == []
    tray.pause_action.trigger()  # resumed: the same request now goes out, so the pause was what held it
    assert not settings_mod.load().cloud.paused
    result = finish(qtbot, tray, tray.actions["summarize-clipboard"].trigger)
    assert result.route == "cloud" and len(stub.received) == 1 and tray.popup.text.toPlainText() == "The review moved to Thursday."
    assert tray.state == "escalated" and "cloud" in tray.icon.toolTip()


@on_x
def test_consent_shows_with_the_window_hidden_and_keep_local_sends_nothing(qtbot, hearth, stub_server):
    from cloud_server import Canned

    window, tray = hearth
    stub = stub_server(Canned(pieces=("never",)))
    use_cloud(tray.services, stub.base_url, "ask")
    window.close()  # to the tray
    assert not window.isVisible()
    copy(qtbot, TEXT)
    tray.run_quick("summarize-clipboard")
    qtbot.waitUntil(lambda: tray.consent.dialog is not None and tray.consent.dialog.isVisible(), timeout=300_000)
    assert not window.isVisible()
    with qtbot.waitSignal(tray.result_shown, timeout=60_000) as got:
        tray.consent.dialog.keep_button.click()
    assert stub.received == [] and got.args[0].route == "local" and got.args[0].escalation["status"] == "declined"
    assert "not sent" in tray.popup.badge.text()


@on_x
def test_closing_the_window_keeps_hearth_in_the_tray_with_a_one_time_notice(qtbot, hearth):
    window, tray = hearth
    notices = []
    tray.announced.connect(notices.append)
    window.close()
    assert not window.isVisible() and window.library.ready()  # hidden, not torn down
    tray.open_window()
    assert window.isVisible()
    window.close()
    assert notices == [tray_module().HIDDEN_NOTICE]


@on_x
def test_the_global_shortcut_sent_by_xdotool_opens_the_palette(qtbot, hearth):
    window, tray = hearth
    qtbot.waitUntil(lambda: "opens the quick actions" in window.settings_view.shortcut_status.text(), timeout=20_000)
    copy(qtbot, TEXT)
    subprocess.run(["xdotool", "key", "ctrl+alt+h"], check=True)
    qtbot.waitUntil(tray.palette.isVisible, timeout=20_000)
    assert "quarterly budget review" in tray.palette.preview.text()
    qtbot.keyClicks(tray.palette.filter, "sentiment")
    result = finish(qtbot, tray, lambda: qtbot.keyClick(tray.palette.filter, Qt.Key.Key_Return))
    assert result.task == "classify" and not tray.palette.isVisible()
    # A new shortcut from Settings replaces the old one.
    window.settings_view.shortcut.setKeySequence("Ctrl+Alt+J")
    window.settings_view.shortcut_button.click()
    qtbot.waitUntil(lambda: window.settings_view.shortcut_status.text().startswith("Ctrl+Alt+J"), timeout=20_000)
    subprocess.run(["xdotool", "key", "ctrl+alt+j"], check=True)
    qtbot.waitUntil(tray.palette.isVisible, timeout=20_000)


def tray_module():
    from app.ui import tray

    return tray


def test_without_a_tray_host_the_app_starts_works_and_says_so_once(qtbot, services):
    assert not QSystemTrayIcon.isSystemTrayAvailable()  # offscreen, or X with no trayer running
    window, tray = make_tray(qtbot, services)
    try:
        notices = []
        tray.announced.connect(notices.append)
        assert not tray.available and not tray.keeps_running()
        assert window.statusBar().currentMessage() == tray_module().NO_TRAY
        copy(qtbot, TEXT) if ON_X else QGuiApplication.clipboard().setText(TEXT)
        result = finish(qtbot, tray, lambda: tray.run_quick("summarize-clipboard"))
        assert result.text.strip() and tray.popup.text.toPlainText() == result.text
        window.close()  # no tray: closing quits (the window really closes and its work stops)
        assert not window.isVisible() and notices == []
    finally:
        tray.shutdown()


@on_x
def test_screenshots_of_the_tray_menu_the_popup_and_the_palette(qtbot, hearth, tmp_path):
    """Taken from the X screen itself, so the tray host's panel shows around the menu and popup.
    HEARTH_SCREENSHOTS=docs/screenshots scripts/test-session.sh tests/test_ui_tray.py also copies them there."""
    window, tray = hearth
    window.hide()
    screen = QGuiApplication.primaryScreen()
    copy(qtbot, TEXT)
    finish(qtbot, tray, submenu_action(tray, "classify-clipboard", "sentiment").trigger)  # a recent result for the menu
    tray.popup.hide()
    icon = tray.icon.geometry()
    tray.menu.popup(icon.bottomLeft())
    qtbot.waitUntil(tray.menu.isVisible)
    tray.menu.setActiveAction(tray.actions["summarize-clipboard"])
    qtbot.wait(300)
    menu = tray.menu.geometry().united(icon).adjusted(-40, 0, 8, 8)
    shots = {"tray-menu.png": screen.grabWindow(0, menu.x(), 0, menu.width(), menu.bottom())}
    tray.menu.hide()
    result = finish(qtbot, tray, tray.actions["summarize-clipboard"].trigger)
    assert tray.popup.text.toPlainText() == result.text
    qtbot.wait(300)
    area = tray.popup.geometry().united(icon).adjusted(-8, 0, 8, 8)
    shots["tray-popup.png"] = screen.grabWindow(0, area.x(), 0, area.width(), area.bottom())
    tray.popup.hide()
    tray.open_palette()
    qtbot.wait(300)
    shots["tray-palette.png"] = tray.palette.grab()
    tray.palette.hide()
    target = os.environ.get("HEARTH_SCREENSHOTS")
    for name, pixmap in shots.items():
        assert pixmap.save(str(tmp_path / name)) and (tmp_path / name).stat().st_size > 5_000
        if target:
            Path(target).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(tmp_path / name, Path(target) / name)


def test_on_wayland_the_settings_page_says_to_bind_hearth_quick_and_no_grab_is_tried(qtbot, services, monkeypatch):
    from Xlib import X

    from app.ui import hotkey
    from app.ui.main_window import MainWindow
    from app.ui.tray import Tray

    assert hotkey.parse("Ctrl+Alt+H") == (X.ControlMask | X.Mod1Mask, "h")
    assert hotkey.parse("Meta+F5") == (X.Mod4Mask, "F5")
    with pytest.raises(ValueError, match="not a single key"):
        hotkey.parse("Ctrl+K, Ctrl+L")
    monkeypatch.setattr(hotkey.QGuiApplication, "platformName", staticmethod(lambda: "wayland"))  # unit: the platform's answer only
    window = MainWindow(services, load_models=False)
    qtbot.addWidget(window)
    tray = Tray(services, window)
    try:
        assert tray.hotkey is None
        status = window.settings_view.shortcut_status.text()
        assert "Wayland" in status and "`hearth quick summarize-clipboard`" in status
    finally:
        tray.shutdown()
