import socket
import threading

import pytest

from app.core import netpolicy
from app.core.settings import CloudSettings


def test_non_loopback_connection_is_refused():
    with pytest.raises(netpolicy.NetworkBlocked, match="192.0.2.1"):
        socket.create_connection(("192.0.2.1", 443), timeout=2)


def test_name_lookup_of_an_outside_host_is_refused():
    with pytest.raises(netpolicy.NetworkBlocked, match="example.com"):
        socket.getaddrinfo("example.com", 443)


def test_loopback_still_works():
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    accepted = []
    thread = threading.Thread(target=lambda: accepted.append(server.accept()[0]))
    thread.start()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as client:
        client.sendall(b"hi")
    thread.join(5)
    with accepted[0] as conn:
        assert conn.recv(2) == b"hi"
    server.close()


def test_enabling_cloud_allows_only_the_configured_host():
    try:
        netpolicy.install(CloudSettings(enabled=True, policy="auto", base_url="https://api.example.org/v1", model="m"))
        assert "api.example.org" in netpolicy.describe()
        with pytest.raises(netpolicy.NetworkBlocked):
            socket.getaddrinfo("example.com", 443)
    finally:
        netpolicy.install()
    assert "example.org" not in netpolicy.describe()
