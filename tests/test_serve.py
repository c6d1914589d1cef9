"""`hearth serve`: the OpenAI-compatible local API, spoken to with the real `openai` client over
real loopback HTTP. The server runs the real model, embedder and store (in a thread sharing the
session's engine, or as the real `hearth serve` process), and escalates to the loopback cloud."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time

import httpx
import openai
import pytest
from conftest import HEARTH, REPO, run_cli

from app.core.api import ApiServer
from app.core.api.openai_format import sources_text
from app.core.ingest import ingest
from app.core.ledger import Ledger
from app.core.secrets import serve_token
from app.core.services import Services
from app.core.settings import CloudSettings, Settings
from app.core.tasks.result import Citation, TaskResult

QUESTION = "How often must the lamp be cleaned?"


@pytest.fixture
def start_api(shared_embedder, shared_engine):
    """Serve the API on a free loopback port over Services that share the session's engine."""
    started: list[tuple[ApiServer, threading.Thread, Services]] = []

    def start(settings: Settings | None = None) -> ApiServer:
        services = Services(settings, shared={"embedder": shared_embedder, "engine": shared_engine})
        server = ApiServer(services, port=0)
        thread = threading.Thread(target=server.run, name="api-server", daemon=True)
        thread.start()
        while not server.started and thread.is_alive():
            time.sleep(0.02)
        started.append((server, thread, services))
        return server

    yield start
    for server, thread, services in started:
        server.stop()
        thread.join(10)
        services.close()


_clients: list[openai.OpenAI] = []


@pytest.fixture(autouse=True)
def _close_clients():
    yield
    while _clients:
        _clients.pop().close()


def client(server: ApiServer, token: str | None = None) -> openai.OpenAI:
    _clients.append(openai.OpenAI(base_url=server.base_url, api_key=token or serve_token(), max_retries=0, timeout=600))  # a hang guard, not a timing test
    return _clients[-1]


def test_models_are_listed_with_one_ask_model_per_collection(start_api, services, guide_pdf):
    ingest(services, [guide_pdf], "manuals")
    services.close()  # the server's Services take the data folder next
    ids = [m.id for m in client(start_api()).models.list()]
    assert ids[0] == "hearth" and "hearth-ask:manuals" in ids and "all-minilm-l6-v2" in ids


def test_a_chat_completion_streams_token_by_token_and_matches_the_whole_one(start_api):
    api = client(start_api())
    messages = [{"role": "user", "content": "Name three colours."}]
    stream = api.chat.completions.create(model="hearth", messages=messages, max_tokens=24, stream=True,
                                         stream_options={"include_usage": True})
    chunks = list(stream)
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(pieces) >= 12  # about one chunk per token as generated, not the answer in one piece at the end
    finals = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert [c.choices[0].finish_reason for c in finals] == ["length"]  # 24 tokens cut it short
    assert finals[0].model_extra["hearth"]["route"] == "local"
    assert chunks[-1].usage.completion_tokens == 24 and not chunks[-1].choices
    assert "".join(pieces).strip()
    whole = api.chat.completions.create(model="hearth", messages=messages, max_tokens=24)
    assert whole.choices[0].message.content.strip() and whole.choices[0].message.role == "assistant"
    assert whole.usage.completion_tokens == 24 and whole.choices[0].finish_reason == "length"


def test_a_collection_gives_a_cited_answer_in_the_text_and_the_extension(start_api, services, guide_pdf):
    ingest(services, [guide_pdf], "manuals")
    services.close()
    api = client(start_api())
    reply = api.chat.completions.create(model="hearth-ask:manuals", messages=[{"role": "user", "content": QUESTION}])
    text = reply.choices[0].message.content
    assert "every Tuesday" in text and "Quoted from:\n[1] keeper-manual.pdf, p. 2" in text
    hearth = reply.model_extra["hearth"]
    assert hearth["task"] == "ask" and hearth["citations"][0]["page"] == 2 and hearth["citations"][0]["file"] == "keeper-manual.pdf"
    # The same through the extension field, streamed: the sources come at the end of the text.
    stream = api.chat.completions.create(model="hearth", messages=[{"role": "user", "content": QUESTION}], stream=True,
                                         extra_body={"hearth": {"collection": "manuals"}})
    chunks = list(stream)
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == text
    assert chunks[-1].model_extra["hearth"]["citations"] == hearth["citations"]


def test_the_sources_in_the_text_are_headed_and_placed_as_the_window_shows_them():
    page = Citation("manual.pdf", "/d/manual.pdf", 2, None, None, "clean it", 0.8)
    whole = Citation("notes.txt", "/d/notes.txt", None, None, None, "the whole note", 0.5)
    answer = sources_text(TaskResult("\u201cClean it\u201d weekly.", 0.9, citations=[page, whole]))
    assert answer == "\n\nQuoted from:\n[1] manual.pdf, p. 2: \u201cclean it\u201d\n\nAlso found:\n[2] notes.txt, whole file: \u201cthe whole note\u201d"
    cloud = sources_text(TaskResult("Weekly.", 0.9, citations=[page, whole], route="cloud"))  # written from all it was sent
    assert cloud == "\n\nSources:\n[1] manual.pdf, p. 2: \u201cclean it\u201d\n[2] notes.txt, whole file: \u201cthe whole note\u201d"
    refusal = sources_text(TaskResult("The documents don't say.", 0.7, citations=[page], abstained=True))
    assert refusal.startswith("\n\nSearched:\n[1] manual.pdf, p. 2") and "Sources:" not in refusal
    assert sources_text(TaskResult("No passages.", 0.2)) == ""


def test_an_unknown_collection_or_model_is_a_404(start_api):
    api = client(start_api())
    for model in ("hearth-ask:nowhere", "gpt-4o"):
        with pytest.raises(openai.NotFoundError) as caught:
            api.chat.completions.create(model=model, messages=[{"role": "user", "content": QUESTION}])
        assert "nowhere" in str(caught.value) or "gpt-4o" in str(caught.value)


def test_embeddings_have_the_embedder_dimension_in_both_encodings(start_api, shared_embedder):
    api = client(start_api())
    texts = ["The lamp is cleaned every Tuesday.", "Storms need the foghorn."]
    default = api.embeddings.create(model="all-minilm-l6-v2", input=texts)  # the client asks for base64 by default
    floats = api.embeddings.create(model="all-minilm-l6-v2", input=texts, encoding_format="float")
    assert [len(d.embedding) for d in default.data] == [384, 384]
    expected = shared_embedder.embed(texts)
    for got in (default, floats):
        for vector, want in zip((d.embedding for d in got.data), expected):
            assert max(abs(a - b) for a, b in zip(vector, want)) < 1e-6
    assert floats.usage.prompt_tokens > 10
    with pytest.raises(openai.BadRequestError):
        api.embeddings.create(model="all-minilm-l6-v2", input="x", dimensions=1536)


def test_no_token_or_a_wrong_token_gets_401(start_api):
    server = start_api()
    for token in ("wrong-token", serve_token() + "x"):
        with pytest.raises(openai.AuthenticationError):
            client(server, token).models.list()
    for headers in ({}, {"Authorization": serve_token()}):  # none, and the token without "Bearer"
        response = httpx.post(f"{server.base_url}/chat/completions", headers=headers,
                              json={"model": "hearth", "messages": [{"role": "user", "content": "hi"}]})
        assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_api_key"
    assert client(server).models.list().data  # the right one passes


def test_an_escalated_request_has_its_ledger_row(start_api, services, guide_pdf, cloud_server):
    ingest(services, [guide_pdf], "manuals")
    services.close()
    settings = Settings(cloud=CloudSettings(base_url=cloud_server.base_url, model="stand-in", policy="auto", threshold=1.0,
                                            timeout_s=60, retries=0))
    api = client(start_api(settings))
    reply = api.chat.completions.create(model="hearth-ask:manuals", messages=[{"role": "user", "content": QUESTION}])
    hearth = reply.model_extra["hearth"]
    assert hearth["route"] == "cloud" and hearth["escalation"]["status"] == "sent"
    [row] = Ledger().rows()
    assert row.id == hearth["escalation"]["ledger_id"] and row.outcome == "sent" and row.task == "ask"
    assert QUESTION in json.loads(row.payload)["messages"][-1]["content"]
    # A plain chat escalates too, and its answer (streamed once chosen) is the cloud's.
    chunks = list(api.chat.completions.create(model="hearth", messages=[{"role": "user", "content": "Say hello."}],
                                              max_tokens=16, stream=True))
    final = next(c for c in chunks if c.choices and c.choices[0].finish_reason)
    assert final.model_extra["hearth"]["route"] == "cloud"
    assert [r.task for r in Ledger().rows()] == ["ask", "chat"]


def test_the_ask_me_policy_sends_nothing_through_the_api(start_api, stub_server):
    from cloud_server import Canned

    stub = stub_server(Canned(pieces=("Hello",)))
    settings = Settings(cloud=CloudSettings(base_url=stub.base_url, model="stand-in", policy="ask", threshold=1.0))
    reply = client(start_api(settings)).chat.completions.create(model="hearth", messages=[{"role": "user", "content": "Hi"}], max_tokens=8)
    assert reply.model_extra["hearth"]["escalation"]["status"] == "declined" and stub.received == []
    assert [r.outcome for r in Ledger().rows()] == ["declined"]


def test_a_non_loopback_bind_is_refused_without_the_flag():
    for host in ("0.0.0.0", "192.0.2.7", "::"):
        out = run_cli("serve", "--host", host, "--port", "0")
        assert out.returncode == 1 and "refusing to listen on" in out.stderr and "--allow-remote" in out.stderr
    from app.core.api import check_bind

    check_bind("0.0.0.0", allow_remote=True)  # the flag lets it through
    for host in ("127.0.0.1", "localhost", "::1"):
        check_bind(host, allow_remote=False)


def test_hearth_serve_runs_as_a_process_and_its_token_comes_from_the_keyring():
    token = run_cli("serve", "token").stdout.strip()
    assert token == serve_token()
    with socket.socket() as probe:  # a free port, not the default one a developer's own server may hold
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with subprocess.Popen([*HEARTH, "serve", "--port", str(port)], cwd=REPO, env=os.environ.copy(),
                          stderr=subprocess.PIPE, text=True) as process:
        try:
            line = process.stderr.readline()  # printed once it listens
            assert f"http://127.0.0.1:{port}/v1" in line, line + process.stderr.read()
            api = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=token, max_retries=0)
            _clients.append(api)
            assert "hearth" in [m.id for m in api.models.list()]
            reply = api.chat.completions.create(model="hearth", messages=[{"role": "user", "content": "Hi"}], max_tokens=4)
            assert reply.usage.completion_tokens == 4
        finally:
            process.terminate()
            assert process.wait(30) == 0  # SIGTERM is a clean shutdown
    renewed = run_cli("serve", "token", "--renew").stdout.strip()
    assert renewed != token and renewed == serve_token()
