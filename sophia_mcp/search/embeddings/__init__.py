"""Embedding providers behind one interface; `factory.embedder_from_settings` picks one."""

from sophia_mcp.search.embeddings.base import EmbeddingError, EmbeddingProvider

__all__ = ["EmbeddingError", "EmbeddingProvider"]
