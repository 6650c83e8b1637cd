"""Embeddings from any OpenAI-compatible `POST {url}/embeddings` endpoint (OpenAI, Azure, vLLM, Ollama ...)."""

from __future__ import annotations

import time
from collections.abc import Sequence

import anyio
import httpx
from pydantic import SecretStr

from sophia_mcp.retry import RETRYABLE_STATUSES, backoff_seconds, retry_after_seconds
from sophia_mcp.search.embeddings.base import EmbeddingError

# Well under every known endpoint's per-request input limit (OpenAI allows 2048).
DEFAULT_BATCH_SIZE = 64
MAX_ATTEMPTS = 4
# A server asking for a longer pause is overloaded: better to fail and let the caller resume later.
MAX_RETRY_WAIT_SECONDS = 30.0
ERROR_DETAIL_CHARS = 300
# One embedding request, retries included, never takes longer than this (SOPHIA_EMBEDDING_DEADLINE).
DEFAULT_DEADLINE_SECONDS = 30.0


class OpenAIEmbeddingProvider:
    """Embeds in batches; retries 429, 502-504 and network errors, since embedding is idempotent.

    The API key only ever goes into the Authorization header; it is never logged, and it is cut
    out of any error body that would echo it.
    """

    name = "openai"

    def __init__(
        self,
        model: str,
        *,
        url: str,
        api_key: SecretStr | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        timeout: float = 30.0,
        deadline: float = DEFAULT_DEADLINE_SECONDS,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.model = model
        self._endpoint = f"{url.rstrip('/')}/embeddings"
        self._api_key = api_key
        self._batch_size = batch_size
        self._deadline = deadline
        # httpx's timeout bounds each read; the deadline bounds the whole request (see _post).
        self._client = httpx.AsyncClient(timeout=min(timeout, deadline), transport=transport)
        self._dimension: int | None = None

    async def dimension(self) -> int:
        # An OpenAI-compatible endpoint does not say its vector size: one tiny request learns it.
        if self._dimension is None:
            await self.embed_query("dimension probe")
        assert self._dimension is not None
        return self._dimension

    async def embed_query(self, text: str) -> list[float]:
        return (await self._embed_batch([text]))[0]

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            vectors.extend(await self._embed_batch(texts[start : start + self._batch_size]))
        return vectors

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _embed_batch(self, texts: Sequence[str]) -> list[list[float]]:
        response = await self._post({"model": self.model, "input": list(texts)})
        vectors = self._parse(response, expected=len(texts))
        self._dimension = len(vectors[0])
        return vectors

    async def _post(self, body: dict[str, object]) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self._api_key.get_secret_value()}"} if self._api_key else {}
        deadline = time.monotonic() + self._deadline
        attempt = 0
        while True:
            final = attempt == MAX_ATTEMPTS - 1
            try:
                # A server that drips its answer a byte at a time never trips a per-read timeout.
                with anyio.fail_after(max(0.0, deadline - time.monotonic())):
                    response = await self._client.post(self._endpoint, json=body, headers=headers)
            except TimeoutError:
                raise self._too_slow() from None
            except httpx.HTTPError as exc:
                if final:
                    raise EmbeddingError(
                        f"embedding endpoint {self._endpoint} unreachable: {type(exc).__name__}"
                    ) from None
                wait = backoff_seconds(attempt)
            else:
                if response.status_code not in RETRYABLE_STATUSES or final:
                    if response.status_code >= 400:
                        raise EmbeddingError(
                            f"embedding endpoint {self._endpoint} answered {response.status_code}: "
                            f"{self._detail(response)}"
                        )
                    return response
                asked = retry_after_seconds(response)
                wait = backoff_seconds(attempt) if asked is None else min(asked, MAX_RETRY_WAIT_SECONDS)
            if time.monotonic() + wait >= deadline:
                raise self._too_slow()
            await anyio.sleep(wait)
            attempt += 1

    def _too_slow(self) -> EmbeddingError:
        return EmbeddingError(
            f"embedding endpoint {self._endpoint} was too slow: no complete answer within the "
            f"{self._deadline:g}s deadline (SOPHIA_EMBEDDING_DEADLINE). Try again shortly."
        )

    def _parse(self, response: httpx.Response, *, expected: int) -> list[list[float]]:
        try:
            items = sorted(response.json()["data"], key=lambda item: item["index"])
            vectors = [[float(x) for x in item["embedding"]] for item in items]
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbeddingError(
                f"embedding endpoint {self._endpoint} answered without OpenAI's `data[].embedding` list"
            ) from exc
        if len(vectors) != expected or not vectors[0]:
            raise EmbeddingError(
                f"embedding endpoint {self._endpoint} returned {len(vectors)} vectors for {expected} texts"
            )
        return vectors

    def _detail(self, response: httpx.Response) -> str:
        try:
            body = response.json()
            error = body.get("error", body) if isinstance(body, dict) else body
            detail = error.get("message", str(error)) if isinstance(error, dict) else str(error)
        except ValueError:
            detail = response.text
        if self._api_key:
            detail = detail.replace(self._api_key.get_secret_value(), "***")
        return detail[:ERROR_DETAIL_CHARS]
