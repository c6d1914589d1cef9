"""The llama.cpp library is portable: no AMX tile code, no AVX-512, and a batched prompt on two
threads generates text. These catch a -march=native build on any machine, not only on an AMX one
(where such a build dies with 'Illegal instruction' on the first prompt of more than one token)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.core.llm.cpu import assess, cpu_flags, installed_library, parse_system_info
from conftest import run_cli

LIB_DIR = Path(__import__("llama_cpp").__file__).parent / "lib"


def _disassembly(lib: Path) -> str:
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", str(lib)], capture_output=True, text=True, check=True)
    return out.stdout


def test_every_cpu_backend_has_no_amx_tile_and_no_avx512_instruction():
    if shutil.which("objdump") is None:
        pytest.fail("objdump (binutils) is missing; `make sysdeps` installs it")
    libs = sorted(p for p in LIB_DIR.glob("libggml-cpu*.so*") if not p.is_symlink())
    assert libs, f"no libggml-cpu library under {LIB_DIR}"
    for lib in libs:
        text = _disassembly(lib)
        assert len(text) > 100_000, f"{lib.name}: disassembly suspiciously short"
        assert re.search(r"\bv?fmadd\w*ps\b.*%ymm", text), f"{lib.name}: no AVX2/FMA code at all: not the intended build"
        amx = re.findall(r"^.*(?:%tmm\d|\btile(?:zero|loadd|stored|release)\b|\bldtilecfg\b).*$", text, re.MULTILINE)
        assert not amx, f"{lib.name} holds AMX tile instructions, e.g. {amx[0].strip()}"
        zmm = re.findall(r"^.*%zmm\d.*$", text, re.MULTILINE)
        assert not zmm, f"{lib.name} holds AVX-512 instructions, e.g. {zmm[0].strip()}"


def test_the_installed_library_reports_no_amx_and_nothing_this_cpu_lacks():
    lib = installed_library()
    assert lib.features, lib.system_info
    assert lib.features.get("AVX2") and not lib.features.get("AVX512") and not lib.features.get("AMX_INT8")
    assert lib.problems == [] and lib.cpu_missing == []


def test_a_long_prompt_on_two_threads_on_the_owner_thread_returns_text(chat_model_path):
    # In a child process: an illegal instruction kills the process, and must fail this test, not the suite.
    script = f"""
import json, threading
from pathlib import Path
from app.core.llm.local import Generation, LocalEngine
engine = LocalEngine(Path({str(chat_model_path)!r}), n_ctx=2048, n_threads=2)
prompt = " ".join(f"Item {{i}} of the inventory is a brass lamp, kept in the north room." for i in range(12))
result = Generation()
text = "".join(engine.stream([{{"role": "user", "content": prompt + " Which room holds the lamps?"}}], max_tokens=12, result=result))
owner = engine._call(lambda llm: threading.current_thread().name)
engine.close()
print(json.dumps({{"text": text, "tokens_in": result.tokens_in, "owner": owner}}))
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode != -4, "the llama.cpp library died with SIGILL (illegal instruction): not a portable build"
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["tokens_in"] >= 64 and report["text"].strip()
    assert report["owner"] == "llama-owner"


def test_doctor_json_reports_the_libraries_cpu_features():
    out = run_cli("doctor", "--json")
    report = json.loads(out.stdout)
    llama = report["llama_cpp"]
    assert "AVX2" in llama["in_use"] and llama["features"]["AVX2"] is True
    assert llama["problems"] == [] and "CPU" in llama["system_info"]
    check = next(c for c in report["checks"] if c["name"] == "llama.cpp library")
    assert check["ok"] and "AVX2" in check["detail"]
    # this CPU-only build: no offload, whatever the settings say, and the doctor says where to read about it
    assert llama["gpu_offload"] is False and llama["gpu_layers"] == 0 and "GPU offload not built in" in check["detail"]


def test_doctor_says_how_many_layers_the_settings_offload_when_a_gpu_backend_exists():
    from app.core.doctor import _gpu_words

    assert _gpu_words(True, -1) == "GPU offload available, settings offload all layers"
    assert _gpu_words(True, 12) == "GPU offload available, settings offload 12 layers"


def test_an_amx_library_and_a_missing_instruction_are_problems():
    native = "CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | AVX512 = 1 | AMX_INT8 = 1 | OPENMP = 1 |"
    assert parse_system_info(native)["AMX_INT8"] is True
    report = assess(native, {"pni", "avx", "avx2", "avx512f", "amx_int8"})
    assert report.cpu_missing == [] and len(report.problems) == 1 and "AMX" in report.problems[0]
    old_cpu = assess("CPU : SSE3 = 1 | AVX = 1 | AVX2 = 1 | FMA = 1 |", {"pni", "avx"})
    assert old_cpu.cpu_missing == ["AVX2", "FMA"] and "Illegal instruction" in old_cpu.problems[0]
    assert assess("CPU : SSE3 = 1 | AVX2 = 1 | AMX_INT8 = 0 |", {"pni", "avx2"}).problems == []


def test_cpu_flags_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 fma\n\nprocessor\t: 1\nflags\t\t: fpu\n")
    assert cpu_flags(info) == {"fpu", "sse2", "avx2", "fma"}
    assert cpu_flags(tmp_path / "absent") is None
