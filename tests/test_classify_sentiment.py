"""Zero-shot sentiment on the real MiniLM and VADER: for the built-in triple only, the shipped model (fitted on
DynaSent round 1 dev) reads the embedding, the lexicon and the embedder's label scores together."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from app.core.tasks import classify as cl
from app.core.tasks.classify import classify
from app.core.tasks.result import TaskError

SENTIMENT = ["positive", "negative", "neutral"]


@pytest.mark.parametrize(("text", "expected", "embedder_alone"), [
    ("The room was spotless and the bed was so comfortable.", "positive", "negative"),
    ("The bakery opens at seven on weekdays.", "neutral", "positive"),
])
def test_the_lexicon_corrects_what_the_embedder_alone_gets_wrong(services, text, expected, embedder_alone):
    alone = cl.similarity_probabilities(services.embedder, text, SENTIMENT, {})
    assert SENTIMENT[int(np.argmax(alone))] == embedder_alone  # the case this mix exists for
    result = classify(services, text, SENTIMENT)
    assert result.route == "local" and result.label == expected
    assert math.isclose(sum(result.scores.values()), 1.0, abs_tol=1e-3)


def test_sentiment_probabilities_follow_the_labels_not_their_order_or_casing(services):
    text = "What a waste of money."
    plain = classify(services, text, SENTIMENT).scores
    shuffled = classify(services, text, ["Neutral", "POSITIVE", "negative"]).scores
    assert plain["negative"] > 0.5 and shuffled["negative"] > 0.5
    assert math.isclose(plain["positive"], shuffled["POSITIVE"], abs_tol=1e-4)
    assert math.isclose(plain["neutral"], shuffled["Neutral"], abs_tol=1e-4)


def test_other_label_sets_and_described_labels_keep_the_embedder_alone(services):
    text = "The room was spotless and the bed was so comfortable."
    assert cl.is_builtin_sentiment(["Neutral", "positive", "negative"], {})
    described = {"positive": "praise of a hotel"}
    for labels, descriptions in ((SENTIMENT, described), (["positive", "negative"], {}), (["positive", "negative", "mixed"], {})):
        assert not cl.is_builtin_sentiment(labels, descriptions)
        got = classify(services, text, labels, descriptions=descriptions)
        alone = cl.similarity_probabilities(services.embedder, text, labels, descriptions)
        assert np.allclose([got.scores[label] for label in labels], alone, atol=1e-4)
        assert got.raw_confidence == round(cl.margin(alone), 4)  # their confidence stays the winner's margin


def test_lexicon_features_read_negation_and_mark_text_without_sentiment_words():
    good, not_good, plain = (cl.lexicon_features(t) for t in ("The food was good.", "The food was not good.", "We arrived at noon."))
    assert good[0] > 0.3 and not_good[0] < -0.3 and good[1] > 0 and not_good[2] > 0
    assert plain[0] == 0.0 and plain[-1] == 1.0 and good[-1] == 0.0 and good[-2] == abs(good[0])
    assert len(good) == len(cl.LEXICON_FEATURES)


def test_negation_flips_the_decision(services):
    assert classify(services, "The food was good.", SENTIMENT).label == "positive"
    assert classify(services, "The food was not good.", SENTIMENT).label == "negative"


def test_the_shipped_model_reads_the_lexicon_in_the_right_direction(services):
    model = cl.sentiment_model()
    features = cl.sentiment_features(services.embedder, "We went there on a Tuesday.")
    assert model.weights.shape == (3, len(features)) == (3, services.embedder.dimension + len(cl.SENTIMENT_FEATURES) - 1)
    at = cl.SENTIMENT_FEATURES.index("compound") - 1 + services.embedder.dimension
    probs = []
    for compound in (-0.9, 0.0, 0.9):  # the text's own lexicon scores replaced, its embedding kept
        moved = features.copy()
        moved[at:at + len(cl.LEXICON_FEATURES)] = [compound, max(compound, 0), max(-compound, 0), 1 - abs(compound), abs(compound), compound == 0]
        probs.append(model.probabilities(moved))
    odds = [np.log(p[0] / p[1]) for p in probs]  # positive against negative rises with the polarity
    assert odds == sorted(odds) and odds[2] > odds[0] + 2
    assert [SENTIMENT[int(np.argmax(p))] for p in probs] == ["negative", "neutral", "positive"]  # neutral where there is none


def test_clear_sentences_get_more_confidence_than_hedged_ones(services):
    clear = [classify(services, t, SENTIMENT) for t in ("Wonderful staff, I loved every minute and will be back.", "The food was good.")]
    hedged = [classify(services, t, SENTIMENT) for t in ("The food was fine but the service was slow.", "It was okay, I guess.")]
    assert min(r.raw_confidence for r in clear) > max(r.raw_confidence for r in hedged)
    assert min(r.confidence for r in clear) > max(r.confidence for r in hedged)  # the calibration keeps the order


def test_the_confidence_is_the_fitted_chance_that_the_winner_is_right(services):
    text = "The food was good but we waited an hour."
    model, features = cl.sentiment_model(), cl.sentiment_features(services.embedder, text)
    assert model.judge_weights.shape == (len(features) + len(cl.CONFIDENCE_FEATURES) - len(cl.SENTIMENT_FEATURES),)
    probs = model.probabilities(features)
    result = classify(services, text, SENTIMENT)
    assert result.raw_confidence == round(model.confidence(probs, features, text), 4) != round(cl.margin(probs), 4)
    assert 0.0 < result.raw_confidence < 1.0
    # The same text, decided more and more clearly for the same label: the fitted model grows surer of it.
    winner = int(np.argmax(probs))
    decided = [np.where(np.arange(3) == winner, share, (1 - share) / 2) for share in (0.4, 0.6, 0.8, 0.95)]
    chances = [model.confidence(p, features, text) for p in decided]
    assert chances == sorted(chances) and chances[-1] > chances[0] + 0.2


@pytest.mark.parametrize("damage", ['{"weights": {"positive": {}}}', "confidence"])
def test_a_damaged_model_file_is_named_in_the_error(services, tmp_path, monkeypatch, damage):
    bad = tmp_path / "sentiment.json"
    if damage == "confidence":  # a model from before the confidence was fitted beside it
        table = json.loads(cl.sentiment_model_path().read_text(encoding="utf-8"))
        damage = json.dumps({k: v for k, v in table.items() if k != "confidence"})
    bad.write_text(damage, encoding="utf-8")
    monkeypatch.setattr(cl, "sentiment_model_path", lambda: bad)
    cl.sentiment_model.cache_clear()
    try:
        with pytest.raises(TaskError, match=f"{bad}: not a sentiment model"):
            classify(services, "The food was good.", SENTIMENT)
    finally:
        cl.sentiment_model.cache_clear()
