"""One typed error per way a read-only query can fail, each with a message that says what to do.

Messages name the server as host:port/database only; a URL's password never reaches them.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import asyncpg

# The driver's own "cannot encode this argument" error; the public name `asyncpg.DataError` is the
# server's SQLSTATE class 22 instead.
from asyncpg.exceptions._base import DataError as ArgumentEncodingError

from sophia_mcp.errors import SophiaError


class PostgresError(SophiaError):
    """Base of every Postgres failure. `str()` is safe to show to a user or a model."""


class PostgresUnavailableError(PostgresError):
    """The server could not be reached, or the connection dropped."""


class PostgresAuthError(PostgresError):
    """The server refused the role, its password or the database name."""


class QueryTimeoutError(PostgresError):
    """The query ran past `statement_timeout` (or the server stopped answering) and was cancelled."""


class PermissionDeniedError(PostgresError):
    """The role may not read a table the query needs."""


class ReadOnlyViolationError(PostgresError):
    """Something tried to write; the read-only session refused it."""


class MissingTableError(PostgresError):
    """A table or column the query names does not exist (any more)."""


class InvalidInputError(PostgresError):
    """A parameter value Postgres cannot store or compare (e.g. an impossible date)."""


class ResultTooLargeError(PostgresError):
    """The result passed the pool's cap on rows or bytes."""


class QueryFailedError(PostgresError):
    """Any other error the server reported."""


def describe_target(url: str) -> str:
    """host:port/database of a connection URL, for messages. Unix-socket URLs name the socket folder."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "the configured server"
    host = parts.hostname or ""
    if not host and "host=" in parts.query:
        host = parts.query.split("host=", 1)[1].split("&", 1)[0]
    port = f":{parts.port}" if parts.port else ""
    database = parts.path.lstrip("/") or "(default database)"
    return f"{host or 'localhost'}{port}/{database}"


def connection_error(error: BaseException, target: str) -> PostgresError:
    """Map a failure to connect (or a dropped connection) to a typed error."""
    if isinstance(error, (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError)):
        return PostgresAuthError(
            f"Postgres at {target} refused the credentials in SOPHIA_POSTGRES_URL ({error.__class__.__name__}). "
            "Check the role name and password."
        )
    if isinstance(error, asyncpg.InvalidCatalogNameError):
        return PostgresAuthError(f"Postgres at {target} has no such database. Fix the database name in SOPHIA_POSTGRES_URL.")
    if isinstance(error, socket.gaierror):
        return PostgresUnavailableError(f"The host of {target} does not resolve. Check the host in SOPHIA_POSTGRES_URL.")
    if isinstance(error, ConnectionRefusedError):
        reason = "connection refused"
    elif isinstance(error, TimeoutError):
        reason = "no answer in time"
    else:
        reason = error.__class__.__name__
    return PostgresUnavailableError(
        f"Cannot reach Postgres at {target} ({reason}). Check that the server is running and that "
        "SOPHIA_POSTGRES_URL points at it; the next request tries again."
    )


# What a query can raise that is not a bug in this program: the server's errors, the driver's
# refusal to encode a value, a dropped connection, and the client-side deadline.
# InternalClientError: the driver found the connection mid-operation (the server went away under it).
QUERY_FAILURES = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError, TimeoutError)


def query_error(error: BaseException, target: str, timeout_ms: int) -> PostgresError:
    """Map one of QUERY_FAILURES, raised while a query ran, to a typed error."""
    if isinstance(error, (asyncpg.QueryCanceledError, TimeoutError)):
        return QueryTimeoutError(
            f"The query took longer than {timeout_ms / 1000:g} s and was cancelled. "
            "Narrow it (a shorter date range, one rep or account) or ask for fewer rows."
        )
    if isinstance(error, asyncpg.ReadOnlySQLTransactionError):
        return ReadOnlyViolationError("Refused: this connection is read-only and only runs queries that read.")
    if isinstance(error, asyncpg.InsufficientPrivilegeError):
        return PermissionDeniedError(
            f"The role in SOPHIA_POSTGRES_URL may not read a table it needs ({error}). "
            "Grant it USAGE on the schema and SELECT on the Gong tables."
        )
    if isinstance(error, (asyncpg.UndefinedTableError, asyncpg.UndefinedColumnError)):
        return MissingTableError(
            f"{error}. The Gong tables changed since they were discovered: check the Airbyte connection's "
            "streams, SOPHIA_GONG_SCHEMA and SOPHIA_GONG_TABLE_PREFIX."
        )
    if isinstance(error, (asyncpg.DataError, ArgumentEncodingError)):
        return InvalidInputError(f"Postgres could not use a value: {error}")
    if isinstance(error, (OSError, asyncpg.InterfaceError, asyncpg.InternalClientError, asyncpg.PostgresConnectionError)):
        return connection_error(error, target)
    return QueryFailedError(f"Postgres reported an error ({getattr(error, 'sqlstate', '?')}): {error}")
