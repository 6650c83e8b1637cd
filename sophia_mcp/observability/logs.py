"""Logging for every command: stderr only (stdout carries MCP on stdio), text or JSON lines.

`SOPHIA_LOG_FORMAT=json` writes one JSON object per line with `time`, `level`, `logger`, `message`
and any structured fields a caller passed in `extra={"fields": {...}}` (the per-tool-call line and
the HTTP access line use them). Uvicorn's own loggers go to the same stream in the same format.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any

from sophia_mcp.settings import LogSettings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(settings: LogSettings | None = None) -> LogSettings:
    """Send every log line to stderr at SOPHIA_LOG_LEVEL in SOPHIA_LOG_FORMAT; returns the settings used."""
    settings = settings or LogSettings()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines() if settings.format == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.level)
    # Libraries that log every request at INFO stay at WARNING unless DEBUG is asked for.
    quiet = logging.DEBUG if settings.level == "DEBUG" else logging.WARNING
    for name in ("httpx", "httpcore", "mcp", "uvicorn.error"):
        logging.getLogger(name).setLevel(max(quiet, logging.getLevelName(settings.level)))
    return settings
