"""The leak scanner: nothing of ``solutions/`` or of a hidden suite may reach a student.

An entry leaks when it is copied from those trees, has the same bytes as a file there,
holds a function whose body equals a reference's or a mutant's (as built from its overlay),
or holds a mutant overlay's ``edit(...)`` call (which quotes the reference).  Archives inside an entry
(zip, tar, gzip/bz2/xz, found by their bytes, not their names) are opened and their
members scanned the same way, nested ones too.
"""
from __future__ import annotations

import ast
import bz2
import gzip
import hashlib
import io
import lzma
import re
import tarfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder import ROOT, registry
from autograder.mutant_edits import edit_arguments
from autograder.release.archive import Entry, wanted
from shared.handout import HandoutError, clean_cell, code_cells

MAX_DEPTH = 4                    # archives inside archives inside ...
MAX_UNPACKED = 512 << 20         # bytes unpacked from the archives of one entry


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
    except (SyntaxError, ValueError):
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


def edit_fingerprints(source: str) -> dict[str, str]:
    """``edit("NAME", "OLD", "NEW")`` calls (mutant overlays, see autograder/mutant_edits.py)
    anywhere in ``source`` -> NAME; formatting and the quotes used do not matter."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return {}
    calls = [args for args in map(edit_arguments, ast.walk(tree)) if args is not None]
    return {hashlib.sha256(repr(args).encode()).hexdigest(): args[0] for args in calls}


def python_sources(entry: Entry) -> list[str]:
    """The Python code inside an archive entry: a .py file, every notebook code cell (check
    cells too, raw and without magics, the body of a ``%%`` cell), the fenced python blocks
    of a markdown file, or any other file that parses as Python (a renamed module)."""
    name = entry.arcname
    text = entry.data.decode("utf-8", "replace")
    if name.endswith(".py"):
        return [text]
    if name.endswith(".ipynb"):
        try:
            cells = [src for src, _ in code_cells(entry.data, name)]
        except HandoutError:
            return []
        bodies = ["\n".join(c.lstrip().splitlines()[1:]) for c in cells if c.lstrip().startswith("%%")]
        cleaned = [clean_cell(c) for c in cells]
        return cells + cleaned + bodies + ["\n\n".join(cleaned)]
    if name.endswith(".md"):
        return re.findall(r"```(?:python|py)?\s*\n(.*?)```", text, flags=re.S)
    try:                                          # any other name: Python if it parses as Python
        entry.data.decode("utf-8")
        ast.parse(text)
    except (UnicodeDecodeError, SyntaxError, ValueError):
        return []
    return [text]


# ---- archives inside entries ---------------------------------------------------------
class _Budget:
    def __init__(self):
        self.left = MAX_UNPACKED

    def take(self, n: int, where: str) -> None:
        self.left -= n
        if self.left < 0:
            raise ValueError(f"{where}: unpacks to more than {MAX_UNPACKED >> 20} MB")


def _members(entry: Entry, budget: _Budget) -> list[Entry] | None:
    """The members of an entry that is an archive (None when it is not one)."""
    data, name = entry.data, entry.arcname
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            out = []
            for info in zf.infolist():
                if info.is_dir():
                    continue
                budget.take(info.file_size, name)
                out.append(Entry(f"{name}!/{info.filename}", zf.read(info)))
            return out
    try:
        tf = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")
    except (tarfile.TarError, EOFError, OSError, lzma.LZMAError):
        tf = None
    if tf is not None:
        with tf:
            out = []
            for member in tf.getmembers():
                if member.isfile():
                    budget.take(member.size, name)
                    out.append(Entry(f"{name}!/{member.name}", tf.extractfile(member).read()))
            return out
    for magic, module in ((b"\x1f\x8b", gzip), (b"BZh", bz2), (b"\xfd7zXZ\x00", lzma)):
        if data.startswith(magic):
            with module.open(io.BytesIO(data)) as stream:
                inner = stream.read(budget.left + 1)            # never more than the budget
            budget.take(len(inner), name)
            stem = re.sub(r"\.(gz|tgz|bz2|xz)$", "", name) if re.search(r"\.(gz|tgz|bz2|xz)$", name) else name
            return [Entry(f"{name}!/{Path(stem).name}", inner)]
    return None


def expand(entries: list[Entry]) -> tuple[list[Entry], list[str]]:
    """The entries plus every member of the archives among them (nested ones too), and
    the findings for archives that could not be opened completely."""
    out, problems = [], []
    for entry in entries:
        budget = _Budget()
        todo = [(entry, 0)]
        while todo:
            current, depth = todo.pop()
            out.append(current)
            try:
                members = _members(current, budget)
            except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError, ValueError, RuntimeError,
                    lzma.LZMAError, NotImplementedError) as exc:
                problems.append(f"{current.arcname} looks like an archive but cannot be opened to be scanned "
                                f"({exc}); leave it out of the handout")
                continue
            if members is None:
                continue
            if depth + 1 > MAX_DEPTH:
                problems.append(f"{current.arcname}: archives nested more than {MAX_DEPTH} deep cannot be scanned")
                continue
            todo += [(m, depth + 1) for m in members]
    return out, problems


# ---- secrets and the scan ------------------------------------------------------------
@dataclass
class Secrets:
    file_hashes: dict[str, str]                  # sha256 -> repository path
    functions: dict[str, str]                    # fingerprint -> "path: name"
    roots: tuple[Path, ...]
    edits: dict[str, str] = field(default_factory=dict)   # fingerprint -> "path: NAME" of an edit(...)


def _built_mutants() -> list[tuple[Path, str]]:
    """(overlay path, the full module it builds to) of every mutant that builds."""
    from autograder.mutants import MutantError, build_file
    out = []
    for a in registry.all_assignments():
        for path in a.mutants():
            try:
                out.append((path, build_file(a, path).source))
            except (MutantError, OSError):           # validate and `mutants check` report those
                continue
    return out


def collect_secrets() -> Secrets:
    """What must never reach a student: every file under solutions/ and the hidden suites
    (mutants included), the function bodies of references and of built mutants, and the
    edit(...) calls of mutant overlays."""
    roots = (ROOT / "solutions", registry.SUITES_DIR)
    hashes, functions, edits = {}, {}, {}
    for root in roots:
        if not root.is_dir():
            continue
        for path in sorted(p for p in root.rglob("*") if p.is_file() and wanted(p.relative_to(root))):
            try:
                data = path.read_bytes()
            except FileNotFoundError:      # removed while we looked (an editor's temporary file)
                continue
            if data.strip():               # empty __init__.py files are not secrets
                hashes[hashlib.sha256(data).hexdigest()] = path.relative_to(ROOT).as_posix()
            if path.suffix == ".py" and (root.name == "solutions" or path.parent.name == "mutants"):
                for fp, names in function_fingerprints(data.decode("utf-8", "replace")).items():
                    functions.setdefault(fp, f"{path.relative_to(ROOT).as_posix()}: {names[0]}()")
            if path.suffix == ".py" and path.parent.name == "mutants":
                for fp, target in edit_fingerprints(data.decode("utf-8", "replace")).items():
                    edits.setdefault(fp, f"{path.relative_to(ROOT).as_posix()}: {target}")
    for path, built in _built_mutants():         # the reference's own bodies are already in
        for fp, names in function_fingerprints(built).items():
            functions.setdefault(fp, f"{path.relative_to(ROOT).as_posix()} (built): {names[0]}()")
    return Secrets(hashes, functions, tuple(r.resolve() for r in roots), edits)


def _allowed_fingerprints(a: registry.Assignment | None) -> set[str]:
    """Bodies the stub may share with the reference: ``[release] shared_functions``."""
    if a is None or not a.release.shared_functions or not a.stub_path.is_file():
        return set()
    allowed_names = set(a.release.shared_functions)
    return {fp for fp, names in function_fingerprints(a.stub_path.read_text(encoding="utf-8")).items()
            if set(names) & allowed_names}


def scan_for_leaks(entries: list[Entry], assignment: registry.Assignment | None = None,
                   secrets: Secrets | None = None) -> list[str]:
    """Findings (empty when clean) for the entries of a student archive."""
    secrets = secrets or collect_secrets()
    allowed = _allowed_fingerprints(assignment)
    everything, findings = expand(sorted(entries, key=lambda e: e.arcname))
    for entry in everything:
        if entry.source is not None:
            src = Path(entry.source).resolve()
            for root in secrets.roots:
                if root == src or root in src.parents:
                    findings.append(f"{entry.arcname} is copied from {src.relative_to(ROOT).as_posix()} "
                                    "(solutions/ and hidden suites never go to students)")
        digest = hashlib.sha256(entry.data).hexdigest()
        if digest in secrets.file_hashes:
            findings.append(f"{entry.arcname} has the same content as {secrets.file_hashes[digest]}")
        for source in python_sources(entry):
            for fp, names in function_fingerprints(source).items():
                if fp in secrets.functions and fp not in allowed:
                    findings.append(f"{entry.arcname}: the body of {names[0]}() equals the reference / "
                                    f"mutant function {secrets.functions[fp]}")
            for fp, target in edit_fingerprints(source).items():
                if fp in secrets.edits:
                    findings.append(f"{entry.arcname}: edit({target!r}, ...) is the mutant overlay's "
                                    f"{secrets.edits[fp]}")
    return sorted(set(findings))
