"""The destinations the Sophia pipeline wants, with configurations built from server settings.

The credentials come from SOPHIA_DEST_* settings only; `redacted` removes them before anything
is shown in a plan or a result. No error message built here ever quotes a URL: a URL that does not
parse may hold its password anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, parse_qs, unquote, urlsplit

from sophia_mcp.airbyte.models import Destination
from sophia_mcp.settings import EmbeddingSettings, PipelineSettings, PostgresSettings, QdrantSettings

SECRET_KEYS = frozenset(
    {"password", "api_key", "openai_key", "cohere_key", "ca_certificate", "client_certificate", "client_key",
     "client_key_password", "ssh_key", "tunnel_user_password"}
)
SECRET_MASK = "**********"
EMBEDDING_DIMENSIONS = 384  # all-MiniLM-L6-v2, the model the search side queries with

POSTGRES_DESTINATION = "Sophia Postgres"
REDIS_DESTINATION = "Sophia Redis"
QDRANT_DESTINATION = "Sophia Qdrant"

# libpq's sslmode values that need nothing but the URL; verify-ca/verify-full need certificates.
POSTGRES_SSL_MODES = ("disable", "allow", "prefer", "require")
POSTGRES_SSL_DEFAULT = "prefer"  # what libpq (and psql) do with a URL that names no sslmode

# The streams that carry call content: the only ones worth embedding.
QDRANT_STREAMS = ("extensiveCalls", "callTranscripts")


@dataclass(frozen=True)
class DestinationConfig:
    """What to send Airbyte to create a destination: its name, type and full configuration (with secrets)."""

    name: str
    destination_type: str
    configuration: dict[str, Any]


@dataclass(frozen=True)
class PipelineDestination:
    """A destination the pipeline asks for: its configuration, or why the settings cannot build one."""

    name: str
    destination_type: str
    config: DestinationConfig | None = None
    # Why `config` is None. `blocking_only`: worth saying only when the destination is missing.
    problem: str | None = None
    blocking_only: bool = False
    # Streams the connection to it syncs; None: every stream the source offers.
    streams: tuple[str, ...] | None = None


def redacted(configuration: Any) -> Any:
    """The configuration with every secret replaced, for plans and logs."""
    if isinstance(configuration, dict):
        return {
            key: SECRET_MASK if key in SECRET_KEYS and value not in (None, "") else redacted(value)
            for key, value in configuration.items()
        }
    if isinstance(configuration, list):
        return [redacted(item) for item in configuration]
    return configuration


def _config(name: str, destination_type: str, **configuration: Any) -> DestinationConfig:
    """A destination to create; Airbyte wants its type inside the configuration too."""
    return DestinationConfig(name, destination_type, {"destinationType": destination_type, **configuration})


def _split(url: str, variable: str, example: str, schemes: tuple[str, ...]) -> tuple[SplitResult, int | None]:
    """The URL's parts and port, or a ValueError that names the variable but never quotes the URL."""
    wrong = ValueError(f"{variable} must look like {example} (special characters in the password percent-encoded)")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise wrong from None
    if parts.scheme not in schemes or not parts.hostname:
        raise wrong
    return parts, port


def postgres_destination(url: str, postgres: PostgresSettings) -> DestinationConfig:
    parts, port = _split(
        url, "SOPHIA_DEST_POSTGRES_URL", "postgresql://USER:PASSWORD@HOST:PORT/DATABASE", ("postgres", "postgresql")
    )
    if not parts.username:
        raise ValueError("SOPHIA_DEST_POSTGRES_URL has no user: postgresql://USER:PASSWORD@HOST:PORT/DATABASE")
    ssl_mode = parse_qs(parts.query).get("sslmode", [POSTGRES_SSL_DEFAULT])[0]
    if ssl_mode not in POSTGRES_SSL_MODES:
        raise ValueError(
            f"SOPHIA_DEST_POSTGRES_URL: sslmode must be one of {', '.join(POSTGRES_SSL_MODES)} for the pipeline "
            "(verify-ca and verify-full need certificates: create the destination in Airbyte, named "
            f"'{POSTGRES_DESTINATION}', and the plan will use it)"
        )
    return _config(
        POSTGRES_DESTINATION,
        "postgres",
        host=parts.hostname,
        port=port or 5432,
        database=unquote(parts.path.lstrip("/")) or "postgres",
        # Airbyte writes where the server reads.
        schema=postgres.gong_schema,
        username=unquote(parts.username),
        password=unquote(parts.password or ""),
        ssl=ssl_mode != "disable",
        ssl_mode={"mode": ssl_mode},
    )


def redis_destination(url: str) -> DestinationConfig:
    parts, port = _split(url, "SOPHIA_DEST_REDIS_URL", "redis://USER:PASSWORD@HOST:PORT", ("redis", "rediss"))
    return _config(
        REDIS_DESTINATION,
        "redis",
        host=parts.hostname,
        port=port or 6379,
        username=unquote(parts.username or "default"),
        password=unquote(parts.password or ""),
        cache_type="hash",
        ssl=parts.scheme == "rediss",
    )


def qdrant_destination(
    pipeline: PipelineSettings, embedding: EmbeddingSettings, qdrant: QdrantSettings
) -> DestinationConfig:
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
    # Payload names the search side reads (store.PayloadFields): the call id under the configured
    # field, title and started at the top. Mappings rename top-level and dot-flattened fields.
    mappings = [
        ("metaData.id", qdrant.call_id_field),  # extensiveCalls (its top-level `id` is a bigint)
        ("callId", qdrant.call_id_field),  # callTranscripts
        ("metaData.title", "title"),
        ("metaData.started", "started"),
        ("metaData.primaryUserId", "primaryUserId"),
    ]
    return _config(
        QDRANT_DESTINATION,
        "qdrant",
        embedding={
            "mode": "openai_compatible",
            "base_url": embedding.url,
            "api_key": embedding.api_key.get_secret_value() if embedding.api_key else "",
            "model_name": embedding.model,
            "dimensions": EMBEDDING_DIMENSIONS,
        },
        processing={
            "chunk_size": 1000,
            "chunk_overlap": 100,
            "text_fields": ["content.brief", "content.keyPoints", "content.highlights", "transcript"],
            "metadata_fields": [
                "metaData.id", "metaData.title", "metaData.started", "metaData.primaryUserId", "callId", "started",
            ],
            "field_name_mappings": [
                {"from_field": source, "to_field": target} for source, target in mappings if source != target
            ],
        },
        indexing={
            "url": pipeline.qdrant_url,
            "collection": qdrant.collection,
            "auth_method": auth,
            "text_field": qdrant.text_field,
            "prefer_grpc": False,
        },
    )


def pipeline_destinations(
    pipeline: PipelineSettings, postgres: PostgresSettings, embedding: EmbeddingSettings, qdrant: QdrantSettings
) -> list[PipelineDestination]:
    """Every destination the pipeline wants (Postgres always; Redis and Qdrant when configured)."""
    wanted: list[PipelineDestination] = []
    if pipeline.postgres_url is None:
        wanted.append(
            PipelineDestination(
                name=POSTGRES_DESTINATION,
                destination_type="postgres",
                problem=f"SOPHIA_DEST_POSTGRES_URL is not set: the destination '{POSTGRES_DESTINATION}' is missing and "
                "cannot be created without Airbyte's writer account. Set it, or create the destination in Airbyte "
                "under that name.",
                blocking_only=True,
            )
        )
    else:
        wanted.append(_built(POSTGRES_DESTINATION, "postgres", None,
                             lambda: postgres_destination(pipeline.postgres_url.get_secret_value(), postgres)))
    if pipeline.redis_url is not None:
        wanted.append(_built(REDIS_DESTINATION, "redis", None,
                             lambda: redis_destination(pipeline.redis_url.get_secret_value())))
    if pipeline.qdrant_url:
        wanted.append(_built(QDRANT_DESTINATION, "qdrant", QDRANT_STREAMS,
                             lambda: qdrant_destination(pipeline, embedding, qdrant)))
    return wanted


def _built(name: str, destination_type: str, streams: tuple[str, ...] | None, build: Any) -> PipelineDestination:
    try:
        config = build()
    except ValueError as exc:
        return PipelineDestination(name=name, destination_type=destination_type, problem=str(exc), streams=streams)
    return PipelineDestination(name=name, destination_type=destination_type, config=config, streams=streams)


# Where a destination writes, per type: what must match for the pipeline to reuse one found by name.
WHERE_IT_WRITES: dict[str, tuple[tuple[str, ...], ...]] = {
    "postgres": (("host",), ("port",), ("database",), ("schema",)),
    "redis": (("host",), ("port",)),
    "qdrant": (("indexing", "url"), ("indexing", "collection")),
}


def reuse_conflict(existing: Destination, want: PipelineDestination) -> str | None:
    """How a destination found by name writes elsewhere than the settings say, or None when it matches (or
    cannot be compared: no configuration from the settings, or none from Airbyte)."""
    if want.config is None or existing.configuration is None:
        return None
    differences = []
    for path in WHERE_IT_WRITES.get(want.destination_type, ()):
        have, expected = _at(existing.configuration, path), _at(want.config.configuration, path)
        if expected is not None and str(have).strip().lower() != str(expected).strip().lower():
            differences.append(f"{'.'.join(path)} {have if have is not None else '(none)'} (settings: {expected})")
    if not differences:
        return None
    return "writes elsewhere than the settings say: " + ", ".join(differences)


def _at(configuration: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = configuration
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value
