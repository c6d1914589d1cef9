"""Secrets live only in the OS keyring. A backend that is missing or stores plain text is
reported, never used: escalation then stays off."""

from __future__ import annotations

SERVICE = "hearth"
# Backends that either store nothing or store secrets in a readable file.
_INSECURE_MODULES = ("keyring.backends.fail", "keyring.backends.null", "keyrings.alt")


def _secure(backend) -> bool:
    module = type(backend).__module__
    if module == "keyring.backends.chainer":
        return any(_secure(b) for b in getattr(backend, "backends", []))
    try:
        viable = float(backend.priority) > 0
    except Exception:  # noqa: BLE001 - keyring raises RuntimeError for a backend that cannot run
        viable = False
    return viable and not module.startswith(_INSECURE_MODULES)


def keyring_status() -> tuple[bool, str]:
    """(secure, backend name) for the keyring the OS offers right now."""
    try:
        import keyring

        backend = keyring.get_keyring()
    except Exception as exc:  # noqa: BLE001 - a broken keyring is reported, not fatal
        return False, f"unavailable ({type(exc).__name__}: {exc})"
    return _secure(backend), f"{type(backend).__module__}.{type(backend).__name__}"
