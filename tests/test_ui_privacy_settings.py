"""The privacy and settings views through their widgets: per-task policy and threshold, the
provider, the key in the real Secret Service keyring (set, test against a loopback server,
forget) and what the view says without a secure keyring, names to redact, the ledger table with
its payload and chart; the model import, verify, and a reload in the background."""

from __future__ import annotations

import dataclasses
import json
import uuid

import keyring
import pytest
from keyring.backends import fail
from uihelpers import open_window, set_cloud

from app.core import settings as settings_mod
from app.core.activity import Activity
from app.core.ledger import Ledger, LedgerEntry
from app.core.routing.escalation import names_file
from app.core.tasks.result import TaskResult
from app.ui.privacy_view import count_ticks, labelled_days


@pytest.fixture
def window(qtbot, services):
    w = open_window(qtbot, services)
    w.show_view(3)
    yield w
    w.close()


def test_policies_provider_and_names_are_saved_from_the_view(window, services):
    view = window.privacy
    view.policy.setCurrentText("auto")
    view.threshold.setValue(0.45)
    view.task_policy["ask"].setCurrentText("never")
    view.task_policy["extract"].setCurrentText("ask")
    view.task_threshold["extract"].setValue(0.3)
    view.base_url.setText("https://api.example.com/v1")
    view.model_name.setText("big-model")
    view.price.setValue(0.002)
    view.names.setPlainText("Ada Lovelace\nNorthwind Studio")
    view.save_button.click()
    saved = settings_mod.load().cloud
    assert (saved.policy, saved.threshold, saved.base_url, saved.model, saved.price_per_1k) == \
        ("auto", 0.45, "https://api.example.com/v1", "big-model", 0.002)
    assert saved.for_task("ask") == ("never", 0.45) and saved.for_task("extract") == ("ask", 0.3)
    assert saved.for_task("classify") == ("auto", 0.45)
    assert services.settings.cloud == saved  # the running services use it at once
    assert names_file().read_text().split() == ["Ada", "Lovelace", "Northwind", "Studio"]
    # The preview switch turns every automatic send into a question.
    view.preview.setChecked(True)
    view.save_button.click()
    assert settings_mod.load().cloud.for_task("classify") == ("ask", 0.45)


def test_the_key_is_set_tested_and_forgotten_in_the_keyring(qtbot, window, stub_server):
    from cloud_server import Canned

    stub = stub_server(Canned(pieces=("OK",)))
    view = window.privacy
    view.base_url.setText(stub.base_url)
    view.model_name.setText("stand-in")
    key = f"sk-{uuid.uuid4().hex}"
    view.key.setText(key)
    view.set_key_button.click()
    assert view.key.text() == "" and view.key_status.text().startswith("A key is stored for 127.0.0.1:")
    assert " in the Secret Service keyring (GNOME Keyring or KWallet)" in view.key_status.text()
    assert key not in view.key_status.text() and view.forget_key_button.isEnabled()
    worker = view.test_key()
    with qtbot.waitSignal(worker.finished, timeout=60_000):
        pass
    qtbot.waitUntil(lambda: "the key and URL work" in view.key_status.text(), timeout=10_000)
    [request] = stub.received
    assert request.headers["authorization"] == f"Bearer {key}"
    [row] = Ledger().rows()
    assert row.task == "key test" and row.outcome == "sent" and key not in row.payload
    view.forget_key_button.click()
    assert view.key_status.text().startswith("No key is stored for 127.0.0.1:")
    assert not view.forget_key_button.isEnabled()  # nothing left to forget


def test_the_key_buttons_wait_for_a_provider_and_a_key(qtbot, window):
    view = window.privacy
    buttons = (view.set_key_button, view.test_key_button, view.forget_key_button)
    view.base_url.clear()
    view.refresh_key_status()
    assert [b.isEnabled() for b in buttons] == [False, False, False] and "Set the base URL first" in view.key_status.text()
    qtbot.keyClicks(view.base_url, "http://127.0.0.1:9/v1")
    assert [b.isEnabled() for b in buttons] == [False, True, False]  # nothing typed to store, none stored to forget
    qtbot.keyClicks(view.key, "sk-test")
    assert [b.isEnabled() for b in buttons] == [True, True, False]
    view.base_url.editingFinished.emit()
    assert view.key_status.text().startswith("No key is stored for 127.0.0.1:9")
    assert not view.forget_key_button.isEnabled()


def test_without_a_secure_keyring_the_view_says_so(window):
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        view = window.privacy
        view.base_url.setText("https://api.example.com/v1")
        view.refresh_key_status()
        assert view.key_status.text().startswith("No secure keyring on this computer")
        assert not view.set_key_button.isEnabled() and not view.forget_key_button.isEnabled()
        assert view.test_key_button.isEnabled()  # a server on this computer may need no key
    finally:
        keyring.set_keyring(previous)


def test_the_ledger_shows_each_request_its_payload_and_the_chart(qtbot, window, services):
    payload = {"messages": [{"role": "user", "content": "What is the rent? Ask [EMAIL_1]."}]}
    Ledger().record(LedgerEntry(provider="api.example.com", model="big", task="ask", payload=json.dumps(payload),
                                outcome="sent", tokens_in=120, tokens_out=30, cost_estimate=0.0003))
    activity = Activity()
    activity.record(TaskResult(text="x", confidence=0.9, timings={"tokens_in": 700, "tokens_out": 300}))
    activity.record(TaskResult(text="y", confidence=0.2, route="cloud"))
    activity.close()
    set_cloud(services, price_per_1k=0.002)
    view = window.privacy
    view.refresh()
    assert view.ledger.rowCount() == 1
    assert [view.ledger.index(0, c).data() for c in range(1, 6)] == ["ask", "api.example.com", "120 + 30", "$0.0003", "sent"]
    view.ledger_table.selectRow(0)
    assert json.loads(view.payload.toPlainText()) == payload
    today = view.chart.days[-1]
    assert (today.local, today.cloud) == (1, 1) and len(view.chart.days) == 14
    assert view.chart.ticks == [0, 1]  # the axis marks follow the busiest day
    assert "1 request answered on this computer" in view.savings.text() and "$0.0020 more" in view.savings.text()
    image = view.chart.grab().toImage()
    colours = {image.pixelColor(x, y).name() for x in range(image.width() * 9 // 10, image.width()) for y in range(image.height())}
    assert {view.chart.LOCAL.name(), view.chart.CLOUD.name()} <= colours  # today's two bars, drawn at the right end
    set_cloud(services, price_per_1k=0.0)
    view.refresh()
    assert "Set a price per 1k tokens" in view.savings.text() and "more" not in view.savings.text()


@pytest.mark.parametrize("count", [1, 7, 14, 30])
def test_the_chart_dates_today_and_about_a_week_of_days_evenly(count):
    dated = labelled_days(count)
    assert dated[-1] == count - 1  # today: its date was missing under the 14-day chart's busiest bars
    assert len({b - a for a, b in zip(dated, dated[1:])}) <= 1 and 1 <= len(dated) <= 8


@pytest.mark.parametrize("top,ticks", [(0, [0, 1]), (1, [0, 1]), (4, [0, 1, 2, 3, 4]), (7, [0, 2, 4, 6, 8]),
                                       (11, [0, 5, 10, 15]), (100, [0, 50, 100]), (1234, [0, 500, 1000, 1500])])
def test_the_chart_marks_round_steps_up_to_the_busiest_day(top, ticks):
    assert count_ticks(top) == ticks  # it marked only 0 and the maximum: an 11-request bar had nothing to read off between


def test_settings_import_verify_and_reload_the_model_in_the_background(qtbot, window, services, copy_model, monkeypatch):
    view = window.settings_view
    window.show_view(4)
    from app.core.models.registry import recommend

    rec = recommend()  # the CLI's rule, shown
    assert view.recommendation.text() == rec.advice  # the CLI's sentence, model names as it spells them
    from app.core.llm.cpu import installed_library

    offload = installed_library().gpu_offload  # False for the CPU build `make` installs, true for a GPU one
    assert view.gpu_layers.isEnabled() == offload and view.gpu_note.isVisible() == (not offload)
    assert offload or "no GPU backend" in view.gpu_note.text()
    gpu_build = dataclasses.replace(installed_library(), gpu_offload=True)  # as a CUDA or Vulkan build reports itself
    monkeypatch.setattr("app.core.llm.cpu.installed_library", lambda: gpu_build)
    view.say_whether_the_gpu_is_used()
    assert view.gpu_layers.isEnabled() and not view.gpu_note.isVisible()
    assert not view.model_status.isVisible()  # nothing to say yet: no empty row under the model
    gguf = copy_model("tiny-copy.gguf")
    monkeypatch.setattr("app.ui.settings_view.QFileDialog.getOpenFileName", lambda *a, **k: (str(gguf), ""))
    worker = view.choose_gguf()
    with qtbot.waitSignal(worker.finished, timeout=120_000):
        pass
    qtbot.waitUntil(lambda: view.model.currentData() == "tiny-copy", timeout=10_000)
    assert "Imported tiny-copy" in view.model_status.text() and view.model_status.isVisible()
    worker = view.verify()
    with qtbot.waitSignal(worker.finished, timeout=120_000):
        pass
    qtbot.waitUntil(lambda: "verified, sha256 matches" in view.model_status.text(), timeout=10_000)
    old = services.engine
    view.n_ctx.setValue(1024)
    view.gpu_layers.setValue(0)  # CPU only; on this CPU-only build it changes nothing but the setting
    with qtbot.waitSignal(view.reloaded, timeout=180_000) as done:
        view.apply_button.click()
        assert "Reloading the model in the background" in view.model_status.text()
    assert done.args == [True]
    assert services.engine is not old and services.engine.n_ctx == 1024 and services.engine.n_gpu_layers == 0
    saved = settings_mod.load()
    assert (saved.chat_model, saved.n_ctx, saved.n_gpu_layers) == ("tiny-copy", 1024, 0)
