"""Zero-shot sentiment on the real MiniLM and VADER: the lexicon joins the embedder for the built-in triple only."""

from __future__ import annotations

import math

import numpy as np
import pytest

from app.core.tasks import classify as cl
from app.core.tasks.classify import classify

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
        got = classify(services, text, labels, descriptions=descriptions).scores
        alone = cl.similarity_probabilities(services.embedder, text, labels, descriptions)
        assert np.allclose([got[label] for label in labels], alone, atol=1e-4)


def test_lexicon_polarity_reads_negation_and_is_zero_without_sentiment_words():
    assert cl.lexicon_polarity("The food was good.") > 0.3
    assert cl.lexicon_polarity("The food was not good.") < -0.3
    assert cl.lexicon_polarity("We arrived at noon.") == 0.0


def test_the_shipped_weights_make_polarity_decide_and_neutral_win_without_it():
    weights = cl.sentiment_weights()
    assert set(weights) == set(cl.SENTIMENT_FEATURES) and weights["polarity"] > 0 and weights["embedder"] > 0
    vector = np.array([weights[f] for f in cl.SENTIMENT_FEATURES])
    same = np.zeros(3)  # an embedder with no opinion: the lexicon decides
    assert int(np.argmax(cl.sentiment_features(same, 0.9) @ vector)) == 0
    assert int(np.argmax(cl.sentiment_features(same, -0.9) @ vector)) == 1
    assert int(np.argmax(cl.sentiment_features(same, 0.0) @ vector)) == 2
