#!/usr/bin/env python3
"""How much does grading cost on top of running the hidden suite?

Measured side by side in one run, interleaved, median of --repeat runs each:

  plain     `python -m pytest autograder/suites/<id>` against the reference, in-process:
            the cost of the hidden suite itself
  inprocess the one-submission path without a warm process (load, pytest subprocess,
            results.json), with student code imported into the test process
  worker    the same path as graded for real: every student call in a sandboxed worker
            process (what Gradescope's run, release_templates/dl_run.py, and validate use)

Targets: worker / plain <= 1.3 (framework overhead), worker / inprocess <= 1.3 (isolation
overhead), and one submission graded in under 20 s on 2 cores.

    python benchmarks/grade_speed.py [--assignment a1_cnn] [--repeat 3]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder import ROOT, registry  # noqa: E402
from autograder.engine import grade_submission  # noqa: E402


def plain_pytest(assignment) -> float:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", str(assignment.suite_dir), "-q", "-p", "no:cacheprovider",
                           "--ag-target", "reference"], cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"plain pytest failed:\n{proc.stdout[-2000:]}")
    return elapsed


def graded(assignment, isolation: str) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        res = grade_submission(assignment.id, assignment.solution_path, Path(tmp) / "results.json",
                               isolation=isolation)
        elapsed = time.perf_counter() - started
    if res["score"] != res["max_score"]:
        raise SystemExit(f"the reference did not get full marks with {isolation}: {res['score']}/{res['max_score']}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignment", default="a1_cnn")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    assignment = registry.get(args.assignment)
    times = {"plain": [], "inprocess": [], "worker": []}
    for i in range(args.repeat):
        order = list(times) if i % 2 == 0 else list(times)[::-1]     # interleave against drift
        for kind in order:
            times[kind].append(plain_pytest(assignment) if kind == "plain" else graded(assignment, kind))
        print(f"round {i + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\n{assignment.id}, reference, median of {args.repeat}:")
    print(f"  plain pytest (hidden suite, in-process) {med['plain']:6.2f} s")
    print(f"  one-submission path, code in-process    {med['inprocess']:6.2f} s")
    print(f"  one-submission path, isolated worker    {med['worker']:6.2f} s")
    print(f"  ratio worker / plain pytest      {med['worker'] / med['plain']:.2f}  (target <= 1.3)")
    print(f"  ratio worker / in-process        {med['worker'] / med['inprocess']:.2f}  (target <= 1.3)")
    print(f"  one submission graded in         {med['worker']:.1f} s (target < 20 s on 2 cores)")


if __name__ == "__main__":
    main()
