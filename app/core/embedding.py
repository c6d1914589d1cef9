"""Sentence embeddings from the bundled all-MiniLM-L6-v2, loaded by path, offline.

Two backends give the same vectors (cosine > 0.99): ONNX Runtime with int8 weights, about 3x
faster on a CPU (see embedding_onnx), and sentence-transformers on torch, the source of truth.
"auto" takes ONNX and falls back to torch, with a warning, when ONNX cannot be set up.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from app.core.models import embedding_model_path

if TYPE_CHECKING:
    from app.core.embedding_onnx import OnnxEncoder

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

log = logging.getLogger(__name__)

Backend = Literal["auto", "onnx", "torch"]


class TorchEncoder:
    def __init__(self, path: Path, threads: int | None = None) -> None:
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a load bar per start is noise in a desktop app

        if threads:
            torch.set_num_threads(threads)
        self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        self.tokenizer = self._model.tokenizer
        self.dimension = int(self._model.get_embedding_dimension())

    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        return self._model.encode(texts, batch_size=batch_size or 32, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)


class Embedder:
    def __init__(self, path: Path | None = None, threads: int | None = None, backend: Backend = "auto") -> None:
        self.path = path or embedding_model_path()
        self._encoder: TorchEncoder | OnnxEncoder | None = None
        if backend in ("auto", "onnx"):
            try:
                from app.core.embedding_onnx import OnnxEncoder

                self._encoder, self.backend = OnnxEncoder(self.path, threads), "onnx"
            except Exception as exc:  # noqa: BLE001 - any failure here leaves the torch path, which works
                if backend == "onnx":
                    raise
                log.warning("fast ONNX embedder unavailable (%s: %s); using torch, about 3x slower", type(exc).__name__, exc)
        if self._encoder is None:
            self._encoder, self.backend = TorchEncoder(self.path, threads), "torch"
        self._lock = threading.Lock()  # one encode at a time: each backend already uses every core

    @property
    def tokenizer(self):
        return self._encoder.tokenizer

    @property
    def dimension(self) -> int:
        return self._encoder.dimension

    def embed(self, texts: list[str], batch_size: int | None = None) -> list[list[float]]:
        """L2-normalized vectors; batch_size None means the backend's best."""
        if not texts:
            return []
        with self._lock:
            vectors = self._encoder.encode(texts, batch_size=batch_size)
        return vectors.tolist()
