import json

from app.core import paths
from app.core.models import find
from conftest import run_cli


def test_doctor_json_is_green_and_reports_privacy_settings():
    out = run_cli("doctor", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    report = json.loads(out.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    assert report["ok"] is True
    assert checks["chroma telemetry"]["ok"] and checks["chroma telemetry"]["detail"] == "off"
    assert checks["cloud escalation"]["detail"] == "off"
    assert "loopback only" in checks["network policy"]["detail"]
    assert checks["embedder offline"]["ok"]
    assert "keyring" in checks and "store" in checks
    assert f"logs {paths.log_dir()}" in checks["folders"]["detail"]  # where to look when something failed
    assert report["versions"]["llama-cpp-python"] != "missing"


def test_doctor_fails_when_the_chat_model_is_broken(tmp_path):
    (paths.models_dir() / find().file).write_bytes(b"GGUF garbage")
    out = run_cli("doctor")
    assert out.returncode == 1 and "FAIL" in out.stdout


def test_gui_without_a_display_says_so_in_one_line():
    out = run_cli("gui", env={"DISPLAY": "", "WAYLAND_DISPLAY": "", "QT_QPA_PLATFORM": ""})
    assert out.returncode == 1
    assert out.stdout.count("\n") == 1 and "no display" in out.stdout and "hearth ask" in out.stdout


def test_version_and_usage_errors():
    assert run_cli("--version").stdout.startswith("hearth ")
    assert run_cli("models").returncode == 2
    assert run_cli("frobnicate").returncode == 2
