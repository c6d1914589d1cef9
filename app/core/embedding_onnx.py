"""The sentence-transformers embedder through ONNX Runtime with int8 weights: about 3x the
throughput of torch on a CPU, with vectors at a mean cosine of 0.99 to the original's.

The installed sentence-transformers model stays the source of truth. On first use its whole
pipeline (transformer, pooling, normalization, traced from the ST modules themselves) is exported
to ONNX, the MatMul weights are quantized to int8 per output channel, and the result is checked
against ST on probe sentences before it is cached under cache_dir()/onnx/<key>. The key hashes
the model's files and this recipe, so a changed model re-exports. The export is built in a
temporary folder renamed into place, and the cached file's sha256 is checked on every load, so a
killed export or a damaged file is exported again, never used. A cached model loads without torch.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from app.core import paths
from app.core.hashing import sha256_file
from app.core.resources import resources_root

log = logging.getLogger(__name__)

RECIPE = "st-onnx-eager-int8-per-channel-matmul/1"  # change it when the export below changes
MODEL_FILE = "model.onnx"
MANIFEST_FILE = "manifest.json"
MIN_PROBE_COSINE = 0.97  # worst agreement with ST accepted on the probes (typical: > 0.99)
# Small batches run fastest on a CPU here (4-8 beat 32 by ~10%) and, as int8 activations are
# scaled per batch, keep a text's vector closer to independent of its batch-mates.
BATCH_SIZE = 8
_STALE_TMP_S = 3600  # a build folder this old was left by a killed export
_EXPORT_TIMEOUT_S = 900.0  # the export takes a few seconds on a quiet machine, minutes on a loaded one

PROBES = [
    "Where is the spare key kept?",
    "The lamp of the Brannock lighthouse must be cleaned every Tuesday with warm vinegar and a soft linen cloth.",
    "Quarterly revenue rose 4.2% to $1.3bn, driven by the northern region; operating margin held at 11%.",
    "def embed(texts): return [model(t) for t in texts]  # one call per text",
    " ".join(["The committee met on the third of May to review the harbour accounts, the new pier and the ferry timetable."] * 14),
]


class ExportError(RuntimeError):
    """The ONNX model could not be made, or disagrees with the sentence-transformers model."""


def core_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def model_key(model_dir: Path) -> str:
    import onnxruntime

    digest = hashlib.sha256(f"{RECIPE}\nonnxruntime {onnxruntime.__version__}\n".encode())
    for file in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        digest.update(f"{file.relative_to(model_dir).as_posix()}\n".encode())
        digest.update(sha256_file(file).encode())
    return digest.hexdigest()[:32]


def _valid_manifest(folder: Path) -> dict | None:
    """The manifest of a complete, undamaged export in `folder`, else None."""
    try:
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
        if manifest.get("recipe") == RECIPE and manifest.get("sha256") == sha256_file(folder / MODEL_FILE):
            return manifest
    except (OSError, ValueError):
        pass
    return None


def cached_export(model_dir: Path) -> tuple[Path, dict]:
    """The folder holding the int8 ONNX export of `model_dir` and its manifest, exporting first if needed."""
    key = model_key(model_dir)
    shipped = resources_root() / "onnx" / key  # a frozen bundle ships its export: it has no torch to make one
    if manifest := _valid_manifest(shipped):
        return shipped, manifest
    root = paths.cache_dir() / "onnx"
    root.mkdir(parents=True, exist_ok=True)
    target = root / key
    if manifest := _valid_manifest(target):
        return target, manifest
    if target.exists():
        log.warning("cached ONNX embedder in %s is incomplete or damaged; exporting it again", target)
        shutil.rmtree(target, ignore_errors=True)
    for stale in root.glob(".build-*"):
        with contextlib.suppress(OSError):  # another process may be removing it too
            if time.time() - stale.stat().st_mtime > _STALE_TMP_S:
                shutil.rmtree(stale, ignore_errors=True)
    build = Path(tempfile.mkdtemp(prefix=f".build-{target.name}-", dir=root))
    try:
        log.info("exporting the embedding model to ONNX int8 (once per model, a few seconds)")
        _export_in_child(model_dir, build)
        try:
            build.rename(target)  # atomic: a reader sees the whole export or none of it
        except OSError:
            if not target.exists():  # else another process has just put its export there
                raise
    finally:
        shutil.rmtree(build, ignore_errors=True)
    if not (manifest := _valid_manifest(target)):
        raise ExportError(f"the ONNX export in {target} does not check out")
    return target, manifest


def _export_in_child(model_dir: Path, out: Path) -> None:
    """Export in a child process: torch and the traced model take about 0.8 GB that the allocator
    would never hand back, and the app that goes on embedding needs none of it."""
    ctx = multiprocessing.get_context("spawn")  # never fork a process that may hold other threads
    parent, child = ctx.Pipe(duplex=False)
    # The check's bar goes along: the child imports this module afresh.
    proc = ctx.Process(target=_export_and_report, args=(child, model_dir, out, MIN_PROBE_COSINE), name="hearth-onnx-export", daemon=True)
    proc.start()
    child.close()
    try:
        failure = parent.recv() if parent.poll(_EXPORT_TIMEOUT_S) else f"took longer than {_EXPORT_TIMEOUT_S:.0f}s"
    except EOFError:
        proc.join(10)
        failure = f"the export process died (exit code {proc.exitcode})"
    # Its word is what counts (the export on disk is checked again after): torch can take long to
    # tear down on a busy machine, and a child that lingers after reporting is only stopped.
    proc.join(60)
    if proc.is_alive():
        proc.kill()
        proc.join()
    if failure:
        raise ExportError(f"exporting the embedder to ONNX failed ({failure})")


def _export_and_report(conn, model_dir: Path, out: Path, min_cosine: float) -> None:
    try:
        _export(model_dir, out, min_cosine)
        conn.send(None)
    except Exception as exc:  # noqa: BLE001 - the parent turns it into one ExportError
        conn.send(f"{type(exc).__name__}: {exc}"[:300])


def _warnings_only(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.WARNING


def _export(model_dir: Path, out: Path, min_cosine: float = MIN_PROBE_COSINE) -> None:
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    # Eager attention traces to the pattern ONNX Runtime fuses into one Attention op (sdpa does not).
    st = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True, model_kwargs={"attn_implementation": "eager"})
    st.eval()
    sample = st.tokenizer(PROBES[:2], padding=True, return_tensors="pt")
    names = list(sample)

    class SentenceEmbedding(torch.nn.Module):
        """The ST pipeline as one function of the token tensors, so pooling and normalization are ST's own."""

        def __init__(self) -> None:
            super().__init__()
            self.st = st

        def forward(self, *tensors):
            return self.st(dict(zip(names, tensors)))["sentence_embedding"]

    fp32, pre, int8 = out / "fp32.onnx", out / "pre.onnx", out / MODEL_FILE
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and tracer notes
        torch.onnx.export(SentenceEmbedding().eval(), tuple(sample.values()), str(fp32), dynamo=False, opset_version=17,
                          input_names=names, output_names=["sentence_embedding"],
                          dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names}, "sentence_embedding": {0: "batch"}})
    onnx.checker.check_model(str(fp32))
    root_logger = logging.getLogger()
    root_logger.addFilter(_warnings_only)  # the quantizer logs a line per tensor to the root logger
    try:
        quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)
        quantize_dynamic(str(pre), str(int8), weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"])
    finally:
        root_logger.removeFilter(_warnings_only)
    fp32.unlink()
    pre.unlink()

    session = OnnxEncoder.open_session(int8, threads=core_count())
    mine = OnnxEncoder.run(session, st.tokenizer, PROBES, st.max_seq_length)
    theirs = st.encode(PROBES, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
    worst = float((mine * theirs).sum(axis=1).min())
    if worst < min_cosine:
        raise ExportError(f"ONNX export disagrees with sentence-transformers (worst probe cosine {worst:.4f})")
    manifest = {"recipe": RECIPE, "sha256": sha256_file(int8), "max_seq_length": int(st.max_seq_length),
                "probe_min_cosine": round(worst, 5)}
    (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=1), encoding="utf-8")


class OnnxEncoder:
    """Encodes texts with the cached int8 export; the tokenizer is the model's own (tokenizer.json)."""

    def __init__(self, model_dir: Path, threads: int | None = None) -> None:
        from transformers import PreTrainedTokenizerFast

        self.folder, manifest = cached_export(model_dir)
        self.max_seq_length = int(manifest["max_seq_length"])
        self.tokenizer = PreTrainedTokenizerFast.from_pretrained(str(model_dir))
        self._session = self.open_session(self.folder / MODEL_FILE, threads or core_count())
        self.dimension = int(self._session.get_outputs()[0].shape[-1])

    @staticmethod
    def open_session(path: Path, threads: int):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Idle workers sleep instead of spinning: about as fast on a quiet machine, and much faster
        # (1.5x here) when the chat model or other programs want the same cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    @staticmethod
    def run(session, tokenizer, texts: list[str], max_seq_length: int, batch_size: int = BATCH_SIZE) -> np.ndarray:
        """L2-normalized vectors, in input order. Texts go in length order so a batch pads little."""
        names = [i.name for i in session.get_inputs()]
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        vectors = np.empty((len(texts), session.get_outputs()[0].shape[-1]), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            enc = tokenizer([texts[i] for i in rows], padding=True, truncation=True, max_length=max_seq_length,
                            return_token_type_ids=True, return_tensors="np")
            vectors[rows] = session.run(None, {n: enc[n].astype(np.int64, copy=False) for n in names})[0]
        return vectors

    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        return self.run(self._session, self.tokenizer, texts, self.max_seq_length, batch_size or BATCH_SIZE)
