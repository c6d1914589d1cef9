"""Redaction quality and speed: today's detectors against the old hand-written ones, same run.

    scripts/test-session.sh --exec .venv/bin/python bench/redaction.py [--json] [--extra PATH]... [--show dev|extra|extra2] [--no-test] [--verbose]

Four sets, per kind, side by side:
- own: tests/data/redaction.jsonl (a regression set written here, so no evidence on its own).
  Strict score: a found span counts when its kind and exact text equal a labelled span (each
  label counts once); precision and recall per kind.
- peer dev / peer test: ../shared/bench/redaction/cases.jsonl, cases from the test suites of
  Presidio, detect-secrets and scrubadub (source and licence in its README). A positive case is
  caught when every expected value lies wholly inside redacted spans (of any kind); a negative
  case is clean when nothing at all is found. The split is fixed by `peer_split` (a hash of the
  case) and was made before any tuning; detectors were tuned on dev only.
- extra dev (with --extra PATH): more cases from the same three suites in the same format (the
  halves of their tables the shared file left out, none with a text identical to a shared case, so
  the test half stays untouched), scored like the peer cases; a dev set (tuned on), like peer dev.
  Not committed: it is data taken from other projects' repositories, which stays out of this one.
  The figures in #14's note used one converted from detect-secrets' tests/plugins/*_test.py,
  presidio-analyzer's recognizer tests and scrubadub's detector tests at the shared file's commits.
  --extra may be given again (columns extra dev2, ...): a second set was converted from gitleaks'
  rule examples (tps/fps in cmd/generate/config/rules/*.go), trufflehog's detector pattern tests
  and CPython's Lib/test/test_ipaddress.py, none of them in the shared file either. A third (IP only)
  was converted from the IP-in-text tests of ioc-finder, python-iocextract, ioc-extractor, msticpy,
  CommonRegex, ddclient (its t/ extract tests and interface samples), Anonip and ipv6calc's
  ipv6loganon scenarios; the leading-zero forms and ddclient's whole-string invalid literals in it are
  no evidence by the `ipaddress` rule. A fourth (IP only, 2,863 cases, scored per address by a
  scratch script) came from Recognizers-Text's IpAddressModel specs (English, Chinese, Japanese,
  Portuguese), ip-regex, CyberChef's Extract IP addresses, linkify-it, datafog, unstructured,
  ThreatIngestor, llm-guard, Drain3, rich, logstash-patterns-core's spec log lines, fail2ban's log
  samples and tcpdump's test outputs. ID, which the shared file has no case of, was tuned on two more
  (scratch scripts, per case): python-stdnum's own doc and doctest examples of 25 modules (119 valid
  numbers, bare and after their word, and 46 invalid ones), and the dev half (by `peer_split`) of
  Presidio's 29 national-ID recognizer tests (318 cases); that set's test half was scored once, at the end.
- old: the detectors as they were at BASELINE_COMMIT, loaded from git at bench time (so no old
  code stays in app/), scored on the same sets.
Speed: milliseconds per 1,000 characters and for one 3,000-token request (12,000 characters of
the own set, the cloud client's 4 characters a token), new and old, the best of 15 runs taken in
turns, with the load average; then, in a fresh interpreter, the import and the first redaction
(where the new detectors load their libraries). --show dev|extra|extra2 lists the cases of that dev set
the new detectors get wrong (never test: it is not for tuning); --no-test leaves the test half
out altogether (while tuning, so that no test figure is seen before the one final run).

How tests/data/redaction.jsonl is labelled (a value is the exact substring to replace):
- URL: a scheme (https, s3, postgres...) or www., or a bare domain under a real top-level domain
  ("acme.io", "registry.example.com/api"); the whole URL wins over an email, IP or token inside
  it; trailing punctuation is not part of it. File names ("redaction.py") are not URLs.
- IP: every valid IPv4/IPv6 address (private and loopback too, the bare "::1" included), with
  its /prefix when that makes a valid network (a CIDR range), without a port; a dotted quad
  after a version word ("version 1.2.3.4", "v10.0.0.1") is a version. MAC addresses and OIDs are
  not labelled.
- SECRET: known key prefixes, the token after "Bearer", JWTs, PEM private keys, values assigned
  to a key/secret/token/password name, random-looking mixed-case tokens of 20+ characters, and
  URLs that are credentials themselves (a Slack webhook). Commit hashes, UUIDs, checksums,
  request ids in lower-case hex, model names and identifiers are not secrets. Masked values
  ("sk-REDACTED", "********") are not either.
- CARD and IBAN: only checksum-valid numbers; masked cards ("************1111") are not cards.
- ID: national identity, social security, tax, passport and driver's licence numbers: one in a
  format only that ID has, with valid check digits ("536-90-4399", "54362315-K"), or any number
  right after a word naming one ("passport no. 533380006"); meeting, order and build numbers are not.
- PHONE: the number as written, with its +country code, (area) code and extension; order,
  customer, invoice, account numbers, ISBNs, IMEIs and meeting ids are not phones.
- DOB: a full date (day, month, year) given as a birth date; hire dates, "born in 1985" and
  other dates are not.
- POSTCODE: the code only (not the city); US ZIP / ZIP+4, UK postcodes, 4-5 digit codes (and
  Dutch "1016 GV") in an address. Years, room numbers and counts are not.
- NAME: only names on the case's "names" list, whole words, any case.
Cases with ids "late-..." were written after the detectors of #5 were tuned on the others. #14
changed the rules for bare domains, "::1", CIDR prefixes, extensions and credential URLs, as its
issue asks; 16 labels in 12 cases follow them now (6 values widened or re-kinded, 9 bare domains
added, and nginx's "listen [::]:443", the unspecified address, labelled as the IP rule says); the old
detectors are scored on the same labels.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable, Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.core.evaluation import split  # noqa: E402
from app.core.privacy.redaction import KINDS, Redactor, Span, find  # noqa: E402

OWN = REPO / "tests" / "data" / "redaction.jsonl"
PEER = REPO.parent / "shared" / "bench" / "redaction" / "cases.jsonl"
# The last commit of the hand-written detectors (#5), the baseline of #14.
BASELINE_COMMIT = "51dc18ef9b6a1ab5669d55b0cfb2678ba5ff819e"
REQUEST_CHARS = 3000 * 4

Detect = Callable[[dict], Iterable[Span]]


def load(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def hearth(case: dict) -> list[Span]:
    return find(case["text"], case.get("names", ()))


def _old_source() -> str:
    return subprocess.run(["git", "-C", str(REPO), "show", f"{BASELINE_COMMIT}:app/core/privacy/redaction.py"],
                          check=True, capture_output=True, text=True).stdout


def old_module() -> types.ModuleType:
    """The redaction module as it was at BASELINE_COMMIT, run from git's copy."""
    source = _old_source()
    module = types.ModuleType("old_redaction")
    module.__file__ = f"<git {BASELINE_COMMIT[:8]}>"
    sys.modules[module.__name__] = module  # dataclasses look their module up while building
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


def detector(module: types.ModuleType) -> Detect:
    return lambda case: module.find(case["text"], case.get("names", ()))


# -- our own labelled set: precision and recall per kind ---------------------------------------
def _labels(case: dict) -> list[Span]:
    """Labelled spans located in the text: each at the first occurrence no earlier label covers."""
    out: list[Span] = []
    for label in case["spans"]:
        value, start = label["value"], case["text"].index(label["value"])
        while any(start < s.end and s.start < start + len(value) for s in out):
            start = case["text"].index(value, start + 1)
        out.append(Span(label["kind"], start, start + len(value), value))
    return out


def evaluate(cases: list[dict], detect: Detect, verbose: bool = False) -> dict:
    """Strict counts per kind and micro totals; misses and extras to stderr if verbose."""
    tally = {k: [0, 0, 0] for k in KINDS}  # tp, fp, fn
    for case in cases:
        found, labels = list(detect(case)), _labels(case)
        free = list(labels)
        for span in found:
            hit = next((lab for lab in free if lab.kind == span.kind and lab.value == span.value), None)
            if hit:
                free.remove(hit)
                tally[span.kind][0] += 1
            else:
                tally[span.kind][1] += 1
                if verbose:
                    print(f"{case['id']:12} extra  {span.kind:8} {span.value!r}", file=sys.stderr)
        for label in free:
            tally[label.kind][2] += 1
            if verbose:
                print(f"{case['id']:12} missed {label.kind:8} {label.value!r}", file=sys.stderr)
    report = {"kinds": {kind: _prf(*t) for kind, t in tally.items()}}
    report["strict"] = _prf(*(sum(t[i] for t in tally.values()) for i in range(3)))
    return report


def _prf(tp: int, fp: int, fn: int) -> dict:
    p, r = tp / max(1, tp + fp), tp / max(1, tp + fn)
    return {"precision": p, "recall": r, "f1": 2 * p * r / max(1e-9, p + r), "support": tp + fn}


# -- the peers' cases: caught / clean per case ---------------------------------------------------
def peer_split(case: dict) -> str:
    """Fixed before tuning, by the project's rule (app.core.evaluation.split) on an id made of the
    case's source, kind and text (the cases carry no id of their own)."""
    return split.part(f"{case['source']}\n{case['kind']}\n{case['text']}")


def covered(case: dict, spans: list[Span]) -> bool:
    """Every occurrence of every expected value lies wholly inside one found span."""
    text = case["text"]
    for value in case["expected"]:
        start = text.find(value)
        while start >= 0:
            if not any(s.start <= start and start + len(value) <= s.end for s in spans):
                return False
            start = text.find(value, start + 1)
    return True


def peer_score(cases: list[dict], detect: Detect, show: bool = False) -> dict:
    """Per kind: [positives caught, positives, negatives clean, negatives], and the totals."""
    kinds: dict[str, list[int]] = {}
    for case in cases:
        spans = list(detect(case))
        ok = not spans if case["negative"] else covered(case, spans)
        row = kinds.setdefault(case["kind"], [0, 0, 0, 0])
        i = 2 if case["negative"] else 0
        row[i] += ok
        row[i + 1] += 1
        if show and not ok:
            found = ", ".join(f"{s.kind}:{s.value!r}" for s in spans) or "nothing"
            print(f"{'NEG' if case['negative'] else 'POS'} {case['kind']:8} {case['text'][:90]!r} -> {found}", file=sys.stderr)
    total = [sum(r[i] for r in kinds.values()) for i in range(4)]
    return {"kinds": kinds, "total": total}


# -- speed ------------------------------------------------------------------------------------------
def request_text(cases: list[dict], chars: int = REQUEST_CHARS) -> str:
    """A request of `chars` characters made of the own set's texts, in file order."""
    text, i = "", 0
    while len(text) < chars:
        text += cases[i % len(cases)]["text"] + "\n\n"
        i += 1
    return text[:chars]


def best_ms(redactors: dict[str, object], text: str, runs: int = 15) -> dict[str, float]:
    """Per redactor, the fastest of `runs` redactions, taken in turns (so that both meet the same
    load), each on a text of its own (nothing cached from the run before)."""
    times: dict[str, list[float]] = {name: [] for name in redactors}
    for i in range(runs):
        request = f"Request {i}.\n{text}"[: len(text)]
        for name, redactor in redactors.items():
            start = time.perf_counter()
            redactor.redact([request])
            times[name].append(time.perf_counter() - start)
    return {name: min(t) * 1000 for name, t in times.items()}


def cold_ms(which: str) -> dict:
    """In a fresh interpreter: importing the detectors, then the first redaction (where the new
    ones load detect-secrets, the suffix list and libphonenumber's regions)."""
    if which == "new":
        load = "from app.core.privacy import redaction as m"
    else:
        source = Path(tempfile.mkdtemp()) / "old_redaction.py"
        source.write_text(_old_source(), encoding="utf-8")
        load = (f"import importlib.util; spec = importlib.util.spec_from_file_location('old_redaction', {str(source)!r}); "
                "m = importlib.util.module_from_spec(spec); sys.modules['old_redaction'] = m; spec.loader.exec_module(m)")
    code = (f"import sys, time; sys.path.insert(0, {str(REPO)!r}); t = time.perf_counter(); {load}; t1 = time.perf_counter(); "
            "m.Redactor().redact(['Mail ops@example.com, key sk-Q8v3nLx7Tz2Kp9Wm4Rb6Yc1Hd5Jf0Ga3, call +44 20 7946 0958']); "
            "print((t1 - t) * 1000, (time.perf_counter() - t1) * 1000)")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout.split()
    return {"import": float(out[0]), "first": float(out[1])}


# -- report ----------------------------------------------------------------------------------------
def peer_sets(with_test: bool = True, extra: list[Path] = ()) -> dict[str, list[dict]]:
    """The case-scored sets, in the table's order: peer dev, the extra dev sets (extra, extra2...) and
    (unless left out) peer test."""
    peer = load(PEER)
    sets = {"dev": [c for c in peer if peer_split(c) == "dev"]}
    for i, path in enumerate(extra):
        sets[_extra_name(i)] = load(path)
    if with_test:
        sets["test"] = [c for c in peer if peer_split(c) == "test"]
    return sets


def _extra_name(i: int) -> str:
    return "extra" if i == 0 else f"extra{i + 1}"


def run(show: str | None = None, with_test: bool = True, extra: list[Path] = ()) -> dict:
    own, sets = load(OWN), peer_sets(with_test, extra)
    old = old_module()
    result: dict = {"own_cases": len(own), "peer_cases": {h: len(c) for h, c in sets.items()}}
    for name, detect in (("new", hearth), ("old", detector(old))):
        result[name] = {"own": evaluate(own, detect)}
        for half, cases in sets.items():
            result[name][half] = peer_score(cases, detect, show=(name == "new" and show == half))
    text = request_text(own)
    result["speed"] = best_ms({"new": Redactor(), "old": old.Redactor()}, text)
    result["cold"] = {name: cold_ms(name) for name in ("new", "old")}
    result["request_chars"] = len(text)
    result["loadavg"] = os.getloadavg()
    return result


def _frac(a: int, n: int) -> str:
    return f"{a}/{n} {a / n:4.0%}" if n else "-"


def print_table(result: dict) -> None:
    new, old = result["new"], result["old"]
    sets = list(result["peer_cases"])
    names = {"dev": "dev", "test": "test"} | {h: h.replace("extra", "extra dev") for h in sets if h.startswith("extra")}
    print(f"own set: {result['own_cases']} cases (strict precision/recall); case sets (positives caught): "
          + ", ".join(f"{names[h]} {n}" for h, n in result["peer_cases"].items())
          + f"; old = detectors at {BASELINE_COMMIT[:8]}")
    head = f"{'kind':9} {'own P':>6} {'own R':>6} {'old P':>6} {'old R':>6}" + "".join(
        f" | {names[h] + ' new':>13} {names[h] + ' old':>13}" for h in sets)
    print(head)
    print("-" * len(head))

    def cells(pick) -> str:
        return "".join(f" | {pick(new[h]):>13} {pick(old[h]):>13}" for h in sets)

    for kind in KINDS:
        o, b = new["own"]["kinds"][kind], old["own"]["kinds"][kind]
        row = lambda side, k=kind: _frac(*side["kinds"][k][:2]) if side["kinds"].get(k, [0, 0])[1] else "-"
        print(f"{kind:9} {o['precision']:6.3f} {o['recall']:6.3f} {b['precision']:6.3f} {b['recall']:6.3f}" + cells(row))
    o, b = new["own"]["strict"], old["own"]["strict"]
    print(f"{'all pos':9} {o['precision']:6.3f} {o['recall']:6.3f} {b['precision']:6.3f} {b['recall']:6.3f}"
          + cells(lambda side: _frac(*side["total"][:2])))
    print(f"{'neg clean':9} {'':27}" + cells(lambda side: _frac(*side["total"][2:])))
    speed, chars = result["speed"], result["request_chars"]
    print(f"speed: new {speed['new'] / chars * 1000:.2f} ms per 1,000 chars, old {speed['old'] / chars * 1000:.2f}; "
          f"3,000-token request ({chars} chars): new {speed['new']:.1f} ms, old {speed['old']:.1f} ms "
          f"(new/old {speed['new'] / speed['old']:.2f}x); load average {' '.join(f'{x:.2f}' for x in result['loadavg'])}")
    cold = result["cold"]
    print(f"cold start (fresh interpreter): import new {cold['new']['import']:.0f} ms, "
          f"old {cold['old']['import']:.0f} ms; first redaction new {cold['new']['first']:.0f} ms, old {cold['old']['first']:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--extra", type=Path, action="append", default=[],
                        help="an extra dev set of peer cases (same format), shown as its own column; may be given again")
    parser.add_argument("--show", choices=["dev", "extra", "extra2"], help="list the cases of a dev set the new detectors get wrong")
    parser.add_argument("--no-test", action="store_true", help="leave the peer test half out (while tuning)")
    parser.add_argument("--verbose", action="store_true", help="list each miss and extra span on the own set")
    args = parser.parse_args()
    if args.verbose:
        evaluate(load(OWN), hearth, verbose=True)
    result = run(args.show, with_test=not args.no_test, extra=args.extra)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)


if __name__ == "__main__":
    main()
