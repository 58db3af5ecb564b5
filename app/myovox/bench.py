"""`myovox bench NAME`: run a benchmark from the project's bench/ folder; each prints its own figures.

Benchmarks are never part of the test suite: these machines are shared, and a timing is a report,
not a pass/fail verdict.
"""
from __future__ import annotations

import argparse
import importlib.util
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parents[2] / "bench"


def available() -> dict[str, Path]:
    return {p.stem: p for p in sorted(BENCH_DIR.glob("*.py")) if not p.stem.startswith("_")}


def add_arguments(parser) -> None:
    parser.add_argument("name", nargs="?", default=None, help="benchmark to run (omit to list them)")
    parser.add_argument("rest", nargs=argparse.REMAINDER, help="arguments passed to the benchmark")


def run(args) -> int:
    benches = available()
    if not args.name or args.name not in benches:
        if args.name:
            print(f"no benchmark named {args.name!r}")
        print("benchmarks: " + ", ".join(benches) if benches else f"no benchmarks found in {BENCH_DIR}")
        return 0 if not args.name else 2
    spec = importlib.util.spec_from_file_location(f"bench_{args.name}", benches[args.name])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return int(module.main(args.rest) or 0)
