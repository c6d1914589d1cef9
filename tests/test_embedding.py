"""The ONNX int8 embedder against the sentence-transformers (torch) one it is made from."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from app.core import embedding_onnx
from app.core.embedding import Embedder
from app.core.hashing import sha256_file

pytestmark = pytest.mark.slow

SENTENCES = [
    "The lamp of the Brannock lighthouse must be cleaned every Tuesday with warm vinegar and a soft linen cloth.",
    "Where did I leave the spare key to the garden shed?",
    "Quarterly revenue rose 4.2% to $1.3bn, driven by strong demand in the northern region.",
    "Photosynthesis converts light energy into chemical energy stored in glucose.",
    "The council agreed to spend 800 crowns on repairing the footbridge at Glenstead.",
    "Mix the flour and butter, add two eggs, and bake for forty minutes until golden.",
    "If the loom stops with fault code E27, check the wiring harness at connector J2 before replacing the sensor.",
    "Der Zug nach Berlin fährt um halb neun vom dritten Gleis ab.",
]

PASSAGES = {
    "lighthouse": "Chapter two, maintenance. The lamp of the Brannock lighthouse must be cleaned every Tuesday with warm "
                  "vinegar and a soft linen cloth. The keeper replaces the wick each spring.",
    "storm": "Chapter three, emergencies. During a storm the keeper sounds the foghorn every thirty seconds and writes "
             "each passing ship in the logbook.",
    "recipe": "Mutton stew from the harbour kitchens: brown the meat, add barley, carrots and thyme, then simmer gently "
              "for two hours; boiling toughens the meat.",
    "loom": "Before servicing the warp tension regulator, isolate the loom at the main switch. Tighten the retaining "
            "bolts to 21 newton-metres in a cross pattern.",
    "plant": "Marsh tellwort grows on wet flushes between 300 and 900 metres. Its petals carry seven fine violet stripes.",
    "finance": "Operating margin held at 11% for the year while revenue grew, chiefly from the northern stores.",
    "train": "The night train to the coast leaves platform three at half past eight and arrives before dawn.",
    "keys": "The spare key to the garden shed hangs on the hook behind the pantry door.",
}
QUESTIONS = {
    "How often is the lighthouse lamp cleaned?": "lighthouse",
    "What does the keeper do during a storm?": "storm",
    "How long should the mutton stew simmer?": "recipe",
    "What torque do the loom's retaining bolts need?": "loom",
    "How many stripes are on the petals of marsh tellwort?": "plant",
    "Where is the spare key for the shed?": "keys",
    "When does the night train leave?": "train",
}


@pytest.fixture(scope="module")
def exported_home(tmp_path_factory) -> Path:
    """A HEARTH_HOME whose cache holds the ONNX export, made once for this module."""
    home = tmp_path_factory.mktemp("onnx-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HEARTH_HOME", str(home))
        Embedder(backend="onnx")
    return home


@pytest.fixture
def onnx_embedder(exported_home, monkeypatch) -> Embedder:
    monkeypatch.setenv("HEARTH_HOME", str(exported_home))
    return Embedder(backend="onnx")


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    return Embedder(backend="torch")


def _export_folders(home: Path) -> list[Path]:
    return [p for p in (home / "cache" / "onnx").iterdir() if p.is_dir() and not p.name.startswith(".")]


def test_onnx_vectors_match_torch_and_are_normalized(onnx_embedder, torch_embedder):
    assert onnx_embedder.backend == "onnx" and torch_embedder.backend == "torch"
    assert onnx_embedder.dimension == torch_embedder.dimension == 384
    fast, slow = np.array(onnx_embedder.embed(SENTENCES)), np.array(torch_embedder.embed(SENTENCES))
    assert fast.shape == slow.shape == (len(SENTENCES), 384)
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-4)
    cosines = (fast * slow).sum(axis=1)
    assert cosines.min() > 0.98, cosines
    assert cosines.mean() > 0.99, cosines


def test_vectors_come_back_in_input_order_and_long_texts_truncate_like_torch(onnx_embedder, torch_embedder):
    long_text = " ".join(SENTENCES * 6)  # well past the 256-token limit
    texts = [long_text, *SENTENCES]
    forward = np.array(onnx_embedder.embed(texts, batch_size=3))
    backward = np.array(onnx_embedder.embed(texts[::-1], batch_size=3))[::-1]
    np.testing.assert_allclose(forward, backward, atol=1e-6)
    # int8 activations are scaled per batch, so batch-mates move a vector, but only a little
    alone = np.array([onnx_embedder.embed([t])[0] for t in texts])
    assert (forward * alone).sum(axis=1).min() > 0.98
    [slow] = torch_embedder.embed([long_text])
    assert float(np.dot(forward[0], slow)) > 0.98
    assert onnx_embedder.embed([]) == []


def test_tokenizer_is_the_models_own(onnx_embedder, torch_embedder):
    text = "Naïve café owners in Zürich—and 3,141 others—don't tokenize alike?\nSecond line: E27/J2."
    fast = onnx_embedder.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    slow = torch_embedder.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    assert fast["input_ids"] == slow["input_ids"]
    assert fast["offset_mapping"] == slow["offset_mapping"]


def test_retrieval_ranking_is_the_same_for_both_backends(onnx_embedder, torch_embedder):
    scores = {}
    for backend in (onnx_embedder, torch_embedder):
        passages = np.array(backend.embed(list(PASSAGES.values())))
        scores[backend.backend] = np.array(backend.embed(list(QUESTIONS))) @ passages.T
    fast, slow = scores["onnx"], scores["torch"]
    names = list(PASSAGES)
    for n, label in enumerate(QUESTIONS.values()):
        assert names[fast[n].argmax()] == names[slow[n].argmax()] == label
    np.testing.assert_allclose(fast, slow, atol=0.05)
    # Every pair of passages torch tells apart (by more than 0.05) comes out in the same order.
    clear = slow[:, :, None] - slow[:, None, :] > 0.05
    assert (fast[:, :, None] > fast[:, None, :])[clear].all()


def test_cached_export_is_reused_without_exporting(onnx_embedder, exported_home, monkeypatch):
    [folder] = _export_folders(exported_home)
    model = folder / embedding_onnx.MODEL_FILE
    before = model.stat().st_mtime_ns

    def no_export(*args):
        raise AssertionError("exported again although the cache was good")

    monkeypatch.setattr(embedding_onnx, "_export", no_export)
    again = Embedder(backend="onnx")
    assert again.backend == "onnx"
    assert _export_folders(exported_home) == [folder]
    assert model.stat().st_mtime_ns == before


@pytest.mark.parametrize("damage", ["truncated", "flipped byte", "no manifest"])
def test_damaged_cached_export_is_detected_and_exported_again(exported_home, hearth_home, caplog, damage):
    shutil.copytree(exported_home / "cache" / "onnx", hearth_home / "cache" / "onnx")
    [folder] = _export_folders(hearth_home)
    model = folder / embedding_onnx.MODEL_FILE
    good = model.read_bytes()
    if damage == "truncated":  # a killed writer, were the file written in place
        model.write_bytes(good[: len(good) // 2])
    elif damage == "flipped byte":  # still parses as ONNX: only the checksum notices
        middle = len(good) // 2
        model.write_bytes(good[:middle] + bytes([good[middle] ^ 0xFF]) + good[middle + 1 :])
    else:
        (folder / embedding_onnx.MANIFEST_FILE).unlink()

    with caplog.at_level(logging.WARNING, logger="app.core.embedding_onnx"):
        embedder = Embedder(backend="onnx")
    assert "exporting it again" in caplog.text
    assert embedder.backend == "onnx"
    assert embedding_onnx._valid_manifest(folder)["sha256"] == sha256_file(model)
    assert [p.name for p in (hearth_home / "cache" / "onnx").iterdir()] == [folder.name]  # no build folder left
    [vector] = embedder.embed([SENTENCES[0]])
    assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-4


def test_failed_export_leaves_nothing_behind_and_auto_falls_back_to_torch(hearth_home, monkeypatch, caplog):
    monkeypatch.setattr(embedding_onnx, "MIN_PROBE_COSINE", 1.01)  # no export can pass this check
    with pytest.raises(embedding_onnx.ExportError, match="disagrees with sentence-transformers"):
        Embedder(backend="onnx")
    assert list((hearth_home / "cache" / "onnx").iterdir()) == []

    def no_onnx(model_dir):
        raise ImportError("No module named 'onnxruntime'")

    monkeypatch.setattr(embedding_onnx, "cached_export", no_onnx)
    with caplog.at_level(logging.WARNING, logger="app.core.embedding"):
        embedder = Embedder()
    assert embedder.backend == "torch"
    assert "using torch" in caplog.text
    assert len(embedder.embed(["still works"])[0]) == 384


def test_cache_key_follows_the_model_files(tmp_path):
    from app.core.models import embedding_model_path

    original = embedding_model_path()
    copy = tmp_path / "model"
    shutil.copytree(original, copy)
    assert embedding_onnx.model_key(copy) == embedding_onnx.model_key(original)
    config = copy / "1_Pooling" / "config.json"
    config.write_text(config.read_text().replace('"pooling_mode_max_tokens": false', '"pooling_mode_max_tokens": true'))
    assert embedding_onnx.model_key(copy) != embedding_onnx.model_key(original)
