"""`grade.py validate`: grade the reference, the stub and every mutant of an assignment
through the real grading path and check each against its expectation."""
from __future__ import annotations

import re
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from autograder import registry
from autograder.engine import GraderError, grade_submission

_HEADER = re.compile(r"^#\s*(mutant|expect)\s*:\s*(.+?)\s*$", re.MULTILINE)


@dataclass
class Row:
    assignment: str
    label: str
    expectation: str
    score: float | None = None
    max_score: float | None = None
    ok: bool = False
    problem: str = ""

    @property
    def score_text(self) -> str:
        return "-" if self.score is None else f"{self.score:g}/{self.max_score:g}"


def mutant_header(path: Path) -> dict:
    head = "\n".join(path.read_text(encoding="utf-8").splitlines()[:10])
    return {key: value for key, value in _HEADER.findall(head)}


def check_mutant(results: dict, expect: str) -> tuple[bool, str]:
    if results["score"] >= results["max_score"]:
        return False, "did not lose any points"
    failed = [t for t in results["tests"] if t["status"] == "failed"]
    words = [w.strip().lower() for w in expect.split("|")]
    if not any(w in t["output"].lower() for t in failed for w in words):
        return False, f"no failed test's feedback mentions '{expect}'"
    return True, ""


def jobs_for(assignment: registry.Assignment) -> list[tuple[str, Path, str, str]]:
    """(label, file, expectation kind, expect word) for one assignment."""
    out = [("reference", assignment.solution_path, "full", ""), ("stub", assignment.stub_path, "zero", "")]
    for m in assignment.mutants():
        header = mutant_header(m)
        out.append((f"mutant {m.stem}", m, "mutant", header.get("expect", "")))
    return out


def run_validation(assignments, *, jobs: int = 2, progress=None) -> list[Row]:
    work = [(a, *job) for a in assignments for job in jobs_for(a)]

    def one(item) -> Row:
        assignment, label, path, kind, expect = item
        expectation = {"full": "full marks", "zero": "0"}.get(kind, f"loses points, feedback names '{expect}'")
        row = Row(assignment.id, label, expectation)
        if kind == "mutant" and not expect:
            row.problem = f"{path.name} has no '# expect: <concept>' header"
            return row
        with tempfile.TemporaryDirectory(prefix="ag-validate-") as tmp:
            try:
                res = grade_submission(assignment.id, path, Path(tmp) / "results.json")
            except GraderError as exc:
                row.problem = str(exc).splitlines()[0]
                return row
        row.score, row.max_score = res["score"], res["max_score"]
        if kind == "full":
            row.ok = res["max_score"] > 0 and res["score"] == res["max_score"]
            if not row.ok:
                failed = [t["name"] for t in res["tests"] if t["status"] == "failed"]
                row.problem = "failed: " + "; ".join(failed[:3])
        elif kind == "zero":
            row.ok = res["score"] == 0 and res["max_score"] > 0
            row.problem = "" if row.ok else "the stub earned points"
        else:
            row.ok, row.problem = check_mutant(res, expect)
        if progress:
            progress(f"{assignment.id} {label}: {row.score_text} {'ok' if row.ok else 'FAIL ' + row.problem}")
        return row

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, work))
