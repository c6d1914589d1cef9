"""Phone numbers, checked against Google's libphonenumber metadata (`phonenumbers`).

A candidate is any run of 7-15 digits in phone-like groups (with an optional +country code,
(area) code and extension) that its context does not name as something else (an order, customer
or invoice number, a date, part of an IBAN). It is a phone after a phone word ("tel.", "call",
"mobile"); with a +country code, when libphonenumber finds it of a possible length for that
country; in a phone's own shape (an (area) code, a trunk 0, the North-American 3-3-4 groups);
and otherwise, bare digits included ("13912345678"), when libphonenumber holds it a valid mobile
number of one of REGIONS, written as that country writes it. (detectors.phones serves extraction
and takes any 7-15 grouped digits: order and ticket numbers too.)
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

import phonenumbers

from app.core.privacy.identifiers import iban_shapes
from app.core.privacy.spans import Span, dates, overlaps

# National numbers are read as these countries' ("US" stands for all of +1: Canada too). Each one
# more costs a parse per candidate that is no phone.
REGIONS = ("US", "GB", "DE", "FR", "ES", "IT", "NL", "CH", "AT", "IN", "CN", "JP", "BR", "AU")
_DOTTED_QUAD = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?!\d|\.\d)")  # an IPv4 address, never a phone

_EXT = r"(?:\s?(?:x|ext\.?|extension)\s?\d{1,6})?"
_PHONE = re.compile(
    r"(?<![\w+/.-])(?<!\d,)(?P<num>\+?(?:\(\d{1,5}\)|\d)(?:(?: ?[.\-/] ?| )?(?:\(\d{1,5}\)|\d)){5,18})"
    rf"(?P<ext>{_EXT})(?![\w/]|[.-]\d)"
)
# "is415-555-0132": a number glued to a word, taken only in the North-American 3-3-4 shape.
_GLUED = re.compile(r"(?<=[a-z])\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?![\w/]|[.-]\d)")
_NANP = re.compile(r"(?:1[ .-]?)?\(?\d{3}\)?([ .-]?)\d{3}[ .-]\d{4}")
_TRUNK = re.compile(r"0\d{1,4}[ /-]\d")  # also takes the 00 international prefix: 0044 20 ...
_PHONE_WORD = re.compile(
    r"\b(?:tel|t[ée]l[ée]phone|telefon|phone|ph|mobile?|mob|cell|call|fax|whatsapp|sms|text|handy|portable|m|t|f)\b\.?[^\d\n]{0,12}$"
    r"|(?:电话|手机|電話)[^\d\n]{0,4}$",
    re.I,
)
_NUMBER_WORD = re.compile(r"\bnumber\b[^\d\n]{0,12}$", re.I)
# "Customer no. 0012 3456 78", "invoice 0098-7765-43", TCP's "Seq: ...", "Ack ...": a number named as something else.
_ID_WORD = re.compile(
    r"\b(?:no|nr|invoice|order|customer|account|acct|ref|reference|id|ticket|case|serial|sku|seq|ack)\b\.?(?:\s*(?:number|num|no|nr)\b\.?)?\s*[:#]?\s*$",
    re.I,
)
# "worker[4158829090]" (a pid, an index) and "[0915/084512:INFO" (a log prefix): glued syntax.
_INDEXED, _COLON_GLUED = re.compile(r"\w\[$"), re.compile(r":\w")
_MOBILE = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def phones(text: str) -> Iterator[Span]:
    taken = [(d.start, d.end) for d in dates(text)] + iban_shapes(text)
    for m in _candidates(text):
        span, raw = Span("PHONE", m.start(), m.end(), m.group()), m.group("num")
        if overlaps(span, taken) or _DOTTED_QUAD.fullmatch(raw):
            continue
        if _phone_like(raw, text[max(0, m.start() - 24) : m.start()], text[m.end() : m.end() + 2]):
            yield span
    for m in _GLUED.finditer(text):
        if _valid(m.group()):
            yield Span("PHONE", m.start(), m.end(), m.group())


def _candidates(text: str) -> Iterator[re.Match]:
    """Phone-shaped runs of digits. One that runs on into an IPv4 address (a log's columns "16
    192.168.3.50") stops before it: the address is the IP detector's, what precedes may be a phone."""
    addresses = [m.start() for m in _DOTTED_QUAD.finditer(text)]
    for m in _PHONE.finditer(text):
        cut = next((a for a in addresses if m.start() < a < m.end()), None)
        if cut is None:
            yield m
        else:
            yield from _PHONE.finditer(text, m.start(), cut)


def _phone_like(raw: str, before: str, after: str) -> bool:
    digits = re.sub(r"\D", "", raw)
    # National numbers stop at 12 digits; 13-15 need a country code (a 15-digit IMEI is no phone).
    international = raw.startswith(("+", "00"))
    if not 7 <= len(digits) <= (15 if international else 12):
        return False
    if _PHONE_WORD.search(before):
        return True  # before the id test: "Tel. no. 0171 2345678"
    if _ID_WORD.search(before) or _INDEXED.search(before) or _COLON_GLUED.match(after):
        return False
    if _NUMBER_WORD.search(before):
        return True  # after it: "my number is 4258829090", not "order number 1002938475"
    if raw.startswith("+"):
        return _valid(raw) is not None
    if raw[0] == "(" or _TRUNK.match(raw) or _NANP.fullmatch(raw):
        return True  # a phone's own shape: recall first, whether or not the range is in use
    number = _valid(raw)
    return number is not None and phonenumbers.number_type(number) in _MOBILE


def _valid(raw: str) -> phonenumbers.PhoneNumber | None:
    """The number libphonenumber reads from raw: valid as written internationally (or only of a
    possible length there, as the fictional +44 7700 900xxx are), or valid in one of REGIONS and
    written as that country writes it ("1710412345" is a German mobile only as "0171 0412345")."""
    if raw.startswith("+"):
        try:
            number = phonenumbers.parse(raw)
        except phonenumbers.NumberParseException:
            return None
        return number if phonenumbers.is_possible_number(number) else None
    digits = re.sub(r"\D", "", raw)
    for region in REGIONS:
        if not _possible_length(region, digits):
            continue
        try:
            number = phonenumbers.parse(raw, region, keep_raw_input=True)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number) and _as_written(number, region, raw):
            return number
    return None


@functools.cache
def _lengths(region: str) -> tuple[str, frozenset[int]]:
    """The country's trunk prefix ("0", "1" for +1, or none) and the lengths its numbers have."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return metadata.national_prefix or "", frozenset(metadata.general_desc.possible_length)


def _possible_length(region: str, digits: str) -> bool:
    """Whether the country has numbers that long, with or without its trunk prefix (a quick
    test before the slower parse)."""
    prefix, lengths = _lengths(region)
    return len(digits) in lengths or (bool(prefix) and digits.startswith(prefix) and len(digits) - len(prefix) in lengths)


def _as_written(number: phonenumbers.PhoneNumber, region: str, raw: str) -> bool:
    """The country's own digits (with or without its trunk prefix), grouped only where the country
    groups them: "95130-64212" holds a valid Californian number, but no one writes it so."""
    if number.country_code_source != phonenumbers.CountryCodeSource.FROM_DEFAULT_COUNTRY:
        return True  # dialled with an international prefix (0044 ..., 011 49 ...)
    written = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    digits, national = re.sub(r"\D", "", raw), re.sub(r"\D", "", written)
    prefix = _lengths(region)[0]
    if digits == national:
        shift = 0
    elif digits == prefix + national:
        shift = -len(prefix)  # written with the trunk prefix the format leaves out
    else:  # "1710412345" is a German mobile only as "0171 0412345": bare, it is a Unix timestamp
        return False
    return {b + shift for b in _breaks(raw)} <= _breaks(written)


def _breaks(written: str) -> set[int]:
    """After how many digits a written number has a separator: "(11) 98456-5666" -> {2, 7}."""
    out, count = set(), 0
    for m in re.finditer(r"\d+", written):
        if m.start() > 0 and count:
            out.add(count)
        count += len(m.group())
    return out
