"""The run spec: the one description of a grading run that the engine hands the pytest
plugin (``--ag-run FILE``).  The plugin never works anything out from paths.

The engine fills every field; ``--ag-target`` (a developer's shortcut for running a
suite by hand against "reference", "stub" or a file) builds an in-process spec.
"""
from __future__ import annotations

import ast
import importlib.util
import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograder import registry


@dataclass
class RunSpec:
    assignment: str
    target: str                          # "reference", "stub" or the path of <module>.py
    isolation: str = "inprocess"         # "inprocess" | "worker"
    device: str = "cpu"                  # resolved: "cpu" | "cuda" (never "auto")
    timeout: float = 10.0                # seconds per student call
    budget: float = 60.0                 # seconds of student calls per submission
    results: str | None = None           # where to write results.json
    load_error: str | None = None        # the submission could not be loaded: every call fails with this
    lang: str = "en"
    after_due: bool = False              # feedback page: show after-due-date tests too
    cpu: int | None = None               # the CPU the workers are pinned to (a job slot's)
    run_id: str = "adhoc"                # names the cgroups of this run (the engine sweeps them)
    limits: dict = field(default_factory=dict)   # memory_mb, nproc, cpu_seconds, file_mb, threads, hide
    static: dict = field(default_factory=dict)   # function -> forbidden-API findings of the static check

    @property
    def registry_entry(self) -> registry.Assignment:
        return registry.get(self.assignment)

    def write(self, path: Path) -> Path:
        Path(path).write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")
        return Path(path)

    @classmethod
    def read(cls, path: Path) -> "RunSpec":
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))


def _gpu_build() -> bool:
    """Whether the installed torch is built for a GPU (CUDA or ROCm), read from its
    version.py: on a CPU-only build the batch process need not import torch (a second)."""
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.origin:
        return False
    try:
        tree = ast.parse((Path(spec.origin).parent / "version.py").read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return True                      # cannot tell: ask torch itself
    values = {}
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else (
            node.targets[0] if isinstance(node, ast.Assign) and len(node.targets) == 1 else None)
        if isinstance(target, ast.Name) and isinstance(node.value, ast.Constant):
            values[target.id] = node.value.value
    return values.get("cuda") is not None or values.get("hip") is not None or "cuda" not in values


def resolve_device(wanted: str) -> str:
    if wanted != "auto":
        return wanted
    if "torch" not in sys.modules and not _gpu_build():
        return "cpu"
    import torch
    return "cuda" if torch.cuda.is_available() else "cpu"


def make(assignment: registry.Assignment, target: str, *, isolation: str = "inprocess", device: str = "auto",
         timeout: float | None = None, budget: float | None = None, **extra) -> RunSpec:
    """A spec with the assignment's defaults applied once, here."""
    limits = {"memory_mb": assignment.memory_mb, "threads": assignment.threads, "nproc": 256,
              "cpu_seconds": 900, "file_mb": 64, **extra.pop("limits", {})}
    return RunSpec(assignment=assignment.id, target=str(target), isolation=isolation,
                   device=resolve_device(device), timeout=float(timeout or assignment.timeout),
                   budget=float(budget or assignment.budget), lang=extra.pop("lang", None) or assignment.lang,
                   limits=limits, **extra)
