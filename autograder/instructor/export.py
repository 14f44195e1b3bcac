"""Grades out of a batch, for a learning-management system or a spreadsheet.

Formats (``grade.py export OUT --format ...``):

* ``canvas``: Canvas' Gradebook import CSV: ``Student, ID, SIS User ID, SIS Login ID,
  Section, <assignment column>`` and a ``Points Possible`` row, as Canvas' own export has.
  Canvas matches rows by ``ID`` (the Canvas user id, roster ``canvas_id``), else ``SIS User
  ID`` / ``SIS Login ID``.  Name the column ``Title (assignment id)`` (``--column``) to
  update an existing Canvas assignment; an unknown title creates a new one.
* ``moodle``: Moodle's "Import grades from CSV": ``First name, Last name, ID number,
  Username, Email address, <assignment column>``; on import, map "Email address" (or ID
  number / Username) to the user field and the grade column to the grade item.
* ``csv``: one row per student (or per submission without a roster): identity columns,
  ``status``, ``score``, ``max_score``, ``late_percent``, one column per task (points of its
  counted tests; blank when none of them counted, e.g. all skipped), ``note``.

The LMS files carry only the students that have a grade (``--missing-zero`` gives 0 to those
without a submission) so that an import never blanks a grade entered by hand.  Every cell is
neutralised against CSV injection (see ``batch.csv_safe``).  With ``--due`` (and
``--late-due``) the assignment's late policy is applied to each student's ``submitted_at``
(roster, or Gradescope's export time); without them a penalty already in results.json
(Gradescope) stands.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from autograder.instructor.batch import Batch, Submission, csv_safe, load_batch, task_scores
from autograder.instructor.late import apply_late_policy
from autograder.instructor.roster import AttachResult, Student, attach

FORMATS = ("canvas", "moodle", "csv")


class ExportError(ValueError):
    """The export cannot be written as asked; the message says why."""


@dataclass
class Row:
    student: Student | None
    submission: Submission | None
    status: str
    score: float | None = None
    max_score: float | None = None
    late_percent: float | None = None
    tasks: dict[str, float | None] = field(default_factory=dict)
    note: str = ""


@dataclass
class ExportResult:
    path: Path
    rows: list[Row]
    unmatched_submissions: list[str] = field(default_factory=list)
    missing_students: list[Student] = field(default_factory=list)
    unidentifiable: list[Student] = field(default_factory=list)   # canvas rows Canvas cannot match


def _task_columns(batch: Batch) -> list[tuple[str, str]]:
    """(task number, column header) in the registry's order, then any other task seen."""
    a = batch.assignment
    cols = [(t.number, f"{t.number} {t.function}") for t in a.tasks] if a else []
    known = {n for n, _ in cols}
    extra = set()
    for sub in batch.graded():
        extra |= {k for k in task_scores(sub.results, [n for n, _ in cols]) if k not in known}
    return cols + [(n, n) for n in sorted(extra)]


def _row_for(sub: Submission | None, student: Student | None, batch: Batch, *, policy, due, late_due,
             submitted_at) -> Row:
    numbers = batch.task_numbers()
    if sub is None:
        return Row(student, None, "no submission", note="no submission matched this student")
    if sub.results is None:
        return Row(student, sub, "grader error", note=sub.problem or "")
    results = sub.results
    if due:
        if policy is None:
            raise ExportError(f"{batch.assignment_id} has no late policy ([late] in its assignment.toml), "
                              "so --due cannot be applied")
        if submitted_at:
            results = apply_late_policy(results, policy, submitted_at, due, late_due)
    late = (results.get("extra_data") or {}).get("late") or {}
    notes = []
    if sub.load_error:
        notes.append(f"could not load: {sub.load_error}")
    if due and not submitted_at:
        notes.append("no submitted_at: late policy not applied")
    if late.get("past_late_due"):
        notes.append("after the late due date")
    return Row(student, sub, sub.status, score=float(results.get("score", 0.0)),
               max_score=float(results.get("max_score", 0.0)),
               late_percent=float(late["percent"]) if "percent" in late else None,
               tasks=task_scores(results, numbers), note="; ".join(notes))


def build_rows(out_dir, *, roster=None, due=None, late_due=None, attached: AttachResult | None = None,
               gradescope_metadata=None) -> tuple[Batch, list[Row], AttachResult | None]:
    batch = load_batch(out_dir)
    a = batch.assignment
    policy = a.late if a else None
    by_name = {s.name: s for s in batch.submissions}
    if roster is None and attached is None:
        rows = [_row_for(s, None, batch, policy=policy, due=due, late_due=late_due, submitted_at=None)
                for s in batch.submissions]
        return batch, rows, None
    attached = attached or attach(out_dir, roster, gradescope_metadata=gradescope_metadata)
    rows = []
    for student in attached.students:
        name = attached.submission_of(student.student_id)
        sub = by_name.get(name) if name else None
        when = student.submitted_at or (attached.matches[name].submitted_at if name else None)
        rows.append(_row_for(sub, student, batch, policy=policy, due=due, late_due=late_due, submitted_at=when))
    return batch, rows, attached


def _write(path: Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow([csv_safe(h) for h in header])
        for row in rows:
            writer.writerow([csv_safe(v) for v in row])


def export(out_dir, fmt: str, *, roster=None, to=None, due=None, late_due=None, column: str | None = None,
           missing_zero: bool = False, gradescope_metadata=None) -> ExportResult:
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r} (choose from {', '.join(FORMATS)})")
    if fmt in ("canvas", "moodle") and roster is None:
        raise ExportError(f"--format {fmt} needs --roster: the LMS matches grades to students by the "
                          "roster's ids (canvas_id / sis_id / login / email)")
    out_dir = Path(out_dir)
    batch, rows, attached = build_rows(out_dir, roster=roster, due=due, late_due=late_due,
                                       gradescope_metadata=gradescope_metadata)
    path = Path(to) if to else out_dir / f"grades-{fmt}.csv"
    title = column or batch.assignment_id or "grade"
    result = ExportResult(path, rows, attached.unmatched_submissions if attached else [],
                          attached.missing_students if attached else [])
    if fmt == "csv":
        tasks = _task_columns(batch)
        ident = ["student_id", "name", "email", "submission"] if attached else ["submission"]
        header = ident + ["status", "score", "max_score", "late_percent"] + [h for _, h in tasks] + ["note"]
        out = []
        for r in rows:
            who = ([r.student.student_id, r.student.name, r.student.email] if attached else [])
            out.append(who + [r.submission.name if r.submission else "", r.status, r.score, r.max_score,
                              r.late_percent] + [r.tasks.get(n) for n, _ in tasks] + [r.note])
        _write(path, header, out)
        return result

    graded = [r for r in rows if r.score is not None or (missing_zero and r.status == "no submission")]
    points = max((r.max_score for r in rows if r.max_score), default=None)

    def grade(r: Row) -> float:
        return r.score if r.score is not None else 0.0

    if fmt == "canvas":
        result.unidentifiable = [r.student for r in graded if not (r.student.canvas_id or r.student.sis_id
                                                                   or r.student.login)]
        header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", title]
        out = [["    Points Possible", "", "", "", "", points]]
        out += [[r.student.name, r.student.canvas_id, r.student.sis_id, r.student.login, r.student.section, grade(r)]
                for r in graded]
    else:
        header = ["First name", "Last name", "ID number", "Username", "Email address", title]
        out = [[*r.student.first_last, r.student.sis_id or r.student.student_id, r.student.login,
                r.student.email, grade(r)] for r in graded]
    _write(path, header, out)
    return result
