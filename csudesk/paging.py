"""Keyset pagination, newest first: as fast on page 5,000 as on page 1 (no OFFSET)."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, tuple_

from csudesk.extensions import db

T = TypeVar("T")
Key = tuple[Any, ...]


@dataclass
class KeysetPage(Generic[T]):
    items: list[T]
    newer: Key | None  # there are newer rows: the key to ask for what comes before it
    older: Key | None  # there are older rows: the key to ask for what comes after it


def keyset_page(
    query: Select,
    columns: Sequence,
    key_of: Callable[[T], Key],
    size: int,
    after: Key | None = None,
    before: Key | None = None,
) -> KeysetPage[T]:
    """One page of `query`'s rows by descending `columns` (unique together, indexed).

    `after` gives the rows older than that key (the next page), `before` the rows newer than
    it (the previous page); with neither, the newest rows.
    """
    key = tuple_(*columns) if len(columns) > 1 else columns[0]

    def bound(value: Key):
        return tuple_(*value) if len(columns) > 1 else value[0]

    if before is not None:
        rows = list(
            db.session.scalars(query.where(key > bound(before)).order_by(*columns).limit(size + 1))
        )
        more = len(rows) > size
        rows = rows[:size][::-1]
        return KeysetPage(
            rows, key_of(rows[0]) if more else None, key_of(rows[-1]) if rows else None
        )
    if after is not None:
        query = query.where(key < bound(after))
    rows = list(db.session.scalars(query.order_by(*(c.desc() for c in columns)).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    return KeysetPage(
        rows,
        key_of(rows[0]) if after is not None and rows else None,
        key_of(rows[-1]) if more else None,
    )
