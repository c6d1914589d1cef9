"""Dates of birth and postal codes: no library finds these in prose, so they are ours.

A date is a date of birth only next to a birth word; a postal code only where it reads as one
(after a ZIP/PLZ word, a US state, in an address line, or in the UK's own format).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from app.core.privacy.spans import Span, dates, pattern_spans

# -- dates of birth ---------------------------------------------------------------------------
_BIRTH_WORD = re.compile(
    r"(?i)(?:\bborn|\bd\.?o\.?b\b\.?|\bdate of birth|\bbirth ?date|\bbirthday|\bgeboren|\bgeb\.|\bgeburts(?:datum|tag)"
    r"|\bnée?\b|\bdate de naissance|\bfecha de nacimiento)[^\d]{0,30}$"
)
# "1985-01-01 is my birthday": the birth word after the date.
_BIRTH_AFTER = re.compile(r"(?i)^\s*(?:is|was|:|-|,)?\s*(?:(?:my|his|her|their|the)\s+)?(?:birthday|date of birth|d\.?o\.?b\b|birth ?date)")
# After a birth word only, also forms detectors.dates leaves alone: day-month-year with dashes,
# a two-digit year ("03/14/85") and a day with a dot before a month word in any language ("14. März 1985").
_BIRTH_DATE = re.compile(r"\b\d{1,2}([/.-])\d{1,2}\1(?:\d{4}|\d{2})\b|\b\d{1,2}\.\s?[^\W\d]{3,10}\.?\s\d{4}\b")


def births(text: str) -> Iterator[Span]:
    """A date is a date of birth only right next to a birth word, with no other number in between."""
    found = [Span("DOB", d.start, d.end, d.text) for d in dates(text)]
    for span in found + list(pattern_spans("DOB", _BIRTH_DATE, text)):
        if _BIRTH_WORD.search(text[max(0, span.start - 48) : span.start]) or _BIRTH_AFTER.match(text[span.end : span.end + 40]):
            yield span


# -- postal codes -----------------------------------------------------------------------------
_STATES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND "
    "OH OK OR PA PR RI SC SD TN TX UT VT VA WA WV WI WY"
).split()
# "City, ST 12345": the comma keeps "Ticket ID 48213" (ID is Idaho) out.
_US_ZIP = re.compile(rf",\s*(?:{'|'.join(_STATES)})\.?\s+(?P<v>\d{{5}}(?:-\d{{4}})?)(?![\w-])")
_POST_WORD = re.compile(r"(?i)\b(?:zip(?:\s*code)?|post\s?code|postal\s+code|plz|postleitzahl|code\s+postal)\b[\s:#.]*(?P<v>\d{4,5}(?:-\d{4})?)(?![\w-])")
# The Royal Mail format: the letters each position allows (no Q, V, X first; no C, I, K, M, O, V
# in the inward part), any case, the space optional ("EC1A1BB", "eh12ng"), and GIR 0AA; not a
# hex colour (#ff00aa) or a \u escape.
_UK = re.compile(
    r"(?<![\w#\\-])(?P<v>(?:[A-PR-UWYZ](?:\d{1,2}|[A-HK-Y]\d{1,2}|\d[A-HJKPS-UW]|[A-HK-Y]\d[ABEHMNPRV-Y])|GIR) ?\d[ABD-HJLNP-UW-Z]{2})(?![\w-])",
    re.I,
)
_CITY = r"[A-ZÀ-Þ][a-zß-ÿ]+(?:[ -](?:(?:am|an|im|bei|sur|sous|le|la|les|de|en)[ -])?[A-ZÀ-Þ][a-zß-ÿ]+)*"
# A 4-5 digit code then a city closing the address line, after a country prefix ("D-10115 Berlin"),
# after a comma ("Hauptstr. 5, 10115 Berlin") or at the start of a line below the street ("12 rue X").
_CODE_CITY = re.compile(rf"(?P<lead>, |\b(?:D|F|A|B|L|CH|NL)-|^[ \t]*)(?P<v>\d{{4,5}}(?: [A-Z]{{2}})?) (?P<city>{_CITY})(?=[ \t]*(?:$|[,.;)]))", re.M)
_HOUSE_NUMBER = re.compile(r"(?:^|\s)\d{1,4}[a-zA-Z]?(?:\s|$)")  # "Am Markt 7", "221B Baker Street"
# "Warehouse 3, 1200 Industrial Pkwy": a house number before a street, not a code before a city.
_STREET_WORD = re.compile(r"\b(?:Street|St|Road|Rd|Avenue|Ave|Boulevard|Blvd|Lane|Ln|Drive|Dr|Way|Parkway|Pkwy|Court|Ct|Place|Pl|Square|Sq|Highway|Hwy|Row|Close|Crescent)$")


def postcodes(text: str) -> Iterator[Span]:
    yield from pattern_spans("POSTCODE", _US_ZIP, text, "v")
    yield from pattern_spans("POSTCODE", _POST_WORD, text, "v")
    yield from pattern_spans("POSTCODE", _UK, text, "v")
    for m in _CODE_CITY.finditer(text):
        if _address_line(text, m):
            yield Span("POSTCODE", m.start("v"), m.end("v"), m.group("v"))


def _address_line(text: str, m: re.Match[str]) -> bool:
    """Only a street part with a house number may come before the code ("link up, 1000 Mbps" is no
    address): the text since the last comma, or the line above."""
    code, before = m.group("v"), text[: m.start()]
    if _STREET_WORD.search(m.group("city")):
        return False
    if m.group("lead").endswith("-"):
        return True
    if m.group("lead") == ", ":
        street = before.rsplit("\n", 1)[-1].rsplit(",", 1)[-1]
    elif len(code) == 4 and 1900 <= int(code) <= 2099:
        return False  # a year opening a line is a heading ("2024 Annual Report")
    else:
        street = before.splitlines()[-1] if before.strip() else ""
    return bool(_HOUSE_NUMBER.search(street))
