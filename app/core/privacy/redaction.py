"""Redaction before text leaves the machine: personal data and secrets become placeholders.

Every match becomes `[KIND_N]` (`[EMAIL_1]`, `[IBAN_2]`...). One `Redactor.redact` call is one
request: a value gets the same placeholder in every text of it (question and evidence chunks), and
`restore` puts the originals back into the reply. Rules and checksums only, no model and no
network, so the same text always gives the same result and the user can consent to a preview.

The detectors live beside this module, each on the best-kept library for its kind: `phonenumbers`
(phones), `python-stdnum` (IBANs, cards, national ID and tax numbers), `detect-secrets` (keys and
tokens), `ipaddress` and the Public Suffix List (addresses, domains); dates of birth, postcodes and
listed names are ours. They are tuned for recall first, then precision: a false alarm costs a
placeholder the cloud model sees, a miss leaks.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from app.core.privacy.spans import Span, pattern_spans

__all__ = ["KINDS", "Redaction", "Redactor", "Span", "find", "load_names", "preview_diff", "restore"]

# Most specific first: on two spans of the same length the earlier kind wins.
KINDS = ("SECRET", "IBAN", "CARD", "ID", "EMAIL", "URL", "IP", "DOB", "PHONE", "POSTCODE", "NAME")
_RANK = {kind: i for i, kind in enumerate(KINDS)}


@dataclass
class Redaction:
    texts: list[str]  # redacted, same order as the input
    mapping: dict[str, str]  # placeholder -> original value
    counts: dict[str, int]  # kind -> number of distinct values (never the values)
    replaced: list[list[tuple[str, str]]]  # per text, each (original, placeholder) in order: for preview_diff


Detector = Callable[[str], Iterable[Span]]


# -- names --------------------------------------------------------------------------------------
def _name_detector(names: Iterable[str]) -> Detector:
    # Longest first so "Maria Gonzalez" wins over "Maria"; any whitespace between the parts.
    cleaned = sorted({n.strip() for n in names if n.strip()}, key=len, reverse=True)
    if not cleaned:
        return lambda text: ()
    alternatives = "|".join(r"\s+".join(map(re.escape, name.split())) for name in cleaned)
    pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.I)
    return lambda text: pattern_spans("NAME", pattern, text)


def load_names(path: Path) -> list[str]:
    """The user's names list: one name a line, '#' starts a comment; a missing file is an empty list."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    return [name for line in lines if (name := line.split("#", 1)[0].strip())]


# -- finding, resolving, replacing -------------------------------------------------------------
_PLACEHOLDER = re.compile(r"\[[A-Z]+_\d+\]")
@functools.cache
def _builtin() -> tuple[Detector, ...]:
    """The detectors, imported with their libraries on the first Redactor (the first request
    about to leave), so that start-up does not pay for them."""
    from app.core.privacy.credentials import secrets
    from app.core.privacy.identifiers import cards, ibans
    from app.core.privacy.national_ids import national_ids
    from app.core.privacy.network import emails, ips, urls
    from app.core.privacy.personal import births, postcodes
    from app.core.privacy.phones import phones

    return (secrets, ibans, cards, national_ids, emails, urls, ips, births, phones, postcodes)


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
    if span.kind in ("PHONE", "IBAN", "CARD", "ID"):
        value = re.sub(r"[\s().-]", "", value)
    return span.kind, value if span.kind in ("SECRET", "URL") else value.casefold()


class Redactor:
    def __init__(self, names: Iterable[str] = ()) -> None:
        self._detectors = (*_builtin(), _name_detector(names))

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
