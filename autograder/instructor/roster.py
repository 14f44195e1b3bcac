"""The class roster and which submission belongs to whom.

Roster CSV (UTF-8, a header row; column names are case-insensitive, other columns are
ignored):

==============  ========  ===================================================================
column          needed    meaning
==============  ========  ===================================================================
student_id      yes       the school's student number (unique)
name            yes       "First Last" or "Last, First"
email           no        e-mail address (matches Gradescope exports and file names)
submission      no        the submission's name in OUT/ (file stem or folder name), when known
canvas_id       no        Canvas user id (the ``userid`` in Canvas download names; Canvas import "ID")
sis_id          no        SIS user id (Canvas "SIS User ID"; Moodle "ID number")
login           no        login / username (Canvas "SIS Login ID"; Moodle "Username")
section         no        course section (Canvas "Section")
submitted_at    no        ISO 8601 time the work was handed in (for the late policy)
==============  ========  ===================================================================

Submission names (``OUT/<name>``) are matched to roster rows by, in this order:

1. the ``submission`` column (the name itself, or the stem of a file name given there);
2. Gradescope's "Export Submissions" folders ``submission_<id>`` with the export's
   ``submission_metadata.yml`` (``:submitters:`` with ``:sid:``, ``:email:``, ``:name:``; a
   group submission belongs to every member);
3. Canvas' "Download Submissions" names ``lastfirst_[LATE_]userid_submissionid_filename``
   (``userid`` = ``canvas_id``; else ``lastfirst`` = the name without spaces or punctuation);
4. the name itself: equal to, or holding as a ``_ - .`` separated part, the student id, login,
   e-mail or its local part, or the student's name (``jane_doe``, ``DoeJane``).

A rule that fits several rows decides nothing; the next rule is tried.
"""
from __future__ import annotations

import csv
import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

COLUMNS = ("student_id", "name", "email", "submission", "canvas_id", "sis_id", "login", "section", "submitted_at")
REQUIRED = ("student_id", "name")
CANVAS_NAME = re.compile(r"^(?P<lastfirst>[^_]+)_(?P<late>LATE_)?(?P<userid>\d+)_(?P<submission_id>\d+)"
                         r"(?:_(?P<file>.*))?$")
GRADESCOPE_FOLDER = re.compile(r"^submission_\d+$")


class RosterError(ValueError):
    """A roster file that cannot be used; the message names the problem."""


@dataclass
class Student:
    student_id: str
    name: str
    email: str = ""
    submission: str = ""
    canvas_id: str = ""
    sis_id: str = ""
    login: str = ""
    section: str = ""
    submitted_at: str = ""

    @property
    def first_last(self) -> tuple[str, str]:
        """(first name, last name): "Last, First" or "First ... Last"."""
        if "," in self.name:
            last, first = (p.strip() for p in self.name.split(",", 1))
            return first, last
        parts = self.name.split()
        return (" ".join(parts[:-1]), parts[-1]) if len(parts) > 1 else (self.name.strip(), "")


@dataclass
class Match:
    students: list[str]                 # student ids (several for a group submission)
    rule: str                           # submission | gradescope | canvas | name
    late: bool | None = None            # Canvas marked the file LATE
    submitted_at: str | None = None     # from Gradescope's export


@dataclass
class AttachResult:
    matches: dict[str, Match]
    unmatched_submissions: list[str]
    missing_students: list[Student]
    students: list[Student] = field(default_factory=list)
    # a student with several submissions: the one used (latest known time, else last name)
    chosen: dict[str, str] = field(default_factory=dict)
    duplicates: dict[str, list[str]] = field(default_factory=dict)

    def submission_of(self, student_id: str) -> str | None:
        return self.chosen.get(student_id)


def _norm(text: str) -> str:
    """Lower case, accents removed, only letters and digits."""
    text = unicodedata.normalize("NFKD", str(text)).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def read_roster(path) -> list[Student]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(f"{path}: cannot read the roster ({exc})") from None
    reader = csv.reader(text.splitlines())
    header = next(reader, None)
    if not header:
        raise RosterError(f"{path}: the roster is empty (expected a header row: {', '.join(COLUMNS)})")
    keys = [h.strip().casefold().replace(" ", "_").replace("-", "_") for h in header]
    missing = [c for c in REQUIRED if c not in keys]
    if missing:
        raise RosterError(f"{path}: the roster has no {' or '.join(missing)} column (its columns: "
                          f"{', '.join(header)}; expected {', '.join(COLUMNS)})")
    students, seen = [], set()
    for line_no, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        values = {k: (row[i].strip() if i < len(row) else "") for i, k in enumerate(keys) if k in COLUMNS}
        if not values.get("student_id"):
            raise RosterError(f"{path}, line {line_no}: no student_id")
        if values["student_id"] in seen:
            raise RosterError(f"{path}, line {line_no}: student_id {values['student_id']} appears twice")
        seen.add(values["student_id"])
        students.append(Student(**values))
    return students


def read_gradescope_metadata(path) -> dict[str, dict]:
    """Gradescope's export ``submission_metadata.yml``: folder -> {"submitters": [{name, sid,
    email}], "created_at": iso or None}."""
    import yaml
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    out = {}
    for folder, info in data.items():
        info = info or {}
        submitters = [{"name": str(s.get(":name") or ""), "sid": str(s.get(":sid") or ""),
                       "email": str(s.get(":email") or "")} for s in info.get(":submitters") or []]
        created = info.get(":created_at")
        out[str(folder)] = {"submitters": submitters,
                            "created_at": created.isoformat() if hasattr(created, "isoformat") else
                            (str(created) if created else None)}
    return out


def _unique(found: list[Student]) -> Student | None:
    ids = {s.student_id for s in found}
    return found[0] if len(ids) == 1 else None


def _name_keys(student: Student) -> set[str]:
    first, last = student.first_last
    keys = {_norm(first + last), _norm(last + first)} if first and last else {_norm(student.name)}
    return {k for k in keys if len(k) >= 3}


def _match_by_name_text(name: str, students: list[Student]) -> Student | None:
    """Rule 4: the submission's own name."""
    whole = name.casefold()
    base = re.sub(r"-\d+$", "", whole)            # grade.py names a second "x" "x-2"
    parts = [p for p in re.split(r"[_\-.\s@]+", base) if p]

    def ids(s: Student) -> set[str]:
        out = {s.student_id, s.login, s.sis_id, s.email, s.email.split("@")[0] if s.email else ""}
        return {v.casefold() for v in out if v and len(v) >= 3}

    for test in (lambda s: whole in ids(s) or base in ids(s),
                 lambda s: bool(ids(s) & set(parts)),
                 lambda s: _norm(base) in _name_keys(s),
                 lambda s: any(len(k) >= 6 and k in _norm(base) for k in _name_keys(s))):
        found = _unique([s for s in students if test(s)])
        if found:
            return found
    return None


def match_submissions(names: list[str], students: list[Student],
                      gradescope: dict[str, dict] | None = None) -> tuple[dict[str, Match], list[str]]:
    """Submission name -> Match for the names that fit roster rows; and the names that did not."""
    by_id = {s.student_id: s for s in students}
    gradescope = gradescope or {}
    matches, unmatched = {}, []
    for name in names:
        match = None
        folded = name.casefold()
        found = _unique([s for s in students if s.submission and
                         folded in (s.submission.casefold(), Path(s.submission).stem.casefold(),
                                    Path(s.submission).name.casefold())])
        if found:
            match = Match([found.student_id], "submission")
        if match is None and name in gradescope:
            meta, ids = gradescope[name], []
            for sub in meta["submitters"]:
                who = (_unique([s for s in students if sub["sid"] and sub["sid"] in (s.student_id, s.sis_id)])
                       or _unique([s for s in students if sub["email"] and s.email
                                   and sub["email"].casefold() == s.email.casefold()])
                       or _unique([s for s in students if _norm(sub["name"]) and
                                   _norm(sub["name"]) in (_norm(s.name), *_name_keys(s))]))
                if who and who.student_id not in ids:
                    ids.append(who.student_id)
            if ids:
                match = Match(ids, "gradescope", submitted_at=meta.get("created_at"))
        m = CANVAS_NAME.match(name)
        if match is None and m:
            found = (_unique([s for s in students if s.canvas_id and s.canvas_id == m["userid"]])
                     or _unique([s for s in students if _norm(m["lastfirst"]) in _name_keys(s)]))
            if found:
                match = Match([found.student_id], "canvas", late=bool(m["late"]))
        if match is None:
            found = _match_by_name_text(name, students)
            if found:
                match = Match([found.student_id], "name")
        if match is None or not all(i in by_id for i in match.students):
            unmatched.append(name)
        else:
            matches[name] = match
    return matches, unmatched


def attach(out_dir, roster_csv, *, gradescope_metadata=None) -> AttachResult:
    """Match the submissions of OUT to the roster's rows; write OUT/roster.json.  Returns the
    matches, the submissions that fit no row and the rows that have no submission."""
    from autograder.instructor.batch import load_batch
    out_dir = Path(out_dir)
    students = read_roster(roster_csv)
    names = [s.name for s in load_batch(out_dir).submissions]
    gs = read_gradescope_metadata(gradescope_metadata) if gradescope_metadata else None
    matches, unmatched = match_submissions(names, students, gs)
    by_student: dict[str, list[str]] = {}
    for name, match in matches.items():
        for sid in match.students:
            by_student.setdefault(sid, []).append(name)
    row_time = {s.student_id: s.submitted_at for s in students}

    def when(name: str, sid: str) -> str:
        return matches[name].submitted_at or row_time.get(sid) or ""

    chosen = {sid: max(names_, key=lambda n: (when(n, sid), names_.index(n))) for sid, names_ in by_student.items()}
    duplicates = {sid: names_ for sid, names_ in by_student.items() if len(names_) > 1}
    missing = [s for s in students if s.student_id not in by_student]
    result = AttachResult(matches, unmatched, missing, students, chosen, duplicates)
    data = {
        "roster": str(Path(roster_csv).resolve()),
        "students": [{**asdict(s), "matched_submission": chosen.get(s.student_id)} for s in students],
        "submissions": {n: asdict(m) for n, m in sorted(matches.items())},
        "unmatched_submissions": unmatched,
        "missing_students": [s.student_id for s in missing],
        "duplicates": duplicates,
    }
    tmp = out_dir / "roster.json.tmp"
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(out_dir / "roster.json")
    return result


def load_attached(out_dir) -> dict | None:
    """OUT/roster.json as written by :func:`attach`, or None."""
    path = Path(out_dir) / "roster.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None
