"""Does the default model's hidden state tell answerable questions from unanswerable ones? A
measurement behind #13's note, not a shipped signal.

    scripts/test-session.sh --exec .venv/bin/python bench/answerability_probe.py DEV_JSON EXTRA_JSON [--cases N]

DEV_JSON is SQuAD 2.0 dev data (appcoreopc/squad2controlled's dev-v2.0.json: Normans, Rhine);
only the paragraphs `app.core.evaluation.split` puts in the dev part are read, so the ask bench's
test part stays unseen. EXTRA_JSON is that repository's train-v2.0.json, whose article
"Computational_complexity_theory" (CCT) is in no bench part; N of its questions are drawn, seeded.
Both articles hold answerable and unanswerable questions about the same paragraphs, so a probe
cannot learn the topic instead of the answer.

For each question the evidence is the pair of consecutive sentences of its paragraph most like
the question (the embedder), a stand-in for ask's best answer unit. The model reads the prompt
"Evidence: ... Question: ..." once; its final hidden states, averaged over the question's tokens,
feed a logistic regression (the probe). A control reads the question alone, with no evidence:
what it scores comes from how unanswerable questions are worded, which real users' questions do
not share. The lexical baseline is a logistic regression over the embedder's similarity and the
question's term coverage of the pair and of the paragraph (the kind of signals answerability.py
uses). Every figure is an AUROC on one article of a fit on the other, both ways round.

Measured on 2026-12-02 (342 + 200 questions, 494 s): lexical 0.608 / 0.597, question alone 0.583 /
0.596, probe 0.627 / 0.607, lexical + probe 0.640 / 0.632. The probe adds 0.03 over the lexical
signals, short of ask's 0.70 goal by far, for one more prompt evaluation before the first text;
not shipped.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


def questions(path: Path, title: str | None = None, part: str | None = None) -> list[dict]:
    from app.core.evaluation.split import part as part_of

    out = []
    for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
        if title and article["title"] != title:
            continue
        for n, paragraph in enumerate(article["paragraphs"]):
            if part and part_of(f"{article['title']}-{n:03d}") != part:
                continue
            out += [{"context": paragraph["context"], "question": qa["question"], "answerable": not qa.get("is_impossible", False)}
                    for qa in paragraph["qas"]]
    return out


def arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("dev", type=Path)
    parser.add_argument("extra", type=Path)
    parser.add_argument("--cases", type=int, default=200, help="CCT questions drawn (seeded)")
    return parser


def question_sets(args: argparse.Namespace) -> dict[str, list[dict]]:
    """The two article sets: the SQuAD dev part, and the seeded CCT sample."""
    return {"SQuAD dev part": questions(args.dev, part="dev"),
            "CCT": random.Random(0).sample(questions(args.extra, title="Computational_complexity_theory"), args.cases)}


def best_pair(embedder, case: dict) -> tuple[str, float]:
    sentences = [s for s in _SENTENCE_END.split(case["context"]) if s.strip()]
    pairs = [" ".join(sentences[i : i + 2]) for i in range(max(1, len(sentences) - 1))]
    vectors = np.array(embedder.embed([case["question"]] + pairs))
    similarity = vectors[1:] @ vectors[0]
    return pairs[int(np.argmax(similarity))], float(similarity.max())


class HiddenStates:
    """The model's final hidden states for a prompt (llama.cpp's embeddings output, no pooling)."""

    def __init__(self, model: Path) -> None:
        import llama_cpp

        self._cpp = llama_cpp
        self.llm = llama_cpp.Llama(model_path=str(model), embedding=True, n_ctx=1024, n_batch=1024, n_ubatch=1024,
                                   pooling_type=llama_cpp.LLAMA_POOLING_TYPE_NONE, verbose=False)

    def question_mean(self, evidence: str, question: str) -> np.ndarray:
        head = f"<|im_start|>user\nEvidence: {evidence}\n\n" if evidence else "<|im_start|>user\n"
        tail = f"Question: {question}<|im_end|>\n<|im_start|>assistant\n"
        tokens = [self.llm.tokenize(t.encode(), add_bos=False, special=True) for t in (head, tail)]
        ids = (tokens[0] + tokens[1])[-1000:]
        batch, ctx, width = self.llm._batch, self.llm._ctx, self.llm.n_embd()
        batch.reset()
        ctx.kv_cache_clear()
        batch.add_sequence(ids, 0, True)
        ctx.decode(batch)
        states = np.ctypeslib.as_array(self._cpp.llama_get_embeddings(ctx.ctx), shape=(len(ids) * width,)).reshape(len(ids), width)
        return states[-len(tokens[1]) :].mean(axis=0)


def lexical_signals(embedder, case: dict) -> tuple[str, list[float]]:
    """The best pair, and the lexical baseline's signals: its similarity to the question, and the
    question's term coverage of the pair and of the paragraph."""
    from app.core.retrieval import terms

    pair, similarity = best_pair(embedder, case)
    asked = terms(case["question"])
    return pair, [similarity, len(asked & terms(pair)) / max(1, len(asked)), len(asked & terms(case["context"])) / max(1, len(asked))]


def features(cases: list[dict], embedder, hidden: HiddenStates) -> dict[str, np.ndarray]:
    lexical, probe, control = [], [], []
    for case in cases:
        pair, signals = lexical_signals(embedder, case)
        lexical.append(signals)
        probe.append(hidden.question_mean(pair, case["question"]))
        control.append(hidden.question_mean("", case["question"]))
    return {"lexical": np.array(lexical), "probe": np.array(probe), "control": np.array(control),
            "y": np.array([c["answerable"] for c in cases], dtype=int)}


def _model(c: float):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=3000, class_weight="balanced"))


def scores(train: dict, held: dict, probe_c: float) -> dict[str, float]:
    """AUROC on `held` of each fit on `train`; the stacked fit takes the probe's out-of-fold scores on `train`."""
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    def probe_scores(kind: str) -> tuple[np.ndarray, np.ndarray]:
        folds = StratifiedKFold(5, shuffle=True, random_state=0)
        oof = cross_val_predict(_model(probe_c), train[kind], train["y"], cv=folds, method="predict_proba")[:, 1]
        return oof, _model(probe_c).fit(train[kind], train["y"]).predict_proba(held[kind])[:, 1]

    out = {"lexical": _model(1.0).fit(train["lexical"], train["y"]).predict_proba(held["lexical"])[:, 1]}
    for kind in ("control", "probe"):
        oof, out[kind] = probe_scores(kind)
        stacked = _model(1.0).fit(np.column_stack([train["lexical"], oof]), train["y"])
        out[f"lexical+{kind}"] = stacked.predict_proba(np.column_stack([held["lexical"], out[kind]]))[:, 1]
    return {name: round(float(roc_auc_score(held["y"], p)), 3) for name, p in out.items()}


def main() -> None:
    parser = arguments(argparse.ArgumentParser())
    parser.add_argument("--probe-c", type=float, default=0.01, help="the probe's inverse L2 strength")
    args = parser.parse_args()
    from app.core.embedding import Embedder
    from app.core.models.registry import chat_model_path

    started = time.perf_counter()
    sets = question_sets(args)
    embedder, hidden = Embedder(), HiddenStates(chat_model_path())
    measured = {name: features(cases, embedder, hidden) for name, cases in sets.items()}
    names = list(measured)
    print(f"{'fitted on -> scored on':34} " + "  ".join(f"{k:>16}" for k in ("lexical", "control", "lexical+control", "probe", "lexical+probe")))
    for a, b in ((names[0], names[1]), (names[1], names[0])):
        got = scores(measured[a], measured[b], args.probe_c)
        print(f"{a + ' -> ' + b:34} " + "  ".join(f"{got[k]:>16.3f}" for k in ("lexical", "control", "lexical+control", "probe", "lexical+probe")))
    for name, m in measured.items():
        print(f"{name}: {len(m['y'])} questions, {int((m['y'] == 0).sum())} unanswerable")
    print(f"{time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
