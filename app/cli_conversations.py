"""`hearth conversations`: the window's chat history from the command line (list, show, rename,
delete, export as Markdown). Logic lives in app.core.conversations."""

from __future__ import annotations

import sys
import time
from dataclasses import asdict
from pathlib import Path

from app.cli import EXIT_OK, _print_json


def _store():
    from app.core.conversations import Conversations

    return Conversations()


def cmd_conversations(args) -> int:
    store = _store()
    try:
        if args.action == "list":
            rows = store.list()
            if args.json:
                _print_json([asdict(c) for c in rows])
            for c in rows if not args.json else ():
                when = time.strftime("%Y-%m-%d %H:%M", time.localtime(c.updated_at))
                print(f"{c.id:>4}  {when}  {c.messages // 2:>3} questions  {c.title}")
            return EXIT_OK
        if args.id is None:
            raise SystemExit(f"hearth: conversations {args.action} needs a conversation id (see `hearth conversations list`)")
        if args.action == "show":
            if args.json:
                _print_json({**asdict(store.get(args.id)), "messages": [asdict(m) for m in store.messages(args.id)]})
            else:
                print(store.to_markdown(args.id), end="")
        elif args.action == "export":
            text = store.to_markdown(args.id)
            if args.output and args.output != "-":
                Path(args.output).write_text(text, encoding="utf-8")
                print(f"exported conversation {args.id} to {args.output}", file=sys.stderr)
            else:
                print(text, end="")
        elif args.action == "rename":
            if not args.title:
                raise SystemExit("hearth: conversations rename needs the new title")
            store.rename(args.id, " ".join(args.title))
            print(f"renamed conversation {args.id}", file=sys.stderr)
        elif args.action == "delete":
            store.delete(args.id)
            print(f"deleted conversation {args.id}", file=sys.stderr)
        return EXIT_OK
    finally:
        store.close()


def add_parsers(sub) -> None:
    conv = sub.add_parser("conversations", help="list, show, rename, delete or export the chat history (Markdown with citations)")
    conv.add_argument("action", nargs="?", default="list", choices=["list", "show", "rename", "delete", "export"])
    conv.add_argument("id", nargs="?", type=int)
    conv.add_argument("title", nargs="*", help="with rename: the new title")
    conv.add_argument("-o", "--output", help="with export: the Markdown file to write (default: stdout)")
    conv.add_argument("--json", action="store_true")
    conv.set_defaults(func=cmd_conversations)
