"""Alerts: the workspace's failure and sync-disabled notifications go to SOPHIA_ALERT_WEBHOOK_URL.

The URL is a secret (a Slack incoming webhook is a bearer credential in a URL): it is sent to Airbyte
and compared with what Airbyte holds, never shown. Plans say "the alert webhook", and any other URL
found is "another webhook".
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urlsplit

# NotificationsConfig (api.yaml) entries the pipeline sets: a sync failed, a connection was disabled.
ALERT_EVENTS = ("failure", "syncDisabled")
WEBHOOK_SETTING = "SOPHIA_ALERT_WEBHOOK_URL"


def webhook_problem(url: str) -> str | None:
    """Why the URL cannot be a webhook, without quoting it."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return f"{WEBHOOK_SETTING} is not a URL"
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return f"{WEBHOOK_SETTING} must be an https:// URL, e.g. a Slack incoming webhook"
    return None


def alert_changes(current: dict[str, Any] | None, url: str) -> list[str]:
    """What must change for both events to post to `url`, in words that never hold a URL."""
    changes = []
    for event in ALERT_EVENTS:
        webhook = ((current or {}).get(event) or {}).get("webhook") or {}
        if webhook.get("url") == url and webhook.get("enabled") is True:
            continue
        if not webhook.get("url"):
            was = "no webhook"
        elif webhook.get("url") == url:
            was = "the alert webhook, disabled"
        else:
            was = "another webhook"
        changes.append(f"{event} notifications: {was} → the alert webhook ({WEBHOOK_SETTING})")
    return changes


def wanted_notifications(current: dict[str, Any] | None, url: str) -> dict[str, Any]:
    """The workspace's notifications with both events posting to `url`; e-mail and other events kept."""
    notifications = copy.deepcopy(current or {})
    for event in ALERT_EVENTS:
        entry = notifications.setdefault(event, {})
        entry["webhook"] = {"enabled": True, "url": url}
    return notifications
