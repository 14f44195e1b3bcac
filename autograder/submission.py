"""Turning whatever a student handed in into a folder holding ``<module>.py``.

Accepted: a ``.py`` file, a folder, a ``.zip`` and a Jupyter notebook (``.ipynb``; code
cells are taken with nbformat, IPython magics and shell lines are dropped).  Nothing
here executes student code; the source is only compiled to report syntax errors early.
Every problem is a :class:`LoadError` whose message is shown to the student.
"""
from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import nbformat

MAX_ZIP_BYTES = 100 << 20        # uncompressed total
MAX_ZIP_FILES = 2000
MAX_FILE_BYTES = 20 << 20
IGNORED = {"__MACOSX", "__pycache__", ".ipynb_checkpoints", ".git"}
# Files of the student handout that a student may hand back with their work: the grader
# has its own copies, so theirs are dropped (a submitted shared/ must never shadow ours).
from shared import handout  # noqa: E402  (the conversion and discovery rules run_checks.py uses too)
from shared.handout import HANDOUT_FILES  # noqa: E402


class LoadError(Exception):
    """The submission cannot be graded; the message names the problem for the student."""


def submission_name(path: Path) -> str:
    path = Path(path)
    return path.name if path.is_dir() else path.stem


def notebook_to_source(path: Path) -> str:
    """The module a notebook is graded as (``shared.handout.notebook_to_source``: the same
    conversion as the handout's ``run_checks.py --notebook``)."""
    try:
        return handout.notebook_to_source(Path(path).read_bytes(), Path(path).name)
    except handout.HandoutError as exc:
        raise LoadError(str(exc)) from None


def check_syntax(source: str, filename: str) -> None:
    try:
        compile(source, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = f" at line {exc.lineno}" if exc.lineno else ""
        text = f": {exc.text.strip()}" if exc.text else ""
        raise LoadError(f"syntax error in {filename}{where}: {exc.msg}{text}") from None
    except ValueError as exc:              # e.g. null bytes
        raise LoadError(f"{filename} cannot be compiled: {exc}") from None


def _read_source(path: Path) -> str:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise LoadError(f"{path.name} is larger than {MAX_FILE_BYTES >> 20} MB")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise LoadError(f"{path.name} is not UTF-8 text") from None


def _extract_zip(path: Path, dest: Path) -> Path:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise LoadError(f"{path.name} is not a valid zip file ({exc})") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_FILES:
            raise LoadError(f"{path.name} holds {len(infos)} files (at most {MAX_ZIP_FILES})")
        if sum(i.file_size for i in infos) > MAX_ZIP_BYTES:
            raise LoadError(f"{path.name} unpacks to more than {MAX_ZIP_BYTES >> 20} MB")
        root = dest.resolve()
        for info in infos:
            target = (dest / info.filename).resolve()
            if root not in target.parents and target != root:
                continue                   # absolute paths and '..' never leave the folder
            if any(part in IGNORED for part in Path(info.filename).parts):
                continue
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with archive.open(info) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
            except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
                raise LoadError(f"{path.name} is corrupt: cannot read {info.filename} ({exc})") from None
    return dest


def _find_module_in(folder: Path, module: str) -> Path:
    """The file to grade inside a folder, by the handout rule (``shared.handout.find_module``):
    <module>.py, else a single notebook, else a single .py; a linked file is refused."""
    try:
        return handout.find_module(folder, module)
    except handout.HandoutError as exc:
        raise LoadError(str(exc)) from None


def materialize(submission: Path, module: str, dest: Path) -> Path:
    """Copy a submission into ``dest`` (a new folder) as ``dest/<module>.py`` plus any
    helper files next to it.  Returns the path of ``<module>.py``."""
    submission = Path(submission)
    dest.mkdir(parents=True, exist_ok=True)
    if not submission.exists():
        raise LoadError(f"{submission.name} does not exist")
    if submission.is_dir():
        found = _find_module_in(submission, module)
        folder = found.parent
        for item in folder.iterdir():
            if item.name in IGNORED or item.name in HANDOUT_FILES or item.name.startswith("."):
                continue
            if item.is_file() and item.stat().st_size <= MAX_FILE_BYTES and item.suffix != ".ipynb":
                shutil.copy2(item, dest / item.name)
            elif item.is_dir() and (item / "__init__.py").exists():
                shutil.copytree(item, dest / item.name, ignore=shutil.ignore_patterns(*IGNORED))
        return _write_module(found, module, dest)
    suffix = submission.suffix.lower()
    if suffix == ".zip":
        unpacked = _extract_zip(submission, dest.parent / (dest.name + "-unzipped"))
        return materialize(unpacked, module, dest)
    if suffix in (".py", ".ipynb"):
        return _write_module(submission, module, dest)
    raise LoadError(f"{submission.name}: unsupported submission type '{suffix or 'no extension'}' "
                    "(hand in a .py file, a folder, a .zip or a .ipynb notebook)")


def _write_module(path: Path, module: str, dest: Path) -> Path:
    source = notebook_to_source(path) if path.suffix.lower() == ".ipynb" else _read_source(path)
    check_syntax(source, path.name)
    target = dest / f"{module}.py"
    target.write_text(source, encoding="utf-8")
    return target
