"""Timestamps are timezone-aware UTC everywhere; SQLite hands them back naive."""

from datetime import UTC, datetime


def utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def now() -> datetime:
    return datetime.now(UTC)
