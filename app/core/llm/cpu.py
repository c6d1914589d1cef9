"""What the installed llama.cpp library was compiled for, against what this CPU can run.

A library compiled with `-march=native` dies with SIGILL on any CPU that lacks one of the build
machine's instructions, and its Intel AMX path can die even on the build machine when the kernel
does not grant the tile state to ggml's threads (llama.cpp #28756). Hearth builds a portable
library (scripts/llama-wheel.sh); this module says what the installed one uses, so `hearth
doctor` can show it and the engine can refuse, with the reason, to load a library that would crash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

# llama.cpp's system-info names -> the /proc/cpuinfo flag a CPU must have to run that code.
_CPUINFO_FLAG = {
    "SSE3": "pni", "SSSE3": "ssse3", "AVX": "avx", "AVX2": "avx2", "F16C": "f16c", "FMA": "fma", "BMI2": "bmi2",
    "AVX_VNNI": "avx_vnni", "AVX512": "avx512f", "AVX512_VBMI": "avx512vbmi", "AVX512_VNNI": "avx512_vnni",
    "AVX512_BF16": "avx512_bf16", "AMX_INT8": "amx_int8", "AMX_BF16": "amx_bf16",
}
_AMX = ("AMX_INT8", "AMX_BF16")


@dataclass
class LibraryReport:
    system_info: str
    features: dict[str, bool]  # every "NAME = 0/1" llama.cpp reports, as compiled into the library
    gpu_offload: bool
    cpu_missing: list[str] = field(default_factory=list)  # compiled-in instructions this CPU lacks
    problems: list[str] = field(default_factory=list)

    @property
    def in_use(self) -> list[str]:
        """The instruction sets compiled in (not build options such as OPENMP or REPACK)."""
        return [name for name, on in self.features.items() if on and name in _CPUINFO_FLAG]


def parse_system_info(text: str) -> dict[str, bool]:
    """'CPU : SSE3 = 1 | AVX2 = 1 | AMX_INT8 = 0 |' -> {'SSE3': True, 'AVX2': True, 'AMX_INT8': False}."""
    return {name: value != "0" for name, value in re.findall(r"([A-Z][A-Z0-9_]*) = (\d+)", text)}


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str] | None:
    """The first processor's flags, or None where /proc/cpuinfo does not exist (not Linux)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    match = re.search(r"^flags\s*:(.*)$", text, re.MULTILINE)
    return set(match.group(1).split()) if match else None


def assess(system_info: str, flags: set[str] | None, gpu_offload: bool = False) -> LibraryReport:
    features = parse_system_info(system_info)
    report = LibraryReport(system_info.strip(), features, gpu_offload)
    if flags is not None:
        report.cpu_missing = [name for name, on in features.items() if on and name in _CPUINFO_FLAG and _CPUINFO_FLAG[name] not in flags]
    if report.cpu_missing:
        report.problems.append(f"the llama.cpp library uses {', '.join(report.cpu_missing)}, which this CPU lacks: "
                               "it would crash with 'Illegal instruction'; rebuild it with `make clean run`")
    if any(features.get(name) for name in _AMX):
        report.problems.append("the llama.cpp library has the Intel AMX path compiled in (a -march=native build), which "
                               "can crash with 'Illegal instruction'; rebuild it with `make clean run`")
    return report


def installed_library() -> LibraryReport:
    """Ask the llama.cpp library that `import llama_cpp` loads about itself."""
    import llama_cpp

    return assess(llama_cpp.llama_print_system_info().decode("utf-8", "replace"), cpu_flags(),
                  bool(llama_cpp.llama_supports_gpu_offload()))
