"""Serving the API with uvicorn on a socket bound here, on loopback unless the user says otherwise."""

from __future__ import annotations

import socket

from app.core.errors import HearthError
from app.core.netpolicy import is_loopback

DEFAULT_PORT = 8765


class BindRefused(HearthError):
    pass


def check_bind(host: str, allow_remote: bool) -> None:
    """Only loopback, unless allow_remote: anything else would offer the user's documents to the network."""
    if not is_loopback(host) and not allow_remote:
        raise BindRefused(f"refusing to listen on {host}: the local API serves this machine's loopback only; "
                          "pass --allow-remote to let other machines reach it (the token is still required)")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host.strip("[]"), port), family=family)
    except OSError as exc:
        raise HearthError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); is another server using that port? try --port") from exc


class ApiServer:
    """Bound at construction (so port 0 gets its real port at once); `run` serves until `stop`."""

    def __init__(self, services, host: str = "127.0.0.1", port: int = DEFAULT_PORT, allow_remote: bool = False,
                 token: str | None = None) -> None:
        import uvicorn

        from app.core.api.routes import create_app
        from app.core.secrets import serve_token

        check_bind(host, allow_remote)
        token = token or serve_token()
        self._socket = _bind(host, port)
        self.host, self.port = host, self._socket.getsockname()[1]
        config = uvicorn.Config(create_app(services, token), log_level="warning", access_log=False, lifespan="off",
                                timeout_graceful_shutdown=5)
        self._server = uvicorn.Server(config)

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    def run(self) -> None:
        """Serve until stop() (or Ctrl-C, when run on the main thread)."""
        try:
            self._server.run(sockets=[self._socket])
        finally:
            self._socket.close()

    def stop(self) -> None:
        self._server.should_exit = True

    @property
    def started(self) -> bool:
        return self._server.started
