"""A Chroma server (`chroma run`) as the store a team shares: the connection, its token and
its failures told plainly.

The token, where the server wants one, lives in the OS keyring (service `hearth-store`, one
account per host and port), never in the settings file. Telemetry is off as for the embedded store.
"""

from __future__ import annotations

import errno
from contextlib import contextmanager
from urllib.parse import urlsplit

from app.core.errors import HearthError

STORE_SERVICE = "hearth-store"
DEFAULT_PORT = 8000  # what `chroma run` listens on unless told otherwise


class StoreUnavailable(HearthError, OSError):
    """The store server cannot be reached or went away mid-request."""

    def __init__(self, url: str, reason: str) -> None:
        message = f"the store server at {url} cannot be reached ({reason})"
        OSError.__init__(self, errno.ECONNABORTED, message)  # strerror carries the sentence
        self.url = url

    def __str__(self) -> str:
        return self.strerror


class StoreRefused(HearthError):
    """The server answers but does not let Hearth in (no token, or a wrong one)."""


class InvalidStoreUrl(HearthError, ValueError):
    pass


def parse_url(url: str) -> tuple[str, int, bool]:
    """(host, port, ssl) of a server URL such as http://10.0.0.5:8000; a bad one is said why."""
    parts = urlsplit(url.strip())
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise InvalidStoreUrl(f"store server URL {url!r} is not valid ({exc})") from exc
    if parts.scheme not in ("http", "https") or not host:
        raise InvalidStoreUrl(f"store server URL {url!r} is not valid: give it as http://HOST:PORT (or https://)")
    if parts.path.strip("/") or parts.query:
        raise InvalidStoreUrl(f"store server URL {url!r} is not valid: Chroma is served at the root, without a path")
    return host.lower(), port or (443 if parts.scheme == "https" else DEFAULT_PORT), parts.scheme == "https"


def account(url: str) -> str:
    host, port, _ = parse_url(url)
    return f"{host}:{port}"


def set_token(url: str, token: str) -> None:
    from app.core import secrets

    secrets.set_key(account(url), token, service=STORE_SERVICE)


def get_token(url: str) -> str | None:
    from app.core import secrets

    return secrets.get_key(account(url), service=STORE_SERVICE)


def forget_token(url: str) -> bool:
    from app.core import secrets

    return secrets.forget_key(account(url), service=STORE_SERVICE)


def _kept_token(url: str) -> str | None:
    """The keyring's token, or None where no keyring can keep one (then none was ever stored)."""
    try:
        return get_token(url)
    except HearthError:
        return None


@contextmanager
def guarded(url: str):
    """Turn a lost connection (refused, reset, timed out) into StoreUnavailable and a refused
    token into StoreRefused, each naming the server."""
    import httpx
    from chromadb.errors import AuthorizationError, ChromaAuthError

    try:
        yield
    except (httpx.TransportError, ValueError) as exc:
        # chromadb's client, when it first connects, says a refused connection as a ValueError
        lost = exc if isinstance(exc, httpx.TransportError) else exc.__context__
        if not isinstance(lost, httpx.TransportError):
            raise
        raise StoreUnavailable(url, str(lost).splitlines()[0] if str(lost) else type(lost).__name__) from exc
    except (AuthorizationError, ChromaAuthError) as exc:
        raise StoreRefused(f"the store server at {url} refused Hearth ({exc.message()}): it wants a token, or another one; "
                           f"give it with `hearth store use --server {url} --token-stdin`") from exc


def connect(url: str, token: str | None = None):
    """A chromadb HttpClient for the server; `token` (default: the keyring's) goes as a bearer header."""
    import chromadb

    from app.core.store.vectors import chroma_settings

    host, port, ssl = parse_url(url)
    if token is None:
        token = _kept_token(url)
    headers = {"Authorization": f"Bearer {token}"} if token else None
    with guarded(url):
        return chromadb.HttpClient(host=host, port=port, ssl=ssl, headers=headers, settings=chroma_settings())


def check(url: str, token: str | None = None) -> str:
    """The server's Chroma version, once it answered and let Hearth in; else StoreUnavailable or StoreRefused."""
    client = connect(url, token)
    with guarded(url):
        client.heartbeat()
        return client.get_version()


def probe(url: str, token: str | None = None) -> dict:
    """What `hearth store status` shows of a server: reachable or why not, and its version."""
    try:
        return {"reachable": True, "version": check(url, token), "reason": None}
    except Exception as exc:  # noqa: BLE001 - any failure is the status, told in one line
        return {"reachable": False, "version": None, "reason": str(exc).splitlines()[0] if str(exc) else type(exc).__name__}


def status(url: str) -> dict:
    """The store a front end shows: embedded or which server, whether a token is kept (never the
    token), whether the server answers, and the shared catalog's documents by status."""
    from app.core import paths

    if not url:
        return {"kind": "embedded", "location": str(paths.store_dir()), "token_stored": False,
                "reachable": True, "version": None, "reason": None, "documents": None}
    found = {"kind": "server", "location": url, "token_stored": _kept_token(url) is not None, **probe(url), "documents": None}
    if found["reachable"]:
        from app.core.store.shared_catalog import SharedCatalog

        try:
            with guarded(url):
                counts: dict[str, int] = {}
                for record in SharedCatalog(connect(url)).documents():
                    counts[record.status] = counts.get(record.status, 0) + 1
            found["documents"] = counts
        except Exception as exc:  # noqa: BLE001 - reported as the status
            found["reachable"], found["reason"] = False, str(exc).splitlines()[0]
    return found


def summary(found: dict) -> str:
    """A status (see `status`) in one line, as the CLI and the settings view show it."""
    if found["kind"] == "embedded":
        return f"embedded in the data folder ({found['location']})"
    head = f"Chroma server {found['location']} ({'token in the keyring' if found['token_stored'] else 'no token'})"
    if not found["reachable"]:
        return f"{head}: {found['reason']}"
    counts = ", ".join(f"{n} {s}" for s, n in sorted(found["documents"].items())) or "no documents"
    return f"{head}: reachable, Chroma {found['version']}; {counts}"


def use(url: str, token: str | None = None):
    """Make the store the Chroma server at `url` (it must answer), or with "" the embedded one.
    A `token` goes to the keyring; the settings file holds only the URL. Returns the new
    StoreSettings (for a front end's settings in memory); it takes effect when the store next opens."""
    from app.core import netpolicy
    from app.core import settings as settings_mod

    current = settings_mod.load()
    if url:
        parse_url(url)
        netpolicy.allow_store(current.store.server_url, url)  # the open store's host, and the one to check
        try:
            check(url, token)
        except HearthError:
            netpolicy.allow_store(current.store.server_url)
            raise
        if token:
            set_token(url, token)
    current.store = current.store.model_validate({"server_url": url})
    settings_mod.save(current)
    return current.store
