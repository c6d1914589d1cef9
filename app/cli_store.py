"""`hearth store use --server URL [--token-stdin]`, `hearth store use --embedded` and
`hearth store status`: where the documents live. Logic lives in app.core.store.server."""

from __future__ import annotations

import sys

from app.cli import EXIT_FAIL, EXIT_OK, _print_json


def cmd_use(args) -> int:
    from app.core.store import server

    if args.embedded:
        server.use("")
        print("store: embedded in the data folder (documents on a server stay there)")
        return EXIT_OK
    # Never from argv (it would sit in the shell history and the process list): one line on stdin.
    token = sys.stdin.readline().strip() if args.token_stdin else None
    server.use(args.server, token)
    print(f"store: the Chroma server at {args.server.strip().rstrip('/')}, catalog shared with it"
          + (" (token kept in the OS keyring)" if token else ""))
    return EXIT_OK


def cmd_status(args) -> int:
    from app.core import settings
    from app.core.store import server

    found = server.status(settings.load().store.server_url)
    if args.json:
        _print_json(found)
    else:
        print(f"store: {server.summary(found)}")
    return EXIT_OK if found["reachable"] else EXIT_FAIL


def add_parsers(sub) -> None:
    store = sub.add_parser("store", help="where documents live: embedded, or a team's Chroma server").add_subparsers(
        dest="store_command", required=True)
    use = store.add_parser("use", help="use a Chroma server (`chroma run`) the team shares, or the embedded store")
    where = use.add_mutually_exclusive_group(required=True)
    where.add_argument("--server", metavar="URL", help="e.g. http://10.0.0.5:8000; the catalog is shared with it")
    where.add_argument("--embedded", action="store_true", help="the store in the data folder (the default)")
    use.add_argument("--token-stdin", action="store_true", help="read the server's auth token as one line on stdin (kept in the keyring)")
    use.set_defaults(func=cmd_use)
    status = store.add_parser("status", help="which store, whether it answers, its documents by status")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)
