"""One Hearth per data folder, with real processes (`python -m app`, as a user runs `hearth`): a
second launch hands its files to the first and exits 0 without a single system call on the data
folder (strace proves it); `hearth quick` runs in the running Hearth, or starts one that runs it;
a killed instance's socket is replaced by the next launch; a bad request gets the reason."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest
from conftest import HEARTH, REPO

from app.core import instance as protocol
from app.ui.instance import InstanceServer

WAIT_S = 300  # a guard against a hang only: every wait ends as soon as its condition holds


def wait_for(condition, what: str, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if process is not None and process.poll() is not None:
            pytest.fail(f"Hearth exited ({process.returncode}) while waiting for {what}")
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}")
        time.sleep(0.2)


class Home:
    """A HEARTH_HOME of its own, and the running Hearths started in it (killed at the end)."""

    def __init__(self, root: Path, cache: Path) -> None:
        self.root = root
        root.mkdir(exist_ok=True)
        (root / "cache").symlink_to(cache)  # the embedder's ONNX export is made once for every home here
        self.env = {**os.environ, "HEARTH_HOME": str(root)}
        self.processes: list[subprocess.Popen] = []

    @property
    def data(self) -> Path:
        return self.root / "data"

    def log(self) -> str:
        path = self.root / "log" / "hearth.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def start(self, *args: str) -> subprocess.Popen:
        with open(self.root / f"hearth-{len(self.processes)}.out", "w") as out:  # the child keeps its own copy
            process = subprocess.Popen([*HEARTH, *args], env=self.env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def start_instance(self, *args: str) -> subprocess.Popen:
        process = self.start(*args)
        wait_for(lambda: self.log().count("listening for later launches") == len(self.processes), "the socket", process)
        return process

    def run(self, *args: str, trace: Path | None = None) -> subprocess.CompletedProcess:
        prefix = ["strace", "-f", "-qq", "-e", "trace=%file", "-o", str(trace)] if trace else []
        return subprocess.run([*prefix, *HEARTH, *args], env=self.env, cwd=REPO, capture_output=True, text=True, timeout=WAIT_S)

    def status(self, path: Path) -> str | None:
        """The catalog's status of a document, read as any reader may while Hearth writes."""
        db = self.data / "catalog.sqlite"
        if not db.exists():
            return None
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
            row = con.execute("SELECT status FROM documents WHERE path = ?", (str(path),)).fetchone()
        return row[0] if row else None

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait()


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("instance-cache")


@pytest.fixture(scope="module")
def running(tmp_path_factory, cache):
    """One Hearth for the tests that talk to a running instance: its models load once."""
    home = Home(tmp_path_factory.mktemp("running-home"), cache)
    first = home.start_instance()
    wait_for(lambda: (home.data / "hearth.lock.pid").exists(), "the store to open", first)
    yield home
    home.stop()


@pytest.fixture
def home(tmp_path, cache):
    h = Home(tmp_path / "own-home", cache)
    yield h
    h.stop()


@pytest.fixture
def note(tmp_path) -> Path:
    path = tmp_path / "harbour-note.txt"
    path.write_text("The harbour lamp of the Brannock lighthouse is lit at dusk and cleaned every Tuesday.", encoding="utf-8")
    return path


def test_a_second_launch_hands_its_files_to_the_first_without_touching_the_data_folder(running, note, tmp_path):
    if shutil.which("strace") is None:
        pytest.fail("strace is missing; run: make sysdeps")
    owner = (running.data / "hearth.lock.pid").read_text()
    unsupported = tmp_path / "tool.exe"
    unsupported.write_bytes(b"MZ")
    trace = tmp_path / "second.trace"
    # Relative to the second launch's own working folder, as a shell user types it.
    second = running.run(os.path.relpath(note, REPO), str(unsupported), str(tmp_path / "gone.pdf"), trace=trace)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "adds 1 to the current collection" in second.stdout
    assert f"not added: {unsupported}: unsupported file type .exe" in second.stdout
    assert f"not added: {tmp_path / 'gone.pdf'}: not found" in second.stdout
    # Not one system call of the second process named the data folder: no lock, no file, no stat.
    calls = trace.read_text()
    assert str(running.root / "log") in calls  # the trace does see the paths it opens
    assert str(running.data) not in calls
    assert (running.data / "hearth.lock.pid").read_text() == owner
    # The first one ingests the file into its current collection.
    wait_for(lambda: running.status(note) == "indexed", "the handed-over file to be indexed", running.processes[0])


def test_hearth_quick_runs_the_action_in_the_running_instance(running, note):
    before = running.log().count("quick action done: summarize, local")
    quick = running.run("quick", "summarize-file", "--file", str(note))
    assert quick.returncode == 0 and "Hearth runs summarize file" in quick.stdout, quick.stdout + quick.stderr
    wait_for(lambda: running.log().count("quick action done: summarize, local") > before,
             "the summary in the running Hearth", running.processes[0])
    asked = [line for line in running.log().splitlines() if "a later launch asked for the quick action" in line]
    assert asked and all(line.endswith("summarize-file with its option") for line in asked)  # never what it ran on
    assert len(running.processes) == 1  # and no other Hearth started
    unknown = running.run("quick", "make-coffee")
    assert unknown.returncode == 2 and "invalid choice" in unknown.stderr


def test_hearth_quick_with_no_instance_starts_hearth_and_runs_it(home, note):
    first = home.start("quick", "summarize-file", "--file", str(note))
    wait_for(lambda: "quick action done: summarize, local" in home.log(), "the summary", first)
    # It stays running as the instance: a later launch reaches it instead of starting another.
    later = home.run()
    assert later.returncode == 0 and "already running" in later.stdout, later.stdout + later.stderr
    assert first.poll() is None


def test_a_killed_instances_stale_socket_is_replaced_once_even_by_racing_launches(home, note):
    killed = home.start_instance()
    socket_file = next(Path(line.rsplit(" ", 1)[1]) for line in home.log().splitlines() if "listening for later launches" in line)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert socket_file.exists()  # left behind: nothing listens on it now
    # Two launches at once both find it stale; exactly one replaces it, the other hands over to that one.
    racers = [home.start(), home.start()]
    wait_for(lambda: any(p.poll() is not None for p in racers), "one racing launch to hand over to the other")
    [done] = [n for n, p in enumerate(racers) if p.poll() is not None]
    said = (home.root / f"hearth-{done + 1}.out").read_text()
    assert racers[done].returncode == 0 and "already running" in said, said
    assert home.log().count(f"replacing the stale single-instance socket {socket_file}") == 1
    survivor = racers[1 - done]
    third = home.run(str(note))  # the one that replaced it serves the socket
    assert third.returncode == 0 and "adds 1 to the current collection" in third.stdout, third.stdout + third.stderr
    wait_for(lambda: home.status(note) == "indexed", "the file to be indexed", survivor)


def test_the_socket_answers_a_bad_request_with_the_reason_and_a_good_one_with_a_drop(qtbot, tmp_path):
    """In this process, a raw Unix socket as the client: what any program could send."""
    lock = protocol.ServerLock()
    assert lock.try_acquire()
    server = InstanceServer(lock)
    server.listen()
    answers: list[dict] = []

    def ask(line: bytes) -> None:
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(server.name)
            client.sendall(line)
            answers.append(protocol.decode(client.makefile("rb").readline()))

    try:
        threading.Thread(target=ask, args=(b"{not json\n",)).start()
        qtbot.waitUntil(lambda: len(answers) == 1, timeout=30_000)
        assert answers[0]["ok"] is False and "did not understand" in answers[0]["text"] and "not a JSON line" in answers[0]["text"]
        model = tmp_path / "model.gguf"
        model.write_bytes(b"GGUF")
        with qtbot.waitSignal(server.dropped, timeout=30_000) as dropped:
            threading.Thread(target=ask, args=(protocol.encode(protocol.open_request([str(model), "gone.txt"], cwd=tmp_path)),)).start()
        assert dropped.args[0].models == [model] and dropped.args[0].missing == [str(tmp_path / "gone.txt")]
        qtbot.waitUntil(lambda: len(answers) == 2, timeout=30_000)
        assert answers[1]["ok"] and "offers to import 1 model" in answers[1]["text"] and "gone.txt: not found" in answers[1]["text"]
    finally:
        server.close()
