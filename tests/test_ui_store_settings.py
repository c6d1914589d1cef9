"""The settings view's Document store section against a real `chroma run`: a server that answers
is saved (in the settings file and in memory), one that does not is refused with the reason."""

from __future__ import annotations

from app.core import settings as settings_mod
from chroma_server import chroma_server, clean_chroma, free_port  # noqa: F401 - fixtures


def _view(qtbot, services):
    from app.ui.settings_view import SettingsView
    from app.ui.workers import Jobs

    view = SettingsView(services, Jobs())
    qtbot.addWidget(view)
    return view


def _use(qtbot, view, url: str) -> str:
    view.store_kind.setCurrentIndex(view.store_kind.findData("server"))
    view.store_url.setText(url)
    worker = view.use_store()
    qtbot.waitUntil(lambda: worker.isFinished(), timeout=60_000)
    qtbot.waitUntil(lambda: view.store_status.text() != "Checking the store…", timeout=10_000)
    return view.store_status.text()


def test_the_store_section_saves_a_server_that_answers_and_refuses_one_that_does_not(qtbot, services, clean_chroma):
    view = _view(qtbot, services)
    assert view.store_status.text() == "Embedded in the data folder" and not view.store_url.isEnabled()

    dead = f"http://127.0.0.1:{free_port()}"
    said = _use(qtbot, view, dead)
    assert f"store server at {dead} cannot be reached" in said
    assert settings_mod.load().store.server_url == "" and services.settings.store.server_url == ""

    said = _use(qtbot, view, clean_chroma.url)
    assert said.startswith(f"Saved: Chroma server {clean_chroma.url} (no token): reachable"), said
    assert settings_mod.load().store.server_url == clean_chroma.url
    assert services.settings.store.server_url == clean_chroma.url, "a later save from another view keeps it"

    view.store_kind.setCurrentIndex(view.store_kind.findData("embedded"))
    worker = view.use_store()
    qtbot.waitUntil(lambda: worker.isFinished(), timeout=60_000)
    assert settings_mod.load().store.server_url == ""
