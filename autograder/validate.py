"""`grade.py validate`: grade the reference, the stub and every mutant of an assignment
through the real grading path and check each against its expectation.

A mutant (``autograder/suites/<id>/mutants/<name>.py``) is an overlay on the reference
(see :mod:`autograder.mutants`): it is built into a full module in a temporary folder and
graded as a student file.  Besides losing points with feedback that names its concept, a
mutant must be charged once: it may lose points only in the tasks whose function it
changes and in the tasks whose own code reaches a changed private helper
(:func:`allowed_tasks`)."""
from __future__ import annotations

import ast
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from autograder import registry
from autograder.engine import GraderError, grade_submission
from autograder.mutants import MutantError, build_file, parse_header, top_level_definitions
from autograder.warm import WarmServer, WarmSlot

# A mutant that loses points in a task it does not change fails its expectation.  The
# engine substitutes the reference for the graded functions a task calls (registry
# ``calls``); until that covers every dependent function, turning this off reports the
# extra tasks in the verdict without failing the row.
STRICT_TASKS = True


# ---- which tasks a mutant may lose points in -----------------------------------------
def _referenced_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def allowed_tasks(tasks, reference_source: str, changed) -> dict[str, str]:
    """``{task number: function}`` of the tasks a mutant that replaces ``changed`` may lose
    points in: the tasks whose function it changes, and the tasks whose function reaches a
    changed non-task definition (a private helper) through the reference's top-level
    definitions.  The walk stops at other task functions: those are judged with the
    reference substituted, so a bug is charged once, where it is.  ``tasks`` are the
    registry's (``.number``, ``.function``)."""
    changed = set(changed)
    task_functions = {t.function for t in tasks}
    defs = {name: nodes[-1] for name, nodes in top_level_definitions(ast.parse(reference_source)).items()}
    refs = {name: _referenced_names(node) & defs.keys() for name, node in defs.items()}
    allowed = {}
    for task in tasks:
        if task.function in changed:
            allowed[task.number] = task.function
            continue
        todo, seen = list(refs.get(task.function, ())), {task.function}
        while todo:
            current = todo.pop()
            if current in seen or current in task_functions:
                continue
            seen.add(current)
            if current in changed:
                allowed[task.number] = task.function
                break
            todo.extend(refs.get(current, ()))
    return allowed


@dataclass
class Row:
    assignment: str
    label: str
    expectation: str
    score: float | None = None
    max_score: float | None = None
    ok: bool = False
    problem: str = ""
    lost_tasks: list[str] = field(default_factory=list)     # task numbers whose tests lost points
    note: str = ""                                          # shown in the verdict, does not fail the row

    @property
    def score_text(self) -> str:
        return "-" if self.score is None else f"{self.score:g}/{self.max_score:g}"

    @property
    def lost_text(self) -> str:
        return ", ".join(self.lost_tasks) if self.lost_tasks else "-"


def mutant_header(path: Path) -> dict:
    """``{"mutant": ..., "expect": ..., "adds": ...}`` of a mutant file (keys present only when set)."""
    header = parse_header(Path(path).read_text(encoding="utf-8"))
    found = {"mutant": header.mutant, "expect": header.expect, "adds": " ".join(header.adds)}
    return {key: value for key, value in found.items() if value}


def _task_key(number: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in number.split("."))


def task_of_test(test: dict, task_numbers=()) -> str:
    """The task a results.json test belongs to: ``extra_data["task"]`` when the engine
    gives it, else the longest registered task number that prefixes the test's number
    ("1.4.3" -> "1.4"), else the test number's first two components."""
    given = (test.get("extra_data") or {}).get("task")
    if given:
        return str(given)
    number = str(test.get("number", ""))
    matching = [t for t in task_numbers if number == t or number.startswith(t + ".")]
    if matching:
        return max(matching, key=len)
    return ".".join(number.split(".")[:2])


def lost_tasks(results: dict, task_numbers=()) -> list[str]:
    """Task numbers of the tests that lost points (score below max_score), sorted."""
    lost = {task_of_test(t, task_numbers) for t in results.get("tests", [])
            if t.get("status") != "skipped" and t.get("score", 0) < t.get("max_score", 0)}
    return sorted((t for t in lost if t), key=_task_key)


def check_mutant(results: dict, expect: str, *, allowed: dict[str, str] | None = None,
                 functions: dict[str, str] | None = None, task_numbers=()) -> tuple[bool, str]:
    """(ok, problem) for a graded mutant.  ``allowed`` (task number -> function) are the
    tasks it may lose points in; ``functions`` names every task for the problem text."""
    if results["score"] >= results["max_score"]:
        return False, "did not lose any points"
    failed = [t for t in results["tests"] if t["status"] == "failed"]
    words = [w.strip().lower() for w in expect.split("|") if w.strip()]
    if not any(w in t["output"].lower() for t in failed for w in words):
        return False, f"no failed test's feedback mentions '{expect}'"
    if allowed is not None:
        extra = [t for t in lost_tasks(results, task_numbers) if t not in allowed]
        if extra:
            names = functions or {}
            listed = ", ".join(f"{t} ({names[t]})" if t in names else t for t in extra)
            return False, f"lost points in task{'s' if len(extra) > 1 else ''} {listed}, which it does not change"
    return True, ""


def jobs_for(assignment: registry.Assignment) -> list[tuple[str, Path, str, str]]:
    """(label, file, expectation kind, expect word) for one assignment."""
    out = [("reference", assignment.solution_path, "full", ""), ("stub", assignment.stub_path, "zero", "")]
    for m in assignment.mutants():
        out.append((f"mutant {m.stem}", m, "mutant", mutant_header(m).get("expect", "")))
    return out


def run_validation(assignments, *, jobs: int = 2, progress=None, keep: Path | None = None,
                   strict_tasks: bool | None = None) -> list[Row]:
    """Grade every job of ``assignments``; ``keep``: a folder that receives each mutant's
    built module as ``<keep>/<id>/<mutant>.py``."""
    strict = STRICT_TASKS if strict_tasks is None else strict_tasks
    work = [(a, *job) for a in assignments for job in jobs_for(a)]
    local, slots, lock = threading.local(), [], threading.Lock()

    servers: dict[str, WarmServer] = {}

    def slot_for(assignment) -> WarmSlot:
        """Each grading thread is one lane of the assignment's warm process (autograder/warm.py)."""
        cache = local.__dict__.setdefault("slots", {})
        if assignment.id not in cache:
            with lock:
                server = servers.setdefault(assignment.id, WarmServer(assignment.id))
                cache[assignment.id] = WarmSlot(assignment.id, server=server)
                slots.append(cache[assignment.id])
        return cache[assignment.id]

    def one(item) -> Row:
        assignment, label, path, kind, expect = item
        expectation = {"full": "full marks", "zero": "0"}.get(kind, f"loses points, feedback names '{expect}'")
        row = Row(assignment.id, label, expectation)
        numbers = [t.number for t in assignment.tasks]
        functions = {t.number: t.function for t in assignment.tasks}
        with tempfile.TemporaryDirectory(prefix="ag-validate-") as tmp:
            allowed = None
            if kind == "mutant":
                if not expect:
                    row.problem = f"{path.name} has no '# expect: <concept>' header"
                    return row
                # CPython 3.11's ast module keeps its recursion counter in shared state, so two
                # threads parsing at once can fail with "AST constructor recursion depth mismatch"
                with lock:
                    try:
                        built = build_file(assignment, path)
                    except MutantError as exc:
                        row.problem = f"cannot build: {exc}"
                        return row
                    allowed = allowed_tasks(assignment.tasks,
                                            assignment.solution_path.read_text(encoding="utf-8"), built.changed)
                path = Path(tmp) / "built" / path.name
                path.parent.mkdir()
                path.write_text(built.source, encoding="utf-8")
                if keep is not None:
                    kept = Path(keep) / assignment.id / path.name
                    kept.parent.mkdir(parents=True, exist_ok=True)
                    kept.write_text(built.source, encoding="utf-8")
            try:
                # English feedback: the mutants' "# expect:" concept words are English
                res = grade_submission(assignment.id, path, Path(tmp) / "results.json", lang="en",
                                       slot=slot_for(assignment))
            except GraderError as exc:
                row.problem = str(exc).splitlines()[0]
                return row
        row.score, row.max_score = res["score"], res["max_score"]
        row.lost_tasks = lost_tasks(res, numbers)
        if kind == "full":
            row.ok = res["max_score"] > 0 and res["score"] == res["max_score"]
            if not row.ok:
                failed = [t["name"] for t in res["tests"] if t["status"] == "failed"]
                row.problem = "failed: " + "; ".join(failed[:3])
        elif kind == "zero":
            row.ok = res["score"] == 0 and res["max_score"] > 0
            row.problem = "" if row.ok else "the stub earned points"
        else:
            row.ok, row.problem = check_mutant(res, expect, allowed=allowed, functions=functions,
                                               task_numbers=numbers)
            if not strict and not row.ok and row.problem.startswith("lost points in task"):
                row.ok, row.note, row.problem = True, row.problem, ""      # reported, not failed
        if progress:
            verdict = "ok" if row.ok else "FAIL " + row.problem
            progress(f"{assignment.id} {label}: {row.score_text} (lost: {row.lost_text}) {verdict}"
                     + (f" [{row.note}]" if row.note else ""))
        return row

    try:
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            return list(pool.map(one, work))
    finally:
        for slot in slots:
            slot.close()
