"""Extract quality: Hearth's extract against a plain-prompt baseline, same model, same run.

    .venv/bin/python bench/quality_extract.py [--data tests/data/eval/extract.jsonl] [--limit N]

Baseline: one plain prompt ("Extract ... as JSON"), no grammar, the first JSON object parsed
from the output; an unparseable output gets every field wrong. Both are scored with
app.core.tasks.extract.field_scores: all-fields-correct % and field accuracy.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def first_json(text: str):
    decoder = json.JSONDecoder()
    for i, ch in enumerate(text):
        if ch == "{":
            try:
                return decoder.raw_decode(text, i)[0]
            except json.JSONDecodeError:
                continue
    return None


def baseline(engine, text: str, schema: dict, max_tokens: int = 384):
    prompt = f"Extract {', '.join(schema['properties'])} from this text as JSON.\n\n{text}"
    return first_json("".join(engine.stream([{"role": "user", "content": prompt}], max_tokens=max_tokens)))


def hearth(services, text: str, schema: dict):
    from app.core.streams import drain
    from app.core.tasks.extract import extract

    return drain(extract(services, text, schema)).data


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default=str(REPO / "tests" / "data" / "eval" / "extract.jsonl"))
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("HEARTH_HOME", tempfile.mkdtemp(prefix="hearth-bench-"))
    from app.core.services import Services
    from app.core.tasks.extract import field_scores, load_schema

    cases = [json.loads(line) for line in Path(args.data).read_text().splitlines() if line.strip()]
    cases = cases[: args.limit] if args.limit else cases
    services = Services()
    totals = {name: {"all": 0, "fields": 0, "right": 0} for name in ("baseline", "hearth")}
    per_schema: dict[str, dict] = {}
    for case in cases:
        schema = load_schema(case["schema"])
        for name, run in (("baseline", lambda: baseline(services.engine, case["input"], schema)),
                          ("hearth", lambda: hearth(services, case["input"], schema))):
            scores = field_scores(case["expected"], run())
            t, s = totals[name], per_schema.setdefault(case["schema"], {}).setdefault(name, [0, 0])
            t["fields"] += len(scores)
            t["right"] += sum(scores.values())
            t["all"] += all(scores.values())
            s[0] += all(scores.values())
            s[1] += 1
            if args.verbose and name == "hearth" and not all(scores.values()):
                print(case["id"], [k for k, ok in scores.items() if not ok], file=sys.stderr)
    services.close()
    n = len(cases)
    print(f"{n} cases from {args.data}")
    print(f"{'':10} {'all-fields-correct':>20} {'field accuracy':>16}")
    pct = {}
    for name, t in totals.items():
        pct[name] = (100 * t["all"] / n, 100 * t["right"] / max(1, t["fields"]))
        print(f"{name:10} {pct[name][0]:19.1f}% {pct[name][1]:15.1f}%")
    print(f"{'difference':10} {pct['hearth'][0] - pct['baseline'][0]:+19.1f}  {pct['hearth'][1] - pct['baseline'][1]:+15.1f}")
    for schema, runs in per_schema.items():
        print(f"  {schema:13} " + "  ".join(f"{k} {v[0]}/{v[1]}" for k, v in runs.items()))


if __name__ == "__main__":
    main()
