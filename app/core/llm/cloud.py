"""A client for any OpenAI-compatible chat-completions endpoint: the cloud fallback.

The API key travels only in the Authorization header. It is never logged, never part of the
recorded request payload, and scrubbed from every error message; errors are raised without
their httpx cause, whose request object holds the headers.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from app.core.errors import HearthError
from app.core.netpolicy import NetworkBlocked, is_loopback

_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_REASON_MAX = 200
_RETRY_AFTER_MAX_S = 10.0  # a server asking for a longer pause gets an error instead of a frozen UI


class CloudError(HearthError):
    pass


class CloudConfigError(CloudError):
    pass


class CloudTimeout(CloudError):
    pass


class CloudUnreachable(CloudError):
    pass


class CloudHTTPError(CloudError):
    def __init__(self, status: int, reason: str = "", message: str = ""):
        self.status = status
        self.reason = reason
        suffix = f": {reason}" if reason else ""
        super().__init__(message or f"the cloud service answered HTTP {status}{suffix}")


class CloudAuthError(CloudHTTPError):
    def __init__(self, status: int):
        # The server's own wording is left out: providers echo (parts of) the refused key in it.
        super().__init__(status, message=f"the API key was refused (HTTP {status})")


@dataclass
class CloudReply:
    text: str
    tokens_in: int
    tokens_out: int
    latency_s: float
    cost: float
    model: str
    request_payload: dict  # the JSON body as sent; the key is in a header, never here
    usage_estimated: bool = False  # the server sent no usage: tokens are len(text) / 4
    ttft_s: float = 0.0
    finish_reason: str | None = None  # "length" means max_tokens cut the answer short
    cancelled: bool = False


@dataclass
class _Stream:
    """What one attempt has received so far."""

    parts: list[str] = field(default_factory=list)
    usage: dict | None = None
    model: str = ""
    finish_reason: str | None = None
    ttft_s: float = 0.0
    cancelled: bool = False


class _Failure(Exception):
    """One failed attempt, and whether another attempt may fix it."""

    def __init__(self, error: CloudError, retryable: bool = False, retry_after: float = 0.0, schema_refused: bool = False):
        super().__init__(str(error))
        self.error = error
        self.retryable = retryable
        self.retry_after = retry_after
        self.schema_refused = schema_refused


def _check_url(base_url: str) -> httpx.URL:
    """Parse with httpx's own parser, so the host checked is the host httpx will connect to."""
    # The URL itself is never echoed: it may carry credentials (https://user:pass@host).
    try:
        url = httpx.URL(base_url.strip().rstrip("/"))
    except httpx.InvalidURL:
        raise CloudConfigError("the cloud URL is not a valid URL") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise CloudConfigError("the cloud URL must look like https://host/v1")
    if url.scheme == "http" and not is_loopback(url.host):
        raise CloudConfigError(f"the cloud URL must use https:// ({url.host} is not this machine, so plain http:// would expose the key and the text)")
    return url


def _one_line(text: str, limit: int = _REASON_MAX) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _error_reason(response: httpx.Response) -> str:
    """The server's own explanation: OpenAI's {"error": {"message"}}, FastAPI's {"detail"}, or raw text."""
    try:
        body = response.json()
    except ValueError:
        return response.text
    if isinstance(body, dict):
        error = body.get("error", body.get("detail", body))
        if isinstance(error, dict):
            error = error.get("message", error)
        return error if isinstance(error, str) else json.dumps(error)
    return json.dumps(body)


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(float(response.headers.get("retry-after", 0)), _RETRY_AFTER_MAX_S)
    except ValueError:
        return 0.0  # an HTTP date: fall back to our own backoff


def _blocked(exc: BaseException) -> NetworkBlocked | None:
    """The network policy's refusal, wrapped somewhere inside an httpx error."""
    seen = exc
    while seen is not None:
        if isinstance(seen, NetworkBlocked):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


CHARS_PER_TOKEN = 4  # the estimate when a provider reports no usage, and its tokenizer is unknown


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


class CloudClient:
    def __init__(self, base_url: str, model: str, api_key: str | None, timeout_s: float = 30, retries: int = 2,
                 price_per_1k: float = 0.0, transport: httpx.BaseTransport | None = None, backoff_s: float = 0.5):
        url = _check_url(base_url)
        self._url = url.copy_with(path=url.path.rstrip("/") + "/chat/completions")
        self._host = url.host
        self.model = model
        self._api_key = api_key or None
        self.timeout_s = timeout_s
        self.retries = max(0, retries)
        self.price_per_1k = price_per_1k
        self.backoff_s = backoff_s
        # OpenAI's json_schema first; llama_cpp.server refuses it and takes json_object + schema.
        self._schema_style = "json_schema"
        # trust_env off: no proxy, netrc or certificate settings from the environment reach the key.
        self._http = httpx.Client(timeout=httpx.Timeout(timeout_s), transport=transport, trust_env=False, follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> CloudClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def chat(self, messages: list[dict], max_tokens: int, temperature: float = 0.0, on_text: Callable[[str], None] | None = None,
             cancel: threading.Event | None = None, json_schema: dict | None = None) -> CloudReply:
        """Stream one answer, retrying transient failures as long as no text has been shown yet."""
        cancel = cancel or threading.Event()
        started = time.monotonic()
        attempt = 0
        while True:
            payload = self.payload(messages, max_tokens, temperature, json_schema)
            try:
                return self._attempt(payload, on_text or (lambda _piece: None), cancel, started)
            except _Failure as failure:
                if failure.schema_refused and self._schema_style == "json_schema":
                    self._schema_style = "json_object"  # remembered: later calls go straight to the form that works
                    continue
                if not failure.retryable or attempt >= self.retries:
                    raise failure.error from None
                if cancel.wait(max(self.backoff_s * 2**attempt, failure.retry_after)):
                    return self._reply(payload, _Stream(cancelled=True), started)
                attempt += 1

    def payload(self, messages: list[dict], max_tokens: int, temperature: float, json_schema: dict | None) -> dict:
        """The JSON body chat() sends for these arguments: what the user is shown before consenting."""
        payload = {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
            "stream_options": {"include_usage": True},  # servers that ignore it get their tokens estimated
        }
        if json_schema is not None:
            payload["response_format"] = (
                {"type": "json_schema", "json_schema": {"name": "reply", "schema": json_schema}}
                if self._schema_style == "json_schema"
                else {"type": "json_object", "schema": json_schema}
            )
        return payload

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _attempt(self, payload: dict, on_text: Callable[[str], None], cancel: threading.Event, started: float) -> CloudReply:
        body = json.dumps(payload)
        stream = _Stream()
        try:
            with self._http.stream("POST", self._url, content=body, headers=self._headers()) as response:
                if not response.is_success:
                    response.read()
                    raise self._status_failure(response, payload)
                self._read(response, stream, on_text, cancel, started)
        except httpx.TimeoutException:
            raise self._failure(CloudTimeout(f"the cloud service at {self._host} did not answer within {self.timeout_s:g} s"), stream) from None
        except httpx.RequestError as exc:
            blocked = _blocked(exc)
            if blocked is not None:  # the policy will refuse again: no retry
                raise _Failure(CloudUnreachable(self._reason(str(blocked)))) from None
            reason = self._reason(str(exc) or type(exc).__name__)
            error = CloudUnreachable(f"could not reach the cloud service at {self._host}: {reason}")
            raise self._failure(error, stream, transient=isinstance(exc, httpx.TransportError)) from None
        return self._reply(json.loads(body), stream, started)

    def _failure(self, error: CloudError, stream: _Stream, transient: bool = True) -> _Failure:
        # Once text reached the user a retry would show it twice, so only a silent failure is retried.
        return _Failure(error, retryable=transient and not stream.parts)

    def _status_failure(self, response: httpx.Response, payload: dict) -> _Failure:
        status = response.status_code
        if status in (401, 403):
            return _Failure(CloudAuthError(status))
        raw = _error_reason(response)
        error = CloudHTTPError(status, self._reason(raw))
        schema_refused = "response_format" in payload and "response_format" in raw
        return _Failure(error, retryable=status in _RETRY_STATUSES, retry_after=_retry_after(response), schema_refused=schema_refused)

    def _read(self, response: httpx.Response, stream: _Stream, on_text: Callable[[str], None], cancel: threading.Event, started: float) -> None:
        if "text/event-stream" not in response.headers.get("content-type", ""):
            # A server that ignored stream: true answered with one whole completion.
            response.read()
            self._take(self._parse(response.text), stream, on_text, started, whole=True)
            return
        for line in response.iter_lines():
            if cancel.is_set():
                stream.cancelled = True
                return
            if not line.startswith("data:"):
                continue  # blank separators, ": ping" comments, event names
            data = line[5:].strip()
            if data == "[DONE]":
                return
            self._take(self._parse(data), stream, on_text, started)

    def _parse(self, data: str) -> dict:
        try:
            chunk = json.loads(data)
        except ValueError:
            raise _Failure(CloudError(f"the cloud service at {self._host} sent a reply that is not JSON")) from None
        if not isinstance(chunk, dict):
            raise _Failure(CloudError(f"the cloud service at {self._host} sent an unexpected reply"))
        if chunk.get("error"):  # an error reported inside a 200 stream
            error = chunk["error"]
            reason = error.get("message", "") if isinstance(error, dict) else str(error)
            raise _Failure(CloudHTTPError(200, self._reason(str(reason))))
        return chunk

    def _take(self, chunk: dict, stream: _Stream, on_text: Callable[[str], None], started: float, whole: bool = False) -> None:
        stream.model = chunk.get("model") or stream.model
        stream.usage = chunk.get("usage") or stream.usage
        for choice in chunk.get("choices") or []:
            part = (choice.get("message") if whole else choice.get("delta")) or {}
            piece = part.get("content")
            if piece:
                if not stream.parts:
                    stream.ttft_s = time.monotonic() - started
                stream.parts.append(piece)
                on_text(piece)
            stream.finish_reason = choice.get("finish_reason") or stream.finish_reason

    def _reply(self, payload: dict, stream: _Stream, started: float) -> CloudReply:
        text = "".join(stream.parts)
        usage = stream.usage or {}
        tokens_in, tokens_out = usage.get("prompt_tokens"), usage.get("completion_tokens")
        estimated = not isinstance(tokens_in, int) or not isinstance(tokens_out, int)
        if estimated:
            tokens_in = estimate_tokens("".join(str(m.get("content", "")) for m in payload["messages"]))
            tokens_out = estimate_tokens(text)
        return CloudReply(
            text=text,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            latency_s=time.monotonic() - started,
            cost=(tokens_in + tokens_out) / 1000 * self.price_per_1k,
            model=stream.model or self.model,
            request_payload=payload,
            usage_estimated=estimated,
            ttft_s=stream.ttft_s,
            finish_reason=stream.finish_reason,
            cancelled=stream.cancelled,
        )

    def _reason(self, text: str) -> str:
        """One short line without the key; scrubbed before cutting, so no fragment of it survives the cut."""
        scrubbed = text.replace(self._api_key, "***") if self._api_key else text
        return _one_line(scrubbed)
