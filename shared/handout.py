"""What the grader and the student handout must agree on, written once.

This file ships to students inside ``shared/`` (the handout's ``run_checks.py`` and
``conftest.py`` import it) and runs inside the grading platforms, so it uses only the
standard library.  It holds:

* :func:`notebook_to_source`: THE notebook -> module conversion (the grader's and
  ``run_checks.py --notebook``'s), so a student's check runs exactly what gets graded;
* :func:`find_module`: THE rule for which file of a folder is graded;
* :data:`MARKERS`: the pytest markers of graded tests, with their help texts;
* :data:`HANDOUT_FILES`: files of the handout a student may hand back (the grader ignores them);
* :func:`copy_regular_files`: copy an upload without ever reading through a symbolic link.

Every problem is a :class:`HandoutError` whose message is meant for the student.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
from pathlib import Path

# Notebook cells with one of these tags are not part of the graded module (check cells).
CHECK_TAGS = ("check", "otter_ignore")

MARKERS = {
    "task": "task(number): the handout task a test grades; required on hidden tests",
    "points": "points(value): points for each collected item of this test",
    "visibility": "visibility(value): Gradescope visibility (hidden|after_due_date|after_published|visible)",
    "tags": "tags(*names): labels copied to results.json",
    "cuda": "runs on a CUDA device; skipped with 'no CUDA device' when there is none",
    "slow": "takes more than a few seconds; still part of the default run",
}

# Files the release generates next to the stub in the student handout.
GENERATED_FILES = ("conftest.py", "pytest.ini", "run_checks.py", "grade.py", "assignment.json", "requirements.txt")
# Handout files a student may hand back with their work: the grader has its own copies,
# so theirs are ignored (a submitted shared/ must never shadow the grader's).
HANDOUT_FILES = frozenset({*GENERATED_FILES, "shared", "test_public.py"})
# Folders and files that are never part of a submission.
IGNORED_PARTS = frozenset({"__MACOSX", "__pycache__", ".ipynb_checkpoints", ".git"})


class HandoutError(Exception):
    """A notebook or a submission folder that cannot be used; the message names the problem."""


# ---- notebook -> module --------------------------------------------------------------
# A logical line that IPython would rewrite: `%magic`, `!shell`, `x = !ls`, `a, b = %sx ls`,
# or a call made through `get_ipython()` (what nbconvert writes for them).
_ESCAPED = re.compile(r"\s*(?:[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*)?[!%]")
_GET_IPYTHON = re.compile(r"\s*(?:[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*)?get_ipython\s*\(")
_STRING_START = re.compile(r"([rRbBuUfF]{0,2})('''|\"\"\"|'|\")")


class _Scanner:
    """Just enough of Python's tokenizer to know where logical lines start: strings,
    comments, brackets and backslash continuations (the same on every Python version)."""

    def __init__(self):
        self.depth, self.quote, self.continued = 0, None, False
        self.last = ""                                   # last character of code seen (":" opens a block)

    @property
    def at_statement_start(self) -> bool:
        return self.depth == 0 and self.quote is None and not self.continued

    def feed(self, line: str) -> None:
        i, n = 0, len(line)
        self.continued = comment = False
        while i < n:
            if self.quote:                               # inside a string
                if line[i] == "\\":
                    i += 2
                    continue
                if line.startswith(self.quote, i):
                    i, self.quote, self.last = i + len(self.quote), None, self.quote[0]
                    continue
                i += 1
                continue
            ch = line[i]
            if ch == "#":
                comment = True
                break
            match = _STRING_START.match(line, i)
            if match and (i == 0 or not (line[i - 1].isalnum() or line[i - 1] == "_") or not match.group(1)):
                self.quote, i = match.group(2), match.end()
                continue
            if ch in "([{":
                self.depth += 1
            elif ch in ")]}":
                self.depth = max(0, self.depth - 1)
            if not ch.isspace():
                self.last = ch
            i += 1
        if self.quote in ("'", '"'):                     # a one-line string ends with its line
            self.continued, self.quote = line.endswith("\\"), (self.quote if line.endswith("\\") else None)
        elif self.quote is None and not comment and line.endswith("\\"):
            self.continued = True


def _drop(line: str, scanner: _Scanner) -> list[str]:
    """A dropped statement leaves nothing, but ``pass`` when it is the first of a block (so
    that ``for f in files:`` / ``!rm {f}`` stays valid Python)."""
    indent = line[:len(line) - len(line.lstrip())]
    if indent and scanner.last == ":":
        scanner.last = "s"
        return [indent + "pass"]
    return []


def clean_cell(source: str) -> str:
    """One code cell as plain Python: a cell magic (``%%time``, ``%%bash``...) drops the whole
    cell; a logical line starting with ``%``, ``!``, ``x = !cmd`` or a ``get_ipython()`` call is
    dropped (``pass`` when it opens a block).  Lines inside strings are never touched."""
    lines = source.splitlines()
    first = next((ln for ln in lines if ln.strip()), "")
    if first.lstrip().startswith("%%"):
        return ""
    out: list[str] = []
    scanner = _Scanner()
    dropping = False                                      # inside a dropped multi-line statement
    escaped_continues = False                             # `!cmd \` goes on on the next line
    for line in lines:
        if escaped_continues:                              # the rest of a dropped statement
            escaped_continues = line.rstrip().endswith("\\")
            continue
        if dropping or not scanner.at_statement_start:
            scanner.feed(line)
            if dropping:
                dropping = not scanner.at_statement_start
            else:
                out.append(line)
            continue
        if _ESCAPED.match(line):
            escaped_continues = line.rstrip().endswith("\\")
            out += _drop(line, scanner)
            continue
        if _GET_IPYTHON.match(line):
            out += _drop(line, scanner)
            scanner.feed(line)
            dropping = not scanner.at_statement_start
        else:
            scanner.feed(line)
            out.append(line)
    return "\n".join(out)


def _cells(nb, name: str) -> list[dict]:
    if not isinstance(nb, dict):
        raise HandoutError(f"{name} is not a valid Jupyter notebook (it is not a JSON object)")
    cells = nb.get("cells")
    if cells is None and isinstance(nb.get("worksheets"), list):      # nbformat 3
        cells = [c for ws in nb["worksheets"] if isinstance(ws, dict) and isinstance(ws.get("cells"), list)
                 for c in ws["cells"]]
    if not isinstance(cells, list) or not all(isinstance(c, dict) for c in cells):
        raise HandoutError(f"{name} is not a valid Jupyter notebook (it has no list of cells)")
    return cells


def code_cells(text: str | bytes, name: str = "the notebook") -> list[tuple[str, tuple[str, ...]]]:
    """``(source, tags)`` of every code cell of a notebook file's text, in order."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise HandoutError(f"{name} is not a text file, so it cannot be a notebook") from None
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        raise HandoutError(f"{name} is not a valid notebook: it is not JSON ({exc.msg} at line {exc.lineno})") \
            from None
    out = []
    for i, cell in enumerate(_cells(nb, name)):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", cell.get("input", ""))
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise HandoutError(f"{name} is not a valid Jupyter notebook (cell {i + 1}: its source is not text)")
        metadata = cell.get("metadata")
        tags = (metadata.get("tags") if isinstance(metadata, dict) else None) or ()
        out.append((source, tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else ()))
    return out


def notebook_to_source(text: str | bytes, name: str = "the notebook") -> str:
    """The module a notebook is graded as: its code cells in order, cells tagged
    ``check``/``otter_ignore`` left out, each cleaned by :func:`clean_cell`."""
    chunks = [clean_cell(src) for src, tags in code_cells(text, name) if not set(tags) & set(CHECK_TAGS)]
    return "\n\n".join(c for c in chunks if c.strip()) + "\n"


# ---- which file of a folder is graded ------------------------------------------------
def _candidates(folder: Path, skip: frozenset[str]) -> list[Path]:
    """Files under ``folder`` that may be the submission, sorted by depth then path; folders
    reached through a symbolic link are never entered."""
    found = []
    for parent, dirs, files in os.walk(folder, followlinks=False):
        here = Path(parent)
        top = here == folder
        dirs[:] = sorted(d for d in dirs if not (d in IGNORED_PARTS or d in HANDOUT_FILES or d.startswith(".")
                                                 or (top and d in skip)))
        for f in files:
            if f in HANDOUT_FILES or f in IGNORED_PARTS or f.startswith(".") or f == "__init__.py" \
                    or (top and f in skip):
                continue
            found.append(here / f)
    return sorted(found, key=lambda p: (len(p.relative_to(folder).parts), p.relative_to(folder).as_posix()))


def find_module(folder: Path, module: str, skip=()) -> Path:
    """The file of ``folder`` that is graded: ``<module>.py`` (the shallowest), else the only
    ``<module>.ipynb``, else the only notebook, else the only ``.py`` file.  Handout files,
    ``__init__.py``, hidden and cache folders and the top-level names in ``skip`` are not
    candidates.  A chosen file that is a symbolic link is refused."""
    folder = Path(folder)
    files = _candidates(folder, frozenset(skip))
    chosen = next((p for p in files if p.name == f"{module}.py"), None)
    for rule in (lambda p: p.name == f"{module}.ipynb", lambda p: p.suffix == ".ipynb", lambda p: p.suffix == ".py"):
        if chosen is None:
            matching = [p for p in files if rule(p)]
            chosen = matching[0] if len(matching) == 1 else None
    if chosen is None:
        listing = ", ".join(p.relative_to(folder).as_posix() for p in files[:10])
        raise HandoutError(f"no {module}.py found in the submission (it contains: {listing or 'nothing'})")
    if chosen.is_symlink():
        raise HandoutError(f"{chosen.relative_to(folder).as_posix()} is a symbolic link: hand in the file itself")
    return chosen


def copy_regular_files(src: Path, dest: Path, skip=()) -> Path:
    """Copy the regular files and folders under ``src`` to ``dest`` (created), never reading
    through a link: a symbolic link or a special file anywhere (but in the top-level names
    of ``skip``, which are left out) is refused with :class:`HandoutError`."""
    src, dest = Path(src), Path(dest)
    if src.is_symlink() or not src.is_dir():
        raise HandoutError(f"the submission {src.name} is not a folder")
    dest.mkdir(parents=True, exist_ok=True)
    for entry in sorted(os.scandir(src), key=lambda e: e.name):
        if entry.name in skip:
            continue
        mode = entry.stat(follow_symlinks=False).st_mode
        rel = entry.name
        if stat.S_ISLNK(mode):
            raise HandoutError(f"{rel} is a symbolic link: hand in the files themselves, not links to them")
        if stat.S_ISDIR(mode):
            try:
                copy_regular_files(Path(entry.path), dest / entry.name)
            except HandoutError as exc:
                raise HandoutError(f"{rel}/{exc}") from None
        elif stat.S_ISREG(mode):
            shutil.copyfile(entry.path, dest / entry.name, follow_symlinks=False)
        else:
            raise HandoutError(f"{rel} is not a regular file")
    return dest
