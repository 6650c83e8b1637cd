"""Typed errors of the Gong lookups. Each message is safe to show a model and says what to do next."""

from __future__ import annotations

from sophia_mcp.errors import SophiaError


class GongError(SophiaError):
    pass


class StreamMissingError(GongError):
    """The lookup needs a Gong stream whose table is not in the database."""

    def __init__(self, stream: str, why: str) -> None:
        super().__init__(
            f'This needs the Gong stream "{stream}", but {why}. Enable the "{stream}" stream in the Airbyte '
            "connection from Gong to this Postgres and run a sync, or set SOPHIA_GONG_SCHEMA and "
            "SOPHIA_GONG_TABLE_PREFIX to where the Gong tables are."
        )
        self.stream = stream


class NotFoundError(GongError):
    """No record has the id, or nothing matches the name."""


class InvalidArgumentError(GongError):
    """An argument cannot be used as given; the message says what is expected."""


class AmbiguousAccountError(GongError):
    """Several accounts match the name; the message lists them with ids to choose from."""
