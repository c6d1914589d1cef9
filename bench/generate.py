"""Generation speed: Hearth's LocalEngine.stream against raw llama-cpp-python, same run.

    .venv/bin/python bench/generate.py [--rounds 7] [--max-tokens 96] [--against-native]

Both load the same GGUF with the same n_ctx, n_threads, n_batch; both get the same prompt text
(the chat template rendered once by Hearth; raw llama-cpp-python gets it through
`create_completion`), greedy, repeat_penalty 1.0. Each round puts a new note at the start of the
prompt so neither side reuses an evaluated prefix, and the order alternates between rounds
because this machine's load drifts. A third row, raw plus Hearth's per-token log-probability
processor, shows how much of any gap that processor costs. Reported: median time to first token, median decode
tokens/s ((pieces - 1) / (last piece - first piece), as the consumer sees them), and Hearth/raw ratios (goal >= 0.95):
the ratio of medians, and the median of the per-round ratios, which pairs runs made seconds apart and so
cancels most of the machine's drift.

With --against-native, first the portable llama.cpp library Hearth installs (scripts/llama-wheel.sh)
against a -march=native build of the same llama-cpp-python version on this machine: prompt
processing and generation tokens/s, raw llama-cpp-python in child processes that alternate, the
native one loaded through LLAMA_CPP_LIB_PATH. The native build is made once for this comparison
(cached under ~/.cache/hearth/bench-native) and never installed (goal: portable/native >= 0.95).

Then the prefix cache: TTFT for a question on document A (uncached), a question on document B,
and the same question on A again, which must come back from the RAM cache (goal: <= 30%). The check is
repeated; the first repetition also pays for first-touch allocation of the cache's memory, so both the
first and the median are printed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DOC = (REPO / "tests" / "data" / "eval" / "docs" / "dishwasher-manual.txt").read_text(encoding="utf-8")
OTHER = (REPO / "tests" / "data" / "eval" / "docs" / "health-plan.txt").read_text(encoding="utf-8")


def messages(note: str, doc: str, question: str) -> list[dict]:
    return [{"role": "system", "content": f"{note} Answer from the document only."},
            {"role": "user", "content": f"Document:\n{doc}\n\nQuestion: {question}"}]


def consume(pieces) -> tuple[float, float, float, int]:
    """Seen from the consumer: first piece, last piece, end of the call, pieces."""
    started, first, last, n = time.perf_counter(), 0.0, 0.0, 0
    for _ in pieces:
        last = time.perf_counter() - started
        first = first or last
        n += 1
    return first, last, time.perf_counter() - started, n


def run_hearth(engine, msgs, max_tokens) -> tuple[float, float, float, int]:
    return consume(engine.stream(msgs, max_tokens=max_tokens))


def run_raw(llm, prompt: str, max_tokens: int, logprobs: bool = False) -> tuple[float, float, float, int]:
    extra = {}
    if logprobs:  # what Hearth adds per token: the chosen token's log-probability (for confidence)
        from llama_cpp import LogitsProcessorList

        def record(_ids, logits):
            top = float(np.max(logits))
            float(np.log(np.sum(np.exp(logits - top))))
            return logits

        extra["logits_processor"] = LogitsProcessorList([record])
    stream = llm.create_completion(prompt, max_tokens=max_tokens, temperature=0.0, repeat_penalty=1.0, stream=True, **extra)
    return consume(c for c in stream if c["choices"][0]["text"])


def rate(first: float, last: float, _end: float, pieces: int) -> float:
    """Streaming tokens/s between the first and the last piece (one piece is one token here)."""
    return (pieces - 1) / (last - first) if pieces > 1 and last > first else 0.0


NATIVE_HOUSE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "hearth" / "bench-native"
# The builds to compare against: llama-cpp-python's default (-march=native), and every instruction
# set such a build uses on a current Xeon but AMX (-march=native itself cannot be told to leave AMX
# out: ggml adds it after any CFLAGS), the fastest build that runs where the AMX path crashes.
NATIVE_BUILDS = {"native": "", "native-no-amx": "-DGGML_NATIVE=OFF -DGGML_AVX_VNNI=ON -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON "
                                                "-DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON"}


def native_lib_dir(name: str) -> Path:
    """The lib folder of a -march=native build of the pinned llama-cpp-python, built once."""
    house = NATIVE_HOUSE if name == "native" else NATIVE_HOUSE.with_name(f"bench-{name}")
    lib = house / "lib"
    if not (lib / "libllama.so").exists():
        wheels = sorted(house.glob("llama_cpp_python-*.whl"))
        if not wheels:
            version = next(line.split("==")[1] for line in (REPO / "requirements.lock").read_text().splitlines()
                           if line.startswith("llama_cpp_python=="))
            print(f"building llama-cpp-python {version} as {name} for the comparison (several minutes)", flush=True)
            env = {**os.environ, "CMAKE_ARGS": NATIVE_BUILDS[name]}
            subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-cache-dir", "--no-binary",
                            "llama-cpp-python", f"llama_cpp_python=={version}", "-w", str(house)], check=True, env=env)
            wheels = sorted(house.glob("llama_cpp_python-*.whl"))
        lib.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheels[0]) as whl:
            for member in whl.namelist():
                if member.startswith("llama_cpp/lib/") and not member.endswith("/"):
                    (lib / Path(member).name).write_bytes(whl.read(member))
    return lib


def library_child(rounds: int, max_tokens: int) -> None:
    """Prompt-processing and generation tokens/s of whatever llama.cpp library this process loads."""
    import llama_cpp
    from llama_cpp import Llama

    from app.core.llm.local import default_threads
    from app.core.models import chat_model_path

    llm = Llama(model_path=str(chat_model_path()), n_ctx=2048, n_threads=default_threads(), n_batch=512, verbose=False)
    pp, tg = [], []
    for r in range(rounds):
        tokens = llm.tokenize(f"Round {r} note {time.time_ns()}.\n{DOC}\nQuestion: how do I clean the filter?".encode())
        llm.reset()
        started = time.perf_counter()
        llm.eval(tokens)
        pp.append(len(tokens) / (time.perf_counter() - started))
        stream = llm.create_completion(tokens, max_tokens=max_tokens, temperature=0.0, repeat_penalty=1.0, stream=True)
        tg.append(rate(*consume(c for c in stream if c["choices"][0]["text"])))
    print(json.dumps({"pp": pp, "tg": tg, "prompt_tokens": len(tokens), "system_info": llama_cpp.llama_print_system_info().decode()}))


def compare_native(pairs: int, max_tokens: int) -> None:
    libs = {"portable": None, **{name: native_lib_dir(name) for name in NATIVE_BUILDS}}
    runs: dict[str, dict[str, list[float]]] = {name: {"pp": [], "tg": []} for name in libs}
    info, dead = {}, {}
    for i in range(pairs):
        order = list(libs) if i % 2 == 0 else list(libs)[::-1]
        for name in order:
            if name in dead:
                continue
            env = {k: v for k, v in os.environ.items() if k != "LLAMA_CPP_LIB_PATH"}
            if libs[name] is not None:
                env["LLAMA_CPP_LIB_PATH"] = str(libs[name])
            out = subprocess.run([sys.executable, __file__, "--library-child", "3", "--max-tokens", str(max_tokens)],
                                 capture_output=True, text=True, env=env)
            if out.returncode != 0:
                signal = {-4: " (SIGILL, illegal instruction)", -11: " (SIGSEGV)"}.get(out.returncode, "")
                dead[name] = f"died on the first batched prompt: exit {out.returncode}{signal}"
                if name == "portable":
                    raise SystemExit(f"portable library {dead[name]}: {out.stderr[-500:]}")
                continue
            report = json.loads(out.stdout.strip().splitlines()[-1])
            info[name] = report["system_info"].strip()
            for key in ("pp", "tg"):
                runs[name][key] += report[key]
    for name in libs:
        print(f"{name:14s} library: {dead.get(name) or info[name]}")
    for key, label in (("pp", "prompt processing"), ("tg", "generation")):
        p = statistics.median(runs["portable"][key])
        line = f"{label:17s} portable {p:7.1f} tok/s"
        for name in libs:
            if name != "portable" and name not in dead:
                n = statistics.median(runs[name][key])
                line += f"   {name} {n:7.1f} tok/s, portable/{name} {p / n:.2f}"
        print(f"{line}   ({len(runs['portable'][key])} runs each; goal >= 0.95)")
    print(f"load average {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--cache-checks", type=int, default=3)
    parser.add_argument("--against-native", type=int, nargs="?", const=4, default=0, metavar="PAIRS",
                        help="first compare the portable library with a -march=native build (PAIRS alternating child runs)")
    parser.add_argument("--library-child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.library_child:
        return library_child(args.library_child, args.max_tokens)
    if args.against_native:
        compare_native(args.against_native, args.max_tokens)
    from llama_cpp import Llama

    from app.core.llm.local import LocalEngine, default_threads
    from app.core.models import chat_model_path

    path = chat_model_path()
    engine = LocalEngine(path, n_ctx=2048)
    params = dict(engine._params)
    raw = Llama(model_path=str(path), verbose=False, **params)
    print(f"model {path.name}; n_ctx {params['n_ctx']}, n_threads {params['n_threads']} (cores usable {default_threads()}), "
          f"load average {os.getloadavg()[0]:.2f}")

    results = {"hearth": [], "raw": [], "raw+logprobs": []}
    question = "Explain step by step how to care for and clean the dishwasher."
    run_hearth(engine, messages("Warm-up.", DOC, question), 4)  # first-call costs out of the way
    run_raw(raw, engine.render(messages("Warm-up.", DOC, question)), 4)
    for r in range(args.rounds):
        msgs = messages(f"Round {r} note {time.time_ns()}.", DOC, question)
        prompt = engine.render(msgs)
        order = [("hearth", lambda: run_hearth(engine, msgs, args.max_tokens)), ("raw", lambda: run_raw(raw, prompt, args.max_tokens)),
                 ("raw+logprobs", lambda: run_raw(raw, prompt, args.max_tokens, logprobs=True))]
        for name, fn in order if r % 2 == 0 else order[::-1]:
            results[name].append(fn())
    summary = {}
    for name, runs in results.items():
        ttft = statistics.median(run[0] for run in runs)
        tps = statistics.median(rate(*run) for run in runs)
        tokens = statistics.median(run[3] for run in runs)
        end = statistics.median(run[2] - run[1] for run in runs)
        summary[name] = (ttft, tps)
        print(f"{name:12s} ttft p50 {ttft * 1000:7.1f} ms   streaming {tps:6.1f} tok/s   tokens out p50 {tokens:.0f}   "
              f"after last token {end * 1000:6.1f} ms   ({len(runs)} rounds)")
    paired = statistics.median(rate(*h) / rate(*r) for h, r in zip(results["hearth"], results["raw"]) if rate(*r))
    print(f"hearth/raw decode tokens/s: ratio of medians {summary['hearth'][1] / summary['raw'][1]:.2f}, "
          f"median of per-round ratios {paired:.2f} (goal >= 0.95); raw/hearth ttft ratio {summary['raw'][0] / summary['hearth'][0]:.2f}; "
          f"raw with Hearth's per-token log-prob / raw: {summary['raw+logprobs'][1] / summary['raw'][1]:.2f}")

    shares = []
    for i in range(args.cache_checks):
        q = "What does error E4 mean?"
        cold_msgs = messages(f"Cache check {i} {time.time_ns()}.", DOC, q)
        cold = run_hearth(engine, cold_msgs, 16)
        run_hearth(engine, messages(f"Cache check {i}.", OTHER, "What is the deductible?"), 16)  # another document in between
        warm = run_hearth(engine, cold_msgs, 16)
        shares.append(warm[0] / cold[0])
        print(f"prefix cache check {i + 1}: same question on the same document, ttft uncached {cold[0] * 1000:.1f} ms, "
              f"repeated {warm[0] * 1000:.1f} ms = {warm[0] / cold[0]:.0%}")
    print(f"prefix cache: repeated/uncached ttft, first {shares[0]:.0%}, median {statistics.median(shares):.0%} (goal <= 30%)")
    raw.close()
    engine.close()


if __name__ == "__main__":
    main()
