"""Where a citation's quote sits on a PDF page, and the page as pixels, for the source viewer.

pypdfium2 (PDFium) gives each character's box, so a quote found in the page's text becomes the
rectangles to highlight. The quote comes from pypdf's extraction at ingest, which spaces words
differently from PDFium, so both sides are compared without whitespace, case or typographic
quote marks. When the whole quote is not on the page, its longest matching stretch is
highlighted instead and the result says so (`exact` is False).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

import pypdfium2 as pdfium

from app.core.errors import HearthError

_PDFIUM = threading.Lock()  # PDFium is not thread-safe: one call at a time, whichever thread
_FOLD = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2010": "-", "\u2011": "-",
                       "\u2013": "-", "\u2014": "-", "\u00ad": None, "\u2026": None, "\ufb01": "fi", "\ufb02": "fl"})
MIN_PARTIAL = 12  # characters a partial match needs before it is worth highlighting

Rect = tuple[float, float, float, float]  # left, bottom, right, top in PDF points (origin bottom left)


class PdfViewError(HearthError):
    pass


@dataclass(frozen=True)
class Located:
    page: int  # 1-based: the cited page, or the page where the quote was found instead
    pages: int
    size: tuple[float, float]  # page width, height in points
    rects: list[Rect] = field(default_factory=list)
    exact: bool = False  # the whole quote was found


@dataclass(frozen=True)
class Rendered:
    rgbx: bytes  # 4 bytes a pixel, rows of `stride` bytes
    width: int
    height: int
    stride: int
    scale: float  # pixels per point


def _fold(text: str) -> tuple[str, list[int]]:
    """The text without whitespace, lower-cased and with quote marks folded; and for each folded
    character the index of the character it came from."""
    out, where = [], []
    for i, ch in enumerate(text):
        if ch.isspace():
            continue
        for c in ch.translate(_FOLD).lower():
            out.append(c)
            where.append(i)
    return "".join(out), where


def _page_text(textpage) -> str:
    text = textpage.get_text_range()
    if len(text) == textpage.count_chars():
        return text
    # Rare: PDFium inserted or dropped characters, so text and char indices disagree; go one by one.
    return "".join(textpage.get_text_range(i, 1) or " " for i in range(textpage.count_chars()))


def _span(textpage, quote: str) -> tuple[int, int, bool] | None:
    """(first char, end char, exact) of the quote on this page, or None."""
    page, where = _fold(_page_text(textpage))
    wanted, _ = _fold(quote.strip().strip('"\u201c\u201d'))
    if not wanted or not page:
        return None
    at = page.find(wanted)
    if at >= 0:
        return where[at], where[at + len(wanted) - 1] + 1, True
    match = SequenceMatcher(None, page, wanted, autojunk=False).find_longest_match(0, len(page), 0, len(wanted))
    if match.size >= min(MIN_PARTIAL, len(wanted)):
        return where[match.a], where[match.a + match.size - 1] + 1, False
    return None


def _open(path: Path) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(str(path))
    except FileNotFoundError as exc:
        raise PdfViewError(f"{path.name}: file not found (moved or deleted)") from exc
    except pdfium.PdfiumError as exc:
        raise PdfViewError(f"{path.name}: cannot open the PDF ({exc})") from exc


def locate(path: Path, page: int, quote: str) -> Located:
    """The quote's rectangles on the cited page (1-based); if it is not there, on the first page
    that has it; if on none, the cited page with no rectangles."""
    with _PDFIUM:
        doc = _open(Path(path))
        try:
            pages = len(doc)
            page = min(max(1, page or 1), pages)
            order = [page] + [p for p in range(1, pages + 1) if p != page]
            for number in order:
                pdf_page = doc[number - 1]
                textpage = pdf_page.get_textpage()
                span = _span(textpage, quote) if quote else None
                if span is not None:
                    first, end, exact = span
                    rects = [textpage.get_rect(i) for i in range(textpage.count_rects(first, end - first))]
                    return Located(number, pages, tuple(pdf_page.get_size()), rects, exact)
            return Located(page, pages, tuple(doc[page - 1].get_size()))
        finally:
            doc.close()


def render(path: Path, page: int, scale: float) -> Rendered:
    """One page (1-based) as RGBX pixels at `scale` pixels per point."""
    with _PDFIUM:
        doc = _open(Path(path))
        try:
            if not 1 <= page <= len(doc):
                raise PdfViewError(f"{Path(path).name} has no page {page} (it has {len(doc)})")
            bitmap = doc[page - 1].render(scale=scale, prefer_bgrx=True, rev_byteorder=True)
            return Rendered(bytes(bitmap.buffer), bitmap.width, bitmap.height, bitmap.stride, scale)
        finally:
            doc.close()


def text_in(path: Path, page: int, rects: list[Rect]) -> str:
    """The text PDFium finds inside the rectangles: what a highlight actually covers."""
    with _PDFIUM:
        doc = _open(Path(path))
        try:
            textpage = doc[page - 1].get_textpage()
            return " ".join(textpage.get_text_bounded(left, bottom, right, top) for left, bottom, right, top in rects)
        finally:
            doc.close()
