"""The store contract (docs/architecture.md): portals with their tokens, the event inbox, per-portal KV.

Small abstract classes documented by their minimum methods, like python-slack-sdk's InstallationStore;
``sql.py`` is the one implementation (SQLite and PostgreSQL). Every table carries ``member_id`` so a
clean uninstall can delete a portal's rows and nothing else.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any

INSTALLING, INSTALLED, NEEDS_REINSTALL, UNINSTALLED = "installing", "installed", "needs_reinstall", "uninstalled"


@dataclass
class Portal:
    member_id: str
    domain: str                      # host[:port], from app.info / client_endpoint
    client_endpoint: str             # "https://x.bitrix24.ru/rest/" — the only REST base we ever call
    server_endpoint: str             # OAuth server REST base
    access_token: str | None = None
    refresh_token: str | None = None
    expires_at: int | None = None    # unix seconds
    application_token: str | None = None
    scope: str = ""
    status: str = INSTALLING         # installing | installed | needs_reinstall | uninstalled
    lang: str = "ru"
    user_id: int | None = None       # admin who installed
    token_version: int = 0           # bumped on every token write (compare-and-swap)
    installed_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass
class InboxItem:
    id: int
    member_id: str
    kind: str                        # "event" | "robot" | ...
    name: str                        # e.g. "ONCRMDEALUPDATE"
    payload: dict
    dedup_key: str
    status: str                      # pending | working | done | failed
    attempts: int = 0
    owner: str | None = None
    lease_until: float | None = None
    available_at: float = 0.0
    last_error: str | None = None
    created_at: datetime | None = None


class PortalStore(ABC):
    @abstractmethod
    def get(self, member_id: str) -> Portal | None: ...

    def get_cached(self, member_id: str, fresh: bool = False) -> Portal | None:
        """``get`` for the hot path (every event and robot call): an implementation may answer from a
        per-process copy as long as a change of ``token_version`` or ``status`` is seen within seconds;
        ``fresh`` reads the database and renews the copy."""
        return self.get(member_id)

    @abstractmethod
    def upsert(self, portal: Portal) -> Portal:
        """Install / re-install: writes every field, bumps token_version, keeps installed_at."""

    @abstractmethod
    def set_status(self, member_id: str, status: str) -> None: ...

    @abstractmethod
    def try_lease_refresh(self, member_id: str, token_version: int, owner: str, seconds: float) -> bool:
        """Atomically take the right to refresh tokens of ``token_version`` (one refresher across processes)."""

    @abstractmethod
    def release_refresh_lease(self, member_id: str, owner: str) -> None:
        """Give the lease back after a failed refresh so another worker may try."""

    @abstractmethod
    def save_tokens(self, member_id: str, expected_version: int, access: str, refresh: str,
                    expires_at: int | None) -> bool:
        """Compare-and-swap on token_version; False = someone else wrote tokens first."""

    @abstractmethod
    def forget(self, member_id: str) -> None:
        """Clean uninstall: every row of that portal in every table."""

    @abstractmethod
    def list(self) -> list[Portal]: ...


class Inbox(ABC):
    @abstractmethod
    def put(self, member_id: str, kind: str, name: str, payload: dict, dedup_key: str, *,
            while_pending: bool = False) -> bool:
        """False = a duplicate (same member_id + dedup_key), nothing written. ``while_pending=True``: the
        key holds only while that row is still pending; once a worker took it (working/done/failed) the
        same key makes a new item — for keys that recur for genuine later changes (online events)."""

    @abstractmethod
    def claim(self, owner: str, limit: int = 20, lease_seconds: float = 60,
              per_portal: int = 10) -> list[InboxItem]:
        """Pending items (and items whose lease ran out), each given to exactly one claimer: robots and
        lifecycle first, then the portals in turn, at most ``per_portal`` of one portal in flight."""

    @abstractmethod
    def renew(self, item_id: int, *, owner: str, lease_seconds: float = 60) -> bool:
        """Extend the lease from now; False = the item is no longer ours (lease ran out and it was taken)."""

    @abstractmethod
    def done(self, item_id: int, *, owner: str) -> bool:
        """Only the current owner may finish an item; False = it was not ours any more (nothing written)."""

    @abstractmethod
    def fail(self, item_id: int, error: str, retry_in: float | None = None, *, owner: str) -> bool:
        """retry_in=None: give up (status failed); else pending again after retry_in seconds. Owner-only,
        like ``done``."""

    @abstractmethod
    def counts(self, member_id: str | None = None) -> dict[str, int]: ...

    @abstractmethod
    def get(self, item_id: int) -> InboxItem | None: ...


class KV(ABC):
    @abstractmethod
    def get(self, member_id: str, key: str, default: Any = None) -> Any: ...

    @abstractmethod
    def set(self, member_id: str, key: str, value: Any) -> None: ...

    @abstractmethod
    def delete(self, member_id: str, key: str) -> None: ...

    @abstractmethod
    def items(self, member_id: str, prefix: str | None = None) -> dict[str, Any]: ...

    def try_lock(self, member_id: str, key: str, owner: str, seconds: float) -> bool:
        """A short lease on ``key`` (a record a read-modify-write step is about to change): True = taken by
        ``owner``; False = another owner holds it and its lease has not run out. One row, claimed with an
        INSERT that does nothing on a twin, taken over only past the holder's lease (a crashed process)."""
        raise NotImplementedError

    def unlock(self, member_id: str, key: str, owner: str) -> None:
        """Give the lease back (only the owner's own)."""
        raise NotImplementedError


class Store(ABC):
    portals: PortalStore
    inbox: Inbox
    kv: KV
    engine: Any

    @abstractmethod
    def close(self) -> None: ...
