"""The model catalog: what Hearth knows, where each file is, and whether it checks out."""

from app.core.models.registry import (
    ModelEntry,
    ModelError,
    ModelStatus,
    all_models,
    chat_model_path,
    check,
    embedding_model_path,
    fetch,
    find,
    import_gguf,
    statuses,
)

__all__ = [
    "ModelEntry",
    "ModelError",
    "ModelStatus",
    "all_models",
    "chat_model_path",
    "check",
    "embedding_model_path",
    "fetch",
    "find",
    "import_gguf",
    "statuses",
]
