"""Local ONNX embeddings through fastembed, loaded on first use and run off the event loop."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import anyio
import anyio.to_thread

from sophia_mcp.search.embeddings.base import EmbeddingError

if TYPE_CHECKING:
    from fastembed import TextEmbedding

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
# Measured on 2 cores with 400-character chunks: 16 is as fast as 32 or more, and smaller
# batches waste less work padding texts to the longest one in the batch.
DEFAULT_BATCH_SIZE = 16
_SESSION_OPTIONS_PATCH = threading.Lock()
logger = logging.getLogger(__name__)


class FastEmbedProvider:
    """fastembed's `TextEmbedding`. With `model_path` (a folder in fastembed's layout) nothing is
    downloaded; without it fastembed fetches `model` into its cache the first time.

    `quantize="int8"` runs an int8 copy of the model made locally (`quantized.py`): about twice the
    indexing throughput, with other vectors, so `model` (what an index records) says so.
    `quantize="auto"` (SOPHIA_EMBEDDING_QUANTIZE's default) follows the index (`follow_index`): an
    existing one is searched and extended with the variant it records (none recorded: fp32), a new
    one gets int8 for the default model (the one whose quality was measured), fp32 for any other,
    or when the int8 copy cannot be made (one log line, not an error)."""

    name = "fastembed"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        model_path: Path | str | None = None,
        cache_dir: Path | str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        quantize: Literal["auto", "none", "int8"] = "none",
    ) -> None:
        self._model_name = model
        self._setting = quantize
        self._int8_failed: str | None = None  # why auto could not make the int8 copy, once tried
        self.model = model
        self.variant_reason = f"SOPHIA_EMBEDDING_QUANTIZE={quantize}" if quantize != "auto" else "new index"
        self._quantize: Literal["none", "int8"] = "none"
        self._use(quantize if quantize != "auto" else self._new_index_variant())
        self._model_path = Path(model_path) if model_path is not None else None
        # Where a downloaded model is kept (SOPHIA_EMBEDDING_CACHE_DIR; the demo: inside its data folder).
        self._cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._batch_size = batch_size
        self._embedder: TextEmbedding | None = None
        self._embedder_variant = self._quantize
        self._loading = anyio.Lock()

    @property
    def variant(self) -> str:
        """Which vectors this provider makes, and why: e.g. "int8 copy (follows the index)"."""
        return f"{'fp32' if self._quantize == 'none' else 'int8 copy'} ({self.variant_reason})"

    def follow_index(self, recorded_model: str | None, *, exists: bool) -> None:
        """With quantize="auto", take the variant of the index about to be searched or extended
        (`recorded_model`: what its index state records, None when it has none). Called before the
        model is needed; a model already loaded as the other variant is loaded again on next use."""
        if self._setting != "auto":
            return
        if not exists:
            self.variant_reason = "new index" + ("; the int8 copy could not be made" if self._int8_failed else "")
            self._use(self._new_index_variant())
        elif recorded_model is None:
            self.variant_reason = "follows the index: no record of ours"
            self._use("none")
        else:
            self.variant_reason = "follows the index"
            self._use("int8" if recorded_model.endswith(" (int8)") else "none")

    def _new_index_variant(self) -> Literal["none", "int8"]:
        if self._model_name != DEFAULT_MODEL:
            return "none"
        return "none" if self._int8_failed else "int8"

    def _use(self, variant: Literal["none", "int8"]) -> None:
        self._quantize = variant
        # An index built with int8 vectors records this name, so the fp32 model is refused on it.
        self.model = self._model_name if variant == "none" else f"{self._model_name} ({variant})"

    async def dimension(self) -> int:
        return (await self._loaded()).embedding_size

    async def embed_query(self, text: str) -> list[float]:
        embedder = await self._loaded()
        vectors = await anyio.to_thread.run_sync(lambda: [v.tolist() for v in embedder.query_embed(text)])
        return vectors[0]

    async def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        embedder = await self._loaded()
        # Embedded shortest first, so each batch holds texts of similar length: a batch is padded to
        # its longest text, and a 40-character key point next to a 400-character exchange would
        # cost as much as two exchanges. About a quarter faster on call chunks.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        by_length = await anyio.to_thread.run_sync(
            lambda: [v.tolist() for v in embedder.passage_embed([texts[i] for i in order], batch_size=self._batch_size)]
        )
        vectors: list[list[float]] = [[] for _ in texts]
        for position, index in enumerate(order):
            vectors[index] = by_length[position]
        return vectors

    async def aclose(self) -> None:
        """Nothing to release: the ONNX session goes with the object."""

    async def _loaded(self) -> TextEmbedding:
        # The lock makes concurrent first calls share one load instead of each building a session.
        async with self._loading:
            while self._embedder is None or self._embedder_variant != self._quantize:
                self._embedder = None  # the other variant's session goes before this one loads
                self._embedder, self._embedder_variant = await anyio.to_thread.run_sync(self._load)
        return self._embedder

    def _load(self) -> tuple[TextEmbedding, Literal["none", "int8"]]:
        # Imported here: fastembed pulls in onnxruntime, which would slow every process start.
        from fastembed import TextEmbedding

        where = f" from {self._model_path}" if self._model_path else ""
        if self._model_path is not None and not self._model_path.is_dir():
            raise EmbeddingError(
                f"SOPHIA_EMBEDDING_MODEL_PATH {self._model_path} is not a folder; point it at a model "
                "folder in fastembed's layout (model.onnx, tokenizer.json, config.json ...)"
            )
        options: dict[str, str] = {"specific_model_path": str(self._model_path)} if self._model_path else {}
        if self._cache_dir is not None:
            options["cache_dir"] = str(self._cache_dir)
        if self._model_path is None:
            _say_if_downloading(self._model_name, self._cache_dir)
        try:
            if self._quantize == "int8":
                try:
                    options["specific_model_path"] = str(self._int8_folder(options))
                except EmbeddingError as exc:
                    if self._setting != "auto" or not self.variant_reason.startswith("new index"):
                        raise  # asked for, or the index being followed holds int8 vectors
                    # auto only asks for int8 for a new index: it is built fp32 instead, and says so.
                    self._int8_failed = str(exc)
                    self.variant_reason = "new index; the int8 copy could not be made"
                    self._use("none")
                    logger.warning("A new search index is built with the fp32 model: %s", exc)
            variant = self._quantize
            with _onnx_threads_that_sleep():
                return TextEmbedding(model_name=self._model_name, **options), variant
        except EmbeddingError:
            raise
        except Exception as exc:  # fastembed raises bare ValueError/OSError/onnxruntime errors
            hint = (
                "" if self._model_path else
                "; without internet access, set SOPHIA_EMBEDDING_MODEL_PATH to a local copy of the model in "
                "fastembed's layout (model.onnx, tokenizer.json, config.json ...)"
            )
            raise EmbeddingError(f"could not load the fastembed model {self.model}{where}: {exc}{hint}") from exc

    def _int8_folder(self, options: dict[str, str]) -> Path:
        from fastembed import TextEmbedding

        from sophia_mcp.search.embeddings.quantized import default_cache_dir, int8_copy

        source = self._model_path
        if source is None:  # the fp32 model fastembed downloads (or finds) in its cache
            source = Path(TextEmbedding(model_name=self._model_name, lazy_load=True, **options).model._model_dir)
        cache = self._cache_dir / "int8" if self._cache_dir is not None else default_cache_dir()
        return int8_copy(source, cache)


@contextmanager
def _onnx_threads_that_sleep() -> Iterator[None]:
    """ONNX Runtime's worker threads spin on the CPU for a while after each run by default. Between
    a question's embedding and its Qdrant query, on 2 shared cores, that spinning took the cores the
    query needed (a 100,000-chunk query went from ~2 ms to 10-25 ms in the server), and under load it
    slowed embedding itself (one question 43 ms spinning, 17 ms not; batches of 16 about as fast or
    faster). fastembed builds the session and does not expose the option, so the SessionOptions it
    makes while loading get `session.intra_op.allow_spinning = 0` (one load at a time in a process)."""
    import onnxruntime

    with _SESSION_OPTIONS_PATCH:
        made = onnxruntime.SessionOptions

        def sleeping_options() -> Any:
            options = made()
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            return options

        onnxruntime.SessionOptions = sleeping_options  # type: ignore[misc]
        try:
            yield
        finally:
            onnxruntime.SessionOptions = made  # type: ignore[misc]


def _say_if_downloading(model: str, cache_dir: Path | None) -> None:
    """A first download is announced (what, how big, where) on stderr, through the log."""
    import logging
    import os
    import tempfile

    from fastembed import TextEmbedding

    description = next((m for m in TextEmbedding.list_supported_models() if m["model"] == model), None)
    if description is None:
        return
    folder = cache_dir or Path(os.environ.get("FASTEMBED_CACHE_PATH") or Path(tempfile.gettempdir()) / "fastembed_cache")
    source = str(description.get("sources", {}).get("hf") or model).replace("/", "--")
    if folder.is_dir() and any(source in entry.name for entry in folder.iterdir()):
        return
    size = f"{description['size_in_GB'] * 1000:.0f} MB" if description.get("size_in_GB") else "size unknown"
    logging.getLogger(__name__).warning(
        "Downloading the embedding model %s (%s) into %s, once; set SOPHIA_EMBEDDING_MODEL_PATH to use a "
        "local copy instead.", model, size, folder,
    )
