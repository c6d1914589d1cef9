"""The network policy, enforced in-process rather than promised.

An audit hook sees every socket connect and name lookup. Loopback and local (AF_UNIX) sockets
always pass, and so does the team store's server when one is configured; any other destination
is refused unless cloud escalation is enabled, and then only the configured provider's host passes.
A host allowed by name has its addresses learnt when it is looked up, so the connect that
follows the lookup passes too.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
from urllib.parse import urlparse

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}
_state = {"installed": False, "allowed_hosts": frozenset(), "store_hosts": frozenset(), "addresses": frozenset()}
_resolving = threading.local()  # set while the hook itself looks up an allowed host


class NetworkBlocked(PermissionError):
    pass


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _allowed(host: object) -> bool:
    if not isinstance(host, str):
        return True  # e.g. a bytes abstract-namespace path
    host = host.lower()
    return is_loopback(host) or host in _state["allowed_hosts"] or host in _state["store_hosts"] or host in _state["addresses"]


def _learn_addresses(host: str) -> None:
    """Resolve an allowed host name now, so the addresses it stands for may be connected to."""
    if getattr(_resolving, "active", False):
        return
    _resolving.active = True
    try:
        found = {info[4][0].lower() for info in socket.getaddrinfo(host, None)}
        _state["addresses"] = _state["addresses"] | found
    except OSError:
        pass  # the caller's own lookup fails the same way and says so
    finally:
        _resolving.active = False


def _hook(event: str, args: tuple) -> None:
    if event in ("socket.connect", "socket.sendto"):
        sock, address = args[0], args[-1]
        if sock.family in (socket.AF_INET, socket.AF_INET6) and isinstance(address, tuple) and not _allowed(address[0]):
            raise NetworkBlocked(f"blocked a connection to {address[0]}: Hearth opens no outside connection unless cloud escalation is enabled")
    elif event in ("socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"):
        host = args[0]
        if isinstance(host, bytes):
            host = host.decode("idna", errors="replace")
        if host is not None and not _allowed(host):
            raise NetworkBlocked(f"blocked a name lookup of {host}: Hearth opens no outside connection unless cloud escalation is enabled")
        if isinstance(host, str) and not is_loopback(host) and host.lower() in _state["allowed_hosts"] | _state["store_hosts"]:
            _learn_addresses(host)


def install(cloud=None) -> None:
    """Install the guard once per process and (re)apply the policy from the cloud settings."""
    hosts = set()
    if cloud is not None and cloud.enabled and cloud.base_url:
        host = urlparse(cloud.base_url).hostname
        if host:
            hosts.add(host.lower())
    _state["allowed_hosts"], _state["addresses"] = frozenset(hosts), frozenset()
    if not _state["installed"]:
        sys.addaudithook(_hook)
        _state["installed"] = True


def allow_store(*server_urls: str) -> None:
    """Let the team store's server through (only its host; two while a front end switches from
    one server to another), or with "" no store server at all."""
    hosts = {urlparse(url).hostname for url in server_urls if url}
    _state["store_hosts"], _state["addresses"] = frozenset(h.lower() for h in hosts if h), frozenset()


def describe() -> str:
    hosts = sorted(_state["allowed_hosts"])
    extra = f" and {', '.join(hosts)} (cloud escalation)" if hosts else ""
    store = sorted(_state["store_hosts"])
    extra += f" and {', '.join(store)} (team store)" if store else ""
    guard = "enforced" if _state["installed"] else "not installed"
    return f"loopback only{extra}; guard {guard}"
