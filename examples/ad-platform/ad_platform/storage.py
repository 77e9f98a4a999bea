"""Campaign storage on SQLite through the standard library.

Money is kept in integer cents. A bid's budget decrement is one UPDATE statement that picks
the winner and charges it under SQLite's write lock, so concurrent bids (from this process or
from other replicas on the same file) can never overspend a campaign.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Sequence

SCHEMA = """
CREATE TABLE IF NOT EXISTS campaigns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    budget_cents INTEGER NOT NULL CHECK (budget_cents > 0),
    remaining_cents INTEGER NOT NULL CHECK (remaining_cents >= 0),
    bid_cents INTEGER NOT NULL CHECK (bid_cents > 0),
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    countries TEXT NOT NULL DEFAULT '[]',
    devices TEXT NOT NULL DEFAULT '[]',
    active INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS campaigns_by_bid ON campaigns (active, bid_cents DESC, id);
"""

# Empty targeting lists match everything; otherwise the request's value must be listed.
BID_SQL = """
UPDATE campaigns SET remaining_cents = remaining_cents - bid_cents
WHERE id = (
    SELECT c.id FROM campaigns AS c
    WHERE c.active = 1
      AND c.remaining_cents >= c.bid_cents
      AND :today BETWEEN c.start_date AND c.end_date
      AND (json_array_length(c.countries) = 0
           OR EXISTS (SELECT 1 FROM json_each(c.countries) WHERE value = :country))
      AND (json_array_length(c.devices) = 0
           OR EXISTS (SELECT 1 FROM json_each(c.devices) WHERE value = :device))
    ORDER BY c.bid_cents DESC, c.id ASC
    LIMIT 1
)
RETURNING id, bid_cents, remaining_cents
"""

# Whole statements as literals (no string building anywhere near SQL); every read returns these columns:
# id, owner, name, budget_cents, remaining_cents, bid_cents, start_date, end_date, countries, devices, active
SELECT_BY_ID = (
    "SELECT id, owner, name, budget_cents, remaining_cents, bid_cents, start_date, end_date, countries,"
    " devices, active"
    " FROM campaigns WHERE id = ?"
)
SELECT_PAGE = (
    "SELECT id, owner, name, budget_cents, remaining_cents, bid_cents, start_date, end_date, countries,"
    " devices, active"
    " FROM campaigns ORDER BY id LIMIT ? OFFSET ?"
)
INSERT = (
    "INSERT INTO campaigns (owner, name, budget_cents, remaining_cents, bid_cents, start_date, end_date, countries,"
    " devices, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " RETURNING id, owner, name, budget_cents, remaining_cents, bid_cents, start_date, end_date, countries,"
    " devices, active"
)
UPDATE = (
    "UPDATE campaigns SET name = ?, budget_cents = ?, remaining_cents = ?, bid_cents = ?, start_date = ?,"
    " end_date = ?, countries = ?, devices = ?, active = ? WHERE id = ?"
    " RETURNING id, owner, name, budget_cents, remaining_cents, bid_cents, start_date, end_date, countries,"
    " devices, active"
)


@dataclass(frozen=True)
class CampaignRecord:
    id: int
    owner: str
    name: str
    budget_cents: int
    remaining_cents: int
    bid_cents: int
    start_date: date
    end_date: date
    countries: tuple[str, ...]
    devices: tuple[str, ...]
    active: bool


@dataclass(frozen=True)
class CampaignFields:
    """What a client sets on create and on a full update."""

    name: str
    budget_cents: int
    bid_cents: int
    start_date: date
    end_date: date
    countries: Sequence[str]
    devices: Sequence[str]
    active: bool


@dataclass(frozen=True)
class WonBid:
    campaign_id: int
    price_cents: int
    remaining_cents: int


class NotFound(LookupError):
    pass


class NotOwner(PermissionError):
    pass


def _record(row: Sequence[Any]) -> CampaignRecord:
    return CampaignRecord(
        id=row[0],
        owner=row[1],
        name=row[2],
        budget_cents=row[3],
        remaining_cents=row[4],
        bid_cents=row[5],
        start_date=date.fromisoformat(row[6]),
        end_date=date.fromisoformat(row[7]),
        countries=tuple(json.loads(row[8])),
        devices=tuple(json.loads(row[9])),
        active=bool(row[10]),
    )


class Storage:
    """One connection in autocommit mode; multi-statement changes take BEGIN IMMEDIATE."""

    def __init__(self, path: str, busy_timeout_ms: int = 5000) -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # The app is async and calls SQLite from the event loop thread; tests' clients may run it
        # from another thread, hence check_same_thread=False and a lock around each use.
        # timeout is SQLite's busy timeout: a writer waits for another replica's lock instead of failing.
        self._db = sqlite3.connect(
            path, timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False
        )
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def ping(self) -> bool:
        try:
            with self._lock:
                self._db.execute("SELECT count(*) FROM campaigns").fetchone()
            return True
        except sqlite3.Error:
            return False

    def create(self, owner: str, fields: CampaignFields) -> CampaignRecord:
        with self._lock:
            row = self._db.execute(
                INSERT,
                (
                    owner,
                    fields.name,
                    fields.budget_cents,
                    fields.budget_cents,
                    fields.bid_cents,
                    fields.start_date.isoformat(),
                    fields.end_date.isoformat(),
                    json.dumps(list(fields.countries)),
                    json.dumps(list(fields.devices)),
                    int(fields.active),
                ),
            ).fetchone()
        return _record(row)

    def get(self, campaign_id: int) -> CampaignRecord:
        with self._lock:
            row = self._db.execute(SELECT_BY_ID, (campaign_id,)).fetchone()
        if row is None:
            raise NotFound(campaign_id)
        return _record(row)

    def list(self, limit: int, offset: int) -> tuple[list[CampaignRecord], int]:
        with self._lock:
            self._db.execute("BEGIN")
            try:
                total = self._db.execute("SELECT count(*) FROM campaigns").fetchone()[0]
                rows = self._db.execute(SELECT_PAGE, (limit, offset)).fetchall()
            finally:
                self._db.execute("COMMIT")
        return [_record(r) for r in rows], total

    def update(self, campaign_id: int, owner: str, fields: CampaignFields) -> CampaignRecord:
        """Replaces the campaign's fields; what was already spent stays spent."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                current = self._owned(campaign_id, owner)
                spent = current.budget_cents - current.remaining_cents
                row = self._db.execute(
                    UPDATE,
                    (
                        fields.name,
                        fields.budget_cents,
                        max(0, fields.budget_cents - spent),
                        fields.bid_cents,
                        fields.start_date.isoformat(),
                        fields.end_date.isoformat(),
                        json.dumps(list(fields.countries)),
                        json.dumps(list(fields.devices)),
                        int(fields.active),
                        campaign_id,
                    ),
                ).fetchone()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return _record(row)

    def delete(self, campaign_id: int, owner: str) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._owned(campaign_id, owner)
                self._db.execute("DELETE FROM campaigns WHERE id = ?", (campaign_id,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def bid(self, country: str, device: str, today: date) -> WonBid | None:
        with self._lock:
            row = self._db.execute(
                BID_SQL, {"today": today.isoformat(), "country": country, "device": device}
            ).fetchone()
        return None if row is None else WonBid(campaign_id=row[0], price_cents=row[1], remaining_cents=row[2])

    def _owned(self, campaign_id: int, owner: str) -> CampaignRecord:
        row = self._db.execute(SELECT_BY_ID, (campaign_id,)).fetchone()
        if row is None:
            raise NotFound(campaign_id)
        record = _record(row)
        if record.owner != owner:
            raise NotOwner(campaign_id)
        return record
