"""results.json (Gradescope's format, SPEC section 4) and gradebook.csv."""
from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

from autograder import __version__

RESULTS_SCHEMA = {
    "type": "object",
    "required": ["score", "max_score", "execution_time", "output", "visibility", "stdout_visibility",
                 "tests", "extra_data"],
    "properties": {
        "score": {"type": "number"},
        "max_score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
        "stdout_visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
        "tests": {"type": "array", "items": {
            "type": "object",
            "required": ["name", "number", "score", "max_score", "status", "output", "visibility", "tags"],
            "properties": {
                "name": {"type": "string"}, "number": {"type": "string"},
                "score": {"type": "number"}, "max_score": {"type": "number"},
                "status": {"enum": ["passed", "failed", "skipped"]},
                "output": {"type": "string"},
                "visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
                "tags": {"type": "array", "items": {"type": "string"}},
            }}},
        "extra_data": {"type": "object", "required": ["assignment", "grader_version", "device"]},
    },
}


def _numbers(outcomes) -> list[str]:
    """Task numbers, with a suffix where several items share one (parametrized cases)."""
    counts, seen, out = Counter(o.number for o in outcomes), Counter(), []
    for o in outcomes:
        if counts[o.number] > 1:
            seen[o.number] += 1
            out.append(f"{o.number}.{seen[o.number]}" if o.number else str(seen[o.number]))
        else:
            out.append(o.number)
    return out


def build_results(outcomes, *, assignment: str | None, execution_time: float, device: str,
                  isolation: str = "worker", import_problem: str | None = None) -> dict:
    tests = []
    for o, number in zip(outcomes, _numbers(outcomes)):
        skipped = o.status == "skipped"
        tests.append({
            "name": o.name, "number": number,
            "score": o.points if o.status == "passed" else 0.0,
            # a skipped test (CUDA without a GPU) is listed but does not count
            "max_score": 0.0 if skipped else o.points,
            "status": o.status,
            "output": (f"skipped: {o.output} (not counted: 0 of {o.points:g} points)" if skipped else o.output),
            "visibility": o.visibility, "tags": list(o.tags),
        })
    score = round(sum(t["score"] for t in tests), 6)
    max_score = round(sum(t["max_score"] for t in tests), 6)
    passed = sum(t["status"] == "passed" for t in tests)
    skipped = [t for t in tests if t["status"] == "skipped"]
    lines = [f"Score: {score:g} / {max_score:g}. {passed} of {len(tests) - len(skipped)} graded tests passed."]
    hidden = sum(t["visibility"] != "visible" for t in tests if t["status"] != "skipped")
    if hidden:
        lines.append(f"{hidden} of these tests are hidden, or shown only after the due date or once grades "
                     "are published; your score already includes them.")
    if skipped:
        reasons = sorted({t["output"].split(" (not counted")[0].removeprefix("skipped: ") for t in skipped})
        lines.append(f"{len(skipped)} test(s) skipped and not counted: {'; '.join(reasons)}.")
    if import_problem:
        lines.insert(0, f"Your module could not be loaded: {import_problem}")
    return {
        "score": score, "max_score": max_score, "execution_time": round(execution_time, 3),
        "output": "\n".join(lines), "visibility": "visible", "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {"assignment": assignment, "grader_version": __version__, "device": device,
                       "isolation": isolation},
    }


def failure_results(assignment: str, problem: str, *, max_score: float = 0.0, device: str = "cpu",
                    execution_time: float = 0.0) -> dict:
    """A submission that could not be graded at all: score 0 and a message naming the problem."""
    return {
        "score": 0.0, "max_score": max_score, "execution_time": round(execution_time, 3),
        "output": f"Your submission could not be graded: {problem}", "visibility": "visible",
        "stdout_visibility": "hidden", "tests": [],
        "extra_data": {"assignment": assignment, "grader_version": __version__, "device": device,
                       "error": problem},
    }


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(path)


def write_gradebook(path: Path, rows: list[tuple[str, dict]]) -> None:
    """One row per submission: name, score, max_score, then one column per test (by name)."""
    columns: list[str] = []
    for _, res in rows:
        for t in res.get("tests", []):
            col = f"{t['number']} {t['name']}".strip()
            if col not in columns:
                columns.append(col)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["name", "score", "max_score", *columns])
        for name, res in rows:
            per = {f"{t['number']} {t['name']}".strip(): t["score"] for t in res.get("tests", [])}
            writer.writerow([name, res.get("score", 0.0), res.get("max_score", 0.0),
                             *[per.get(c, "") for c in columns]])
