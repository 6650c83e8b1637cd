"""The two homes of a collection: a Qdrant server (qdrant-client) and an embedded Qdrant Edge shard."""
