"""The local API: OpenAI-compatible routes over Hearth's router, retrieval and embedder, served
on loopback by `hearth serve` for the user's own tools. Another front end, as thin as the CLI."""

from app.core.api.server import DEFAULT_PORT, ApiServer, check_bind

__all__ = ["DEFAULT_PORT", "ApiServer", "check_bind"]
