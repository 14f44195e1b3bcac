"""Reading a graded batch (``OUT/``) and classifying its tests.

Per-test ``extra_data`` (``id``, ``task``, ``kind``, ``speed``) is used when the engine
wrote it; otherwise the task comes from the test number (``1.4.17`` -> task ``1.4`` of
the registry) and the kind from the tags, so results written by older engines work too.
"""
from __future__ import annotations

import csv
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from autograder import registry

KINDS = ("correctness", "performance", "forbidden-api", "summary")
_LEADING_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)*)\b")


@dataclass
class Submission:
    """One submission of a batch: ``results`` is None when the grader itself failed on it."""
    name: str
    folder: Path
    results: dict | None
    problem: str | None = None          # why there are no results (grader error, unreadable file)

    @property
    def extra(self) -> dict:
        return (self.results or {}).get("extra_data") or {}

    @property
    def load_error(self) -> str | None:
        """Why the submission could not be loaded (it was graded as score 0), if it could not."""
        return self.extra.get("load_error") or self.extra.get("error") or None

    @property
    def status(self) -> str:
        if self.results is None:
            return "grader error"
        if self.load_error:
            return "could not load"
        return "graded"

    @property
    def score(self) -> float | None:
        return _number(self.results.get("score")) if self.results else None

    @property
    def max_score(self) -> float | None:
        return _number(self.results.get("max_score")) if self.results else None

    @property
    def execution_time(self) -> float | None:
        if not self.results:
            return None
        value = self.extra.get("execution_time", self.results.get("execution_time"))
        return _number(value)

    @property
    def source_path(self) -> Path:
        return self.folder / "source.py"

    @property
    def feedback_path(self) -> Path:
        return self.folder / "feedback.html"


@dataclass
class GradedTest:
    """What the instructor's tools need to know about one test entry of results.json."""
    id: str
    name: str
    task: str
    kind: str
    status: str
    score: float
    max_score: float
    counted: bool                       # False: skipped, or worth no points
    speed: dict | None = None           # {"function", "ratio", "threshold"} for speed checks


@dataclass
class Batch:
    out_dir: Path
    assignment_id: str | None
    submissions: list[Submission] = field(default_factory=list)

    @property
    def assignment(self) -> registry.Assignment | None:
        if not self.assignment_id:
            return None
        try:
            return registry.get(self.assignment_id)
        except registry.UnknownAssignment:
            return None

    def graded(self) -> list[Submission]:
        return [s for s in self.submissions if s.results is not None]

    def task_numbers(self) -> list[str]:
        a = self.assignment
        return [t.number for t in a.tasks] if a else []


def _number(value) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) else None


def task_of(test: dict, task_numbers: list[str]) -> str:
    """The task a test grades: extra_data.task, else the longest registry task number that
    prefixes the test number (or the number at the start of its name), else the number."""
    extra = test.get("extra_data") or {}
    if extra.get("task"):
        return str(extra["task"])
    candidates = [str(test.get("number") or "")]
    m = _LEADING_NUMBER.match(str(test.get("name") or ""))
    if m:
        candidates.append(m.group(1))
    for cand in candidates:
        best = max((t for t in task_numbers if cand == t or cand.startswith(t + ".")), key=len, default=None)
        if best:
            return best
    if m:
        return m.group(1)
    number = candidates[0]
    parts = number.split(".")
    return ".".join(parts[:2]) if len(parts) > 2 else number


def kind_of(test: dict) -> str:
    extra = test.get("extra_data") or {}
    if extra.get("kind") in KINDS:
        return extra["kind"]
    tags = set(test.get("tags") or ())
    if extra.get("speed") or "performance" in tags:
        return "performance"
    if "forbidden-api" in tags:
        return "forbidden-api"
    if "summary" in tags:
        return "summary"
    return "correctness"


def describe_test(test: dict, task_numbers: list[str]) -> GradedTest:
    extra = test.get("extra_data") or {}
    max_score = _number(test.get("max_score")) or 0.0
    status = str(test.get("status") or "failed")
    speed = extra.get("speed") if isinstance(extra.get("speed"), dict) else None
    return GradedTest(id=str(extra.get("id") or test.get("name") or test.get("number") or "?"),
                    name=str(test.get("name") or ""), task=task_of(test, task_numbers), kind=kind_of(test),
                    status=status, score=_number(test.get("score")) or 0.0, max_score=max_score,
                    counted=status != "skipped" and max_score > 0, speed=speed)


def tests_of(results: dict | None, task_numbers: list[str]) -> list[GradedTest]:
    return [describe_test(t, task_numbers) for t in (results or {}).get("tests", []) if isinstance(t, dict)]


def task_scores(results: dict | None, task_numbers: list[str]) -> dict[str, float | None]:
    """Points per task: the sum over the task's counted tests; None (blank, never 0) for a
    task none of whose tests counted (all skipped, or worth nothing)."""
    out: dict[str, float | None] = {t: None for t in task_numbers}
    for info in tests_of(results, task_numbers):
        if info.counted:
            out[info.task] = (out.get(info.task) or 0.0) + info.score
        else:
            out.setdefault(info.task, None)
    return {k: (round(v, 6) if v is not None else None) for k, v in out.items()}


def _gradebook_names(out_dir: Path) -> list[tuple[str, bool]]:
    """(name, graded) pairs from gradebook.csv; graded is False where the score is blank."""
    path = out_dir / "gradebook.csv"
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as fh:
        return [(row["name"], (row.get("score") or "") != "") for row in csv.DictReader(fh) if row.get("name")]


def load_batch(out_dir: Path) -> Batch:
    """Every submission of OUT: folders holding results.json, plus names that gradebook.csv
    lists without a score (the grader failed on them)."""
    out_dir = Path(out_dir)
    subs: dict[str, Submission] = {}
    for path in sorted(out_dir.glob("*/results.json")):
        try:
            results = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(results, dict):
                raise ValueError("not a JSON object")
            subs[path.parent.name] = Submission(path.parent.name, path.parent, results)
        except (OSError, ValueError) as exc:
            subs[path.parent.name] = Submission(path.parent.name, path.parent, None,
                                                f"results.json is unreadable ({exc})")
    for name, graded in _gradebook_names(out_dir):
        if name not in subs:
            subs[name] = Submission(name, out_dir / name, None,
                                    "the grader failed on this submission (no results.json)")
    assignments = [s.extra.get("assignment") for s in subs.values() if s.extra.get("assignment")]
    assignment_id = max(set(assignments), key=assignments.count) if assignments else None
    return Batch(out_dir, assignment_id, [subs[k] for k in sorted(subs)])


def fmt_number(value: float | None) -> str:
    """A score as a short decimal string ("" for None): 52.0 -> "52", 1/3 -> "0.3333"."""
    if value is None:
        return ""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """One CSV cell, neutralised against CSV (formula) injection as OWASP recommends: a
    cell that starts with = + - @ tab or carriage return gets a leading single quote."""
    if value is None:
        return ""
    text = fmt_number(value) if isinstance(value, float) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
