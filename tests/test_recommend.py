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


@pytest.mark.parametrize("cores, gib", [(2, 4), (64, 256)])
def test_without_a_measured_gain_the_default_stays(monkeypatch, cores, gib):
    monkeypatch.setattr(registry, "LARGER_MEASURED_BETTER", False)
    rec = registry.recommend(cores, gib << 30)
    assert rec.name == registry.find(None, "chat").name and "measured no better" in rec.reason


def test_cli_recommend_reports_the_machine():
    from conftest import run_cli

    out = run_cli("models", "recommend", "--json")
    assert out.returncode == 0, out.stderr
    rec = json.loads(out.stdout)
    assert rec["name"] and rec["reason"] and rec["cores"] >= 1
    assert run_cli("models", "recommend", "--cores", "64", "--memory-gib", "256").returncode == 0
