"""The destinations the Sophia pipeline wants, with configurations built from server settings.

The credentials come from SOPHIA_DEST_* settings only; `redacted` removes them before anything
is shown in a plan or a result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sophia_mcp.settings import EmbeddingSettings, PipelineSettings, PostgresSettings

SECRET_KEYS = frozenset({"password", "api_key", "openai_key", "cohere_key"})
EMBEDDING_DIMENSIONS = 384  # all-MiniLM-L6-v2, the model the search side queries with


@dataclass(frozen=True)
class DesiredDestination:
    name: str
    destination_type: str
    configuration: dict[str, Any]


def redacted(configuration: dict[str, Any]) -> dict[str, Any]:
    """The configuration with every secret replaced, for plans and logs."""
    clean: dict[str, Any] = {}
    for key, value in configuration.items():
        if key in SECRET_KEYS:
            clean[key] = "**********"
        elif isinstance(value, dict):
            clean[key] = redacted(value)
        else:
            clean[key] = value
    return clean


def postgres_destination(url: str, postgres: PostgresSettings) -> DesiredDestination:
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql") or not parts.hostname or not parts.username:
        raise ValueError("SOPHIA_DEST_POSTGRES_URL must look like postgresql://USER:PASSWORD@HOST:PORT/DATABASE")
    ssl_mode = parse_qs(parts.query).get("sslmode", ["disable"])[0]
    return DesiredDestination(
        name="Sophia Postgres",
        destination_type="postgres",
        configuration={
            "destinationType": "postgres",
            "host": parts.hostname,
            "port": parts.port or 5432,
            "database": parts.path.lstrip("/") or "postgres",
            # Airbyte writes where the server reads.
            "schema": postgres.gong_schema,
            "username": unquote(parts.username),
            "password": unquote(parts.password or ""),
            "ssl_mode": {"mode": ssl_mode},
        },
    )


def redis_destination(url: str) -> DesiredDestination:
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ValueError("SOPHIA_DEST_REDIS_URL must look like redis://USER:PASSWORD@HOST:PORT")
    return DesiredDestination(
        name="Sophia Redis",
        destination_type="redis",
        configuration={
            "destinationType": "redis",
            "host": parts.hostname,
            "port": parts.port or 6379,
            "username": unquote(parts.username or "default"),
            "password": unquote(parts.password or ""),
            "cache_type": "hash",
            "ssl": parts.scheme == "rediss",
        },
    )


def qdrant_destination(pipeline: PipelineSettings, embedding: EmbeddingSettings, collection: str) -> DesiredDestination:
    if embedding.provider != "openai" or not embedding.url:
        raise ValueError(
            "a Qdrant destination needs an embedding endpoint Airbyte can call: set SOPHIA_EMBEDDING_PROVIDER=openai "
            "and SOPHIA_EMBEDDING_URL, or leave SOPHIA_DEST_QDRANT_URL unset and run `sophia-mcp index` instead"
        )
    auth: dict[str, Any] = (
        {"mode": "api_key_auth", "api_key": pipeline.qdrant_api_key.get_secret_value()}
        if pipeline.qdrant_api_key
        else {"mode": "no_auth"}
    )
    return DesiredDestination(
        name="Sophia Qdrant",
        destination_type="qdrant",
        configuration={
            "destinationType": "qdrant",
            "embedding": {
                "mode": "openai_compatible",
                "base_url": embedding.url,
                "api_key": embedding.api_key.get_secret_value() if embedding.api_key else "",
                "model_name": embedding.model,
                "dimensions": EMBEDDING_DIMENSIONS,
            },
            "processing": {
                "chunk_size": 1000,
                "chunk_overlap": 100,
                "text_fields": ["content.brief", "content.keyPoints", "content.highlights", "transcript"],
                "metadata_fields": ["id", "metaData.id", "metaData.started", "metaData.title", "callId"],
            },
            "indexing": {
                "url": pipeline.qdrant_url,
                "collection": collection,
                "auth_method": auth,
                "text_field": "text",
                "prefer_grpc": False,
            },
        },
    )


def desired_destinations(
    pipeline: PipelineSettings, postgres: PostgresSettings, embedding: EmbeddingSettings, collection: str
) -> tuple[list[DesiredDestination], list[str]]:
    """The destinations the settings ask for, and why any wanted one cannot be planned."""
    wanted: list[DesiredDestination] = []
    problems: list[str] = []
    if pipeline.postgres_url is None:
        problems.append(
            "SOPHIA_DEST_POSTGRES_URL is not set: the Postgres destination (Airbyte's writer account) cannot be "
            "created, only matched by the name 'Sophia Postgres'."
        )
    else:
        try:
            wanted.append(postgres_destination(pipeline.postgres_url.get_secret_value(), postgres))
        except ValueError as exc:
            problems.append(str(exc))
    if pipeline.redis_url is not None:
        try:
            wanted.append(redis_destination(pipeline.redis_url.get_secret_value()))
        except ValueError as exc:
            problems.append(str(exc))
    if pipeline.qdrant_url:
        try:
            wanted.append(qdrant_destination(pipeline, embedding, collection))
        except ValueError as exc:
            problems.append(str(exc))
    return wanted, problems
