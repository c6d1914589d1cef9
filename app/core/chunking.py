"""Token-aware chunks with overlap, measured with the embedder's own tokenizer so no chunk is
silently truncated by the embedder. Each chunk keeps its anchor and character offsets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from app.core.documents import Document, Section


class Tokenizer(Protocol):
    def __call__(self, text: str, **kwargs): ...


@dataclass(frozen=True)
class Chunk:
    text: str
    page: int | None
    line_start: int | None
    line_end: int | None
    char_start: int  # offsets into the section's text (the page, or the block of lines)
    char_end: int
    index: int = 0


def _lines(section: Section, start: int, end: int) -> tuple[int | None, int | None]:
    if section.line_start is None:
        return None, None
    first = section.line_start + section.text.count("\n", 0, start)
    return first, first + section.text.count("\n", start, end)


def chunk_section(section: Section, tokenizer: Tokenizer, max_tokens: int, overlap: int) -> list[Chunk]:
    offsets = tokenizer(section.text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    if not offsets:
        return []
    step = max(1, max_tokens - overlap)
    chunks = []
    for first in range(0, len(offsets), step):
        window = offsets[first : first + max_tokens]
        start, end = window[0][0], window[-1][1]
        text = section.text[start:end].strip()
        if text:
            line_start, line_end = _lines(section, start, end)
            chunks.append(Chunk(text, section.page, line_start, line_end, start, end))
        if first + max_tokens >= len(offsets):
            break
    return chunks


def chunk_document(doc: Document, tokenizer: Tokenizer, max_tokens: int = 200, overlap: int = 40) -> list[Chunk]:
    chunks = []
    for section in doc.sections:
        for chunk in chunk_section(section, tokenizer, max_tokens, overlap):
            chunks.append(Chunk(**{**chunk.__dict__, "index": len(chunks)}))
    return chunks
