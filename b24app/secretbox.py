"""Secrets at rest: tokens, passwords and other credentials are sealed with a key from the environment
before they reach the database, so a copied database file (or a backup) gives nobody a portal.

Keys: ``B24APP_ENCRYPTION_KEYS`` — comma-separated Fernet keys (``b24app keygen`` prints one), the
first one seals, every one opens. Rotation: put a new key first, keep the old ones after it, run
``b24app rotate-keys`` (re-seals every stored secret with the first key), then drop the old keys.
``B24APP_ENCRYPTION_KEY`` (one key) is accepted as well.

A sealed value is text ``fernet:<token>``; a value without the prefix is legacy plain text written
before encryption existed: it is still read, and sealed on its next write (or by ``rotate-keys``).
"""
from __future__ import annotations

import threading

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from .config import Settings

PREFIX = "fernet:"
ENV_KEYS = "B24APP_ENCRYPTION_KEYS"
ENV_KEY = "B24APP_ENCRYPTION_KEY"


class SecretBoxError(RuntimeError):
    """No key configured, or a sealed value that none of the configured keys opens."""


_lock = threading.Lock()
_cache: tuple[str, MultiFernet] | None = None


def generate_key() -> str:
    return Fernet.generate_key().decode()


def _key_text() -> str:
    return Settings.from_env().encryption_keys


def _box() -> MultiFernet:
    """The keyring from the environment (read again when the variable changes: tests and rotation)."""
    global _cache
    text = _key_text()
    if not text:
        raise SecretBoxError(f"{ENV_KEYS} is not set: secrets cannot be stored (generate a key with "
                             "`b24app keygen`)")
    with _lock:
        if _cache is None or _cache[0] != text:
            try:
                keys = [Fernet(k.strip().encode()) for k in text.split(",") if k.strip()]
            except (ValueError, TypeError) as exc:
                raise SecretBoxError(f"{ENV_KEYS} holds a value that is not a Fernet key") from exc
            _cache = (text, MultiFernet(keys))
        return _cache[1]


def configured() -> bool:
    return bool(_key_text())


def require_key() -> None:
    """Processes that read or write portal tokens refuse to start without the key that seals them,
    instead of failing at the first install or refresh; the error text says what to do."""
    if not configured():
        raise SecretBoxError(f"{ENV_KEYS} is not set: portal tokens and passwords are stored encrypted with "
                             "it. Generate a key with `b24app keygen`, keep it with your other secrets and set "
                             "it for every b24app process.")
    seal("check")


def seal(value: str | None) -> str | None:
    """Plain text → ``fernet:…``; None and "" stay as they are (nothing to hide)."""
    if value is None or value == "":
        return value
    if value.startswith(PREFIX):
        return value
    return PREFIX + _box().encrypt(value.encode()).decode()


def unseal(value: str | None) -> str | None:
    """``fernet:…`` → plain text; legacy plain text is returned as it is."""
    if not value or not value.startswith(PREFIX):
        return value
    try:
        return _box().decrypt(value[len(PREFIX):].encode()).decode()
    except InvalidToken:
        raise SecretBoxError("a stored secret cannot be opened with the configured keys "
                             f"({ENV_KEYS}: was a key dropped before `b24app rotate-keys`?)") from None


def reseal(value: str | None) -> str | None:
    """Sealed with the current first key (rotation); legacy plain text gets sealed."""
    if not value:
        return value
    if not value.startswith(PREFIX):
        return seal(value)
    return PREFIX + _box().rotate(value[len(PREFIX):].encode()).decode()
