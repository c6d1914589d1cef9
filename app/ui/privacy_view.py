"""Privacy: when a request may leave (policy per task and threshold), to whom (provider, model,
price), with which key (kept only in the OS keyring), which names are always redacted, and the
ledger of everything that did leave, with a chart of local against cloud requests per day."""

from __future__ import annotations

import json
import math

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core import netpolicy, secrets
from app.core import settings as settings_mod
from app.core.activity import Activity, Day
from app.core.ledger import Ledger, LedgerEntry
from app.core.llm.cloud import CloudClient
from app.core.privacy.redaction import load_names
from app.core.routing.escalation import names_file
from app.core.settings import CloudSettings, TaskCloudPolicy
from app.ui.library_view import button, fill_with_panes
from app.ui.workers import GeneratorWorker, Jobs

POLICIES = ("never", "ask", "auto")
TASK_NAMES = ("ask", "summarize", "extract", "classify", "transform")
INHERIT = "as above"
LEDGER_COLUMNS = ("Time", "Task", "Provider", "Tokens", "Cost", "Outcome")


class LedgerModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.entries: list[LedgerEntry] = []

    def set_entries(self, entries: list[LedgerEntry]) -> None:
        self.beginResetModel()
        self.entries = list(reversed(entries))  # newest first
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 - Qt override
        return 0 if parent.isValid() else len(LEDGER_COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802 - Qt override
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return LEDGER_COLUMNS[section]
        return None

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        e = self.entries[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{e.provider} · {e.model}" + (f"\n{e.detail}" if e.detail else "")
        return (f"#{e.id} {(e.time or '')[5:16].replace('T', ' ')}", e.task, e.provider,
                f"{e.tokens_in} + {e.tokens_out}", f"${e.cost_estimate:.4f}", e.outcome)[index.column()]


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def labelled_days(count: int) -> list[int]:
    """Which of `count` days (oldest first) get a date under their bars: about seven, counted back
    from today, so today, where the latest requests are, always has one."""
    step = max(1, count // 7)
    return [n for n in range(count) if (count - 1 - n) % step == 0]


def count_ticks(top: int) -> list[int]:
    """The y-axis marks for bars up to `top` requests: 0 and at most four round steps (1, 2 or 5
    times a power of ten), the last at or above `top`, so a bar's height reads off a line."""
    top, scale = max(top, 1), 1
    while True:
        for step in (scale, 2 * scale, 5 * scale):
            if math.ceil(top / step) <= 4:
                return [step * n for n in range(math.ceil(top / step) + 1)]
        scale *= 10


class ActivityChart(QWidget):
    """Requests per day, local against cloud, as paired bars."""

    LOCAL, CLOUD = QColor("#43a047"), QColor("#8e24aa")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.days: list[Day] = []
        self.ticks = count_ticks(0)
        self.setMinimumHeight(170)
        self.setAccessibleName("Requests per day, on this computer and sent to the cloud")

    def set_days(self, days: list[Day]) -> None:
        self.days = days
        self.ticks = count_ticks(max([0] + [max(d.local, d.cloud) for d in days]))
        self.setToolTip("\n".join(f"{d.date}: {d.local} local, {d.cloud} cloud" for d in days if d.local or d.cloud) or "no requests yet")
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802 - Qt override
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().color(self.foregroundRole())
        area = QRectF(36, 24, self.width() - 46, self.height() - 50)
        top = self.ticks[-1]
        p.setPen(text)
        metrics, x = p.fontMetrics(), 8.0
        for label, color in (("Requests per day:", None), ("on this computer", self.LOCAL), ("sent to the cloud", self.CLOUD)):
            if color is not None:
                p.fillRect(QRectF(x, 5, 10, 10), color)
                x += 14
            p.drawText(QRectF(x, 0, metrics.horizontalAdvance(label) + 4, 20), Qt.AlignmentFlag.AlignLeft, label)
            x += metrics.horizontalAdvance(label) + 14
        grid = QColor(text)
        grid.setAlpha(50)
        for tick in self.ticks:
            y = area.bottom() - area.height() * tick / top
            p.drawText(QRectF(0, y - 7, 32, 14), Qt.AlignmentFlag.AlignRight, str(tick))
            if tick:
                p.setPen(grid)
                p.drawLine(QPointF(area.left(), y), QPointF(area.right(), y))
                p.setPen(text)
        p.drawLine(area.bottomLeft(), area.bottomRight())
        if not self.days:
            p.end()
            return
        slot = area.width() / len(self.days)
        bar = max(2.0, slot * 0.35)
        dated = set(labelled_days(len(self.days)))
        for n, d in enumerate(self.days):
            x = area.left() + n * slot + slot * 0.1
            for k, (count, color) in enumerate(((d.local, self.LOCAL), (d.cloud, self.CLOUD))):
                h = area.height() * count / top
                p.fillRect(QRectF(x + k * bar, area.bottom() - h, bar - 1, h), color)
            if n in dated:
                p.drawText(QRectF(x - 10, area.bottom() + 4, 60, 16), Qt.AlignmentFlag.AlignLeft, d.date[5:])
        p.end()


class PrivacyView(QWidget):
    status = Signal(str)

    def __init__(self, services, jobs: Jobs, parent=None) -> None:
        super().__init__(parent)
        self.services, self.jobs = services, jobs
        self.activity = Activity()
        self._build()
        self.load()
        self.refresh()

    # -- layout --------------------------------------------------------------------------
    def _build(self) -> None:
        settings_box = QWidget()
        col = QVBoxLayout(settings_box)
        policy = QGroupBox("When may a request leave this computer?")
        grid = QGridLayout(policy)
        self.policy = QComboBox()
        self.policy.addItems(POLICIES)
        self.policy.setAccessibleName("Policy for every task")
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0, 1)
        self.threshold.setSingleStep(0.05)
        self.threshold.setAccessibleName("Confidence threshold for every task")
        grid.addWidget(QLabel("All tasks"), 0, 0)
        grid.addWidget(self.policy, 0, 1)
        grid.addWidget(QLabel("below confidence"), 0, 2)
        grid.addWidget(self.threshold, 0, 3)
        self.task_policy: dict[str, QComboBox] = {}
        self.task_threshold: dict[str, QDoubleSpinBox] = {}
        for row, task in enumerate(TASK_NAMES, start=1):
            combo = QComboBox()
            combo.addItems((INHERIT, *POLICIES))
            combo.setAccessibleName(f"Policy for {task}")
            spin = QDoubleSpinBox()
            spin.setRange(-0.05, 1)
            spin.setSingleStep(0.05)
            spin.setSpecialValueText(INHERIT)
            spin.setAccessibleName(f"Threshold for {task}")
            self.task_policy[task], self.task_threshold[task] = combo, spin
            grid.addWidget(QLabel(task.title()), row, 0)
            grid.addWidget(combo, row, 1)
            grid.addWidget(spin, row, 3)
        self.preview = QCheckBox("Preview every request before it is sent (auto becomes ask)")
        self.preview.setAccessibleName("Preview every request")
        grid.addWidget(self.preview, len(TASK_NAMES) + 1, 0, 1, 4)
        hint = QLabel("never: nothing leaves · ask: you see the exact payload and decide · auto: sent when the "
                      "local confidence is below the threshold")
        hint.setWordWrap(True)
        grid.addWidget(hint, len(TASK_NAMES) + 2, 0, 1, 4)
        col.addWidget(policy)

        provider = QGroupBox("Cloud provider (any OpenAI-compatible endpoint)")
        form = QFormLayout(provider)
        self.base_url = QLineEdit()
        self.base_url.setPlaceholderText("https://api.example.com/v1")
        self.base_url.setAccessibleName("Provider base URL")
        self.model_name = QLineEdit()
        self.model_name.setAccessibleName("Provider model")
        self.price = QDoubleSpinBox()
        self.price.setDecimals(4)
        self.price.setRange(0, 100)
        self.price.setPrefix("$ ")
        self.price.setSuffix(" per 1k tokens")
        self.price.setAccessibleName("Price per thousand tokens")
        form.addRow("Base URL", self.base_url)
        form.addRow("Model", self.model_name)
        form.addRow("Price", self.price)
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("paste the API key; it is stored only in the OS keyring")
        self.key.setAccessibleName("API key")
        form.addRow("Key", self.key)
        keys = QHBoxLayout()
        self.set_key_button = button("Set key", "Store the key in the OS keyring", self.set_key, "Store the API key")
        self.test_key_button = button("Test", "Send a fixed one-word request (no data of yours) and say whether it works",
                                      self.test_key, "Test the provider and key")
        self.forget_key_button = button("Forget key", "Remove the key from the keyring", self.forget_key, "Forget the API key")
        for b in (self.set_key_button, self.test_key_button, self.forget_key_button):
            keys.addWidget(b)
        self._keyring_secure = True
        self._key_stored = False  # for the base URL as last checked
        self.base_url.textChanged.connect(self._url_edited)
        self.key.textChanged.connect(self._enable_key_buttons)
        self.base_url.editingFinished.connect(self.refresh_key_status)  # not per keystroke: each asks the keyring over D-Bus
        form.addRow("", keys)
        self.key_status = QLabel("")
        self.key_status.setWordWrap(True)
        self.key_status.setAccessibleName("Keyring and key status")
        form.addRow("", self.key_status)
        col.addWidget(provider)

        names = QGroupBox("Names always replaced by placeholders (one per line)")
        nbox = QVBoxLayout(names)
        self.names = QPlainTextEdit()
        self.names.setAccessibleName("Names to redact")
        self.names.setPlaceholderText("Ada Lovelace\nNorthwind Studio")
        self.names.setMaximumHeight(90)
        nbox.addWidget(self.names)
        col.addWidget(names)
        self.save_button = button("Save privacy settings", "Apply and save these settings", self.save)
        col.addWidget(self.save_button)
        col.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(settings_box)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        ledger_box = QWidget()
        lbox = QVBoxLayout(ledger_box)
        lbox.addWidget(QLabel("<b>Ledger</b>: every request that left, or was about to"))
        self.chart = ActivityChart()
        lbox.addWidget(self.chart)
        self.savings = QLabel("")
        self.savings.setWordWrap(True)
        self.savings.setAccessibleName("Money saved by answering locally")
        lbox.addWidget(self.savings)
        self.ledger = LedgerModel(self)
        self.ledger_table = QTableView()
        self.ledger_table.setModel(self.ledger)
        self.ledger_table.setAccessibleName("Ledger of cloud requests")
        self.ledger_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.ledger_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.ledger_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.ledger_table.verticalHeader().hide()
        self.ledger_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.ledger_table.horizontalHeader().setStretchLastSection(True)
        self.ledger_table.selectionModel().currentRowChanged.connect(self._show_payload)
        lbox.addWidget(self.ledger_table, 2)
        self.payload = QPlainTextEdit()
        self.payload.setReadOnly(True)
        self.payload.setAccessibleName("Exact payload of the selected request")
        self.payload.setPlaceholderText("Select a row to see the exact payload that was sent.")
        lbox.addWidget(self.payload, 2)

        fill_with_panes(self, scroll, ledger_box, [560, 620])

    # -- settings ------------------------------------------------------------------------
    def load(self) -> None:
        cloud = self.services.settings.cloud
        self.policy.setCurrentText(cloud.policy)
        self.threshold.setValue(cloud.threshold)
        for task in TASK_NAMES:
            own = cloud.tasks.get(task, TaskCloudPolicy())
            self.task_policy[task].setCurrentText(own.policy or INHERIT)
            self.task_threshold[task].setValue(-0.05 if own.threshold is None else own.threshold)
        self.base_url.setText(cloud.base_url)
        self.model_name.setText(cloud.model)
        self.price.setValue(cloud.price_per_1k)
        path = names_file()
        self.names.setPlainText("\n".join(load_names(path)) if path.exists() else "")
        self.refresh_key_status()

    def cloud_settings(self) -> CloudSettings:
        preview = self.preview.isChecked()

        def shown(policy: str) -> str:
            return "ask" if preview and policy == "auto" else policy

        tasks = {}
        for task in TASK_NAMES:
            chosen, threshold = self.task_policy[task].currentText(), self.task_threshold[task].value()
            own = TaskCloudPolicy(policy=None if chosen == INHERIT else shown(chosen), threshold=None if threshold < 0 else threshold)
            if own.policy is not None or own.threshold is not None:
                tasks[task] = own
        current = self.services.settings.cloud
        return current.model_copy(update={
            "policy": shown(self.policy.currentText()), "threshold": self.threshold.value(), "tasks": tasks,
            "base_url": self.base_url.text().strip(), "model": self.model_name.text().strip(), "price_per_1k": self.price.value()})

    def save(self) -> bool:
        try:
            cloud = CloudSettings.model_validate(self.cloud_settings().model_dump())
            new = self.services.settings.model_copy(update={"cloud": cloud})
            settings_mod.save(new)
            names_file().write_text(self.names.toPlainText().strip() + "\n", encoding="utf-8")
        except Exception as exc:  # noqa: BLE001 - an invalid value is the user's to fix: say which
            self.status.emit(f"Not saved: {exc}")
            return False
        self.services.settings = new
        netpolicy.install(new.cloud)  # the guard lets the provider's host through only when a policy allows it
        self.load()
        self.status.emit("Privacy settings saved")
        return True

    # -- key -----------------------------------------------------------------------------
    def refresh_key_status(self) -> None:
        base = self.base_url.text().strip()
        secure, backend = secrets.keyring_status()
        self._keyring_secure, self._key_stored = secure, False
        self._enable_key_buttons()
        if not secure:
            self.key_status.setText(f"No secure keyring on this computer ({backend}): a key cannot be stored, so nothing "
                                    "can be sent to a provider that needs one.")
            return
        if not base:
            self.key_status.setText(f"Keys are kept in {secrets.known_as(backend)}. Set the base URL first.")
            return
        status = secrets.key_status(base)
        self._key_stored = status["stored"]
        self._enable_key_buttons()
        stored = "A key is stored" if status["stored"] else "No key is stored"
        needed = "" if secrets.key_needed(base) else "; a server on this computer may need none"
        self.key_status.setText(f"{stored} for {secrets.provider_account(base)} in {secrets.known_as(backend)}{needed}.")

    def _url_edited(self, *_args) -> None:
        self._key_stored = False  # what was stored belongs to the URL before; checked again when editing ends
        self._enable_key_buttons()

    def _enable_key_buttons(self, *_args) -> None:
        """A key needs a provider to belong to, and something to store; forgetting needs a key stored;
        a test needs only the provider (a server on this computer may want no key)."""
        base = bool(self.base_url.text().strip())
        self.set_key_button.setEnabled(base and self._keyring_secure and bool(self.key.text()))
        self.forget_key_button.setEnabled(base and self._keyring_secure and self._key_stored)
        self.test_key_button.setEnabled(base)

    def set_key(self) -> None:
        try:
            secrets.set_key(self.base_url.text().strip(), self.key.text())
        except Exception as exc:  # noqa: BLE001 - KeyringUnavailable, InvalidKey, InvalidProvider: all said in words
            self.status.emit(f"Key not stored: {exc}")
        else:
            self.status.emit("Key stored in the keyring")
        self.key.clear()
        self.refresh_key_status()

    def forget_key(self) -> None:
        try:
            removed = secrets.forget_key(self.base_url.text().strip())
        except Exception as exc:  # noqa: BLE001
            self.status.emit(f"Could not forget the key: {exc}")
        else:
            self.status.emit("Key removed from the keyring" if removed else "No key was stored")
        self.refresh_key_status()

    def test_key(self) -> GeneratorWorker:
        base, model = self.base_url.text().strip(), self.model_name.text().strip()
        self.key_status.setText("Testing…")

        def job(_cancel):
            netpolicy.install(self.cloud_settings().model_copy(update={"policy": "ask"}))  # a test is consent to this request
            try:
                key = secrets.get_key(base)
                with CloudClient(base, model, key, timeout_s=15, retries=0) as client:
                    reply = client.chat([{"role": "user", "content": "Reply with the word OK."}], max_tokens=4)
                Ledger().record(LedgerEntry(provider=secrets.provider_account(base), model=model, task="key test",
                                            payload=json.dumps(reply.request_payload), outcome="sent", tokens_in=reply.tokens_in,
                                            tokens_out=reply.tokens_out, cost_estimate=reply.cost, latency_s=reply.latency_s), key)
                return f"The provider answered in {reply.latency_s:.1f} s: the key and URL work."
            finally:
                netpolicy.install(self.services.settings.cloud)

        worker = GeneratorWorker(job)
        worker.finished_with.connect(lambda message: (self.key_status.setText(message), self.refresh()))
        worker.errored.connect(lambda message: self.key_status.setText(f"Test failed: {message}"))
        return self.jobs.start(worker)

    # -- ledger --------------------------------------------------------------------------
    def refresh(self, *_args) -> None:
        ledger = Ledger()
        self.ledger.set_entries(ledger.rows(limit=5000))
        summary = ledger.summary()
        days = self.activity.days(14)
        self.chart.set_days(days)
        price = self.services.settings.cloud.price_per_1k
        local = sum(d.local for d in days)
        saved = self.activity.saved(price)
        sent = summary["outcomes"].get("sent", 0)
        cost = (f"Sending those to the cloud too would have cost about ${saved:.4f} more." if price
                else "Set a price per 1k tokens to see what sending those to the cloud would have cost.")
        self.savings.setText(f"{_count(local, 'request')} answered on this computer in the last 14 days, {sent} sent to the cloud "
                             f"in all (${summary['cost_estimate']:.4f}). {cost}")

    def _show_payload(self, current: QModelIndex, _previous=None) -> None:
        if not current.isValid():
            self.payload.clear()
            return
        entry = self.ledger.entries[current.row()]
        try:
            text = json.dumps(json.loads(entry.payload), indent=2, ensure_ascii=False)
        except ValueError:
            text = entry.payload
        self.payload.setPlainText(f"{entry.outcome} · {entry.detail}\n\n{text}" if entry.detail else text)

    def close_store(self) -> None:
        self.activity.close()
