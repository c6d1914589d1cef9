import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_import_linter_contract_keeps_core_free_of_qt():
    out = subprocess.run([str(Path(sys.executable).with_name("lint-imports")), "--no-cache"], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "app.core never imports Qt KEPT" in out.stdout


def test_no_model_file_is_tracked_by_git():
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True).stdout.split()
    assert not [f for f in tracked if f.endswith((".gguf", ".bin", ".safetensors", ".onnx"))]


def test_resources_resolve_through_the_helper():
    from app.core.resources import resource_path

    assert resource_path("icons", "hearth.svg").read_text().startswith("<svg")


def test_core_modules_parse_without_qt_names():
    # A second, tool-free guard: no source file in app/core even mentions PySide6 in an import.
    for path in (REPO / "app" / "core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", "") or ""]
                assert not any(n.startswith(("PySide6", "shiboken6")) for n in names), path
