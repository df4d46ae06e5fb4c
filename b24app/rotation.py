"""``b24app rotate-keys``: every stored secret sealed again with the first key of
``B24APP_ENCRYPTION_KEYS`` (b24app/secretbox.py), so the old keys can be dropped afterwards.

Whoever stores a secret declares a resealer — the platform its portals' and people's tokens (b24app/
core_plugin.py), a domain its own (sync_1c: the 1C password and push secret, ``registry.resealer``) — so
rotation cannot miss a table it does not know about. A resealer is ``fn(store, progress) -> count`` with
``progress(done, total)``.
"""
from __future__ import annotations

from typing import Callable

from . import secretbox

Progress = Callable[[int, int], None]


def portals(store, progress: Progress | None = None) -> int:
    return store.portals.reseal_all(progress)


def user_tokens(store, progress: Progress | None = None) -> int:
    """Each person's own portal tokens (b24app/store/sessions.py), kept for acting as them."""

    rows = store.user_tokens.all_rows()
    for n, (member_id, user_id, access, refresh) in enumerate(rows, 1):
        store.user_tokens.reseal_row(member_id, user_id, secretbox.reseal(access), secretbox.reseal(refresh))
        if progress:
            progress(n, len(rows))
    return len(rows)


def rotate(store, registry, progress: Callable[[str, int, int], None] | None = None) -> dict[str, int]:
    """Run every resealer the registry declares; ``progress(name, done, total)``. Returns the count per
    resealer."""
    out = {}
    for name, declared in registry.resealers.items():
        out[name] = declared.fn(store, (lambda d, t, n=name: progress(n, d, t)) if progress else None)
    return out
