"""Turning whatever a student handed in into a folder holding ``<module>.py``.

Accepted: a ``.py`` file, a folder, a ``.zip`` and a Jupyter notebook (``.ipynb``; code
cells are taken with nbformat, IPython magics and shell lines are dropped).  Nothing
here executes student code; the source is only compiled to report syntax errors early.
Every problem is a :class:`LoadError` whose message is shown to the student.
"""
from __future__ import annotations

import stat
import zipfile
import zlib
from pathlib import Path


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
        text = f": {exc.text.strip()[:200]}" if exc.text else ""
        raise LoadError(f"syntax error in {filename}{where}: {exc.msg}{text}") from None
    except (RecursionError, MemoryError):
        raise LoadError(f"{filename} cannot be compiled: an expression is nested too deeply or is too long") from None
    except ValueError as exc:              # e.g. null bytes
        raise LoadError(f"{filename} cannot be compiled: {exc}") from None


def _read_source(path: Path) -> str:
    if path.is_symlink() or not path.is_file():
        raise LoadError(f"{path.name} is a symbolic link or not a regular file: hand in the file itself")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise LoadError(f"{path.name} is larger than {MAX_FILE_BYTES >> 20} MB")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise LoadError(f"{path.name} is not UTF-8 text") from None


def _is_link(info: zipfile.ZipInfo) -> bool:
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def _extract_zip(path: Path, dest: Path) -> Path:
    """Unpack regular files only: links are refused, nothing leaves ``dest``, and a
    corrupt member or a name clash (a file ``x`` and a folder ``x/``) is a LoadError."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise LoadError(f"{path.name} is not a valid zip file ({exc})") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_FILES:
            raise LoadError(f"{path.name} holds {len(infos)} files (at most {MAX_ZIP_FILES})")
        if sum(i.file_size for i in infos) > MAX_ZIP_BYTES:
            raise LoadError(f"{path.name} unpacks to more than {MAX_ZIP_BYTES >> 20} MB")
        dest.mkdir(parents=True, exist_ok=True)
        root = dest.resolve()
        for info in infos:
            if _is_link(info):
                raise LoadError(f"{path.name} holds a symbolic link ({info.filename}): zip the files themselves")
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
                            raise LoadError(f"{path.name} unpacks to more than {MAX_ZIP_BYTES >> 20} MB")
                        out.write(chunk)
            except LoadError:
                raise
            except (FileExistsError, NotADirectoryError, IsADirectoryError):
                raise LoadError(f"{path.name} holds {info.filename} twice, or as both a file and a folder") from None
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError, ValueError,
                    NotImplementedError) as exc:
                raise LoadError(f"{path.name} is corrupt: cannot read {info.filename} "
                                f"({type(exc).__name__})") from None
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
        raise LoadError(f"{Path(submission).name} is nested too deeply to be read") from None
    except MemoryError:
        raise LoadError(f"{Path(submission).name} is too large to be read") from None
    except Exception as exc:  # noqa: BLE001  a hostile upload is the student's problem, never a crash
        raise LoadError(f"{Path(submission).name} could not be read ({type(exc).__name__})") from None


def _materialize(submission: Path, module: str, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    if submission.is_symlink():
        raise LoadError(f"{submission.name} is a symbolic link: hand in the file itself")
    if not submission.exists():
        raise LoadError(f"{submission.name} does not exist")
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
                raise LoadError(f"{copied.name} is larger than {MAX_FILE_BYTES >> 20} MB")
        return _write_module(found, module, dest)
    suffix = submission.suffix.lower()
    if suffix == ".zip":
        unpacked = _extract_zip(submission, dest.parent / (dest.name + "-unzipped"))
        return _materialize(unpacked, module, dest)
    if suffix in (".py", ".ipynb"):
        return _write_module(submission, module, dest)
    raise LoadError(f"{submission.name}: unsupported submission type '{suffix or 'no extension'}' "
                    "(hand in a .py file, a folder, a .zip or a .ipynb notebook)")


def _write_module(path: Path, module: str, dest: Path) -> Path:
    if path.suffix.lower() == ".ipynb":
        if path.is_symlink() or not path.is_file():
            raise LoadError(f"{path.name} is a symbolic link or not a regular file: hand in the file itself")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise LoadError(f"{path.name} is larger than {MAX_FILE_BYTES >> 20} MB")
        source = notebook_to_source(path)
    else:
        source = _read_source(path)
    check_syntax(source, path.name)
    target = dest / f"{module}.py"
    target.unlink(missing_ok=True)
    target.write_text(source, encoding="utf-8")
    return target
