"""What every detector returns: a kind and where its value lies in the text."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from app.core.tasks import detectors


# Chinese, Japanese and Korean run words together, so a letter of theirs may touch a value
# ("IP地址192.168.1.100", "M78912345입니다"): a letter or digit of any other script makes it part of a word.
CJK = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"  # kana, ideographs, Hangul
JOINED = rf"[^\W_{CJK}]"


@dataclass(frozen=True)
class Span:
    kind: str
    start: int
    end: int
    value: str


def pattern_spans(kind: str, pattern: re.Pattern[str], text: str, group: int | str = 0) -> Iterator[Span]:
    for m in pattern.finditer(text):
        if m.group(group):
            yield Span(kind, m.start(group), m.end(group), m.group(group))


def overlaps(span: Span, regions: list[tuple[int, int]]) -> bool:
    return any(span.start < e and s < span.end for s, e in regions)


@functools.lru_cache(maxsize=8)
def dates(text: str) -> tuple[detectors.Match, ...]:
    """The dates in text, found once for the detectors that need them (births, phones)."""
    return tuple(detectors.dates(text))
