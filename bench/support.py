"""What every benchmark needs: a database of its own for one run."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql


@contextlib.contextmanager
def temporary_database(tmp: Path, label: str) -> Iterator[str]:
    """A SQLite file in ``tmp``, or, when DATABASE_URL names a PostgreSQL server, a fresh
    database created on it (never an existing one) and dropped at the end."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp / 'bench.sqlite3'}"
        return
    parts = urlsplit(url)
    name = f"bench_{label}_{secrets.token_hex(4)}"
    # CREATE/DROP DATABASE run from the maintenance database, as Django's test runner does.
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as db:
        db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as db:
            db.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
                       .format(sql.Identifier(name)))
