"""Classify quality: the plain baseline against Hearth's methods, in one run, on one model.

    .venv/bin/python bench/quality_classify.py [--limit N]

Cases: tests/data/eval/classify.jsonl (held out); teaching examples: tests/data/classify_examples.jsonl
(ticket labels only, so sentiment and error cases always take the LM route).

  baseline      one plain prompt listing the labels; argmax of the label log-probabilities
  lm            Hearth's prompt (+ label descriptions for tickets), scores both casings, no calibration
  lm+calib      the same, divided by the scores for a content-free input ("N/A")
  lm+shots      lm+calib with the 4 most similar teaching examples in the prompt (tickets)
  taught        logistic regression on MiniLM embeddings of the examples (tickets)
  taught*lm     product of taught and lm+shots probabilities (tickets)
  hearth        what classify() does: taught where a classifier exists, else lm+calib
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ["HEARTH_HOME"] = tempfile.mkdtemp(prefix="hearth-bench-classify-")

from app.core.tasks import classify as cl  # noqa: E402
from app.core.tasks import teach  # noqa: E402

TICKETS = ["billing", "technical", "account", "shipping", "feedback"]
# What a user would write once for the ticket task.
DESCRIPTIONS = {
    "billing": "payments, charges, refunds, invoices, prices, plans",
    "technical": "bugs, errors, crashes, something in the product not working",
    "account": "login, password, profile, users and access, closing an account",
    "shipping": "orders, delivery, tracking, parcels, returns, addresses",
    "feedback": "opinions, praise, complaints about the product, feature ideas",
}
METHODS = ["baseline", "lm", "lm+calib", "lm+shots", "taught", "taught*lm", "hearth"]


def baseline(engine, case) -> np.ndarray:
    labels = case["labels"]
    msgs = [{"role": "user", "content": f"Classify this text into one of these categories: {', '.join(labels)}.\n\nText: {case['input']}"}]
    return cl._softmax(np.asarray(engine.score_choices(msgs, labels)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=0)
    args = parser.parse_args()

    from app.core.embedding import Embedder
    from app.core.llm.local import LocalEngine
    from app.core.models import chat_model_path

    class Services:  # what classify() needs of app.core.services.Services, without settings or locks
        embedder = Embedder()
        engine = LocalEngine(chat_model_path(), n_ctx=2048)

    services = Services()
    cases = [json.loads(line) for line in (REPO / "tests/data/eval/classify.jsonl").read_text().splitlines() if line.strip()]
    cases = cases[: args.limit] if args.limit else cases
    started = time.perf_counter()
    clf = teach.train(services, REPO / "tests/data/classify_examples.jsonl", TICKETS, "tickets")
    print(f"taught on {len(clf.texts)} examples in {time.perf_counter() - started:.2f}s (temperature {clf.temperature:.2f})")

    priors: dict[tuple, np.ndarray] = {}  # content-free scores depend only on the prompt without the text
    right = {m: [] for m in METHODS}
    conf = []  # (confidence, correct) for hearth
    started = time.perf_counter()
    for case in cases:
        labels, tickets = case["labels"], case["labels"] == TICKETS
        desc = DESCRIPTIONS if tickets else {}
        key = tuple(labels)
        if key not in priors:
            priors[key] = cl.lm_logprobs(services.engine, cl.CONTENT_FREE, labels, desc, [])
        raw = cl.lm_logprobs(services.engine, case["input"], labels, desc, [])
        probs = {"baseline": baseline(services.engine, case), "lm": cl._softmax(raw), "lm+calib": cl._softmax(raw - priors[key])}
        if tickets:
            vector = services.embedder.embed([case["input"]])[0]
            probs["lm+shots"] = cl.lm_probabilities(services.engine, case["input"], labels, desc, clf.nearest(vector, cl.SHOTS))
            probs["taught"] = clf.probabilities(vector)
            probs["taught*lm"] = probs["taught"] * probs["lm+shots"]
        for m in ("lm+shots", "taught", "taught*lm"):
            probs.setdefault(m, probs["lm+calib"])
        probs["hearth"] = probs["taught"]
        for m in METHODS:
            right[m].append(labels[int(np.argmax(probs[m]))] == case["expected"])
        top = np.sort(probs["hearth"])[-2:]
        conf.append((float(top[1]) if tickets else float(top[1] - top[0]), right["hearth"][-1]))
    elapsed = time.perf_counter() - started

    ticket_rows = [i for i, c in enumerate(cases) if c["labels"] == TICKETS]
    print(f"\n{len(cases)} cases ({len(ticket_rows)} 5-way tickets) in {elapsed:.0f}s\n")
    print(f"{'method':<11} {'all':>6} {'tickets':>8} {'vs baseline (all)':>18}")
    base = np.mean(right["baseline"])
    for m in METHODS:
        acc, tacc = np.mean(right[m]), np.mean([right[m][i] for i in ticket_rows]) if ticket_rows else float("nan")
        print(f"{m:<11} {acc:6.1%} {tacc:8.1%} {100 * (acc - base):+17.1f}pt")

    print("\nhearth confidence vs accuracy")
    print(f"{'confidence':<12} {'n':>3} {'accuracy':>9}")
    for lo, hi in ((0.0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1.01)):
        hits = [ok for c, ok in conf if lo <= c < hi]
        print(f"{lo:.2f}-{min(hi, 1):.2f}    {len(hits):>3} {np.mean(hits) if hits else float('nan'):9.1%}")
    services.engine.close()


if __name__ == "__main__":
    main()
