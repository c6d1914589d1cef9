"""Token-aware chunks with overlap, measured with the embedder's own tokenizer so no chunk is
silently truncated by the embedder. Each chunk keeps its anchor and character offsets."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
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


def _line_starts(text: str, offsets: list[tuple[int, int]]) -> list[int]:
    """Indexes of the tokens that begin a line (the first token, and any after a line break)."""
    return [i for i in range(len(offsets)) if i == 0 or "\n" in text[offsets[i - 1][1] : offsets[i][0]]]


def chunk_section(section: Section, tokenizer: Tokenizer, max_tokens: int, overlap: int) -> list[Chunk]:
    """Windows of at most `max_tokens` tokens that overlap by about `overlap`. A window ends at a line
    break when one falls in its second half, and the next starts at a line when one falls in the
    overlap, so a table row, a list item or a line of code is not cut where that can be helped."""
    offsets = tokenizer(section.text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    if not offsets:
        return []
    starts = _line_starts(section.text, offsets)
    chunks, first = [], 0
    while True:
        last = min(first + max_tokens, len(offsets))  # exclusive
        if last < len(offsets):
            at = bisect_right(starts, last) - 1  # the last line start at or before `last`
            if starts[at] > first + max_tokens // 2:
                last = starts[at]
        start, end = offsets[first][0], offsets[last - 1][1]
        text = section.text[start:end].strip()
        if text:
            line_start, line_end = _lines(section, start, end)
            chunks.append(Chunk(text, section.page, line_start, line_end, start, end))
        if last >= len(offsets):
            return chunks
        following = max(first + 1, last - overlap)
        at = bisect_left(starts, following)  # the first line start in the overlap, if any
        first = starts[at] if at < len(starts) and starts[at] < last else following


def chunk_document(doc: Document, tokenizer: Tokenizer, max_tokens: int = 200, overlap: int = 40) -> list[Chunk]:
    chunks = []
    for section in doc.sections:
        for chunk in chunk_section(section, tokenizer, max_tokens, overlap):
            chunks.append(Chunk(**{**chunk.__dict__, "index": len(chunks)}))
    return chunks
