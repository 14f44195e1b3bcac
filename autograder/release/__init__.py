"""Release archives: what students download and what the grading platforms run.

``build_release(ids, out)`` writes, for every assignment id (all of them when ``ids``
is empty):

* ``<id>-student.zip``    the handout (:mod:`.student`): stub module, README(s), public
  tests, the ``shared/`` helpers they import, a ``conftest.py`` that runs the public tests
  in-process against the student's module, ``run_checks.py`` / ``grade.py check``, and a
  generated notebook ``<id>.ipynb`` (:mod:`.notebook`).  Built from an explicit list of
  allowed files; no file of ``solutions/`` or of a hidden suite, no reference function.
* ``<id>-gradescope.zip`` Gradescope's autograder format (:mod:`.platforms`).
* ``<id>-otter.zip``      the same grader for ``otter run -a <id>-otter.zip SUBMISSION``.

Every student zip is scanned for leaks before anything is written (:mod:`.leaks`); a
leak raises :class:`LeakError` and no archive is produced.  Archives are byte-for-byte
reproducible (:mod:`.archive`).  The release refuses an ``--out`` inside a tree it zips
and never replaces an existing archive unless ``force``.  ``docs/release.md`` describes
the archives for instructors.
"""
from __future__ import annotations

import os
from pathlib import Path

import click

from autograder import ROOT, registry
from autograder.release.archive import (TEMPLATES, ZIP_EPOCH, Entry, ReleaseError, file_entry, json_bytes,
                                        requirements_txt, template_entry, tree_entries, write_zip, zip_bytes)
from autograder.release.leaks import (Secrets, collect_secrets, expand, function_fingerprints, python_sources,
                                      scan_for_leaks)
from autograder.release.notebook import CHECK_CELL_TAGS, make_notebook, readme_sections, stub_chunks
from autograder.release.platforms import (BRIDGE_PATH, gradescope_entries, grader_source_entries, hidden_tests,
                                          otter_entries, otter_test_files)
from autograder.release.student import handout_files, left_out, shared_modules_needed, student_entries

# the names tests/test_release.py and older callers use
_file, _template, _stub_chunks, _python_sources = file_entry, template_entry, stub_chunks, python_sources

# trees whose files go into an archive: an --out inside one would ship the archives themselves
ZIPPED_TREES = ("assignments", "solutions", "autograder", "shared")

__all__ = ["BRIDGE_PATH", "CHECK_CELL_TAGS", "TEMPLATES", "ZIP_EPOCH", "Entry", "LeakError", "ReleaseError",
           "Secrets", "build_release", "check_out_dir", "collect_secrets", "expand", "function_fingerprints",
           "gradescope_entries", "grader_source_entries", "handout_files", "hidden_tests", "json_bytes",
           "left_out", "make_notebook", "otter_entries", "otter_test_files", "readme_sections",
           "requirements_txt", "scan_for_leaks", "shared_modules_needed", "student_entries", "write_zip",
           "zip_bytes"]


class LeakError(click.ClickException):
    """A student archive would contain hidden material; nothing was written."""

    def __init__(self, findings: list[str]):
        self.findings = list(findings)
        super().__init__("release stopped: the student archive would leak hidden material:\n  - "
                         + "\n  - ".join(self.findings)
                         + "\nRemove it from the handout (or, for a helper the handout may share with the "
                           "reference, list the function under [release] shared_functions in the "
                           "assignment.toml).")


def check_out_dir(out: Path) -> Path:
    """``out`` resolved, or a one-line :class:`ReleaseError` when it lies inside a tree the
    release zips or cannot be created (a path through a regular file, a read-only place)."""
    resolved = Path(out).expanduser().resolve()
    for name in ZIPPED_TREES:
        tree = (ROOT / name).resolve()
        if resolved == tree or tree in resolved.parents:
            raise ReleaseError(f"--out {out} is inside {name}/, whose files go into the archives; choose a folder "
                               f"outside {', '.join(t + '/' for t in ZIPPED_TREES)} (e.g. dist/)")
    existing = resolved
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ReleaseError(f"cannot create --out {out}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ReleaseError(f"cannot create --out {out}: {existing} is not writable")
    return resolved


def build_release(ids: list[str] | tuple[str, ...], out: Path, *, force: bool = False) -> list[Path]:
    """Write the three archives of each assignment into ``out``; return their paths.
    Every student archive is scanned first: on a leak nothing is written.  An existing
    archive is replaced only when ``force``."""
    out_dir = check_out_dir(out)
    assignments = [registry.get(i) for i in ids] if ids else list(registry.all_assignments())
    names = [f"{a.id}-{kind}.zip" for a in assignments for kind in ("student", "gradescope", "otter")]
    existing = [n for n in names if (out_dir / n).exists() or (out_dir / n).is_symlink()]
    if existing and not force:
        raise ReleaseError(f"{out} already holds {', '.join(existing)}; pass --force to replace "
                           f"{'it' if len(existing) == 1 else 'them'}")
    secrets = collect_secrets()
    students = {a.id: student_entries(a) for a in assignments}
    findings = [f"{a.id}-student.zip: {f}" for a in assignments
                for f in scan_for_leaks(students[a.id], a, secrets)]
    if findings:
        raise LeakError(findings)
    planned: list[tuple[Path, list[Entry]]] = []
    for a in assignments:
        planned.append((out_dir / f"{a.id}-student.zip", students[a.id]))
        planned.append((out_dir / f"{a.id}-gradescope.zip", gradescope_entries(a)))
        planned.append((out_dir / f"{a.id}-otter.zip", otter_entries(a)))
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReleaseError(f"cannot create --out {out}: {exc.strerror or exc}") from None
    written = []
    for path, entries in planned:
        if path.is_dir() and not path.is_symlink():
            raise ReleaseError(f"cannot write {path}: a folder of that name is in the way")
        written.append(write_zip(path, entries))
    return written
