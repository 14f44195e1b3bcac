"""The assignment registry: one ``autograder/suites/<id>/assignment.toml`` per assignment.

The registry owns the tasks: each ``[[tasks]]`` entry declares a task's number (the one
its stub raises and its tests carry as ``@pytest.mark.task``), the function or class it
grades, a title, the Python APIs it must not call and the graded functions of the same
module it may call.  Everything the engine needs before a test runs lives here; points
live on the tests.  The loader is strict (pydantic): an unknown key or a wrong type is an
error that names the file and the key, never silently ignored.
"""
from __future__ import annotations

import tomllib
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from autograder import ROOT

SUITES_DIR = ROOT / "autograder" / "suites"
Visibility = Literal["hidden", "after_due_date", "after_published", "visible"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Task(_Strict):
    number: str = Field(pattern=r"^\d+(\.\d+)*$")
    function: str = Field(pattern=r"^[A-Za-z_]\w*$")
    title: str
    kind: Literal["function", "class"] = "function"
    # dotted Python APIs this task re-implements and must not call (SPEC: "not allowed")
    forbidden: tuple[str, ...] = ()
    # aten operators (e.g. "aten::convolution") that betray those APIs at the op level
    forbidden_ops: tuple[str, ...] = ()
    # graded functions of the same module that this one calls: its tests can run with the
    # reference substituted for them, so that a bug is charged once, where it is
    calls: tuple[str, ...] = ()


class Perf(_Strict):
    threshold: float = Field(4.0, gt=1.0)      # student / reference time ratio allowed


class VisibilityPolicy(_Strict):
    """Gradescope visibility per kind of test (see README "What students see")."""
    summary: Visibility = "visible"            # one summary entry per task
    correctness: Visibility = "after_due_date"
    performance: Visibility = "visible"


class LatePolicy(_Strict):
    grace_minutes: float = Field(0.0, ge=0)
    percent_per_day: float = Field(0.0, ge=0, le=100)
    max_percent: float = Field(100.0, ge=0, le=100)     # cap on the penalty
    zero_after_late_due: bool = True


class Release(_Strict):
    shared_functions: tuple[str, ...] = ()      # helpers the handout may share with the reference


class Assignment(_Strict):
    id: str = Field(pattern=r"^a\d+_[a-z0-9_]+$")
    title: str
    module: str
    timeout: float = Field(10.0, gt=0)          # seconds per student call
    budget: float = Field(60.0, gt=0)           # seconds of student calls per submission
    threads: int = Field(1, ge=1)               # torch threads in workers (fixed for fair timing)
    memory_mb: int = Field(4096, ge=256)
    lang: Literal["en", "ko"] = "en"            # language of student feedback
    perf: Perf = Perf()
    visibility: VisibilityPolicy = VisibilityPolicy()
    late: LatePolicy | None = None
    release: Release = Release()
    tasks: tuple[Task, ...]

    @field_validator("tasks")
    @classmethod
    def _unique(cls, tasks):
        for attr in ("number", "function"):
            values = [getattr(t, attr) for t in tasks]
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                raise ValueError(f"duplicate task {attr}s: {dupes}")
        return tasks

    @model_validator(mode="after")
    def _calls_are_tasks(self):
        names = {t.function for t in self.tasks}
        for t in self.tasks:
            unknown = sorted(set(t.calls) - names)
            if unknown:
                raise ValueError(f"task {t.number} calls {unknown}, which are not tasks of {self.id}")
        return self

    # ---- derived -------------------------------------------------------------
    @cached_property
    def functions(self) -> tuple[str, ...]:
        return tuple(t.function for t in self.tasks if t.kind == "function")

    @cached_property
    def classes(self) -> tuple[str, ...]:
        return tuple(t.function for t in self.tasks if t.kind == "class")

    @property
    def perf_threshold(self) -> float:
        return self.perf.threshold

    def task(self, number: str) -> Task | None:
        return next((t for t in self.tasks if t.number == number), None)

    def task_of(self, function: str) -> Task | None:
        return next((t for t in self.tasks if t.function == function), None)

    # ---- where things live ---------------------------------------------------
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


class RegistryError(ValueError):
    """An assignment.toml that does not follow the schema."""


class UnknownAssignment(KeyError):
    def __str__(self):
        known = ", ".join(a.id for a in all_assignments()) or "none"
        return f"unknown assignment {self.args[0]!r} (known: {known})"


def load(path: Path) -> Assignment:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        return Assignment.model_validate(data)
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{path}: not valid TOML: {exc}") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg']}" for e in exc.errors())
        raise RegistryError(f"{path}: {problems}") from None


@lru_cache(maxsize=None)
def all_assignments() -> tuple[Assignment, ...]:
    found = [load(p) for p in sorted(SUITES_DIR.glob("*/assignment.toml"))]
    return tuple(sorted(found, key=lambda a: a.id))


def get(assignment_id: str) -> Assignment:
    for a in all_assignments():
        if a.id == assignment_id:
            return a
    raise UnknownAssignment(assignment_id)


def for_path(path: Path) -> Assignment | None:
    """The assignment whose suite or handout folder holds ``path`` (a test file)."""
    path = Path(path).resolve()
    for a in all_assignments():
        for d in (a.suite_dir, a.handout_dir):
            if d == path or d in path.parents:
                return a
    return None
