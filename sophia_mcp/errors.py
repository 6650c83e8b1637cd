"""The root of every anticipated failure; its message is safe to show and says what to change."""


class SophiaError(Exception):
    pass
