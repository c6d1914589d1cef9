"""Secrets live only in the OS keyring. A backend that is missing or stores plain text is
reported, never used: escalation then stays off, and no key is ever written anywhere else."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from app.core.errors import HearthError

SERVICE = "hearth"
SERVE_SERVICE = "hearth-serve"  # the local API's token: its own service, so no provider's account can collide
_NOTHING_STORED = ("keyring.backends.fail", "keyring.backends.null")
_PLAIN_TEXT = ("keyrings.alt",)
# What a person knows each secure backend as; the class name stays in the CLI and the logs.
_KNOWN_AS = {"keyring.backends.SecretService.Keyring": "the Secret Service keyring (GNOME Keyring or KWallet)",
             "keyring.backends.kwallet.DBusKeyring": "KWallet",
             "keyring.backends.macOS.Keyring": "the macOS Keychain",
             "keyring.backends.Windows.WinVaultKeyring": "Windows Credential Manager"}


class KeyringUnavailable(HearthError):
    """No secure OS keyring can hold the key right now; `reason` says why, in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"cannot use the OS keyring: {reason}")
        self.reason = reason


class InvalidKey(HearthError, ValueError):
    pass


class InvalidProvider(HearthError, ValueError):
    pass


def _name(backend) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def known_as(backend_name: str) -> str:
    """The name a person knows a keyring backend by ("the macOS Keychain"), else its class name."""
    return _KNOWN_AS.get(backend_name, backend_name)


def _refusal(backend) -> str | None:
    """Why this single backend must not hold a key, or None when it may."""
    module = type(backend).__module__
    if module.startswith(_NOTHING_STORED):
        return f"{_name(backend)} stores nothing (no Secret Service, Keychain or Credential Manager was found)"
    if module.startswith(_PLAIN_TEXT):
        return f"{_name(backend)} keeps secrets in a readable file"
    try:
        priority = float(backend.priority)
    except Exception as exc:  # noqa: BLE001 - keyring raises RuntimeError for a backend that cannot run
        return f"{_name(backend)} cannot run here ({type(exc).__name__}: {exc})"
    return None if priority > 0 else f"{_name(backend)} is not viable on this system"


def _secure_member(backend):
    """The backend a key may go to, or None. A chain is never written through: it would fall
    back to its next member, which may be a plain-text one, so its best secure member is used."""
    from keyring.backends.chainer import ChainerBackend

    if isinstance(backend, ChainerBackend):
        return next((b for b in backend.backends if _refusal(b) is None), None)
    return backend if _refusal(backend) is None else None


def keyring_status() -> tuple[bool, str]:
    """(secure, backend name) for the keyring the OS offers right now."""
    try:
        import keyring

        backend = keyring.get_keyring()
    except Exception as exc:  # noqa: BLE001 - a broken keyring is reported, not fatal
        return False, f"unavailable ({type(exc).__name__}: {exc})"
    return _secure_member(backend) is not None, _name(backend)


def _open():
    """The secure backend to use, or KeyringUnavailable with the reason."""
    try:
        import keyring

        backend = keyring.get_keyring()
    except Exception as exc:  # noqa: BLE001 - a broken keyring install is one more reason
        raise KeyringUnavailable(f"the keyring could not be loaded ({type(exc).__name__}: {exc})") from exc
    member = _secure_member(backend)
    if member is None:
        raise KeyringUnavailable(_refusal(backend) or f"{_name(backend)} has no secure backend to chain to")
    return member


def _failed(backend, action: str, exc: Exception) -> KeyringUnavailable:
    return KeyringUnavailable(f"{_name(backend)} could not {action} ({type(exc).__name__}: {exc})")


def provider_account(provider: str) -> str:
    """The keyring username for a provider: the host (and port) of its base URL, or a bare name."""
    text = provider.strip()
    parts = urlsplit(text if "//" in text else f"//{text}")
    try:
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError as exc:  # e.g. a non-numeric port
        raise InvalidProvider(f"provider {provider!r} is not a valid base URL ({exc})") from exc
    if not host:
        raise InvalidProvider("no cloud provider given: set cloud.base_url first")
    return f"{host}:{port}" if port else host


def key_needed(base_url: str) -> bool:
    """A server on this machine's loopback (a local stand-in) may run without a key; any other needs one."""
    from app.core.netpolicy import is_loopback

    return not is_loopback(urlsplit(base_url).hostname or "")


def _clean_key(key: str) -> str:
    key = key.strip()
    if not key:
        raise InvalidKey("the API key is empty")
    if not key.isprintable():
        raise InvalidKey("the API key contains a line break or another control character; paste it as one line")
    return key


def set_key(provider: str, key: str, service: str = SERVICE) -> None:
    account, key = provider_account(provider), _clean_key(key)
    backend = _open()
    try:
        backend.set_password(service, account, key)
    except Exception as exc:  # noqa: BLE001 - any backend failure means the key was not stored
        raise _failed(backend, "store the key", exc) from exc


def get_key(provider: str, service: str = SERVICE) -> str | None:
    account = provider_account(provider)
    backend = _open()
    try:
        return backend.get_password(service, account)
    except Exception as exc:  # noqa: BLE001
        raise _failed(backend, "read the key", exc) from exc


def forget_key(provider: str, service: str = SERVICE) -> bool:
    """Remove the provider's key (or another service's secret, such as a store token); True when there was one."""
    from keyring.errors import PasswordDeleteError

    account = provider_account(provider)
    backend = _open()
    try:
        backend.delete_password(service, account)
    except PasswordDeleteError:
        return False
    except Exception as exc:  # noqa: BLE001
        raise _failed(backend, "remove the key", exc) from exc
    return True


def serve_token(renew: bool = False) -> str:
    """The local API's bearer token, made on first use (or on renew) and kept in the keyring."""
    backend = _open()
    try:
        token = None if renew else backend.get_password(SERVE_SERVICE, "token")
        if token is None:
            token = "hearth-" + secrets.token_urlsafe(32)
            backend.set_password(SERVE_SERVICE, "token", token)
    except Exception as exc:  # noqa: BLE001 - any backend failure means no token can be trusted
        raise _failed(backend, "keep the local API token", exc) from exc
    return token


def key_status(provider: str) -> dict:
    """What a front end may show about a provider's key: never the key, nor any part of it.

    `secure` means a key for this provider can be kept safely right now. Never raises: every
    problem becomes `reason` (None when all is well)."""
    status: dict = {"backend": keyring_status()[1], "secure": False, "stored": False, "reason": None}
    try:
        status["backend"] = _name(_open())
        status["stored"] = get_key(provider) is not None
    except (KeyringUnavailable, InvalidProvider) as exc:
        status["reason"] = getattr(exc, "reason", str(exc))
        return status
    status["secure"] = True
    return status
