"""An int8 copy of a local fp32 ONNX model, made once with ONNX Runtime's dynamic quantisation.

A new index gets it by default (SOPHIA_EMBEDDING_QUANTIZE=auto; `int8` asks for it always); the
`onnx` package that `quantize_dynamic` needs is a core dependency. The copy sits in a cache folder, never beside the source model (which may
be read-only), under a name keyed by the source `model.onnx`'s SHA-256 and the recipe: a changed
source or recipe makes a new copy, and a half-written copy is never used (it is moved into place
whole). Measured on all-MiniLM-L6-v2 (benchmarks/SEARCH.md): about twice the chunks per second of
the fp32 model, cosine 0.99 to its vectors, recall@5 within 0.02 on the quality set.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

from sophia_mcp.search.embeddings.base import EmbeddingError

MODEL_FILE = "model.onnx"
# Per-channel int8 weights of the MatMuls only (the embedding table stays fp32): cosine 0.991 to
# the fp32 vectors on call chunks, where per-tensor weights gave 0.944. Change it, change the tag.
RECIPE = "int8-matmul-perchannel-v1"
# What fastembed reads beside the model (vocab.txt is not read).
TOKENIZER_FILES = ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json")

logger = logging.getLogger(__name__)


def default_cache_dir() -> Path:
    """Where the copy goes when SOPHIA_EMBEDDING_CACHE_DIR is unset: the user's cache folder."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "sophia-mcp" / "models"


def source_digest(source_dir: Path) -> str:
    digest = hashlib.sha256()
    with (source_dir / MODEL_FILE).open("rb") as model:
        for block in iter(lambda: model.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def int8_copy(source_dir: Path, cache_dir: Path) -> Path:
    """The folder (fastembed's layout) of the int8 copy of `source_dir`'s model, made if missing."""
    if not (source_dir / MODEL_FILE).is_file():
        raise EmbeddingError(
            f"SOPHIA_EMBEDDING_QUANTIZE=int8 quantises a local {MODEL_FILE}, and {source_dir} has none; "
            "point SOPHIA_EMBEDDING_MODEL_PATH at the fp32 model folder, or set SOPHIA_EMBEDDING_QUANTIZE=none"
        )
    target = cache_dir / f"{source_dir.name}-{RECIPE}-{source_digest(source_dir)[:16]}"
    if (target / MODEL_FILE).is_file():
        return target
    try:
        from onnxruntime.quantization import QuantType, quantize_dynamic
        import onnx  # noqa: F401  quantize_dynamic needs it; imported here to name it in the error
    except ImportError:
        raise EmbeddingError(
            "SOPHIA_EMBEDDING_QUANTIZE=int8 makes its model copy with the `onnx` package, which is not "
            "installed: reinstall sophia-mcp (onnx is one of its dependencies), or set SOPHIA_EMBEDDING_QUANTIZE=none"
        ) from None
    logger.info("Making an int8 copy of %s in %s, once (a few seconds).", source_dir, target)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=cache_dir))
    except OSError as exc:
        raise EmbeddingError(
            f"cannot write the int8 model copy into {cache_dir} ({exc.strerror}); set SOPHIA_EMBEDDING_CACHE_DIR "
            "to a writable folder"
        ) from None
    try:
        for name in TOKENIZER_FILES:
            if (source_dir / name).is_file():
                shutil.copyfile(source_dir / name, work / name)
        root = logging.getLogger()
        root.addFilter(_no_preprocessing_advice)
        try:
            quantize_dynamic(
                source_dir / MODEL_FILE,
                work / MODEL_FILE,
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul"],
            )
        finally:
            root.removeFilter(_no_preprocessing_advice)
        try:
            work.rename(target)
        except OSError:
            if not (target / MODEL_FILE).is_file():  # not another process finishing first
                raise
    except Exception as exc:
        raise EmbeddingError(f"could not make the int8 copy of {source_dir / MODEL_FILE}: {exc}") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


def _no_preprocessing_advice(record: logging.LogRecord) -> bool:
    """quantize_dynamic advises shape pre-processing (for static quantisation) on the root logger."""
    return "pre-processing before quantization" not in record.getMessage()
