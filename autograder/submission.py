"""Turning whatever a student handed in into a folder holding ``<module>.py``.

Accepted: a ``.py`` file, a folder, a ``.zip`` and a Jupyter notebook (``.ipynb``; code
cells are taken with nbformat, IPython magics and shell lines are dropped).  Nothing
here executes student code; the source is only compiled to report syntax errors early.
Every problem is a :class:`LoadError` whose message is shown to the student, in the
student's language (``LoadError.text(lang)``; the engine grades several submissions at once
in threads, so the language is the batch's, not the process's).
"""
from __future__ import annotations

import stat
import zipfile
import zlib
from pathlib import Path

from autograder import PACKAGE_DIR
from shared.i18n import N_, LazyText, add_domain, gettext, translator

add_domain("autograder", PACKAGE_DIR / "locale")          # idempotent (autograder.results does it too)

MAX_ZIP_BYTES = 100 << 20        # uncompressed total
MAX_ZIP_FILES = 2000
MAX_FILE_BYTES = 20 << 20
IGNORED = {"__MACOSX", "__pycache__", ".ipynb_checkpoints", ".git"}
# Files of the student handout that a student may hand back with their work: the grader
# has its own copies, so theirs are dropped (a submitted shared/ must never shadow ours).
from shared import handout  # noqa: E402  (the conversion and discovery rules run_checks.py uses too)
from shared.handout import HANDOUT_FILES  # noqa: E402

NOT_REGULAR = N_("{name} is a symbolic link or not a regular file: hand in the file itself")
TOO_LARGE = N_("{name} is larger than {mb} MB")
UNPACKS_TOO_LARGE = N_("{name} unpacks to more than {mb} MB")


class LoadError(Exception):
    """The submission cannot be graded; the message names the problem for the student.

    ``LoadError(N_("{name} is not UTF-8 text"), name=...)``: a catalogued message and its
    values, formatted when shown: ``str(exc)`` in the process's language (English unless
    set), ``exc.text(lang)`` in a given one.  A plain string is shown as it is."""

    def __init__(self, message, **values):
        self.message, self.values = message, values
        super().__init__(self.text("en"))

    def text(self, lang: str | None = None) -> str:
        if not isinstance(self.message, LazyText):
            return str(self.message)
        tr = gettext if lang is None else translator(lang)
        return tr(self.message).format(**self.values)

    def __str__(self) -> str:
        return self.text()


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
        code = exc.text.strip()[:200] if exc.text else ""
        if exc.lineno and code:
            message = N_("syntax error in {filename} at line {line}: {error}: {code}")
        elif exc.lineno:
            message = N_("syntax error in {filename} at line {line}: {error}")
        elif code:
            message = N_("syntax error in {filename}: {error}: {code}")
        else:
            message = N_("syntax error in {filename}: {error}")
        raise LoadError(message, filename=filename, line=exc.lineno, error=exc.msg, code=code) from None
    except (RecursionError, MemoryError):
        raise LoadError(N_("{filename} cannot be compiled: an expression is nested too deeply or is too long"),
                        filename=filename) from None
    except ValueError as exc:              # e.g. null bytes
        raise LoadError(N_("{filename} cannot be compiled: {error}"), filename=filename, error=str(exc)) from None


def _read_source(path: Path) -> str:
    if path.is_symlink() or not path.is_file():
        raise LoadError(NOT_REGULAR, name=path.name)
    if path.stat().st_size > MAX_FILE_BYTES:
        raise LoadError(TOO_LARGE, name=path.name, mb=MAX_FILE_BYTES >> 20)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise LoadError(N_("{name} is not UTF-8 text"), name=path.name) from None


def _is_link(info: zipfile.ZipInfo) -> bool:
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def _extract_zip(path: Path, dest: Path) -> Path:
    """Unpack regular files only: links are refused, nothing leaves ``dest``, and a
    corrupt member or a name clash (a file ``x`` and a folder ``x/``) is a LoadError."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise LoadError(N_("{name} is not a valid zip file ({error})"), name=path.name, error=str(exc)) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_FILES:
            raise LoadError(N_("{name} holds {n} files (at most {limit})"), name=path.name, n=len(infos),
                            limit=MAX_ZIP_FILES)
        if sum(i.file_size for i in infos) > MAX_ZIP_BYTES:
            raise LoadError(UNPACKS_TOO_LARGE, name=path.name, mb=MAX_ZIP_BYTES >> 20)
        dest.mkdir(parents=True, exist_ok=True)
        root = dest.resolve()
        for info in infos:
            if _is_link(info):
                raise LoadError(N_("{name} holds a symbolic link ({member}): zip the files themselves"),
                                name=path.name, member=info.filename)
            target = (dest / info.filename).resolve()
            if root not in target.parents and target != root:
                continue                   # absolute paths and '..' never leave the folder
            if any(part in IGNORED for part in Path(info.filename).parts):
                continue
            try:
                if info.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as src, open(target, "xb") as out:
                    copied = 0
                    while chunk := src.read(1 << 20):
                        copied += len(chunk)
                        if copied > MAX_ZIP_BYTES:
                            raise LoadError(UNPACKS_TOO_LARGE, name=path.name, mb=MAX_ZIP_BYTES >> 20)
                        out.write(chunk)
            except LoadError:
                raise
            except (FileExistsError, NotADirectoryError, IsADirectoryError):
                raise LoadError(N_("{name} holds {member} twice, or as both a file and a folder"), name=path.name,
                                member=info.filename) from None
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, ValueError,
                    NotImplementedError) as exc:
                raise LoadError(N_("{name} is corrupt: cannot read {member} ({error})"), name=path.name,
                                member=info.filename, error=type(exc).__name__) from None
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
    helper files next to it, never reading through a link.  Returns the path of
    ``<module>.py``.  Whatever is wrong with the upload, the only error is a LoadError."""
    try:
        return _materialize(Path(submission), module, Path(dest))
    except LoadError:
        raise
    except RecursionError:
        raise LoadError(N_("{name} is nested too deeply to be read"), name=Path(submission).name) from None
    except MemoryError:
        raise LoadError(N_("{name} is too large to be read"), name=Path(submission).name) from None
    except Exception as exc:  # noqa: BLE001  a hostile upload is the student's problem, never a crash
        raise LoadError(N_("{name} could not be read ({error})"), name=Path(submission).name,
                        error=type(exc).__name__) from None


def _materialize(submission: Path, module: str, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    if submission.is_symlink():
        raise LoadError(N_("{name} is a symbolic link: hand in the file itself"), name=submission.name)
    if not submission.exists():
        raise LoadError(N_("{name} does not exist"), name=submission.name)
    if submission.is_dir():
        found = _find_module_in(submission, module)
        folder = found.parent
        skip = {p.name for p in folder.iterdir() if p.name in IGNORED or p.name in HANDOUT_FILES
                or p.name.startswith(".") or p.suffix == ".ipynb" or (p.is_dir() and not p.is_symlink()
                                                                       and not (p / "__init__.py").is_file())}
        try:
            handout.copy_regular_files(folder, dest, skip=skip)
        except handout.HandoutError as exc:
            raise LoadError(str(exc)) from None
        for copied in dest.rglob("*"):
            if copied.is_file() and copied.stat().st_size > MAX_FILE_BYTES:
                raise LoadError(TOO_LARGE, name=copied.name, mb=MAX_FILE_BYTES >> 20)
        return _write_module(found, module, dest)
    suffix = submission.suffix.lower()
    if suffix == ".zip":
        unpacked = _extract_zip(submission, dest.parent / (dest.name + "-unzipped"))
        return _materialize(unpacked, module, dest)
    if suffix in (".py", ".ipynb"):
        return _write_module(submission, module, dest)
    if suffix:
        raise LoadError(N_("{name}: unsupported submission type '{suffix}' (hand in a .py file, a folder, a .zip "
                           "or a .ipynb notebook)"), name=submission.name, suffix=suffix)
    raise LoadError(N_("{name}: unsupported submission type 'no extension' (hand in a .py file, a folder, a .zip "
                       "or a .ipynb notebook)"), name=submission.name)


def _write_module(path: Path, module: str, dest: Path) -> Path:
    if path.suffix.lower() == ".ipynb":
        if path.is_symlink() or not path.is_file():
            raise LoadError(NOT_REGULAR, name=path.name)
        if path.stat().st_size > MAX_FILE_BYTES:
            raise LoadError(TOO_LARGE, name=path.name, mb=MAX_FILE_BYTES >> 20)
        source = notebook_to_source(path)
    else:
        source = _read_source(path)
    check_syntax(source, path.name)
    target = dest / f"{module}.py"
    target.unlink(missing_ok=True)
    target.write_text(source, encoding="utf-8")
    return target
