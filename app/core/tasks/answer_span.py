"""The span of the retrieved passages that answers a question.

A passage is cut into candidate units of the shapes answers come in: a sentence, two adjacent
sentences together, a table row (with its header row, so "Default | 10" reads "Option: timeout;
Default: 10"), a list item or a definition term with its description (dt + dd), and a function
signature (with the line that describes it). Each unit is scored against the question by the
embedder (meaning) and by the words they share, with exact identifiers (os.sep, SIGTERM, E1234)
counted again, and by whether the unit holds the kind of thing the question asks for (a number
for "how many", a date for "when", a default for "what is the default"). A unit that only repeats
the question's words (a heading), or that is itself a question, adds nothing and is marked down; a
term with its description (a dt, a table row, a signature) whose term the question names is
marked up, and for "what is the default of X" a unit that writes `X=value` fits best.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from app.core.retrieval import terms
from app.core.store.keywords import STOP_WORDS
from app.core.store.vectors import Hit

_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_END = re.compile(r"[.!?:;]$")
_BULLET = re.compile(r"^(?:[-*•>]+|\d{1,2}[.)])\s+")
_SIGNATURE = re.compile(r"^(?:(?:async\s+)?def\s+|class\s+)?[A-Za-z_][\w.]*\s*\((?:[^()]|\([^()]*\))*\)\s*(?:->\s*[^:]+)?:?\s*(?:¶)?$")
_CELL = re.compile(r"\s+\|\s+(?![^{\[(]*[}\])])")  # not the | of a syntax choice: {degrees | radians}
_RECORD = re.compile(r"^[^;:|]{1,40}: [^;]*(?:; [^;:|]{1,40}: [^;]*)+$")  # a row already written with its header: "Name: x; Size: 3"
_IDENT = re.compile(r"[A-Za-z_][\w.]*[_.\d][\w.]*|[A-Z]{2,}\w*|\w*[a-z][A-Z]\w*|-{1,2}[a-z][\w-]+|-[A-Za-z]\b|%[a-zA-Z]"
                    r"|'[^'\s]{1,3}'")  # ... a one-letter option (-O) and a quoted code ('x', 'r')
_NUMBER = re.compile(r"\d")
_DATE = re.compile(r"\b(?:\d{4}|\d{1,2}(?:st|nd|rd|th)?|january|february|march|april|may|june|july|august|september|october|"
                    r"november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|century|year|month|week|"
                    r"day|morning|evening|night|before|after|until)\b", re.IGNORECASE)
_PROPER = re.compile(r"(?<=[\w,;] )[A-Z][a-z]+")  # a capitalised word inside a sentence: a name
_DEFAULT = re.compile(r"=\s*\S|\bdefaults?\b|\bby default\b", re.IGNORECASE)
MAX_WORDS = 80  # a unit longer than this is not a span any more; a pair over it is not made; a long dd is cut
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Unit:
    text: str
    kind: str  # sentence | pair | row | item | signature
    hit: Hit
    pieces: tuple[str, ...] = ()  # a pair's two sentences: its vector is their mean, not a second embedding


@dataclass(frozen=True)
class Span:
    unit: Unit
    similarity: float  # cosine of unit and question embeddings
    overlap: float  # share of the question's content words in the unit
    identifiers: float  # share of the question's exact identifiers in the unit (1 when it has none)
    fits_type: bool  # the unit holds what the question's wh-word asks for
    novel: bool  # the unit says something beyond the question's own words
    score: float

    @property
    def text(self) -> str:
        return self.unit.text

    @property
    def hit(self) -> Hit:
        return self.unit.hit


def _cells(line: str) -> list[str]:
    return [c.strip() for c in _CELL.split(line.strip(" |"))]


def _clip(text: str) -> str:
    """A term with a long description: the description's leading sentences up to MAX_WORDS."""
    if len(text.split()) <= MAX_WORDS:
        return text
    kept = ""
    for sentence in _SPLIT.split(text):
        if kept and len(f"{kept} {sentence}".split()) > MAX_WORDS:
            break
        kept = f"{kept} {sentence}".strip()
    return kept if len(kept.split()) <= MAX_WORDS else " ".join(kept.split()[:MAX_WORDS]) + " …"


def _row(line: str, header: list[str] | None) -> str:
    cells = _cells(line)
    if header and len(header) == len(cells) and cells != header:
        return _clip("; ".join(f"{h}: {c}" for h, c in zip(header, cells) if c))
    if len(cells) == 2:  # a term and its description (a dt with its dd)
        return _clip(f"{cells[0]}: {cells[1]}")
    return _clip("; ".join(c for c in cells if c))


def _is_header(cells: list[str]) -> bool:
    """A table's header row names its columns: every cell a short label."""
    return all(len(c.split()) <= 4 and not _END.search(c) for c in cells)


def _is_term(line: str, following: str) -> bool:
    """A short line without end punctuation, followed by text: a heading, a dt, a label."""
    return bool(line) and not _END.search(line) and len(line.split()) < 10 and bool(following) and not following.startswith("|")


def units(hit: Hit) -> list[Unit]:
    """The candidate answer units of one retrieved chunk, in reading order."""
    out: list[Unit] = []
    lines = [line.strip() for line in hit.text.splitlines()]
    header: list[str] | None = None
    paragraph: list[str] = []
    term = ""  # the heading/dt/signature the current paragraph describes

    def close_paragraph() -> None:
        nonlocal term
        if not paragraph:
            return
        said = [" ".join(p.split()) for p in _SPLIT.split(" ".join(paragraph))]
        said = [s for s in said if len(s.split()) >= 3]
        if term and said:  # the term with the first sentence about it: a dt with its dd
            out.append(Unit(f"{term}: {said[0]}" if not term.endswith(":") else f"{term} {said[0]}", "item", hit))
        out.extend(Unit(s, "sentence", hit) for s in said)
        out.extend(Unit(f"{a} {b}", "pair", hit, (a, b)) for a, b in zip(said, said[1:]) if len(f"{a} {b}".split()) <= MAX_WORDS)
        paragraph.clear()
        term = ""

    for i, line in enumerate(lines):
        following = next((n for n in lines[i + 1:] if n), "")
        if not line:
            close_paragraph()
            continue
        if "|" in line and len(_cells(line)) >= 2:  # a table row
            close_paragraph()
            cells = _cells(line)
            if (header is None or len(cells) != len(header)) and _is_header(cells) and ("|" in following or _RECORD.match(following)):
                header = cells  # the first row of a table, when it names the columns
                continue
            out.append(Unit(_row(line, header), "row", hit))
            continue
        header = None
        if _RECORD.match(line):
            close_paragraph()
            out.append(Unit(line, "row", hit))
            continue
        bare = _BULLET.sub("", line.lstrip("#").strip())
        if _SIGNATURE.match(bare.rstrip("¶ ")):
            close_paragraph()
            term = bare.rstrip("¶ ")
            out.append(Unit(term, "signature", hit))
            continue
        if _BULLET.match(line) and bare:
            close_paragraph()
            out.append(Unit(_clip(bare), "item", hit))
            continue
        if line.startswith("#") or _is_term(line, following) and (following[:1].isupper() or _BULLET.match(following)):
            close_paragraph()
            term = bare
            continue
        paragraph.append(line)  # lines of one block are one paragraph (PDF wraps, Markdown lines)
    close_paragraph()
    return [u for u in out if len(u.text.split()) <= MAX_WORDS or u.kind == "sentence"]


def wanted_type(question: str):
    """What the question asks for, as a test on a unit's text; None when its wh-word says nothing."""
    q = question.lower()
    if re.search(r"\bdefault\b", q):
        return _DEFAULT.search
    if re.search(r"\bhow (?:much|many|long|often|old|big|far|large|high|tall)\b|\bwhat (?:percentage|number|amount|size)\b", q):
        return _NUMBER.search
    if re.search(r"\bwhen\b|\bwhat (?:year|date|day|time|century)\b|\bwhich (?:year|day|month)\b", q):
        return _DATE.search
    if re.search(r"^\s*who\b|\bwho (?:is|was|were|did)\b|\bwhose\b", q):
        return _PROPER.search
    return None


def _term(unit: Unit) -> str:
    """What a term-with-description unit describes: a dt, a row's first cell, a signature's name."""
    if unit.kind == "signature":
        return unit.text.split("(", 1)[0]
    if unit.kind == "row" and _RECORD.match(unit.text):
        return unit.text.split("; ", 1)[0].split(": ", 1)[-1]
    if unit.kind in ("row", "item") and ": " in unit.text:
        return unit.text.split(": ", 1)[0]
    return ""


def _names_default(question: str):
    """For "what is the default X of f": a test that a unit writes `X=value` for a word the question names."""
    words = [w for w in _WORD.findall(question.lower()) if len(w) > 1 and w not in STOP_WORDS and w != "default"]
    if not words or not re.search(r"\bdefault\b", question, re.IGNORECASE):
        return None
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")\s*=\s*[^\s,)]")
    return lambda text: bool(pattern.search(text.lower()))


def identifiers(question: str) -> set[str]:
    """The question's exact identifiers, lower-cased but for quoted codes ('l' is not 'L')."""
    found = (m.group() for m in _IDENT.finditer(question))
    return {i if i.startswith("'") else i.lower().strip(".") for i in found} - {""}


def holds(text: str, identifier: str) -> bool:
    """Whether `text` holds an identifier of identifiers(): case-blind but for quoted codes."""
    return identifier in (text if identifier.startswith("'") else text.lower())


SIM, OVERLAP, IDENT, TYPE, CHUNK, STALE = 1.0, 0.35, 0.25, 0.12, 0.2, 0.25
NAMED, PARAMETER, ASKS = 0.15, 0.25, 0.2  # the unit describes what the question names; writes its default; is a question
KIND_PRIOR = {"sentence": 0.0, "pair": -0.04, "row": 0.02, "item": 0.02, "signature": 0.0}


def rank(services, question: str, hits: list[Hit], keep: int = 5, skip=lambda text: False) -> list[Span]:
    """Every unit of the hits scored for the question, best first; `skip` drops units (injections)."""
    seen: set[str] = set()
    candidates: list[Unit] = []
    for hit in hits:  # best chunk first, so a unit the chunk overlap repeats keeps its best chunk
        for unit in units(hit):
            if unit.text not in seen and not skip(unit.text):
                seen.add(unit.text)
                candidates.append(unit)
    if not candidates:
        return []
    # Mean pooling makes the mean of two sentences' vectors close to the vector of both together.
    texts = list(dict.fromkeys([question] + [p for u in candidates for p in (u.pieces or (u.text,))]))
    vectors = dict(zip(texts, np.asarray(services.embedder.embed(texts))))
    similarity = []
    for u in candidates:
        v = np.mean([vectors[p] for p in (u.pieces or (u.text,))], axis=0)
        similarity.append(float(v @ vectors[question]) / max(1e-9, float(np.linalg.norm(v))))
    asked, idents, fits, default = terms(question), identifiers(question), wanted_type(question), _names_default(question)
    spans = []
    for unit, sim in zip(candidates, similarity):
        have = terms(unit.text)
        overlap = len(asked & have) / len(asked) if asked else 0.0
        ident = sum(holds(unit.text, i) for i in idents) / len(idents) if idents else 1.0
        fits_type = bool(fits and fits(unit.text))
        novel = bool(have - asked)
        term = _term(unit)
        named = terms(term)
        describes = bool(named) and len(named & asked) >= 0.5 * len(named) or term.strip() in idents
        score = (SIM * float(sim) + OVERLAP * overlap + IDENT * (ident if idents else 0.0) + TYPE * fits_type
                 + CHUNK * unit.hit.score - STALE * (not novel) + KIND_PRIOR[unit.kind] + NAMED * describes
                 + PARAMETER * bool(default and default(unit.text)) - ASKS * unit.text.endswith("?"))
        spans.append(Span(unit, float(sim), overlap, ident, fits_type, novel, score))
    spans.sort(key=lambda s: s.score, reverse=True)
    return spans[:keep]
