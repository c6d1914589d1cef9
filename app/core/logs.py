"""Logging to a rotating file under the log folder; warnings also reach stderr."""

from __future__ import annotations

import logging
import logging.handlers
import os

from app.core import paths


def setup_logging() -> None:
    root = logging.getLogger()
    if any(getattr(h, "_hearth", False) for h in root.handlers):
        return
    handler = logging.handlers.RotatingFileHandler(paths.log_dir() / "hearth.log", maxBytes=2 << 20, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._hearth = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    # Library chatter (progress bars, per-object PDF warnings) is noise to a user.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for noisy in ("pypdf", "chromadb", "httpx", "sentence_transformers", "transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING if noisy != "pypdf" else logging.ERROR)
