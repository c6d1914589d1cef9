"""Fill the stand-in cloud's cache for the cases bench/quality.py escalates (its cloud subset).

    scripts/test-session.sh --exec .venv/bin/python bench/cloud_prefetch.py [--limit N] [SET ...]

The subset is the first N cases of each part (dev, test) in file order: a fixed rule, like the split.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from public_sets import CLASSIFY_SETS, EXTRACT_SETS, cloud_subset, load  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sets", nargs="*", default=[*EXTRACT_SETS, *CLASSIFY_SETS])
    parser.add_argument("--limit", type=int, default=0, help="cases per part (default: each set's cloud limit)")
    parser.add_argument("--threads", default="1")
    args = parser.parse_args()
    from cloud_standin import StandIn

    cloud = StandIn(args.threads)
    try:
        for name in args.sets:
            for which in ("dev", "test"):
                for n, case in enumerate(cloud_subset(name, load(name, which), args.limit), start=1):
                    started = time.perf_counter()
                    fresh = case not in cloud.cache
                    value = cloud.answer(case)
                    if fresh:
                        print(f"{name} {which} {n}: {case['id']} {value['status']} {time.perf_counter() - started:.1f}s", flush=True)
    finally:
        cloud.close()


if __name__ == "__main__":
    main()
