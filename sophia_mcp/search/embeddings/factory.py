"""The embedding provider that the settings ask for."""

from __future__ import annotations

from sophia_mcp.search.embeddings.base import EmbeddingProvider
from sophia_mcp.search.embeddings.fastembed_provider import FastEmbedProvider
from sophia_mcp.search.embeddings.openai_provider import OpenAIEmbeddingProvider
from sophia_mcp.settings import EmbeddingSettings


def embedder_from_settings(settings: EmbeddingSettings) -> EmbeddingProvider:
    """Builds the provider without loading a model or calling an endpoint: that waits for first use."""
    if settings.provider == "openai":
        assert settings.url is not None  # EmbeddingSettings refuses provider=openai without a URL
        return OpenAIEmbeddingProvider(
            settings.model, url=settings.url, api_key=settings.api_key, deadline=settings.deadline
        )
    return FastEmbedProvider(
        settings.model, model_path=settings.model_path, cache_dir=settings.cache_dir, quantize=settings.quantize
    )
