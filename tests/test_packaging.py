"""Packaging: the desktop integration files validate, the self-test works and fails in one line,
and (HEARTH_SLOW=1) the frozen bundle builds, passes its own self-test and opens its window."""

from __future__ import annotations

import configparser
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, run_cli

PACKAGING = REPO / "packaging"
APP_ID = "app.hearth.Hearth"
BUNDLE_LIMIT_MB = 600


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing; `make sysdeps` installs it")
    return path


def test_the_desktop_file_validates_and_starts_the_window():
    desktop = PACKAGING / f"{APP_ID}.desktop"
    out = subprocess.run([_tool("desktop-file-validate"), str(desktop)], capture_output=True, text=True)
    assert out.returncode == 0 and not out.stdout.strip(), out.stdout
    groups = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    groups.optionxform = str  # keys are case-sensitive
    groups.read_string(desktop.read_text())
    entries = groups["Desktop Entry"]
    assert entries["Exec"].startswith("hearth gui") and entries["Icon"] == APP_ID
    # A launcher's or dock's menu offers every quick action, each run by `hearth quick NAME`.
    from app.core.quick import ACTIONS

    assert entries["Actions"].rstrip(";").split(";") == list(ACTIONS)
    for name, label in ACTIONS.items():
        assert dict(groups[f"Desktop Action {name}"]) == {"Name": label.rstrip("…"), "Exec": f"hearth quick {name}"}


def test_the_appstream_metainfo_validates_with_screenshots_and_release_notes():
    metainfo = PACKAGING / f"{APP_ID}.metainfo.xml"
    out = subprocess.run([_tool("appstreamcli"), "validate", "--no-net", str(metainfo)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    text = metainfo.read_text()
    assert "<screenshot type=\"default\">" in text and "<release version=\"0.1.0\"" in text
    assert f"<launchable type=\"desktop-id\">{APP_ID}.desktop</launchable>" in text


@pytest.mark.parametrize("size", [16, 32, 48, 64, 128, 256])
def test_each_icon_is_a_png_of_its_size(size):
    data = (REPO / "resources" / "icons" / f"hearth-{size}.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (size, size)


def test_the_sample_pdf_is_the_one_make_sample_writes(tmp_path):
    sys.path.insert(0, str(PACKAGING))
    try:
        import make_sample
    finally:
        sys.path.remove(str(PACKAGING))
    from pdfgen import write_pdf

    assert write_pdf(tmp_path / "s.pdf", make_sample.PAGES).read_bytes() == make_sample.SAMPLE.read_bytes()


def test_a_selftest_with_a_file_that_is_no_model_fails_in_one_line(tmp_path):
    bad = tmp_path / "notes.gguf"
    bad.write_text("not a model")
    out = run_cli("--selftest", str(bad))
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "FAILED" in lines[0] and "notes.gguf" in lines[0], out.stderr


@pytest.mark.slow
def test_the_selftest_finds_the_usual_model_ingests_the_sample_and_cites_page_2(hearth_home):
    out = run_cli("--selftest")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("hearth selftest: ok") and "cites p. 2" in out.stdout
    assert not any(hearth_home.rglob("catalog.sqlite")), "the self-test wrote into the user's data folder"


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("HEARTH_SLOW") != "1", reason="builds the frozen bundle (many minutes): HEARTH_SLOW=1 runs it")
@pytest.mark.timeout(5400)
def test_the_bundle_builds_passes_its_selftest_and_opens_its_window(chat_model_path):
    out = subprocess.run([str(PACKAGING / "build.sh"), "--smoke"], capture_output=True, text=True, cwd=REPO,
                         env={**os.environ, "HEARTH_SELFTEST_MODEL": str(chat_model_path)})
    print(out.stderr)  # the build time, the size and its biggest parts: shown with pytest -rP
    assert out.returncode == 0, out.stderr[-4000:]
    assert "hearth selftest: ok" in out.stdout and "cites p. 2" in out.stdout
    assert "objdump shows no AMX tile and no AVX-512" in out.stderr and "smoke: passed" in out.stderr
    size = subprocess.run(["du", "-sm", str(REPO / "dist" / "hearth")], capture_output=True, text=True, check=True)
    assert int(size.stdout.split()[0]) <= BUNDLE_LIMIT_MB


def _answer_dialog_with(button_text: str) -> None:
    """Click a button of the modal message box as soon as it is shown."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    def click() -> None:
        box = QApplication.activeModalWidget()
        buttons = [b for b in box.buttons() if b.text() == button_text] if box is not None and hasattr(box, "buttons") else []
        if not buttons:
            QTimer.singleShot(20, click)
            return
        buttons[0].click()

    QTimer.singleShot(0, click)


def _select_chat_model(name: str) -> None:
    from app.core import settings as settings_mod

    settings_mod.save(settings_mod.load().model_copy(update={"chat_model": name}))


def test_without_a_chat_model_the_offer_can_be_put_off(qtbot):
    from app.ui.model_setup import chat_model_missing, offer_models

    _select_chat_model("not-installed")
    assert "not-installed" in chat_model_missing()
    _answer_dialog_with("Later")
    offer_models()
    assert chat_model_missing() is not None


def test_without_a_chat_model_importing_a_gguf_installs_and_selects_it(qtbot, copy_model, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from app.core import settings as settings_mod
    from app.ui.model_setup import chat_model_missing, offer_models

    _select_chat_model("not-installed")
    gguf = copy_model("my-own-model.gguf")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(gguf), "GGUF models (*.gguf)")))
    _answer_dialog_with("Import a GGUF file…")
    offer_models()
    assert chat_model_missing() is None
    assert settings_mod.load().chat_model == "my-own-model"
