"""Classify quality: the plain baseline against Hearth's methods, in one run, on one model.

    .venv/bin/python bench/quality_classify.py [--limit N] [--set dynasent|banking77|loghub_bgl [--part dev]]
    .venv/bin/python bench/quality_classify.py --fit-sentiment   (refits resources/classify/sentiment.json)

Cases: tests/data/eval/classify.jsonl (a regression set, not evidence: the public sets are measured by
bench/quality.py); teaching examples: tests/data/classify_examples.jsonl (ticket labels only, so
sentiment and error cases always take the zero-shot route).

  baseline      one plain prompt listing the labels; argmax of the label log-probabilities
  lm            Hearth's prompt (+ label descriptions for tickets), scores both casings, no calibration
  lm+calib      the same, divided by the scores for a content-free input ("N/A")
  lm+shots      lm+calib with the 4 most similar teaching examples in the prompt (tickets)
  taught        logistic regression on MiniLM embeddings of the examples (tickets)
  taught*lm     product of taught and lm+shots probabilities (tickets)
  embedder      the embedder alone: the text against each label's name and descriptions (built-in ones
                for sentiment labels), less a content-free input's similarity
  zero-shot     what classify() does without examples: the embedder, mixed with the VADER lexicon's
                polarity for the built-in sentiment triple (weights: --fit-sentiment, dev part only)
  zero-shot*lm  zero-shot times lm+calib (their log-probabilities added)
  hearth        what classify() does: taught where a classifier exists, else zero-shot (with --set:
                zero-shot; bench/quality.py reports the taught figure beside it)
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
METHODS = ["baseline", "lm", "lm+calib", "lm+shots", "taught", "taught*lm", "embedder", "zero-shot", "zero-shot*lm", "hearth"]
SENTIMENT_SET = "dynasent"


def fit_sentiment(embedder) -> None:
    """The weights of classify.sentiment_probabilities by maximum likelihood (a multinomial logit with
    shared weights) on the dev part of dynasent only, written to resources/classify/sentiment.json."""
    from scipy.optimize import minimize

    import public_sets as ps
    from app.core.resources import resources_root

    cases = ps.load(SENTIMENT_SET, "dev")
    labels = list(cl.SENTIMENT)
    feats = np.stack([cl.sentiment_features(cl.zero_shot_scores(embedder, c["input"], labels, {}, name_weight=0.0),
                                            cl.lexicon_polarity(c["input"])) for c in cases])
    gold = np.array([labels.index(c["expected"]) for c in cases])

    def loss(w: np.ndarray) -> float:
        logits = feats @ w
        top = logits.max(axis=1, keepdims=True)
        return float(-(logits[np.arange(len(gold)), gold] - top[:, 0] - np.log(np.exp(logits - top).sum(axis=1))).mean())

    start = np.zeros(len(cl.SENTIMENT_FEATURES))
    start[0] = 1 / cl.TEMPERATURE
    weights = minimize(loss, start, method="L-BFGS-B").x
    accuracy = float(((feats @ weights).argmax(axis=1) == gold).mean())
    path = resources_root() / "classify" / "sentiment.json"
    path.write_text(json.dumps({
        "_about": "Weights of zero-shot sentiment (app/core/tasks/classify.py sentiment_probabilities), fitted by "
                  "bench/quality_classify.py --fit-sentiment on the dev part of dynasent only.",
        "fitted_on": f"{SENTIMENT_SET} dev, {len(cases)} cases", "dev_accuracy_in_fit": round(accuracy, 4),
        "weights": {name: round(float(w), 3) for name, w in zip(cl.SENTIMENT_FEATURES, weights)}}, indent=1) + "\n", encoding="utf-8")
    print(f"fitted {path} on {len(cases)} dev cases: {dict(zip(cl.SENTIMENT_FEATURES, np.round(weights, 3)))}, accuracy in fit {accuracy:.1%}")


def baseline(engine, case) -> np.ndarray:
    labels = case["labels"]
    msgs = [{"role": "user", "content": f"Classify this text into one of these categories: {', '.join(labels)}.\n\nText: {case['input']}"}]
    return cl._softmax(np.asarray(engine.score_choices(msgs, labels)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--set", help="a public set of bench/public_sets.py (e.g. dynasent) instead of tests/data/eval")
    parser.add_argument("--part", choices=["dev", "test"], default="dev", help="with --set: tune on dev only")
    parser.add_argument("--fit-sentiment", action="store_true", help="refit the zero-shot sentiment weights on dynasent dev, then stop")
    args = parser.parse_args()

    from app.core.embedding import Embedder
    from app.core.evaluation.ranking import auroc
    from app.core.llm.local import LocalEngine
    from app.core.models import chat_model_path

    if args.fit_sentiment:
        fit_sentiment(Embedder())
        return

    class Services:  # what classify() needs of app.core.services.Services, without settings or locks
        embedder = Embedder()
        engine = LocalEngine(chat_model_path(), n_ctx=2048, n_threads=1)

    services = Services()
    if args.set:
        import public_sets as ps

        cases = ps.load(args.set, args.part)
        taught_labels, examples, descriptions = cases[0]["labels"], ps.train_examples(args.set), ps.DESCRIPTIONS.get(args.set) or {}
    else:
        cases = [json.loads(line) for line in (REPO / "tests/data/eval/classify.jsonl").read_text().splitlines() if line.strip()]
        taught_labels, examples, descriptions = TICKETS, REPO / "tests/data/classify_examples.jsonl", DESCRIPTIONS
    cases = cases[: args.limit] if args.limit else cases
    started = time.perf_counter()
    clf = teach.train(services, examples, taught_labels, "bench") if examples else None
    if clf:
        print(f"taught on {len(clf.texts)} examples in {time.perf_counter() - started:.2f}s (temperature {clf.temperature:.2f})")

    priors: dict[tuple, np.ndarray] = {}  # content-free scores depend only on the prompt without the text
    right = {m: [] for m in METHODS}
    margins = {m: [] for m in METHODS}
    started = time.perf_counter()
    for case in cases:
        labels = case["labels"]
        taught = clf is not None and labels == taught_labels
        desc = descriptions if labels == taught_labels else {}
        key = tuple(labels)
        if key not in priors:
            priors[key] = cl.lm_logprobs(services.engine, cl.CONTENT_FREE, labels, desc, [])
        raw = cl.lm_logprobs(services.engine, case["input"], labels, desc, [])
        probs = {"baseline": baseline(services.engine, case), "lm": cl._softmax(raw), "lm+calib": cl._softmax(raw - priors[key])}
        probs["embedder"] = cl.similarity_probabilities(services.embedder, case["input"], labels, desc)
        probs["zero-shot"] = cl.zero_shot_probabilities(services.embedder, case["input"], labels, desc)
        probs["zero-shot*lm"] = cl._softmax(np.log(probs["zero-shot"] + 1e-12) + raw - priors[key])
        if taught:
            vector = services.embedder.embed([case["input"]])[0]
            probs["lm+shots"] = cl.lm_probabilities(services.engine, case["input"], labels, desc, clf.nearest(vector, cl.SHOTS))
            probs["taught"] = clf.probabilities(vector)
            probs["taught*lm"] = probs["taught"] * probs["lm+shots"]
        for m in ("lm+shots", "taught", "taught*lm"):
            probs.setdefault(m, probs["lm+calib"])
        probs["hearth"] = probs["taught"] if taught and not args.set else probs["zero-shot"]  # public sets: zero-shot
        for m in METHODS:
            right[m].append(labels[int(np.argmax(probs[m]))] == case["expected"])
            margins[m].append(cl.margin(probs[m]))
    elapsed = time.perf_counter() - started

    taught_rows = [i for i, c in enumerate(cases) if c["labels"] == taught_labels]
    print(f"\n{args.set or 'tests/data/eval'} {args.part if args.set else ''}: {len(cases)} cases "
          f"({len(taught_rows)} with the taught label set) in {elapsed:.0f}s\n")
    print(f"{'method':<13} {'all':>6} {'taught set':>10} {'vs baseline':>12} {'AUROC of margin':>16}")
    base = np.mean(right["baseline"])
    for m in METHODS:
        acc, tacc = np.mean(right[m]), np.mean([right[m][i] for i in taught_rows]) if taught_rows else float("nan")
        ranking = auroc(margins[m], right[m])
        print(f"{m:<13} {acc:6.1%} {tacc:10.1%} {100 * (acc - base):+10.1f}pt {'-' if ranking is None else f'{ranking:.3f}':>16}")
    services.engine.close()


if __name__ == "__main__":
    main()
