"""One writer per portal across processes, held in a row of a domain's own state table (its ``member_id``,
``lease_owner`` and ``lease_until`` columns): the map's job cache and the dashboards' cache both use it."""
from __future__ import annotations

import time
import uuid

import sqlalchemy as sa

from .sql import _insert


class RowLease:
    """``with RowLease(engine, table, member_id, wait=…, seconds=…, busy=Busy):`` — waits up to ``wait``
    seconds for the row's lease (free, expired or already ours), then raises ``busy(member_id)``."""

    def __init__(self, engine, table: sa.Table, member_id: str, *, wait: float, seconds: float,
                 busy: type[Exception]):
        self.engine, self.table, self.member_id = engine, table, member_id
        self.wait, self.seconds, self.busy = wait, seconds, busy
        self.owner = uuid.uuid4().hex

    def __enter__(self):
        s = self.table.c
        with self.engine.begin() as c:
            c.execute(_insert(self.engine, self.table).values(member_id=self.member_id)
                      .on_conflict_do_nothing(index_elements=[s.member_id]))
        deadline = time.monotonic() + self.wait
        while True:
            now = time.time()
            with self.engine.begin() as c:
                got = c.execute(sa.update(self.table).where(
                    s.member_id == self.member_id,
                    sa.or_(s.lease_until.is_(None), s.lease_until < now, s.lease_owner == self.owner))
                    .values(lease_owner=self.owner, lease_until=now + self.seconds)).rowcount
            if got:
                return self
            if time.monotonic() >= deadline:
                raise self.busy(self.member_id)
            time.sleep(0.05)

    def __exit__(self, *exc):
        s = self.table.c
        with self.engine.begin() as c:
            c.execute(sa.update(self.table).where(s.member_id == self.member_id, s.lease_owner == self.owner)
                      .values(lease_owner=None, lease_until=None))
