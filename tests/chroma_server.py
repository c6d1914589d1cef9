"""A real `chroma run` on loopback for the team-store tests: started, killed and restarted on
the same path and port, telemetry off. Import the fixtures into a test module to use them."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

CHROMA = Path(sys.executable).with_name("chroma")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class ChromaServer:
    def __init__(self, path: Path, host: str = "127.0.0.1", port: int | None = None) -> None:
        self.path, self.host, self.port = path, host, port or free_port(host)
        self.process: subprocess.Popen | None = None
        self.log = path.with_name(path.name + ".log")

    @property
    def url(self) -> str:
        return f"http://{'127.0.0.1' if self.host == '0.0.0.0' else self.host}:{self.port}"

    def start(self) -> ChromaServer:
        env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen([str(CHROMA), "run", "--path", str(self.path), "--host", self.host, "--port", str(self.port)],
                                            stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chroma run exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"chroma run did not answer at {self.url}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, whatever was in flight is cut."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def wipe(self) -> None:
        """Every collection dropped: the next test starts on an empty server."""
        import chromadb

        from app.core.store.vectors import chroma_settings

        client = chromadb.HttpClient(host="127.0.0.1", port=self.port, settings=chroma_settings())
        for col in client.list_collections():
            client.delete_collection(col.name)


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    server = ChromaServer(tmp_path_factory.mktemp("chroma") / "db").start()
    yield server
    server.stop()


@pytest.fixture
def clean_chroma(chroma_server) -> ChromaServer:
    chroma_server.wipe()
    return chroma_server


@pytest.fixture
def own_chroma(tmp_path):
    """A server of the test's own, for tests that kill it."""
    server = ChromaServer(tmp_path / "chroma-db").start()
    yield server
    server.stop()


class TokenGate:
    """A loopback reverse proxy in front of a server that lets through only requests bearing the
    token, answering others as a Chroma server with token auth does (401, AuthorizationError)."""

    def __init__(self, upstream_port: int, token: str) -> None:
        gate = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self) -> None:
                gate.seen.append(self.headers.get("Authorization"))
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.headers.get("Authorization") != f"Bearer {token}":
                    self._reply(401, {"Content-Type": "application/json"},
                                json.dumps({"error": "AuthorizationError", "message": "Unauthorized"}).encode())
                    return
                upstream = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                upstream.request(self.command, self.path, body=body or None, headers=headers)
                answer = upstream.getresponse()
                kept = {k: v for k, v in answer.getheaders() if k.lower() not in ("transfer-encoding", "connection", "content-length")}
                self._reply(answer.status, kept, answer.read())
                upstream.close()

            def _reply(self, status: int, headers: dict, body: bytes) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _forward

            def log_message(self, *args) -> None:
                pass

        self.seen: list[str | None] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def on_chunk_batch(monkeypatch, n: int, action) -> list:
    """Run `action` before the store's `n`th write of a batch of chunks (catalog records and leases
    are written too, but not counted). Returns the list that counts the batches."""
    import chromadb.api.models.Collection as chroma_collection

    real_add, batches = chroma_collection.Collection.add, []

    def add(self, *args, **kwargs):
        if self.name.startswith("hearth_"):  # a vector collection, not the catalog's
            batches.append(1)
            if len(batches) == n:
                action()
        return real_add(self, *args, **kwargs)

    monkeypatch.setattr(chroma_collection.Collection, "add", add)
    return batches


def use_server(url: str) -> None:
    """Point this HEARTH_HOME's settings at the server (what `hearth store use --server` writes)."""
    from app.core import settings

    current = settings.load()
    current.store.server_url = url
    settings.save(current)
