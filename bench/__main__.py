"""Run every benchmark module listed in BENCHMARKS, in order (``make bench``).

Each benchmark module exposes ``main() -> int``; it measures its baseline in the same run
and prints ratios. Pass names to run a subset: ``python -m bench ingest api``.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ["ingest", "device_sim", "scoring", "minute", "detection", "api", "reports", "soak"]


def main(argv: list[str]) -> int:
    names = argv or BENCHMARKS
    failures = 0
    for name in names:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as error:
            if error.name == f"bench.{name}":
                print(f"== {name}: not present, skipped")
                continue
            raise
        print(f"== {name}")
        failures += int(module.main() != 0)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
