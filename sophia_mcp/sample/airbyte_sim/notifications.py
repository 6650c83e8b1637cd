"""A workspace's `notifications` (api.yaml NotificationsConfig), refused as the real API refuses them."""

from __future__ import annotations

from typing import Any

from sophia_mcp.sample.airbyte_sim.problems import bad_request

EVENTS = ("failure", "success", "connectionUpdate", "connectionUpdateActionRequired", "syncDisabled",
          "syncDisabledWarning")


def checked_notifications(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request("notifications must be an object (NotificationsConfig).")
    checked: dict[str, Any] = {}
    for event, config in body.items():
        if event not in EVENTS:
            raise bad_request(f"Unknown notification {event!r}; known: {list(EVENTS)}.")
        if not isinstance(config, dict) or set(config) - {"email", "webhook"}:
            raise bad_request(f"notifications.{event} takes `email` and `webhook` only.")
        entry: dict[str, Any] = {}
        email = config.get("email")
        if email is not None:
            if not isinstance(email, dict) or not isinstance(email.get("enabled", False), bool):
                raise bad_request(f"notifications.{event}.email.enabled must be a boolean.")
            entry["email"] = {"enabled": email.get("enabled", False)}
        webhook = config.get("webhook")
        if webhook is not None:
            if not isinstance(webhook, dict) or not isinstance(webhook.get("enabled", False), bool):
                raise bad_request(f"notifications.{event}.webhook.enabled must be a boolean.")
            url = webhook.get("url")
            if webhook.get("enabled") and not (isinstance(url, str) and url.startswith(("https://", "http://"))):
                # Never echo the URL: it is usually a credential.
                raise bad_request(f"notifications.{event}.webhook.url must be an http(s) URL when enabled.")
            entry["webhook"] = {key: value for key, value in webhook.items() if key in ("enabled", "url")}
        checked[event] = entry
    return checked
