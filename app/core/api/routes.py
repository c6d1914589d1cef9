"""The routes: /v1/models, /v1/chat/completions (streamed or not) and /v1/embeddings.

Every chat request goes through the router, so the policy, redaction and the ledger apply as
in every front end. The API cannot ask for consent, so under the "ask" policy nothing is sent
(the ledger records it as declined). The model name picks the task: `hearth` chats with the
local model; `hearth-ask:COLLECTION` (or `"hearth": {"collection": …}`) answers from a
collection with citations. Generation runs on the engine's owner thread; the route threads
only wait on it.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import AsyncIterator

from fastapi import APIRouter, Depends, FastAPI, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse

from app.core.api.openai_format import (
    ApiError,
    ChatRequest,
    Completion,
    EmbeddingRequest,
    embedding_body,
    event,
    extension,
    model_card,
    sources_text,
    usage,
)
from app.core.errors import HearthError
from app.core.routing.policy import decide
from app.core.routing.router import run
from app.core.store.library import CollectionError
from app.core.streams import drain
from app.core.tasks.result import TaskError, TaskResult

CHAT_MODEL = "hearth"
ASK_MODEL = "hearth-ask"  # hearth-ask:COLLECTION


def embedding_model_name() -> str:
    from app.core.models import find

    return find(role="embedding").name


class ChatCall:
    """One chat request as a router task, stepped from the route's threads (never two at once)."""

    def __init__(self, services, model: str, task: str, inputs: dict) -> None:
        from app.core.tasks.chat import max_tokens_for

        self.model, self.task = model, task
        self.cancel = threading.Event()
        self.result: TaskResult | None = None
        self._limit = max_tokens_for(services.engine, inputs.get("max_tokens")) if task == "chat" else None
        self._steps = run(services, task, inputs, consent=None, cancel=self.cancel)

    def next_piece(self) -> str | None:
        """The next piece of the local answer, or None once the result (local or cloud) is in."""
        try:
            return next(self._steps)
        except StopIteration as done:
            self.result = done.value
            return None

    def finish(self) -> TaskResult:
        self.result = drain(self._steps) if self.result is None else self.result
        return self.result

    def finish_reason(self) -> str:
        """"length" when the local chat stopped at its token limit, as OpenAI says it."""
        cut = self._limit is not None and self.result.route == "local" and self.result.timings.get("tokens_out", 0) >= self._limit
        return "length" if cut else "stop"


def resolve(services, body: ChatRequest) -> ChatCall:
    """The router task a request names; ApiError for an unknown model or collection."""
    messages = [{"role": m.role, "content": m.text(n)} for n, m in enumerate(body.messages, start=1)]
    name, _, collection = body.model.partition(":")
    collection = collection or body.hearth.collection
    if name not in (CHAT_MODEL, ASK_MODEL) or (name == ASK_MODEL and not collection):
        raise ApiError(404, f"no model named {body.model!r}; GET /v1/models lists them", code="model_not_found")
    if not collection:
        return ChatCall(services, body.model, "chat", {"messages": messages, "max_tokens": body.token_limit})
    try:
        services.library.collection(collection)
    except CollectionError as exc:
        raise ApiError(404, str(exc), code="model_not_found") from exc
    if messages[-1]["role"] != "user":
        raise ApiError(400, "the last message must be the user's question")
    return ChatCall(services, body.model, "ask", {"question": messages[-1]["content"], "collection": collection})


def _error_for(exc: Exception) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, (TaskError, CollectionError)):
        return ApiError(400, str(exc))
    if isinstance(exc, HearthError):
        return ApiError(503, str(exc), "server_error")
    return ApiError(500, f"{type(exc).__name__}: {exc}", "server_error")


def create_app(services, token: str) -> FastAPI:
    app = FastAPI(title="Hearth", docs_url=None, redoc_url=None, openapi_url=None)

    async def as_body(_request: Request, exc: Exception) -> JSONResponse:
        error = _error_for(exc)
        return JSONResponse(error.body(), status_code=error.status)

    for kind in (ApiError, HearthError, Exception):  # Exception: a bug still answers in OpenAI's shape (and is logged)
        app.add_exception_handler(kind, as_body)

    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if p != "body")
        return JSONResponse(ApiError(400, f"{where}: {first['msg']}").body(), status_code=400)

    def authorized(authorization: str = Header("")) -> None:
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise ApiError(401, "a valid bearer token is required: `hearth serve token` prints it", code="invalid_api_key")

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(authorized)])

    @v1.get("/models")
    def models() -> dict:
        asks = [f"{ASK_MODEL}:{c.name}" for c in services.library.collections()]
        return {"object": "list", "data": [model_card(n) for n in (CHAT_MODEL, *asks, embedding_model_name())]}

    @v1.post("/chat/completions")
    async def chat_completions(body: ChatRequest):
        call = await run_in_threadpool(resolve, services, body)
        # The first step runs before the response starts, so a bad request still gets its status.
        first = await run_in_threadpool(call.next_piece)
        if body.stream:
            return StreamingResponse(_events(services, call, first, body.include_usage), media_type="text/event-stream")
        result = await run_in_threadpool(call.finish)
        text = result.text + sources_text(result)
        return Completion(call.model).body(text, call.finish_reason(), result)

    @v1.post("/embeddings")
    def embeddings(body: EmbeddingRequest) -> dict:
        name = embedding_model_name()
        if body.model != name:
            raise ApiError(404, f"no embedding model named {body.model!r}; this server embeds with {name!r}", code="model_not_found")
        texts = [body.input] if isinstance(body.input, str) else body.input
        if not texts or not all(t.strip() for t in texts):
            raise ApiError(400, "input must be one or more non-empty strings")
        if body.encoding_format not in ("float", "base64"):
            raise ApiError(400, f"encoding_format {body.encoding_format!r} is not float or base64")
        embedder = services.embedder
        if body.dimensions not in (None, embedder.dimension):
            raise ApiError(400, f"{name} makes vectors of {embedder.dimension} dimensions, not {body.dimensions}")
        tokens = sum(len(ids) for ids in embedder.tokenizer(texts, truncation=True)["input_ids"])
        return embedding_body(name, embedder.embed(texts), body.encoding_format, tokens)

    app.include_router(v1)
    return app


async def _events(services, call: ChatCall, first: str | None, include_usage: bool) -> AsyncIterator[str]:
    """The completion as OpenAI streams it. The local answer streams as it is made, unless the
    policy may still replace it with the cloud's: then the chosen answer is sent once known."""
    completion = Completion(call.model)
    live = decide(services.settings.cloud, call.task, 0.0) == "local"
    try:
        yield completion.chunk({"role": "assistant", "content": ""})
        if live:
            piece = first
            while piece is not None:
                if piece:
                    yield completion.chunk({"content": piece})
                piece = await run_in_threadpool(call.next_piece)
            result = call.result
        else:
            result = await run_in_threadpool(call.finish)
            yield completion.chunk({"content": result.text})
        if tail := sources_text(result):
            yield completion.chunk({"content": tail})
        yield completion.chunk({}, call.finish_reason(), hearth=extension(result))
        if include_usage:
            yield completion.chunk(None, usage=usage(result))
        yield event("[DONE]")
    except Exception as exc:  # noqa: BLE001 - the status is already sent; the error goes in the stream
        yield event(_error_for(exc).body())
    finally:
        call.cancel.set()  # a client that hung up stops the generation at the next token
