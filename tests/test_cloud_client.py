"""The cloud client against a real OpenAI-compatible server (llama_cpp.server) and a scripted stub,
both on loopback: the network guard stays on."""

from __future__ import annotations

import json
import sys
import threading
import time
import traceback

import httpx
import jsonschema
import pytest
from cloud_server import Canned

from app.core.errors import HearthError
from app.core.llm.cloud import CloudAuthError, CloudClient, CloudConfigError, CloudHTTPError, CloudTimeout, CloudUnreachable

KEY = "sk-test-7f3a9c1e5b2d4086"
HELLO = [{"role": "user", "content": "Say hello."}]
ANSWER_SCHEMA = {
    "type": "object",
    "properties": {"answer": {"type": "string", "enum": ["yes", "no"]}},
    "required": ["answer"],
}


def client(base_url: str, **kwargs) -> CloudClient:
    return CloudClient(base_url, "test-model", kwargs.pop("api_key", KEY), **{"backoff_s": 0.01, **kwargs})


def assert_keyless(exc: BaseException) -> None:
    shown = str(exc) + repr(exc) + "".join(traceback.format_exception(exc))
    assert KEY not in shown
    assert "\n" not in str(exc)


# The audit hook cannot be removed, so it records only while a test is watching.
_socket_events: list[list[str]] = []


def _watch_sockets(event: str, args: tuple) -> None:
    if _socket_events and event.startswith("socket."):
        _socket_events[-1].append(event)


sys.addaudithook(_watch_sockets)


@pytest.mark.slow
def test_a_streamed_chat_arrives_in_pieces_with_token_counts(cloud_server):
    pieces: list[str] = []
    with client(cloud_server.base_url, price_per_1k=2.0) as cloud:
        reply = cloud.chat(HELLO, max_tokens=16, on_text=pieces.append)
    assert len(pieces) > 1 and "".join(pieces) == reply.text
    assert reply.tokens_in > 0 and reply.tokens_out > 0
    # llama_cpp.server 0.3.36 ignores stream_options.include_usage, so the counts are estimates.
    assert reply.usage_estimated
    assert reply.cost == pytest.approx((reply.tokens_in + reply.tokens_out) / 1000 * 2.0)
    assert reply.request_payload["stream"] is True and reply.request_payload["max_tokens"] == 16
    assert 0 < reply.ttft_s <= reply.latency_s


@pytest.mark.slow
def test_json_schema_output_parses_and_validates(cloud_server):
    question = [{"role": "user", "content": "Is water wet? Answer in JSON."}]
    with client(cloud_server.base_url) as cloud:
        first = cloud.chat(question, max_tokens=32, json_schema=ANSWER_SCHEMA)
        second = cloud.chat(question, max_tokens=32, json_schema=ANSWER_SCHEMA)
    for reply in (first, second):
        jsonschema.validate(json.loads(reply.text), ANSWER_SCHEMA)
        # llama_cpp.server refuses OpenAI's json_schema form and takes json_object with a schema.
        assert reply.request_payload["response_format"] == {"type": "json_object", "schema": ANSWER_SCHEMA}


def test_a_refused_json_schema_form_falls_back_once_and_is_remembered(stub_server):
    refusal = Canned(status=500, error="validation error: ('body', 'response_format', 'type') should be 'text' or 'json_object'")
    stub = stub_server(refusal, Canned(pieces=('{"answer": "yes"}',)))
    with client(stub.base_url, retries=0) as cloud:
        for _ in range(2):
            assert json.loads(cloud.chat(HELLO, max_tokens=8, json_schema=ANSWER_SCHEMA).text) == {"answer": "yes"}
    kinds = [r.json()["response_format"]["type"] for r in stub.received]
    assert kinds == ["json_schema", "json_object", "json_object"]


def test_usage_sent_in_the_stream_is_used(stub_server):
    stub = stub_server(Canned(usage={"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}))
    with client(stub.base_url) as cloud:
        reply = cloud.chat(HELLO, max_tokens=8)
    assert (reply.text, reply.tokens_in, reply.tokens_out, reply.usage_estimated) == ("Hello, world", 11, 3, False)
    assert reply.finish_reason == "stop" and reply.model == "stub"
    assert stub.received[0].json()["stream_options"] == {"include_usage": True}


def test_a_server_that_ignores_stream_true_is_read_whole():
    def answer(request: httpx.Request) -> httpx.Response:
        completion = {"model": "whole", "choices": [{"message": {"content": "All at once."}, "finish_reason": "stop"}],
                      "usage": {"prompt_tokens": 5, "completion_tokens": 4}}
        return httpx.Response(200, json=completion)

    pieces: list[str] = []
    with client("https://api.example.org/v1", transport=httpx.MockTransport(answer)) as cloud:
        reply = cloud.chat(HELLO, max_tokens=8, on_text=pieces.append)
    assert pieces == ["All at once."] and (reply.tokens_in, reply.tokens_out, reply.model) == (5, 4, "whole")


@pytest.mark.parametrize("url", ["http://example.com/v1", "http://192.0.2.7:8080/v1", "http://127.0.0.1.evil.example/v1", "ftp://127.0.0.1/v1", "https://host:port/v1"])
def test_an_unsafe_or_malformed_url_is_refused_before_any_socket(url):
    _socket_events.append([])
    try:
        with pytest.raises(CloudConfigError) as caught:
            client(url)
    finally:
        events = _socket_events.pop()
    assert events == []
    assert isinstance(caught.value, HearthError)
    assert_keyless(caught.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/v1", "http://localhost:9/v1", "http://[::1]:9/v1", "https://api.example.org/v1"])
def test_https_or_loopback_urls_are_accepted(url):
    client(url).close()


def test_a_500_is_retried_then_reported(stub_server):
    stub = stub_server(Canned(status=500, error=f"upstream exploded while holding {KEY}"))
    with client(stub.base_url, retries=2) as cloud, pytest.raises(CloudHTTPError) as caught:
        cloud.chat(HELLO, max_tokens=8)
    assert len(stub.received) == 1 + 2
    assert caught.value.status == 500 and "upstream exploded" in str(caught.value)
    assert_keyless(caught.value)


def test_a_transient_failure_then_success_returns_the_answer(stub_server):
    stub = stub_server(Canned(status=503, error="busy"), Canned())
    with client(stub.base_url, retries=2) as cloud:
        assert cloud.chat(HELLO, max_tokens=8).text == "Hello, world"
    assert len(stub.received) == 2


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_key_is_an_auth_error_without_retry(stub_server, status):
    stub = stub_server(Canned(status=status, error=f"Incorrect API key provided: {KEY}"))
    with client(stub.base_url, retries=2) as cloud, pytest.raises(CloudAuthError, match="the API key was refused") as caught:
        cloud.chat(HELLO, max_tokens=8)
    assert len(stub.received) == 1
    assert caught.value.status == status
    assert_keyless(caught.value)


@pytest.mark.parametrize("status", [400, 404])
def test_a_client_error_is_not_retried(stub_server, status):
    stub = stub_server(Canned(status=status, error="no such model"))
    with client(stub.base_url, retries=2) as cloud, pytest.raises(CloudHTTPError, match="no such model"):
        cloud.chat(HELLO, max_tokens=8)
    assert len(stub.received) == 1


def test_a_server_that_sleeps_past_the_timeout_times_out_promptly(stub_server):
    stub = stub_server(Canned(delay_s=30))
    started = time.monotonic()
    with client(stub.base_url, timeout_s=0.3, retries=1) as cloud, pytest.raises(CloudTimeout) as caught:
        cloud.chat(HELLO, max_tokens=8)
    assert time.monotonic() - started < 3
    assert len(stub.received) == 2  # a timeout is retried like any transient failure
    assert_keyless(caught.value)


def test_a_stall_after_text_was_shown_times_out_without_a_retry(stub_server):
    stub = stub_server(Canned(stall_s=30))
    pieces: list[str] = []
    with client(stub.base_url, timeout_s=0.3, retries=2) as cloud, pytest.raises(CloudTimeout):
        cloud.chat(HELLO, max_tokens=8, on_text=pieces.append)
    assert pieces == ["Hello"]  # the read timeout runs between chunks, and nothing is shown twice
    assert len(stub.received) == 1


def test_a_blocked_host_is_reported_without_retry():
    # The session's network policy allows loopback only: this host is refused at the lookup.
    started = time.monotonic()
    with client("https://192.0.2.1/v1", retries=2, backoff_s=1.0) as cloud, pytest.raises(CloudUnreachable, match="blocked") as caught:
        cloud.chat(HELLO, max_tokens=8)
    assert time.monotonic() - started < 1
    assert_keyless(caught.value)


def test_a_closed_port_is_unreachable_after_retries():
    with client("http://127.0.0.1:9/v1", retries=1) as cloud, pytest.raises(CloudUnreachable, match="127.0.0.1") as caught:
        cloud.chat(HELLO, max_tokens=8)
    assert_keyless(caught.value)


def test_the_key_travels_only_in_the_authorization_header(stub_server):
    stub = stub_server(Canned())
    with client(stub.base_url) as cloud:
        reply = cloud.chat(HELLO, max_tokens=8)
    received = stub.received[0]
    assert received.headers["authorization"] == f"Bearer {KEY}"
    assert KEY not in received.body.decode() and KEY not in json.dumps(reply.request_payload)
    assert reply.request_payload == received.json()  # the payload recorded is the body sent


def test_no_key_means_no_authorization_header(stub_server):
    stub = stub_server(Canned())
    with client(stub.base_url, api_key=None) as cloud:
        cloud.chat(HELLO, max_tokens=8)
    assert "authorization" not in stub.received[0].headers


def test_cancelling_keeps_what_arrived(stub_server):
    stub = stub_server(Canned(pieces=("one", " two", " three")))
    cancel = threading.Event()
    with client(stub.base_url) as cloud:
        reply = cloud.chat(HELLO, max_tokens=8, cancel=cancel, on_text=lambda piece: cancel.set())
    assert reply.cancelled and reply.text == "one"
