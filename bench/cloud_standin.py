"""The stand-in cloud's answers to benchmark cases, through Hearth's real escalation path
(cloud_tasks request, redaction, the OpenAI-compatible client, the ledger) against
llama_cpp.server on loopback serving the catalog's cloud-standin model (Qwen2.5-Coder-1.5B).

The stand-in is slow on a small CPU, so each answer is cached per case (bench/.cache, keyed by
the case's id and input): a rerun sends nothing it has already sent. Needs a secure keyring
session even for a keyless loopback server: run under scripts/test-session.sh --exec.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from public_sets import REPO, Cache

sys.path.insert(0, str(REPO / "tests"))
MODEL = "qwen2.5-coder-1.5b-instruct-q4_k_m"


class StandIn:
    def __init__(self, threads: str = "1"):  # 1: see bench/quality.py --threads
        self.cache = Cache(f"cloud-{MODEL}")
        self.threads = threads
        self._server = None
        self._services = None

    def _start(self):
        from cloud_server import start_server

        from app.core.models import check, find
        from app.core.services import Services
        from app.core.settings import Settings

        status = check(find(MODEL, "cloud-standin"))
        if not status.verified:
            sys.exit(f"{MODEL}: {status.problem}; run: .venv/bin/python -m app models fetch --name {MODEL}")
        os.environ.setdefault("HEARTH_HOME", tempfile.mkdtemp(prefix="hearth-bench-cloud-"))
        self._server = start_server(status.path, n_ctx=4096, extra_args=("--n_threads", self.threads, "--n_threads_batch", self.threads))
        settings = Settings()
        settings.cloud.base_url, settings.cloud.model, settings.cloud.policy = self._server.base_url, MODEL, "auto"
        settings.cloud.timeout_s = 600.0
        self._services = Services(settings)

    def answer(self, case: dict) -> dict:
        """{"label"} or {"data"} and {"text"}, and the escalation "status" (sent, or failed with "detail")."""
        if case in self.cache:
            return self.cache.get(case)
        if self._server is None:
            self._start()
        from app.core.routing import router
        from app.core.routing.escalation import escalate
        from app.core.tasks.result import TaskResult

        task = case["task"]
        inputs = {"text": case["input"], "labels": case.get("labels"), "schema": case.get("schema"), "length": case.get("length", "medium")}
        local = TaskResult(text="", confidence=0.0, task=task)
        result = escalate(self._services, router.cloud_request(self._services, task, inputs, local), local, "auto")
        esc = result.escalation or {}
        value = {"status": esc.get("status"), "detail": esc.get("detail", "")}
        value |= {"label": result.label} if task == "classify" else {"data": result.data, "text": result.text}
        if value["status"] == "sent":  # a failure is not an answer: try it again next run
            self.cache.put(case, value)
        return value

    @staticmethod
    def cached_answer(case: dict) -> dict | None:
        """The cached answer, never sending anything (None when the case was never answered)."""
        return Cache(f"cloud-{MODEL}").get(case)

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
