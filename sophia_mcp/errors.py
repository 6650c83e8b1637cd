"""The root of every anticipated failure; its message is safe to show and says what to change."""


class SophiaError(Exception):
    pass


class NotConfiguredError(SophiaError):
    """A backend a tool needs has no settings; the message names the variables to set."""


class InvalidArgumentError(SophiaError, ValueError):
    """A caller's value cannot be used (checked before any backend is asked); the message says what to change."""
