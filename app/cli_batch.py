"""Batch mode of classify, extract, transform and summarize: `--jsonl` records (stdin or FILE) or
the files of a FOLDER in; one JSON line per record on stdout, or one row in `--csv FILE`; progress
on stderr. Logic lives in app.core.batch; this file only translates."""

from __future__ import annotations

import csv
import json
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path

from app.cli import EXIT_FAIL, EXIT_OK, _err, _services


def add_arguments(parser) -> None:
    parser.add_argument("--jsonl", action="store_true", help='batch: one record per input line, {"text": ...} (an "id" is kept)')
    parser.add_argument("--csv", metavar="FILE", help="batch: write one CSV row per record to FILE (- for stdout) instead of JSON lines")


def wanted(args) -> bool:
    """Batch mode: asked for, or the source is a folder (each of its files a record)."""
    return args.jsonl or bool(args.csv) or (args.source not in (None, "-") and Path(args.source).is_dir())


def _records(args, services):
    """(records, how many if known, the output fields that name a record)."""
    from app.core import batch

    source = args.source
    if args.jsonl:
        lines = sys.stdin.buffer if source in (None, "-") else Path(source).open("rb")
        return batch.jsonl_records(lines), None, ["line", "id"]
    if source in (None, "-"):
        _err("batch input: give --jsonl for records on stdin, or a FOLDER")
        raise SystemExit(2)
    path = Path(source)
    files = batch.folder_files(path) if path.is_dir() else [path]
    return batch.file_records(services.parser, files), len(files), ["file"]


def run(args, task: str, inputs_for: Callable[[str], dict], schema: dict | None = None) -> int:
    from app.core import batch

    started, done, failed = time.perf_counter(), 0, 0
    with _services() as services:
        records, total, ref_keys = _records(args, services)
        to_stdout = args.csv in (None, "-")
        with nullcontext(sys.stdout) if to_stdout else Path(args.csv).open("w", newline="", encoding="utf-8") as out:
            table = csv.DictWriter(out, batch.csv_columns(task, ref_keys, schema), extrasaction="ignore") if args.csv else None
            if table:
                table.writeheader()
            for outcome in batch.run_batch(services, task, records, inputs_for):
                done += 1
                failed += outcome.error is not None
                if table:
                    table.writerow(batch.csv_row(outcome))
                else:
                    out.write(json.dumps(outcome.as_json(), ensure_ascii=False) + "\n")
                out.flush()
                count = f"{done}/{total}" if total else str(done)
                if outcome.error:
                    print(f"[{count}] failed: {outcome.error}", file=sys.stderr, flush=True)
                else:
                    r = outcome.result
                    print(f"[{count}] {outcome.record.name}: confidence {r.confidence:.2f}, {r.route}", file=sys.stderr, flush=True)
    print(f"{done} records: {done - failed} done, {failed} failed in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return EXIT_FAIL if failed else EXIT_OK
