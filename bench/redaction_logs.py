"""IP redaction on real logs nobody here wrote: every address the standard `ipaddress` module accepts
in a folder of log files, and how many of them today's detectors and the old hand-written ones redact.

    scripts/test-session.sh --exec .venv/bin/python bench/redaction_logs.py DIR [--show N]

DIR: log files, for example loghub's 2k-line samples (https://github.com/logpai/loghub, the
*_2k.log files of its 16 systems: Apache, OpenSSH, HDFS, Mac, Windows, ...). They are data from
another project's repository, so they are not committed. An address counts when a token, with its
brackets, port, /prefix and %scope taken off, parses as an IPv4 or IPv6 address; a dotted quad after
a version word ("version 0.0.0.6") is counted apart, since the labelling rule of
tests/data/redaction.jsonl calls it a version. Precision: IP spans whose address does not parse.
"""

from __future__ import annotations

import argparse
import ipaddress
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from redaction import old_module  # noqa: E402

from app.core.privacy.network import VERSION_WORD, unpadded  # noqa: E402
from app.core.privacy.redaction import find  # noqa: E402

_TOKEN = re.compile(r"[\w:.%/\[\]-]+")


def addresses(line: str) -> list[tuple[int, str]]:
    """(start, address) for every token piece that `ipaddress` accepts."""
    out = []
    for m in _TOKEN.finditer(line):
        for piece in re.split(r"[\[\]/,]", m.group()):
            core = piece.strip(".:-").split("%")[0]
            for candidate in dict.fromkeys((core, core.rsplit(":", 1)[0] if core.count(".") == 3 else core)):
                if candidate.count(":") == 1:
                    continue
                try:
                    ipaddress.ip_address(candidate)
                except ValueError:
                    continue
                out.append((line.find(candidate, m.start()), candidate))
    return out


def _parses(value: str) -> bool:
    address = value.split("/")[0].split("%")[0]
    if re.fullmatch(r"[\d.]+", address):
        address = unpadded(address)  # leading zeros, as logs write them
    try:
        ipaddress.ip_address(address)
        return True
    except ValueError:
        return False


def scan(path: Path, detectors: dict, show: int) -> dict:
    counts = {"addresses": 0, "versions": 0, **{f"{n} caught": 0 for n in detectors}, **{f"{n} not addresses": 0 for n in detectors}}
    shown = 0
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        found = addresses(line)
        spans = {n: [s for s in detect(line) if s.kind in ("IP", "URL")] for n, detect in detectors.items()}
        for n, ss in spans.items():
            counts[f"{n} not addresses"] += sum(s.kind == "IP" and not _parses(s.value) for s in ss)
        for start, address in found:
            if VERSION_WORD.search(line[max(0, start - 12) : start]):
                counts["versions"] += 1
                continue
            counts["addresses"] += 1
            for n, ss in spans.items():
                hit = any(s.start <= start and start + len(address) <= s.end for s in ss)
                counts[f"{n} caught"] += hit
                if n == "new" and not hit and shown < show:
                    shown += 1
                    print(f"  missed in {path.name}: {address!r} in {line[max(0, start - 40) : start + len(address) + 20]!r}")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--show", type=int, default=5, help="misses of today's detectors to print per file")
    args = parser.parse_args()
    old = old_module()
    detectors = {"new": find, "old": old.find}
    files = sorted(p for p in args.folder.iterdir() if p.is_file())
    if not files:
        sys.exit(f"{args.folder}: no files")
    total: dict[str, int] = {}
    print(f"{'file':24s} {'addresses':>9s} {'new':>13s} {'old':>13s} {'versions':>8s} {'not addresses new/old':>22s}")
    for path in files:
        c = scan(path, detectors, args.show)
        for k, v in c.items():
            total[k] = total.get(k, 0) + v
        _row(path.name, c)
    _row("all", total)
    ratio = total["new caught"] / max(1, total["old caught"])
    print(f"new/old caught: {ratio:.2f}x")


def _row(name: str, c: dict) -> None:
    n = max(1, c["addresses"])
    print(f"{name:24s} {c['addresses']:9d} {c['new caught']:6d} {c['new caught'] / n:6.1%} {c['old caught']:6d} "
          f"{c['old caught'] / n:6.1%} {c['versions']:8d} {c['new not addresses']:>11d}/{c['old not addresses']}")


if __name__ == "__main__":
    main()
