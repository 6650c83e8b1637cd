"""All configuration, read from the environment, one class per concern.

An env file is read only when one is named (`SOPHIA_ENV_FILE`, or `--env-file` on the command line,
which sets it): a `.env` lying in the working folder is never trusted, since it could point
AIRBYTE_API_URL, SOPHIA_EMBEDDING_URL or a destination at another host. The process environment
wins over the file.

Secrets are `SecretStr`, so they never show in a repr, a log line or a validation error.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

AIRBYTE_CLOUD_URL = "https://api.airbyte.com/v1"
_PLACEHOLDER = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_:]*\}")
ENV_FILE_VARIABLE = "SOPHIA_ENV_FILE"


def named_env_file() -> Path | None:
    """The env file the user named in SOPHIA_ENV_FILE, if any. A named file that cannot be read is
    an error (a typo must not silently fall back to defaults such as Airbyte Cloud)."""
    value = os.environ.get(ENV_FILE_VARIABLE, "").strip()
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_file():
        raise ValueError(f"{ENV_FILE_VARIABLE} names {value!r}, which is not a readable file")
    return path


class _Env(BaseSettings):
    # No env file by default: only the one named in SOPHIA_ENV_FILE is read (see __init__).
    model_config = SettingsConfigDict(env_file=None, env_file_encoding="utf-8", extra="ignore")

    def __init__(self, **values: Any) -> None:
        values.setdefault("_env_file", named_env_file())
        super().__init__(**values)

    # Some MCP clients pass a configuration's "${VAR}" through literally instead of expanding it. For
    # a backend's settings that turns the backend off (its tools say why; everything else works);
    # for the others (HTTP tokens, logging, the surface) the server refuses to start.
    _placeholder_turns_off: ClassVar[bool] = False
    _off_reason: str | None = PrivateAttr(None)

    @model_validator(mode="wrap")
    @classmethod
    def _unexpanded_placeholders(cls, values: Any, handler: Any) -> Any:
        found = []
        if isinstance(values, dict):
            found = [(key, value.strip()) for key, value in values.items()
                     if isinstance(value, str) and _PLACEHOLDER.fullmatch(value.strip())]
        if not found:
            return handler(values)
        described = ", ".join(f"{key} is the placeholder {value!r}" for key, value in found)
        message = (
            f"{described}: this MCP client did not expand it. Put the value itself in the env block of "
            "your MCP configuration (Claude Desktop expands nothing; Cursor expands ${env:NAME})."
        )
        if not cls._placeholder_turns_off:
            raise ValueError(message)
        settings = handler({})  # every setting of this backend at its default: the backend is off
        settings._off_reason = message
        return settings

    @property
    def off_reason(self) -> str | None:
        """Why this backend is off although something was set (an unexpanded placeholder), else None."""
        return self._off_reason


class AirbyteSettings(_Env):
    _placeholder_turns_off = True
    api_url: str = Field(AIRBYTE_CLOUD_URL, alias="AIRBYTE_API_URL")
    client_id: str | None = Field(None, alias="AIRBYTE_CLIENT_ID")
    client_secret: SecretStr | None = Field(None, alias="AIRBYTE_CLIENT_SECRET")
    access_token: SecretStr | None = Field(None, alias="AIRBYTE_ACCESS_TOKEN")
    workspace_id: str | None = Field(None, alias="AIRBYTE_WORKSPACE_ID")
    # The Configuration API (failure reasons); None: derived from api_url (see airbyte/config_api.py).
    config_api_url: str | None = Field(None, alias="AIRBYTE_CONFIG_API_URL")
    request_timeout: float = Field(30.0, alias="SOPHIA_AIRBYTE_REQUEST_TIMEOUT", gt=0)
    # A whole call, retries included, never takes longer than this.
    deadline: float = Field(60.0, alias="SOPHIA_AIRBYTE_DEADLINE", gt=0)
    max_retries: int = Field(4, alias="SOPHIA_AIRBYTE_MAX_RETRIES", ge=0, le=10)
    # A listing (health, pipeline plan, sync-all) reads at most this many pages of 100.
    max_pages: int = Field(1000, alias="SOPHIA_AIRBYTE_MAX_PAGES", ge=1)
    poll_interval: float = Field(3.0, alias="SOPHIA_AIRBYTE_POLL_INTERVAL", gt=0)
    # Set by `sophia-mcp demo` so every answer says the Airbyte behind it is not real.
    simulated: bool = Field(False, alias="SOPHIA_AIRBYTE_SIMULATED")

    @field_validator("api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            # The value itself is not repeated: a mistyped URL can hold a credential.
            raise ValueError(
                "AIRBYTE_API_URL must be an http(s) URL: https://api.airbyte.com/v1 for Airbyte Cloud, "
                "http://HOST:PORT/api/public/v1 for a self-managed Airbyte"
            )
        return value.strip()

    @model_validator(mode="after")
    def _one_kind_of_credential(self) -> AirbyteSettings:
        if self.client_id and self.access_token:
            raise ValueError(
                "set either AIRBYTE_CLIENT_ID/AIRBYTE_CLIENT_SECRET or AIRBYTE_ACCESS_TOKEN, not both"
            )
        if bool(self.client_id) != bool(self.client_secret):
            raise ValueError("AIRBYTE_CLIENT_ID and AIRBYTE_CLIENT_SECRET must be set together")
        self.api_url = self.api_url.rstrip("/")
        return self

    @property
    def configured(self) -> bool:
        return bool(self.client_id or self.access_token)


class PostgresSettings(_Env):
    _placeholder_turns_off = True
    url: SecretStr | None = Field(None, alias="SOPHIA_POSTGRES_URL")
    gong_schema: str = Field("public", alias="SOPHIA_GONG_SCHEMA")
    table_prefix: str = Field("", alias="SOPHIA_GONG_TABLE_PREFIX")
    statement_timeout_ms: int = Field(5000, alias="SOPHIA_POSTGRES_STATEMENT_TIMEOUT_MS", gt=0)
    pool_max_size: int = Field(10, alias="SOPHIA_POSTGRES_POOL_SIZE", ge=1, le=100)
    # Gong answers say `stale: true` when their newest _airbyte_extracted_at is older than this.
    stale_after_hours: float = Field(24.0, alias="SOPHIA_STALE_AFTER_HOURS", gt=0, le=8760)
    # Where a private copy of the cross-call summary is kept between runs (unset: the user's cache
    # folder, sophia-mcp/gong-summary; `off`: none).
    gong_snapshot_dir: str | None = Field(None, alias="SOPHIA_GONG_SNAPSHOT_DIR")


class QdrantSettings(_Env):
    _placeholder_turns_off = True
    url: str | None = Field(None, alias="QDRANT_URL")
    api_key: SecretStr | None = Field(None, alias="QDRANT_API_KEY")
    path: Path | None = Field(None, alias="QDRANT_PATH")
    collection: str = Field("gong_calls", alias="SOPHIA_QDRANT_COLLECTION")
    text_field: str = Field("text", alias="SOPHIA_QDRANT_TEXT_FIELD")
    call_id_field: str = Field("call_id", alias="SOPHIA_QDRANT_CALL_ID_FIELD")
    # QDRANT_PATH's engine: Qdrant Edge, or qdrant-client's pure-Python local mode (for comparison).
    embedded: Literal["edge", "client"] = Field("edge", alias="SOPHIA_QDRANT_EMBEDDED")
    # How often the serving process checks Postgres for new Gong rows to index into its own shard.
    index_interval_s: float = Field(300.0, alias="SOPHIA_INDEX_INTERVAL_SECONDS", ge=1.0)
    # Indexing into QDRANT_PATH stops (clearly) when its disk has less free than this: the embedded
    # engine writes through memory-mapped files, and a full disk kills its process (SIGBUS).
    index_min_free_mb: int = Field(256, alias="SOPHIA_INDEX_MIN_FREE_MB", ge=0)

    @model_validator(mode="after")
    def _one_location(self) -> QdrantSettings:
        if self.url and self.path:
            raise ValueError("set either QDRANT_URL or QDRANT_PATH, not both")
        return self

    @property
    def configured(self) -> bool:
        return bool(self.url or self.path)

    @property
    def owned_shard(self) -> bool:
        """An embedded Qdrant Edge shard: the serving process owns it and indexes it itself."""
        return bool(self.path) and not self.url and self.embedded == "edge"


class EmbeddingSettings(_Env):
    _placeholder_turns_off = True
    provider: Literal["fastembed", "openai"] = Field("fastembed", alias="SOPHIA_EMBEDDING_PROVIDER")
    model: str = Field("sentence-transformers/all-MiniLM-L6-v2", alias="SOPHIA_EMBEDDING_MODEL")
    model_path: Path | None = Field(None, alias="SOPHIA_EMBEDDING_MODEL_PATH")
    # Where fastembed keeps a downloaded model (default: its own folder under the system's temp folder).
    cache_dir: Path | None = Field(None, alias="SOPHIA_EMBEDDING_CACHE_DIR")
    url: str | None = Field(None, alias="SOPHIA_EMBEDDING_URL")
    api_key: SecretStr | None = Field(None, alias="SOPHIA_EMBEDDING_API_KEY")
    # One embedding request (openai provider), retries included, never takes longer than this.
    deadline: float = Field(30.0, alias="SOPHIA_EMBEDDING_DEADLINE", gt=0)
    # fastembed only: `int8` runs an int8 copy of the model made locally, `none` the fp32 model; an
    # index records which. `auto` follows the index: an existing one keeps its variant, a new one is int8.
    quantize: Literal["auto", "none", "int8"] = Field("auto", alias="SOPHIA_EMBEDDING_QUANTIZE")

    @model_validator(mode="after")
    def _openai_needs_url(self) -> EmbeddingSettings:
        if self.provider == "openai" and not self.url:
            raise ValueError("SOPHIA_EMBEDDING_PROVIDER=openai needs SOPHIA_EMBEDDING_URL")
        if self.provider == "openai" and self.quantize == "int8":
            raise ValueError("SOPHIA_EMBEDDING_QUANTIZE is for the local fastembed model; unset it for provider=openai")
        return self


class PipelineSettings(_Env):
    """What the Sophia pipeline should look like in Airbyte. The destinations' credentials are the
    writer accounts Airbyte uses; they live here, never in tool arguments or results."""

    _placeholder_turns_off = True

    source_name: str | None = Field(None, alias="SOPHIA_PIPELINE_SOURCE_NAME")
    cron: str = Field("0 0 */6 * * ?", alias="SOPHIA_PIPELINE_CRON")
    postgres_url: SecretStr | None = Field(None, alias="SOPHIA_DEST_POSTGRES_URL")
    redis_url: SecretStr | None = Field(None, alias="SOPHIA_DEST_REDIS_URL")
    qdrant_url: str | None = Field(None, alias="SOPHIA_DEST_QDRANT_URL")
    qdrant_api_key: SecretStr | None = Field(None, alias="SOPHIA_DEST_QDRANT_API_KEY")
    # Where Airbyte posts failure and sync-disabled notifications (e.g. a Slack incoming webhook): a secret.
    alert_webhook_url: SecretStr | None = Field(None, alias="SOPHIA_ALERT_WEBHOOK_URL")


class HttpSettings(_Env):
    token: SecretStr | None = Field(None, alias="SOPHIA_HTTP_TOKEN")
    # A comma list, for rotation: add the new token, move the clients over, drop the old one.
    tokens: SecretStr | None = Field(None, alias="SOPHIA_HTTP_TOKENS")
    # `GET /mcp` event streams: at most this many open at once, each ended after this long with nothing sent.
    sse_max_streams: int = Field(100, alias="SOPHIA_HTTP_SSE_MAX_STREAMS", ge=1)
    sse_idle_seconds: float = Field(60.0, alias="SOPHIA_HTTP_SSE_IDLE_SECONDS", gt=0)
    allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list, alias="SOPHIA_HTTP_ALLOWED_HOSTS")

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _host_list(cls, value: Any) -> Any:
        """A comma list (`a.example,b.example`) or a JSON list (`["a.example"]`)."""
        if not isinstance(value, str):
            return value
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                value = None
            if not isinstance(value, list) or not all(isinstance(h, str) for h in value):
                raise ValueError(
                    "SOPHIA_HTTP_ALLOWED_HOSTS must be host names separated by commas "
                    '(sophia.internal,sophia.example.com) or a JSON list (["sophia.internal"])'
                )
            return [h.strip() for h in value if h.strip()]
        return [h.strip() for h in text.split(",") if h.strip()]


    def all_tokens(self) -> list[str]:
        """Every accepted HTTP token, from SOPHIA_HTTP_TOKEN and SOPHIA_HTTP_TOKENS, without repeats."""
        values = [self.token.get_secret_value()] if self.token else []
        if self.tokens:
            values += self.tokens.get_secret_value().split(",")
        return list(dict.fromkeys(value.strip() for value in values if value.strip()))


TOOLSETS = ("airbyte", "gong", "search")
Toolset = Literal["airbyte", "gong", "search"]


class SurfaceSettings(_Env):
    """Which tools the server offers: every toolset by default, or fewer; read-only tools only."""

    read_only: bool = Field(False, alias="SOPHIA_READ_ONLY")
    toolsets: Annotated[tuple[Toolset, ...], NoDecode] = Field(TOOLSETS, alias="SOPHIA_TOOLSETS")

    @field_validator("toolsets", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        names = [name.strip().lower() for name in value.split(",") if name.strip()]
        unknown = [name for name in names if name not in TOOLSETS]
        if unknown or not names:
            raise ValueError(
                f"SOPHIA_TOOLSETS must be a comma list of {', '.join(TOOLSETS)}"
                + (f"; unknown: {', '.join(repr(n[:40]) for n in unknown)}" if unknown else "")
            )
        return tuple(dict.fromkeys(names))


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class LogSettings(_Env):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field("WARNING", alias="SOPHIA_LOG_LEVEL")
    format: Literal["text", "json"] = Field("text", alias="SOPHIA_LOG_FORMAT")

    @field_validator("level", mode="before")
    @classmethod
    def _known_level(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().upper()
            if value not in LOG_LEVELS:
                raise ValueError(f"SOPHIA_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
        return value

    @field_validator("format", mode="before")
    @classmethod
    def _known_format(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().lower()
            if value not in ("text", "json"):
                raise ValueError("SOPHIA_LOG_FORMAT must be text or json")
        return value


class Settings:
    """Every concern's settings, each read from the environment when first built."""

    def __init__(
        self,
        airbyte: AirbyteSettings | None = None,
        postgres: PostgresSettings | None = None,
        qdrant: QdrantSettings | None = None,
        embedding: EmbeddingSettings | None = None,
        http: HttpSettings | None = None,
        pipeline: PipelineSettings | None = None,
        surface: SurfaceSettings | None = None,
    ) -> None:
        self.airbyte = airbyte or AirbyteSettings()
        self.postgres = postgres or PostgresSettings()
        self.qdrant = qdrant or QdrantSettings()
        self.embedding = embedding or EmbeddingSettings()
        self.http = http or HttpSettings()
        self.pipeline = pipeline or PipelineSettings()
        self.surface = surface or SurfaceSettings()

    def backends_off(self) -> dict[str, str]:
        """The backends that are off, each with what to set or fix: `airbyte`, `postgres`, `search`."""
        off: dict[str, str] = {}
        if self.airbyte.off_reason:
            off["airbyte"] = self.airbyte.off_reason
        elif not self.airbyte.configured:
            off["airbyte"] = (
                "AIRBYTE_CLIENT_ID and AIRBYTE_CLIENT_SECRET (or AIRBYTE_ACCESS_TOKEN) are not set; "
                "AIRBYTE_API_URL too for a self-managed Airbyte"
            )
        if self.postgres.off_reason:
            off["postgres"] = self.postgres.off_reason
        elif self.postgres.url is None:
            off["postgres"] = "SOPHIA_POSTGRES_URL is not set (the Postgres where Airbyte lands Gong data)"
        if self.qdrant.off_reason or self.embedding.off_reason:
            off["search"] = self.qdrant.off_reason or self.embedding.off_reason or ""
        elif not self.qdrant.configured:
            off["search"] = "QDRANT_URL (and QDRANT_API_KEY) or QDRANT_PATH is not set"
        return off
