#!/usr/bin/env python3
"""How fast a class is graded: three ratios, each measured side by side in one run.

1. the per-submission path as issue 16 found it (a fresh pytest process per submission,
   then its zygote: ``grade --cold-serial``) versus the warm grader (one warm slot grading
   submission after submission), on N copies of the a1_cnn reference, --jobs 1;
                                                                    target: warm >= 3x faster
   and, for information, today's per-submission path (``grade --cold``: the zygote starts
   beside pytest's imports; what Gradescope's one-submission run uses)
2. the warm grader with --jobs 2 versus --jobs 1 on the same copies;  target: >= 1.7x on 2 cores
   and, for information, the same ratio between results (each lane's first result to the
   last: the start-up and the report left out)
3. otter-grader (``otter run`` with otter-native tests on an a1-equivalent notebook, a fresh
   process per notebook, as otter grades) versus one of our submissions in a warm batch
   (per submission, while running more tests, isolated);            target: ours >= 2x faster

    python benchmarks/batch_speed.py [--copies 20] [--otter-repeat 2]

Every run grades into a fresh folder; the per-submission time of a batch is its wall time
divided by the number of submissions (slot start-up included).  The order of the runs
alternates between repetitions so that a trend in the machine's load hits both sides.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder import ROOT, registry  # noqa: E402

AID = "a1_cnn"


STEADY: dict[str, list[float]] = {}     # label -> submissions per second between results (information)


def grade_batch(subs: list[Path], out: Path, *extra: str, label: str = "") -> float:
    started, wall = time.monotonic(), time.time()
    proc = subprocess.run([sys.executable, "grade.py", "grade", AID, *map(str, subs), "--out", str(out), *extra],
                          cwd=ROOT, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    # steady throughput: the results after each lane's first one, over the time they took
    lanes = int(extra[extra.index("--jobs") + 1]) if "--jobs" in extra else 1
    done = sorted(p.stat().st_mtime - wall for p in out.glob("*/results.json"))
    if len(done) > lanes:
        STEADY.setdefault(label, []).append((len(done) - lanes) / max(done[-1] - done[lanes - 1], 1e-9))
    if proc.returncode != 0:
        raise SystemExit(f"grading failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    scores = [json.loads(p.read_text())["score"] for p in out.glob("*/results.json")]
    full = json.loads(next(out.glob("*/results.json")).read_text())["max_score"]
    lost = sum(s < full for s in scores)
    if lost:
        print(f"  note: {lost} of {len(scores)} copies of the reference lost points in this run ({extra})")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--otter-repeat", type=int, default=2)
    args = parser.parse_args()
    reference = registry.get(AID).solution_path
    with tempfile.TemporaryDirectory(prefix="batch-speed-") as tmp:
        tmp = Path(tmp)
        subs = []
        for i in range(args.copies):
            path = tmp / "subs" / f"student{i:03d}.py"
            path.parent.mkdir(exist_ok=True)
            shutil.copy(reference, path)
            subs.append(path)
        runs = {"cold as filed, --jobs 1": ["--cold-serial", "--jobs", "1"], "cold, --jobs 1": ["--cold", "--jobs", "1"],
                "warm, --jobs 1": ["--jobs", "1"], "warm, --jobs 2": ["--jobs", "2"]}
        seconds: dict[str, list[float]] = {k: [] for k in runs}
        for rep, order in enumerate((list(runs), list(reversed(runs)))):
            for label in order:
                out = tmp / f"out-{rep}-{label.replace(' ', '').replace(',', '-')}"
                seconds[label].append(grade_batch(subs, out, *runs[label], label=label))
                print(f"  {label}: {seconds[label][-1]:.1f} s for {len(subs)} submissions", flush=True)
        per = {k: min(v) / len(subs) for k, v in seconds.items()}

        from benchmarks.otter_compare import build_otter_zip, covered_functions, run_otter, submission_notebooks
        notebooks = submission_notebooks(tmp / "nb", AID, kinds=("reference",))
        zip_path = build_otter_zip(tmp / "otter.zip", covered_functions(AID))
        otter_times = []
        for i in range(args.otter_repeat):
            otter_times.append(run_otter(zip_path, notebooks["reference"], tmp / f"otter-{i}").seconds)
        otter = min(otter_times)

    print()
    print(f"{'measurement':<44}{'per submission':>16}")
    for label, value in per.items():
        print(f"{label:<44}{value:>14.2f} s")
    print(f"{'otter run (a1-equivalent notebook)':<44}{otter:>14.2f} s")
    print()
    print(f"warm vs cold as filed (--jobs 1): {per['cold as filed, --jobs 1'] / per['warm, --jobs 1']:.2f}x   "
          "(target >= 3)")
    print(f"warm vs today's cold (--jobs 1):  {per['cold, --jobs 1'] / per['warm, --jobs 1']:.2f}x   (for information)")
    print(f"--jobs 2 vs --jobs 1 (warm):      {per['warm, --jobs 1'] / per['warm, --jobs 2']:.2f}x   (target >= 1.7)")
    steady = {k: max(v) for k, v in STEADY.items()}
    if "warm, --jobs 1" in steady and "warm, --jobs 2" in steady:
        print(f"  between results, without the start-up and the report: "
              f"{steady['warm, --jobs 2'] / steady['warm, --jobs 1']:.2f}x   (for information)")
    print(f"ours (warm, --jobs 1) vs otter:   {otter / per['warm, --jobs 1']:.2f}x   (target >= 2)")


if __name__ == "__main__":
    main()
