"""Turning files into text sections that each know where they came from."""

from app.core.documents.model import Document, DocumentError, NeedsPassword, Section, Unsupported
from app.core.documents.parse import parse, stat_supported, supported_suffixes

__all__ = ["Document", "DocumentError", "NeedsPassword", "Section", "Unsupported", "parse", "stat_supported", "supported_suffixes"]
