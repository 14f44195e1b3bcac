#!/usr/bin/env python3
"""Speed checks that hold on a busy machine and still catch loops, side by side in one run.

A. a correct, vectorised a4_diffusion submission (examples/.../correct_alt.py): its speed
   checks (q_sample, ddpm_step) graded --runs times through the real grading path (isolated
   workers) while every core runs a CPU hog;           target: 0 lost speed points
B. loop-based mutants (a4 per_sample_loop, a1 slow_loops and conv2d_batch_loop) graded the
   same way beside the hogs, --mutant-runs times each;  target: the speed check fails every time
C. --jobs equal to the cores: a batch of copies of the a1 reference graded at once, every
   slot pinned to its own core (no hog);               target: 0 lost speed points

    python benchmarks/speed_fairness.py [--runs 30] [--mutant-runs 5] [--copies 8]
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder import ROOT, mutants, registry, runspec  # noqa: E402
from autograder.engine import load, pytest_args  # noqa: E402


def _hog(stop) -> None:
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def speed_results(assignment_id: str, submission: Path, tmp: Path) -> list[dict]:
    """Grade only the speed checks of a submission, through the isolated-worker path."""
    a = registry.get(assignment_id)
    run = Path(tempfile.mkdtemp(dir=tmp))
    spec = runspec.make(a, "", isolation="worker", run_id=run.name)
    spec.load_error, spec.static = load(a, submission, run / "submission")
    spec.target = str(run / "submission" / f"{a.module}.py")
    spec.results = str(run / "results.json")
    path = spec.write(run / "run.json")
    subprocess.run([sys.executable, "-m", "pytest", *pytest_args(a, path), "-k", "speed"], cwd=ROOT,
                   capture_output=True, env={**os.environ, "TMPDIR": str(run)})
    tests = json.loads(Path(spec.results).read_text())["tests"]
    shutil.rmtree(run, ignore_errors=True)
    return [t for t in tests if t["extra_data"]["kind"] == "performance"]


def mutant_file(assignment_id: str, name: str, dest: Path) -> Path:
    a = registry.get(assignment_id)
    dest.write_text(mutants.build(a.solution_path.read_text(), (a.mutants_dir / f"{name}.py").read_text(), name))
    return dest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--mutant-runs", type=int, default=5)
    parser.add_argument("--copies", type=int, default=8)
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    lines = []
    with tempfile.TemporaryDirectory(prefix="speed-fairness-") as tmp:
        tmp = Path(tmp)
        stop = multiprocessing.Event()
        hogs = [multiprocessing.Process(target=_hog, args=(stop,), daemon=True) for _ in range(cores)]
        for h in hogs:
            h.start()
        try:
            correct = ROOT / "examples" / "submissions" / "a4_diffusion" / "correct_alt.py"
            lost, ratios = 0, []
            for i in range(args.runs):
                tests = speed_results("a4_diffusion", correct, tmp)
                lost += sum(t["status"] == "failed" for t in tests)
                ratios += [t["extra_data"]["speed"]["ratio"] for t in tests if "speed" in t["extra_data"]]
                print(f"  A {i + 1}/{args.runs}: load {os.getloadavg()[0]:.1f}, lost so far {lost}", flush=True)
            lines.append(f"A. correct a4 beside {cores} hogs: {lost} speed checks lost in {args.runs} gradings "
                         f"(ratios {min(ratios):.2f}-{max(ratios):.2f}, thresholds 3x)")
            for aid, name in (("a4_diffusion", "per_sample_loop"), ("a1_cnn", "slow_loops"),
                              ("a1_cnn", "conv2d_batch_loop")):
                path = mutant_file(aid, name, tmp / f"{name}.py")
                caught = 0
                for _ in range(args.mutant_runs):
                    tests = speed_results(aid, path, tmp)
                    caught += any(t["status"] == "failed" for t in tests)
                lines.append(f"B. {aid}/{name} beside the hogs: speed check failed {caught} of {args.mutant_runs}")
                print("  " + lines[-1], flush=True)
        finally:
            stop.set()
            for h in hogs:
                h.join(5)
        subs = []
        for i in range(args.copies):
            subs.append(tmp / "copies" / f"s{i}.py")
            subs[-1].parent.mkdir(exist_ok=True)
            shutil.copy(registry.get("a1_cnn").solution_path, subs[-1])
        out = tmp / "batch"
        started = time.monotonic()
        subprocess.run([sys.executable, "grade.py", "grade", "a1_cnn", *map(str, subs), "--out", str(out),
                        "--jobs", str(cores)], cwd=ROOT, capture_output=True)
        lost = sum(t["status"] == "failed" for p in out.glob("*/results.json")
                   for t in json.loads(p.read_text())["tests"] if t["extra_data"]["kind"] == "performance")
        lines.append(f"C. {args.copies} a1 references with --jobs {cores}: {lost} speed checks lost "
                     f"({time.monotonic() - started:.0f} s)")
    print()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
