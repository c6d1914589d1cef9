"""The public benchmark sets under /work/shared/bench (or --sets DIR), split by the fixed rule in
app.core.evaluation.split, and the scoring each one documents.

Every set is in the `hearth eval` case format. sroie's README asks for its own comparison
(upper-cased, whitespace collapsed, a total's leading RM/$ dropped); the exact comparison
(app.core.tasks.extract.field_scores) is reported beside it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from app.core.evaluation.split import part

REPO = Path(__file__).resolve().parents[1]
SETS_DIR = Path(os.environ.get("HEARTH_BENCH_SETS", "/work/shared/bench"))
CACHE = REPO / "bench" / ".cache"
EXTRACT_SETS = ("sroie",)
CLASSIFY_SETS = ("banking77", "dynasent", "loghub_bgl")

# Short label descriptions, as a user would write them once per label set (the feature under test:
# editable descriptions). Written from the label names and the sets' READMEs, not from their cases.
DESCRIPTIONS = {
    "banking77": {
        "card_arrival": "when a new or ordered card will arrive in the post",
        "lost_or_stolen_card": "the card was lost or stolen",
        "exchange_rate": "the exchange rate used to convert currencies",
        "transfer_not_received_by_recipient": "a transfer or payment sent but the recipient has not received it",
        "top_up_failed": "topping up the account balance failed",
        "pin_blocked": "the PIN is blocked or locked after wrong attempts",
        "request_refund": "asking for a refund of a purchase",
        "cash_withdrawal_charge": "a fee charged for withdrawing cash at an ATM",
        "change_pin": "how to change the PIN",
        "terminate_account": "closing or deleting the account",
    },
    # dynasent: none; its labels (positive/negative/neutral) have built-in descriptions
    # (resources/classify/labels.json), which is what a user who writes none gets.
    "loghub_bgl": {
        "alert": "a failure an administrator must act on",
        "non-alert": "routine information or an error that needs no action",
    },
}


def load(name: str, which: str | None = None) -> list[dict]:
    path = SETS_DIR / name / "cases.jsonl"
    cases = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [c for c in cases if which is None or part(c["id"]) == which]


def train_examples(name: str) -> Path | None:
    path = SETS_DIR / name / "train_examples.jsonl"
    return path if path.is_file() else None


def _norm(value, key: str) -> str:
    text = " ".join(str(value).split()).upper() if value is not None else ""
    return re.sub(r"^(?:RM|\$)\s*", "", text) if key == "total" else text


def sroie_fields(expected: dict, got) -> dict[str, bool]:
    """The README's suggested comparison: upper case, single spaces, a total without its RM/$ prefix."""
    got = got if isinstance(got, dict) else {}
    return {k: got.get(k) is not None and _norm(v, k) == _norm(got.get(k), k) for k, v in expected.items()}


# -- per-case cache of slow, fixed outputs (the stand-in cloud, the baselines) ----------------
def _cache_file(kind: str) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    ignore = CACHE / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")  # the cache never reaches the repository
    return CACHE / f"{kind}.jsonl"


def input_key(case: dict) -> str:
    """A cached output belongs to the case's id and its exact input."""
    blob = json.dumps({k: case.get(k) for k in ("id", "input", "labels", "schema")}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class Cache:
    """Append-only JSON Lines of {"key", "value"}; the last line for a key wins."""

    def __init__(self, kind: str):
        self.path = _cache_file(kind)
        self.values = {}
        if self.path.is_file():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    row = json.loads(line)
                    self.values[row["key"]] = row["value"]

    def get(self, case: dict):
        return self.values.get(input_key(case))

    def __contains__(self, case: dict) -> bool:
        return input_key(case) in self.values

    def put(self, case: dict, value) -> None:
        key = input_key(case)
        self.values[key] = value
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"key": key, "id": case["id"], "value": value}) + "\n")


# Cases per part that also go to the stand-in cloud: all of them (short texts 2-6 s each on 2
# cores, receipts 17-32 s: about 15 + 45 minutes from an empty cache; bench/cloud_prefetch.py).
CLOUD_LIMITS = {"sroie": 100, "banking77": 100, "dynasent": 100, "loghub_bgl": 100}


def cloud_subset(name: str, cases: list[dict], limit: int = 0) -> list[dict]:
    """The cases of one part that also go to the stand-in cloud: the first N in file order."""
    return cases[: limit or CLOUD_LIMITS[name]]
