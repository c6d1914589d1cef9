"""`hearth --selftest`: prove an installation works end to end, in a throwaway data folder.

It loads the chat model and the embedder, ingests the bundled sample PDF (the parser child
process included), asks one question through the router as `hearth ask` does, and checks that
the first citation names the page that holds the answer. The user's own library, settings and
ledger are never touched: everything happens under a temporary HEARTH_HOME. It prints one line,
and exits 0 when everything checked out, 1 otherwise.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

SAMPLE = ("sample", "hearth-sample.pdf")  # written by packaging/make_sample.py
QUESTION = "How often is the lamp of the Brannock lighthouse cleaned?"
ANSWER_PAGE = 2
COLLECTION = "selftest"
MODEL_ENV = "HEARTH_SELFTEST_MODEL"


class SelftestFailure(Exception):
    """A check that did not hold; str() is the one line printed."""


def run(model: str | None = None) -> int:
    start = time.monotonic()
    try:
        detail = _selftest(model or os.environ.get(MODEL_ENV) or None)
    except Exception as exc:  # noqa: BLE001 - whatever broke, the verdict is one line and exit 1
        reason = (str(exc).strip().splitlines() or [""])[0]
        print(f"hearth selftest: FAILED: {type(exc).__name__ if not isinstance(exc, SelftestFailure) else 'check'}: {reason}", file=sys.stderr)
        return 1
    print(f"hearth selftest: ok in {time.monotonic() - start:.1f}s: {detail}")
    return 0


def _chat_model(model: str | None) -> Path:
    """The GGUF given, or the one Hearth would load for this user (found before HEARTH_HOME moves)."""
    if model:
        path = Path(model).expanduser()
        if not path.is_file():
            raise SelftestFailure(f"chat model {path} does not exist")
        return path
    from app.core.models import chat_model_path
    from app.core.settings import load

    return chat_model_path(load().chat_model or None)


@contextmanager
def _temporary_home():
    before = os.environ.get("HEARTH_HOME")
    with tempfile.TemporaryDirectory(prefix="hearth-selftest-") as home:
        os.environ["HEARTH_HOME"] = home
        try:
            yield Path(home)
        finally:
            if before is None:
                os.environ.pop("HEARTH_HOME", None)
            else:
                os.environ["HEARTH_HOME"] = before


def _shortcut_library() -> None:
    """The tray's global shortcut imports python-xlib only when its grab starts: a frozen build
    that left it out would lose the shortcut silently, so the self-test imports it."""
    if sys.platform.startswith("linux"):
        try:
            import Xlib.display  # noqa: F401
            import Xlib.XK  # noqa: F401
        except ImportError as exc:
            raise SelftestFailure(f"python-xlib, which the global shortcut needs, cannot be imported ({exc})") from exc


def _selftest(model: str | None) -> str:
    chat = _chat_model(model)
    _shortcut_library()
    with _temporary_home():
        from app.core.ingest import ingest
        from app.core.llm.local import LocalEngine
        from app.core.resources import resource_path
        from app.core.routing.router import run as route
        from app.core.services import Services
        from app.core.settings import load
        from app.core.streams import drain

        sample = resource_path(*SAMPLE)
        settings = load()
        engine = LocalEngine(chat, n_ctx=settings.n_ctx, n_threads=settings.n_threads, n_gpu_layers=settings.n_gpu_layers)
        services = Services(settings, shared={"engine": engine})
        try:
            outcome = ingest(services, [sample], COLLECTION).files[0]
            if outcome.status != "indexed":
                raise SelftestFailure(f"ingesting {sample} ended {outcome.status}: {outcome.error or 'no reason given'}")
            result = drain(route(services, "ask", {"question": QUESTION, "collection": COLLECTION}, consent=lambda _preview: False))
            backend = services.embedder.backend
        finally:
            services.close()
            engine.close()
    if not result.citations:
        raise SelftestFailure(f"the answer to {QUESTION!r} cites nothing")
    first = result.citations[0]
    if first.file != sample.name or first.page != ANSWER_PAGE:
        raise SelftestFailure(f"the answer cites {first.file} p. {first.page}, not {sample.name} p. {ANSWER_PAGE}")
    if not result.text.strip():
        raise SelftestFailure("the chat model returned no text")
    answer = " ".join(result.text.split())
    return f"{chat.name} and {backend} embedder loaded; {sample.name} ingested; cites p. {first.page}; answered {answer[:80]!r}"
