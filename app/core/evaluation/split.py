"""The fixed dev/test split of every benchmark: a case's part follows from its id alone.

sha256 of the id, first byte even: dev (tune on it); odd: test (measure once, at the end).
Fixed before any tuning, so no choice made while tuning can move a case between parts.
"""

from __future__ import annotations

import hashlib
from typing import Literal

Part = Literal["dev", "test"]


def part(case_id: str) -> Part:
    return "dev" if hashlib.sha256(case_id.encode("utf-8")).digest()[0] % 2 == 0 else "test"


def select(cases: list, which: Part, key=lambda c: c["id"] if isinstance(c, dict) else c.id) -> list:
    """The cases of one part, in their original order."""
    return [c for c in cases if part(key(c)) == which]
