"""The main window: Library, Chat, Tasks, Privacy and Settings as tabs, menus with a shortcut for
every main action, and a status bar that says what runs. The window shows at once; the store,
the embedder and the model load on a worker, and each view starts working when its part is in."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QMessageBox, QStackedWidget, QTabWidget

from app.core.drops import Drop, sort_dropped
from app.core.services import Services
from app.ui import theme
from app.ui.chat_view import ChatView
from app.ui.consent import ConsentBroker
from app.ui.dropping import dropped_items
from app.ui.first_run import FirstRun
from app.ui.library_view import LibraryView
from app.ui.prefs import prefs
from app.ui.privacy_view import PrivacyView
from app.ui.settings_view import SettingsView
from app.ui.tasks_view import TasksView
from app.ui.workers import GeneratorWorker, Jobs

GREETING = "Everything stays on this computer unless you allow otherwise in Privacy."
PARTS = (("library", "the document store"), ("embedder", "the embedder"), ("engine", "the language model"))


def load_parts(services, _cancel):
    """Open each heavy part in turn (the store first: the library needs it at once)."""
    for name, words in PARTS:
        yield ("loading", name, words)
        getattr(services, name)
        yield ("loaded", name, getattr(services, name))


class MainWindow(QMainWindow):
    models_ready = Signal()
    part_loaded = Signal(str)

    def __init__(self, services: Services, load_models: bool = True) -> None:
        super().__init__()
        self.services = services
        self.jobs = Jobs(self)
        self.jobs.errored.connect(self.show_error)
        self.setWindowTitle("Hearth")
        self.setAcceptDrops(True)
        self.consent = ConsentBroker(self, lambda: self.services.settings.cloud.price_per_1k)
        self.library = LibraryView(services, self.jobs)
        self.chat = ChatView(services, self.jobs, self.consent, self.library)
        self.tasks = TasksView(services, self.jobs, self.consent, self.library)
        self.privacy = PrivacyView(services, self.jobs)
        self.settings_view = SettingsView(services, self.jobs)
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("Hearth views")
        for view, title in ((self.library, "Library"), (self.chat, "Chat"), (self.tasks, "Tasks"),
                            (self.privacy, "Privacy"), (self.settings_view, "Settings")):
            self.tabs.addTab(view, title)
        self.first_run = FirstRun()
        self.first_run.add_folder.connect(self._first_folder)
        self.first_run.dismissed.connect(self._first_run_done)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.tabs)
        self.stack.addWidget(self.first_run)
        self.setCentralWidget(self.stack)
        self.notices: dict[object, str] = {}  # each view's latest status message, shown again on its page
        self.drop_notice: QMessageBox | None = None  # what the last drop left out, and why
        self.model_offers: list[QMessageBox] = []  # "import this .gguf?", one per dropped model
        self._wire()
        self._menus()
        self.model_state = QLabel("")
        self.model_state.setAccessibleName("Model loading state")
        self.statusBar().addPermanentWidget(self.model_state)
        self.greeting = services.settings.warning or GREETING
        self.statusBar().showMessage(self.greeting)
        self._restore()
        self.loader: GeneratorWorker | None = None
        self.tray = None  # app.run sets its Tray: while the tray shows the icon, closing hides the window
        self.quitting = False
        if load_models:
            self.load_models()

    # -- start-up ------------------------------------------------------------------------
    def _restore(self) -> None:
        p = prefs()
        theme.apply(str(p.value("theme", "system")))
        if not self.restoreGeometry(p.value("geometry", b"")):
            self.resize(1180, 760)
        if not p.value("first_run_done", False, type=bool):
            self.stack.setCurrentWidget(self.first_run)

    def load_models(self) -> GeneratorWorker:
        self.model_state.setText("Loading…")
        self.loader = GeneratorWorker(lambda cancel: load_parts(self.services, cancel))
        self.loader.yielded.connect(self._on_part)
        self.loader.finished_with.connect(lambda _r: self._models_loaded())
        return self.jobs.start(self.loader)

    def _on_part(self, event) -> None:
        state, name, detail = event
        if state == "loading":
            self.model_state.setText(f"Loading {detail}…")
            return
        if name == "library":
            self.library.attach(detail)
            self.chat.refresh_collections()
        self.part_loaded.emit(name)

    def _models_loaded(self) -> None:
        self.model_state.setText("Models ready")
        self.models_ready.emit()

    def _first_folder(self, folder) -> None:
        self._first_run_done()
        if self.library.ready():
            self.library.follow_folder(folder)
        else:
            self.part_loaded.connect(lambda name: name == "library" and self.library.follow_folder(folder))

    def _first_run_done(self) -> None:
        prefs().setValue("first_run_done", True)
        self.stack.setCurrentWidget(self.tabs)

    # -- wiring --------------------------------------------------------------------------
    def _wire(self) -> None:
        for view in (self.library, self.chat, self.tasks, self.privacy, self.settings_view):
            view.status.connect(lambda message, view=view: self._notice(view, message))
        self.tabs.currentChanged.connect(self._show_page_notice)
        self.stack.currentChanged.connect(self._show_page_notice)
        self.library.documents_changed.connect(self.chat.refresh_collections)
        self.library.documents_changed.connect(self.tasks.refresh_documents)
        self.chat.answered.connect(self.privacy.refresh)
        self.tasks.finished.connect(lambda _r: self.privacy.refresh())
        self.settings_view.theme_changed.connect(self._theme_changed)
        self.library.collections.dropped.connect(lambda items, name: self.take_drop(sort_dropped(items), name))
        self.tasks.files_dropped.connect(lambda items: self.take_drop(sort_dropped(items), for_task=True))

    def _notice(self, view, message: str) -> None:
        """Shown at once, from any page (an ingest that ends while you read Chat says so), and
        kept for the view's own page: "Done: 4 results" is the Tasks page's, not the Library's."""
        self.notices[view] = message
        self.statusBar().showMessage(message)

    def _show_page_notice(self, *_args) -> None:
        page = self.tabs.currentWidget() if self.stack.currentWidget() is self.tabs else None
        self.statusBar().showMessage(self.notices.get(page, self.greeting))

    def _theme_changed(self, name: str) -> None:
        theme.apply(name)
        prefs().setValue("theme", name)

    def _action(self, menu, text: str, shortcut, slot, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        self.addAction(action)
        return action

    def _menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu("&File")
        self._action(file, "Add &files…", QKeySequence.StandardKey.Open, self.library.choose_files, "Add documents to the collection")
        self._action(file, "Add f&older…", "Ctrl+Shift+O", self.library.choose_folder, "Add every readable file in a folder")
        self._action(file, "Follow a folder…", "Ctrl+Shift+F", self.library.choose_follow_folder)
        self._action(file, "Cancel adding documents", "Ctrl+.", self.library.cancel_ingest)
        file.addSeparator()
        self._action(file, "&Export conversation as Markdown…", "Ctrl+E", self.chat.export_conversation)
        file.addSeparator()
        self._action(file, "&Quit", "Ctrl+Q", self.quit_app)
        docs = bar.addMenu("&Documents")
        self._action(docs, "&Remove selected", QKeySequence.StandardKey.Delete, self.library.remove_selected)
        self._action(docs, "Re-&index selected", "F5", self.library.reindex_selected)
        self._action(docs, "&Open selected", "Ctrl+Return", self.library.open_selected)
        self._action(docs, "Show in &folder", "Ctrl+Shift+R", self.library.reveal_selected)
        self._action(docs, "&New collection…", "Ctrl+Shift+N", self.library.create_collection)
        chat = bar.addMenu("&Chat")
        self._action(chat, "&New conversation", QKeySequence.StandardKey.New, self.chat.new_conversation)
        self._action(chat, "&Ask", "Ctrl+K", self._focus_question)
        self._action(chat, "&Stop", "Esc", self.stop_all_answers)
        self._action(chat, "Re&name conversation…", "F2", self.chat.rename_conversation)
        self._action(chat, "&Delete conversation", "Ctrl+Shift+Delete", self.chat.delete_conversation)
        view = bar.addMenu("&View")
        for n, title in enumerate(("Library", "Chat", "Tasks", "Privacy", "Settings"), start=1):
            self._action(view, title, f"Ctrl+{n}", lambda n=n: self.show_view(n - 1))
        view.addSeparator()
        for name in theme.THEMES:
            self._action(view, f"{name.title()} theme", None, lambda name=name: self.settings_view.set_theme(name))
        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "What stays on this computer", "F1", lambda: self.stack.setCurrentWidget(self.first_run))

    def show_view(self, index: int) -> None:
        self.stack.setCurrentWidget(self.tabs)
        self.tabs.setCurrentIndex(index)

    def _focus_question(self) -> None:
        self.show_view(1)
        self.chat.question.setFocus()

    def stop_all_answers(self) -> None:
        self.chat.stop()
        self.tasks.stop()

    # -- the old single-view API, used by the tray and app.run ------------------------------
    def ingest_files(self, files: list[str]) -> GeneratorWorker | None:
        return self.library.ingest_files(files)

    def show_error(self, message: str) -> None:
        self.statusBar().showMessage(f"Error: {message}")

    # -- drag and drop, and files handed over by a later launch ------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        """Anywhere the sidebar and the task panel do not take it: into the current collection."""
        items = dropped_items(event.mimeData())
        if items:
            event.acceptProposedAction()
            self.take_drop(sort_dropped(items))

    def take_drop(self, drop: Drop, collection: str | None = None, for_task: bool = False) -> None:
        """Documents go to `collection` (default: the current one), or to the current task;
        GGUF models are offered for import; everything else is listed with its reason."""
        if drop.problems():
            self.drop_notice = QMessageBox(QMessageBox.Icon.Warning, "Some dropped items were left out",
                                           "These were not used; the rest go on:", parent=self)
            self.drop_notice.setInformativeText("\n".join(drop.problems()))
            self.drop_notice.open()
        for model in drop.models:
            self._offer_model(model)
        if not for_task:
            if drop.documents:
                self.library.ingest_files(drop.documents, collection)
        elif files := drop.files():
            self.show_view(self.tabs.indexOf(self.tasks))
            self.tasks.run_on(files)

    def _offer_model(self, path: Path) -> None:
        yes, no = QMessageBox.StandardButton.Yes, QMessageBox.StandardButton.No
        offer = QMessageBox(QMessageBox.Icon.Question, "Import a model?",
                            f"{path.name} is a GGUF model. Import it so that Settings can select it as the chat model?",
                            yes | no, self)

        def answered(code: int) -> None:
            self.model_offers.remove(offer)
            if code == yes:
                self.show_view(self.tabs.indexOf(self.settings_view))
                self.settings_view.import_gguf(path)

        offer.finished.connect(answered)
        self.model_offers.append(offer)
        offer.open()

    def take_handover(self, drop: Drop) -> None:
        """`hearth FILE…` while this one runs: come forward, and take the files as a drop."""
        self.showNormal()
        self.raise_()
        self.activateWindow()
        self.take_drop(drop)

    # -- shutdown ------------------------------------------------------------------------
    def confirm_quit(self) -> bool:
        answer = QMessageBox.question(self, "Quit Hearth?", "Work is still running (adding documents or answering). "
                                      "Quit anyway? Files added so far are kept.")
        return answer == QMessageBox.StandardButton.Yes

    def quit_app(self) -> None:
        """File ▸ Quit and the tray's Quit: the window closes for good even when a tray keeps it."""
        self.quitting = True
        if self.close():
            QApplication.quit()
        self.quitting = False

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self.tray is not None and self.tray.keeps_running() and not self.quitting:
            event.ignore()
            self.hide()
            self.tray.window_hidden()
            return
        if self.jobs.busy(besides=self.loader) and not self.confirm_quit():
            event.ignore()
            return
        prefs().setValue("geometry", self.saveGeometry())
        self.library.stop_watcher()
        self.jobs.stop_all()
        self.chat.close_store()
        self.tasks.close_store()
        self.privacy.close_store()
        super().closeEvent(event)
