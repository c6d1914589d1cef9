"""Sending one request to the cloud model, private by construction.

In order: redact the outgoing messages (placeholders restored locally in the reply); build the
exact payload; in "ask" mode show it, diffed against the original, and wait for consent; send;
record one ledger row whatever happened; and on any failure keep the local result, flagged.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass

from app.core import paths
from app.core.errors import HearthError
from app.core.ledger import Ledger, LedgerEntry
from app.core.llm.cloud import CloudClient, CloudError
from app.core.privacy.redaction import Redactor, load_names, preview_diff, restore
from app.core.routing.cloud_tasks import CloudTask
from app.core.secrets import get_key, key_needed, provider_account
from app.core.tasks.result import TaskResult


@dataclass
class Preview:
    """What would leave the machine, for the user to consent to."""

    provider: str
    model: str
    task: str
    payload: dict  # the exact JSON body, redacted
    diff: str  # original against redacted, every replaced value shown
    redacted: dict[str, int]  # kind -> count


Consent = Callable[[Preview], bool]


def names_file():
    """The user-editable list of names to redact (one per line, # for comments)."""
    return paths.config_dir() / "redact-names.txt"


def _flagged(local: TaskResult, status: str, detail: str, ledger_id: int) -> TaskResult:
    local.escalation = {"status": status, "detail": detail, "ledger_id": ledger_id}
    return local


def _json_safe(mapping: dict[str, str]) -> dict[str, str]:
    """Originals escaped for a JSON string, so restoring inside a JSON reply keeps it parseable."""
    return {k: json.dumps(v)[1:-1] for k, v in mapping.items()}


def escalate(services, request: CloudTask, local: TaskResult, mode: str, consent: Consent | None = None,
             cancel: threading.Event | None = None, on_text: Callable[[str], None] | None = None) -> TaskResult:
    """mode "ask" needs consent(preview) to return True; "auto" sends at once."""
    cloud = services.settings.cloud
    provider = provider_account(cloud.base_url)
    ledger = Ledger()
    redaction = Redactor(load_names(names_file())).redact([m["content"] for m in request.messages])
    messages = [{**m, "content": text} for m, text in zip(request.messages, redaction.texts)]

    def record(outcome: str, payload: dict, detail: str = "", reply=None, secret: str | None = None) -> int:
        entry = LedgerEntry(provider=provider, model=cloud.model, task=request.task, payload=json.dumps(payload, ensure_ascii=False),
                            outcome=outcome, redacted_counts=redaction.counts, detail=detail,
                            tokens_in=reply.tokens_in if reply else 0, tokens_out=reply.tokens_out if reply else 0,
                            cost_estimate=reply.cost if reply else 0.0, latency_s=reply.latency_s if reply else None)
        return ledger.record(entry, secret=secret)

    try:
        key = _key_for(cloud.base_url)
        client = CloudClient(cloud.base_url, cloud.model, key, timeout_s=cloud.timeout_s, retries=cloud.retries,
                             price_per_1k=cloud.price_per_1k)
    except HearthError as exc:
        return _flagged(local, "failed", str(exc), record("failed-before-send", {"messages": messages}, str(exc)))
    with client:
        payload = client.payload(messages, request.max_tokens, 0.0, request.json_schema)
        if mode == "ask":
            diff = preview_diff([m["content"] for m in request.messages], redaction)
            if consent is None or not consent(Preview(provider, cloud.model, request.task, payload, diff, redaction.counts)):
                return _flagged(local, "declined", "not sent: the user declined", record("declined", payload, "declined by the user"))
        try:
            reply = client.chat(messages, request.max_tokens, on_text=on_text, cancel=cancel, json_schema=request.json_schema)
        except CloudError as exc:
            return _flagged(local, "failed", str(exc), record("error", payload, str(exc), secret=key))
    if reply.cancelled:  # stopped by the user mid-answer: the request left, half a reply is no answer
        return _flagged(local, "failed", "stopped before the cloud answered", record("error", reply.request_payload, "cancelled", reply, key))
    mapping = _json_safe(redaction.mapping) if request.json_schema else redaction.mapping
    try:
        result = request.finish(restore(reply.text, mapping), local)
    except HearthError as exc:
        return _flagged(local, "failed", str(exc), record("error", reply.request_payload, str(exc), reply, key))
    ledger_id = record("sent", reply.request_payload, "", reply, key)
    result.escalation = {"status": "sent", "detail": "", "ledger_id": ledger_id, "redacted": redaction.counts,
                         "tokens_in": reply.tokens_in, "tokens_out": reply.tokens_out, "cost": round(reply.cost, 6),
                         **({"fields": request.fields} if request.fields else {})}
    result.timings = {**result.timings, "cloud_s": round(reply.latency_s, 3)}
    return result


def _key_for(base_url: str) -> str | None:
    """The provider's key from the keyring. A loopback server (a local stand-in) may need none."""
    key = get_key(base_url)
    if key is None and key_needed(base_url):
        raise HearthError("no API key is stored for this provider: run `hearth cloud set-key`")
    return key
