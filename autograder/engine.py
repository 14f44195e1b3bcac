"""Grading: one submission, or a batch in parallel.

Each submission is graded by a separate, trusted pytest process running the hidden
suite with the grading plugin; every student call inside it goes to an isolated worker
(see :mod:`autograder.worker`).  A submission that cannot load still gets a complete
results.json: the suite runs against a stand-in whose every call fails with the load
problem, so the student sees the problem on every test and the max score is right.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from autograder import ROOT, registry
from autograder.results import failure_results, write_gradebook, write_json
from autograder.submission import LoadError, materialize, submission_name

SUITE_TIMEOUT = 1800          # seconds for one whole submission, as a last resort


class GraderError(RuntimeError):
    """The grader itself failed (not the submission)."""


def pytest_command(assignment: registry.Assignment, target: str, results: Path, *, isolation: str = "worker",
                   timeout: float | None = None, device: str = "auto", limits: dict | None = None,
                   broken: str | None = None, tests: list[str] | None = None) -> list[str]:
    cmd = [sys.executable, "-m", "pytest", *(tests or [str(assignment.suite_dir)]),
           "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT), "-p", "autograder.plugin",
           "-q", "--tb=no", "-p", "no:cacheprovider", "-W", "ignore",
           "--ag-target", target, "--ag-isolation", isolation, "--ag-results", str(results),
           "--ag-device", device]
    if timeout:
        cmd += ["--ag-timeout", str(timeout)]
    if limits:
        cmd += ["--ag-limits", json.dumps(limits)]
    if broken:
        cmd += ["--ag-broken", broken]
    return cmd


def grade_submission(assignment_id: str, submission: Path, results_path: Path, *, timeout: float | None = None,
                     device: str = "auto", isolation: str = "worker", hide: list[Path] = ()) -> dict:
    """Grade one submission; write and return its results.json.  Raises
    :class:`GraderError` only when the grader itself failed."""
    assignment = registry.get(assignment_id)
    submission, results_path = Path(submission), Path(results_path)
    started = time.monotonic()
    run_root = Path(tempfile.mkdtemp(prefix="ag-run-"))
    os.chmod(run_root, 0o711)
    try:
        target_dir = run_root / "submission"
        broken = None
        try:
            materialize(submission, assignment.module, target_dir)
        except LoadError as exc:
            broken = str(exc)
        os.chmod(target_dir, 0o700) if target_dir.exists() else None
        limits = {"hide": [str(results_path.parent.resolve()), *map(str, hide)], "device": device}
        cmd = pytest_command(assignment, str(target_dir), results_path, isolation=isolation, timeout=timeout,
                             device=device, limits=limits, broken=broken)
        results_path.unlink(missing_ok=True)
        try:
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=SUITE_TIMEOUT,
                                  env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        except subprocess.TimeoutExpired:
            results = failure_results(assignment.id, f"grading took longer than {SUITE_TIMEOUT} s and was stopped",
                                      execution_time=time.monotonic() - started)
            write_json(results_path, results)
            return results
        if proc.returncode not in (0, 1) or not results_path.exists():
            tail = (proc.stdout + proc.stderr)[-2000:]
            raise GraderError(f"the grader failed on {submission.name} (pytest exit {proc.returncode}):\n{tail}")
        results = json.loads(results_path.read_text(encoding="utf-8"))
        if broken:
            results["output"] = f"Your submission could not be loaded: {broken}\n" + results["output"]
            results.setdefault("extra_data", {})["load_error"] = broken
            write_json(results_path, results)
        return results
    finally:
        shutil.rmtree(run_root, ignore_errors=True)


@dataclass
class Graded:
    name: str
    submission: Path
    results: dict | None
    error: str | None = None


def unique_names(submissions: list[Path]) -> list[str]:
    seen: dict[str, int] = {}
    names = []
    for sub in submissions:
        base = submission_name(sub) or "submission"
        seen[base] = seen.get(base, 0) + 1
        names.append(base if seen[base] == 1 else f"{base}-{seen[base]}")
    return names


def grade_many(assignment_id: str, submissions: list[Path], out_dir: Path, *, jobs: int = 1,
               timeout: float | None = None, device: str = "auto", on_done=None) -> list[Graded]:
    """Grade a batch; write DIR/<name>/results.json for each and DIR/gradebook.csv."""
    registry.get(assignment_id)            # fail fast on an unknown id
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = unique_names(submissions)

    def one(pair):
        name, sub = pair
        try:
            res = grade_submission(assignment_id, sub, out_dir / name / "results.json", timeout=timeout,
                                   device=device)
            graded = Graded(name, sub, res)
        except GraderError as exc:
            graded = Graded(name, sub, None, str(exc))
        if on_done:
            on_done(graded)
        return graded

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        graded = list(pool.map(one, zip(names, submissions)))
    write_gradebook(out_dir / "gradebook.csv", [(g.name, g.results or {"score": "", "max_score": ""}) for g in graded])
    return graded
