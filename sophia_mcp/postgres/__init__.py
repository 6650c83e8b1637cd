"""Read-only access to Postgres: the embedded server for demos and tests, and the guarded pool."""
