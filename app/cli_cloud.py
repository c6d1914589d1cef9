"""`hearth cloud …` and `hearth ledger`: the provider, its key, the policy, and what was sent.
Logic lives in app.core (settings, secrets, ledger); this file only translates."""

from __future__ import annotations

import getpass
import sys

from app.cli import EXIT_OK, _err, _print_json


def _settings():
    from app.core import settings

    return settings, settings.load()


def _provider(cloud) -> str:
    from app.core.errors import HearthError

    if not cloud.base_url:
        raise HearthError("no cloud provider is configured: run `hearth cloud configure --base-url URL --model NAME` first")
    return cloud.base_url


def cmd_set_key(args) -> int:
    from app.core.secrets import set_key

    _, current = _settings()
    provider = _provider(current.cloud)
    # Never from argv (it would sit in the shell history and the process list): a hidden prompt, or stdin for scripts.
    key = getpass.getpass(f"API key for {provider} (input hidden): ") if sys.stdin.isatty() else sys.stdin.readline()
    set_key(provider, key)
    print(f"stored the key for {provider} in the OS keyring")
    return EXIT_OK


def cmd_forget_key(args) -> int:
    from app.core.secrets import forget_key

    _, current = _settings()
    removed = forget_key(_provider(current.cloud))
    print("removed the key from the OS keyring" if removed else "no key was stored")
    return EXIT_OK


def cmd_status(args) -> int:
    from app.core.ledger import Ledger
    from app.core.secrets import key_status

    _, current = _settings()
    cloud = current.cloud
    status = {
        "base_url": cloud.base_url or None, "model": cloud.model or None, "price_per_1k": cloud.price_per_1k,
        "policy": cloud.policy, "threshold": cloud.threshold,
        "tasks": {task: own.model_dump() for task, own in cloud.tasks.items()},
        "escalation": "on" if cloud.enabled else "off",
        "key": key_status(cloud.base_url) if cloud.base_url else {"stored": False, "secure": False, "reason": "no provider configured"},
        "ledger": Ledger().summary(),
    }
    if args.json:
        _print_json(status)
        return EXIT_OK
    print(f"provider   {status['base_url'] or '(none)'}  model {status['model'] or '(none)'}  price/1k {cloud.price_per_1k}")
    print(f"policy     {cloud.policy}, threshold {cloud.threshold}; escalation {status['escalation']}")
    for task, own in status["tasks"].items():
        print(f"  {task}: policy {own['policy'] or '(general)'}, threshold {own['threshold'] if own['threshold'] is not None else '(general)'}")
    key = status["key"]
    print(f"key        {'stored' if key['stored'] else 'not stored'} in {key.get('backend', '-')}"
          + ("" if key.get("secure") else f"; unavailable: {key['reason']}"))
    print(f"ledger     {status['ledger']['requests']} requests recorded")
    return EXIT_OK


def cmd_configure(args) -> int:
    from urllib.parse import urlsplit

    from app.core.errors import HearthError
    from app.core.netpolicy import is_loopback

    settings, current = _settings()
    url = args.base_url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise HearthError(f"{url!r} is not an http(s) URL")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise HearthError("the provider must use https:// (plain http is allowed only on this machine's loopback)")
    current.cloud.base_url, current.cloud.model = url, args.model
    if args.price_per_1k is not None:
        current.cloud.price_per_1k = args.price_per_1k
    settings.save(current)
    print(f"cloud provider set: {url}, model {args.model}; the policy is still {current.cloud.policy}")
    return EXIT_OK


def cmd_policy(args) -> int:
    from app.core.settings import CloudSettings, TaskCloudPolicy

    settings, current = _settings()
    cloud = current.cloud.model_dump()
    if args.task:
        own = cloud["tasks"].get(args.task, {})
        own.update({"policy": args.policy, **({"threshold": args.threshold} if args.threshold is not None else {})})
        cloud["tasks"][args.task] = TaskCloudPolicy(**own).model_dump()
    else:
        cloud["policy"] = args.policy
        if args.threshold is not None:
            cloud["threshold"] = args.threshold
    current.cloud = CloudSettings.model_validate(cloud)  # range checks for the threshold
    settings.save(current)
    where = f"for {args.task}" if args.task else "for every task"
    print(f"cloud policy {args.policy} {where}" + (f", threshold {args.threshold}" if args.threshold is not None else ""))
    if args.policy != "never" and not current.cloud.base_url:
        _err("warning: no provider is configured yet, so nothing can escalate: run `hearth cloud configure`")
    return EXIT_OK


def cmd_ledger(args) -> int:
    from app.core.ledger import Ledger

    ledger = Ledger()
    if args.csv:
        ledger.to_csv(sys.stdout if args.csv == "-" else args.csv)
        return EXIT_OK
    rows = ledger.rows(limit=args.limit)
    if args.json:
        _print_json([r.model_dump() for r in rows])
        return EXIT_OK
    if not rows:
        print("nothing has been sent to a cloud model")
        return EXIT_OK
    for r in rows:
        redacted = ", ".join(f"{n} {k}" for k, n in r.redacted_counts.items()) or "nothing"
        print(f"#{r.id} {r.time} {r.outcome:18} {r.task:9} {r.provider} {r.model}  tokens {r.tokens_in}+{r.tokens_out}  "
              f"cost {r.cost_estimate:.4f}  redacted: {redacted}" + (f"  ({r.detail})" if r.detail else ""))
    return EXIT_OK


def add_parsers(sub) -> None:
    from typing import get_args

    from app.core.settings import TaskName

    cloud = sub.add_parser("cloud", help="the cloud fallback: provider, key, policy").add_subparsers(dest="cloud_command", required=True)
    conf = cloud.add_parser("configure", help="set the OpenAI-compatible provider")
    conf.add_argument("--base-url", required=True, help="e.g. https://api.example.com/v1")
    conf.add_argument("--model", required=True)
    conf.add_argument("--price-per-1k", type=float, help="estimated price per 1000 tokens, for the ledger's costs")
    conf.set_defaults(func=cmd_configure)
    pol = cloud.add_parser("policy", help="never, ask (preview and consent), or auto (below the confidence threshold)")
    pol.add_argument("policy", choices=["never", "ask", "auto"])
    pol.add_argument("--threshold", type=float, help="escalate when the calibrated confidence is below this (0-1)")
    pol.add_argument("--task", choices=get_args(TaskName), help="set it for one task only")
    pol.set_defaults(func=cmd_policy)
    setk = cloud.add_parser("set-key", help="store the API key in the OS keyring (hidden prompt, or one line on stdin)")
    setk.set_defaults(func=cmd_set_key)
    forget = cloud.add_parser("forget-key", help="remove the API key from the OS keyring")
    forget.set_defaults(func=cmd_forget_key)
    stat = cloud.add_parser("status", help="provider, policy, whether a key is stored (never the key) and the ledger's totals")
    stat.add_argument("--json", action="store_true")
    stat.set_defaults(func=cmd_status)

    led = sub.add_parser("ledger", help="every request that went (or was about to go) to a cloud model")
    led.add_argument("--json", action="store_true")
    led.add_argument("--csv", metavar="FILE", help="export as CSV (- for stdout)")
    led.add_argument("--limit", type=int, help="only the newest N rows")
    led.set_defaults(func=cmd_ledger)
