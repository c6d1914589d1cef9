"""Checksummed numbers: IBANs and payment cards, verified by `python-stdnum`.

stdnum checks an IBAN's mod-97 digits and its country's own length and layout (so "IL15 0120
6900 0000" is no IBAN); not the national check digits some countries add inside (a Belgian
account whose bank digits fail is still an account number to hide). Cards pass the Luhn check.
Where text is written like an IBAN but fails (a wrong digit, a lower-case letter, a doubled
space), `iban_shapes` says so, so that no phone or card is read inside it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from stdnum import iban, luhn
from stdnum.exceptions import ValidationError
from stdnum.iso7064 import mod_97_10

from app.core.privacy.spans import Span

# Grouped by spaces or by dashes ("AL47-2121-..."), 15 (Norway) to 34 characters.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:(?: ?[A-Z0-9]){11,30}|(?:-?[A-Z0-9]){11,30})")
_IBAN_SHAPE = re.compile(r"\b[A-Z]{2}\d{2}(?:[ -]{0,2}[A-Za-z0-9]){11,30}")
_MIN_LENGTH = 15


def iban_shapes(text: str) -> list[tuple[int, int]]:
    """Where text is written like an IBAN, valid or not."""
    return [m.span() for m in _IBAN_SHAPE.finditer(text)]


def ibans(text: str) -> Iterator[Span]:
    for m in _IBAN.finditer(text):
        # The pattern may run into the next word ("... 0130 00 BIC"); take the longest valid prefix.
        for end in range(m.end(), m.start() + _MIN_LENGTH - 1, -1):
            raw = text[m.start() : end]
            if not raw.endswith((" ", "-")) and not text[end : end + 1].isalnum() and _iban_valid(raw):
                yield Span("IBAN", m.start(), end, raw)
                break


def _iban_valid(raw: str) -> bool:
    compact = raw.replace(" ", "").replace("-", "")
    if not mod_97_10.is_valid(compact[4:] + compact[:4]):
        return False  # the quick test first: the country layout lookup costs more
    try:
        iban.validate(raw, check_country=False)
    except ValidationError:
        return False
    return True


# Grouped 4-4-4-4 or 4-6-5 / 4-6-4 (Amex, Diners) with one consistent separator, or 13-19 bare digits.
_CARD = re.compile(r"(?<![\w+.-])(?:\d{4}([ -])\d{4}\1\d{4}\1\d{4}|\d{4}([ -])\d{6}\2\d{4,5}|\d{13,19})(?!\w|[.-]\d)")
# Short numbers belong to one network each (Visa 13, Diners 14, Amex and UATP 15 digits); 16-19 digits start
# 2-6 (Mastercard, Amex/JCB, Visa, Mastercard, Discover). A 15-digit IMEI (35...) is not a card,
# unless the text calls it one ("my credit card: 1220 0000 0000 003"): then any Luhn-valid number is.
_ISSUERS = {13: ("4",), 14: ("30", "36", "38"), 15: ("1", "34", "37")}  # 15 digits from 1: UATP
_CARD_WORD = re.compile(r"(?i)\b(?:card|kreditkarte|karte|carte|tarjeta|visa|mastercard|amex)\b[^\d\n]{0,24}$")


def cards(text: str) -> Iterator[Span]:
    shapes = iban_shapes(text)
    for m in _CARD.finditer(text):
        if any(m.start() < e and s < m.end() for s, e in shapes):
            continue  # the digits of an account number written like an IBAN
        digits = re.sub(r"\D", "", m.group())
        known = digits.startswith(_ISSUERS.get(len(digits), tuple("23456")))
        if (known or _CARD_WORD.search(text[max(0, m.start() - 40) : m.start()])) and luhn.is_valid(digits):
            yield Span("CARD", m.start(), m.end(), m.group())
