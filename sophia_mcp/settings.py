"""All configuration, read from the environment, one class per concern.

An env file is read only when one is named (`SOPHIA_ENV_FILE`, or `--env-file` on the command line,
which sets it): a `.env` lying in the working folder is never trusted, since it could point
AIRBYTE_API_URL, SOPHIA_EMBEDDING_URL or a destination at another host. The process environment
wins over the file.

Secrets are `SecretStr`, so they never show in a repr, a log line or a validation error.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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

    @model_validator(mode="before")
    @classmethod
    def _no_unexpanded_placeholders(cls, values: Any) -> Any:
        # Some MCP clients pass mcp.json's "${VAR}" through literally instead of expanding it.
        if isinstance(values, dict):
            for key, value in values.items():
                if isinstance(value, str) and _PLACEHOLDER.fullmatch(value.strip()):
                    raise ValueError(
                        f"{key} is the placeholder {value.strip()!r}: this MCP client did not expand it. "
                        "Put the value itself in the env block of your MCP configuration."
                    )
        return values


class AirbyteSettings(_Env):
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
    url: SecretStr | None = Field(None, alias="SOPHIA_POSTGRES_URL")
    gong_schema: str = Field("public", alias="SOPHIA_GONG_SCHEMA")
    table_prefix: str = Field("", alias="SOPHIA_GONG_TABLE_PREFIX")
    statement_timeout_ms: int = Field(5000, alias="SOPHIA_POSTGRES_STATEMENT_TIMEOUT_MS", gt=0)
    pool_max_size: int = Field(10, alias="SOPHIA_POSTGRES_POOL_SIZE", ge=1, le=100)
    # Gong answers say `stale: true` when their newest _airbyte_extracted_at is older than this.
    stale_after_hours: float = Field(24.0, alias="SOPHIA_STALE_AFTER_HOURS", gt=0, le=8760)


class QdrantSettings(_Env):
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
    provider: Literal["fastembed", "openai"] = Field("fastembed", alias="SOPHIA_EMBEDDING_PROVIDER")
    model: str = Field("sentence-transformers/all-MiniLM-L6-v2", alias="SOPHIA_EMBEDDING_MODEL")
    model_path: Path | None = Field(None, alias="SOPHIA_EMBEDDING_MODEL_PATH")
    url: str | None = Field(None, alias="SOPHIA_EMBEDDING_URL")
    api_key: SecretStr | None = Field(None, alias="SOPHIA_EMBEDDING_API_KEY")
    # One embedding request (openai provider), retries included, never takes longer than this.
    deadline: float = Field(30.0, alias="SOPHIA_EMBEDDING_DEADLINE", gt=0)

    @model_validator(mode="after")
    def _openai_needs_url(self) -> EmbeddingSettings:
        if self.provider == "openai" and not self.url:
            raise ValueError("SOPHIA_EMBEDDING_PROVIDER=openai needs SOPHIA_EMBEDDING_URL")
        return self


class PipelineSettings(_Env):
    """What the Sophia pipeline should look like in Airbyte. The destinations' credentials are the
    writer accounts Airbyte uses; they live here, never in tool arguments or results."""

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
    allowed_hosts: list[str] = Field(default_factory=list, alias="SOPHIA_HTTP_ALLOWED_HOSTS")


    def all_tokens(self) -> list[str]:
        """Every accepted HTTP token, from SOPHIA_HTTP_TOKEN and SOPHIA_HTTP_TOKENS, without repeats."""
        values = [self.token.get_secret_value()] if self.token else []
        if self.tokens:
            values += self.tokens.get_secret_value().split(",")
        return list(dict.fromkeys(value.strip() for value in values if value.strip()))


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
    ) -> None:
        self.airbyte = airbyte or AirbyteSettings()
        self.postgres = postgres or PostgresSettings()
        self.qdrant = qdrant or QdrantSettings()
        self.embedding = embedding or EmbeddingSettings()
        self.http = http or HttpSettings()
        self.pipeline = pipeline or PipelineSettings()
