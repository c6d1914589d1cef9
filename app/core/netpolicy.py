"""The network policy, enforced in-process rather than promised.

An audit hook sees every socket connect and name lookup. Loopback and local (AF_UNIX) sockets
always pass; any other destination is refused unless cloud escalation is enabled, and then
only the configured provider's host passes.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
from urllib.parse import urlparse

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}
_state = {"installed": False, "allowed_hosts": frozenset()}


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
    return is_loopback(host) or host.lower() in _state["allowed_hosts"]


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


def install(cloud=None) -> None:
    """Install the guard once per process and (re)apply the policy from the cloud settings."""
    hosts = set()
    if cloud is not None and cloud.enabled and cloud.base_url:
        host = urlparse(cloud.base_url).hostname
        if host:
            hosts.add(host.lower())
    _state["allowed_hosts"] = frozenset(hosts)
    if not _state["installed"]:
        sys.addaudithook(_hook)
        _state["installed"] = True


def describe() -> str:
    hosts = sorted(_state["allowed_hosts"])
    extra = f" and {', '.join(hosts)} (cloud escalation)" if hosts else ""
    guard = "enforced" if _state["installed"] else "not installed"
    return f"loopback only{extra}; guard {guard}"
