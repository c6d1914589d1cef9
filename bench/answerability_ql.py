"""Does the default model's query likelihood tell answerable questions from unanswerable ones? A
measurement behind #13's note, not a shipped signal.

    scripts/test-session.sh --exec .venv/bin/python bench/answerability_ql.py DEV_JSON EXTRA_JSON [--cases N]

The data and the evidence are answerability_probe.py's: the SQuAD dev part of appcoreopc/
squad2controlled's dev-v2.0.json and N seeded questions of its train-v2.0.json's
"Computational_complexity_theory" (CCT); the evidence is the paragraph's sentence pair most like the
question, or the whole paragraph. The signal (as in UPR, Sachan et al. 2022, which reranks passages
by it) is the pointwise mutual information of question and evidence: log p(question | evidence, "Write
a question that this passage answers.") minus log p(question | "Write a question."), per token (its
mean, minimum and sum), in a chat prompt and in a plain one ("EVIDENCE\\nQuestion: ..."). Printed: each
signal's own AUROC per set, then the lexical baseline (answerability_probe's) and lexical + each signal
fitted on one set and scored on the other, both ways round.

Measured on 2026-12-02 (342 + 200 questions, about 50 min beside other jobs): alone, the PMI scores 0.51-0.57 on the SQuAD dev
part (the embedder's similarity 0.708) and 0.34-0.49 on CCT, where unanswerable questions, written to
look like their paragraph, are the likelier ones; lexical 0.608 / 0.597, lexical + the best PMI signal
0.622 / 0.600. Not shipped: it adds nothing, for two more prompt evaluations.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from answerability_probe import _model, arguments, lexical_signals, question_sets  # noqa: E402

PROMPTS = {  # (with evidence, without)
    "chat": (lambda evidence: f"<|im_start|>user\nPassage: {evidence}\nWrite a question that this passage answers.<|im_end|>\n"
                              "<|im_start|>assistant\n",
             "<|im_start|>user\nWrite a question.<|im_end|>\n<|im_start|>assistant\n"),
    "plain": (lambda evidence: f"{evidence}\nQuestion:", "Question:"),
}
LEXICAL = ("similarity", "coverage", "paragraph_coverage")


class QueryLikelihood:
    def __init__(self, model: Path) -> None:
        import llama_cpp

        self.llm = llama_cpp.Llama(model_path=str(model), n_ctx=1024, n_batch=512, logits_all=True, verbose=False)

    def token_logprobs(self, prefix: str, question: str) -> np.ndarray:
        head = self.llm.tokenize(prefix.encode(), add_bos=False, special=True)
        tail = self.llm.tokenize(f" {question}".encode(), add_bos=False, special=False)
        head = head[max(0, len(head) + len(tail) - 1000) :]
        self.llm.reset()
        self.llm.eval(head + tail)
        logits = np.array(self.llm.scores[len(head) - 1 : len(head) + len(tail) - 1], dtype=np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        return logits[np.arange(len(tail)), tail] - np.log(np.exp(logits).sum(axis=1))


def row(embedder, likelihood: QueryLikelihood, case: dict) -> dict[str, float]:
    pair, signals = lexical_signals(embedder, case)
    out = dict(zip(LEXICAL, signals))
    for style, (with_evidence, without) in PROMPTS.items():
        alone = likelihood.token_logprobs(without, case["question"])
        for unit, evidence in (("pair", pair), ("paragraph", case["context"])):
            pmi = likelihood.token_logprobs(with_evidence(evidence), case["question"]) - alone
            out |= {f"{style} {unit} mean": pmi.mean(), f"{style} {unit} min": pmi.min(), f"{style} {unit} sum": pmi.sum()}
    return out


def main() -> None:
    from sklearn.metrics import roc_auc_score

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args = arguments(argparse.ArgumentParser()).parse_args()
    from app.core.embedding import Embedder
    from app.core.models.registry import chat_model_path

    started = time.perf_counter()
    sets = question_sets(args)
    embedder, likelihood = Embedder(), QueryLikelihood(chat_model_path())
    rows = {name: [row(embedder, likelihood, case) for case in cases] for name, cases in sets.items()}
    answerable = {name: np.array([c["answerable"] for c in cases], dtype=int) for name, cases in sets.items()}
    signals = [k for k in rows["CCT"][0] if k not in LEXICAL]
    for name in sets:
        print(f"{name}, each signal alone: " + ", ".join(f"{k} {roc_auc_score(answerable[name], [r[k] for r in rows[name]]):.3f}"
                                                         for k in rows[name][0]))
    (a, b) = sets
    print(f"{'fitted on -> scored on':28} {a + ' -> ' + b:>24} {b + ' -> ' + a:>24}")
    for extra in [None, *signals]:
        features = [*LEXICAL, extra] if extra else list(LEXICAL)
        got = []
        for fitted, scored in ((a, b), (b, a)):
            x = {n: np.array([[r[f] for f in features] for r in rows[n]]) for n in (fitted, scored)}
            model = _model(1.0).fit(x[fitted], answerable[fitted])
            got.append(roc_auc_score(answerable[scored], model.predict_proba(x[scored])[:, 1]))
        print(f"{'lexical + ' + extra if extra else 'lexical':28} {got[0]:>24.3f} {got[1]:>24.3f}")
    print(f"{time.perf_counter() - started:.0f} s; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
