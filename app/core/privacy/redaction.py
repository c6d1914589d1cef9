"""Redaction before text leaves the machine: personal data and secrets become placeholders.

Every match becomes `[KIND_N]` (`[EMAIL_1]`, `[IBAN_2]`...). One `Redactor.redact` call is one
request: a value gets the same placeholder in every text of it (question and evidence chunks), and
`restore` puts the originals back into the reply. Rules only (regexes and checksums), no model and
no network, so the same text always gives the same result and the user can consent to a preview.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from app.core.tasks import detectors

# Most specific first: on two spans of the same length the earlier kind wins.
KINDS = ("SECRET", "IBAN", "CARD", "EMAIL", "URL", "IP", "DOB", "PHONE", "POSTCODE", "NAME")
_RANK = {kind: i for i, kind in enumerate(KINDS)}

# Share of the most entropy a string of its length can have (see token_entropy). Random base62/64
# tokens of 20-100 characters score at least 0.83 99% of the time (simulated); identifiers built
# from words score lower ("UserProfileSerializerV2Test" 0.78). On tests/data/redaction.jsonl any
# value from 0.75 to 0.85 gives the same result; above 0.87 real tokens start to be missed.
ENTROPY_THRESHOLD = 0.83


@dataclass(frozen=True)
class Span:
    kind: str
    start: int
    end: int
    value: str


@dataclass
class Redaction:
    texts: list[str]  # redacted, same order as the input
    mapping: dict[str, str]  # placeholder -> original value
    counts: dict[str, int]  # kind -> number of distinct values (never the values)
    replaced: list[list[tuple[str, str]]]  # per text, each (original, placeholder) in order: for preview_diff


Detector = Callable[[str], Iterable[Span]]


def _spans(kind: str, pattern: re.Pattern[str], text: str, group: int | str = 0) -> Iterator[Span]:
    for m in pattern.finditer(text):
        yield Span(kind, m.start(group), m.end(group), m.group(group))


# -- emails and URLs --------------------------------------------------------------------------
def _emails(text: str) -> Iterator[Span]:
    return (Span("EMAIL", m.start, m.end, m.text) for m in detectors.emails(text))


# Any scheme (https, s3, postgres...: connection strings carry passwords) or a www. host; bare
# domains ("example.com") and file names stay.
_URL = re.compile(r"\b(?:[a-z][a-z0-9+.-]{1,15}://|www\.)[^\s<>\"'`]+", re.I)


def _urls(text: str) -> Iterator[Span]:
    for m in _URL.finditer(text):
        url = _trim_url(m.group())
        yield Span("URL", m.start(), m.start() + len(url), url)


def _trim_url(url: str) -> str:
    """Drop sentence punctuation after a URL, and a closing bracket it did not open (Markdown links)."""
    while url and (url[-1] in ".,;:!?*" or any(url[-1] == c and url.count(c) > url.count(o) for o, c in ("()", "[]", "{}"))):
        url = url[:-1]
    return url


# -- IP addresses ---------------------------------------------------------------------------------
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?!\w|\.\d)")
# A dotted quad right after a version word is a version ("version 1.2.3.4"), not an address.
_VERSION_WORD = re.compile(r"\b(?:version|ver|release|build|firmware|v)[\s.:=]*$", re.I)
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|\d{1,3}(?:\.\d{1,3}){3})?(?![\w:]|\.\w)")


def _ips(text: str) -> Iterator[Span]:
    for m in _IPV4.finditer(text):
        if not _VERSION_WORD.search(text[max(0, m.start() - 12) : m.start()]):
            yield Span("IP", m.start(), m.end(), m.group())
    for m in _IPV6.finditer(text):
        if _plausible_ipv6(m.group()):
            yield Span("IP", m.start(), m.end(), m.group())


def _plausible_ipv6(candidate: str) -> bool:
    """A valid address that is not a code slice like `a[1::2]` or the bare loopback `::1`."""
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    groups = [g for g in candidate.split(":") if g]
    return len(groups) >= 3 or (len(groups) == 2 and any(len(g) == 4 for g in groups))


# -- phones -----------------------------------------------------------------------------------
# detectors.phones serves extraction: it takes any 7-15 digits in separated groups, so order,
# account and ticket numbers would be redacted too, and it misses +49 30 12345678 and
# +33 6 12 34 56 78. Here a number must look like a phone by its own shape (a +country code, an
# (area) code, a trunk 0 before grouped digits, the North-American 3-3-4 shape) or follow a phone word.
_PHONE = re.compile(r"(?<![\w+/.-])(?<!\d,)\+?(?:\(\d{1,5}\)|\d)(?:(?: ?[.\-/] ?| )?(?:\(\d{1,5}\)|\d)){5,18}(?![\w/]|[.-]\d)")
_NANP = re.compile(r"\(?\d{3}\)?([ .-])\d{3}[ .-]\d{4}")
_TRUNK = re.compile(r"0\d{1,4}[ /-]\d")  # also takes the 00 international prefix: 0044 20 ...
_PHONE_WORD = re.compile(
    r"\b(?:tel|t[ée]l[ée]phone|telefon|phone|ph|mobile?|mob|cell|call|fax|whatsapp|sms|text|handy|portable|m|t|f)\b\.?[^\d\n]{0,12}$",
    re.I,
)
# "Customer no. 0012 3456 78", "invoice 0098-7765-43": a number named as something else.
_ID_WORD = re.compile(r"\b(?:no|nr|invoice|order|customer|account|acct|ref|reference|id|ticket|case|serial|sku)\b\.?\s*[:#]?\s*$", re.I)


def _phones(text: str) -> Iterator[Span]:
    dates = [(d.start, d.end) for d in detectors.dates(text)]
    for m in _PHONE.finditer(text):
        in_date = any(s < m.end() and m.start() < e for s, e in dates)
        if not in_date and _phone_like(m.group(), text[max(0, m.start() - 24) : m.start()]):
            yield Span("PHONE", m.start(), m.end(), m.group())


def _phone_like(raw: str, before: str) -> bool:
    digits = re.sub(r"\D", "", raw)
    # National numbers stop at 12 digits; 13-15 need a country code (a 15-digit IMEI is no phone).
    if not 7 <= len(digits) <= (15 if raw.startswith(("+", "00")) else 12):
        return False
    if _PHONE_WORD.search(before):
        return True
    return not _ID_WORD.search(before) and bool(raw[0] in "+(" or _TRUNK.match(raw) or _NANP.fullmatch(raw))


# -- IBANs and cards, verified by checksum -----------------------------------------------------
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}")


def _ibans(text: str) -> Iterator[Span]:
    for m in _IBAN.finditer(text):
        # The pattern may run into the next word ("... 0130 00 BIC"); take the longest valid prefix.
        for end in range(m.end(), m.start() + 15, -1):
            raw = text[m.start() : end]
            if not raw.endswith(" ") and not text[end : end + 1].isalnum() and iban_valid(raw):
                yield Span("IBAN", m.start(), end, raw)
                break


def iban_valid(raw: str) -> bool:
    """ISO 13616: the country and check digits moved to the end, the number mod 97 is 1."""
    compact = raw.replace(" ", "").upper()
    if not 15 <= len(compact) <= 34:
        return False
    return int("".join(str(int(c, 36)) for c in compact[4:] + compact[:4])) % 97 == 1


# Grouped 4-4-4-4 or 4-6-5 / 4-6-4 (Amex, Diners) with one consistent separator, or 13-19 bare digits.
_CARD = re.compile(r"(?<![\w+.-])(?:\d{4}([ -])\d{4}\1\d{4}\1\d{4}|\d{4}([ -])\d{6}\2\d{4,5}|\d{13,19})(?!\w|[.-]\d)")


# Short numbers belong to one network each (Visa 13, Diners 14, Amex 15 digits); 16-19 digits start
# 2-6 (Mastercard, Amex/JCB, Visa, Mastercard, Discover). A 15-digit IMEI (35...) is not a card.
_ISSUERS = {13: ("4",), 14: ("30", "36", "38"), 15: ("34", "37")}


def _cards(text: str) -> Iterator[Span]:
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if digits.startswith(_ISSUERS.get(len(digits), tuple("23456"))) and luhn_valid(digits):
            yield Span("CARD", m.start(), m.end(), m.group())


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


# -- secrets ----------------------------------------------------------------------------------
_SECRET_PREFIXES = re.compile(
    r"\bsk-[A-Za-z0-9_-]{20,}"  # OpenAI (sk-, sk-proj-), Anthropic (sk-ant-)
    r"|\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}"  # Stripe
    r"|\bgh[pousr]_[A-Za-z0-9]{30,}|\bgithub_pat_[A-Za-z0-9_]{22,}"  # GitHub
    r"|\bxox[abposr]-[A-Za-z0-9-]{10,}"  # Slack
    r"|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"  # AWS access key id
    r"|\bAIza[0-9A-Za-z_-]{35}"  # Google
    r"|\bglpat-[A-Za-z0-9_-]{20,}"  # GitLab
    r"|\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"  # JWT: header.payload.signature
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----"
)
_BEARER = re.compile(r"\bBearer\s+(?P<v>[A-Za-z0-9._~+/-]{16,}=*)")
# `api_key = ...`, `"client_secret": "..."`, `DB_PASSWORD=...`, "the password is ...": the value,
# whatever its shape, once it holds a letter and a digit ("password: ********" stays).
_ASSIGNED = re.compile(r"(?i)\b[\w.-]*?(?:key|secret|token|password|passwd|pwd|passphrase)[\"']?(?:\s*[:=]|\s+is)\s*[\"']?(?P<v>[^\s\"'`,;]{8,})")
_WORD = re.compile(r"[A-Z][a-z]{3,}|[a-z]{4,}")
_TOKEN = re.compile(r"(?<![\w+/.-])[A-Za-z0-9_+/-]{20,}={0,2}(?![\w+/=-])")


def _secrets(text: str) -> Iterator[Span]:
    yield from _spans("SECRET", _SECRET_PREFIXES, text)
    yield from _spans("SECRET", _BEARER, text, "v")
    for span in _spans("SECRET", _ASSIGNED, text, "v"):
        if re.search(r"\d", span.value) and re.search(r"[A-Za-z]", span.value) and "://" not in span.value:
            yield span
    for span in _spans("SECRET", _TOKEN, text):
        if _random_looking(span.value):
            yield span


def _random_looking(token: str) -> bool:
    """Upper case, lower case and digits mixed with high entropy, as base62/base64 credentials are.
    Single-case runs never qualify: commit hashes, UUIDs, digests, paths and slugs are identifiers,
    not credentials, unless assigned to a secret-named key (see _ASSIGNED). Nor does a name made
    mostly of words ("SmolLM2-135M-Instruct", "getUser2FactorAuthToken"); in a random token words
    cover under half the characters 97% of the time."""
    mixed = all(re.search(cls, token) for cls in ("[a-z]", "[A-Z]", r"\d"))
    wordy = sum(map(len, _WORD.findall(token))) >= len(token) / 2
    return mixed and not wordy and token_entropy(token) >= ENTROPY_THRESHOLD


def token_entropy(token: str) -> float:
    """Shannon entropy in bits per character over log2 of the string's length (capped at a base64
    alphabet): a 20-character string cannot exceed 4.3 bits however random, a 64-character one 6."""
    counts = Counter(token).values()
    bits = -sum(n / len(token) * math.log2(n / len(token)) for n in counts)
    return bits / math.log2(min(len(token), 64))


# -- dates of birth ---------------------------------------------------------------------------
_BIRTH_WORD = re.compile(
    r"(?i)(?:\bborn|\bd\.?o\.?b\b\.?|\bdate of birth|\bbirth ?date|\bbirthday|\bgeboren|\bgeb\.|\bgeburts(?:datum|tag)"
    r"|\bnée?\b|\bdate de naissance|\bfecha de nacimiento)[^\d]{0,30}$"
)
# After a birth word only, also forms detectors.dates leaves alone: a two-digit year ("03/14/85")
# and a day with a dot before a month word in any language ("14. März 1985").
_BIRTH_DATE = re.compile(r"\b\d{1,2}([/.-])\d{1,2}\1\d{2}\b|\b\d{1,2}\.\s?[^\W\d]{3,10}\.?\s\d{4}\b")


def _births(text: str) -> Iterator[Span]:
    """A date is a date of birth only right after a birth word, with no other number in between."""
    dates = [Span("DOB", d.start, d.end, d.text) for d in detectors.dates(text)]
    for span in dates + list(_spans("DOB", _BIRTH_DATE, text)):
        if _BIRTH_WORD.search(text[max(0, span.start - 48) : span.start]):
            yield span


# -- postal codes -----------------------------------------------------------------------------
_STATES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND "
    "OH OK OR PA PR RI SC SD TN TX UT VT VA WA WV WI WY"
).split()
# "City, ST 12345": the comma keeps "Ticket ID 48213" (ID is Idaho) out.
_US_ZIP = re.compile(rf",\s*(?:{'|'.join(_STATES)})\.?\s+(?P<v>\d{{5}}(?:-\d{{4}})?)(?![\w-])")
_POST_WORD = re.compile(r"(?i)\b(?:zip(?:\s*code)?|post\s?code|postal\s+code|plz|postleitzahl|code\s+postal)\b[\s:#.]*(?P<v>\d{4,5}(?:-\d{4})?)(?![\w-])")
_UK = re.compile(r"\b(?P<v>[A-Z]{1,2}\d[A-Z\d]? \d[ABD-HJLNP-UW-Z]{2})\b")
_CITY = r"[A-ZÀ-Þ][a-zß-ÿ]+(?:[ -](?:(?:am|an|im|bei|sur|sous|le|la|les|de|en)[ -])?[A-ZÀ-Þ][a-zß-ÿ]+)*"
# A 4-5 digit code then a city closing the address line, after a country prefix ("D-10115 Berlin"),
# after a comma ("Hauptstr. 5, 10115 Berlin") or at the start of a line below the street ("12 rue X").
_CODE_CITY = re.compile(rf"(?P<lead>, |\b(?:D|F|A|B|L|CH|NL)-|^[ \t]*)(?P<v>\d{{4,5}}(?: [A-Z]{{2}})?) (?P<city>{_CITY})(?=[ \t]*(?:$|[,.;)]))", re.M)
_HOUSE_NUMBER = re.compile(r"(?:^|\s)\d{1,4}[a-zA-Z]?(?:\s|$)")  # "Am Markt 7", "221B Baker Street"
# "Warehouse 3, 1200 Industrial Pkwy": a house number before a street, not a code before a city.
_STREET_WORD = re.compile(r"\b(?:Street|St|Road|Rd|Avenue|Ave|Boulevard|Blvd|Lane|Ln|Drive|Dr|Way|Parkway|Pkwy|Court|Ct|Place|Pl|Square|Sq|Highway|Hwy|Row|Close|Crescent)$")


def _postcodes(text: str) -> Iterator[Span]:
    yield from _spans("POSTCODE", _US_ZIP, text, "v")
    yield from _spans("POSTCODE", _POST_WORD, text, "v")
    yield from _spans("POSTCODE", _UK, text, "v")
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


# -- names --------------------------------------------------------------------------------------
def _name_detector(names: Iterable[str]) -> Detector:
    # Longest first so "Maria Gonzalez" wins over "Maria"; any whitespace between the parts.
    cleaned = sorted({n.strip() for n in names if n.strip()}, key=len, reverse=True)
    if not cleaned:
        return lambda text: ()
    alternatives = "|".join(r"\s+".join(map(re.escape, name.split())) for name in cleaned)
    pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.I)
    return lambda text: _spans("NAME", pattern, text)


def load_names(path: Path) -> list[str]:
    """The user's names list: one name a line, '#' starts a comment; a missing file is an empty list."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    return [name for line in lines if (name := line.split("#", 1)[0].strip())]


# -- finding, resolving, replacing -------------------------------------------------------------
_PLACEHOLDER = re.compile(r"\[[A-Z]+_\d+\]")
_BUILTIN: tuple[Detector, ...] = (_secrets, _ibans, _cards, _emails, _urls, _ips, _births, _phones, _postcodes)


def _resolve(spans: Iterable[Span], taken: list[tuple[int, int]]) -> list[Span]:
    """One span per region: the longest wins, then the most specific kind."""
    chosen: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start - s.end, _RANK[s.kind], s.start)):
        if not any(span.start < e and s < span.end for s, e in taken):
            chosen.append(span)
            taken.append((span.start, span.end))
    return sorted(chosen, key=lambda s: s.start)


def _key(span: Span) -> tuple[str, str]:
    """Spellings of one value share a placeholder: separators in numbers, case outside secrets and URLs."""
    value = span.value
    if span.kind in ("PHONE", "IBAN", "CARD"):
        value = re.sub(r"[\s().-]", "", value)
    return span.kind, value if span.kind in ("SECRET", "URL") else value.casefold()


class Redactor:
    def __init__(self, names: Iterable[str] = ()) -> None:
        self._detectors = (*_BUILTIN, _name_detector(names))

    def find(self, text: str) -> list[Span]:
        # Text that already reads as a placeholder is neither matched nor broken.
        taken = [m.span() for m in _PLACEHOLDER.finditer(text)]
        return _resolve((s for detect in self._detectors for s in detect(text)), taken)

    def redact(self, texts: list[str]) -> Redaction:
        # New numbers start above any placeholder already in the input, so none is ever reused.
        numbers = Counter[str]()
        for kind, n in (p[1:-1].rsplit("_", 1) for text in texts for p in _PLACEHOLDER.findall(text)):
            numbers[kind] = max(numbers[kind], int(n))
        placeholders: dict[tuple[str, str], str] = {}
        mapping: dict[str, str] = {}
        out, replaced = [], []
        for text in texts:
            pieces, last, changes = [], 0, []
            for span in self.find(text):
                key = _key(span)
                if key not in placeholders:
                    numbers[span.kind] += 1
                    placeholders[key] = f"[{span.kind}_{numbers[span.kind]}]"
                    mapping[placeholders[key]] = span.value
                pieces += [text[last : span.start], placeholders[key]]
                changes.append((span.value, placeholders[key]))
                last = span.end
            out.append("".join(pieces) + text[last:])
            replaced.append(changes)
        return Redaction(out, mapping, dict(Counter(kind for kind, _ in placeholders)), replaced)


def find(text: str, names: Iterable[str] = ()) -> list[Span]:
    return Redactor(names).find(text)


# "[EMAIL_1]", "[ EMAIL_1 ]", "[email 1]", or a bare "EMAIL_1" when the model drops the brackets.
_RESTORE = re.compile(rf"\[\s*(?P<a>[A-Za-z]+)[ _](?P<i>\d+)\s*\]|(?<![\w\[])(?P<b>{'|'.join(KINDS)})_(?P<j>\d+)(?!\w)")


def restore(text: str, mapping: dict[str, str]) -> str:
    """Put originals back into a reply; a placeholder not in the mapping is left exactly as it is."""

    def original(m: re.Match[str]) -> str:
        kind, n = (m["a"], m["i"]) if m["a"] else (m["b"], m["j"])
        return mapping.get(f"[{kind.upper()}_{n}]", m.group())

    return _RESTORE.sub(original, text)


# -- consent preview ------------------------------------------------------------------------------
def preview_diff(originals: list[str], redacted: Redaction | list[str]) -> str:
    """Per text: the changed lines before and after, then every replaced value and its placeholder.

    Given the Redaction, the values are exactly those replaced. Given only the redacted texts, they
    are read back between the unchanged pieces, which is exact unless a value ends in the text that
    follows it ("Dana Whitfield dana@x.org" as "[NAME_1] [EMAIL_1]" reads as "Dana" and the rest)."""
    texts = redacted.texts if isinstance(redacted, Redaction) else redacted
    blocks = []
    for i, (before, after) in enumerate(zip(originals, texts, strict=True), start=1):
        changes = redacted.replaced[i - 1] if isinstance(redacted, Redaction) else _changed_spans(before, after)
        if not changes:
            blocks.append(f"Text {i}: unchanged")
            continue
        lines = [f"Text {i}: {len(changes)} change{'s' * (len(changes) != 1)}", *_changed_lines(before, after)]
        lines += [f"    {old!r} -> {new}" for old, new in changes]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _changed_spans(before: str, after: str) -> list[tuple[str, str]]:
    """The original value behind each placeholder: the shortest text before the literal piece that
    follows it (a character diff would pair the "." ending "bob@example.org." with the one after)."""
    pattern = "(.+?)".join(map(re.escape, _PLACEHOLDER.split(after)))
    match = re.fullmatch(pattern, before, re.S)
    if match is None:
        raise ValueError("the redacted text does not come from the original")
    # A placeholder already in the original is matched by itself and is no change.
    return [(old, new) for old, new in zip(match.groups(), _PLACEHOLDER.findall(after)) if old != new]


def _changed_lines(before: str, after: str) -> list[str]:
    a, b = before.splitlines(), after.splitlines()
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "replace" and i2 - i1 == j2 - j1:  # line for line, each old line above its new one
            out += [f"  {sign} {line}" for pair in zip(a[i1:i2], b[j1:j2]) for sign, line in zip("-+", pair)]
        elif op != "equal":
            out += [f"  - {line}" for line in a[i1:i2]] + [f"  + {line}" for line in b[j1:j2]]
    return out
