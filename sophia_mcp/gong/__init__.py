"""Read-only lookups of the Gong data that Airbyte's source-gong lands in Postgres."""
