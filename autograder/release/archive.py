"""Archive entries and deterministic zips: the bytes of a zip depend only on its entries."""
from __future__ import annotations

import contextlib
import io
import json
import os
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import click

from autograder import ROOT, __version__, registry

TEMPLATES = ROOT / "autograder" / "release_templates"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
SKIP_PARTS = {"__pycache__", ".hypothesis", ".pytest_cache", ".ipynb_checkpoints", ".git"}
SKIP_SUFFIXES = {".pyc", ".pyo"}


class ReleaseError(click.ClickException):
    """The release cannot go on; the message is one line that says why and what to do."""


@dataclass(frozen=True)
class Entry:
    """One file of an archive: where it goes, its bytes, and where it came from."""
    arcname: str
    data: bytes
    executable: bool = False
    source: Path | None = None      # the repository file it was copied from, if any


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
    """Write the zip through a temporary file renamed into place, so a failed write never
    leaves half an archive; an OS error is a one-line :class:`ReleaseError`."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(zip_bytes(entries))
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise ReleaseError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def wanted(path: Path) -> bool:
    return not (set(path.parts) & SKIP_PARTS) and path.suffix not in SKIP_SUFFIXES


def regular_file(path: Path) -> Path:
    """``path`` when it is a regular file; a link is refused (the release never copies what a
    link points to)."""
    if path.is_symlink():
        raise ReleaseError(f"{path} is a symbolic link: the release copies only regular files")
    if not path.is_file():
        raise ReleaseError(f"{path} is missing")
    return path


def file_entry(path: Path, arcname: str, executable: bool | None = None) -> Entry:
    path = regular_file(Path(path))
    if executable is None:
        executable = path.suffix == ".sh" or bool(path.stat().st_mode & 0o111) and path.suffix != ".py"
    return Entry(arcname, path.read_bytes(), executable, path.resolve())


def tree_entries(folder: Path, prefix: str) -> list[Entry]:
    """Every file under ``folder`` (sorted, caches skipped) as entries under ``prefix``.
    For the grader's archives only: student archives are built from an explicit list."""
    out = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink()):
        rel = path.relative_to(folder)
        if wanted(rel):
            out.append(file_entry(path, f"{prefix}{rel.as_posix()}"))
    return out


def template_entry(name: str, arcname: str, executable: bool = False, **subs: str) -> Entry:
    text = (TEMPLATES / name).read_text(encoding="utf-8")
    for key, value in subs.items():
        text = text.replace("{{" + key + "}}", value)
    return Entry(arcname, text.encode("utf-8"), executable, (TEMPLATES / name).resolve())


def json_bytes(data) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")


def assignment_info(a: registry.Assignment) -> dict:
    """``assignment.json`` of the student handout."""
    return {"id": a.id, "title": a.title, "module": a.module, "functions": list(a.functions),
            "classes": list(a.classes), "timeout": a.timeout, "threads": a.threads, "lang": a.lang,
            "grader_version": __version__}


def requirements_txt() -> str:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    deps = data["project"]["dependencies"]
    return ("# runtime dependencies of dl-autograder (from pyproject.toml)\n"
            "--extra-index-url https://download.pytorch.org/whl/cpu\n" + "\n".join(deps) + "\n")
