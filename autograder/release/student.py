"""The student archive ``<id>-student.zip``, built from an explicit list of allowed files
(never by walking a folder): the stub, the README(s) (``README.md`` and ``README.ko.md``),
the public tests, the generated files, the modules of ``shared/`` they import and, with
``shared/i18n.py``, its compiled catalogues (``shared/locale/<lang>/LC_MESSAGES/shared.mo``)."""
from __future__ import annotations

import ast
from pathlib import Path

from autograder import ROOT, registry
from autograder.release.archive import (Entry, ReleaseError, SKIP_PARTS, assignment_info, file_entry,
                                        json_bytes, requirements_txt, template_entry)
from autograder.release.notebook import make_notebook
from shared.handout import GENERATED_FILES

SHARED_DIR = ROOT / "shared"
# the generated files of the handout (names from shared.handout.GENERATED_FILES) -> template
TEMPLATE_OF = {"conftest.py": "student_conftest.py", "pytest.ini": "student_pytest.ini",
               "run_checks.py": "student_run_checks.py", "grade.py": "student_grade.py"}


def handout_files(a: registry.Assignment) -> list[Path]:
    """The files of ``assignments/<id>/`` a student gets: the stub ``<module>.py``, the
    README(s) (``README.md``, ``README.ko.md``, ...) and the public tests ``test_*.py``."""
    if not a.stub_path.is_file():
        raise ReleaseError(f"{a.id}: the stub {a.stub_path.relative_to(ROOT)} is missing")
    files = {a.stub_path, *a.handout_dir.glob("README*.md"), *a.public_tests()}
    return sorted(files, key=lambda p: p.name)


def left_out(a: registry.Assignment) -> list[str]:
    """Files of ``assignments/<id>/`` that are not handout files (and so not shipped)."""
    shipped = set(handout_files(a))
    return sorted(p.relative_to(a.handout_dir).as_posix() for p in a.handout_dir.rglob("*")
                  if (p.is_file() or p.is_symlink()) and p not in shipped
                  and not (set(p.relative_to(a.handout_dir).parts) & SKIP_PARTS))


def generated_entries(a: registry.Assignment, prefix: str) -> list[Entry]:
    data = {"assignment.json": json_bytes(assignment_info(a)),
            "requirements.txt": requirements_txt().encode("utf-8")}
    entries = []
    for name in GENERATED_FILES:
        if name in TEMPLATE_OF:
            entries.append(template_entry(TEMPLATE_OF[name], prefix + name))
        else:
            entries.append(Entry(prefix + name, data[name]))
    return entries + [Entry(prefix + f"{a.module}.ipynb", make_notebook(a))]


def shared_modules_needed(sources: list[str]) -> list[Path]:
    """The files of ``shared/`` that these sources import, followed transitively."""
    needed: set[Path] = {SHARED_DIR / "__init__.py"}
    queue = list(sources)
    seen_files: set[Path] = set()

    def resolve(dotted: str) -> list[Path]:
        parts = dotted.split(".")
        if parts[0] != "shared":
            return []
        base = SHARED_DIR.joinpath(*parts[1:])
        if base.with_suffix(".py").is_file():
            return [base.with_suffix(".py")]
        if (base / "__init__.py").is_file():
            return [base / "__init__.py"]
        return []

    while queue:
        try:
            tree = ast.parse(queue.pop())
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
                for parent in t.relative_to(SHARED_DIR).parents:   # packages along the way
                    init = SHARED_DIR / parent / "__init__.py"
                    if init.is_file():
                        needed.add(init)
                needed.add(t)
                if t not in seen_files:
                    seen_files.add(t)
                    queue.append(t.read_text(encoding="utf-8"))
    return sorted(needed)


def catalogues_needed(modules: list[Path]) -> list[Path]:
    """The compiled message catalogues of ``shared/`` (one per language other than English)
    when ``shared/i18n.py`` is among ``modules``: the feedback's Korean text."""
    if SHARED_DIR / "i18n.py" not in modules:
        return []
    from shared.i18n import DEFAULT, LANGUAGES, LOCALE_DIR
    found = []
    for lang in LANGUAGES:
        if lang == DEFAULT:
            continue
        mo = LOCALE_DIR / lang / "LC_MESSAGES" / "shared.mo"
        if not mo.is_file():
            raise ReleaseError(f"{mo.relative_to(ROOT)} is missing: compile the catalogues first "
                               "(docs/authoring.md, \"Translations\")")
        found.append(mo)
    return found


def student_entries(a: registry.Assignment) -> list[Entry]:
    """Everything a student gets, under the folder ``<id>/``."""
    prefix = f"{a.id}/"
    entries = [file_entry(p, prefix + p.name, False) for p in handout_files(a)]
    entries += generated_entries(a, prefix)
    py_sources = [e.data.decode("utf-8", "replace") for e in entries if e.arcname.endswith(".py")]
    modules = shared_modules_needed(py_sources)
    for path in modules + catalogues_needed(modules):
        entries.append(file_entry(path, prefix + "shared/" + path.relative_to(SHARED_DIR).as_posix(), False))
    return entries
