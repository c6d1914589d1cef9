"""Where a document states each value: candidate values for a schema field, each with the words
that label it, scored by how well that label means what the field asks for.

No list of known labels: a field's name and description are embedded and compared with each
candidate's label ("TOTAL (RM) :", "Invoice date", "Where:") with the bundled sentence embedder.
A value's label is the text before it on its line, or the line above when the value stands alone
(scanned receipts put "TOTAL:" and "7.30" on separate lines). A name and an address need no
label: they are the header's first lines that are neither greeting, title, contact nor id, and the
run of lines from the first one that opens an address down to the next contact or id line. A total
is also the amount the others add up to. Values are normalised by what the field asks for: a number
for a number, ISO dates when the schema says date or YYYY-MM-DD, else the value as printed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from app.core.tasks import detectors
from app.core.tasks.common import grammar_safe

# A total's own evidence beside its label (each measured on the receipts' dev part only): the amounts
# around it add up to it (0.4 to 0.8 gave the same), it is not a part of a later sum (the subtotal, the
# total before rounding), and it comes after what it sums up (neutral on the receipts, right on invoices).
SUMS = 0.5
PARTS = 0.3
LATE = 0.1
SUPPORT = 0.1  # a value the text gives in several places (a total, then the cash paid) is more likely the one
HEADER_LINES = 10  # where a document names who issued it and from where
HEADER_KINDS = ("org", "address")  # fields the document's header states without a label
LABEL_MEANS = 0.5  # the embedder's likeness above which a label names the field ("ADDRESS" 0.77, "CASHIER" 0.30)
_LEGAL = re.compile(r"\b(?:SDN\.?\s*BHD|BHD|S/B|LTD|LIMITED|INC|LLC|LLP|GMBH|AG|SARL|S\.?A\.?|PLC|CORP(?:ORATION)?|CO\.|"
                    r"COMPANY|ENTERPRISES?|TRADING|STORES?|RESTAURANT|CAFE|MART|HOLDINGS|GROUP)\b\.?", re.I)
_REGISTRATION = re.compile(r"\(?\b(?:[A-Z]{0,3}\d{5,}[-\s]?[A-Z]?|\d{3,}-[A-Z])\)?", re.I)  # (867388-U), 002065464-X
_ID_LINE = re.compile(r"^[\W_]*(?:[A-Z.#]{0,12}[.:#]\s*|[A-Z]{0,4}\s+)?\(?[A-Z]{0,3}\d[\d\s-]{4,}[A-Z]?\)?[\W_]*$", re.I)
# An amount with two decimals, not part of a date (07.04.2025) or a longer number; a minus before or
# after it ("-0.02", "0.02-") is a deduction.
_NUMBER = re.compile(r"(?<![\d.,:/-])(?P<neg>-(?=\s?\d))?(?:RM|MYR|\$|€|£)?\s?(?P<n>\d{1,3}(?:,\d{3})+\.\d{2}|\d+[.,]\d{2})"
                     r"(?![\d%]|[.,/-]\d)(?P<trail>-(?!\d))?")
POSTCODE = re.compile(r"\b\d{4,6}\b")  # a postcode-like number: where an address ends, usually
_CONTACT = re.compile(r"\b(?:tel|phone|fax|mobile|hp|e-?mail|website|www|http|gst|vat|tax|reg|company\s*no|co\.?\s*no|roc)\b", re.I)
# A mail's greetings, closings and boilerplate lines ("Hi Sam,", "---- Forwarded message ----").
_GREETING = re.compile(r"^\W*(?:hi|hello|hey|dear|thanks|thank\s+you|regards|kind\s+regards|best|cheers|"
                       r"good\s+(?:morning|afternoon|evening)|(?:forwarded|original)\s+message|sent\s+from)\b", re.I)
_TITLE = re.compile(r"^\W*(?:tax\s+|sales\s+|proforma\s+|credit\s+|debit\s+)?(?:invoice|receipt|bill|statement|quotation|quote|order|"
                    r"rechnung|facture|factura)\b(?!\s+(?:to|from)\b)", re.I)  # a document's title line, not who issued it
_CURRENCY_MARK = re.compile(r"\(?\b(?:RM|MYR|USD|EUR|GBP|SGD)\b\)?|[()$€£]")
_NAMING = re.compile(r"[^\W\d_]{3,}")  # a word a name or an address has
_WORDS = re.compile(r"[^\W\d_]{2,}")
# A scan's space before a comma or stop ("BATU 30 , JALAN"): the address as printed has none.
_SPACE_BEFORE_MARK = re.compile(r"\s+([,.])(?=\s|$)")


@dataclass
class Candidate:
    value: object  # normalised for the field
    start: int
    end: int
    text: str  # the raw text in the input
    label: str = ""  # the words that label it, '' when none
    score: float = 0.0
    support: int = 1  # how many places in the text give this value
    signed: float | None = None  # an amount's value with its sign, for the sums around it
    is_part: bool = False  # an amount that is a part of a sum of the others (a subtotal, a total before rounding)


@dataclass(frozen=True)
class Field:
    """One leaf of the schema: what kind of value it wants and how to write it."""

    name: str
    prop: dict
    kind: str  # email phone date time amount currency id org address person text ""
    iso: bool = False  # dates as YYYY-MM-DD rather than as printed
    number: bool = False  # a JSON number rather than a string
    query: str = ""  # what the embedder compares labels with
    total: bool = False  # an amount that sums up the document (a total, the amount paid or due)
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
    total = kind == "amount" and _has(f"{n} {desc}", "total", "paid", "due", "payable", "charged", "balance", "final amount")
    return Field(name, prop, kind, iso=iso, number=number, query=query, total=total, nullable="null" in ts)


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
    """A header line that is no part of a name or address: contact details, ids, dates, amounts,
    the value of a label on the line above (": CR 1803/1905")."""
    t = line.text
    return bool(t.startswith(":") or _CONTACT.search(t) or _ID_LINE.match(t) or detectors.receipt_dates(t)
                or detectors.times(t) or detectors.emails(t) or detectors.phones(t) or re.match(r"^[^\W\d][\w .#/-]{0,14}:", t)
                or _NUMBER.search(t) and not POSTCODE.search(t))


def _before_registration(value: str) -> str:
    """A name without its registration number and what follows it: "KING'S CONFECTIONERY S/B 273500-U (GKJ)"."""
    m = _REGISTRATION.search(value)
    return " ".join((value[:m.start()] if m and m.start() > 0 else _REGISTRATION.sub(" ", value)).split()).strip(" ,-(")


# -- candidates per kind ---------------------------------------------------------------------
def _typed(f: Field, text: str) -> list[Candidate]:
    out = []
    if f.kind == "date":
        for m in detectors.receipt_dates(text):
            raw = m.text
            out.append(Candidate(m.value if f.iso else raw, m.start, m.end, raw))
    elif f.kind == "amount":
        seen = set()
        for m in detectors.money(text):
            seen.add(m.start)
            value = m.value[0]
            number_text = re.search(r"\d[\d.,\s]*\d|\d", m.text).group()
            out.append(Candidate(value if f.number else number_text, m.start, m.end, m.text, signed=value))
        for m in _NUMBER.finditer(text):
            if any(abs(m.start() - s) <= 4 for s in seen):
                continue
            value = detectors.amount(m.group("n"))
            sign = -1 if m.group("neg") or m.group("trail") else 1
            out.append(Candidate(value if f.number else m.group("n"), m.start("n"), m.end("n"), m.group("n"), signed=sign * value))
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


def _name_line(row: Line) -> bool:
    """A header line that can name who issued the document: words, not a greeting, a document title
    or its reference ("Hi Sam,", "TAX INVOICE", "Invoice INV-2291"), nor a bare legal form ("SDN BHD")."""
    t = row.text
    return bool(_WORDS.search(t) and not _is_stop(row) and not _GREETING.match(t) and not _TITLE.search(t)
                and not detectors.invoice_numbers(t) and not _LEGAL.fullmatch(t.strip(" .")))


def _names(text: str, rows: list[Line]) -> list[Candidate]:
    """The header's name lines, a legal form on the next line joined on ("PASARAYA BORONG PINTAR" /
    "SDN BHD"), registration numbers and what follows them dropped. A name with a legal form
    (SDN BHD, Ltd, GmbH) is more likely the issuer than a brand or branch line above it."""
    out, head = [], rows[:HEADER_LINES]
    for i, row in enumerate(head):
        if not _name_line(row):
            continue
        name = _before_registration(row.text)
        if i + 1 < len(head) and _LEGAL.fullmatch(head[i + 1].text.strip(" .")):
            name = f"{name} {head[i + 1].text}"
        if name and len(name) <= 80 and _NAMING.search(name):
            start = text.find(name, row.start)
            start = start if start >= 0 else row.start
            out.append(Candidate(name, start, start + len(name), name, score=1.0 - i / HEADER_LINES + bool(_LEGAL.search(name))))
    return out


def _opens_address(row: Line) -> bool:
    """An address's first line: a number in it (street, lot, unit, postcode), no legal form (that is the name)."""
    return bool(re.search(r"\d", re.sub(r"\([^)]*\)", "", row.text)) and not _LEGAL.search(row.text) and _name_line(row))


def _company_line(row: Line) -> bool:
    """A line that is a company's name: a legal form, no number or comma (an address can end "PLUS BERHAD.")."""
    return bool(_LEGAL.search(row.text) and not re.search(r"[\d,]", row.text))


def _addresses(text: str, rows: list[Line]) -> list[Candidate]:
    """Runs of header lines from one that opens an address up to the next contact, id or date line,
    and the same run cut after its postcode: an address is printed whole, below the name."""
    out, head = [], rows[:HEADER_LINES]
    for i, row in enumerate(head):
        if not _opens_address(row):
            continue
        run = []
        for nxt in head[i:i + 6]:
            if _is_stop(nxt) or _GREETING.match(nxt.text) or _TITLE.search(nxt.text) or _company_line(nxt):
                break
            run.append(nxt)
        coded = [k for k, r in enumerate(run) if POSTCODE.search(r.text)]
        # The whole address starts where the lines above it stop being address (the name, a contact line).
        first = i == 0 or not _opens_address(head[i - 1]) or _is_stop(head[i - 1])
        for k in {len(run)} | ({coded[-1] + 1} if coded else set()):
            part = run[:k]
            value = _SPACE_BEFORE_MARK.sub(r"\1", " ".join(r.text for r in part))
            score = (0.6 * bool(coded and coded[-1] < k) + 0.2 * bool(re.match(r"^\W*(?:[^\W\d]{1,6}\.?\s*)?\d", part[0].text))
                     + 0.15 * min(len(part), 5) + 0.2 * (k == len(run)) + 0.3 * first)
            out.append(Candidate(value, part[0].start, part[-1].end, text[part[0].start:part[-1].end], score=score))
    return out


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


def _names_no_company(value: str) -> bool:
    """An amount, an e-mail address or a date is no company's name."""
    return bool(_NUMBER.search(value) or detectors.emails(value) or detectors.dates(value))


def candidates(f: Field, text: str, legacy: dict[str, dict]) -> list[Candidate]:
    """Every value the text offers for this field, labelled; `legacy` holds the older free-text
    candidates (capitalised names, clauses) for fields with no better source."""
    rows = lines(text)
    if f.kind not in ("email", "phone", "date", "time", "amount", "currency", "id"):
        header = _names(text, rows) if f.kind == "org" else _addresses(text, rows) if f.kind == "address" else []
        found = _labelled_values(text) + header  # text: only "Label:" labels it, never a neighbouring line
        found += [Candidate(v, s["start"], s["end"], s["text"]) for v, s in legacy.get("person" if f.kind == "person" else "text", {}).items()]
        found = [c for c in found if len(c.value) > 1 and grammar_safe(c.value)]
        found = [c for c in found if f.kind not in HEADER_KINDS or _NAMING.search(c.value)]  # "000200101-A" names nothing
        return [c for c in found if f.kind != "org" or not _names_no_company(c.value)]
    found = _typed(f, text)
    for c in found:
        c.label = label_before(text, c.start, rows)
    return found


def _adds_up(found: list[Candidate]) -> tuple[set[int], set[float]]:
    """Amounts their neighbours add up to: the two before (subtotal + tax, total + rounding; zeros
    skipped), or a payment and its change after (paid - change); and the amounts that are a part of
    such a sum (the subtotal, the total before rounding). The final total is a sum, not a part."""
    seq = sorted((c for c in found if c.signed is not None), key=lambda c: c.start)
    sums, parts = set(), set()
    for i, c in enumerate(seq):
        before = [x.signed for x in seq[:i] if x.signed][-2:]
        after = [x.signed for x in seq[i + 1:]]
        if len(before) == 2 and abs(sum(before) - c.signed) < 0.005 < c.signed:
            sums.add(id(c))
            parts.add(round(max(before), 2))
        elif c.signed > 0 and any(abs(a - b - c.signed) < 0.005 and b >= 0 for a, b in zip(after, after[1:])):
            sums.add(id(c))
    return sums, parts


def score(f: Field, found: list[Candidate], embedder) -> list[Candidate]:
    """Merge candidates of the same value; score each by its best label's likeness to the field,
    plus its own prior (position in the header, detectors' hints) and how often it recurs."""
    if not found:
        return []
    labels = sorted({c.label for c in found if c.label})
    sims = {}
    if labels and embedder is not None:
        words = [" ".join(_CURRENCY_MARK.sub(" ", lb).split()).lower() or lb.lower() for lb in labels]
        vectors = np.asarray(embedder.embed([f.query, f.name.replace("_", " ").lower(), *words]))
        # The field's name alone, and with its description: "TAX TOTAL" is near "total amount", "TOTAL" nearer "total".
        sims = dict(zip(labels, (0.5 * vectors[2:] @ vectors[0] + 0.5 * vectors[2:] @ vectors[1]).tolist()))
    sums, parts = _adds_up(found) if f.total else (set(), set())
    last = max((c.start for c in found), default=1) or 1
    merged: dict[str, Candidate] = {}
    for c in found:
        sim = sims.get(c.label, 0.0)
        if f.kind in HEADER_KINDS and c.label and sim < LABEL_MEANS:
            sim -= 0.5  # "CASHIER: JAMAL" is no address: the header's own lines come first
        if f.total and c.signed is not None:
            c.is_part = round(c.signed, 2) in parts
            sim += SUMS * (id(c) in sums) - PARTS * c.is_part + LATE * c.start / last
        c.score = c.score * 0.5 + sim
        key = str(c.value).casefold() if not isinstance(c.value, (int, float)) else repr(round(float(c.value), 2))
        best = merged.get(key)
        if best is None:
            merged[key] = c
        else:
            best.support += c.start != best.start  # one place offering the value twice is still one place
            if c.score > best.score:
                c.support = best.support
                merged[key] = c
    out = list(merged.values())
    for c in out:
        c.score += SUPPORT * min(c.support - 1, 2)
    return sorted(out, key=lambda c: -c.score)
