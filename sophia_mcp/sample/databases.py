"""Databases the demo, the tests and the benchmarks make for sample data on a Postgres they own."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import asyncpg


def database_url(server_url: str, database: str, user: str | None = None) -> str:
    """The same server (and role, unless `user` is given), another database."""
    parts = urlsplit(server_url)
    netloc = parts.netloc if user is None else user + "@" + parts.netloc.split("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=netloc, path=f"/{database}"))


async def recreate_database(server_url: str, database: str) -> str:
    """Drop (if there) and create a database; return its URL. `database` is the caller's own constant."""
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        await connection.execute(f'CREATE DATABASE "{database}"')
    finally:
        await connection.close()
    return database_url(server_url, database)
