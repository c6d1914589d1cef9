"""OpenAI-compatible servers on loopback for the cloud client's tests.

`start_server` runs the real llama_cpp.server on a local model; `StubServer` is a scripted
http.server for the faults a real server will not produce on demand (500, 401, stalls), and it
records every request so a test can prove what was and was not sent.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

_START_TIMEOUT_S = 60


class ServerStartError(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerHandle:
    def __init__(self, process: subprocess.Popen, port: int, log: Path):
        self.process = process
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}/v1"
        self._log = log

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self._log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.unlink(missing_ok=True)


def _answers(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/models", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def start_server(model_path: Path, port: int | None = None, n_ctx: int = 2048, extra_args: tuple[str, ...] = ()) -> ServerHandle:
    """Run llama_cpp.server on 127.0.0.1 and wait until it serves; the chat format comes from the GGUF."""
    port = port or _free_port()
    # Output goes to a file, not a pipe: an unread pipe fills up and stalls the server.
    fd, log_name = tempfile.mkstemp(prefix="llama-server-", suffix=".log")
    log = Path(log_name)
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path), "--host", "127.0.0.1", "--port", str(port),
               "--n_ctx", str(n_ctx), "--n_threads", "1", "--n_threads_batch", "1", "--verbose", "False", *extra_args]
    with open(fd, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    handle = ServerHandle(process, port, log)
    deadline = time.monotonic() + _START_TIMEOUT_S
    while not _answers(handle.base_url):
        if process.poll() is not None or time.monotonic() > deadline:
            tail = handle.log_tail()
            handle.stop()
            why = f"exited with {process.returncode}" if process.returncode is not None else f"did not answer within {_START_TIMEOUT_S} s"
            raise ServerStartError(f"llama_cpp.server {why}; its output ended with:\n{tail}")
        time.sleep(0.2)
    return handle


@dataclass(frozen=True)
class Canned:
    """One scripted answer from the stub."""

    status: int = 200
    pieces: tuple[str, ...] = ("Hello", ", ", "world")
    usage: dict | None = None  # sent as a final chunk, as OpenAI does with include_usage
    error: str = ""  # message of an OpenAI-style error body, for a non-200 status
    delay_s: float = 0.0  # pause before answering at all
    stall_s: float = 0.0  # pause after the first piece


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # names lowercased
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


class StubServer:
    """Answers each request with the next Canned in its script; the last one repeats."""

    def __init__(self, *script: Canned):
        self.script = list(script) or [Canned()]
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._release = threading.Event()  # wakes sleeping handlers when the stub stops
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._server.handle_error = lambda request, address: None  # a client hanging up mid-answer is expected here
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)  # a short poll: quick teardown

    def __enter__(self) -> StubServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def _next(self, received: Received) -> Canned:
        with self._lock:
            self.received.append(received)
            return self.script[min(len(self.received), len(self.script)) - 1]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                canned = stub._next(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                if stub._release.wait(canned.delay_s):
                    return
                if canned.status != 200:
                    self._send_json(canned.status, {"error": {"message": canned.error, "type": "stub_error"}})
                else:
                    self._send_stream(canned)

            def _send_json(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _send_stream(self, canned: Canned) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")  # the end of the body is the end of the stream
                self.end_headers()
                for i, piece in enumerate(canned.pieces):
                    self._event({"model": "stub", "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
                    if i == 0 and stub._release.wait(canned.stall_s):
                        return
                self._event({"model": "stub", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                if canned.usage is not None:
                    self._event({"model": "stub", "choices": [], "usage": canned.usage})
                self.wfile.write(b"data: [DONE]\n\n")

            def _event(self, chunk: dict) -> None:
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()

            def log_message(self, format: str, *args) -> None:
                pass  # keep test output clean

        return Handler


@pytest.fixture(scope="session")
def cloud_server(chat_model_path) -> Iterator[ServerHandle]:
    """llama_cpp.server serving the default chat model on loopback, shared by the session."""
    try:
        handle = start_server(chat_model_path)
    except ServerStartError as exc:
        pytest.fail(str(exc))
    yield handle
    handle.stop()


@pytest.fixture
def stub_server() -> Iterator[Callable[..., StubServer]]:
    """Make a StubServer with a script; each is stopped when the test ends."""
    stubs: list[StubServer] = []

    def make(*script: Canned) -> StubServer:
        stubs.append(StubServer(*script).__enter__())
        return stubs[-1]

    yield make
    for stub in stubs:
        stub.__exit__(None, None, None)
