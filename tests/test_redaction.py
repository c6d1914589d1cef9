"""Redaction before cloud escalation: detectors, checksums, stable placeholders, restore, preview."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from app.core.privacy.redaction import Redactor, find, load_names, preview_diff, restore

DATA = Path(__file__).parent / "data" / "redaction.jsonl"
BENCH = Path(__file__).resolve().parents[1] / "bench" / "redaction.py"


def kinds_and_values(text: str, names=()) -> list[tuple[str, str]]:
    return [(s.kind, s.value) for s in find(text, names)]


@pytest.mark.parametrize("kind, text, value", [
    ("EMAIL", "Please reply to dana.whitfield@example.org before Friday.", "dana.whitfield@example.org"),
    ("PHONE", "Call me back on +44 20 7946 0958 after lunch.", "+44 20 7946 0958"),
    ("PHONE", "Mobil 0171 2345678, bitte nach 18 Uhr.", "0171 2345678"),
    ("IBAN", "Refund to IBAN GB82 WEST 1234 5698 7654 32, thanks.", "GB82 WEST 1234 5698 7654 32"),
    ("CARD", "She paid with card 4111-1111-1111-1111 on Monday.", "4111-1111-1111-1111"),
    ("IP", "Failed login from 203.0.113.42 at 03:14.", "203.0.113.42"),
    ("IP", "Resolver 2606:4700:4700::1111 timed out.", "2606:4700:4700::1111"),
    ("URL", "The dashboard is at https://grafana.acme.io/d/x1?orgId=2.", "https://grafana.acme.io/d/x1?orgId=2"),
    ("SECRET", "Our deploy key ghp_R4nd0mT0k3nV4lu3Abcdefghij0123456789 leaked.", "ghp_R4nd0mT0k3nV4lu3Abcdefghij0123456789"),
    ("SECRET", "Authorization: Bearer Zk3qP9wX2mR7tY4uV8nB1cL6", "Zk3qP9wX2mR7tY4uV8nB1cL6"),
    ("SECRET", "DB_PASSWORD=hunter2024x in the .env file", "hunter2024x"),
    ("SECRET", "session cookie Xq7mWp2zRt9vLk4nBs6yQe3d was reused", "Xq7mWp2zRt9vLk4nBs6yQe3d"),
    ("DOB", "New hire, date of birth 14/03/1985, starts on 2025-04-01.", "14/03/1985"),
    ("POSTCODE", "Ship to 500 Market St, San Francisco, CA 94105.", "94105"),
    ("POSTCODE", "Send it to 10 Downing Street, London SW1A 2AA.", "SW1A 2AA"),
    ("POSTCODE", "Hauptstraße 12, 10115 Berlin", "10115"),
])
def test_each_kind_is_found_in_a_realistic_sentence(kind, text, value):
    assert (kind, value) in kinds_and_values(text)


def test_names_come_from_the_list_whole_words_any_case():
    found = kinds_and_values("Annual review: ANNA KOWALSKA met Annabelle and anna.", ["Anna Kowalska", "Anna"])
    assert found == [("NAME", "ANNA KOWALSKA"), ("NAME", "anna")]


def test_only_the_date_after_a_birth_word_is_a_date_of_birth():
    assert kinds_and_values("DOB: 1990-05-06, hired 2020-01-06, reviewed 2024-03-01.") == [("DOB", "1990-05-06")]


@pytest.mark.parametrize("text", [
    "Card 4111 1111 1111 1112 was declined.",  # Luhn fails
    "IBAN GB82 WEST 1234 5698 7654 33 is on file.",  # mod-97 fails
    "IBAN DE00 1234 5678 9012 3456 78 bounced.",
])
def test_checksum_invalid_iban_and_card_are_not_redacted(text):
    assert find(text) == []


@pytest.mark.parametrize("text", [
    "Order 4421 5567 8890 costs $1,234.56 (was 1.299,00 €), ISBN 978-3-16-148410-0.",
    "The app crashes on version 1.2.3.4; build 2025.03.14 at 10:30:00 UTC.",
    "commit 3f2a9c1d4e5b6a7f8e9d0c1b2a3f4e5d6c7b8a9f, request 3f9c2a1e-7b4d-4e8a-9c1f-2d6b8e0a4c57",
    "The 2024 Annual Report: 1500 employees, ticket ID 48213, room 4012.",
    "Model SmolLM2-135M-Instruct runs x[1::2] through std::vector.",
])
def test_ordinary_numbers_and_identifiers_stay(text):
    assert find(text) == []


def test_overlaps_resolve_to_one_span_the_longest():
    text = "Reset at https://app.example.com/reset?user=bob@example.com now; card 3782 822463 10005."
    assert kinds_and_values(text) == [("URL", "https://app.example.com/reset?user=bob@example.com"), ("CARD", "3782 822463 10005")]


def test_same_value_same_placeholder_across_texts():
    question = "Why did bob@example.com get two refunds? His phone is +44 20 7946 0958."
    evidence = ["Refund 1 sent to BOB@example.com.", "Refund 2 for +44 (0)20 7946 0958 and alice@example.com."]
    r = Redactor().redact([question, *evidence])
    assert r.texts == [
        "Why did [EMAIL_1] get two refunds? His phone is [PHONE_1].",
        "Refund 1 sent to [EMAIL_1].",
        "Refund 2 for [PHONE_2] and [EMAIL_2].",
    ]
    assert r.mapping["[EMAIL_1]"] == "bob@example.com" and r.mapping["[EMAIL_2]"] == "alice@example.com"
    assert r.counts == {"EMAIL": 2, "PHONE": 2}


def test_placeholders_already_in_the_input_are_not_renumbered_or_broken():
    texts = ["[EMAIL_1] and [NAME_3] are template fields.", "Write to carol@example.com, Carol."]
    r = Redactor(["Carol", "Email"]).redact(texts)
    assert r.texts == ["[EMAIL_1] and [NAME_3] are template fields.", "Write to [EMAIL_2], [NAME_4]."]
    assert "[EMAIL_1]" not in r.mapping
    assert restore("Sent to [EMAIL_2], see [EMAIL_1].", r.mapping) == "Sent to carol@example.com, see [EMAIL_1]."


def test_restore_round_trips_and_tolerates_spacing_but_never_invents():
    originals = ["Dana (dana@example.org, +44 20 7946 0958) paid with 4111 1111 1111 1111.", "Key: sk-proj-Q8v3nLx7Tz2Kp9Wm4Rb6Yc1Hd5Jf0Ga3"]
    r = Redactor(["Dana"]).redact(originals)
    assert [restore(t, r.mapping) for t in r.texts] == originals
    reply = "Told [ NAME_1 ] at [email 1] and EMAIL_1; [PHONE_7] and [IBAN_1] are unknown."
    assert restore(reply, r.mapping) == "Told Dana at dana@example.org and dana@example.org; [PHONE_7] and [IBAN_1] are unknown."


def test_counts_hold_kinds_and_numbers_never_values():
    r = Redactor().redact(["Mail ops@example.com from 10.0.0.5 and 10.0.0.6."])
    assert r.counts == {"EMAIL": 1, "IP": 2}


def test_preview_diff_shows_every_removed_value_and_its_placeholder():
    originals = ["Call Dana on +44 20 7946 0958 or dana@example.org.", "Nothing personal here."]
    r = Redactor(["Dana"]).redact(originals)
    diff = preview_diff(originals, r.texts)
    for placeholder, value in r.mapping.items():
        assert f"{value!r} -> {placeholder}" in diff
    assert "- Call Dana on +44 20 7946 0958 or dana@example.org." in diff
    assert "+ Call [NAME_1] on [PHONE_1] or [EMAIL_1]." in diff
    assert "Text 1: 3 changes" in diff and "Text 2: unchanged" in diff


def test_preview_from_the_redaction_is_exact_where_the_texts_alone_are_ambiguous():
    originals = ["From: Dana Whitfield dana@example.org"]
    r = Redactor(["Dana Whitfield"]).redact(originals)
    assert r.texts == ["From: [NAME_1] [EMAIL_1]"]
    assert "'Dana Whitfield' -> [NAME_1]" in preview_diff(originals, r)
    assert "'dana@example.org' -> [EMAIL_1]" in preview_diff(originals, r)


def test_preview_of_texts_that_do_not_match_is_refused():
    with pytest.raises(ValueError):
        preview_diff(["Call Dana."], ["Call [NAME_1] now."])


def test_names_file_skips_comments_and_blank_lines(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("# colleagues\nDana Whitfield\n\n  Tomás Ortega  # contractor\n#Not This\n", encoding="utf-8")
    assert load_names(path) == ["Dana Whitfield", "Tomás Ortega"]
    assert load_names(tmp_path / "missing.txt") == []


def _bench(path: Path = BENCH):
    spec = importlib.util.spec_from_file_location(f"bench_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_labelled_set_meets_the_quality_floor_and_leaks_no_secret():
    bench = _bench()
    cases = bench.load(DATA)
    assert len(cases) >= 120
    report = bench.evaluate(cases, bench.hearth)
    assert all(k["support"] >= 10 for k in report["kinds"].values())
    micro = report["strict"]
    assert micro["recall"] >= 0.95 and micro["precision"] >= 0.9, micro
    for case in cases:
        [redacted] = Redactor(case.get("names", ())).redact([case["text"]]).texts
        for span in case["spans"]:
            if span["kind"] in ("SECRET", "CARD", "IBAN"):
                assert span["value"] not in redacted, (case["id"], span)


def test_the_bench_runs_the_old_detectors_from_git_beside_the_new():
    bench = _bench()
    old = bench.old_module()
    assert old.find("connecting from ::1") == [] and kinds_and_values("connecting from ::1") == [("IP", "::1")]


def test_the_peer_dev_cases_meet_the_issue_goals():
    # The dev half only: it is what the detectors were tuned on, so a regression shows here. The
    # test half is measured by bench/redaction.py alone, never asserted on (it is not for tuning).
    bench = _bench()
    if not bench.PEER.exists():
        pytest.skip(f"{bench.PEER} is not here")
    dev = [c for c in bench.load(bench.PEER) if bench.peer_split(c) == "dev"]
    score = bench.peer_score(dev, bench.hearth)
    caught, positives, clean, negatives = score["total"]
    assert clean / negatives >= 0.9, score
    for kind, (k_caught, k_positives, _, _) in score["kinds"].items():
        floor = 0.9 if kind in ("DOB", "POSTCODE") else 0.95
        assert k_positives == 0 or k_caught / k_positives >= floor, (kind, score["kinds"][kind])


def test_the_log_bench_counts_every_address_the_standard_library_accepts(tmp_path):
    module = _bench(BENCH.with_name("redaction_logs.py"))
    log = tmp_path / "sample.log"
    log.write_text("sshd: Failed password from 10.0.0.1 port 22\nconfigd: v6(en0+:2607:f140::1) DNS\n"
                   "inet6 fe80::1%lo0 at 12:30:45\nwcp.dll version 0.0.0.6 called\n", encoding="utf-8")
    counts = module.scan(log, {"new": find, "old": lambda line: []}, show=0)
    assert counts == {"addresses": 3, "versions": 1, "new caught": 3, "old caught": 0,
                      "new not addresses": 0, "old not addresses": 0}
