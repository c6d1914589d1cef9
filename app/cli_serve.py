"""`hearth serve` and `hearth serve token`: the local OpenAI-compatible API and its bearer token.
Logic lives in app.core.api and app.core.secrets; this file only translates."""

from __future__ import annotations

import signal
import sys

from app.cli import EXIT_OK, _err, _services


def cmd_serve(args) -> int:
    from app.core.api import ApiServer, check_bind
    from app.core.netpolicy import is_loopback

    check_bind(args.host, args.allow_remote)  # refused before anything loads or binds
    with _services() as services:
        # Loaded before listening: a running window holding the data folder is said now, and the
        # first request does not wait for the model.
        services.library, services.engine  # noqa: B018
        server = ApiServer(services, args.host, args.port, args.allow_remote)
        if not is_loopback(args.host):
            _err(f"warning: listening on {args.host}: other machines can reach the API (with the token)")
        print(f"hearth: serving the OpenAI-compatible API at {server.base_url} (token: `hearth serve token`); Ctrl-C stops",
              file=sys.stderr, flush=True)
        # uvicorn shuts down gracefully on SIGINT or SIGTERM, then raises the signal again; as
        # KeyboardInterrupt it ends here, so the model and the data folder are closed properly.
        previous = signal.signal(signal.SIGTERM, signal.default_int_handler)
        try:
            server.run()
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
    return EXIT_OK


def cmd_token(args) -> int:
    from app.core.secrets import serve_token

    print(serve_token(renew=args.renew))
    return EXIT_OK


def add_parsers(sub) -> None:
    from app.core.api import DEFAULT_PORT

    serve = sub.add_parser("serve", help="serve an OpenAI-compatible API on loopback for your own tools (token: `hearth serve token`)")
    serve.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1, loopback)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"default: {DEFAULT_PORT}")
    serve.add_argument("--allow-remote", action="store_true", help="allow a --host other machines can reach")
    serve.set_defaults(func=cmd_serve)
    token = serve.add_subparsers(dest="serve_command").add_parser("token", help="print the API's bearer token (made on first use)")
    token.add_argument("--renew", action="store_true", help="replace the token; tools holding the old one get 401")
    token.set_defaults(func=cmd_token)
