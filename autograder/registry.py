"""The assignment registry.

Each assignment is described by ``autograder/suites/<id>/assignment.toml`` next to its
hidden suite, so adding an assignment never edits a shared file.  Points, visibility
and tags live on the tests themselves (markers); the registry holds what the engine
needs before any test runs.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from autograder import ROOT

SUITES_DIR = ROOT / "autograder" / "suites"


class UnknownAssignment(KeyError):
    def __str__(self):
        known = ", ".join(a.id for a in all_assignments()) or "none"
        return f"unknown assignment {self.args[0]!r} (known: {known})"


@dataclass(frozen=True)
class Assignment:
    id: str
    title: str
    module: str
    functions: tuple[str, ...]
    classes: tuple[str, ...] = ()
    # functions that change their tensor / module arguments in place; the worker
    # writes those changes back to the caller (and only for these).
    inplace: tuple[str, ...] = ()
    timeout: float = 10.0            # seconds per student call
    threads: int = 1                 # torch threads in workers (fixed for fair timing)
    perf_threshold: float = 4.0      # student / reference time ratio allowed
    memory_mb: int = 4096
    default_visibility: str = "visible"
    extra: dict = field(default_factory=dict)

    @property
    def suite_dir(self) -> Path:
        return SUITES_DIR / self.id

    @property
    def handout_dir(self) -> Path:
        return ROOT / "assignments" / self.id

    @property
    def stub_path(self) -> Path:
        return self.handout_dir / f"{self.module}.py"

    @property
    def solution_dir(self) -> Path:
        return ROOT / "solutions" / self.id

    @property
    def solution_path(self) -> Path:
        return self.solution_dir / f"{self.module}.py"

    @property
    def mutants_dir(self) -> Path:
        return self.suite_dir / "mutants"

    def mutants(self) -> list[Path]:
        return sorted(self.mutants_dir.glob("*.py")) if self.mutants_dir.is_dir() else []

    def public_tests(self) -> list[Path]:
        return sorted(self.handout_dir.glob("test_*.py"))


def _load(path: Path) -> Assignment:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    perf = data.pop("perf", {})
    known = {f for f in Assignment.__dataclass_fields__}
    kwargs = {k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in known}
    extra = {k: v for k, v in data.items() if k not in known}
    if "threshold" in perf:
        kwargs["perf_threshold"] = float(perf["threshold"])
    return Assignment(extra=extra, **kwargs)


@lru_cache(maxsize=None)
def all_assignments() -> tuple[Assignment, ...]:
    found = [_load(p) for p in sorted(SUITES_DIR.glob("*/assignment.toml"))]
    return tuple(sorted(found, key=lambda a: a.id))


def get(assignment_id: str) -> Assignment:
    for a in all_assignments():
        if a.id == assignment_id:
            return a
    raise UnknownAssignment(assignment_id)


def for_path(path: Path) -> Assignment | None:
    """The assignment a test file belongs to (its suite or handout folder)."""
    path = Path(path).resolve()
    for a in all_assignments():
        for d in (a.suite_dir, a.handout_dir):
            if d == path or d in path.parents:
                return a
    return None
