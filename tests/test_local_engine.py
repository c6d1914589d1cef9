"""The llama owner thread: streaming, cancellation between tokens, and one-line load errors."""

import threading

import pytest

from app.core.llm.local import Generation, LocalEngine
from app.core.models import ModelError

PROMPT = [{"role": "user", "content": "Write a long story about a lighthouse keeper and the sea."}]


def test_tokens_stream_and_are_measured(shared_engine):
    result = Generation()
    pieces = list(shared_engine.stream(PROMPT, max_tokens=24, result=result))
    assert len(pieces) > 1 and "".join(pieces) == result.text
    assert 0 < result.tokens_out <= 24 and result.tokens_in > 5
    assert 0.0 < result.mean_prob <= 1.0 and not result.cancelled


def test_a_cancel_flag_stops_generation_between_tokens(shared_engine):
    cancel, result, pieces = threading.Event(), Generation(), []
    for piece in shared_engine.stream(PROMPT, max_tokens=400, cancel=cancel, result=result):
        pieces.append(piece)
        if len(pieces) == 3:
            cancel.set()
    assert result.cancelled and len(pieces) <= 4 and result.tokens_out < 20


def test_closing_the_stream_frees_the_engine_and_leaves_the_callers_flag_alone(shared_engine):
    cancel = threading.Event()
    stream = shared_engine.stream(PROMPT, max_tokens=400, cancel=cancel)
    next(stream)
    stream.close()
    assert not cancel.is_set(), "the engine must not touch its caller's flag"
    # The owner thread is free again: the next request completes.
    assert "".join(shared_engine.stream(PROMPT, max_tokens=4))


def test_a_prompt_seen_before_another_reuses_its_evaluated_prefix_with_the_same_output(shared_engine):
    doc_a = [{"role": "user", "content": "Note A. The pump is cleaned every 30 days with warm water. How often?"}]
    doc_b = [{"role": "user", "content": "Note B. The deductible is 500 euros per year. How much?"}]
    first = Generation()
    text = "".join(shared_engine.stream(doc_a, max_tokens=12, result=first))
    "".join(shared_engine.stream(doc_b, max_tokens=12))  # the live context now holds B, not A
    again = Generation()
    assert "".join(shared_engine.stream(doc_a, max_tokens=12, result=again)) == text
    assert first.tokens_cached < again.tokens_cached
    assert again.tokens_cached >= again.tokens_in - 1  # all of A came back from the cache


def test_the_prefix_cache_stays_within_its_capacity(shared_engine):
    from app.core.llm.prefix_cache import PrefixCache

    cache = PrefixCache(capacity_bytes=1)
    for n in range(3):
        "".join(shared_engine.stream([{"role": "user", "content": f"Count to {n}."}], max_tokens=2))
        shared_engine._call(cache.save)
    assert len(cache) == 1, "the newest entry alone is kept when over capacity"


def test_a_corrupt_model_fails_to_load_with_one_line(copy_model):
    with pytest.raises(ModelError) as caught:
        LocalEngine(copy_model("cut.gguf", 5_000_000))
    assert "cut.gguf" in str(caught.value) and "\n" not in str(caught.value)


def test_generation_after_scoring_the_same_prompt_is_unaffected(shared_engine):
    messages = [{"role": "user", "content": "Name a colour of the sky."}]
    before = "".join(shared_engine.stream(messages, max_tokens=12))
    scores = shared_engine.score_choices(messages, ["blue", "the colour green of grass"])
    assert len(scores) == 2 and all(s < 0 for s in scores)
    assert "".join(shared_engine.stream(messages, max_tokens=12)) == before


def test_a_schema_the_grammar_sampler_cannot_take_is_refused_not_crashed(shared_engine):
    from app.core.llm.local import UnsafeSchema

    schema = {"type": "object", "properties": {"x": {"enum": ['{"hacked": true}', "fine"]}}}
    with pytest.raises(UnsafeSchema, match="hacked"):
        list(shared_engine.stream(PROMPT, max_tokens=8, json_schema=schema))
