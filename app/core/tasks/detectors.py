"""Deterministic detectors: values a small model would garble, found by rule with their spans.

Each detector returns `Match`es whose `value` is normalized (ISO dates, 24-hour times, float
amounts, ISO currency codes) and whose start/end locate the raw text in the input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Match:
    kind: str
    value: object
    start: int
    end: int
    text: str


_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}
_MONTH = r"(?P<mon>(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?)"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
_DATES = [
    re.compile(r"\b(?P<year>\d{4})-(?P<m>\d{1,2})-(?P<day>\d{1,2})\b"),
    re.compile(r"\b(?P<a>\d{1,2})(?P<sep>[/.])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{4})\b"),
    re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.I),
    re.compile(rf"\b{_DAY}(?:\s+of)?[\s-]+{_MONTH}[\s,-]+{_YEAR}\b", re.I),
]
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}\b", re.I)
_PHONE = re.compile(r"(?<![\w+/-])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,5}(?:[\s.-]\d{2,6}){1,4}(?![\w-])")
_TIME = re.compile(r"\b(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ap>[ap]\.?m\.?)(?!\w)|\b(?P<h24>[01]?\d|2[0-3]):(?P<m24>[0-5]\d)(?!\d)", re.I)
_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "CHF": "CHF"}
_CODES = "USD|EUR|GBP|CAD|AUD|CHF|JPY|INR|SEK|NOK|DKK"
_NUM = r"\d{1,3}(?:[,. ]\d{3})*(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
_MONEY = re.compile(
    rf"(?P<pre>[$€£¥₹]|\b(?:{_CODES})\b)\s?(?P<n1>{_NUM})(?!\d)|(?<![\d.,])(?P<n2>{_NUM})\s?(?P<post>[€£$]|\b(?:{_CODES})\b)"
)
_INVOICE_NO = re.compile(r"\b(?:invoice|inv|bill)\s*(?:no\.?|number|num|#)?\s*[:#]?\s*(?P<id>[A-Z0-9][A-Z0-9/-]*\d[A-Z0-9/-]*)", re.I)


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def dates(text: str) -> list[Match]:
    found = []
    for pattern in _DATES:
        for m in pattern.finditer(text):
            g = m.groupdict()
            year, day = int(g["year"]), int(g["day"]) if g.get("day") else 0
            if g.get("m"):
                month = int(g["m"])
            elif g.get("mon"):
                month = _MONTHS[g["mon"][:3].lower()]
            else:  # a/b/yyyy: '/' reads month-first unless that is impossible; '.' is day-first
                a, b = int(g["a"]), int(g["b"])
                month, day = (a, b) if g["sep"] == "/" and a <= 12 else (b, a)
            iso = _iso(year, month, day)
            if iso:
                found.append(Match("date", iso, m.start(), m.end(), m.group()))
    return _dedupe(found)


_SHORT = re.compile(r"(?<![\d/.-])(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{2}|\d{4})(?![\d/.-])")


_SHORT_NAMED = re.compile(rf"(?<![\w/.-]){_DAY}(?P<sep>[\s/-])\s*{_MONTH}(?P=sep)\s*(?P<year>\d{{2}}|\d{{4}})(?![\w/.-])", re.I)


def short_dates(text: str) -> list[Match]:
    """Day-first forms dates() leaves alone, as receipts print them: 05/01/17, 10-03-18, 10-03-2018,
    03 JUN 18, 05/APR/2018. Kept apart from dates() because redaction uses that one and must not widen."""
    return _short_dates(text, dates(text))


def receipt_dates(text: str) -> list[Match]:
    """dates() and short_dates() together, dates() read once."""
    found = dates(text)
    return found + _short_dates(text, found)


def _short_dates(text: str, known: list[Match]) -> list[Match]:
    found = []
    for m in _SHORT_NAMED.finditer(text):
        iso = _iso(_full_year(m.group("year")), _MONTHS[m.group("mon")[:3].lower()], int(m.group("day")))
        if iso and not any(d.start <= m.start() < d.end for d in known):
            found.append(Match("date", iso, m.start(), m.end(), m.group()))
    for m in _SHORT.finditer(text):
        if m.group("sep") != "-" and len(m.group("year")) == 4:
            continue  # dates() reads those
        a, b = int(m.group("a")), int(m.group("b"))
        day, month = (a, b) if b <= 12 else (b, a)
        if iso := _iso(_full_year(m.group("year")), month, day):
            found.append(Match("date", iso, m.start(), m.end(), m.group()))
    return found


def _full_year(printed: str) -> int:
    return int(printed) + (2000 if len(printed) == 2 else 0)


def emails(text: str) -> list[Match]:
    return [Match("email", m.group().lower(), m.start(), m.end(), m.group()) for m in _EMAIL.finditer(text)]


def phones(text: str) -> list[Match]:
    taken = [(d.start, d.end) for d in dates(text) + money(text)]
    out = []
    for m in _PHONE.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 7 <= len(digits) <= 15 and not any(s < m.end() and m.start() < e for s, e in taken):
            out.append(Match("phone", m.group(), m.start(), m.end(), m.group()))
    return out


def times(text: str) -> list[Match]:
    out = []
    for m in _TIME.finditer(text):
        if m.group("ap"):
            hour, minute = int(m.group("h")), int(m.group("m") or 0)
            if not 1 <= hour <= 12 or minute > 59:
                continue
            hour = hour % 12 + (12 if m.group("ap")[0].lower() == "p" else 0)
        else:
            hour, minute = int(m.group("h24")), int(m.group("m24"))
        out.append(Match("time", f"{hour:02d}:{minute:02d}", m.start(), m.end(), m.group()))
    return out


def amount(raw: str) -> float:
    raw = raw.replace(" ", "")
    # The last separator followed by exactly 1-2 digits is the decimal mark; others group thousands.
    decimal = re.search(r"[.,](\d{1,2})$", raw)
    whole = raw[: decimal.start()] if decimal else raw
    return float(re.sub(r"[.,]", "", whole) + ("." + decimal.group(1) if decimal else ""))


def money(text: str) -> list[Match]:
    out = []
    for m in _MONEY.finditer(text):
        mark = (m.group("pre") or m.group("post")).strip()
        out.append(Match("money", (amount(m.group("n1") or m.group("n2")), _SYMBOLS.get(mark, mark.upper())), m.start(), m.end(), m.group()))
    return out


def invoice_numbers(text: str) -> list[Match]:
    return [Match("invoice_number", m.group("id"), m.start("id"), m.end("id"), m.group("id")) for m in _INVOICE_NO.finditer(text)]


def _dedupe(matches: list[Match]) -> list[Match]:
    """Drop matches inside a longer one (e.g. '14 March 2025' inside 'Friday, 14 March 2025')."""
    keep = []
    for m in sorted(matches, key=lambda m: (m.start, -(m.end - m.start))):
        if not any(k.start <= m.start and m.end <= k.end for k in keep):
            keep.append(m)
    return keep
