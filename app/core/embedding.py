"""Sentence embeddings from the bundled all-MiniLM-L6-v2, loaded by path, offline."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from app.core.models import embedding_model_path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


class Embedder:
    def __init__(self, path: Path | None = None, threads: int | None = None) -> None:
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a load bar per start is noise in a desktop app

        if threads:
            torch.set_num_threads(threads)
        self.path = path or embedding_model_path()
        self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        self._lock = threading.Lock()  # one encode at a time: torch already uses every core

    @property
    def tokenizer(self):
        return self._model.tokenizer

    @property
    def dimension(self) -> int:
        return int(self._model.get_embedding_dimension())

    def embed(self, texts: list[str], batch_size: int = 32) -> list[list[float]]:
        if not texts:
            return []
        with self._lock:
            vectors = self._model.encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return vectors.tolist()
