"""Release archives: what students download and what the grading platforms run.

``build_release(ids, out)`` writes, for every assignment id (all of them when ``ids``
is empty):

* ``<id>-student.zip``    the handout: stub module, README, public tests, the ``shared/``
  helpers they import, a ``conftest.py`` that runs the public tests in-process against the
  student's module, ``run_checks.py`` / ``grade.py check``, and a generated notebook
  ``<id>.ipynb``.  No file of ``solutions/`` or of a hidden suite, no reference function.
* ``<id>-gradescope.zip`` Gradescope's autograder format: ``setup.sh`` installs the pinned
  dependencies, ``run_autograder`` grades ``/autograder/submission`` through
  :func:`autograder.engine.grade_submission` (the same engine and workers as ``grade.py``).
* ``<id>-otter.zip``      the same grader for ``otter run -a <id>-otter.zip SUBMISSION``:
  one OK-format test file per task whose cases ask our engine for the result of one
  hidden test each.

Every student zip is scanned for leaks before anything is written (see
:func:`scan_for_leaks`); a leak raises :class:`LeakError` and no archive is produced.
Archives are byte-for-byte reproducible: fixed timestamps, sorted entries, normalised
permissions.  ``docs/release.md`` describes the archives for instructors.
"""
from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import pprint
import re
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import click

from autograder import ROOT, __version__, registry

TEMPLATES = Path(__file__).resolve().parent / "release_templates"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
SKIP_PARTS = {"__pycache__", ".hypothesis", ".pytest_cache", ".ipynb_checkpoints", ".git"}
SKIP_SUFFIXES = {".pyc", ".pyo"}
# tags of the notebook's check cells: engines and otter drop them when grading
CHECK_CELL_TAGS = ["check", "otter_ignore"]
BRIDGE_PATH = "tests/dl_bridge/bridge.py"


class LeakError(click.ClickException):
    """A student archive would contain hidden material; nothing was written."""

    def __init__(self, findings: list[str]):
        self.findings = list(findings)
        super().__init__("release stopped: the student archive would leak hidden material:\n  - "
                         + "\n  - ".join(self.findings)
                         + "\nRemove it from the handout (or, for a helper the handout may share with the "
                           "reference, list the function under [release] shared_functions in the "
                           "assignment.toml).")


@dataclass(frozen=True)
class Entry:
    """One file of an archive: where it goes, its bytes, and where it came from."""
    arcname: str
    data: bytes
    executable: bool = False
    source: Path | None = None      # the repository file it was copied from, if any


# ---- deterministic zips --------------------------------------------------------------
def zip_bytes(entries: list[Entry]) -> bytes:
    """A zip whose bytes depend only on the entries: sorted names, 1980-01-01 timestamps,
    0644 / 0755 permissions, no extra fields, fixed compression level."""
    names = [e.arcname for e in entries]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"duplicate archive entries: {dupes}")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for entry in sorted(entries, key=lambda e: e.arcname):
            info = zipfile.ZipInfo(entry.arcname, date_time=ZIP_EPOCH)
            info.create_system = 3                       # unix, so the mode bits are honoured
            info.external_attr = ((0o100755 if entry.executable else 0o100644) & 0xFFFF) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.extra = b""
            zf.writestr(info, entry.data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return buf.getvalue()


def write_zip(path: Path, entries: list[Entry]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(zip_bytes(entries))
    return path


def _wanted(path: Path) -> bool:
    return not (set(path.parts) & SKIP_PARTS) and path.suffix not in SKIP_SUFFIXES


def _tree(folder: Path, prefix: str, *, exclude: tuple[str, ...] = ()) -> list[Entry]:
    """Every file under ``folder`` (sorted, caches skipped) as entries under ``prefix``."""
    out = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = path.relative_to(folder)
        if not _wanted(rel) or any(rel.as_posix() == x or rel.as_posix().startswith(x + "/") for x in exclude):
            continue
        out.append(_file(path, f"{prefix}{rel.as_posix()}"))
    return out


def _file(path: Path, arcname: str, executable: bool | None = None) -> Entry:
    if executable is None:
        executable = path.suffix == ".sh" or bool(path.stat().st_mode & 0o111) and path.suffix != ".py"
    return Entry(arcname, path.read_bytes(), executable, path.resolve())


def _template(name: str, arcname: str, executable: bool = False, **subs: str) -> Entry:
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    for key, value in subs.items():
        text = text.replace("{{" + key + "}}", value)
    return Entry(arcname, text.encode("utf-8"), executable, (TEMPLATES / name).resolve())


def _json_bytes(data) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")


# ---- the student zip -----------------------------------------------------------------
def _shared_modules_needed(sources: list[str]) -> list[Path]:
    """The files of ``shared/`` that these sources import, followed transitively."""
    shared_dir = ROOT / "shared"
    needed: set[Path] = {shared_dir / "__init__.py"}
    queue = list(sources)
    seen_files: set[Path] = set()

    def resolve(dotted: str) -> list[Path]:
        parts = dotted.split(".")
        if parts[0] != "shared":
            return []
        base = shared_dir.joinpath(*parts[1:])
        found = []
        if base.with_suffix(".py").is_file():
            found.append(base.with_suffix(".py"))
        elif (base / "__init__.py").is_file():
            found.append(base / "__init__.py")
        return found

    while queue:
        src = queue.pop()
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            targets: list[Path] = []
            if isinstance(node, ast.Import):
                for alias in node.names:
                    targets += resolve(alias.name)
            elif isinstance(node, ast.ImportFrom):
                mod = node.module or ""
                if node.level:             # relative import inside shared/
                    mod = "shared" + ("." + mod if mod else "")
                targets += resolve(mod)
                for alias in node.names:   # from shared import compare
                    targets += resolve(f"{mod}.{alias.name}")
            for t in targets:
                for parent in t.relative_to(shared_dir).parents:   # packages along the way
                    init = shared_dir / parent / "__init__.py"
                    if init.is_file():
                        needed.add(init)
                needed.add(t)
                if t not in seen_files:
                    seen_files.add(t)
                    queue.append(t.read_text(encoding="utf-8"))
    return sorted(needed)


def _assignment_info(a: registry.Assignment) -> dict:
    return {"id": a.id, "title": a.title, "module": a.module, "functions": list(a.functions),
            "classes": list(a.classes), "timeout": a.timeout, "threads": a.threads,
            "grader_version": __version__}


def student_entries(a: registry.Assignment) -> list[Entry]:
    """Everything a student gets, under the folder ``<id>/``."""
    prefix = f"{a.id}/"
    if not a.stub_path.is_file():
        raise click.ClickException(f"{a.id}: the stub {a.stub_path.relative_to(ROOT)} is missing")
    ours = {"conftest.py", "pytest.ini", "run_checks.py", "grade.py", "assignment.json", "requirements.txt",
            f"{a.module}.ipynb"}
    handout = [e for e in _tree(a.handout_dir, prefix) if e.arcname.removeprefix(prefix) not in ours]
    entries = list(handout)
    entries += [
        _template("student_conftest.py", prefix + "conftest.py"),
        _template("student_pytest.ini", prefix + "pytest.ini"),
        _template("student_run_checks.py", prefix + "run_checks.py"),
        _template("student_grade.py", prefix + "grade.py"),
        Entry(prefix + "assignment.json", _json_bytes(_assignment_info(a))),
        Entry(prefix + "requirements.txt", _requirements().encode("utf-8")),
        Entry(prefix + f"{a.module}.ipynb", make_notebook(a)),
    ]
    py_sources = [e.data.decode("utf-8", "replace") for e in entries if e.arcname.endswith(".py")]
    for path in _shared_modules_needed(py_sources):
        entries.append(_file(path, prefix + "shared/" + path.relative_to(ROOT / "shared").as_posix(), False))
    return entries


# ---- the notebook handout ------------------------------------------------------------
def _readme_sections(text: str) -> list[str]:
    """README split before every level-1/2/3 heading (outside fenced code)."""
    sections, current, fenced = [], [], False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        if not fenced and re.match(r"#{1,3} ", line) and any(x.strip() for x in current):
            sections.append("\n".join(current).strip("\n"))
            current = []
        current.append(line)
    if any(x.strip() for x in current):
        sections.append("\n".join(current).strip("\n"))
    return sections


def _stub_chunks(source: str) -> tuple[str, list[tuple[str, str]], str]:
    """(header, [(name, source of each top-level def/class)], trailer) of a module."""
    tree = ast.parse(source)
    lines = source.splitlines()
    defs = [n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    if not defs:
        return source.strip("\n"), [], ""

    def start(node):
        return min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1

    header = "\n".join(lines[:start(defs[0])]).strip("\n")
    chunks = []
    for i, node in enumerate(defs):
        end = start(defs[i + 1]) if i + 1 < len(defs) else node.end_lineno
        chunks.append((node.name, "\n".join(lines[start(node):end]).strip("\n")))
    trailer = "\n".join(lines[defs[-1].end_lineno:]).strip("\n")
    return header, chunks, trailer


def _check_cell_source(name: str) -> str:
    return (f"# Check {name}: runs the public tests for it on the definitions above, in this kernel.\n"
            "# (Only in Jupyter: skipped when this notebook is graded.)\n"
            "if __name__ == \"__main__\":\n"
            "    from run_checks import check\n"
            f"    check({name!r}, globals())")


def make_notebook(a: registry.Assignment) -> bytes:
    """The notebook handout: README text in markdown cells, the stub split into one code
    cell per function or class, and after each public one a check cell."""
    import nbformat
    from nbformat import v4

    stub = a.stub_path.read_text(encoding="utf-8")
    readme_path = a.handout_dir / "README.md"
    readme = readme_path.read_text(encoding="utf-8") if readme_path.is_file() else f"# {a.title}\n"
    header, chunks, trailer = _stub_chunks(stub)
    public = set(a.functions) | set(a.classes)

    cells = []

    def md(text):
        cells.append(v4.new_markdown_cell(text))

    def code(text, tags=None):
        cell = v4.new_code_cell(text)
        if tags:
            cell.metadata["tags"] = list(tags)
        cells.append(cell)

    md(f"**How to use this notebook.** The handout text (`README.md`) comes first, then your code: "
       f"one code cell per function. After each function, its *check cell* runs the public tests for "
       f"it on what you defined in this notebook. Keep this notebook next to the other files of the "
       f"handout (`run_checks.py`, `test_public.py`, `shared/`).\n\n"
       f"Submit either this notebook or `{a.module}.py`. Public tests passing does not mean full "
       f"marks: the grader also runs hidden tests. `python run_checks.py --notebook {a.module}.ipynb` "
       f"checks the saved notebook exactly as it will be graded.")
    for section in _readme_sections(readme):
        md(section)
    md(f"## Your code\n\nThe cells below are `{a.module}.py`: run the first one (imports), then "
       "implement each function and run its check cell.")
    if header:
        code(header)
    for name, src in chunks:
        node = next(n for n in ast.parse(src).body if getattr(n, "name", None) == name)
        doc = (ast.get_docstring(node) or "").strip().splitlines()
        md(f"### `{name}`" + (f": {doc[0]}" if doc else ""))
        code(src)
        if name in public:
            code(_check_cell_source(name), CHECK_CELL_TAGS)
    if trailer:
        code(trailer)

    for i, cell in enumerate(cells):
        cell["id"] = f"cell-{i:03d}"            # nbformat would draw random ids
    nb = v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "dl_autograder": {"assignment": a.id, "module": a.module, "grader_version": __version__},
    })
    nbformat.validate(nb)
    return nbformat.writes(nb).encode("utf-8") + b"\n"


# ---- leak scanner --------------------------------------------------------------------
def _without_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        return body[1:]
    return body


def _is_trivial(body: list[ast.stmt]) -> bool:
    """Bodies a stub and a reference may share: pass, ..., raise NotImplementedError, return None."""
    for stmt in body:
        if isinstance(stmt, ast.Pass):
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue
        if isinstance(stmt, ast.Return) and (stmt.value is None or
                                             (isinstance(stmt.value, ast.Constant) and stmt.value.value is None)):
            continue
        if isinstance(stmt, ast.Raise) and stmt.exc is not None:
            exc = stmt.exc.func if isinstance(stmt.exc, ast.Call) else stmt.exc
            if isinstance(exc, ast.Name) and exc.id == "NotImplementedError":
                continue
        return False
    return True


def function_fingerprints(source: str) -> dict[str, list[str]]:
    """Normalised body -> names of the functions with that body.  The normal form is the
    AST dump of the body without its docstring: comments, formatting, docstrings, the
    function's name and signature do not matter.  Trivial bodies are left out."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    out: dict[str, list[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = _without_docstring(node.body)
            if _is_trivial(body):
                continue
            key = ast.dump(ast.Module(body=body, type_ignores=[]))
            out.setdefault(hashlib.sha256(key.encode()).hexdigest(), []).append(node.name)
    return out


def _python_sources(entry: Entry) -> list[str]:
    """The Python code inside an archive entry: a .py file, notebook code cells, or the
    fenced python blocks of a markdown file."""
    name = entry.arcname
    text = entry.data.decode("utf-8", "replace")
    if name.endswith(".py"):
        return [text]
    if name.endswith(".ipynb"):
        try:
            nb = json.loads(text)
        except ValueError:
            return []
        cells = ["".join(c.get("source", "")) if isinstance(c.get("source"), list) else c.get("source", "")
                 for c in nb.get("cells", []) if c.get("cell_type") == "code"]
        return [c for c in cells] + ["\n".join(ln for ln in "\n\n".join(cells).splitlines()
                                               if not ln.lstrip().startswith(("%", "!")))]
    if name.endswith(".md"):
        return re.findall(r"```(?:python|py)?\s*\n(.*?)```", text, flags=re.S)
    return []


@dataclass
class Secrets:
    file_hashes: dict[str, str]                  # sha256 -> repository path
    functions: dict[str, str]                    # fingerprint -> "path: name"
    roots: tuple[Path, ...]


def collect_secrets() -> Secrets:
    """What must never reach a student: every file under solutions/ and the hidden suites
    (mutants included), and the function bodies of references and mutants."""
    roots = (ROOT / "solutions", registry.SUITES_DIR)
    hashes, functions = {}, {}
    for root in roots:
        if not root.is_dir():
            continue
        for path in sorted(p for p in root.rglob("*") if p.is_file() and _wanted(p.relative_to(root))):
            data = path.read_bytes()
            if data.strip():               # empty __init__.py files are not secrets
                hashes[hashlib.sha256(data).hexdigest()] = path.relative_to(ROOT).as_posix()
            if path.suffix == ".py" and (root.name == "solutions" or path.parent.name == "mutants"):
                for fp, names in function_fingerprints(data.decode("utf-8", "replace")).items():
                    functions.setdefault(fp, f"{path.relative_to(ROOT).as_posix()}: {names[0]}()")
    return Secrets(hashes, functions, tuple(r.resolve() for r in roots))


def _allowed_fingerprints(a: registry.Assignment | None) -> set[str]:
    if a is None:
        return set()
    allowed_names = set((a.extra.get("release") or {}).get("shared_functions", []))
    if not allowed_names or not a.stub_path.is_file():
        return set()
    tree_fps = {}
    for fp, names in function_fingerprints(a.stub_path.read_text(encoding="utf-8")).items():
        if set(names) & allowed_names:
            tree_fps[fp] = names
    return set(tree_fps)


def scan_for_leaks(entries: list[Entry], assignment: registry.Assignment | None = None,
                   secrets: Secrets | None = None) -> list[str]:
    """Findings (empty when clean) for the entries of a student archive."""
    secrets = secrets or collect_secrets()
    allowed = _allowed_fingerprints(assignment)
    findings = []
    for entry in sorted(entries, key=lambda e: e.arcname):
        if entry.source is not None:
            src = Path(entry.source).resolve()
            for root in secrets.roots:
                if root == src or root in src.parents:
                    findings.append(f"{entry.arcname} is copied from {src.relative_to(ROOT).as_posix()} "
                                    "(solutions/ and hidden suites never go to students)")
        digest = hashlib.sha256(entry.data).hexdigest()
        if digest in secrets.file_hashes:
            findings.append(f"{entry.arcname} has the same content as {secrets.file_hashes[digest]}")
        for source in _python_sources(entry):
            for fp, names in function_fingerprints(source).items():
                if fp in secrets.functions and fp not in allowed:
                    findings.append(f"{entry.arcname}: the body of {names[0]}() equals the reference / "
                                    f"mutant function {secrets.functions[fp]}")
    return sorted(set(findings))


# ---- the grader's source tree (Gradescope and otter) ---------------------------------
def _requirements() -> str:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    deps = data["project"]["dependencies"]
    return ("# runtime dependencies of dl-autograder (from pyproject.toml)\n"
            "--extra-index-url https://download.pytorch.org/whl/cpu\n" + "\n".join(deps) + "\n")


def grader_source_entries(a: registry.Assignment, prefix: str = "") -> list[Entry]:
    """The engine, this assignment's hidden suite and reference, shared/ and the handout:
    what ``autograder.engine.grade_submission`` needs, with ``ROOT`` at the archive root."""
    entries = []
    pkg = ROOT / "autograder"
    for path in sorted(p for p in pkg.rglob("*") if p.is_file()):
        rel = path.relative_to(pkg)
        if not _wanted(rel) or rel.parts[0] == "release_templates":
            continue
        if rel.parts[0] == "suites" and len(rel.parts) > 2 and rel.parts[1] != a.id:
            continue                                   # other assignments' suites
        if rel.parts[0] == "suites" and len(rel.parts) > 2 and rel.parts[2] == "mutants":
            continue                                   # validation only
        entries.append(_file(path, f"{prefix}autograder/{rel.as_posix()}", False))
    entries += _tree(ROOT / "shared", f"{prefix}shared/")
    entries += _tree(a.solution_dir, f"{prefix}solutions/{a.id}/")
    entries += _tree(a.handout_dir, f"{prefix}assignments/{a.id}/")
    for name in ("conftest.py", "pyproject.toml", "grade.py", "README.md"):
        if (ROOT / name).is_file():
            entries.append(_file(ROOT / name, prefix + name, False))
    info = _assignment_info(a)
    entries += [
        Entry(prefix + "release.json", _json_bytes({"assignment": a.id, "module": a.module,
                                                    "grader_version": __version__, "title": a.title,
                                                    "functions": info["functions"]})),
        Entry(prefix + "requirements.txt", _requirements().encode("utf-8")),
        _template("dl_run.py", prefix + "dl_run.py"),
        _template("setup.sh", prefix + "setup.sh", executable=True),
    ]
    return entries


def gradescope_entries(a: registry.Assignment) -> list[Entry]:
    return grader_source_entries(a) + [_template("run_autograder", "run_autograder", executable=True)]


# ---- otter-grader --------------------------------------------------------------------
_COLLECT = r"""
import json, sys
import pytest
from autograder import plugin, results

found = []

class Collector:
    def pytest_collection_finish(self, session):
        outcomes = [plugin._describe(item) for item in session.items]
        numbers = results._numbers(outcomes)
        for item, o, number in zip(session.items, outcomes, numbers):
            found.append({"name": o.name, "number": number, "task": o.number, "points": o.points,
                          "visibility": o.visibility, "cuda": item.get_closest_marker("cuda") is not None})

rc = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider", sys.argv[1]], plugins=[Collector()])
with open(sys.argv[2], "w") as fh:
    json.dump({"rc": int(rc), "items": found}, fh)
"""


def hidden_tests(a: registry.Assignment) -> list[dict]:
    """The graded items of the hidden suite (name, number, points, visibility), in the
    order and numbering of results.json, found by collecting the suite (nothing runs)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "items.json"
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
        proc = subprocess.run([sys.executable, "-c", _COLLECT, str(a.suite_dir), str(out)], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=600)
        if not out.is_file():
            raise click.ClickException(f"{a.id}: could not collect the hidden suite:\n{proc.stdout[-2000:]}"
                                       f"{proc.stderr[-2000:]}")
        data = json.loads(out.read_text())
    if data["rc"] != 0:
        raise click.ClickException(f"{a.id}: collecting the hidden suite failed (pytest exit {data['rc']}):\n"
                                   f"{proc.stdout[-2000:]}")
    return data["items"]


def _otter_case(item: dict) -> dict:
    code = ("import os, runpy, sys\n"
            f"_dl_bridge = next(os.path.join(d or '.', {BRIDGE_PATH!r}) for d in [os.getcwd(), *sys.path] "
            f"if os.path.isfile(os.path.join(d or '.', {BRIDGE_PATH!r})))\n"
            f"runpy.run_path(_dl_bridge)['passed']({item['number']!r}, {item['name']!r})")
    lines = code.splitlines()
    doctest = "\n".join(">>> " + ln for ln in lines) + "\nTrue"
    return {"name": f"{item['number']} {item['name']}", "code": doctest, "hidden": item["visibility"] != "visible",
            "locked": False, "points": float(item["points"]),
            "failure_message": f"{item['number']} {item['name']}: failed (see the feedback above)"}


def otter_test_files(a: registry.Assignment, items: list[dict] | None = None) -> list[Entry]:
    """One OK-format test file per task; one case per graded hidden item, worth its points.
    CUDA items are left out (the platforms grade on CPU, where they are skipped and not counted)."""
    items = hidden_tests(a) if items is None else items
    by_task: dict[str, list[dict]] = {}
    for item in items:
        if item["cuda"] or item["points"] <= 0:
            continue
        by_task.setdefault(item["task"] or "0", []).append(item)
    entries = []
    for task, its in by_task.items():
        spec = {"name": f"task {task}", "points": None,
                "suites": [{"type": "doctest", "scored": True, "setup": "", "teardown": "",
                            "cases": [_otter_case(i) for i in its]}]}
        text = ("# Generated by autograder.release: each case asks the dl-autograder engine for the\n"
                "# result of one hidden test (see tests/dl_bridge/bridge.py).\n"
                f"OK_FORMAT = True\n\ntest = {pprint.pformat(spec, indent=1, width=110, sort_dicts=False)}\n")
        slug = re.sub(r"[^0-9A-Za-z]+", "_", task).strip("_") or "0"
        entries.append(Entry(f"tests/task_{slug}.py", text.encode("utf-8")))
    return entries


def otter_entries(a: registry.Assignment, items: list[dict] | None = None) -> list[Entry]:
    config = {"lang": "python", "print_summary": True, "show_stdout": False, "zips": False}
    return grader_source_entries(a) + otter_test_files(a, items) + [
        Entry("otter_config.json", _json_bytes(config)),
        _template("otter_bridge.py", BRIDGE_PATH),
    ]


# ---- the release ---------------------------------------------------------------------
def build_release(ids: list[str] | tuple[str, ...], out: Path) -> list[Path]:
    """Write the three archives of each assignment into ``out``; return their paths.
    Every student archive is scanned first: on a leak nothing is written."""
    assignments = [registry.get(i) for i in ids] if ids else list(registry.all_assignments())
    secrets = collect_secrets()
    students = {a.id: student_entries(a) for a in assignments}
    findings = [f"{a.id}-student.zip: {f}" for a in assignments
                for f in scan_for_leaks(students[a.id], a, secrets)]
    if findings:
        raise LeakError(findings)
    planned: list[tuple[Path, list[Entry]]] = []
    for a in assignments:
        planned.append((Path(out) / f"{a.id}-student.zip", students[a.id]))
        planned.append((Path(out) / f"{a.id}-gradescope.zip", gradescope_entries(a)))
        planned.append((Path(out) / f"{a.id}-otter.zip", otter_entries(a)))
    return [write_zip(path, entries) for path, entries in planned]
