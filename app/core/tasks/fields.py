"""Where a document states each value: candidate values for a schema field, each with the words
that label it, scored by how well that label means what the field asks for.

No list of known labels: a field's name and description are embedded and compared with each
candidate's label ("TOTAL (RM) :", "Invoice date", "Where:") with the bundled sentence embedder.
A value's label is the text before it on its line, or the line above when the value stands alone
(scanned receipts put "TOTAL:" and "7.30" on separate lines). Values are normalised by what the
field asks for: a number for a number, ISO dates when the schema says date or YYYY-MM-DD, else
the value as printed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from app.core.tasks import detectors
from app.core.tasks.common import grammar_safe

SUPPORT = 0.1  # a value the text gives in several places (a total, then the cash paid) is more likely the one
HEADER_LINES = 10  # where a document names who issued it and from where
_LEGAL = re.compile(r"\b(?:SDN\.?\s*BHD|BHD|S/B|LTD|LIMITED|INC|LLC|LLP|GMBH|AG|SARL|S\.?A\.?|PLC|CORP(?:ORATION)?|CO\.|"
                    r"COMPANY|ENTERPRISES?|TRADING|STORES?|RESTAURANT|CAFE|MART|HOLDINGS|GROUP)\b\.?", re.I)
_REGISTRATION = re.compile(r"\(?\b(?:[A-Z]{0,3}\d{5,}[-\s]?[A-Z]?|\d{3,}-[A-Z])\)?", re.I)  # (867388-U), 002065464-X
_ID_LINE = re.compile(r"^[\W_]*(?:[A-Z.#]{0,12}[\s.:#]*)?\(?[A-Z]{0,3}\d[\d\s-]{4,}[A-Z]?\)?[\W_]*$", re.I)
_NUMBER = re.compile(r"(?<![\d.,:/-])(?:RM|MYR|\$|€|£)?\s?(\d{1,3}(?:,\d{3})+\.\d{2}|\d+[.,]\d{2})(?![\d%])")
_POSTCODE = re.compile(r"\b\d{4,6}\b")
_CONTACT = re.compile(r"\b(?:tel|phone|fax|mobile|hp|e-?mail|website|www|http|gst|vat|tax|reg|company\s*no|co\.?\s*no|roc)\b", re.I)
_WORDS = re.compile(r"[^\W\d_]{2,}")


@dataclass
class Candidate:
    value: object  # normalised for the field
    start: int
    end: int
    text: str  # the raw text in the input
    label: str = ""  # the words that label it, '' when none
    score: float = 0.0
    support: int = 1  # how many places in the text give this value


@dataclass(frozen=True)
class Field:
    """One leaf of the schema: what kind of value it wants and how to write it."""

    name: str
    prop: dict
    kind: str  # email phone date time amount currency id org address person text ""
    iso: bool = False  # dates as YYYY-MM-DD rather than as printed
    number: bool = False  # a JSON number rather than a string
    query: str = ""  # what the embedder compares labels with
    nullable: bool = field(default=False)


@dataclass(frozen=True)
class Line:
    text: str
    start: int
    index: int

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def types(prop: dict) -> set[str]:
    t = prop.get("type", [])
    return {t} if isinstance(t, str) else set(t)


def _has(words: str, *keys: str) -> bool:
    return any(re.search(rf"\b{k}", words) for k in keys)


def profile(name: str, prop: dict) -> Field:
    """The kind of value a field wants, from its name, type, format and description."""
    n = name.lower().replace("_", " ")
    desc = str(prop.get("description") or prop.get("title") or "").lower()
    fmt, ts = prop.get("format"), types(prop)
    number = bool(ts & {"number", "integer"})
    if fmt == "email" or "email" in n:
        kind = "email"
    elif _has(n, "phone", "tel", "mobile", "fax"):
        kind = "phone"
    elif fmt in ("date", "date-time") or "date" in n or n in ("due", "deadline"):
        kind = "date"
    elif fmt == "time" or n.endswith("time"):
        kind = "time"
    elif "currency" in n:
        kind = "currency"
    elif number or _has(n, "total", "amount", "price", "cost", "sum", "balance", "fee", "paid"):
        kind = "amount"
    elif "invoice" in n or n in ("number", "reference", "ref") or n.endswith((" number", " no", " id")):
        kind = "id"
    elif "address" in n:
        kind = "address"
    elif _has(n, "company", "vendor", "merchant", "shop", "store", "business", "organi", "supplier", "seller", "issuer",
              "employer", "firm", "restaurant"):
        kind = "org"
    elif _has(n, "name", "owner", "attendee", "participant", "person", "assignee", "guest", "contact"):
        kind = "person"
    else:
        kind = "text" if "string" in ts else ""
    iso = fmt in ("date", "date-time") or _has(desc, "yyyy-mm-dd", "iso")
    query = f"{n}: {desc}" if desc else n
    return Field(name, prop, kind, iso=iso, number=number, query=query, nullable="null" in ts)


# -- the text's structure --------------------------------------------------------------------
def lines(text: str) -> list[Line]:
    out, pos = [], 0
    for raw in text.split("\n"):
        stripped = raw.strip()
        if stripped:
            out.append(Line(stripped, pos + raw.index(stripped), len(out)))
        pos += len(raw) + 1
    return out


def _label_text(raw: str) -> str:
    """The words of a label: 'TOTAL (RM) :' -> 'TOTAL (RM)'."""
    return " ".join(raw.strip(" \t:：-=*#|.").split())


def label_before(text: str, start: int, rows: list[Line]) -> str:
    """The words labelling the value at `start`: its line's text before it, or the line above."""
    for i, row in enumerate(rows):
        if row.start <= start <= row.end:
            before = _label_text(text[row.start:start])
            if _WORDS.search(before):
                return before[-60:]
            for prev in reversed(rows[max(0, i - 2):i]):  # skip a lone currency line ("RM")
                words = _label_text(prev.text)
                if _WORDS.search(words) and not _NUMBER.search(prev.text) and words.upper() not in ("RM", "MYR", "USD", "EUR"):
                    return words[-60:]
                if _NUMBER.search(prev.text):
                    break
            return ""
    return ""


def _is_stop(line: Line) -> bool:
    """A header line that is no part of a name or address: contact details, ids, dates, amounts."""
    t = line.text
    return bool(_CONTACT.search(t) or _ID_LINE.match(t) or detectors.dates(t) or detectors.short_dates(t) or detectors.times(t)
                or detectors.emails(t) or detectors.phones(t) or re.match(r"^[^\W\d][\w .#/-]{0,14}:", t)
                or _NUMBER.search(t) and not _POSTCODE.search(t))


def _strip_registration(value: str) -> str:
    return " ".join(_REGISTRATION.sub(" ", value).split()).strip(" ,-")


# -- candidates per kind ---------------------------------------------------------------------
def _typed(f: Field, text: str) -> list[Candidate]:
    out = []
    if f.kind == "date":
        for m in detectors.dates(text) + detectors.short_dates(text):
            raw = m.text
            out.append(Candidate(m.value if f.iso else raw, m.start, m.end, raw))
    elif f.kind == "amount":
        seen = set()
        for m in detectors.money(text):
            seen.add(m.start)
            value = m.value[0]
            number_text = re.search(r"\d[\d.,\s]*\d|\d", m.text).group()
            out.append(Candidate(value if f.number else number_text, m.start, m.end, m.text))
        for m in _NUMBER.finditer(text):
            if any(abs(m.start() - s) <= 4 for s in seen):
                continue
            value = detectors.amount(m.group(1))
            out.append(Candidate(value if f.number else m.group(1), m.start(1), m.end(1), m.group(1)))
        if "integer" in types(f.prop):
            out = [c for c in out if float(c.value).is_integer()]
            for c in out:
                c.value = int(c.value)
    elif f.kind == "currency":
        out = [Candidate(m.value[1], m.start, m.end, m.text) for m in detectors.money(text)]
    else:
        finder = {"email": detectors.emails, "phone": detectors.phones, "time": detectors.times, "id": detectors.invoice_numbers}.get(f.kind)
        out = [Candidate(m.value, m.start, m.end, m.text) for m in finder(text)] if finder else []
    return out


def _header(text: str, rows: list[Line]) -> tuple[list[Candidate], list[Candidate]]:
    """Names and addresses at the top of a document: single lines, and runs of lines, as printed."""
    names, addresses = [], []
    head = rows[:HEADER_LINES]
    for i, row in enumerate(head):
        if _is_stop(row) or not _WORDS.search(row.text):
            continue
        name = _strip_registration(row.text)
        if i + 1 < len(head) and _LEGAL.fullmatch(head[i + 1].text.strip(" .")):  # "PASARAYA BORONG PINTAR" / "SDN BHD"
            name = f"{name} {head[i + 1].text}"
        if name and len(name) <= 80:
            start = text.find(name, row.start)
            names.append(Candidate(name, start if start >= 0 else row.start, (start if start >= 0 else row.start) + len(name), name,
                                   score=1.0 - i / HEADER_LINES + 0.5 * bool(_LEGAL.search(name))))
        run = []
        for nxt in head[i:i + 6]:
            if _is_stop(nxt):
                break
            run.append(nxt)
            value = " ".join(r.text for r in run)
            # An address opens with a number (street, lot, unit), holds a postcode, and is not the issuer's name.
            opens = bool(re.match(r"^\W*(?:[^\W\d]{1,6}\.?\s*)?\d{1,4}(?!\d)", run[0].text))
            named = any(_LEGAL.search(r.text) for r in run)
            addresses.append(Candidate(value, run[0].start, run[-1].end, text[run[0].start:run[-1].end],
                                       score=0.4 * opens + 0.4 * bool(_POSTCODE.search(value)) + 0.15 * len(run) - 0.05 * i - 0.6 * named))
    return names, addresses


def _labelled_values(text: str) -> list[Candidate]:
    """Values after 'Label:' on a line, or on the next line when the label stands alone."""
    rows, out = lines(text), []
    for i, row in enumerate(rows):
        label, sep, value = row.text.partition(":")
        if not sep:
            label, sep, value = row.text.partition("：")
        label, value = _label_text(label), value.strip(" :")
        if not (sep and _WORDS.search(label) and len(label) <= 40):
            continue
        if not value and i + 1 < len(rows):
            nxt = rows[i + 1]
            value, start = nxt.text.lstrip(": ").strip(), nxt.start + (len(nxt.text) - len(nxt.text.lstrip(": ")))
        else:
            start = row.start + row.text.index(value) if value else row.start
        if value and len(value) <= 120:
            out.append(Candidate(value, start, start + len(value), value, label=label))
            for part in re.finditer(r"[^,;]+", value):  # list items inside the value
                item = part.group().strip()
                if item and item != value:
                    s = start + part.start() + part.group().index(item)
                    out.append(Candidate(item, s, s + len(item), item, label=label))
    return out


def candidates(f: Field, text: str, legacy: dict[str, dict]) -> list[Candidate]:
    """Every value the text offers for this field, labelled; `legacy` holds the older free-text
    candidates (capitalised names, clauses) for fields with no better source."""
    rows = lines(text)
    if f.kind not in ("email", "phone", "date", "time", "amount", "currency", "id"):
        names, addresses = _header(text, rows)  # text: only "Label:" labels it, never a neighbouring line
        found = _labelled_values(text) + (names if f.kind == "org" else addresses if f.kind == "address" else [])
        found += [Candidate(v, s["start"], s["end"], s["text"]) for v, s in legacy.get("person" if f.kind == "person" else "text", {}).items()]
        return [c for c in found if len(c.value) > 1 and grammar_safe(c.value)]
    found = _typed(f, text)
    for c in found:
        c.label = label_before(text, c.start, rows)
    return found


def score(f: Field, found: list[Candidate], embedder) -> list[Candidate]:
    """Merge candidates of the same value; score each by its best label's likeness to the field,
    plus its own prior (position in the header, detectors' hints) and how often it recurs."""
    if not found:
        return []
    labels = sorted({c.label for c in found if c.label})
    sims = {}
    if labels and embedder is not None:
        vectors = np.asarray(embedder.embed([f.query, f.name.replace("_", " ").lower(), *[lb.lower() for lb in labels]]))
        # The field's name alone, and with its description: "TAX TOTAL" is near "total amount", "TOTAL" nearer "total".
        sims = dict(zip(labels, (0.5 * vectors[2:] @ vectors[0] + 0.5 * vectors[2:] @ vectors[1]).tolist()))
    merged: dict[str, Candidate] = {}
    for c in found:
        c.score = c.score * 0.5 + sims.get(c.label, 0.0)
        key = str(c.value).casefold() if not isinstance(c.value, (int, float)) else repr(round(float(c.value), 2))
        best = merged.get(key)
        if best is None:
            merged[key] = c
        else:
            best.support += 1
            if c.score > best.score:
                c.support = best.support
                merged[key] = c
    out = list(merged.values())
    for c in out:
        c.score += SUPPORT * min(c.support - 1, 2)
    return sorted(out, key=lambda c: -c.score)
