"""The backend-neutral shapes of semantic search: where fields sit in a payload, the filters, the
modes, and a hit as the assistant reads it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from pydantic import BaseModel, Field

from sophia_mcp.settings import QdrantSettings

PASSAGE_CHARS = 400


class SearchMode(str, Enum):
    """`hybrid`: dense and BM25 results fused by reciprocal rank; `semantic`: dense only (meaning);
    `keyword`: BM25 only (exact words, names, codes)."""

    HYBRID = "hybrid"
    SEMANTIC = "semantic"
    KEYWORD = "keyword"


@dataclass(frozen=True)
class PayloadFields:
    """Where a hit's parts and the filters' fields sit in a point's payload (dotted paths reach
    into nested objects). The defaults are what the indexer writes; `title`, `started` and
    `primaryUserId` are also the Gong `calls` record's own names, so a collection that Airbyte's
    Qdrant destination wrote from `calls` or `callTranscripts` matches them too."""

    text: str = "text"
    call_id: str = "call_id"
    title: str = "title"
    started: str = "started"
    rep_user_id: str = "primaryUserId"
    account_ids: str = "account_ids"
    account_names: str = "account_names"
    speaker: str = "speaker"
    offset_seconds: str = "offset_seconds"

    @classmethod
    def from_settings(cls, settings: QdrantSettings) -> PayloadFields:
        return cls(text=settings.text_field, call_id=settings.call_id_field)

    def for_hits(self) -> list[str]:
        return [self.text, self.call_id, self.title, self.started, self.speaker, self.offset_seconds]


@dataclass(frozen=True)
class SearchFilters:
    """All given filters must hold. `started_from` is inclusive and `started_to` exclusive, as in
    `gong_search_calls`; naive datetimes are taken as UTC. `account_name` matches whole words
    case-insensitively ("acme" finds "Acme Corp")."""

    started_from: datetime | None = None
    started_to: datetime | None = None
    rep_user_id: str | None = None
    account_id: str | None = None
    account_name: str | None = None
    call_id: str | None = None

    def window(self) -> tuple[str | None, str | None]:
        """The date range as RFC 3339 UTC text, the form both backends' datetime filters read."""
        return _iso(self.started_from), _iso(self.started_to)


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).isoformat()


class SemanticHit(BaseModel):
    call_id: str
    title: str | None = None
    started: str | None = None
    score: float
    passage: str
    speaker: str | None = None
    offset_seconds: float | None = None


class SemanticResults(BaseModel):
    question: str
    mode: SearchMode
    calls: list[SemanticHit] = Field(description="Best call first; one passage per call.")
    note: str | None = None
    as_of: datetime | None = Field(None, description="Newest _airbyte_extracted_at the search index holds, UTC.")
    stale: bool | None = Field(None, description="True when as_of is older than SOPHIA_STALE_AFTER_HOURS.")


def payload_value(payload: dict[str, Any], path: str) -> Any:
    """The value at a dotted path, or None."""
    value: Any = payload
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def trim_passage(text: str, limit: int = PASSAGE_CHARS) -> str:
    """At most `limit` characters, cut at a space; line breaks (one per speaker turn) are kept."""
    text = "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > 0 else limit] + "…"


def hit_from_payload(call_id: Any, score: float, payload: dict[str, Any], fields: PayloadFields) -> SemanticHit:
    offset = payload_value(payload, fields.offset_seconds)
    return SemanticHit(
        call_id=str(call_id),
        title=_text(payload_value(payload, fields.title)),
        started=_text(payload_value(payload, fields.started)),
        score=round(score, 4),
        passage=trim_passage(str(payload_value(payload, fields.text) or "")),
        speaker=_text(payload_value(payload, fields.speaker)),
        offset_seconds=float(offset) if isinstance(offset, (int, float)) else None,
    )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
