"""results.json (Gradescope's format, SPEC section 4): built here, written here, and
nowhere else (the plugin builds it from the outcomes of a run; the engine only when the
grading process itself failed).  Also the gradebook, rebuilt from every results.json.

What a student sees (the assignment's visibility policy, README "What students see"):
one visible summary entry per task (points earned, and the first failing test's curated
message), correctness tests after the due date, speed checks visible with the measured
ratio.  Tests that did not run (a CUDA test without a GPU) are not listed as tests: the
output says so and they are left out of the total.
"""
from __future__ import annotations

import csv
import json
import os
import tempfile
from collections import OrderedDict
from pathlib import Path

from autograder import PACKAGE_DIR, __version__
from shared.feedback import Feedback
from shared.i18n import N_, _, add_domain, known, translator

# the grader's own messages (these lines, the hidden suites' hints): autograder/locale, never shipped to students
add_domain("autograder", PACKAGE_DIR / "locale")

# reasons a test did not run (pytest skip reasons set by the plugin), translated when listed
SKIP_REASONS = (N_("no CUDA device"), N_("grading on CPU (--device cpu)"))

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
_VIS = {"enum": list(VISIBILITIES)}

# Gradescope's documented fields (https://gradescope-autograders.readthedocs.io/en/latest/specs/)
RESULTS_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["score", "max_score", "execution_time", "output", "visibility", "stdout_visibility",
                 "tests", "extra_data"],
    "properties": {
        "score": {"type": "number"}, "max_score": {"type": "number"}, "execution_time": {"type": "number"},
        "output": {"type": "string"}, "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "test_output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "test_name_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
        "visibility": _VIS, "stdout_visibility": _VIS,
        "extra_data": {"type": "object", "required": ["assignment", "grader_version", "device"]},
        "leaderboard": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["name", "value"],
            "properties": {"name": {"type": "string"}, "value": {"type": ["number", "string"]},
                           "order": {"enum": ["asc", "desc"]}}}},
        "tests": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["name", "number", "score", "max_score", "status", "output", "visibility", "tags"],
            "properties": {
                "name": {"type": "string"}, "name_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
                "number": {"type": "string"}, "score": {"type": "number"}, "max_score": {"type": "number"},
                "status": {"enum": ["passed", "failed"]}, "output": {"type": "string"},
                "output_format": {"enum": ["text", "html", "simple_format", "md", "ansi"]},
                "visibility": _VIS, "tags": {"type": "array", "items": {"type": "string"}},
                "extra_data": {"type": "object"}}}},
    },
}


def feedback_text(exc, when: str = "call") -> str:
    """What the student sees for a failure: our curated message, never the test source,
    a traceback or hypothesis' falsifying example (which would print hidden inputs)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if exc is None:
        return _("failed")
    if isinstance(exc, Feedback):
        return str(exc)
    if when != "call":
        return _("the grader could not set up this test ({exc_type}); please tell the course staff.").format(
            exc_type=type(exc).__name__)
    text = str(exc).splitlines()[0][:300] if str(exc) else ""
    if text:
        first = _("the test could not use your result: {exc_type}: {text}")
    else:
        first = _("the test could not use your result: {exc_type}")
    return (first.format(exc_type=type(exc).__name__, text=text) + "\n"
            + _("Hint: {hint}").format(hint=_("check the return type and shapes against the handout (e.g. a tuple "
                                              "where one is expected).")))


def _summaries(tests: list[dict], assignment, visibility: str) -> list[dict]:
    by_task: OrderedDict[str, list[dict]] = OrderedDict()
    for t in tests:
        by_task.setdefault(t["extra_data"]["task"], []).append(t)
    out = []
    for task_number, items in by_task.items():
        task = assignment.task(task_number) if assignment else None
        earned, possible = sum(t["score"] for t in items), sum(t["max_score"] for t in items)
        failed = [t for t in items if t["status"] == "failed"]
        quotable = [t for t in failed if t["visibility"] != "hidden"]     # a hidden test is never quoted
        first = next((t for t in quotable if t["extra_data"]["kind"] == "correctness"),
                     quotable[0] if quotable else None)
        label = f"{task_number} {task.function}" if task else task_number
        if not failed:
            text = _("all {n} tests passed.").format(n=len(items))
        elif first is None:
            text = _("{failed} of {n} tests failed (their details are not shown).").format(
                failed=len(failed), n=len(items))
        else:
            text = _("{failed} of {n} tests failed. The first: {name}").format(
                failed=len(failed), n=len(items), name=first["name"]) + f"\n{first['output']}"
        title = _("Task {label}: {earned:g} of {possible:g} points").format(label=label, earned=earned,
                                                                            possible=possible)
        out.append({"name": title, "number": task_number,
                    "score": 0.0, "max_score": 0.0, "status": "failed" if failed else "passed",
                    "output": text, "visibility": visibility, "tags": ["summary"],
                    "extra_data": {"id": f"{task_number}/summary", "task": task_number, "kind": "summary"}})
    return out


def student_view(results: dict, *, after_due: bool = False) -> list[dict]:
    """The tests a student sees on Gradescope: visible ones, and after the due date those
    shown after it (``after_published`` too, once grades are published)."""
    shown = ("visible", "after_due_date", "after_published") if after_due else ("visible",)
    return [t for t in results["tests"] if t["visibility"] in shown]


def build(outcomes, *, assignment, spec, execution_time: float, import_problem: str | None = None,
          budget_spent: float = 0.0) -> dict:
    counters: dict[str, int] = {}
    tests, not_run = [], []
    for o in outcomes:
        if o.status == "skipped":
            not_run.append(f"{o.name}: {known(o.output) if o.output else o.output}")
            continue
        counters[o.task] = counters.get(o.task, 0) + 1
        extra = {"id": o.id, "task": o.task, "kind": o.kind}
        if o.speed:
            extra["speed"] = {k: o.speed[k] for k in ("function", "ratio", "threshold")}
        tests.append({"name": o.name, "number": f"{o.task}.{counters[o.task]}" if o.task else str(len(tests) + 1),
                      "score": o.points if o.status == "passed" else 0.0, "max_score": o.points,
                      "status": o.status, "output": o.output, "visibility": o.visibility, "tags": list(o.tags),
                      "extra_data": extra})
    score = round(sum(t["score"] for t in tests), 6)
    max_score = round(sum(t["max_score"] for t in tests), 6)
    passed = sum(t["status"] == "passed" for t in tests)
    lines = [_("Score: {score:g} / {max_score:g}. {passed} of {n} graded tests passed.").format(
        score=score, max_score=max_score, passed=passed, n=len(tests))]
    if spec.load_error:
        lines.insert(0, _("Your submission could not be loaded: {problem}").format(problem=spec.load_error))
    elif import_problem:
        lines.insert(0, _("Your module could not be loaded: {problem}").format(problem=import_problem))
    if not_run:
        lines.append(_("{n} test(s) did not run and are not counted: {reasons}.").format(
            n=len(not_run), reasons="; ".join(sorted({n.split(": ", 1)[1] for n in not_run}))))
    lines.append(_("Each task's summary is shown now; the individual correctness tests are shown after the "
                   "due date."))
    data = {
        "score": score, "max_score": max_score, "execution_time": round(execution_time, 3),
        "output": "\n".join(lines), "visibility": "visible", "stdout_visibility": "hidden",
        "tests": _summaries(tests, assignment, assignment.visibility.summary if assignment else "visible") + tests,
        "extra_data": {"assignment": spec.assignment, "grader_version": __version__, "device": spec.device,
                       "isolation": spec.isolation, "budget_spent": round(budget_spent, 2),
                       **({"not_run": not_run} if not_run else {}),
                       **({"load_error": spec.load_error} if spec.load_error else {})},
    }
    from autograder.instructor.leaderboard import leaderboard   # one column per timed function
    board = leaderboard({"tests": tests})
    if board:
        data["leaderboard"] = board
    return data


def failure_results(assignment: str, problem: str, *, execution_time: float = 0.0, device: str = "cpu",
                    inventory: list[dict] | None = None, lang: str | None = None) -> dict:
    """A submission whose grading failed as a whole: score 0, a message naming the
    problem, and (when the suite's inventory is known) every test, failed.  ``lang``: the
    language of the messages (default: the assignment's)."""
    if lang is None:
        from autograder import registry
        try:
            lang = registry.get(assignment).lang
        except (KeyError, ValueError, OSError):        # an unknown or broken assignment: English
            lang = "en"
    tr = translator(lang)                  # not the process-wide language: the engine grades in threads
    not_graded = tr(N_("not graded: {problem}")).format(problem=problem)
    output = tr(N_("Your submission could not be graded: {problem}")).format(problem=problem)
    tests = [{"name": i["name"], "number": i["number"], "score": 0.0, "max_score": float(i["points"]),
              "status": "failed", "output": not_graded, "visibility": i["visibility"],
              "tags": list(i.get("tags", [])), "extra_data": {"id": i["id"], "task": i["task"], "kind": i["kind"]}}
             for i in (inventory or [])]
    return {
        "score": 0.0, "max_score": round(sum(t["max_score"] for t in tests), 6),
        "execution_time": round(execution_time, 3),
        "output": output, "visibility": "visible",
        "stdout_visibility": "hidden", "tests": tests,
        "extra_data": {"assignment": assignment, "grader_version": __version__, "device": device, "error": problem},
    }


def write_json(path: Path, data: dict) -> None:
    """Atomically: the old file stays until the new one is complete."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".results-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, ensure_ascii=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def safe_cell(value):
    """A CSV cell a spreadsheet will not run as a formula (OWASP, CSV injection)."""
    if isinstance(value, str) and value and value[0] in "=+-@\t\r":
        return "'" + value
    return value


def write_gradebook(path: Path, rows: list[tuple[str, dict]]) -> None:
    """One row per submission: name, score, max_score, then one column per graded test
    (keyed by its stable id; tests a submission did not run are blank)."""
    columns: list[str] = []
    titles: dict[str, str] = {}
    for _, res in rows:
        for t in res.get("tests", []):
            key = t.get("extra_data", {}).get("id") or f"{t['number']} {t['name']}"
            if t.get("extra_data", {}).get("kind") == "summary":
                continue
            if key not in titles:
                columns.append(key)
                titles[key] = key
    tmp = Path(path).with_name(f".{Path(path).name}.tmp")
    tmp.parent.mkdir(parents=True, exist_ok=True)
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["name", "score", "max_score", *map(safe_cell, columns)])
        for name, res in rows:
            per = {(t.get("extra_data", {}).get("id") or f"{t['number']} {t['name']}"): t["score"]
                   for t in res.get("tests", [])}
            writer.writerow([safe_cell(name), res.get("score", ""), res.get("max_score", ""),
                             *[per.get(c, "") for c in columns]])
    os.replace(tmp, path)


def rebuild_gradebook(out_dir: Path) -> Path:
    """gradebook.csv from every OUT/<name>/results.json (whatever graded them, whenever)."""
    out_dir = Path(out_dir)
    rows = []
    for results_path in sorted(out_dir.glob("*/results.json")):
        try:
            rows.append((results_path.parent.name, json.loads(results_path.read_text(encoding="utf-8"))))
        except (OSError, ValueError):
            rows.append((results_path.parent.name, {"score": "", "max_score": ""}))
    path = out_dir / "gradebook.csv"
    write_gradebook(path, rows)
    return path
