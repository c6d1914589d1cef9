"""`hearth models recommend`: the chat model for this machine, by a documented rule."""

from __future__ import annotations

import json

import pytest

from app.core.models import registry


def test_small_machines_keep_the_default_whatever_was_measured(monkeypatch):
    monkeypatch.setattr(registry, "LARGER_MEASURED_BETTER", True)
    assert registry.recommend(2, 4 << 30).name == registry.find(None, "chat").name
    assert "needs at least" in registry.recommend(2, 4 << 30).reason
    assert registry.recommend(16, 32 << 30).name == registry.LARGER_CHAT
    assert registry.recommend(16, 32 << 30).advice == f"Use, {registry.LARGER_CHAT}: it measured better, and 16 cores with 32 GiB are enough for it."
    small = registry.recommend(2, 4 << 30).advice
    assert small.startswith(f"Keep the default, {registry.find(None, 'chat').name}: {registry.LARGER_CHAT} needs at least 8 cores")
    assert small.endswith("; this computer has 2 cores and 4 GiB.")


@pytest.mark.parametrize("cores, gib", [(2, 4), (64, 256)])
def test_without_a_measured_gain_the_default_stays(monkeypatch, cores, gib):
    monkeypatch.setattr(registry, "LARGER_MEASURED_BETTER", False)
    rec = registry.recommend(cores, gib << 30)
    assert rec.name == registry.find(None, "chat").name and "measured no better" in rec.reason
    # one sentence that says what to do first, then why (it read "smollm2... - qwen2.5... measured no better...: keep the default")
    assert rec.advice.startswith(f"Keep the default, {rec.name}: {registry.LARGER_CHAT} measured no better on the benchmarks")
    assert rec.advice.endswith("11\u00d7 larger.") and rec.advice.count("keep the default") == 0


def test_cli_recommend_reports_the_machine():
    from conftest import run_cli

    out = run_cli("models", "recommend", "--json")
    assert out.returncode == 0, out.stderr
    rec = json.loads(out.stdout)
    assert rec["name"] and rec["reason"] and rec["cores"] >= 1
    assert rec["advice"] == registry.recommend().advice
    said = run_cli("models", "recommend", "--cores", "64", "--memory-gib", "256")
    assert said.returncode == 0 and said.stdout.strip() == registry.recommend(64, 256 << 30).advice
