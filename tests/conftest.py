"""Shared fixtures. Every test runs in its own HEARTH_HOME; the network guard is on for the
whole session (loopback only); the real embedder and model load once and are shared."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["ANONYMIZED_TELEMETRY"] = "False"

from app.core import netpolicy  # noqa: E402

netpolicy.install()  # outbound sockets blocked for the whole suite, loopback excepted

sys.path.insert(0, str(Path(__file__).parent))
from pdfgen import write_pdf  # noqa: E402

pytest_plugins = ["cloud_server"]  # the loopback "cloud": a real llama_cpp.server, and a scripted stub for faults

REPO = Path(__file__).resolve().parents[1]
HEARTH = [sys.executable, "-m", "app"]

GUIDE_PAGES = [
    "The Lighthouse Keeper's Manual. Chapter one tells the history of the Brannock lighthouse, "
    "built in 1871 on the northern cliffs above the harbour of Kell.",
    "Chapter two, maintenance. The lamp of the Brannock lighthouse must be cleaned every Tuesday "
    "with warm vinegar and a soft linen cloth. The keeper replaces the wick each spring.",
    "Chapter three, emergencies. During a storm the keeper sounds the foghorn every thirty seconds "
    "and writes each passing ship in the logbook.",
]


@pytest.fixture(autouse=True)
def hearth_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "hearth-home"
    home.mkdir()
    monkeypatch.setenv("HEARTH_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def chat_model_path() -> Path:
    from app.core.models import ModelError, chat_model_path

    try:
        return chat_model_path()
    except ModelError as exc:
        pytest.fail(f"default model not provisioned ({exc}); `make test` fetches it")


@pytest.fixture(scope="session")
def shared_embedder(tmp_path_factory):
    from app.core.embedding import Embedder

    # Session-wide, so it loads before any test's HEARTH_HOME: give its ONNX export cache a
    # temporary home of its own rather than the user's real cache folder.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HEARTH_HOME", str(tmp_path_factory.mktemp("embedder-home")))
        return Embedder()


@pytest.fixture(scope="session")
def shared_engine(chat_model_path):
    from app.core.llm.local import LocalEngine

    engine = LocalEngine(chat_model_path, n_ctx=2048)
    yield engine
    engine.close()


@pytest.fixture
def services(shared_embedder, shared_engine):
    from app.core.services import Services

    s = Services(shared={"embedder": shared_embedder, "engine": shared_engine})
    yield s
    s.close()


@pytest.fixture
def guide_pdf(tmp_path) -> Path:
    return write_pdf(tmp_path / "keeper-manual.pdf", GUIDE_PAGES)


def run_cli(*args: str, env: dict | None = None, input: str | None = None) -> subprocess.CompletedProcess:
    """Run `python -m app ...` the way a user runs `hearth ...`."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([*HEARTH, *args], capture_output=True, text=True, env=full_env, cwd=REPO, input=input, timeout=600)


@pytest.fixture
def copy_model(tmp_path, chat_model_path):
    def make(name: str = "copy.gguf", size: int | None = None) -> Path:
        target = tmp_path / name
        if size is None:
            shutil.copyfile(chat_model_path, target)
        else:
            with chat_model_path.open("rb") as src:
                target.write_bytes(src.read(size))
        return target

    return make
