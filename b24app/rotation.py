"""``b24app rotate-keys``: every stored secret sealed again with the first key of
``B24APP_ENCRYPTION_KEYS`` (b24app/secretbox.py), so the old keys can be dropped afterwards.

Whoever stores a secret registers a resealer here — the platform its portals' tokens, a domain package
its own (sync_1c: the 1C password and push secret, via ``domains.load()``) — so rotation cannot miss a
table it does not know about. A resealer is ``fn(store, progress) -> count`` with ``progress(done, total)``.
"""
from __future__ import annotations

from typing import Callable

from . import secretbox

Progress = Callable[[int, int], None]
RESEALERS: dict[str, Callable[[object, Progress | None], int]] = {}


def resealer(name: str):
    def register(fn):
        RESEALERS[name] = fn
        return fn
    return register


@resealer("portals")
def _portals(store, progress: Progress | None = None) -> int:
    return store.portals.reseal_all(progress)


@resealer("user_tokens")
def _user_tokens(store, progress: Progress | None = None) -> int:
    """Each person's own portal tokens (b24app/store/sessions.py), kept for acting as them."""

    rows = store.user_tokens.all_rows()
    for n, (member_id, user_id, access, refresh) in enumerate(rows, 1):
        store.user_tokens.reseal_row(member_id, user_id, secretbox.reseal(access), secretbox.reseal(refresh))
        if progress:
            progress(n, len(rows))
    return len(rows)


def rotate(store, progress: Callable[[str, int, int], None] | None = None) -> dict[str, int]:
    """Run every resealer; ``progress(name, done, total)``. Returns the count per resealer."""
    out = {}
    for name, fn in RESEALERS.items():
        out[name] = fn(store, (lambda d, t, n=name: progress(n, d, t)) if progress else None)
    return out
