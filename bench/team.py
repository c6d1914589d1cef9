"""The team store's cost: store and query throughput against the embedded store and against a
loopback `chroma run`, with one client and with two, as ratios to the embedded store in the same run.

    scripts/test-session.sh --exec .venv/bin/python bench/team.py [--docs 60] [--chunks 8] [--queries 200]

What is timed is the store's part of an ingest and of a question, through the real Library: a
document's catalog record, lease and chunks written (`store_document`, as `ingest` calls it), and
a nearest-chunks query (`query`, pending documents hidden). The chunks and their vectors (the real
embedder) are made once before any timing, so the figures are the store's and not the embedder's,
which costs the same on either store. Two clients are two processes, each with its own data folder,
storing half the documents at once, then querying at once: their figure is the aggregate rate.
Embedded with two clients does not exist (one process holds the data folder). Each setup runs in
a fresh store; the order is embedded, server, two clients, twice, and the best of the two rounds
of each is kept, since others share the CPU. Load average before and after too.
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing as mp
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["ANONYMIZED_TELEMETRY"] = "False"
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

WORDS = ("tide harbour pier lamp keeper boat storm fog log chart rope dock gull wave reef buoy anchor sail mast cliff").split()


def corpus(docs: int, chunks: int, seed: int = 16) -> list[tuple[str, list[str]]]:
    rng = random.Random(seed)
    return [(f"/bench/team/doc{d:03}.txt", [" ".join(rng.choice(WORDS) for _ in range(120)) for _ in range(chunks)]) for d in range(docs)]


def prepare(docs: int, chunks: int, queries: int):
    from app.core.embedding import Embedder

    embedder = Embedder()
    texts = corpus(docs, chunks)
    vectors = embedder.embed([t for _, parts in texts for t in parts])
    rng = random.Random(7)
    asks = embedder.embed([" ".join(rng.choice(WORDS) for _ in range(8)) for _ in range(queries)])
    return texts, vectors, asks


def _records(texts, vectors, share: slice):
    from app.core.chunking import Chunk

    out, at = [], 0
    for path, parts in texts:
        chunk_list = [Chunk(t, None, None, None, 0, len(t), i) for i, t in enumerate(parts)]
        out.append((path, chunk_list, vectors[at : at + len(parts)]))
        at += len(parts)
    return out[share]


def client(home: str, url: str, texts, vectors, asks, share: slice, start, results) -> None:
    """One client: store its share of the documents, then run its share of the queries."""
    os.environ["HEARTH_HOME"] = home
    from app.core.store.catalog import DocumentRecord
    from app.core.store.library import Library

    with Library(url) as library:
        library.collection("default")
        work = _records(texts, vectors, share)
        if start is not None:
            start.wait()
        began = time.perf_counter()
        for path, chunks, vecs in work:
            digest = hashlib.sha256(path.encode()).hexdigest()
            record = DocumentRecord("default", path, Path(path).name, digest, 1, 0.0, "indexed", None, 1, len(chunks), 0.0, time.time())
            library.store_document(record, chunks, vecs, doc_id=digest[:16])
        stored = time.perf_counter() - began
        if start is not None:
            start.wait()
        began = time.perf_counter()
        for vector in asks[share]:
            library.query("default", vector, 4)
        asked = time.perf_counter() - began
        assert library.check_consistency() == []
    results.put((len(work), stored, len(asks[share]), asked))


def run(setup: str, texts, vectors, asks, root: Path) -> tuple[float, float]:
    """(documents stored per second, queries per second) for one setup, in a fresh store."""
    from chroma_server import ChromaServer

    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    server = None
    folder = Path(tempfile.mkdtemp(dir=root))
    try:
        if setup == "embedded":
            url, clients = "", 1
        else:
            server = ChromaServer(folder / "chroma-db").start()
            url, clients = server.url, 1 if setup == "server, 1 client" else 2
        start = ctx.Barrier(clients) if clients > 1 else None
        procs = [ctx.Process(target=client, args=(str(folder / f"home{c}"), url, texts, vectors, asks, slice(c, None, clients), start, results))
                 for c in range(clients)]
        for p in procs:
            p.start()
        got = [results.get(timeout=1800) for _ in procs]
        for p in procs:
            p.join()
            assert p.exitcode == 0, f"{setup}: a client failed"
        docs, stored, queries, asked = (sum(g[0] for g in got), max(g[1] for g in got), sum(g[2] for g in got), max(g[3] for g in got))
        return docs / stored, queries / asked
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--docs", type=int, default=60)
    parser.add_argument("--chunks", type=int, default=8, help="chunks per document")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    load_before = os.getloadavg()
    texts, vectors, asks = prepare(args.docs, args.chunks, args.queries)
    setups = ("embedded", "server, 1 client", "server, 2 clients")
    best: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as root:
        for r in range(args.rounds):
            for setup in setups:
                docs_s, queries_s = run(setup, texts, vectors, asks, Path(root))
                old = best.get(setup, (0.0, 0.0))
                best[setup] = (max(old[0], docs_s), max(old[1], queries_s))
                print(f"round {r + 1} {setup:18s} {docs_s:7.1f} documents/s stored  {queries_s:7.1f} queries/s  "
                      f"load {os.getloadavg()[0]:.1f}", flush=True)
    load_after = os.getloadavg()
    print(f"\n{args.docs} documents x {args.chunks} chunks ({len(vectors[0])}-d vectors), {args.queries} queries (k=4); best of {args.rounds} rounds")
    base_docs, base_queries = best["embedded"]
    for setup in setups:
        docs_s, queries_s = best[setup]
        print(f"{setup:18s} store {docs_s:7.1f} docs/s ({docs_s * args.chunks:7.0f} chunks/s), ratio {docs_s / base_docs:5.2f}   "
              f"query {queries_s:7.1f} /s, ratio {queries_s / base_queries:5.2f}")
    print(f"load average before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
