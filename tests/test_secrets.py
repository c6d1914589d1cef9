"""The cloud key lives only in the OS keyring. These tests talk to the real gnome-keyring that
scripts/test-session.sh starts; with an insecure backend every call must refuse, loudly."""

from __future__ import annotations

import importlib
import json
import logging
import os
import uuid
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null
from keyring.backends.chainer import ChainerBackend
from keyring.compat.properties import classproperty
from keyring.errors import KeyringLocked

from app.core import secrets as hsecrets
from app.core import settings
from app.core.secrets import InvalidKey, InvalidProvider, KeyringUnavailable


class PlainTextKeyring(KeyringBackend):
    """Stands in for keyrings.alt's file backends: viable, but the secret sits in a readable file."""

    file: Path | None = None

    @classproperty
    def priority(cls) -> float:
        # Not viable, so keyring's own discovery (which sees every subclass) never chains it in
        # for the other tests; Hearth must refuse it by what it is, before asking its priority.
        raise RuntimeError("a test stand-in only")

    def set_password(self, service, username, password):
        self.file.write_text(json.dumps([service, username, password]))

    def get_password(self, service, username):
        return json.loads(self.file.read_text())[2] if self.file and self.file.exists() else None

    def delete_password(self, service, username):
        self.file.unlink()


PlainTextKeyring.__module__ = "keyrings.alt.file"


@pytest.fixture
def provider():
    """A provider of its own per test, so the shared session keyring never leaks between tests."""
    url = f"https://api-{uuid.uuid4().hex[:12]}.example.com/v1"
    yield url
    try:
        hsecrets.forget_key(url)
    except KeyringUnavailable:
        pass  # the test swapped in an insecure backend and restored it already


@pytest.fixture
def key() -> str:
    return f"sk-{uuid.uuid4().hex}{uuid.uuid4().hex}"


@pytest.fixture
def use_backend():
    previous = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(previous)


@pytest.fixture
def plain_text(hearth_home) -> PlainTextKeyring:
    backend = PlainTextKeyring()
    backend.file = hearth_home / "plain-keyring.json"
    return backend


def files_under(root: Path) -> list[Path]:
    return [Path(folder, name) for folder, _, names in os.walk(root) for name in names]


def windows(text: str, size: int = 6) -> set[str]:
    return {text[i : i + size] for i in range(len(text) - size + 1)}


def test_the_session_keyring_is_the_real_secret_service():
    secure, backend = hsecrets.keyring_status()
    assert secure and backend == "keyring.backends.SecretService.Keyring", (
        f"got {backend}: run these tests under scripts/test-session.sh"
    )


@pytest.mark.parametrize("name", ["keyring.backends.SecretService.Keyring", "keyring.backends.kwallet.DBusKeyring",
                                  "keyring.backends.macOS.Keyring", "keyring.backends.Windows.WinVaultKeyring"])
def test_each_secure_backend_has_the_name_people_know_it_by(name):
    module, cls = name.rsplit(".", 1)
    assert getattr(importlib.import_module(module), cls)  # the class the name stands for still exists in keyring
    assert hsecrets.known_as(name) != name and "keyring.backends" not in hsecrets.known_as(name)
    assert hsecrets.known_as("keyrings.cryptfile.cryptfile.CryptFileKeyring") == "keyrings.cryptfile.cryptfile.CryptFileKeyring"


def test_set_get_forget_round_trip(provider, key):
    hsecrets.set_key(provider, f"  {key}\n")  # pasted with stray whitespace
    assert hsecrets.get_key(provider) == key
    host = provider.split("/")[2]
    # Stored where any Secret Service client sees it: service "hearth", username the host.
    assert keyring.get_password(hsecrets.SERVICE, host) == key
    assert hsecrets.get_key(f"https://{host.upper()}/v2/") == key  # same host, same key
    assert hsecrets.get_key("https://other.example.com/v1") is None

    assert hsecrets.forget_key(provider) is True
    assert hsecrets.get_key(provider) is None
    assert keyring.get_password(hsecrets.SERVICE, host) is None
    assert hsecrets.forget_key(provider) is False


def test_key_status_tells_whether_a_key_is_stored_but_never_any_of_it(provider, key):
    before = hsecrets.key_status(provider)
    assert before == {"backend": "keyring.backends.SecretService.Keyring", "secure": True, "stored": False, "reason": None}
    hsecrets.set_key(provider, key)
    after = hsecrets.key_status(provider)
    assert after["stored"] is True and after["secure"] is True and after["reason"] is None
    shown = json.dumps(after) + repr(after)
    assert not windows(key) & windows(shown), "key_status shows part of the key"


def test_the_key_never_reaches_a_file_or_a_log(provider, key, hearth_home, caplog):
    caplog.set_level(logging.DEBUG)
    s = settings.Settings()
    s.cloud.base_url = provider
    settings.save(s)  # the real flow: the provider is configured, then its key entered
    hsecrets.set_key(provider, key)
    assert hsecrets.get_key(provider) == key
    hsecrets.key_status(provider)

    scanned = files_under(hearth_home)
    assert scanned, "nothing under HEARTH_HOME to scan"
    assert [f for f in scanned if key.encode() in f.read_bytes()] == []
    assert key not in caplog.text


@pytest.mark.parametrize("bad", ["", "   \n", "sk-abc\ndef", "sk-abc\rdef", "sk-abc\x00def"])
def test_an_empty_or_multi_line_key_is_refused(provider, bad):
    with pytest.raises(InvalidKey):
        hsecrets.set_key(provider, bad)
    assert hsecrets.get_key(provider) is None


def test_a_missing_provider_is_refused_and_reported(key):
    with pytest.raises(InvalidProvider, match="base_url"):
        hsecrets.set_key("  ", key)
    status = hsecrets.key_status("")
    assert status["secure"] is False and status["stored"] is False and "base_url" in status["reason"]


@pytest.mark.parametrize(
    ("backend", "why"),
    [(fail.Keyring(), "stores nothing"), (null.Keyring(), "stores nothing"), ("plain-text", "readable file")],
    ids=["fail", "null", "keyrings.alt"],
)
def test_an_insecure_backend_is_refused_and_nothing_is_written(backend, why, use_backend, plain_text, provider, key, hearth_home):
    backend = plain_text if backend == "plain-text" else backend
    use_backend(backend)
    for call in (lambda: hsecrets.set_key(provider, key), lambda: hsecrets.get_key(provider), lambda: hsecrets.forget_key(provider)):
        with pytest.raises(KeyringUnavailable, match=why) as caught:
            call()
        assert why in caught.value.reason and type(backend).__module__ in caught.value.reason

    status = hsecrets.key_status(provider)
    assert status["secure"] is False and status["stored"] is False and why in status["reason"]
    assert hsecrets.keyring_status()[0] is False
    assert files_under(hearth_home) == []


def test_a_chain_is_never_written_through_to_its_plain_text_member(use_backend, plain_text, provider, key, monkeypatch):
    secret_service = keyring.get_keyring()
    # Ranked first, the plain-text member is where a chain would write if asked to.
    monkeypatch.setattr(ChainerBackend, "backends", [plain_text, secret_service])
    use_backend(ChainerBackend())
    hsecrets.set_key(provider, key)
    assert not plain_text.file.exists()
    assert secret_service.get_password(hsecrets.SERVICE, provider.split("/")[2]) == key
    assert hsecrets.key_status(provider)["backend"] == "keyring.backends.SecretService.Keyring"


def test_a_chain_of_insecure_backends_is_refused(use_backend, plain_text, provider, key, monkeypatch):
    monkeypatch.setattr(ChainerBackend, "backends", [plain_text, plain_text])
    use_backend(ChainerBackend())
    with pytest.raises(KeyringUnavailable, match="no secure backend"):
        hsecrets.set_key(provider, key)
    assert not plain_text.file.exists()


def test_a_keyring_error_becomes_keyring_unavailable(provider, key, monkeypatch):
    def locked(*_args):
        raise KeyringLocked("the collection is locked")

    monkeypatch.setattr(keyring.get_keyring(), "set_password", locked)
    with pytest.raises(KeyringUnavailable, match="KeyringLocked: the collection is locked"):
        hsecrets.set_key(provider, key)
    assert hsecrets.get_key(provider) is None
